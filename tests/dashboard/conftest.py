"""A real `moray start --head` cluster for the dashboard's tests: free ports, its own session
root (MORAY_TMPDIR, so `moray stop` ends only it) and its own token; stopped at the session's end
even when a test fails."""

import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

import pytest

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


def wait_for(condition, timeout=60, what="condition"):
    """Polls `condition` until it returns something true (its result); fails at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


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
