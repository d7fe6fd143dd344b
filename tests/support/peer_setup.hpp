// How the roles of the test peer (shmsnap-test-peer) get going and close: the
// publisher the command line describes, announced with READY and closed with
// CLOSED, and a subscriber that attaches once a publisher is there. One thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "shmsnap/error.hpp"
#include "shmsnap/publisher.hpp"
#include "shmsnap/subscriber.hpp"
#include "support/peer_cli.hpp"
#include "support/test_snapshot.hpp"

namespace shmsnap::test {

/// Creates --topic from --prefix --slots --max-subscribers --fan-out thread and
/// --fault-at N (die mid-write at publish N), then prints READY epoch=E pid=P.
Publisher<TestSnapshot> create_announced_publisher(const PeerArguments& args, std::uint32_t default_slots);

/// Closes the topic and prints CLOSED with the publisher's counters.
void close_announced_publisher(Publisher<TestSnapshot>& publisher);

/// Subscriber options from --prefix --id --mode notify|spin|hybrid --trust-owner UID.
SubscriberOptions subscriber_options(const PeerArguments& args);

/// What a role does after an open failed.
enum class AfterFailedOpen { retry, give_up, rethrow };

/// Opens --topic, asking `after_failure` what to do after each failed attempt
/// (a retry comes `pause` later); nullopt when it gave up.
std::optional<Subscriber<TestSnapshot>> open_subscriber(
    const PeerArguments& args, const SubscriberOptions& options, std::chrono::milliseconds pause,
    const std::function<AfterFailedOpen(const Error&)>& after_failure);

}  // namespace shmsnap::test
