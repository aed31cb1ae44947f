#!/usr/bin/env bash
# Moray and Ray side by side on this machine, in one run (issues 6 and 10).
#
#   bench/compare-with-ray.sh [--quick] [--windows N] [--window-seconds S] [--warmup-seconds S]
#                             [--filter TEXT] [--cpus N] [--moray-build DIR]
#                             [--metric-timeout SECONDS] [--micro-timeout SECONDS]
#                             [--no-ray-microbenchmark] [--python-only] [--no-python]
#
# 1. Creates a throwaway Python virtual environment OUTSIDE the source tree
#    ($MORAY_COMPARE_CACHE, default ~/.cache/moray-compare) and installs ray[cpp]==$RAY_VERSION
#    from the Python package registry. If Ray cannot be installed it says so, gives no Ray figure
#    and measures Moray alone.
# 2. Builds bench/{microbenchmark,ray_metrics,harness,report}.cc (the Ray-API-only metrics and
#    harness, -DMORAY_BENCH_RAY_API_ONLY) twice:
#    - against an installed Moray: by default a clean `git archive` snapshot of HEAD, built
#      (targets moray, moray_bin) and installed with `cmake --install` into the cache;
#      --moray-build DIR installs an existing build tree instead (it may hold uncommitted work);
#    - against ray-cpp, as Ray's C++ users do: with its ABI flag (-D_GLIBCXX_USE_CXX11_ABI=0), a
#      driver executable plus the same code as a shared library that Ray's default_worker loads
#      from --ray_code_search_path.
# 3. Starts Ray (`ray start --head`, dashboard off, --num-cpus=$CPUS, 4 GiB object store, 100 of
#    the custom resource of placement_group_create/removal) and runs
#    the Ray build, then `ray stop`; then the Moray build (a private cluster per driver, same CPU
#    count, store size and custom resource); then Ray's own `ray microbenchmark` (Python), bounded in time.
#    Each metric runs in a driver process of its own (`--metric NAME`, bounded by
#    --metric-timeout), which appends its result to a JSON-lines file the moment it is measured:
#    a metric that crashes, throws or hangs is recorded as failed, with the reason, and every
#    other metric keeps its figure.
# 4. Prints a table: metric, Moray, Ray (C++), Moray/Ray, Ray's Python figure where the metric
#    has one; no ratio where the two runtimes do different work under the same name; then each
#    runtime's figures as ratios to the same-run TCP round trip and memcpy. Results and logs stay
#    in $WORK (printed at the end).
# 5. The Python section (--python-only: only it; --no-python: not it): Moray's Python API
#    (bench/python/microbenchmark.py, the installed package, with this run's TCP round trip and
#    memcpy from the C++ build's `microbenchmark --baselines`), then Ray's own `ray microbenchmark`
#    once per metric of that section (TESTS_TO_RUN=<Ray's name>, each bounded by
#    --metric-timeout; figures `ray microbenchmark` already printed in step 3 are reused), and
#    bench/python/compare_python.py's table: Moray/Ray and both against the machine's limits.
#
# Ray is the yardstick here and nothing more: nothing of it is linked into Moray, and this script
# and its virtual environment are no part of the build, the install or the tests.
set -euo pipefail

RAY_VERSION=2.60.0   # pinned; has a cp311 manylinux x86_64 wheel of ray and ray-cpp
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${MORAY_COMPARE_CACHE:-$HOME/.cache/moray-compare}
CPUS=2
WINDOWS=4            # as `ray microbenchmark`: 4 windows of >= 2 s after a warm-up
WINDOW_SECONDS=2
WARMUP_SECONDS=2     # each metric's driver is fresh: its first calls start the workers
METRIC_TIMEOUT=600   # per metric (one driver process each); Ray C++ multi_client_tasks_async at
                     # ~650 tasks/s needs ~5 min for its 5 batches of 40k
FILTER=""
MORAY_BUILD=""
MICRO_TIMEOUT=420    # enough for the task/put/get figures, which `ray microbenchmark` runs first
RUN_MICRO=1
RUN_CPP=1
RUN_PYTHON=1
STORE_BYTES=4294967296
# placement_group_create/removal: each bundle asks for 0.001 of a custom resource, as in
# `ray microbenchmark`, which gives its cluster 100 of it; both clusters here get the same.
PG_RESOURCE_JSON='{"custom":100}'

