"""Third-party modules moray needs, found where Debian installs them if not on sys.path.

Debian's python3-cloudpickle and python3-numpy live in /usr/lib/python3/dist-packages, which an
interpreter other than Debian's own does not search. When an import fails there, that directory
is appended to sys.path (after everything else, so nothing the user has is shadowed) and the
import is tried again.
"""

import importlib
import os
import sys

_DEBIAN_DIST_PACKAGES = "/usr/lib/python3/dist-packages"


def require(name, package):
    try:
        return importlib.import_module(name)
    except ImportError:
        if os.path.isdir(_DEBIAN_DIST_PACKAGES) and _DEBIAN_DIST_PACKAGES not in sys.path:
            sys.path.append(_DEBIAN_DIST_PACKAGES)
            try:
                return importlib.import_module(name)
            except ImportError:
                pass
        raise ImportError(
            f"moray needs the '{name}' module: install it with `apt-get install {package}` "
            f"or `pip install {name}`") from None


cloudpickle = require("cloudpickle", "python3-cloudpickle")
