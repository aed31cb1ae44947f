"""Worker output in a Python driver (docs/observability.md, "Logs"): a task's and an actor's
prints reach the driver's stdout and stderr prefixed "(name pid=N)", a line printed by several
workers is folded, and log_to_driver=False turns it off. Each driver is its own process (it
starts its own private cluster), so its stdout is what the test reads."""

import os
import re
import subprocess
import sys

DRIVER = r"""
import os, sys, time
import moray

moray.init(num_cpus=4, log_to_driver=sys.argv[1] == "on")

@moray.remote
def shout(i):
    print("task says hello", flush=True)
    print("task warns", file=sys.stderr, flush=True)
    return os.getpid()

@moray.remote
class Greeter:
    def greet(self):
        print("actor greets", flush=True)
        return os.getpid()

    def same(self):
        print("the same line everywhere", flush=True)
        return os.getpid()

task_pid = moray.get(shout.remote(0))
greeter = Greeter.remote()
actor_pid = moray.get(greeter.greet.remote())
others = [Greeter.remote() for _ in range(3)]
moray.get([g.same.remote() for g in others])
print(f"pids task={task_pid} actor={actor_pid}", flush=True)
# Stay until the test has read what it waits for (stdin closes), at most 60 s.
import select
select.select([sys.stdin], [], [], 60)
moray.shutdown()
"""


def run_driver(mode, wanted):
    """Runs the driver until its stdout has every `wanted` pattern (or 60 s), then lets it go."""
    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, mode], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out_lines, err_lines = [], []
    try:
        import select
        import time

        deadline = time.monotonic() + 90
        streams = {proc.stdout: out_lines, proc.stderr: err_lines}
        while time.monotonic() < deadline and streams:
            text = "".join(out_lines)
            if all(re.search(p, text) for p in wanted):
                break
            ready, _, _ = select.select(list(streams), [], [], 1)
            for stream in ready:
                line = stream.readline()
                if line:
                    streams[stream].append(line)
                else:
                    del streams[stream]
        proc.stdin.close()
        out, err = proc.communicate(timeout=60)
        out_lines.append(out)
        err_lines.append(err)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, "".join(out_lines), "".join(err_lines)


def test_worker_lines_reach_the_python_driver_prefixed_and_folded():
    code, out, err = run_driver("on", [r"pids task=\d+ actor=\d+",
                                       r"\[repeated 2x across cluster\]"])
    assert code == 0, err
    m = re.search(r"pids task=(\d+) actor=(\d+)", out)
    assert m, out
    task_pid, actor_pid = m.group(1), m.group(2)
    assert f"(shout pid={task_pid}) task says hello" in out, out
    assert f"(shout pid={task_pid}) task warns" in err, err
    assert f"(Greeter pid={actor_pid}) actor greets" in out, out
    assert "the same line everywhere [repeated 2x across cluster]" in out, out
    plain = [l for l in out.splitlines() if l.endswith(") the same line everywhere")]
    assert len(plain) == 1, out
    assert "\x1e" not in out + err


def test_log_to_driver_false_prints_no_worker_lines():
    code, out, err = run_driver("off", [r"pids task=\d+ actor=\d+"])
    assert code == 0, err
    assert "task says hello" not in out and "task warns" not in err, out + err
