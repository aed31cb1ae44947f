"""Several returns per task (num_returns, method(num_returns=)) and cancel."""

import os
import time

import pytest

import moray
from helpers import wait_for
from moray.exceptions import TaskCancelledError


def _running(name):
    running = moray.util.state.list_tasks(filters=[("state", "=", "RUNNING")])
    return any(task["name"].endswith(name) for task in running)


def test_num_returns_gives_one_ref_per_value(cluster):
    @moray.remote(num_returns=3)
    def three():
        return 1, "two", b"x" * (300 * 1024)  # the last one goes to the object store

    a, b, c = three.remote()
    assert moray.get([a, b]) == [1, "two"]
    assert len(moray.get(c)) == 300 * 1024


def test_num_returns_zero_and_a_wrong_count(cluster):
    @moray.remote(num_returns=0)
    def nothing():
        return None

    assert nothing.remote() is None

    @moray.remote(num_returns=2)
    def too_few():
        return (1,)

    first, second = too_few.remote()
    with pytest.raises(ValueError, match="num_returns=2"):
        moray.get(first)
    with pytest.raises(ValueError):
        moray.get(second)


def test_options_num_returns_and_actor_methods(cluster):
    @moray.remote
    def pair():
        return 1, 2

    x, y = pair.options(num_returns=2).remote()
    assert moray.get([x, y]) == [1, 2]

    @moray.remote
    class Splitter:
        @moray.method(num_returns=2)
        def split(self, word):
            return word[:2], word[2:]

        def whole(self, word):
            return word

    splitter = Splitter.remote()
    head, tail = splitter.split.remote("moray")
    assert moray.get([head, tail]) == ["mo", "ray"]
    assert moray.get(splitter.whole.remote("moray")) == "moray"
    one, two = splitter.whole.options(num_returns=2).remote("ab")
    assert moray.get([one, two]) == ["a", "b"]


def test_cancel_of_a_running_task_interrupts_it(cluster):
    @moray.remote(max_retries=3)
    def sleeper():
        time.sleep(120)
        return "finished"

    ref = sleeper.remote()
    # Wait until it runs (its worker started), then cancel.
    deadline = time.monotonic() + 60
    while not _running("sleeper"):
        assert time.monotonic() < deadline
        moray.wait([ref], timeout=0.2)
    started = time.monotonic()
    moray.cancel(ref)
    with pytest.raises(TaskCancelledError):
        moray.get(ref, timeout=60)
    assert time.monotonic() - started < 30  # not the 120 s sleep, and never retried


def test_cancel_of_a_queued_task(cluster):
    @moray.remote(num_cpus=4)
    def hog(seconds):
        time.sleep(seconds)
        return "hog"

    busy = hog.remote(3)
    queued = hog.remote(0)
    moray.cancel(queued)
    with pytest.raises(TaskCancelledError):
        moray.get(queued, timeout=30)
    assert moray.get(busy, timeout=60) == "hog"


def test_force_cancel_kills_the_worker(cluster, tmp_path):
    pid_file = tmp_path / "stubborn.pid"

    @moray.remote(max_retries=3)
    def stubborn(path):
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a plain cancel cannot reach it
        with open(path, "w") as f:
            f.write(str(os.getpid()))
        while True:
            time.sleep(0.05)

    ref = stubborn.remote(str(pid_file))
    deadline = time.monotonic() + 60
    while not _running("stubborn"):
        assert time.monotonic() < deadline
        moray.wait([ref], timeout=0.2)
    moray.cancel(ref, force=True)
    with pytest.raises(TaskCancelledError):
        moray.get(ref, timeout=60)
    killed = int(wait_for(pid_file.read_text, what="the task's pid"))
    wait_for(lambda: not os.path.exists(f"/proc/{killed}"), what="the worker to be killed")

    @moray.remote
    def after():
        return os.getpid()

    assert moray.get(after.remote(), timeout=60) != killed  # the cluster goes on, elsewhere


def test_cancel_of_a_finished_task_is_harmless(cluster):
    @moray.remote
    def quick():
        return 5

    ref = quick.remote()
    assert moray.get(ref) == 5
    moray.cancel(ref)
    assert moray.get(ref) == 5
    with pytest.raises(TypeError):
        moray.cancel("not a ref")
