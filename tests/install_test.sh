#!/usr/bin/env bash
# The install package as an outside user sees it: `cmake --install` (what `make install` runs) into
# a fresh prefix, then
#   1. the layout: bin/moray, include/ray/api.h, libmoray with its SONAME, RUNPATHs that work from
#      the prefix, the CMake package and the pkg-config file, and nothing else;
#   2. examples/hello configured with find_package(Moray) from that prefix, built and run: it
#      starts its own embedded cluster, which must use <prefix>/bin/moray (no MORAY_BIN, no moray
#      on PATH) and must be gone when it exits;
#   3. a one-file program built with `g++ prog.cc $(pkg-config --cflags --libs moray)` and run;
#   4. with a Python interpreter given, the Python package in <prefix>/lib/pythonX.Y/site-packages:
#      tests/python_package_check.py imports it from there (module and libmoray from the prefix),
#      runs a task and an actor on a cluster it starts from <prefix>/bin/moray, and shuts down.
# Usage: install_test.sh <moray build dir> <moray source dir> [<python>]. Any failure fails the test.
set -euo pipefail
build="$(cd "$1" && pwd)"
source="$(cd "$2" && pwd)"
python="${3:-}"

work="$(mktemp -d /tmp/moray-install-test-XXXXXX)"
prefix="$work/prefix"
export MORAY_TMPDIR="$work/sessions"
mkdir -p "$MORAY_TMPDIR"
# The programs' embedded clusters create ~/.ray/auth_token when no token is set: this test's HOME
# (given to them alone: the build steps keep the real HOME, where ccache's settings live).
home="$work/home"
mkdir -m 0700 "$home"
cleanup() {
  # Whatever a failed step left running goes first (only processes of this test's session root).
  pkill -KILL -f -- "--session-dir=$MORAY_TMPDIR" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

# The installed artifacts must stand on their own: no build-tree binary, library or session root.
unset MORAY_BIN RAY_ADDRESS RAY_AUTH_TOKEN RAY_AUTH_TOKEN_PATH LD_LIBRARY_PATH PKG_CONFIG_PATH \
  CMAKE_PREFIX_PATH
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if command -v moray >/dev/null; then
  fail "a moray executable is on PATH ($(command -v moray)); this test needs a clean PATH"
fi

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "install"; }

step "layout"
[ -x "$prefix/bin/moray" ] || fail "no executable $prefix/bin/moray"
[ -f "$prefix/share/moray/dashboard/index.html" ] || fail "no dashboard pages in $prefix/share/moray/dashboard"
[ -f "$prefix/include/ray/api.h" ] || fail "no $prefix/include/ray/api.h"
[ -f "$prefix/include/ray/api/object_ref.h" ] || fail "the headers api.h includes are missing"
[ -f "$prefix/lib/cmake/Moray/MorayConfig.cmake" ] || fail "no MorayConfig.cmake"
[ -f "$prefix/lib/cmake/Moray/MorayConfigVersion.cmake" ] || fail "no MorayConfigVersion.cmake"
[ -f "$prefix/lib/pkgconfig/moray.pc" ] || fail "no moray.pc"
[ -L "$prefix/lib/libmoray.so" ] || fail "no libmoray.so development symlink"
soname="$(readelf -d "$prefix/lib/libmoray.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[[ "$soname" =~ ^libmoray\.so\.[0-9]+$ ]] || fail "libmoray has no versioned SONAME (got '$soname')"
[ -e "$prefix/lib/$soname" ] || fail "the SONAME $soname is not installed"
runpath="$(readelf -d "$prefix/bin/moray" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p;s/.*(RPATH).*\[\(.*\)\]/\1/p')"
[[ "$runpath" == *'$ORIGIN/../lib'* ]] || fail "bin/moray has no \$ORIGIN-relative RUNPATH (got '$runpath')"
[[ "$runpath" != *"$build"* ]] || fail "bin/moray still points into the build tree: $runpath"
# ldd's output is captured first: `ldd | grep -q` under pipefail fails when grep exits early.
libs="$(ldd "$prefix/bin/moray")"
if grep -q 'not found' <<<"$libs"; then echo "$libs"; fail "unresolved libraries"; fi
grep -qE "libmoray\.so.* => $prefix/(bin/\.\./)?lib/" <<<"$libs" \
  || { echo "$libs"; fail "bin/moray does not load the installed libmoray"; }
