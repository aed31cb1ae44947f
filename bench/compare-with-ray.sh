#!/usr/bin/env bash
# Moray and Ray side by side on this machine, in one run (issue 6).
#
#   bench/compare-with-ray.sh [--quick] [--windows N] [--window-seconds S] [--filter TEXT]
#                             [--cpus N] [--moray-build DIR] [--micro-timeout SECONDS]
#                             [--no-ray-microbenchmark]
#
# 1. Creates a throwaway Python virtual environment OUTSIDE the source tree
#    ($MORAY_COMPARE_CACHE, default ~/.cache/moray-compare) and installs ray[cpp]==$RAY_VERSION
#    from the Python package registry. If the registry cannot be reached it says so and exits 0.
# 2. Builds bench/microbenchmark.cc + bench/report.cc (the Ray-API-only metrics and harness,
#    -DMORAY_BENCH_RAY_API_ONLY) twice:
#    - against an installed Moray: by default a clean `git archive` snapshot of HEAD, built
#      (targets moray, moray_bin) and installed with `cmake --install` into the cache;
#      --moray-build DIR installs an existing build tree instead (it may hold uncommitted work);
#    - against ray-cpp, as Ray's C++ users do: with its ABI flag (-D_GLIBCXX_USE_CXX11_ABI=0), a
#      driver executable plus the same code as a shared library that Ray's default_worker loads
#      from --ray_code_search_path.
# 3. Starts Ray (`ray start --head`, dashboard off, --num-cpus=$CPUS, 4 GiB object store), runs
#    the Ray build, `ray stop`; then runs the Moray build (its private cluster with the same CPU
#    count and store size); then Ray's own `ray microbenchmark` (Python), bounded in time.
# 4. Prints a table: metric, Moray, Ray (C++), Moray/Ray, and Ray's Python figure where the
#    metric has one. Results and logs stay in $WORK (printed at the end).
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
FILTER=""
MORAY_BUILD=""
MICRO_TIMEOUT=420    # enough for the task/put/get figures, which `ray microbenchmark` runs first
RUN_MICRO=1
STORE_BYTES=4294967296

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) WINDOWS=2; WINDOW_SECONDS=1; MICRO_TIMEOUT=150 ;;
    --windows) WINDOWS=$2; shift ;;
    --window-seconds) WINDOW_SECONDS=$2; shift ;;
    --filter) FILTER=$2; shift ;;
    --cpus) CPUS=$2; shift ;;
    --moray-build) MORAY_BUILD=$(cd "$2" && pwd); shift ;;
    --micro-timeout) MICRO_TIMEOUT=$2; shift ;;
    --no-ray-microbenchmark) RUN_MICRO=0 ;;
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
if ! "$VENV/bin/python" -c "import grpc, numpy, ray, sys; sys.exit(ray.__version__ != '$RAY_VERSION')" 2>/dev/null; then
  log "installing ray[cpp]==$RAY_VERSION into $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  if ! "$VENV/bin/pip" install --disable-pip-version-check --timeout 30 --retries 2 -q \
      "ray[cpp,client]==$RAY_VERSION" numpy > "$WORK/pip.log" 2>&1; then  # client, numpy: `ray microbenchmark`
    tail -5 "$WORK/pip.log" >&2
    if grep -qiE "connection|network|resolve|timed out|unreachable|No matching distribution|Could not find a version" "$WORK/pip.log"; then
      echo "compare-with-ray: cannot install ray[cpp]==$RAY_VERSION from the Python package registry (unreachable from here?) — no comparison made." >&2
      rm -rf "$VENV"
      exit 0
    fi
    echo "compare-with-ray: pip install failed (see $WORK/pip.log)" >&2
    exit 1
  fi
fi
# RAY_AUTH_MODE=disabled: otherwise `ray microbenchmark` (ray.init) writes ~/.ray/auth_token, every
# later `ray start` turns token authentication on, and ray-cpp's driver (which sends no token) fails.
export PATH="$VENV/bin:$PATH" RAY_USAGE_STATS_ENABLED=0 RAY_AUTH_MODE=disabled
RAY_CPP=$("$VENV/bin/python" -c "import os, ray; print(os.path.join(os.path.dirname(ray.__file__), 'cpp'))")
[ -f "$RAY_CPP/include/ray/api.h" ] && [ -f "$RAY_CPP/lib/libray_api.so" ] || {
  echo "ray-cpp headers or library not found under $RAY_CPP" >&2; exit 1; }

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
  if [ ! -f "$MORAY_PREFIX/lib/pkgconfig/moray.pc" ]; then
    log "building Moray $COMMIT from a clean snapshot in $SNAP (library and CLI only; minutes)"
    rm -rf "$SNAP" && mkdir -p "$SNAP/src"
    git -C "$SRC" archive HEAD | tar -x -C "$SNAP/src"
    cmake -S "$SNAP/src" -B "$SNAP/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$SNAP/configure.log"
    cmake --build "$SNAP/build" -j "$(nproc)" --target moray moray_bin > "$SNAP/build.log"
    cmake --install "$SNAP/build" --prefix "$MORAY_PREFIX" > "$SNAP/install.log"
  fi
fi

