#!/usr/bin/env bash
# The README's commands. Run as root from the repository root on Debian 12:
#   bash cmake/run.sh demo                 install packages, build (release), run the demo
#   bash cmake/run.sh test                 install packages, build and run every stage:
#                                          dev, ASan+UBSan, TSan (concurrency), short fuzz
#                                          runs, format check, docs check, clang-tidy,
#                                          leak check; a summary table
#   bash cmake/run.sh stress-test [ROUNDS] the dev, ASan+UBSan and TSan suites ROUNDS times (5)
#                                          beside a CPU hog on every core (stress-ng)
#   bash cmake/run.sh bench                install packages, build (release), run shmsnap-bench --quick
set -euo pipefail
cd "$(dirname "$0")/.."

# One line per part of the product, so parallel work adds lines instead of editing one.
readonly PACKAGES=(
  cmake ninja-build g++ pkg-config util-linux procps python3 stress-ng
  libboost-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  nlohmann-json3-dev libtomlplusplus-dev libsystemd-dev
  clang-14 libclang-rt-14-dev clang-format-14 clang-tidy-14 spin gnuplot-nox
  nats-server libnats-dev                                                      # shmsnap-bridge
  python3-dev pybind11-dev python3-numpy python3-pytest python3-matplotlib     # Python package
  python3-jsonschema libzstd-dev liblz4-dev                                    # record/replay (MCAP)
  prometheus-cpp-dev prometheus chromium                                       # shmsnap serve
  iceoryx libiceoryx-posh-dev                                                  # iceoryx baseline
  faketime                                                                     # clock-jump tests (libfaketime)
  podman runc                                                                  # socket mode across real containers
)
JOBS=$(nproc)

log() { printf '\n== %s ==\n' "$*"; }

