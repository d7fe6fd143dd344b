#!/usr/bin/env bash
# Socket mode across real containers: podman (Debian's) runs a publisher container
# and subscriber containers from an image this test assembles from the built
# binaries (make_image.sh; no registry is reachable). Every container has its own
# IPC namespace (--ipc private, so its own /dev/shm and /dev/mqueue), a read-only
# root filesystem, no network, no capabilities and its own uid; they share only a
# volume holding the topic's socket. Checks: subscribers admitted by uid and by
# group receive the data; a uid outside the policy is refused and told which
# option admits it; a killed publisher container is seen by a subscriber, which
# re-attaches to a new one; the socket-mode tests of the sealed region pass inside
# a container too; nothing is left (containers, image, socket, host IPC names).
#
# Usage: tests/containers/podman_test.sh BIN_DIR
# Exit status: 0 passed; 1 failed (the message says where); 77 this machine cannot
# run a container at all (the message says why).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin=${1:?usage: $0 BIN_DIR}
patience=60  # seconds any one condition may take on a loaded 2-core machine
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)
# podman's default limits (nofile and nproc 1048576) exceed what these machines let
# a container raise them to, so runc fails to start it: ask for what is needed.
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
# No network, no added privilege, nothing writable but the shared volume.
CONFINED=(--network none --ipc private --read-only --cap-drop all --security-opt no-new-privileges "${LIMITS[@]}")

if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  echo "skipped: podman and runc are not installed (apt-get install podman runc; cmake/run.sh installs them)"
  exit 77
fi
if [[ $(id -u) != 0 ]]; then
  echo "skipped: the container tests run podman as root (rootless podman needs subuid maps this test does not set up)"
  exit 77
fi

tag=$$-$RANDOM
image="localhost/shmsnap-containers-test:$tag"
dir=$(mktemp -d /tmp/shmsnap-podman-XXXXXX)
publisher_uid=1000 # the publisher's own user
member_uid=2000    # admitted by --allow-uid
group_uid=2500     # admitted by --allow-gid 3000 (its primary group)
stranger_uid=4000  # admitted by neither
topic=pose_$$  # unique: other tests may run beside this one
ipc_before=$({ ls /dev/shm; ls /dev/mqueue 2>/dev/null; } | sort)
containers=()

