// EventStream: a Server-Sent Events response that pushes every sample to the
// dashboard: "topics" (all topics, without values) and "value" (the selected
// topic's decoded value when it changed). An event that waits behind the one being
// written is replaced by a newer one of its kind (counted as conflated), so a slow
// reader gets fewer updates, not a backlog. Writes are queued up to
// Limits::max_send_buffer_bytes; a client over it, or whose write stalls past
// Limits::write_timeout, is dropped rather than buffered.
// I/O thread only.
#pragma once

#include <string>

#include <boost/beast/core/tcp_stream.hpp>

#include "server_context.hpp"

namespace shmsnap::serve {

/// Sends the event-stream response headers on `stream` and starts pushing.
void start_event_stream(boost::beast::tcp_stream stream, ConnectionSlot slot, ServerContext& context,
                        std::string selected_topic);

}  // namespace shmsnap::serve
