#!/usr/bin/env bash
# The README's commands. Run as root from the repository root on Debian 12:
#   bash cmake/run.sh demo   install packages, build (release), run the demo
#   bash cmake/run.sh test   install packages, build and run every test suite:
#                            dev, ASan+UBSan, TSan (concurrency tests), short fuzz runs
#   bash cmake/run.sh bench  install packages, build (release), run shmsnap-bench --quick
set -euo pipefail
cd "$(dirname "$0")/.."

readonly PACKAGES=(
  cmake ninja-build g++ pkg-config
  libboost-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  nlohmann-json3-dev libtomlplusplus-dev libsystemd-dev
  clang-14 libclang-rt-14-dev clang-format-14 spin gnuplot-nox util-linux procps python3
)
JOBS=$(nproc)

log() { printf '\n== %s ==\n' "$*"; }

install_packages() {
  local missing=()
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if ((${#missing[@]} == 0)); then
    return
  fi
  log "installing ${missing[*]}"
  local sudo=""
  if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Leaked queues are invisible unless the mqueue filesystem is mounted.
mount_mqueue() {
  if ! mountpoint -q /dev/mqueue 2>/dev/null; then
    mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue 2>/dev/null ||
      echo "note: could not mount /dev/mqueue (not root?); leaked queues cannot be listed"
  fi
}

build() {  # build PRESET [targets...]
  local preset=$1; shift
  log "configure + build: $preset"
  cmake --preset "$preset" >/dev/null
  if (($# > 0)); then
    cmake --build --preset "$preset" -j "$JOBS" --target "$@"
  else
    cmake --build --preset "$preset" -j "$JOBS"
  fi
}

ipc_names() { { ls /dev/shm; ls /dev/mqueue 2>/dev/null; } | sort; }

run_demo() {
  build release shmsnap-publisher shmsnap-subscriber shmsnap-admin
  local bin=build/release/bin prefix="demo$$" topic=quotes subscribers=()
  log "demo: one publisher (market.quote_book, 1 kHz, 4 s) and three subscriber daemons"
  for id in alice bob carol; do
    # Each daemon waits for the publisher, prints at most 10 lines a second, and a
    # latency summary when it stops.
    "$bin/shmsnap-subscriber" --topic "$topic" --id "$id" --prefix "$prefix" --timeout 20 --log-level warn \
      > >(sed -u "s/^/[$id] /") 2>&1 &
    subscribers+=($!)
  done
  "$bin/shmsnap-publisher" --topic "$topic" --schema market.quote_book --rate 1000 --duration 4 \
    --prefix "$prefix" --log-level warn > >(sed -u "s/^/[publisher] /") 2>&1 &
  local publisher=$!
  sleep 2
  log "shmsnap list while it runs"
  "$bin/shmsnap" list --prefix "$prefix" || true
  wait "$publisher" || true
  sleep 0.5
  log "stopping the subscribers (SIGINT): each prints what it received and its latency p50/p99"
  kill -INT "${subscribers[@]}" 2>/dev/null || true
  wait "${subscribers[@]}" || true
  sleep 0.2
  log "left in /dev/shm and /dev/mqueue by the demo (should be empty)"
  { ls /dev/shm; ls /dev/mqueue 2>/dev/null; } | grep "^$prefix" || echo "(nothing)"
}

run_test() {
  local before; before=$(ipc_names)
  build dev
  log "tests: dev (every test, including the 60 s chaos soak, the model check and the bench smoke run)"
  ctest --preset dev -j "$JOBS"

  build asan-ubsan
  log "tests: ASan + UBSan"
  ctest --preset asan-ubsan -j "$JOBS" -LE 'chaos|model|install|bench'

  build tsan
  log "tests: TSan (concurrency label)"
  ctest --preset tsan -j "$JOBS"

  if [[ -x tests/fuzz/run_fuzzers.sh ]]; then
    build fuzz shmsnap_fuzzers
    log "fuzz: a short run of every libFuzzer target"
    tests/fuzz/run_fuzzers.sh "${SHMSNAP_FUZZ_SECONDS:-20}" build/fuzz/bin
  fi

  log "format check (clang-format-14)"
  git ls-files '*.cpp' '*.hpp' | xargs clang-format-14 --dry-run --Werror

  log "left in /dev/shm and /dev/mqueue by the tests (should be empty)"
  local left; left=$(comm -13 <(echo "$before") <(ipc_names))
  if [[ -n $left ]]; then echo "$left"; exit 1; fi
  echo "(nothing)"
}

run_bench() {
  build release shmsnap-bench
  mkdir -p build/bench-results
  build/release/bin/shmsnap-bench --quick --json build/bench-results/quick.json \
    --csv build/bench-results/quick.csv --plot build/bench-results/quick.png
}

main() {
  local command=${1:-}
  case $command in
    demo | test | bench) ;;
    *) echo "usage: bash cmake/run.sh demo|test|bench" >&2; exit 2 ;;
  esac
  install_packages
  mount_mqueue
  "run_$command"
}

main "$@"