usage() { sed -n '2,41p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) WINDOWS=2; WINDOW_SECONDS=1; MICRO_TIMEOUT=150 ;;
    --windows) WINDOWS=$2; shift ;;
    --window-seconds) WINDOW_SECONDS=$2; shift ;;
    --warmup-seconds) WARMUP_SECONDS=$2; shift ;;
    --metric-timeout) METRIC_TIMEOUT=$2; shift ;;
    --filter) FILTER=$2; shift ;;
    --cpus) CPUS=$2; shift ;;
    --moray-build) MORAY_BUILD=$(cd "$2" && pwd); shift ;;
    --micro-timeout) MICRO_TIMEOUT=$2; shift ;;
    --no-ray-microbenchmark) RUN_MICRO=0 ;;
    --python-only) RUN_CPP=0 ;;
    --no-python) RUN_PYTHON=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
case "$CACHE/" in
  "$SRC"/*) echo "MORAY_COMPARE_CACHE ($CACHE) must be outside the source tree ($SRC)" >&2; exit 2 ;;
esac
VENV=$CACHE/ray-$RAY_VERSION-venv
WORK=$(mktemp -d "$CACHE/run-$(date -u +%Y%m%d-%H%M%S)-XXXX")
log() { printf '== %s\n' "$*" >&2; }

# --- 1. ray[cpp] in a virtual environment outside the tree --------------------------------------
PYTHON=${PYTHON:-python3}
RAY_OK=1
if ! "$VENV/bin/python" -c "import grpc, numpy, ray, sys; sys.exit(ray.__version__ != '$RAY_VERSION')" 2>/dev/null; then
  log "installing ray[cpp]==$RAY_VERSION into $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  if ! "$VENV/bin/pip" install --disable-pip-version-check --timeout 30 --retries 2 -q \
      "ray[cpp,client]==$RAY_VERSION" numpy > "$WORK/pip.log" 2>&1; then  # client, numpy: `ray microbenchmark`
    tail -5 "$WORK/pip.log" >&2
    echo "compare-with-ray: RAY IS NOT INSTALLED: pip could not install ray[cpp]==$RAY_VERSION (see $WORK/pip.log). Moray's figures follow alone; no Ray figure and no ratio is given." >&2
    rm -rf "$VENV"
    RAY_OK=0
  fi
fi
if [ "$RAY_OK" = 1 ]; then
  # RAY_AUTH_MODE=disabled: otherwise `ray microbenchmark` (ray.init) writes ~/.ray/auth_token, every
  # later `ray start` turns token authentication on, and ray-cpp's driver (which sends no token) fails.
  export PATH="$VENV/bin:$PATH" RAY_USAGE_STATS_ENABLED=0 RAY_AUTH_MODE=disabled
  RAY_CPP=$("$VENV/bin/python" -c "import os, ray; print(os.path.join(os.path.dirname(ray.__file__), 'cpp'))")
  [ -f "$RAY_CPP/include/ray/api.h" ] && [ -f "$RAY_CPP/lib/libray_api.so" ] || {
    echo "ray-cpp headers or library not found under $RAY_CPP" >&2; exit 1; }
fi

# --- 2. Moray, installed -------------------------------------------------------------------------
if [ -n "$MORAY_BUILD" ]; then
  MORAY_COMMIT="$(git -C "$SRC" rev-parse --short HEAD) (build tree $MORAY_BUILD, may include uncommitted changes)"
  MORAY_PREFIX=$WORK/moray-prefix
  log "installing Moray from $MORAY_BUILD into $MORAY_PREFIX"
  cmake --install "$MORAY_BUILD" --prefix "$MORAY_PREFIX" > "$WORK/moray-install.log"
else
  COMMIT=$(git -C "$SRC" rev-parse --short HEAD)
  MORAY_COMMIT=$COMMIT
  # Keyed by what the library is built from, so a commit that changes only docs or bench/ reuses it.
  LIB_TREE=$(git -C "$SRC" ls-tree HEAD -- CMakeLists.txt cmake include proto src | sha1sum | cut -c1-12)
  SNAP=$CACHE/moray-$LIB_TREE
  MORAY_PREFIX=$SNAP/prefix
  if [ ! -f "$MORAY_PREFIX/lib/pkgconfig/moray.pc" ] || ! ls "$MORAY_PREFIX"/lib/python3.*/site-packages/moray/_moray_core.*.so >/dev/null 2>&1; then
    log "building Moray $COMMIT from a clean snapshot in $SNAP (library and CLI only; minutes)"
    rm -rf "$SNAP" && mkdir -p "$SNAP/src"
    git -C "$SRC" archive HEAD | tar -x -C "$SNAP/src"
    cmake -S "$SNAP/src" -B "$SNAP/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$SNAP/configure.log"
    cmake --build "$SNAP/build" -j "$(nproc)" --target moray moray_bin _moray_core > "$SNAP/build.log"
    cmake --install "$SNAP/build" --prefix "$MORAY_PREFIX" > "$SNAP/install.log"
  fi
