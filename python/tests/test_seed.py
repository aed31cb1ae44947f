"""The primer's Python examples (../shared/seed/ray-core-primer.txt) as programs in seed/, each run
as its own `python3` process, and the CLI the primer shows (`moray summary tasks`, `moray list
actors`) against a `moray start --head` cluster that a driver running those examples joined.

Every program and cluster runs in a sandbox: its own MORAY_TMPDIR (sessions) and HOME (the
cluster token); whatever is still running there at the end (found by that MORAY_TMPDIR in a
process's environment) is stopped, even when a test fails.
"""

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

import moray
from helpers import wait_for

SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed")
# <build>/python/moray/__init__.py -> <build>/bin/moray
MORAY_BIN = os.environ.get("MORAY_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(moray.__file__)))),
    "bin", "moray")
DEADLINE_S = 60


def processes_of(root):
    """Pids of live processes whose environment has MORAY_TMPDIR=root (ours, nobody else's)."""
    needle = f"MORAY_TMPDIR={root}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    pids.append(int(entry))
        except OSError:
            pass
    return pids


class Sandbox:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="moray-seed-")  # short: socket paths live under it
        home = os.path.join(self.root, "home")
        os.mkdir(home, 0o700)
        # The programs run elsewhere (cwd: the sandbox): this moray first, paths made absolute.
        path = [os.path.dirname(os.path.dirname(os.path.abspath(moray.__file__)))]
        path += [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(":") if p]
        self.env = dict(os.environ, MORAY_TMPDIR=self.root, HOME=home,
                        PYTHONPATH=":".join(path))
        for name in ("RAY_ADDRESS", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
            self.env.pop(name, None)

    def moray(self, *args, timeout=DEADLINE_S):
        return subprocess.run([MORAY_BIN, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def clean_up(self):
        for pid in processes_of(self.root):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def sandbox():
    box = Sandbox()
    try:
        yield box
    finally:
        box.clean_up()


def run_program(sandbox, name, timeout=120):
    return subprocess.run([sys.executable, os.path.join(SEED, name)], env=sandbox.env,
                          capture_output=True, text=True, timeout=timeout, cwd=sandbox.root)


@pytest.mark.parametrize("name, expected", [
    ("tasks.py", ""),
    ("actors.py", ""),
    ("objects.py", "`get` timed out.\n"),
    ("placement_groups.py",
     "placement group CREATED\n"
     "task in bundle 0: 9\n"
     "actor in bundle 1: [1, 3, 6]\n"
     "placement group REMOVED\n"
     "outside the group: 16\n"),
    ("runtime_env.py",
     "task: ('hello', 'hello from the working_dir')\n"
     "task with its own env_vars: hi\n"
     "actor: bonjour\n"),
])
def test_seed_program(sandbox, name, expected):
    started = time.monotonic()
    result = run_program(sandbox, name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected, result.stderr
    if name == "objects.py":
        # `get` waited its 4 s before timing out; the program did not wait for the 8 s task.
        assert 4 <= time.monotonic() - started


def summary_counts(text):
    """`moray summary tasks`'s table as {func_or_class_name: {state: count}}."""
    counts, name = {}, None
    in_table = False
    for line in text.splitlines():
        if "FUNC_OR_CLASS_NAME" in line:
            in_table = True
            continue
        if not in_table or not line.strip():
            continue
        row = re.match(r"^(\d+)\s+(\S+)\s+", line)
        if row:
            name = row.group(2)
            counts.setdefault(name, {})
        for state, count in re.findall(r"([A-Z_]+): (\d+)", line):
            counts[name][state] = counts[name].get(state, 0) + int(count)
    return counts


@pytest.fixture(scope="module")
def head():
    """A `moray start --head` cluster (any free ports), stopped at the module's end. Six CPUs:
    the four slow_function tasks and the Counter actor all start at once (with fewer, the actor
    would wait 10 s for a slow_function to end)."""
    box = Sandbox()
    try:
        started = box.moray("start", "--head", "--port=0", "--num-cpus=6", "--dashboard-port=0")
        assert started.returncode == 0, started.stdout + started.stderr
        address = re.search(r"GCS address: (\S+)", started.stdout).group(1)
        yield box, address
    finally:
        try:
            stopped = box.moray("stop")
            assert stopped.returncode == 0, stopped.stderr
        finally:
            box.clean_up()


class Driver:
    """cli_driver.py joined to the cluster; reads one JSON line per answer, with a deadline."""

    def __init__(self, box, address):
        env = dict(box.env, RAY_ADDRESS=address)
        self.proc = subprocess.Popen([sys.executable, os.path.join(SEED, "cli_driver.py")],
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=box.root)

    def read(self, timeout=DEADLINE_S):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.proc.kill()
            pytest.fail(f"the driver said nothing within {timeout} s; stderr: "
                        f"{self.proc.stderr.read()}")
        return json.loads(line)

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        try:
            self.proc.stdin.write("exit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=DEADLINE_S)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def test_cli_shows_the_seed_tasks_and_actor(head):
    box, address = head
    driver = Driver(box, address)
    try:
        job_id = driver.read()["job_id"]

        # Task events reach the GCS in batches: wait until the summary has all five tasks.
        def summary():
            r = box.moray("summary", "tasks", "--address", address)
            assert r.returncode == 0, r.stderr
            counts = summary_counts(r.stdout)
            done = (counts.get("my_function") == {"FINISHED": 1} and
                    sum(counts.get("slow_function", {}).values()) == 4)
            return (r.stdout, counts) if done else None

        text, counts = wait_for(summary, what="my_function and slow_function in the summary")
        assert "total_tasks:" in text and "NORMAL_TASK" in text

        r = box.moray("list", "actors", "--address", address, "--format", "json")
        assert r.returncode == 0, r.stderr
        counters = [a for a in json.loads(r.stdout) if a["class_name"] == "Counter"]
        assert len(counters) == 1
        counter = counters[0]
        assert counter["state"] == "ALIVE"
        assert counter["job_id"] == job_id
        assert isinstance(counter["pid"], int) and counter["pid"] > 0
        table = box.moray("list", "actors", "--address", address).stdout
        row = next(line for line in table.splitlines() if "Counter" in line)
        assert "ALIVE" in row and job_id in row and str(counter["pid"]) in row

        # moray.util.state in the connected driver agrees with the CLI.
        state = driver.ask("state")
        assert len(state["actors"]) == 1
        for key in ("actor_id", "class_name", "state", "job_id", "pid", "node_id"):
            assert state["actors"][0][key] == counter[key], key
        summary_now = state["tasks"]["cluster"]["summary"]
        assert summary_now["my_function"]["state_counts"] == {"FINISHED": 1}
        assert summary_now["my_function"]["type"] == "NORMAL_TASK"
        assert sum(summary_now["slow_function"]["state_counts"].values()) == 4
        assert state["tasks"]["cluster"]["total_tasks"] >= 5
        assert set(counts) <= set(summary_now)  # later events may only add names
        [task] = state["my_function"]
        assert task["state"] == "FINISHED" and task["job_id"] == job_id
        assert "error_message" in task  # detail=True: every column

        # ... and so does a process that is not connected, given the GCS address.
        code = ("import json; from moray.util.state import list_actors\n"
                f"print(json.dumps(list_actors(address={address!r}, "
                "filters=[('class_name', '=', 'Counter'), ('state', '=', 'ALIVE')])))")
        r = subprocess.run([sys.executable, "-c", code], env=box.env, capture_output=True,
                           text=True, timeout=DEADLINE_S)
        assert r.returncode == 0, r.stderr
        [outside] = json.loads(r.stdout)
        assert outside["actor_id"] == counter["actor_id"] and outside["pid"] == counter["pid"]
    finally:
        driver.close()
