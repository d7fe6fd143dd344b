#!/usr/bin/env bash
# Runs every built libFuzzer target for SECONDS each, one after another, with its
# seed corpus (tests/fuzz/corpus/<target>/). Builds nothing: configure and build
# first, e.g.
#   CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DSHMSNAP_BUILD_FUZZERS=ON
#   cmake --build build-fuzz -j2
# Usage: tests/fuzz/run_fuzzers.sh SECONDS [BIN_DIR]   (BIN_DIR: build-fuzz/bin)
# New inputs go to a scratch corpus (the checked-in seeds stay untouched); a crash
# leaves its reproducer in $FUZZ_ARTIFACTS (default build-fuzz/fuzz-artifacts).
# Exit status: 0 when every fuzzer ran clean, 1 when any found a crash, 2 usage.
set -u
seconds="${1:-}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: $0 SECONDS [BIN_DIR]" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
bin_dir="${2:-${FUZZ_BIN_DIR:-$here/../../build-fuzz/bin}}"
artifacts="${FUZZ_ARTIFACTS:-$bin_dir/../fuzz-artifacts}"
if [ ! -d "$bin_dir" ]; then
  echo "$0: no fuzzer directory $bin_dir (build with -DSHMSNAP_BUILD_FUZZERS=ON first)" >&2
  exit 2
fi
mkdir -p "$artifacts"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

failed=0
ran=0
for fuzzer in "$bin_dir"/*; do
  [ -f "$fuzzer" ] && [ -x "$fuzzer" ] || continue
  # A libFuzzer binary carries its entry point; anything else in bin/ is skipped.
  grep -aq LLVMFuzzerTestOneInput "$fuzzer" || continue
  name="$(basename "$fuzzer")"
  seeds="$here/corpus/$name"
  mkdir -p "$scratch/$name"
  corpora=("$scratch/$name")
  [ -d "$seeds" ] && corpora+=("$seeds")
  log="$scratch/$name.log"
  "$fuzzer" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
    "${corpora[@]}" >"$log" 2>&1
  status=$?
  ran=$((ran + 1))
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)"
  if [ "$status" -eq 0 ]; then
    echo "fuzz $name: ok execs=${execs:-?} ${cov:-} seconds=$seconds"
  else
    failed=1
    echo "fuzz $name: FAILED (exit $status) execs=${execs:-?}; reproducer under $artifacts"
    tail -n 40 "$log"
  fi
done
if [ "$ran" -eq 0 ]; then
  echo "$0: no libFuzzer binaries in $bin_dir" >&2
  exit 2
fi
exit "$failed"
