#!/bin/sh
# CI smoke run of shmsnap-bench: --quick at reduced samples, then checks that the JSON
# is a well-formed list of records with the documented keys and that no row saw a
# torn read. Exits non-zero on malformed JSON, a missing key, torn > 0 or a bench error.
# usage: smoke_check.sh path/to/shmsnap-bench [extra bench options...]
set -eu
bench=${1:?usage: smoke_check.sh path/to/shmsnap-bench [options]}
shift
out=$(mktemp -d "${TMPDIR:-/tmp}/shmsnap-bench-smoke.XXXXXX")
trap 'rm -rf "$out"' EXIT

# The iceoryx rows start and stop their own iox-roudi: afterwards its shared memory and
# the bench's config directory must be gone (unless a RouDi was running before).
roudi_before=$(ls /dev/shm/iceoryx_mgmt 2>/dev/null || true)
configs_before=$(ls -d /tmp/shmsnap-bench-roudi.* 2>/dev/null | wc -l)

status=0
"$bench" --quick --samples 1000 --warmup 200 --json "$out/bench.json" --csv "$out/bench.csv" "$@" \
  >"$out/table.txt" || status=$?
cat "$out/table.txt"
if [ "$status" -ne 0 ]; then
  echo "smoke: shmsnap-bench exited with $status" >&2
  exit 1
fi

if [ -z "$roudi_before" ] && [ -e /dev/shm/iceoryx_mgmt ]; then
  echo "smoke: /dev/shm/iceoryx_mgmt left behind after the iceoryx rows" >&2
  exit 1
fi
if [ "$(ls -d /tmp/shmsnap-bench-roudi.* 2>/dev/null | wc -l)" -gt "$configs_before" ]; then
  echo "smoke: a /tmp/shmsnap-bench-roudi.* config directory was left behind" >&2
  exit 1
fi

python3 - "$out/bench.json" <<'PY'
import json, sys
keys = ["transport", "mode", "payload_bytes", "subscribers", "p50_ns", "p90_ns", "p99_ns", "p999_ns",
        "max_ns", "mean_ns", "samples", "throughput_hz", "skipped", "retries", "torn"]
transports = {"shmsnap", "shmsnap-sock", "iceoryx", "posix_mq", "uds", "pipe", "sysv_mq", "boost_mq", "floor"}
try:
    records = json.load(open(sys.argv[1]))
except ValueError as error:
    sys.exit("smoke: malformed JSON: %s" % error)
if not isinstance(records, list) or not records:
    sys.exit("smoke: JSON is not a non-empty list of records")
for record in records:
    missing = [key for key in keys if key not in record]
    if missing:
        sys.exit("smoke: record %r lacks %s" % (record.get("transport"), missing))
    if record["transport"] not in transports:
        sys.exit("smoke: unknown transport %r" % record["transport"])
    if record["torn"]:
        sys.exit("smoke: %s %s %d B x%d saw %d torn reads" % (record["transport"], record["mode"],
                 record["payload_bytes"], record["subscribers"], record["torn"]))
    if record["applicable"] and not record["samples"]:
        sys.exit("smoke: %s %s %d B x%d produced no samples" % (record["transport"], record["mode"],
                 record["payload_bytes"], record["subscribers"]))
print("smoke: %d records, JSON well-formed, torn == 0" % len(records))
PY