fi

# --- 3. the same benchmark source, built twice ---------------------------------------------------
BENCH_SRCS=("$SRC/bench/microbenchmark.cc" "$SRC/bench/ray_metrics.cc" "$SRC/bench/harness.cc"
            "$SRC/bench/report.cc")
CXXFLAGS_BENCH=(-std=c++17 -O2 -g -DMORAY_BENCH_RAY_API_ONLY)
log "building the benchmark against Moray ($MORAY_PREFIX)"
mkdir -p "$WORK/moray" "$WORK/logs"
# shellcheck disable=SC2046
g++ "${CXXFLAGS_BENCH[@]}" "${BENCH_SRCS[@]}" -o "$WORK/moray/microbenchmark" \
  $(PKG_CONFIG_PATH="$MORAY_PREFIX/lib/pkgconfig" pkg-config --cflags --libs moray)

if [ "$RAY_OK" = 1 ] && [ "$RUN_CPP" = 1 ]; then
  log "building the benchmark against ray-cpp $RAY_VERSION ($RAY_CPP)"
  mkdir -p "$WORK/ray/obj" "$WORK/ray/code"
  RAY_FLAGS=(-D_GLIBCXX_USE_CXX11_ABI=0 -fPIC -I"$RAY_CPP/include")
  RAY_LINK=(-L"$RAY_CPP/lib" -lray_api -Wl,-rpath,"$RAY_CPP/lib" -pthread)
  objs=()
  for f in "${BENCH_SRCS[@]}"; do
    o=$WORK/ray/obj/$(basename "$f" .cc).o
    g++ "${CXXFLAGS_BENCH[@]}" "${RAY_FLAGS[@]}" -c "$f" -o "$o"
    objs+=("$o")
  done
  g++ "${objs[@]}" -o "$WORK/ray/microbenchmark" "${RAY_LINK[@]}"                  # the driver
  g++ -shared "${objs[@]}" -o "$WORK/ray/code/libmicrobenchmark.so" "${RAY_LINK[@]}"  # for workers
fi

# The metrics, in the order the benchmark runs them; --filter keeps those containing the text.
METRICS=()
while IFS= read -r name; do
  if [ -z "$FILTER" ] || [[ "$name" == *"$FILTER"* ]]; then METRICS+=("$name"); fi
done < <("$WORK/moray/microbenchmark" --list)
[ ${#METRICS[@]} -gt 0 ] || { echo "no metric matches --filter '$FILTER'" >&2; exit 2; }
BENCH_ARGS=(--windows "$WINDOWS" --window-seconds "$WINDOW_SECONDS" --warmup-seconds "$WARMUP_SECONDS")

# run_metrics RUNTIME DIR [driver args...]: each metric in a driver process of its own, appending
# to $WORK/RUNTIME.jsonl; a metric the driver did not report (it crashed, timed out or failed to
# start) is appended as failed, with the reason from its exit status and its log.
run_metrics() {
  local runtime=$1 dir=$2; shift 2
  local jsonl=$WORK/$runtime.jsonl metric_log rc reason
  : > "$jsonl"
  for metric in "${METRICS[@]}"; do
    metric_log=$WORK/logs/$runtime-${metric//\//_}.log   # placement_group_create/removal
    printf '%s %s %s\n' "$runtime" "$metric" "$(cut -d' ' -f1 /proc/loadavg)" >> "$WORK/load.txt"
    rc=0
    (cd "$dir" && timeout --kill-after=15 "$METRIC_TIMEOUT" ./microbenchmark "$@" \
       "${BENCH_ARGS[@]}" --metric "$metric" --jsonl "$jsonl") > "$metric_log" 2>&1 || rc=$?
    grep -v '^\[' "$metric_log" | grep -E '^[a-z0-9_]+ +([0-9.]+ |FAILED)' >&2 || true
    if ! grep -q "\"metric\": \"$metric\"" "$jsonl"; then
      case $rc in
        124|137) reason="no result within ${METRIC_TIMEOUT}s (timed out)" ;;
        0) reason="the driver exited without reporting it" ;;
        *) if [ "$rc" -gt 128 ]; then reason="the driver was killed by signal $((rc - 128))"
           else reason="the driver exited with status $rc"; fi ;;
      esac
      # The last line that says what went wrong (an exception's what(), a check, an error).
      local why
      why=$(grep -v '^ *$' "$metric_log" | grep -iE "exception|what\(\)|error|fail|check|abort" \
              | tail -1 | cut -c1-300 || true)
      [ -n "$why" ] && reason="$reason: $why"
      python3 -c 'import json, sys; print(json.dumps({"metric": sys.argv[1], "failed": sys.argv[2]}))' \
        "$metric" "$reason (log: $metric_log)" >> "$jsonl"
      printf '%-44s %14s   %s\n' "$metric" FAILED "$reason" >&2
    fi
  done
}

