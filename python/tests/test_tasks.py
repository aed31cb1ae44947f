import os
import sys
import threading
import time
import types

import pytest

import moray
from moray.exceptions import GetTimeoutError, RayTaskError


@moray.remote
def one():
    return 1


@moray.remote
def add(a, b=10):
    return a + b


@moray.remote
def divide(a, b):
    return a / b


def test_a_task_returns_its_value(cluster):
    assert moray.get(one.remote()) == 1


def test_positional_and_keyword_arguments(cluster):
    assert moray.get(add.remote(1)) == 11
    assert moray.get(add.remote(1, b=2)) == 3
    assert moray.get(add.remote(a=5, b=6)) == 11


def test_refs_as_arguments_are_resolved_and_chains_run(cluster):
    ref = one.remote()
    for _ in range(20):
        ref = add.remote(ref, 1)
    assert moray.get(ref) == 21


def test_refs_inside_lists_and_dicts_stay_refs(cluster):
    @moray.remote
    def total(holder):
        assert isinstance(holder["refs"][0], moray.ObjectRef)
        return sum(moray.get(holder["refs"]))

    refs = [moray.put(i) for i in range(5)]
    assert moray.get(total.remote({"refs": refs})) == 10


def test_a_ref_returned_inside_a_value_outlives_its_task(cluster):
    @moray.remote
    def make():
        return [moray.put("inner")]

    [inner] = moray.get(make.remote())
    assert moray.get(inner) == "inner"


def test_put_and_get_of_one_and_of_a_list(cluster):
    assert moray.get(moray.put(1)) == 1
    assert moray.get([moray.put(i) for i in range(3)]) == [0, 1, 2]
    value = {"a": [1, 2.5, "x"], "b": None}
    assert moray.get(moray.put(value)) == value


def test_get_with_a_timeout_raises_get_timeout_error(cluster):
    @moray.remote
    def sleepy():
        time.sleep(5)

    ref = sleepy.remote()
    started = time.monotonic()
    with pytest.raises(GetTimeoutError) as info:
        moray.get(ref, timeout=0.5)
    assert isinstance(info.value, TimeoutError)
    assert time.monotonic() - started < 4


def test_wait_returns_the_ready_ones_first(cluster):
    @moray.remote
    def sleep_for(seconds):
        time.sleep(seconds)
        return seconds

    slow = sleep_for.remote(10)
    fast = sleep_for.remote(0)
    ready, not_ready = moray.wait([slow, fast], num_returns=1, timeout=8)
    assert ready == [fast] and not_ready == [slow]
    ready, not_ready = moray.wait([slow], timeout=0.1)
    assert ready == [] and not_ready == [slow]
    with pytest.raises(ValueError):
        moray.wait([fast, fast])
    with pytest.raises(ValueError):
        moray.wait([fast], num_returns=2)


def test_a_remote_exception_is_also_the_original_type_and_shows_its_traceback(cluster):
    ref = divide.remote(1, 0)
    with pytest.raises(ZeroDivisionError) as info:
        moray.get(ref)
    assert isinstance(info.value, RayTaskError)
    text = str(info.value)
    assert "ZeroDivisionError" in text and "divide" in text and "line" in text


def test_a_user_exception_class_travels(cluster):
    class MyError(Exception):
        def __init__(self, code):
            super().__init__(f"code {code}")
            self.code = code

    @moray.remote
    def fail():
        raise MyError(7)

    with pytest.raises(MyError) as info:
        moray.get(fail.remote())
    assert info.value.code == 7


def test_calling_a_remote_function_directly_is_an_error(cluster):
    with pytest.raises(TypeError, match=r"one\.remote\(\)"):
        one()


def test_a_function_that_cannot_be_pickled_fails_at_the_call(cluster):
    lock = threading.Lock()

    @moray.remote
    def uses_lock():
        with lock:
            return 1

    with pytest.raises(TypeError, match="uses_lock"):
        uses_lock.remote()


def test_an_argument_that_cannot_be_pickled_fails_at_the_call(cluster):
    with pytest.raises(TypeError, match="lock"):
        add.remote(threading.Lock())


def test_a_worker_that_cannot_import_a_module_names_it(cluster):
    module = types.ModuleType("only_on_the_driver")
    exec("def helper():\n    return 5\n", module.__dict__)
    sys.modules["only_on_the_driver"] = module
    try:
        @moray.remote
        def needs_module():
            return module.helper()

        with pytest.raises(ModuleNotFoundError, match="only_on_the_driver"):
            moray.get(needs_module.remote())
    finally:
        del sys.modules["only_on_the_driver"]


def test_unknown_and_mistyped_options_are_errors(cluster):
    with pytest.raises(ValueError, match="num_cpu"):
        moray.remote(num_cpu=1)(lambda: 1)
    with pytest.raises(TypeError):
        one.options(max_retries="3")
    with pytest.raises(ValueError):
        one.options(num_cpus=-1)


def test_tasks_run_in_worker_processes_in_parallel(cluster):
    @moray.remote
    def pid_after(seconds):
        time.sleep(seconds)
        return os.getpid()

    started = time.monotonic()
    pids = moray.get([pid_after.remote(1.5) for _ in range(4)])
    assert time.monotonic() - started < 5.5
    assert os.getpid() not in pids
    assert len(set(pids)) >= 2


def test_nested_tasks(cluster):
    @moray.remote
    def outer(n):
        if n == 0:
            return 0
        return 1 + moray.get(outer.remote(n - 1))

    assert moray.get(outer.remote(3)) == 3


def test_a_redefined_function_runs_its_new_body(cluster):
    @moray.remote
    def version():
        return 1

    assert moray.get(version.remote()) == 1

    @moray.remote
    def version():  # noqa: F811
        return 2

    assert moray.get(version.remote()) == 2