# --- 3. the same benchmark source, built twice ---------------------------------------------------
BENCH_SRCS=("$SRC/bench/microbenchmark.cc" "$SRC/bench/report.cc")
CXXFLAGS_BENCH=(-std=c++17 -O2 -g -DMORAY_BENCH_RAY_API_ONLY)
log "building the benchmark against Moray ($MORAY_PREFIX)"
mkdir -p "$WORK/moray"
# shellcheck disable=SC2046
g++ "${CXXFLAGS_BENCH[@]}" "${BENCH_SRCS[@]}" -o "$WORK/moray/microbenchmark" \
  $(PKG_CONFIG_PATH="$MORAY_PREFIX/lib/pkgconfig" pkg-config --cflags --libs moray)

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

BENCH_ARGS=(--windows "$WINDOWS" --window-seconds "$WINDOW_SECONDS")
[ -n "$FILTER" ] && BENCH_ARGS+=(--filter "$FILTER")

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
log "starting Ray $RAY_VERSION: --num-cpus=$CPUS, dashboard off, node $NODE_IP:$RAY_PORT"
ray_started=1
ray start --head --node-ip-address="$NODE_IP" --port="$RAY_PORT" --num-cpus="$CPUS" \
  --include-dashboard=false --object-store-memory="$STORE_BYTES" --disable-usage-stats \
  > "$WORK/ray-start.log" 2>&1
log "running the benchmark on Ray (log: $WORK/ray.log)"
(cd "$WORK/ray" && ./microbenchmark --ray_address="$NODE_IP:$RAY_PORT" \
   --ray_node_ip_address="$NODE_IP" --ray_code_search_path="$WORK/ray/code" \
   "${BENCH_ARGS[@]}" --json "$WORK/ray.json") > "$WORK/ray.out" 2> "$WORK/ray.log" \
  || echo "the Ray run failed (exit $?); see $WORK/ray.log" >&2
grep -v '^\[' "$WORK/ray.out" >&2 || true
ray stop --force > "$WORK/ray-stop.log" 2>&1 || true
ray_started=0

log "running the benchmark on Moray (log: $WORK/moray.log)"
(cd "$WORK/moray" && ./microbenchmark \
   --ray_head_args="--num-cpus=$CPUS --object-store-memory=$STORE_BYTES" \
   "${BENCH_ARGS[@]}" --json "$WORK/moray.json") > "$WORK/moray.out" 2> "$WORK/moray.log" \
  || echo "the Moray run failed (exit $?); see $WORK/moray.log" >&2
cat "$WORK/moray.out" >&2

# --- 5. Ray's own microbenchmark (Python), bounded -----------------------------------------------
: > "$WORK/ray-microbenchmark.out"
if [ "$RUN_MICRO" = 1 ]; then
  log "running Ray's own 'ray microbenchmark' (Python) for at most ${MICRO_TIMEOUT}s"
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
python3 - "$WORK/moray.json" "$WORK/ray.json" "$WORK/ray-microbenchmark.out" <<'EOF'
import json, os, re, sys

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}

moray, ray = load(sys.argv[1]), load(sys.argv[2])
py = {}
if os.path.exists(sys.argv[3]):
    for line in open(sys.argv[3]):
        m = re.match(r"(.*) per second ([0-9.e+-]+) \+- ([0-9.e+-]+)", line.strip())
        if m:
            name = re.sub(r" \(.*\)$", "", m.group(1)).replace(" ", "_").replace(":", "_")
            py[name] = float(m.group(2))

def fmt(r):
    if not r:
        return "—"
    v, s = r["value"], r.get("std")
    d = 3 if v < 10 else 1
    return f"{v:,.{d}f} ± {s:,.{d}f}" if s is not None else f"{v:,.{d}f}"

names = list(moray) + [n for n in ray if n not in moray]
rows = []
for n in names:
    m, r = moray.get(n), ray.get(n)
    unit = (m or r)["unit"]
    ratio, note = "—", ""
    if m and r and r["value"] > 0:
        x = m["value"] / r["value"]
        ratio = f"{x:,.2f}×"
        if "baseline" in n:
            note = "baseline (memcpy, no runtime)"
        elif x < 1:
            note = "MORAY SLOWER"
    p = py.get(n)
    rows.append((n, fmt(m), fmt(r), ratio, f"{p:,.1f}" if p is not None else "—", unit, note))

head = ("metric", "Moray", "Ray (C++)", "Moray/Ray", "Ray (Python)", "unit", "")
w = [max(len(str(x[i])) for x in rows + [head]) for i in range(len(head))]
print()
print("  ".join(str(h).ljust(w[i]) if i in (0, 5, 6) else str(h).rjust(w[i]) for i, h in enumerate(head)).rstrip())
for row in rows:
    print("  ".join(str(c).ljust(w[i]) if i in (0, 5, 6) else str(c).rjust(w[i]) for i, c in enumerate(row)).rstrip())
print("\nMoray/Ray: rates, so > 1 means Moray is faster. Ray (Python): `ray microbenchmark`, same machine, same run.")
EOF
echo
echo "Moray $MORAY_COMMIT; Ray $RAY_VERSION; $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1); $(date -u '+%Y-%m-%d %H:%M UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "results and logs: $WORK"
