"""An outside user's first program against an installed moray package (install_test.sh and
python_wheel_test.sh run it with the interpreter and path under test).

Usage: python python_package_check.py <root>: the package, its native module and the libmoray it
loads must all be under <root> (an install prefix, or a venv), not in the build tree.
"""

import os
import sys

import moray as ray

root = os.path.realpath(sys.argv[1])


def under_root(path, what):
    path = os.path.realpath(path)
    if not path.startswith(root + os.sep):
        sys.exit(f"FAIL: {what} is {path}, not under {root}")


under_root(ray.__file__, "the moray package")
under_root(ray._moray_core.__file__, "_moray_core")
with open("/proc/self/maps") as maps:
    libmoray = sorted({line.split()[-1] for line in maps if "/libmoray.so" in line})
if len(libmoray) != 1:
    sys.exit(f"FAIL: expected one libmoray loaded, found {libmoray}")
under_root(libmoray[0], "the loaded libmoray")


@ray.remote
def square(x):
    return x * x


@ray.remote
class Greeter:
    def __init__(self, greeting):
        self.greeting = greeting

    def greet(self, name):
        return f"{self.greeting}, {name}"


ray.init(num_cpus=2)
# The cluster's services (GCS, raylet: `moray` with --session-dir under MORAY_TMPDIR) must run the
# executable under <root> too (found beside libmoray, with no MORAY_BIN and no moray on PATH).
sessions = os.environ["MORAY_TMPDIR"]
services = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().decode(errors="replace").split("\0")
        if any(a.startswith(f"--session-dir={sessions}") for a in args):
            services.append(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        continue
if not services:
    sys.exit("FAIL: no service of the local cluster found")
for exe in services:
    under_root(exe, "a service's executable")
print("squares:", *ray.get([square.remote(i) for i in range(5)]))
greeter = Greeter.remote("hello")
print(ray.get(greeter.greet.remote("moray")))
ray.shutdown()
print("libmoray:", libmoray[0])
print("services ran:", *sorted(set(services)))
