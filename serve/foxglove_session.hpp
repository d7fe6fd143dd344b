// FoxgloveSession: one Foxglove WebSocket client. It reads the upgrade request
// within Limits (header size, timeout), insists on the foxglove.websocket.v1
// subprotocol and the token, then sends serverInfo and the channel list, keeps the
// list current, and sends each subscribed topic's new values as binary message
// frames. Outgoing data is bounded by Limits::max_send_buffer_bytes (a client that
// does not keep up is dropped); incoming frames by max_websocket_message_bytes.
// I/O thread only.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "foxglove_channels.hpp"
#include "server_context.hpp"

namespace shmsnap::serve {

/// Starts serving `socket` as a Foxglove client.
void start_foxglove_session(boost::asio::ip::tcp::socket socket, ConnectionSlot slot, ServerContext& context,
                            const FoxgloveChannels& channels);

}  // namespace shmsnap::serve
