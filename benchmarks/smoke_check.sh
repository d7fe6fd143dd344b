#!/bin/sh
# CI smoke run of shmsnap-bench: --quick at reduced samples, then checks that the JSON
# is a well-formed list of records with the documented keys and that no row saw a
# torn read; then a few variable-size (--used) rows, which must run for shmsnap and
# shmsnap-sock (copy and in-place reads) and be n/a for a queue. Exits non-zero on
# malformed JSON, a missing key, torn > 0, a missing used row or a bench error.
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
keys = ["transport", "mode", "payload_bytes", "used_bytes", "subscribers", "p50_ns", "p90_ns", "p99_ns", "p999_ns",
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

# Variable-size rows: 64 KiB topics carrying 1 KiB, beside the whole 1 KiB rows they
# are compared with (x_used). posix_mq sends whole messages: its used row is n/a.
status=0
"$bench" --transports shmsnap,shmsnap-sock,posix_mq --modes notify,spin-zc --payloads 1024,65536 --used 1024 \
  --subscribers 1 --samples 300 --warmup 100 --rate 2000 --json "$out/used.json" >"$out/used.txt" || status=$?
cat "$out/used.txt"
if [ "$status" -ne 0 ]; then
  echo "smoke: shmsnap-bench --used exited with $status" >&2
  exit 1
fi

python3 - "$out/used.json" <<'PY'
import json, sys
try:
    records = json.load(open(sys.argv[1]))
except ValueError as error:
    sys.exit("smoke --used: malformed JSON: %s" % error)
used_rows = [r for r in records if r["payload_bytes"] == 65536 and r["used_bytes"] == 1024]
for record in records:
    if record["torn"]:
        sys.exit("smoke --used: %s %s %d B used %d B saw %d torn reads" % (record["transport"], record["mode"],
                 record["payload_bytes"], record["used_bytes"], record["torn"]))
for transport in ("shmsnap", "shmsnap-sock"):
    for mode in ("notify", "spin-zc"):
        rows = [r for r in used_rows if r["transport"] == transport and r["mode"] == mode]
        if len(rows) != 1 or not rows[0]["applicable"] or rows[0]["failed"] or not rows[0]["samples"]:
            sys.exit("smoke --used: no measured %s %s row of 64 KiB carrying 1 KiB: %r" % (transport, mode, rows))
        if rows[0]["p50_vs_used_payload"] is None:
            sys.exit("smoke --used: %s %s used row has no ratio to its 1 KiB row" % (transport, mode))
queue = [r for r in used_rows if r["transport"] == "posix_mq"]
if len(queue) != 1 or queue[0]["applicable"] or "whole messages" not in queue[0]["note"]:
    sys.exit("smoke --used: the posix_mq used row should be n/a (whole messages): %r" % queue)
print("smoke --used: %d records, %d used rows, torn == 0" % (len(records), len(used_rows)))
PY
