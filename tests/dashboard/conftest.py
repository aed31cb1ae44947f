"""A real `moray start --head` cluster for the dashboard's tests: free ports, its own session
root (MORAY_TMPDIR, so `moray stop` ends only it) and its own token; stopped at the session's end
even when a test fails."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

import pytest

# The suite's one wait_for (python/tests/helpers.py), re-exported for the dashboard's tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python",
                                "tests"))
from helpers import wait_for  # noqa: E402,F401

MORAY = os.environ.get("MORAY_BIN", "moray")
TOKEN = "dashboard-test-token-" + os.urandom(8).hex()


def run_moray(args, env, timeout=120):
    return subprocess.run([MORAY, *args], env=env, capture_output=True, text=True, timeout=timeout)


class Cluster:
    def __init__(self, root, env, gcs, url, start_output):
        self.root = root
        self.env = env
        self.gcs = gcs
        self.url = url
        self.start_output = start_output


@pytest.fixture(scope="session")
def cluster():
    root = tempfile.mkdtemp(prefix="moray-dashboard-test-")
    env = dict(os.environ, MORAY_TMPDIR=root, RAY_AUTH_TOKEN=TOKEN, HOME=root)
    env.pop("RAY_ADDRESS", None)
    env.pop("RAY_AUTH_MODE", None)
    started = run_moray(["start", "--head", "--port=0", "--node-manager-port=0",
                         "--dashboard-port=0", "--num-cpus=4"], env)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        gcs = re.search(r"GCS address: (\S+)", started.stdout).group(1)
        url = re.search(r"Dashboard: (http://\S+)", started.stdout).group(1)
        # Everything the tests run (drivers, moray.init) joins this cluster with this token.
        os.environ.update(MORAY_TMPDIR=root, RAY_AUTH_TOKEN=TOKEN, HOME=root)
        os.environ.pop("RAY_AUTH_MODE", None)
        yield Cluster(root, env, gcs, url, started.stdout)
    finally:
        run_moray(["stop"], env)
        shutil.rmtree(root, ignore_errors=True)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http(url, method="GET", headers=None, data=None):
    """(status, headers, body) without following redirects or raising on 4xx/5xx."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
