#!/usr/bin/env bash
# The headline benchmark runs, from a folder made by bundle.sh, on a machine with
# cores to spare (see the README's "Performance"). Every step's table goes to
# stdout and a log in RESULTS_DIR, every step's JSON to a json folder there.
#
#   bash benchmarks/headline/run.sh BUNDLE_DIR RESULTS_DIR [SAMPLE_SCALE]
#
# SAMPLE_SCALE (default 1) multiplies every sample count: 0.1 checks the script
# itself in a few seconds. Steps run in order of importance, each under its own
# time limit, so a run cut short still returns the most important tables.
# With BUNDLE_DIR/bin/after present, the hot-path step alternates it with
# BUNDLE_DIR/bin/before (the same bench built from two commits), and the other
# steps use `after`.
set -uo pipefail

(($# >= 2)) || { echo "usage: run.sh BUNDLE_DIR RESULTS_DIR [SAMPLE_SCALE]" >&2; exit 2; }
bundle=$(cd "$1" && pwd)
results=$2
scale=${3:-1}
mkdir -p "$results/json"
export LD_LIBRARY_PATH="$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$bundle/bin:$PATH"
log="$results/log.txt"

samples() { awk -v n="$1" -v s="$scale" 'BEGIN { v = int(n * s); print (v < 100 ? 100 : v) }'; }

# step NAME LIMIT_S BINARY ARGS...: one bench invocation, its table logged, its JSON kept.
step() {
  local name=$1 limit=$2 binary=$3
  shift 3
  {
    echo
    echo "### $name: $binary $*"
    date -u +%FT%TZ
  } | tee -a "$log"
  local start=$SECONDS
  timeout --signal=INT --kill-after=10 "$limit" "$bundle/bin/$binary" "$@" --json "$results/json/$name.json" 2>&1 |
    grep -v '^row ' | tee -a "$log"
  echo "(exit ${PIPESTATUS[0]}, $((SECONDS - start)) s)" | tee -a "$log"
}

{
  echo "## machine"
  uname -srm
  nproc
  grep -m1 'model name' /proc/cpuinfo
  grep -E 'MemTotal' /proc/meminfo
  cat /proc/sys/fs/mqueue/msg_max /proc/sys/fs/mqueue/msgsize_max 2>&1 | tr '\n' ' '
  echo
} 2>&1 | tee "$log"

# The headline tables come from the newest build.
headline=before
[[ -x $bundle/bin/after ]] && headline=after

step probe 60 "$headline" --transports shmsnap,posix_mq --modes notify --payloads 64 --subscribers 1 \
  --samples "$(samples 1000)"

# The issue 25 check: the engine split must not move the hot path. Alternated so
# that drift in the machine's state lands on both builds alike.
if [[ -x $bundle/bin/after ]]; then
  for round in 1 2 3; do
    for build in before after; do
      step "hotpath-$build-$round" 90 "$build" --quick --transports shmsnap,posix_mq --pin \
        --samples "$(samples 5000)"
    done
  done
fi

# Notify path against a bare POSIX queue and iceoryx's WaitSet, 64 B, one
# subscriber, 1 kHz, three runs.
for round in 1 2 3; do
  step "notify-ratio-$round" 90 "$headline" --transports shmsnap,posix_mq,iceoryx --modes notify \
    --payloads 64 --subscribers 1 --rate 1000 --pin --samples "$(samples 5000)"
done

step subscribers 150 "$headline" --transports shmsnap,posix_mq,iceoryx,floor --modes notify,spin \
  --payloads 64 --subscribers 1,4,14 --rate 1000 --pin --samples "$(samples 2000)"
step subscribers-64 90 "$headline" --transports shmsnap,posix_mq,iceoryx --modes notify \
  --payloads 64 --subscribers 64 --rate 1000 --samples "$(samples 2000)"
step sizes 240 "$headline" --modes notify,spin --payloads 64,1024,65536,1048576,4194304 \
  --subscribers 1 --rate 1000 --pin --samples "$(samples 2000)"
step max-rate-1MiB 60 "$headline" --transports shmsnap --modes notify,spin --payloads 1048576 \
  --subscribers 1 --rate max --pin --samples "$(samples 5000)"

tar -C "$results" -czf "$results/json.tar.gz" json
echo "done: $log, $results/json.tar.gz"
