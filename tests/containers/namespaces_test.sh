#!/usr/bin/env bash
# Socket mode across Linux namespaces, without a container runtime: the publisher and
# every subscriber each in their own IPC, mount (a private /dev/shm) and PID
# namespaces (unshare), one subscriber also in a user namespace that maps another
# uid. They share only a socket directory. Checks that data flows, that a killed
# subscriber is reaped by the publisher and a killed publisher is seen by the
# subscribers, that a subscriber re-attaches to a restarted publisher, and that
# nothing is left behind: no socket, and nothing in this host's /dev/shm or
# /dev/mqueue (the namespaces' own vanish with them).
#
# Usage: tests/containers/namespaces_test.sh BIN_DIR
# Exit status: 0 passed; 1 failed (the message says where); 77 this machine cannot
# create the namespaces (not root, or unshare refused: the message says which).
set -euo pipefail
bin=${1:?usage: $0 BIN_DIR}
patience=60  # seconds any one condition may take on a loaded 2-core machine

if [[ $(id -u) != 0 ]]; then
  echo "skipped: creating mount and PID namespaces needs root"
  exit 77
fi
if ! unshare --ipc --mount --pid --fork -- true 2>/dev/null; then
  echo "skipped: unshare --ipc --mount --pid is refused here ($(unshare --ipc --mount --pid --fork -- true 2>&1 || true))"
  exit 77
fi

dir=$(mktemp -d /tmp/shmsnap-namespaces-XXXXXX)
chmod 0755 "$dir"
topic=ns$$
pids=()
ipc_before=$({ ls /dev/shm; ls /dev/mqueue 2>/dev/null; } | sort)
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

fail() {
  echo "FAILED: $*" >&2
  for log in "$dir"/*.log; do echo "--- $log" >&2; tail -n 20 "$log" >&2; done
  exit 1
}

# wait_for FILE PATTERN: until a line of FILE matches (grep -E), at most $patience s.
wait_for() {
  local end=$((SECONDS + patience))
  until grep -qE "$2" "$1" 2>/dev/null; do
    ((SECONDS < end)) || fail "no line matching '$2' in $1 within ${patience}s"
    sleep 0.1
  done
}

# wait_for_count FILE PATTERN N: until N lines of FILE match, at most $patience s.
wait_for_count() {
  local end=$((SECONDS + patience))
  until (($(grep -cE "$2" "$1" 2>/dev/null || true) >= $3)); do
    ((SECONDS < end)) || fail "fewer than $3 lines matching '$2' in $1 within ${patience}s"
    sleep 0.1
  done
}

# isolated NAME SIGNAL COMMAND...: runs COMMAND in new IPC, mount and PID namespaces
# with a private /dev/shm, output in $dir/NAME.log; SIGNAL reaches it when the
# unshare process, whose pid is left in $started, is killed.
isolated() {
  local name=$1 signal=$2
  shift 2
  unshare --ipc --mount --pid --fork --kill-child="$signal" -- \
    sh -c 'mount -t tmpfs -o size=16m tmpfs /dev/shm && exec "$@"' sh "$@" >"$dir/$name.log" 2>&1 &
  started=$!
  pids+=("$started")
}

# Publisher: its region is a sealed memfd, nothing in any /dev/shm.
isolated publisher1 KILL "$bin/shmsnap-publisher" --topic "$topic" --schema robot.pose --rate 200 \
  --socket-dir "$dir" --log-level warn
first=$started
wait_for "$dir/publisher1.log" "^ready topic=$topic"
echo "publisher 1 ready (pid 1 of its own PID namespace): $(grep '^ready' "$dir/publisher1.log")"

# Two subscribers in their own namespaces; one in a user namespace as uid 4242 (the
# publisher sees the uid it maps to; the subscriber sees the publisher as 4242 too).
isolated counted KILL "$bin/shmsnap-subscriber" --topic "$topic" --id counted --socket-dir "$dir" \
  --count 20 --json --log-level warn
counted=$started
unshare --user --map-user=4242 --map-group=4242 --ipc --pid --fork --kill-child -- \
  "$bin/shmsnap-subscriber" --topic "$topic" --id mapped --socket-dir "$dir" --json --log-level info \
  >"$dir/mapped.log" 2>&1 &
mapped_pid=$!
pids+=("$mapped_pid")
isolated doomed KILL "$bin/shmsnap-subscriber" --topic "$topic" --id doomed --socket-dir "$dir" \
  --json --log-level warn
doomed=$started

wait "$counted" || fail "the counted subscriber did not exit 0 after 20 refreshes"
[[ $(grep -c '"seq"' "$dir/counted.log") -ge 20 ]] || fail "the counted subscriber printed fewer than 20 refreshes"
wait_for "$dir/mapped.log" '"frame_id":"'"$topic"'"'
wait_for "$dir/doomed.log" '"seq"'
echo "data flows into both namespaced subscribers, the user-namespaced one included"

# A subscriber killed: the publisher reaps it (its connection ended).
wait_for "$dir/publisher1.log" "subscribers=2 "
kill -KILL "$doomed"
wait_for "$dir/publisher1.log" "subscribers=1 "
echo "the publisher saw the killed subscriber go"

# The publisher killed: the survivor keeps its state as stale, then re-attaches to a
# new publisher in yet other namespaces.
kill -KILL "$first"
wait_for "$dir/mapped.log" '"event":"publisher_lost"'
isolated publisher2 TERM "$bin/shmsnap-publisher" --topic "$topic" --schema robot.pose --rate 200 \
  --socket-dir "$dir" --log-level warn
second=$started
wait_for "$dir/publisher2.log" "^ready topic=$topic"
wait_for "$dir/mapped.log" '"event":"reattached"'
lines=$(wc -l <"$dir/mapped.log")
end=$((SECONDS + patience))
until grep -q '"stale":false' <(tail -n +"$((lines + 1))" "$dir/mapped.log"); do
  ((SECONDS < end)) || fail "no fresh refresh after re-attaching"
  sleep 0.1
done
echo "the subscriber saw the publisher die and re-attached to its successor"

# Clean shutdown: SIGTERM reaches the publisher; the subscriber hears it close.
kill -KILL "$second"
wait "$second" 2>/dev/null || true
wait_for_count "$dir/mapped.log" '"event":"publisher_lost"' 2
kill -KILL "$mapped_pid"
wait 2>/dev/null || true
[[ ! -e $dir/$topic.sock ]] || fail "the publisher left its socket $dir/$topic.sock behind"
ipc_after=$({ ls /dev/shm; ls /dev/mqueue 2>/dev/null; } | sort)
new_names=$(comm -13 <(echo "$ipc_before") <(echo "$ipc_after") | grep -F "$topic" || true)
[[ -z $new_names ]] || fail "left in this host's /dev/shm or /dev/mqueue: $new_names"
echo "PASSED: nothing left behind"
