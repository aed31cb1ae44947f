"""Calling C++ from Python (Ray's ray.cross_language; docs/python.md, "Across languages").

    moray.init(job_config=moray.job_config.JobConfig(code_search_path=["/path/libfunctions.so"]))
    sum = moray.cross_language.cpp_function("Plus").remote(1, 2)          # RAY_REMOTE(Plus)
    counter = moray.cross_language.cpp_actor_class(
        "RAY_FUNC(Counter::FactoryCreate)", "Counter").remote(10)       # the factory's RAY_REMOTE name
    moray.get(counter.Plus.remote(5))                                     # &Counter::Plus

Names are the ones RAY_REMOTE registered (the stringized arguments). A method `name` of the
handle calls `&<class_name>::<name>`; a name with `::` in it (`getattr(handle,
"&Counter::Plus")`) is used as is. Arguments and results are msgpack: None, bool, int, float,
str, bytes, lists/tuples and dicts of them (results come back as lists and dicts); an argument
with no msgpack form raises TypeError at `.remote()`. Keyword arguments cannot be passed. A C++
exception, a function that is not registered in the job's libraries and arguments the C++
function cannot read raise `moray.exceptions.CrossLanguageError` from `get`.
"""

from moray import _moray_core as core
from moray._private import calls, options as opts
from moray.actor import ActorHandle
from moray.object_ref import ObjectRef

__all__ = ["cpp_function", "cpp_actor_class"]

_CPP_TASK_OPTIONS = opts.TASK_OPTIONS - {"num_returns"}


def cpp_function(function_name):
    """A C++ function registered with RAY_REMOTE under `function_name`."""
    if not isinstance(function_name, str) or not function_name:
        raise ValueError("cpp_function needs the function's registered name")
    return CppFunction(function_name, {})


def cpp_actor_class(create_function_name, class_name):
    """A C++ actor class: created by the factory registered as `create_function_name`, whose
    methods are registered as `&<class_name>::<method>`."""
    for what, value in (("create_function_name", create_function_name),
                        ("class_name", class_name)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"cpp_actor_class needs a non-empty {what}")
    return CppActorClass(create_function_name, class_name, {})


def _msgpack_args(args, kwargs, what):
    if kwargs:
        raise TypeError(f"{what}: C++ functions take no keyword arguments")
    packed = []
    for index, value in enumerate(args):
        if isinstance(value, ObjectRef):
            packed.append((True, value.binary()))
            continue
        try:
            packed.append((False, core.to_msgpack(value)))
        except (TypeError, ValueError) as e:
            raise TypeError(f"{what}: argument {index + 1} cannot be passed to C++ (msgpack): "
                            f"{e}") from None
    return packed


def _check_connected():
    from moray.remote_function import _check_connected as check

    check()


class CppFunction:
    def __init__(self, function_name, options):
        opts.check(options, _CPP_TASK_OPTIONS, "a C++ function")
        self._function_name = function_name
        self._options = dict(options)

    def __call__(self, *args, **kwargs):
        raise TypeError(f"Remote functions cannot be called directly. Instead of running "
                        f"'{self._function_name}()', try '.remote()'.")

    def options(self, **options):
        merged = dict(self._options)
        merged.update(options)
        return CppFunction(self._function_name, merged)

    def remote(self, *args, **kwargs):
        _check_connected()
        packed = _msgpack_args(args, kwargs, self._function_name)
        options = opts.task_options(self._options, self._function_name, num_returns=1)
        ids = core.submit_cpp_task(self._function_name, packed, options)
        return calls.refs_of(ids, 1)

    def __repr__(self):
        return f"CppFunction({self._function_name})"


class CppActorClass:
    def __init__(self, create_function_name, class_name, options):
        opts.check(options, opts.ACTOR_OPTIONS, "a C++ actor class")
        self._factory = create_function_name
        self._class_name = class_name
        self._options = dict(options)

    def __call__(self, *args, **kwargs):
        raise TypeError(f"Actors cannot be instantiated directly. Instead of "
                        f"'{self._class_name}()', use '.remote()'.")

    def options(self, **options):
        merged = dict(self._options)
        merged.update(options)
        return CppActorClass(self._factory, self._class_name, merged)

    def remote(self, *args, **kwargs):
        _check_connected()
        packed = _msgpack_args(args, kwargs, self._factory)
        options = opts.actor_options(self._options, default_concurrency=1)
        actor_id = core.create_cpp_actor(self._factory, self._class_name, packed, options)
        return CppActorHandle(actor_id, self._class_name)

    def __repr__(self):
        return f"CppActorClass({self._factory}, {self._class_name})"


class CppActorHandle(ActorHandle):
    """A handle to a C++ actor: `handle.Method.remote(...)` calls `&<class_name>::Method`."""

    def __init__(self, actor_id, class_name):
        super().__init__(actor_id, class_name, {})

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        registered = name if "::" in name else f"&{self._class_name}::{name}"
        return CppActorMethod(self, registered)

    def __repr__(self):
        return f"CppActor({self._class_name}, {self._actor_id.hex()})"

    def __reduce__(self):
        return _rebuild_cpp_handle, (self._actor_id, core.owner_address(self._actor_id),
                                     self._class_name)


def _rebuild_cpp_handle(actor_id, owner_address, class_name):
    if owner_address:
        core.register_borrowed(actor_id, owner_address)
    return CppActorHandle(actor_id, class_name)


class CppActorMethod:
    def __init__(self, handle, method_name, options=None):
        self._handle = handle
        self._method_name = method_name
        self._options = dict(options or {})

    def __call__(self, *args, **kwargs):
        raise TypeError(f"Actor methods cannot be called directly. Instead of running "
                        f"'{self._method_name}()', try '.remote()'.")

    def options(self, **options):
        opts.check(options, {"name"}, "a C++ actor method")
        merged = dict(self._options)
        merged.update(options)
        return CppActorMethod(self._handle, self._method_name, merged)

    def remote(self, *args, **kwargs):
        packed = _msgpack_args(args, kwargs, self._method_name)
        options = {"num_returns": 1, "name": self._options.get("name") or self._method_name}
        ids = core.submit_cpp_actor_task(self._handle._actor_id, self._method_name, packed,
                                         options)
        return calls.refs_of(ids, 1)
