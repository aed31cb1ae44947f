"""Python calling C++ (moray.cross_language; docs/python.md, "Across languages"): functions and an
actor registered with RAY_REMOTE in tests/cross_language/cpp_functions.cc, a library the job
names in its code_search_path and its C++ workers (`moray worker`) load."""

import os

import pytest

import moray
from moray.exceptions import ActorDiedError, CrossLanguageError
from moray.job_config import JobConfig


def _library():
    found = os.environ.get("MORAY_XLANG_TEST_LIBRARY")
    if found:
        return found
    # <build>/python/moray/__init__.py -> <build>/tests/cross_language_lib/...
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(moray.__file__))))
    return os.path.join(build, "tests", "cross_language_lib", "libcross_language_functions.so")


@pytest.fixture(scope="module")
def cpp_cluster():
    library = _library()
    if not os.path.exists(library):
        pytest.skip(f"the test library {library} is not built")
    info = moray.init(num_cpus=2, job_config=JobConfig(code_search_path=[library]))
    yield info
    moray.shutdown()


def test_cpp_function(cpp_cluster):
    plus = moray.cross_language.cpp_function("Plus")
    assert moray.get(plus.remote(1, 2)) == 3
    assert moray.get(plus.options(name="plus").remote(moray.get(plus.remote(1, 1)), 40)) == 42
    assert moray.get(moray.cross_language.cpp_function("Echo").remote("hello")) == "hello"
    assert moray.get(moray.cross_language.cpp_function("Sum").remote([1, 2, 3, 4])) == 10
    # A C++ result passed on by reference to another C++ call.
    assert moray.get(plus.remote(plus.remote(2, 3), 5)) == 10


def test_cpp_actor(cpp_cluster):
    counter = moray.cross_language.cpp_actor_class(
        "RAY_FUNC(Counter::FactoryCreate)", "Counter").remote()
    assert moray.get(counter.Plus.remote(5)) == 5
    assert moray.get(counter.Plus.remote(2)) == 7
    assert moray.get(counter.Get.remote()) == 7
    # The registered name as is.
    assert moray.get(getattr(counter, "&Counter::Get").remote()) == 7
    started = moray.cross_language.cpp_actor_class(
        "RAY_FUNC(Counter::FactoryCreate, int)", "Counter").remote(100)
    assert moray.get(started.Plus.remote(1)) == 101
    moray.kill(started)


def test_cpp_errors(cpp_cluster):
    with pytest.raises(CrossLanguageError, match="ThrowTask failed on purpose"):
        moray.get(moray.cross_language.cpp_function("ThrowTask").remote())
    with pytest.raises(CrossLanguageError, match="NotRegistered"):
        moray.get(moray.cross_language.cpp_function("NotRegistered").remote())
    with pytest.raises(CrossLanguageError):
        moray.get(moray.cross_language.cpp_function("Plus").remote("not an int", 1))
    with pytest.raises(TypeError, match="msgpack"):
        moray.cross_language.cpp_function("Plus").remote(object(), 1)
    with pytest.raises(TypeError, match="keyword"):
        moray.cross_language.cpp_function("Plus").remote(a=1, b=2)
    counter = moray.cross_language.cpp_actor_class(
        "RAY_FUNC(Counter::FactoryCreate)", "Counter").remote()
    with pytest.raises(CrossLanguageError, match="NoSuchMethod"):
        moray.get(counter.NoSuchMethod.remote())
    missing = moray.cross_language.cpp_actor_class("NoSuchFactory", "Counter").remote()
    with pytest.raises(ActorDiedError):
        moray.get(missing.Get.remote())
