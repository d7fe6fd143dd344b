// The roles of the test peer, shmsnap-test-peer <role> --key value ...: each a
// publisher or subscriber process that speaks in single stdout lines of key=value
// pairs (peer_cli.hpp). Two families:
//   publisher, subscriber: scripted (integration tests). They run a script from
//     the command line and end with a verdict: exit 0 only when every invariant held.
//   soak-publisher, soak-subscriber: the chaos soak's (tests/chaos). They run until
//     told to stop and report as they go, because the driver SIGKILLs them at
//     random: a verdict printed only at exit would die with them.
//   fleet-publisher: many topics from one process (the dashboard's 500-topic test).
#pragma once

#include "support/peer_cli.hpp"

namespace shmsnap::test {

/// READY epoch=E pid=P | SUBSCRIBERS n=N | PUBLISHED last=S coalesced=C ... | TABLE ... | CLOSED ...
/// Publishes --count snapshots (--first-seq, --interval-us) once --wait-subscribers
/// have attached and, with --wait-go 1, SIGUSR1 arrived; then holds the topic for
/// --hold-ms (-1: until SIGTERM).
int run_scripted_publisher(const PeerArguments& args);

/// ATTACHED seq=S has_value=B epoch=E | STALE seq=S | REATTACHED epoch=E
/// | DONE final=S delivered=D torn=T regress=R ... | TIMEOUT ...
/// Follows until --until-seq and --until-epoch are reached (--timeout-ms); with
/// --linger 1 stays attached until SIGTERM.
int run_scripted_subscriber(const PeerArguments& args);

/// READY epoch=E pid=P | BURST n=N ns=T | FINAL epoch=E seq=S pid=P | CLOSED ...
/// Publishes paced at --rate until SIGTERM. SIGUSR1: publish --burst snapshots
/// unpaced and time them; SIGUSR2: publish one last snapshot and stop publishing.
int run_soak_publisher(const PeerArguments& args);

/// STATE pid=P epoch=E seq=S stale=B delivered=D | TORN ... | REGRESS ...
/// | ATTACH_ERROR code=C | EPOCH_REUSE epoch=E before=B
/// Attaches whenever it can (until --timeout-ms) and follows until SIGTERM.
int run_soak_subscriber(const PeerArguments& args);

/// READY topics=N pid=P | CLOSED topics=N
/// Creates --topics topics (--stem + a 4-digit number) under --prefix and publishes
/// each at --rate per second until SIGTERM; then closes them all. First, --dead
/// topics (--dead-stem + number) are left as a killed publisher leaves them.
int run_fleet_publisher(const PeerArguments& args);

}  // namespace shmsnap::test
