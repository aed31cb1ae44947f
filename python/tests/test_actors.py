import asyncio
import os
import threading
import time

import pytest

import moray
from moray.exceptions import RayActorError


@moray.remote
class Counter:
    def __init__(self, start=0):
        self.value = start

    def increment(self):
        self.value += 1
        return self.value

    def get_counter(self):
        return self.value

    def pid(self):
        return os.getpid()

    def fail(self):
        raise ValueError("actor method failed")


def test_an_actor_keeps_its_state_and_runs_calls_in_order(cluster):
    counter = Counter.remote()
    refs = [counter.increment.remote() for _ in range(50)]
    assert moray.get(refs) == list(range(1, 51))
    assert moray.get(counter.get_counter.remote()) == 50


def test_constructor_arguments_and_its_own_process(cluster):
    counter = Counter.remote(start=10)
    assert moray.get(counter.increment.remote()) == 11
    assert moray.get(counter.pid.remote()) != os.getpid()


def test_a_method_exception_keeps_the_actor_alive(cluster):
    counter = Counter.remote()
    with pytest.raises(ValueError, match="actor method failed"):
        moray.get(counter.fail.remote())
    assert moray.get(counter.increment.remote()) == 1


def test_instantiating_or_calling_directly_is_an_error(cluster):
    with pytest.raises(TypeError, match=r"Counter\.remote\(\)"):
        Counter()
    counter = Counter.remote()
    with pytest.raises(TypeError, match=r"increment\.remote\(\)"):
        counter.increment()


def test_named_actors_and_get_actor(cluster):
    original = Counter.options(name="shared").remote()  # a named actor lives while handles do
    found = moray.get_actor("shared")
    assert moray.get(found.increment.remote()) == 1
    with pytest.raises(ValueError):
        moray.get_actor("nobody")
    again = Counter.options(name="shared", get_if_exists=True).remote()
    assert moray.get(again.increment.remote()) == 2
    with pytest.raises(ValueError):
        Counter.options(name="shared").remote()
    assert moray.get(original.get_counter.remote()) == 2


def test_kill_ends_the_actor(cluster):
    counter = Counter.remote()
    assert moray.get(counter.increment.remote()) == 1
    moray.kill(counter)
    with pytest.raises(RayActorError):
        for _ in range(50):
            moray.get(counter.increment.remote(), timeout=10)
            time.sleep(0.1)


def test_handles_pass_to_tasks(cluster):
    counter = Counter.remote()

    @moray.remote
    def bump(handle, times):
        return moray.get([handle.increment.remote() for _ in range(times)])[-1]

    assert moray.get(bump.remote(counter, 5)) == 5
    assert moray.get(counter.get_counter.remote()) == 5


def test_a_threaded_actor_runs_calls_at_once(cluster):
    @moray.remote(max_concurrency=4)
    class Gate:
        def __init__(self):
            self.barrier = threading.Barrier(4, timeout=20)

        def meet(self):
            self.barrier.wait()  # raises BrokenBarrierError unless all four calls run at once
            return True

    gate = Gate.remote()
    assert all(moray.get([gate.meet.remote() for _ in range(4)], timeout=60))


def test_an_async_actor_interleaves_awaits(cluster):
    @moray.remote
    class AsyncGate:
        def __init__(self):
            self.event = None
            self.arrived = 0

        async def meet(self, n):
            if self.event is None:
                self.event = asyncio.Event()
            self.arrived += 1
            if self.arrived == n:
                self.event.set()
            await asyncio.wait_for(self.event.wait(), 20)
            return self.arrived

    gate = AsyncGate.remote()
    assert moray.get([gate.meet.remote(3) for _ in range(3)], timeout=60) == [3, 3, 3]


def test_an_async_actor_awaits_refs(cluster):
    @moray.remote
    def value():
        return 41

    @moray.remote
    class Awaiter:
        async def plus_one(self, holder):
            return await holder[0] + 1

    awaiter = Awaiter.remote()
    assert moray.get(awaiter.plus_one.remote([value.remote()])) == 42
