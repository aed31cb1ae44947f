#!/usr/bin/env bash
# The wheel as a user installs it (docs/python.md, Packaging): what `make wheel` does — `cmake
# --install --strip` into a staging prefix, then python/build_wheel.py — into a temporary
# directory; the wheel's name, its RECORD checked against its contents; then `pip install
# --no-deps` (nothing fetched) into a fresh `python -m venv --system-site-packages`, and with that
# venv's python: tests/python_package_check.py (package, module and libmoray all from the venv; a
# task and an actor on a local cluster whose services run the wheel's moray/_lib/moray, with no
# MORAY_BIN and no moray on PATH) and `<venv>/bin/moray --help`.
# Usage: python_wheel_test.sh <moray build dir> <moray source dir> <python>. Any failure fails it.
set -euo pipefail
build="$(cd "$1" && pwd)"
source="$(cd "$2" && pwd)"
python="$3"

work="$(mktemp -d /tmp/moray-wheel-test-XXXXXX)"
export MORAY_TMPDIR="$work/sessions"
mkdir -p "$MORAY_TMPDIR"
home="$work/home"
mkdir -m 0700 "$home"
cleanup() {
  pkill -KILL -f -- "--session-dir=$MORAY_TMPDIR" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

unset MORAY_BIN RAY_ADDRESS RAY_AUTH_TOKEN RAY_AUTH_TOKEN_PATH LD_LIBRARY_PATH PYTHONPATH
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$(dirname "$python")
if command -v moray >/dev/null; then
  fail "a moray executable is on PATH ($(command -v moray)); this test needs a clean PATH"
fi

step "cmake --install --strip, python/build_wheel.py"
cmake --install "$build" --prefix "$work/stage" --strip >"$work/install.log" \
  || { cat "$work/install.log"; fail "install"; }
wheel="$("$python" "$source/python/build_wheel.py" --prefix "$work/stage" --out "$work/dist")" \
  || fail "build_wheel.py"
echo "$wheel"
tag="$("$python" -c 'import sys; v = "%d%d" % sys.version_info[:2]; print(f"cp{v}-cp{v}")')"
[[ "$(basename "$wheel")" =~ ^moray-[0-9.]+-$tag-linux_x86_64\.whl$ ]] \
  || fail "unexpected wheel name $(basename "$wheel")"

step "the wheel's RECORD"
"$python" - "$wheel" <<'PY' || fail "RECORD"
import base64, csv, hashlib, io, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = set(z.namelist())
record = next(n for n in names if n.endswith(".dist-info/RECORD"))
listed = set()
for path, digest, size in csv.reader(io.StringIO(z.read(record).decode())):
    listed.add(path)
    if path == record:
        continue
    data = z.read(path)
    want = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    assert digest == want and int(size) == len(data), f"bad RECORD entry for {path}"
assert listed == names, f"RECORD and contents differ: {listed ^ names}"
for need in ("moray/__init__.py", "moray/_lib/moray", "moray/_private/cli.py",
             "moray/share/moray/dashboard/index.html"):
    assert need in names, f"no {need}"
assert any(n.startswith("moray/_lib/libmoray.so.") for n in names), "no moray/_lib/libmoray.so.N"
assert any(n.startswith("moray/_moray_core.cpython-") for n in names), "no _moray_core"
assert (z.getinfo("moray/_lib/moray").external_attr >> 16) & 0o111, "moray/_lib/moray not executable"
print(f"{len(names)} files, RECORD matches")
PY

step "pip install --no-deps into a fresh venv"
"$python" -m venv --system-site-packages "$work/venv" || fail "venv"
"$work/venv/bin/python" -m pip install --no-deps --no-index --disable-pip-version-check -q "$wheel" \
  >"$work/pip.log" 2>&1 || { cat "$work/pip.log"; fail "pip install"; }

step "a program with the venv's python"
out="$(cd "$work" && HOME="$home" timeout 120 "$work/venv/bin/python" \
       "$source/tests/python_package_check.py" "$work/venv")" \
  || { echo "$out"; fail "the program exited non-zero"; }
echo "$out"
grep -qx 'squares: 0 1 4 9 16' <<<"$out" || fail "missing the squares line"
grep -qx 'hello, moray' <<<"$out" || fail "missing the actor's greeting"
if pgrep -f -- "--session-dir=$MORAY_TMPDIR" >/dev/null; then
  pgrep -af -- "--session-dir=$MORAY_TMPDIR" >&2
  fail "processes left running"
fi
raylet_log="$(ls "$MORAY_TMPDIR"/session_*/logs/raylet.out 2>/dev/null | head -1)"
[ -n "$raylet_log" ] || fail "no local cluster ran"

step "<venv>/bin/moray --help"
[ -x "$work/venv/bin/moray" ] || fail "no console script $work/venv/bin/moray"
help="$("$work/venv/bin/moray" --help)" || { echo "$help"; fail "moray --help"; }
grep -q "start" <<<"$help" || { echo "$help"; fail "moray --help does not list start"; }
echo "PASS"
