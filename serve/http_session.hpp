// HttpSession: one HTTP/1.1 connection of the dashboard/metrics port. Reads each
// request within Limits (header bytes, header and idle timeouts), answers it through
// route(), and hands an /events request over to an EventStream. A client that sends
// garbage gets 400 and is closed; one that stalls is closed by its timer.
// I/O thread only.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "server_context.hpp"

namespace shmsnap::serve {

/// Starts serving `socket` (owning `slot` for its lifetime).
void start_http_session(boost::asio::ip::tcp::socket socket, ConnectionSlot slot, ServerContext& context);

}  // namespace shmsnap::serve