cleanup() {
  for name in "${containers[@]}"; do "${PODMAN[@]}" rm --force --time 0 "$name" >/dev/null 2>&1 || true; done
  "${PODMAN[@]}" rmi --force "$image" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

fail() {
  echo "FAILED: $*" >&2
  for name in "${containers[@]}"; do
    echo "--- podman logs $name" >&2
    "${PODMAN[@]}" logs "$name" 2>&1 | grep -v "^{" | tail -n 15 >&2 || true
  done
  exit 1
}

# start NAME UID:GID COMMAND...: a detached container from the image, volume at /sock.
start() {
  local name=$1 user=$2
  shift 2
  containers+=("$name")
  "${PODMAN[@]}" run -d --name "$name" --user "$user" "${CONFINED[@]}" -v "$dir:/sock" "$image" "$@" >/dev/null
}

# wait_logs NAME PATTERN [N]: until N (1) lines of the container's output match.
wait_logs() {
  local end=$((SECONDS + patience)) wanted=${3:-1}
  until (($("${PODMAN[@]}" logs "$1" 2>&1 | grep -cE "$2" || true) >= wanted)); do
    ((SECONDS < end)) || fail "container $1 printed no line matching '$2' within ${patience}s"
    sleep 0.2
  done
}

# exit_code NAME: waits for the container to end and prints its exit code.
exit_code() {
  timeout "$patience" "${PODMAN[@]}" wait "$1" || fail "container $1 did not end within ${patience}s"
}

binaries=("$bin/shmsnap-publisher" "$bin/shmsnap-subscriber")
[[ -x $bin/shmsnap_socket_mode_unit_test ]] && binaries+=("$bin/shmsnap_socket_mode_unit_test")
"$here/make_image.sh" "$image" "${binaries[@]}" || fail "could not build the image"
# Can this machine run a container at all? (A kernel or cgroup layout runc cannot use.)
if ! probe=$("${PODMAN[@]}" run --rm --network none "${LIMITS[@]}" "$image" /usr/local/bin/shmsnap-publisher --help 2>&1); then
  echo "skipped: this machine cannot run a container: $probe"
  exit 77
fi

# The socket directory belongs to the publisher's user; others only reach the socket.
chown "$publisher_uid:$publisher_uid" "$dir"
chmod 0755 "$dir"

start publisher-1-$tag "$publisher_uid:$publisher_uid" shmsnap-publisher --topic $topic --schema robot.pose \
  --rate 200 --socket-dir /sock --allow-uid $member_uid --allow-gid 3000 --log-level info
wait_logs publisher-1-$tag "^ready topic=$topic"
echo "publisher container ready: $("${PODMAN[@]}" logs publisher-1-$tag 2>&1 | grep '^ready')"

# Subscribers of other uids, in their own containers; they trust the publisher's uid.
subscribe=(shmsnap-subscriber --topic $topic --socket-dir /sock --trust-owner $publisher_uid --json --log-level warn)
start member-$tag "$member_uid:$member_uid" "${subscribe[@]}" --id member --count 20
start grouped-$tag "$group_uid:3000" "${subscribe[@]}" --id grouped --count 20
start survivor-$tag "$member_uid:$member_uid" "${subscribe[@]}" --id survivor
for name in member-$tag grouped-$tag; do
  [[ $(exit_code $name) == 0 ]] || fail "subscriber container $name did not exit 0 after 20 refreshes"
  (($("${PODMAN[@]}" logs $name 2>&1 | grep -c "\"frame_id\":\"$topic\"") >= 20)) || fail "$name printed fewer than 20 poses"
done
echo "subscriber containers admitted by uid and by group received 20 snapshots each"

# A uid outside the policy: refused, told which option admits it, gives up at --timeout.
start stranger-$tag "$stranger_uid:$stranger_uid" shmsnap-subscriber --topic $topic --socket-dir /sock \
  --trust-owner $publisher_uid --id stranger --timeout 3 --log-level info
[[ $(exit_code stranger-$tag) == 4 ]] || fail "the stranger's subscriber did not give up with exit 4"
# (Captured first: with pipefail, grep -q closing the pipe early would fail podman logs.)
stranger_log=$("${PODMAN[@]}" logs stranger-$tag 2>&1)
grep -q -- "not_admitted.*--allow-uid $stranger_uid" <<<"$stranger_log" ||
  fail "the stranger was not told it is not admitted and how to admit it"
echo "a subscriber container of uid $stranger_uid was refused: $(grep -o 'not admitted[^;]*' <<<"$stranger_log" | head -1)"

# The publisher container killed: the survivor sees it, and re-attaches to a new one.
wait_logs survivor-$tag '"seq"'
"${PODMAN[@]}" kill --signal KILL publisher-1-$tag >/dev/null
wait_logs survivor-$tag '"event":"publisher_lost"'
start publisher-2-$tag "$publisher_uid:$publisher_uid" shmsnap-publisher --topic $topic --schema robot.pose \
  --rate 200 --socket-dir /sock --allow-uid $member_uid --log-level info
wait_logs publisher-2-$tag "^ready topic=$topic"
wait_logs survivor-$tag '"event":"reattached"'
echo "the survivor saw the publisher container die and re-attached to its successor"

# Clean shutdown: SIGTERM to the publisher; its subscribers hear it, its socket goes.
"${PODMAN[@]}" stop --time 30 publisher-2-$tag >/dev/null
[[ $(exit_code publisher-2-$tag) == 0 ]] || fail "the second publisher did not shut down cleanly"
wait_logs survivor-$tag '"event":"publisher_lost"' 2
[[ ! -e $dir/$topic.sock ]] || fail "the publisher left its socket behind"

# The sealed region's own tests, inside a confined container as a non-root user.
if [[ -x $bin/shmsnap_socket_mode_unit_test ]]; then
  containers+=(unit-$tag)
  "${PODMAN[@]}" run --name unit-$tag --user 65534:65534 "${CONFINED[@]}" "$image" \
    /usr/local/bin/shmsnap_socket_mode_unit_test --gtest_brief=1 >"$dir/unit.log" 2>&1 ||
    { cat "$dir/unit.log" >&2; fail "the socket-mode unit tests failed inside a container"; }
  echo "socket-mode unit tests inside a container: $(grep -E 'PASSED|tests? ran' "$dir/unit.log" | tail -1)"
fi

for name in "${containers[@]}"; do "${PODMAN[@]}" rm --force --time 0 "$name" >/dev/null 2>&1 || true; done
containers=()
ipc_after=$({ ls /dev/shm; ls /dev/mqueue 2>/dev/null; } | sort)
# Only this test's names count: other tests may create theirs meanwhile, and podman
# keeps its own lock file in /dev/shm (libpod_lock).
new_names=$(comm -13 <(echo "$ipc_before") <(echo "$ipc_after") | grep -F ":$topic" || true)
[[ -z $new_names ]] || fail "left in this host's /dev/shm or /dev/mqueue: $new_names"
echo "PASSED: containers removed, nothing left in this host's /dev/shm or /dev/mqueue"