# --- 4. Ray, then Moray, one after the other -----------------------------------------------------
ray_started=0
cleanup() { if [ "$ray_started" = 1 ]; then ray stop --force > /dev/null 2>&1 || true; fi; }
trap cleanup EXIT

if pgrep -f '/ray/core/src/ray/(raylet/raylet|gcs/gcs_server)' > /dev/null; then
  echo "a Ray cluster is already running on this machine; stop it first (ray stop)" >&2
  exit 1
fi
NODE_IP=$("$VENV/bin/python" -c "import ray._private.services as s; print(s.get_node_ip_address())" 2>/dev/null || hostname -I | awk '{print $1}')
RAY_PORT=${RAY_PORT:-6379}
START_TIME=$(date -u '+%Y-%m-%d %H:%M UTC')
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
: > "$WORK/ray-microbenchmark.out"
: > "$WORK/ray.jsonl"
if [ "$RUN_CPP" = 1 ]; then
if [ "$RAY_OK" = 1 ]; then
log "starting Ray $RAY_VERSION: --num-cpus=$CPUS, dashboard off, node $NODE_IP:$RAY_PORT"
ray_started=1
ray start --head --node-ip-address="$NODE_IP" --port="$RAY_PORT" --num-cpus="$CPUS" \
  --include-dashboard=false --object-store-memory="$STORE_BYTES" --resources="$PG_RESOURCE_JSON" \
  --disable-usage-stats \
  > "$WORK/ray-start.log" 2>&1
log "running the benchmark on Ray, one driver per metric (logs: $WORK/logs/ray-*.log)"
run_metrics ray "$WORK/ray" --ray_address="$NODE_IP:$RAY_PORT" \
  --ray_node_ip_address="$NODE_IP" --ray_code_search_path="$WORK/ray/code"
ray stop --force > "$WORK/ray-stop.log" 2>&1 || true
ray_started=0
fi

log "running the benchmark on Moray, one driver per metric (logs: $WORK/logs/moray-*.log)"
run_metrics moray "$WORK/moray" \
  --ray_head_args="--num-cpus=$CPUS --object-store-memory=$STORE_BYTES --resources=$PG_RESOURCE_JSON"

# --- 5. Ray's own microbenchmark (Python), bounded -----------------------------------------------
if [ "$RUN_MICRO" = 1 ] && [ "$RAY_OK" = 1 ]; then
  log "running Ray's own 'ray microbenchmark' (Python) for at most ${MICRO_TIMEOUT}s"
  printf 'ray-python - %s\n' "$(cut -d' ' -f1 /proc/loadavg)" >> "$WORK/load.txt"
  ray_started=1
  (cd "$WORK" && TESTS_TO_RUN="${FILTER//_/ }" timeout --kill-after=30 "$MICRO_TIMEOUT" \
     ray microbenchmark) > "$WORK/ray-microbenchmark.out" 2> "$WORK/ray-microbenchmark.log" \
    || echo "ray microbenchmark stopped (exit $?; 124 = the ${MICRO_TIMEOUT}s limit)" >&2
  ray stop --force > /dev/null 2>&1 || true
  ray_started=0
  echo "-- ray microbenchmark (Python):"
  grep " per second " "$WORK/ray-microbenchmark.out" || echo "   (no figures)"
fi

