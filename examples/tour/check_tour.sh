#!/usr/bin/env bash
# Runs the tour in a private session root and checks what each step printed.
set -euo pipefail
tour="$1"
export MORAY_TMPDIR="$(mktemp -d /tmp/moray-tour-XXXXXX)"
trap 'rm -rf "$MORAY_TMPDIR"' EXIT
out="$("$tour")"
echo "$out"
expect() { grep -qE "$1" <<<"$out" || { echo "missing: $1" >&2; exit 1; }; }
expect '^1\. ray::Init\(\) started a local cluster'
expect '^2\. ray::Task\(ReturnOne\)\.Remote\(\) -> 1$'
# The time is printed for the reader; how long it takes is not checked (a loaded machine is slow).
expect '^3\. four 1-second SlowSquare tasks returned 0 1 4 9 in [0-9.e+-]+ s \(in parallel\)$'
expect '^4\. .* -> 42$'
expect '^5\. ray::Get of five refs, in order: 0 10 20 30 40$'
expect '^6\. ray::Get\(slow, 100\) raised RayTimeoutException'
expect '^   \.\.\.and the task itself still finishes: 49$'
expect '^7\. a Counter actor, incremented 3 times from the driver -> 3$'
expect '^8\. moray list actors:$'
expect '^[0-9]+ +[0-9a-f]+ +Counter +ALIVE .*counter'
expect '^9\. placement groups tour_pack \(PACK\) and tour_spread \(SPREAD\), two 1-CPU bundles each: CREATED$'
expect "^   a task in tour_pack's bundle 0 -> 3, in tour_spread's bundle 1 -> 7$"
expect '^10\. moray list placement-groups:$'
# Each group has a row with its name and state (in whatever column order).
for group in tour_pack tour_spread; do
  grep -E "^[0-9]+ .*\b$group\b" <<<"$out" | grep -qw CREATED ||
    { echo "missing: a CREATED row of $group in moray list placement-groups" >&2; exit 1; }
done
expect '^11\. ray::Shutdown\(\) stopped the cluster$'
# Nothing of the cluster may be left running.
if pgrep -f "session-dir=$MORAY_TMPDIR" >/dev/null; then
  echo "processes left behind:" >&2; pgrep -af "session-dir=$MORAY_TMPDIR" >&2; exit 1
fi
