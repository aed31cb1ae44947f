#!/usr/bin/env python3
"""Writes Moray's wheel from an install prefix, with nothing but the standard library.

    cmake --install build --prefix STAGE --strip
    python3 python/build_wheel.py --prefix STAGE --out dist

The prefix is what `cmake --install` produced: the package in <libdir>/pythonX.Y/site-packages/moray
(Python sources and _moray_core), <libdir>/libmoray.so.N and bin/moray. The wheel holds

    moray/...                      the package as installed
    moray/_lib/libmoray.so.N       the library under its SONAME (the module's RUNPATH has $ORIGIN/_lib)
    moray/_lib/moray               the executable (its RUNPATH has $ORIGIN), beside libmoray, where
                                   libmoray looks for it when it starts a local cluster
    moray/share/moray/dashboard/   the dashboard's pages, found from the executable's location
    moray-V.dist-info/             METADATA, WHEEL, entry_points.txt (the `moray` console script,
                                   moray._private.cli:main, which runs moray/_lib/moray), RECORD

Its tag comes from the module's own suffix (cpython-311-x86_64-linux-gnu -> cp311-cp311-linux_x86_64):
a plain linux tag, not manylinux, because libmoray links the system's shared libraries (protobuf,
abseil, OpenSSL, ...) as Debian installs them. Prints the wheel's path.
"""

import argparse
import base64
import glob
import hashlib
import io
import os
import re
import stat
import sys
import zipfile

# Fixed timestamps make the same inputs give the same wheel (zip cannot go before 1980).
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _find_one(pattern, what):
    found = sorted(glob.glob(pattern))
    if len(found) != 1:
        sys.exit(f"build_wheel: expected one {what} ({pattern}), found {found or 'none'}")
    return found[0]


def _record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _Wheel:
    def __init__(self, path):
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.records = []

    def add(self, arcname, data, mode=0o644):
        info = zipfile.ZipInfo(arcname, date_time=_EPOCH)
        info.external_attr = (stat.S_IFREG | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data)
        self.records.append(f"{arcname},{_record_hash(data)},{len(data)}")

    def add_file(self, arcname, path):
        with open(path, "rb") as f:
            data = f.read()
        executable = os.stat(path).st_mode & 0o111
        self.add(arcname, data, 0o755 if executable else 0o644)

    def close(self, record_name):
        lines = self.records + [f"{record_name},,"]
        info = zipfile.ZipInfo(record_name, date_time=_EPOCH)
        info.external_attr = (stat.S_IFREG | 0o644) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, "\n".join(lines) + "\n")
        self.zip.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", required=True, help="a `cmake --install` prefix")
    parser.add_argument("--out", required=True, help="directory for the .whl")
    args = parser.parse_args()
    prefix = os.path.abspath(args.prefix)

    package = _find_one(os.path.join(prefix, "lib*", "python3.*", "site-packages", "moray"),
                        "installed moray package")
    module = _find_one(os.path.join(package, "_moray_core.*.so"), "_moray_core module")
    libdir = os.path.dirname(os.path.dirname(os.path.dirname(package)))  # <libdir>/pythonX.Y/site-packages
    # libmoray.so.N, the SONAME (a symlink to libmoray.so.N.M.P in an install), which the module needs.
    sonames = [p for p in glob.glob(os.path.join(libdir, "libmoray.so.*"))
               if re.fullmatch(r"libmoray\.so\.\d+", os.path.basename(p))]
    if len(sonames) != 1:
        sys.exit(f"build_wheel: expected one libmoray.so.N in {libdir}, found {sonames or 'none'}")
    library = sonames[0]
    executable = os.path.join(prefix, "bin", "moray")
    if not os.access(executable, os.X_OK):
        sys.exit(f"build_wheel: no executable {executable}")

    # _moray_core.cpython-311-x86_64-linux-gnu.so -> cp311, x86_64
    suffix = os.path.basename(module).split(".")[1]
    match = re.fullmatch(r"cpython-(\d+)-([a-z0-9_]+)-linux-gnu", suffix)
    if not match:
        sys.exit(f"build_wheel: cannot tell the tag from the module's name {os.path.basename(module)}")
    python_tag = f"cp{match.group(1)}"
    tag = f"{python_tag}-{python_tag}-linux_{match.group(2)}"
    major, minor = match.group(1)[0], match.group(1)[1:]

    with open(os.path.join(package, "__init__.py"), encoding="utf-8") as f:
        version = re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)

    os.makedirs(args.out, exist_ok=True)
    wheel_path = os.path.join(os.path.abspath(args.out), f"moray-{version}-{tag}.whl")
    dist_info = f"moray-{version}.dist-info"
    wheel = _Wheel(wheel_path)
    for root, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".pyc"):
                continue
            path = os.path.join(root, name)
            wheel.add_file("moray/" + os.path.relpath(path, package), path)
    # The library under the name the module asks for (its SONAME); a wheel holds no symlinks.
    wheel.add_file(f"moray/_lib/{os.path.basename(library)}", os.path.realpath(library))
    wheel.add_file("moray/_lib/moray", executable)
    # The dashboard's pages where the executable looks: share/moray/dashboard beside its directory.
    pages = os.path.join(prefix, "share", "moray", "dashboard")
    for name in sorted(os.listdir(pages)) if os.path.isdir(pages) else []:
        wheel.add_file(f"moray/share/moray/dashboard/{name}", os.path.join(pages, name))

    wheel.add(f"{dist_info}/METADATA", (
        "Metadata-Version: 2.1\n"
        "Name: moray\n"
        f"Version: {version}\n"
        "Summary: Ray's Python API over Moray, a C++20 distributed runtime\n"
        f"Requires-Python: =={major}.{minor}.*\n"
        "Requires-Dist: cloudpickle\n"
        "\n"
        "`import moray as ray`: remote functions, actors, objects and placement groups on a Moray "
        "cluster.\n").encode())
    wheel.add(f"{dist_info}/WHEEL", (
        "Wheel-Version: 1.0\n"
        "Generator: moray build_wheel.py\n"
        "Root-Is-Purelib: false\n"
        f"Tag: {tag}\n").encode())
    wheel.add(f"{dist_info}/entry_points.txt",
              b"[console_scripts]\nmoray = moray._private.cli:main\n")
    wheel.add(f"{dist_info}/top_level.txt", b"moray\n")
    wheel.close(f"{dist_info}/RECORD")
    print(wheel_path)


if __name__ == "__main__":
    main()
