"""Ctrl-C interrupts a driver blocked in get (the GIL rules of docs/python.md)."""

import os
import select
import signal
import subprocess
import sys

DRIVER = r"""
import sys, time
import moray

moray.init(num_cpus=1)

@moray.remote
def forever():
    time.sleep(600)

ref = forever.remote()
try:
    print("waiting", flush=True)  # inside the try: a signal from now on is caught below
    moray.get(ref)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    moray.shutdown()
    sys.exit(0)
sys.exit(1)
"""


def test_ctrl_c_interrupts_a_blocked_get():
    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, "-c", DRIVER], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)  # bounded: never hangs the suite
        assert ready and proc.stdout.readline().strip() == "waiting"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "interrupted" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
