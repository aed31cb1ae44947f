"""System failures surface as Ray's exception types, each naming its cause."""

import os

import pytest

import moray
from moray.exceptions import RayActorError, WorkerCrashedError


def test_a_crashed_worker_is_a_worker_crashed_error(cluster):
    @moray.remote(max_retries=0)
    def crash():
        os._exit(3)

    with pytest.raises(WorkerCrashedError):
        moray.get(crash.remote(), timeout=60)


def test_a_crashed_worker_is_retried(cluster, tmp_path):
    marker = tmp_path / "attempted"

    @moray.remote(max_retries=2)
    def crash_once(path):
        if not os.path.exists(path):
            open(path, "w").close()
            os._exit(3)
        return "second attempt"

    assert moray.get(crash_once.remote(str(marker)), timeout=60) == "second attempt"


def test_an_exception_is_retried_only_with_retry_exceptions(cluster, tmp_path):
    marker = tmp_path / "raised"

    @moray.remote(max_retries=2, retry_exceptions=True)
    def flaky(path):
        if not os.path.exists(path):
            open(path, "w").close()
            raise RuntimeError("first attempt fails")
        return "retried"

    assert moray.get(flaky.remote(str(marker)), timeout=60) == "retried"


def test_an_actor_whose_constructor_raises_is_dead_with_the_cause(cluster):
    @moray.remote
    class Broken:
        def __init__(self):
            raise ValueError("constructor refused")

        def ping(self):
            return "pong"

    broken = Broken.remote()
    with pytest.raises(RayActorError, match="constructor refused"):
        moray.get(broken.ping.remote(), timeout=60)


def test_an_actor_that_exits_its_process_is_an_actor_error(cluster):
    @moray.remote(max_restarts=0)
    class Fragile:
        def die(self):
            os._exit(1)

        def ping(self):
            return "pong"

    fragile = Fragile.remote()
    assert moray.get(fragile.ping.remote(), timeout=60) == "pong"
    with pytest.raises(RayActorError):
        moray.get(fragile.die.remote(), timeout=60)
    with pytest.raises(RayActorError):
        moray.get(fragile.ping.remote(), timeout=60)


def test_a_restartable_actor_comes_back(cluster):
    @moray.remote(max_restarts=1, max_task_retries=0)
    class Phoenix:
        def pid(self):
            return os.getpid()

        def die(self):
            os._exit(1)

    phoenix = Phoenix.remote()
    first = moray.get(phoenix.pid.remote(), timeout=60)
    with pytest.raises(RayActorError):
        moray.get(phoenix.die.remote(), timeout=60)
    second = None
    for _ in range(100):
        try:
            second = moray.get(phoenix.pid.remote(), timeout=60)
            break
        except RayActorError:
            continue  # calls made while it restarts may fail
    assert second is not None and second != first
