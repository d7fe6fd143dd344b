#!/usr/bin/env bash
# Two "hosts" on one machine, sharing nothing but the network: each runs in its
# own IPC, mount and PID namespaces with a private /dev/shm and mqueue mount.
# Host A publishes market.quote_book at 1 kHz and exports it to NATS; host B
# imports it and shmsnap-subscriber --json prints what arrives. Needs root (for
# unshare) and nats-server.
#
#   sudo bridge/two_host_demo.sh [BUILD_BIN_DIR] [SECONDS]
#
# Everything it starts is stopped at exit (Ctrl-C included).
set -euo pipefail

bin=${1:-$(cd "$(dirname "$0")/.." && pwd)/build/bin}
seconds=${2:-5}
for tool in shmsnap-publisher shmsnap-subscriber shmsnap-bridge; do
  [[ -x $bin/$tool ]] || { echo "missing $bin/$tool: build it first (cmake --build build --target $tool)" >&2; exit 2; }
done
command -v nats-server >/dev/null || { echo "nats-server not found: apt-get install nats-server" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "run as root: unshare needs CAP_SYS_ADMIN for the namespaces" >&2; exit 2; }

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nats=nats://127.0.0.1:$port
pids=()
cleanup() {
  # SIGKILL the unshare processes: --kill-child takes each namespace down with them.
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

host() {  # host NAME SCRIPT: run SCRIPT as a separate host (exec: the caller's $! is unshare)
  exec unshare --ipc --pid --fork --kill-child --mount-proc --propagation private /bin/sh -c \
    "mount -t tmpfs -o size=64m tmpfs /dev/shm && mount -t mqueue mqueue /dev/mqueue && $2"
}

nats-server -js -a 127.0.0.1 -p "$port" -sd "$work/store" -l "$work/nats.log" &
pids+=($!)
until (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; do sleep 0.1; done
echo "== NATS JetStream on $nats"

host A "$bin/shmsnap-publisher --topic quotes --schema market.quote_book --rate 1000 >/dev/null 2>&1 &
        exec $bin/shmsnap-bridge export --nats $nats --topic quotes --key hosta.quotes" 2> >(sed 's/^/[host A] /' >&2) &
pids+=($!)
echo "== host A: shmsnap-publisher quotes (1 kHz) + shmsnap-bridge export -> key hosta.quotes"

echo "== host B: shmsnap-bridge import hosta.quotes + shmsnap-subscriber --json (first lines, ${seconds}s)"
host B "$bin/shmsnap-bridge import --nats $nats --key hosta.quotes --as quotes --log-level warn >/dev/null &
        exec timeout -s INT $seconds $bin/shmsnap-subscriber --topic quotes --id hostb --json --log-level warn" |
  awk 'NR <= 8 { print substr($0, 1, 160) "..." } END { print "== host B received " NR " JSON lines" }' &
pids+=($!)
wait "${pids[-1]}" || true
echo "== host A's /dev/shm is not host B's: only NATS carried the state"
