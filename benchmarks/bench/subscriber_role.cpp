// The subscriber process: receives until the stop message, verifying every delivery
// and recording its latency, then reports to the orchestrator (see harness.hpp).
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <iostream>

#include "bench/clock.hpp"
#include "bench/deadline_alarm.hpp"
#include "bench/harness.hpp"
#include "bench/payload.hpp"
#include "bench/subscriber_report.hpp"

namespace shmsnap::bench {

int run_subscriber_role(const SubscriberRoleArgs& args) {
  const std::size_t used_bytes = args.used_bytes != 0 ? args.used_bytes : args.payload_bytes;
  const ChannelSpec spec{.run_name = args.run_name,
                         .mode = args.mode,
                         .payload_bytes = args.payload_bytes,
                         .used_bytes = used_bytes,
                         .subscribers = args.subscribers,
                         .max_rate = args.max_rate};
  std::unique_ptr<SubscriberChannel> channel;
  try {
    channel = make_transport(args.transport)->open_subscriber(spec, args.index, args.endpoint);
  } catch (const std::exception& error) {
    std::cerr << "shmsnap-bench subscriber " << args.index << " (" << args.transport << "): " << error.what() << '\n';
    return 1;
  }
  if (write(args.result_fd, &ready_byte, 1) != 1)
    return 1;

  const std::int64_t deadline = monotonic_ns() + args.budget_ms * 1'000'000;
  const DeadlineAlarm alarm(deadline);
  // The floor delivers only its header line; every other transport the used part of
  // the payload (the whole of it, except in shmsnap's variable-size rows): a delivery
  // of any other length counts as torn, so a used length lost on the way shows.
  const std::size_t expected_size = args.transport == "floor" ? header_bytes : used_bytes;

  SubscriberReport report;
  std::uint64_t last_seq = 0;
  bool stopped = false;
  const InspectedSink sink = [&](const Inspection& inspection, std::size_t size, std::int64_t received_ns) {
    if (!inspection.intact || size != expected_size) {
      ++report.torn;
      return;
    }
    const std::uint64_t seq = inspection.header.seq;
    stopped = (inspection.header.flags & stop_flag) != 0;
    // Sequences between the newest one seen (or the end of warm-up) and this one were
    // published but never delivered here: coalesced by a latest-state transport.
    const std::uint64_t floor_seq = std::max<std::uint64_t>(last_seq, args.warmup);
    if (seq > floor_seq + 1)
      report.skipped += seq - floor_seq - 1;
    last_seq = std::max(last_seq, seq);
    if (stopped || seq <= args.warmup)
      return;
    report.latencies_ns.push_back(received_ns - inspection.header.publish_ns);
    if (report.received++ == 0)
      report.first_receive_ns = received_ns;
    report.last_receive_ns = received_ns;
  };

  report.latencies_ns.reserve(1U << 16U);
  while (!stopped) {
    const ReceiveStatus status = channel->receive_inspected(sink, deadline);
    if (status == ReceiveStatus::timed_out) {
      report.status =
          "timeout after " + std::to_string(args.budget_ms) + " ms (last seq " + std::to_string(last_seq) + ")";
      break;
    }
    if (status == ReceiveStatus::failed) {
      report.status = "error: " + channel->last_error();
      break;
    }
  }
  report.retries = channel->retries();
  channel.reset();  // detach (unlinks a shmsnap notify queue) before reporting
  return write_report(args.result_fd, report) ? 0 : 1;
}

}  // namespace shmsnap::bench
