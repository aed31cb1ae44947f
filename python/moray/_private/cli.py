"""The `moray` console script of the wheel: runs the moray executable shipped in moray/_lib.

An install from CMake has <prefix>/bin/moray instead and does not use this.
"""

import os
import sys


def executable():
    """The moray executable beside the wheel's libmoray, or MORAY_BIN when that is set."""
    from_env = os.environ.get("MORAY_BIN")
    if from_env:
        return from_env
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(package, "_lib", "moray")


def main():
    path = executable()
    if not os.access(path, os.X_OK):
        sys.exit(f"moray: no executable at {path} (this package was not installed from the wheel; "
                 f"set MORAY_BIN to the moray executable)")
    os.execv(path, ["moray"] + sys.argv[1:])