install_packages() {
  local missing=()
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  # Node.js may come from elsewhere than Debian (its npm then conflicts with Debian's npm).
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
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

# The project's shared-memory and queue names: PREFIX:TOPIC[:ctl|:sub:ID] (names.cpp).
# Other software's files (a container runtime's /dev/shm/libpod_lock, say) never have
# that form, so they are neither counted as our leak nor hidden by it.
ipc_names() { { ls /dev/shm; ls /dev/mqueue 2>/dev/null; } | grep -E '^[A-Za-z0-9_.-]{1,32}:[A-Za-z0-9_.-]' | sort || true; }

# leak_check BEFORE: records a stage that fails when a project name appeared since BEFORE.
leak_check() {
  log "left in /dev/shm and /dev/mqueue by the tests (should be empty)"
  local left; left=$(comm -13 <(echo "$1") <(ipc_names))
  if [[ -n $left ]]; then
    echo "$left"
    SUMMARY+=("leak-check|0|1|0|FAILED")
  else
    echo "(nothing)"
    SUMMARY+=("leak-check|1|0|0|ok")
  fi
}

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

# --- stages: each runs to the end, records its counts, and never stops the others ---

SUMMARY=()        # "stage|passed|failed|seconds|status"
FAILED_TESTS=()   # names of failed tests, one per failure, for stress-test's tally
STAGE_LOG=""

# run_stage NAME COMMAND...: runs COMMAND with its output teed to a log, then records
# the stage's counts (ctest's "N tests failed out of M", the fuzz and plain-line
# counts, else 1/0 by exit status) in SUMMARY.
run_stage() {
  local name=$1; shift
  log "stage: $name"
  STAGE_LOG=$(mktemp "${TMPDIR:-/tmp}/shmsnap-stage.XXXXXX")
  local start=$SECONDS status=0
  "$@" 2>&1 | tee "$STAGE_LOG" || status=$?
  local seconds=$((SECONDS - start)) passed failed line
  line=$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$STAGE_LOG" | tail -n 1 || true)
  if [[ -n $line ]]; then
    failed=$(awk '{print $1}' <<<"$line")
    passed=$(($(awk '{print $6}' <<<"$line") - failed))
    mapfile -t -O "${#FAILED_TESTS[@]}" FAILED_TESTS < <(sed -n 's/^[[:space:]]*[0-9]* - \(.*\) (\(Failed\|Timeout\|SEGFAULT\|Subprocess aborted\|Exception\|Child aborted\|Not Run\|Subprocess killed\).*/\1/p' "$STAGE_LOG")
  elif grep -Eq '^fuzz .*: (ok|FAILED)' "$STAGE_LOG"; then
    passed=$(grep -Ec '^fuzz .*: ok' "$STAGE_LOG" || true)
    failed=$(grep -Ec '^fuzz .*: FAILED' "$STAGE_LOG" || true)
  elif ((status == 0)); then
    passed=1 failed=0
  else
    passed=0 failed=1
  fi
  if ((status != 0 && failed == 0)); then failed=1; fi
  SUMMARY+=("$name|$passed|$failed|$seconds|$([[ $status == 0 ]] && echo ok || echo FAILED)")
  rm -f "$STAGE_LOG"
  return 0
}

print_summary() {
  log "summary"
  printf '%-22s %8s %8s %8s  %s\n' stage passed failed seconds result
  local row total_failed=0 stage passed failed seconds result
  for row in "${SUMMARY[@]}"; do
    IFS='|' read -r stage passed failed seconds result <<<"$row"
    printf '%-22s %8s %8s %8s  %s\n' "$stage" "$passed" "$failed" "$seconds" "$result"
    [[ $result == ok ]] || total_failed=$((total_failed + 1))
  done
  if ((total_failed > 0)); then
    echo "$total_failed stage(s) failed"
    return 1
  fi
  echo "every stage passed"
}

stage_build_and_ctest() {  # PRESET [ctest args...]
  local preset=$1; shift
  build "$preset" && ctest --preset "$preset" -j "$JOBS" "$@"
}

stage_fuzz() {
  build fuzz shmsnap_fuzzers && tests/fuzz/run_fuzzers.sh "${SHMSNAP_FUZZ_SECONDS:-20}" build/fuzz/bin
}

stage_format() {
  git ls-files '*.cpp' '*.hpp' | xargs clang-format-14 --dry-run --Werror
}

# Every path named in the README, docs/ or a source comment exists, and tests/README.md
# lists every test source (seconds; no build needed).
stage_docs() {
  /usr/bin/python3 tests/docs/check_docs.py
}

# clang-tidy-14 with .clang-tidy (warnings are errors) over the library's sources and
# headers, from the dev build's compile_commands.json. Every lib/src file: 330 CPU
# seconds, under three minutes on 2 idle cores (-j JOBS).
stage_tidy() {
  cmake --preset dev >/dev/null && run-clang-tidy-14 -p build -j "$JOBS" -quiet "$PWD/lib/src/"
}

# Labels left out of the sanitizer runs: long soaks, the model check, the installed
# consumer (uninstrumented), the bench smoke run, and Python (an uninstrumented
# interpreter cannot load an instrumented extension).
readonly ASAN_EXCLUDED_LABELS='chaos|model|install|bench|python'

run_test() {
  local before; before=$(ipc_names)
  run_stage dev stage_build_and_ctest dev
  run_stage asan-ubsan stage_build_and_ctest asan-ubsan -LE "$ASAN_EXCLUDED_LABELS"
  run_stage tsan stage_build_and_ctest tsan
  if [[ -x tests/fuzz/run_fuzzers.sh ]]; then
    run_stage fuzz stage_fuzz
  fi
  run_stage format stage_format
  run_stage docs stage_docs
  run_stage clang-tidy stage_tidy
  leak_check "$before"
  print_summary
}

# The dev, ASan+UBSan and TSan suites, ROUNDS times each, beside stress-ng loading
# every core: a test that waits for a duration instead of its condition fails here first.
run_stress_test() {
  local rounds=${1:-5}
  [[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash cmake/run.sh stress-test [ROUNDS]" >&2; exit 2; }
  local before; before=$(ipc_names)
  build dev
  build asan-ubsan
  build tsan
  log "CPU hog: stress-ng --cpu 0 (every core) for the whole run"
  stress-ng --cpu 0 --timeout 4h --quiet &
  HOG_PID=$!  # global: the EXIT trap runs after this function's locals are gone
  trap 'kill "$HOG_PID" 2>/dev/null || true' EXIT
  local round
  for ((round = 1; round <= rounds; round++)); do
    run_stage "dev round $round" ctest --preset dev -j "$JOBS"
    run_stage "asan round $round" ctest --preset asan-ubsan -j "$JOBS" -LE "$ASAN_EXCLUDED_LABELS"
    run_stage "tsan round $round" ctest --preset tsan -j "$JOBS"
  done
  kill "$HOG_PID" 2>/dev/null || true
  wait "$HOG_PID" 2>/dev/null || true
  leak_check "$before"
  log "tests that failed in any round (count)"
  if ((${#FAILED_TESTS[@]} == 0)); then
    echo "(none): 0 failures in $rounds rounds"
  else
    printf '%s\n' "${FAILED_TESTS[@]}" | sort | uniq -c | sort -rn
  fi
  print_summary
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
    stress-test) command=stress_test ;;
    *) echo "usage: bash cmake/run.sh demo|test|stress-test [ROUNDS]|bench" >&2; exit 2 ;;
  esac
  shift || true
  install_packages
  mount_mqueue
  "run_$command" "$@"
}

main "$@"
