"""@remote on a class: ActorClass, ActorHandle and ActorMethod."""

import inspect

from moray import _moray_core as core
from moray._private import calls, functions, options as opts, state


def method(*args, **kwargs):
    """@moray.method(num_returns=N): options of an actor method."""
    def decorate(fn):
        opts.check(kwargs, opts.METHOD_OPTIONS, "an actor method")
        fn.__moray_method_options__ = dict(kwargs)
        return fn

    if len(args) == 1 and callable(args[0]) and not kwargs:
        raise TypeError("@moray.method needs options, e.g. @moray.method(num_returns=2)")
    return decorate


def _method_options(cls):
    out = {}
    for name, member in inspect.getmembers(cls):
        found = getattr(member, "__moray_method_options__", None)
        if found:
            out[name] = found
    return out


def is_async_class(cls):
    return any(inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member)
               for _, member in inspect.getmembers(cls))


class ActorClass:
    def __init__(self, cls, options):
        opts.check(options, opts.ACTOR_OPTIONS, "an actor class")
        self._cls = cls
        self._options = dict(options)
        self.__name__ = cls.__name__
        self.__qualname__ = cls.__qualname__
        self.__module__ = cls.__module__
        self.__doc__ = cls.__doc__

    def __call__(self, *args, **kwargs):
        raise TypeError(
            f"Actors cannot be instantiated directly. Instead of '{self.__name__}()', use "
            f"'{self.__name__}.remote()'.")

    def options(self, **options):
        merged = dict(self._options)
        merged.update(options)
        return ActorClass(self._cls, merged)

    def remote(self, *args, **kwargs):
        from moray.remote_function import _check_connected

        _check_connected()
        call = self._call
        if call is None or call[0] != state.info["job_id"]:
            call = self._call = (state.info["job_id"], *self._prepare())
        packed, kwarg_names = calls.pack_args(args, kwargs)
        actor_id = core.create_actor(call[1], kwarg_names, packed, call[2])
        return ActorHandle(actor_id, self.__qualname__, call[3])

    _call = None  # (job id, class, core options, method options): what every creation repeats

    def _prepare(self):
        key = functions.export(self._cls, "actor class")
        options = opts.actor_options(self._options,
                                     default_concurrency=1000 if is_async_class(self._cls) else 1)
        return (self.__module__ or "", self.__qualname__, key), options, _method_options(self._cls)


class ActorHandle:
    def __init__(self, actor_id, class_name, method_options):
        self._actor_id = actor_id
        self._class_name = class_name
        self._method_options = method_options
        core.add_reference(actor_id)

    def __del__(self):
        try:
            core.remove_reference(self._actor_id)
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        method = ActorMethod(self._actor_id, self._class_name, name,
                             self._method_options.get(name, {}))
        # Later lookups find it without __getattr__. The method holds the id, not the handle:
        # a cycle would keep the handle (and so the actor) alive until a garbage collection.
        self.__dict__[name] = method
        return method

    def __repr__(self):
        return f"Actor({self._class_name}, {self._actor_id.hex()})"

    def __eq__(self, other):
        return isinstance(other, ActorHandle) and other._actor_id == self._actor_id

    def __hash__(self):
        return hash(self._actor_id)

    def __reduce__(self):
        return _rebuild_handle, (self._actor_id, core.owner_address(self._actor_id),
                                 self._class_name, self._method_options)


def _rebuild_handle(actor_id, owner_address, class_name, method_options):
    if owner_address:
        core.register_borrowed(actor_id, owner_address)
    return ActorHandle(actor_id, class_name, method_options)


class ActorMethod:
    def __init__(self, actor_id, class_name, name, options):
        self._actor_id = actor_id
        self._class_name = class_name
        self._name = name
        self._options = dict(options)

    def __call__(self, *args, **kwargs):
        raise TypeError(
            f"Actor methods cannot be called directly. Instead of running "
            f"'object.{self._name}()', try 'object.{self._name}.remote()'.")

    def options(self, **options):
        opts.check(options, opts.METHOD_OPTIONS, "an actor method")
        merged = dict(self._options)
        merged.update(options)
        return ActorMethod(self._actor_id, self._class_name, self._name, merged)

    def remote(self, *args, **kwargs):
        packed, kwarg_names = calls.pack_args(args, kwargs)
        call = self._call
        if call is None:
            num_returns = self._options.get("num_returns")
            num_returns = 1 if num_returns is None else num_returns
            name = self._options.get("name") or f"{self._class_name}.{self._name}"
            call = self._call = ({"num_returns": num_returns, "name": name}, num_returns)
        ids = core.submit_actor_task(self._actor_id, self._name, kwarg_names, packed,
                                     call[0])
        return calls.refs_of(ids, call[1])

    _call = None  # (core options, num_returns), made on the first call