"$prefix/bin/moray" --help >/dev/null || fail "bin/moray --help"
# Only the package: the executable, the library, the headers and the package files.
unexpected="$(cd "$prefix" && find . \( -type f -o -type l \) | sed 's|^\./||' | grep -vE \
  '^(bin/moray|lib/libmoray\.so(\.[0-9.]+)?|include/(ray|moray)/.*\.h|lib/cmake/Moray/[A-Za-z-]+\.cmake|lib/pkgconfig/moray\.pc|share/moray/dashboard/[a-z_]+\.(html|js|css)|lib/python3\.[0-9]+/site-packages/moray/([A-Za-z_]+/)*[A-Za-z_]+\.py|lib/python3\.[0-9]+/site-packages/moray/_moray_core\.cpython-[0-9]+-[a-z0-9_]+-linux-gnu\.so)$' || true)"
[ -z "$unexpected" ] || fail "unexpected installed files:"$'\n'"$unexpected"

expect_output() {  # program output, label
  grep -qx 'squares: 0 1 4 9 16' <<<"$1" || fail "$2: missing the squares line"
  grep -qx 'square of square of 3: 81' <<<"$1" || fail "$2: missing the nested line"
  grep -qx 'hello, moray' <<<"$1" || fail "$2: missing the greeting"
}
expect_nothing_left() {  # label
  if pgrep -f -- "--session-dir=$MORAY_TMPDIR" >/dev/null; then
    pgrep -af -- "--session-dir=$MORAY_TMPDIR" >&2
    fail "$1: processes left running"
  fi
  ls "$MORAY_TMPDIR"/session_*/logs/raylet.out >/dev/null 2>&1 || fail "$1: no embedded cluster ran"
}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

step "examples/hello with find_package(Moray)"
cmake -S "$source/examples/hello" -B "$work/hello" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >"$work/hello-configure.log" \
  || { cat "$work/hello-configure.log"; fail "configure examples/hello"; }
cmake --build "$work/hello" >"$work/hello-build.log" 2>&1 \
  || { cat "$work/hello-build.log"; fail "build examples/hello"; }
out="$(HOME="$home" timeout 60 "$work/hello/hello")" || { echo "$out"; fail "examples/hello exited non-zero"; }
echo "$out"
expect_output "$out" "examples/hello"
expect_nothing_left "examples/hello"
[ "$(stat -c %a "$home/.ray/auth_token")" = 600 ] || fail "examples/hello: no 0600 token in \$HOME/.ray"
# Its services can only have run from <prefix>/bin/moray: MORAY_BIN is unset and PATH has no
# moray, so libmoray found the executable beside itself (FindMorayBinary).

step "g++ hello.cc \$(pkg-config --cflags --libs moray)"
rm -rf "$MORAY_TMPDIR"/session_*
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
flags="$(pkg-config --cflags --libs moray)" || fail "pkg-config moray"
# shellcheck disable=SC2086
g++ -o "$work/hello-pc" "$source/examples/hello/main.cc" $flags 2>"$work/pc-build.log" \
  || { cat "$work/pc-build.log"; fail "g++ with pkg-config flags"; }
out="$(HOME="$home" timeout 60 "$work/hello-pc")" || { echo "$out"; fail "the pkg-config build exited non-zero"; }
echo "$out"
expect_output "$out" "pkg-config build"
expect_nothing_left "pkg-config build"

if [ -n "$python" ]; then
  pyversion="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  site="$prefix/lib/python$pyversion/site-packages"
  step "the Python package in $site"
  [ -f "$site/moray/__init__.py" ] || fail "no $site/moray/__init__.py"
  module="$(ls "$site"/moray/_moray_core.*.so)" || fail "no _moray_core in $site/moray"
  runpath="$(readelf -d "$module" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p;s/.*(RPATH).*\[\(.*\)\]/\1/p')"
  [[ "$runpath" == *'$ORIGIN/../../..'* ]] || fail "_moray_core has no \$ORIGIN-relative RUNPATH to lib/ (got '$runpath')"
  [[ "$runpath" != *"$build"* ]] || fail "_moray_core still points into the build tree: $runpath"
  rm -rf "$MORAY_TMPDIR"/session_*
  out="$(cd "$work" && HOME="$home" PYTHONPATH="$site:/usr/lib/python3/dist-packages" timeout 120 \
         "$python" "$source/tests/python_package_check.py" "$prefix")" \
    || { echo "$out"; fail "the Python program exited non-zero"; }
  echo "$out"
  grep -qx 'squares: 0 1 4 9 16' <<<"$out" || fail "python: missing the squares line"
  grep -qx 'hello, moray' <<<"$out" || fail "python: missing the actor's greeting"
  expect_nothing_left "python"
fi
echo "PASS"
