#!/bin/sh
# The cost of task events and metrics on single_client_tasks_async (issue 15, item 7): the metric
# measured with them on (A) and off (B), interleaved A B A B ... in one run, each measurement a
# fresh driver with its own embedded cluster (the switches are environment variables read once
# per process, inherited by the cluster's processes):
#   MORAY_ENABLE_TASK_EVENTS=0   no task events recorded (core workers)
#   MORAY_RPC_LATENCY_METRICS=0  no method latency histograms (raylet, GCS)
# Prints the same run's TCP round trip and memcpy limits first, then each measurement, then the
# mean of each mode and B's gain over A (the cost of events and metrics).
#
#   bench/events_cost.sh [ROUNDS]        (default 4 rounds: A B A B A B A B)
#   BUILD=build-release bench/events_cost.sh
#   SWITCH=events bench/events_cost.sh   (B turns off only the task events; SWITCH=metrics: only
#                                         the latency metrics; default both)
set -eu
BUILD=${BUILD:-build}
BIN=$BUILD/bin/microbenchmark
ROUNDS=${1:-4}
SWITCH=${SWITCH:-both}
case "$SWITCH" in both|events|metrics) ;; *) echo "SWITCH must be both, events or metrics" >&2; exit 2;; esac
OUT=$BUILD/bench/events_cost
rm -rf "$OUT"
mkdir -p "$OUT"
date -u +"%Y-%m-%d %H:%M UTC"
"$BIN" --baselines --jsonl "$OUT/baselines.jsonl" >/dev/null
cat "$OUT/baselines.jsonl"
i=1
while [ "$i" -le "$ROUNDS" ]; do
  for mode in on off; do
    events=1; latency=1
    if [ "$mode" = off ] && [ "$SWITCH" != metrics ]; then events=0; fi
    if [ "$mode" = off ] && [ "$SWITCH" != events ]; then latency=0; fi
    MORAY_ENABLE_TASK_EVENTS=$events MORAY_RPC_LATENCY_METRICS=$latency \
      "$BIN" --metric single_client_tasks_async --no-moray --jsonl "$OUT/$mode.jsonl" >/dev/null
    printf 'round %d %-3s %s\n' "$i" "$mode" "$(tail -n 1 "$OUT/$mode.jsonl")"
  done
  i=$((i + 1))
done
python3 - "$OUT" "$SWITCH" <<'PY'
import json, statistics, sys
out, switch = sys.argv[1], sys.argv[2]
what = {"both": "events and metrics", "events": "task events", "metrics": "latency metrics"}[switch]
def values(mode):
    rows = [json.loads(line) for line in open(f"{out}/{mode}.jsonl")]
    return [r["value"] for r in rows if r.get("metric") == "single_client_tasks_async" and "value" in r]
on, off = values("on"), values("off")
m_on, m_off = statistics.mean(on), statistics.mean(off)
print(f"{what} on : {m_on:10.0f} tasks/s (rounds: {', '.join(f'{v:.0f}' for v in on)})")
print(f"{what} off: {m_off:10.0f} tasks/s (rounds: {', '.join(f'{v:.0f}' for v in off)})")
print(f"cost of {what}: {100 * (m_off - m_on) / m_off:+.1f}% of the off rate")
PY
