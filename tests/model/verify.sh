#!/usr/bin/env bash
# Model-checks tests/model/shmsnap.pml with spin (Debian package `spin`, plus gcc).
#   1. the protocol as the library implements it: safety (no torn read accepted,
#      no lost wake-up, no invalid end state) and liveness (convergence once
#      publishing stops, under weak fairness) must PASS;
#   2. the subscriber's drain and read steps swapped: spin must FIND the lost
#      wake-up, and the resulting failure to converge;
#   3. the seqlock re-check removed: spin must FIND a torn read.
# Prints depth and states explored for every run. Exit 0 only when each run
# ended as expected; 77 (ctest SKIP_RETURN_CODE) when spin or gcc is missing.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
model="$here/shmsnap.pml"
for tool in spin gcc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "verify.sh: $tool is not installed (apt-get install -y spin gcc); skipping" >&2
    exit 77
  fi
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$model" "$work/model.pml"
cd "$work" || exit 2

failures=0
# run NAME EXPECT(pass|fail) "SPIN_DEFINES" "CC_DEFINES" "PAN_FLAGS"
run() {
  local name="$1" expect="$2" spin_defines="$3" cc_defines="$4" pan_flags="$5"
  rm -f pan pan.* model.pml.trail
  # shellcheck disable=SC2086
  if ! spin $spin_defines -a model.pml >spin.log 2>&1; then
    echo "model $name: spin could not generate the verifier"; cat spin.log; failures=$((failures + 1)); return
  fi
  # shellcheck disable=SC2086
  if ! gcc -O2 -w $cc_defines -o pan pan.c >cc.log 2>&1; then
    echo "model $name: the verifier did not compile"; cat cc.log; failures=$((failures + 1)); return
  fi
  # shellcheck disable=SC2086
  ./pan -m200000 $pan_flags >pan.log 2>&1
  local errors depth states finding verdict
  errors="$(grep -o 'errors: [0-9]*' pan.log | grep -o '[0-9]*$')"
  depth="$(grep -o 'depth reached [0-9]*' pan.log | grep -o '[0-9]*$')"
  states="$(grep -o '[0-9]* states, stored' pan.log | grep -o '^[0-9]*')"
  finding="$(grep -m1 -E '^pan:[0-9]+: ' pan.log | sed 's/^pan:[0-9]*: //')"
  if grep -q 'Search not completed' pan.log && [ "${errors:-1}" = 0 ]; then
    verdict="INCOMPLETE"
  elif [ "${errors:-1}" = 0 ]; then
    verdict="pass"
  else
    verdict="fail"
  fi
  if [ "$verdict" = "$expect" ]; then
    echo "model $name: $verdict as expected; depth=$depth states=$states${finding:+ finding=\"$finding\"}"
  else
    echo "model $name: UNEXPECTED $verdict (expected $expect); depth=$depth states=$states${finding:+ finding=\"$finding\"}"
    tail -n 30 pan.log
    failures=$((failures + 1))
  fi
}

run "safety(real order)"          pass ""                                "-DSAFETY -DNOCLAIM" ""
run "convergence(real order)"     pass ""                                "-DNFAIR=3"         "-a -f -N converge"
run "safety(read-before-drain)"   fail "-DREAD_BEFORE_DRAIN"             "-DSAFETY -DNOCLAIM" ""
run "convergence(read-before-drain)" fail "-DREAD_BEFORE_DRAIN -DNO_MONITOR" "-DNFAIR=3"       "-a -f -N converge"
run "safety(no seqlock re-check)" fail "-DNO_READ_RETRY"                 "-DSAFETY -DNOCLAIM" ""

if [ "$failures" -ne 0 ]; then
  echo "verify.sh: $failures run(s) did not end as expected"
  exit 1
fi
echo "verify.sh: all runs ended as expected"