# --- 6. the table ------------------------------------------------------------------------------
python3 "$SRC/bench/compare_table.py" "$WORK/moray.jsonl" "$WORK/ray.jsonl" \
  "$WORK/ray-microbenchmark.out" "$WORK/load.txt" "$(nproc)" | tee "$WORK/table.txt"
fi  # RUN_CPP

# --- 7. the Python section ---------------------------------------------------------------------
if [ "$RUN_PYTHON" = 1 ]; then
  # The interpreter the package was built for (its module's suffix), with Debian's numpy.
  MORAY_SITE=$(ls -d "$MORAY_PREFIX"/lib/python3.*/site-packages | head -1)
  log "running Moray's Python benchmark ($MORAY_SITE; log: $WORK/logs/moray-python.log)"
  printf 'moray-python - %s\n' "$(cut -d' ' -f1 /proc/loadavg)" >> "$WORK/load.txt"
  PY_ARGS=(--windows "$WINDOWS" --window-seconds "$WINDOW_SECONDS" --warmup-seconds "$WARMUP_SECONDS"
           --num-cpus "$CPUS" --object-store-memory "$STORE_BYTES" --jsonl "$WORK/moray-python.jsonl"
           --baselines-from "$WORK/moray/microbenchmark")
  [ -n "$FILTER" ] && PY_ARGS+=(--filter "$FILTER")
  (cd "$WORK" && PYTHONPATH="$MORAY_SITE:/usr/lib/python3/dist-packages" \
     timeout --kill-after=15 "$METRIC_TIMEOUT" "$PYTHON" "$SRC/bench/python/microbenchmark.py" \
     "${PY_ARGS[@]}") 2>&1 | tee "$WORK/logs/moray-python.log" >&2 || true
  : > "$WORK/ray-python.out"
  if [ "$RAY_OK" = 1 ]; then
    # Ray's names for the section's metrics; TESTS_TO_RUN selects by substring.
    while IFS= read -r metric; do
      case $metric in
        1_1_*) ray_name="1:1 ${metric#1_1_}" ;;
        *) ray_name=$metric ;;
      esac
      ray_name=${ray_name//_/ }
      if grep -q "^$ray_name.* per second " "$WORK/ray-microbenchmark.out"; then
        grep "^$ray_name.* per second " "$WORK/ray-microbenchmark.out" >> "$WORK/ray-python.out"
        continue
      fi
      log "ray microbenchmark, TESTS_TO_RUN='$ray_name' (at most ${METRIC_TIMEOUT}s)"
      printf 'ray-python %s %s\n' "$metric" "$(cut -d' ' -f1 /proc/loadavg)" >> "$WORK/load.txt"
      ray_started=1
      # After the selected metric, `ray microbenchmark` also starts a Ray Client server for its
      # client metrics; on this machine that often fails ("timed out during startup": exit 1),
      # after the figure was printed.
      (cd "$WORK" && TESTS_TO_RUN="$ray_name" timeout --kill-after=30 "$METRIC_TIMEOUT" \
         ray microbenchmark) > "$WORK/logs/ray-python-${metric//\//_}.log" 2>&1 \
        || echo "ray microbenchmark ($ray_name) exited with status $? (124 = the ${METRIC_TIMEOUT}s limit; see its log)" >&2
      ray stop --force > /dev/null 2>&1 || true
      ray_started=0
      grep " per second " "$WORK/logs/ray-python-${metric//\//_}.log" | tee -a "$WORK/ray-python.out" >&2 \
        || echo "   (no figure for $ray_name)" >&2
    done < <("$PYTHON" "$SRC/bench/python/microbenchmark.py" --list | grep -F -- "$FILTER")
  else
    echo "-- Ray (Python): NOT INSTALLED in this run; Moray's Python figures only." >&2
  fi
  python3 "$SRC/bench/python/compare_python.py" "$WORK/moray-python.jsonl" "$WORK/ray-python.out" \
    | tee "$WORK/table-python.txt"
fi
echo
if [ "$RAY_OK" = 1 ]; then RAY_DESC="Ray $RAY_VERSION"; else RAY_DESC="Ray NOT INSTALLED (no Ray figures)"; fi
echo "Moray $MORAY_COMMIT; $RAY_DESC; $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1); started $START_TIME (load average $START_LOAD), ended $(date -u '+%Y-%m-%d %H:%M UTC') (load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "results and logs: $WORK"
