"""Moray's Python front end: Ray's Python API over Moray's C++ core (docs/python.md).

    import moray as ray

    @ray.remote
    def square(x):
        return x * x

    print(ray.get([square.remote(i) for i in range(4)]))
"""

import atexit
import json
import os
import sys
import time

from moray import _moray_core as core
from moray import exceptions
from moray._private import serialization, state
from moray.actor import ActorClass, ActorHandle, method
from moray.object_ref import ObjectRef
from moray.remote_function import RemoteFunction
from moray.runtime_context import get_runtime_context

__version__ = "0.1.0"

__all__ = [
    "init", "shutdown", "is_initialized", "remote", "method", "get", "put", "wait", "kill",
    "cancel", "get_actor", "available_resources", "cluster_resources", "nodes",
    "get_runtime_context", "ObjectRef", "ActorHandle", "exceptions", "util", "cross_language",
    "job_config",
]

# ErrorInfo types (proto/common.proto) and what `get` raises for each.
_TASK_EXECUTION_EXCEPTION = 1
_ERRORS = {
    2: exceptions.WorkerCrashedError,
    3: exceptions.ObjectLostError,
    4: exceptions.CrossLanguageError,  # FUNCTION_NOT_FOUND: a C++ function not registered
    5: exceptions.TaskCancelledError,
    6: exceptions.ActorDiedError,
    7: exceptions.RuntimeEnvSetupError,
    8: exceptions.ObjectStoreFullError,
}


def init(address=None, *, num_cpus=None, num_gpus=None, resources=None, namespace=None,
         runtime_env=None, object_store_memory=None, ignore_reinit_error=False, job_config=None,
         log_to_driver=True):
    """Connects to a cluster: a private local one without `address` (or RAY_ADDRESS), the
    recorded local one for "auto", or the one whose GCS is at `address`. `job_config`
    (moray.job_config.JobConfig) names the job's code_search_path for cross-language calls.
    `log_to_driver`: print the job's worker output here, as "(name pid=N) line" (Ray's)."""
    with state.lock:
        if state.connected:
            if ignore_reinit_error:
                return _context_info()
            raise RuntimeError(
                "Maybe you called moray.init twice by accident? This error can be suppressed "
                "by passing in 'ignore_reinit_error=True' or by calling 'moray.shutdown()' "
                "prior to 'moray.init()'.")
        if address is None:
            address = os.environ.get("RAY_ADDRESS") or None
        head_args = []
        if address is not None:
            given = [name for name, value in (("num_cpus", num_cpus), ("num_gpus", num_gpus),
                                              ("resources", resources),
                                              ("object_store_memory", object_store_memory))
                     if value is not None]
            if given:
                raise ValueError(
                    f"When connecting to an existing cluster, {', '.join(given)} must not be "
                    f"provided: they describe the nodes `moray start` started.")
        else:
            if num_cpus is not None:
                head_args.append(f"--num-cpus={_whole('num_cpus', num_cpus)}")
            if num_gpus is not None:
                head_args.append(f"--num-gpus={_whole('num_gpus', num_gpus)}")
            if resources is not None:
                if not isinstance(resources, dict):
                    raise TypeError("resources must be a dict of name -> amount")
                head_args.append(f"--resources={json.dumps(resources)}")
            if object_store_memory is not None:
                head_args.append(f"--object-store-memory={_whole('object_store_memory', object_store_memory)}")
        code_search_path = []
        if job_config is not None:
            from moray.job_config import JobConfig

            if not isinstance(job_config, JobConfig):
                raise TypeError("job_config must be a moray.job_config.JobConfig")
            code_search_path = job_config._code_search_path()
            if runtime_env is None:
                runtime_env = job_config.runtime_env
            if namespace is None:
                namespace = job_config.ray_namespace
        if namespace is not None and not isinstance(namespace, str):
            raise TypeError("namespace must be a str")
        if runtime_env is not None and not isinstance(runtime_env, dict):
            raise TypeError("runtime_env must be a dict")
        try:
            info = core.connect(address or "", namespace or "", head_args,
                                json.dumps(runtime_env) if runtime_env else "",
                                sys.executable, _python_path(), code_search_path,
                                bool(log_to_driver))
        except RuntimeError as e:
            text = str(e)
            if text.startswith("RuntimeEnvSetupError: "):
                raise exceptions.RuntimeEnvSetupError(text[len("RuntimeEnvSetupError: "):]) from None
            raise ConnectionError(text) from None
        state.info = info
        state.namespace = info["namespace"]
        state.connected = True
        return _context_info()


def _whole(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, not {value!r}")
    return value


def _python_path():
    """What workers put on sys.path: this package's home first, then the driver's path."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = [here]
    for entry in sys.path:
        entry = os.path.abspath(entry) if entry else os.getcwd()
        if entry not in path:
            path.append(entry)
    return path


def _context_info():
    return dict(state.info)


def is_initialized():
    return state.connected


def shutdown():
    """Disconnects; a private local cluster stops with it."""
    with state.lock:
        if not state.connected or state.is_worker:
            return
        state.connected = False
        import gc

        gc.collect()  # drops refs in cycles while the core still counts them
        core.disconnect()
        state.info = {}


atexit.register(shutdown)


def remote(*args, **kwargs):
    """@remote or @remote(options...) on a function or class."""
    def make(target, options):
        if isinstance(target, type):
            return ActorClass(target, options)
        if callable(target):
            return RemoteFunction(target, options)
        raise TypeError("The @moray.remote decorator must be applied to a function or a class.")

    if len(args) == 1 and not kwargs and callable(args[0]):
        return make(args[0], {})
    if args:
        raise TypeError(
            "The @moray.remote decorator must be applied either with no arguments and no "
            "parentheses, e.g. '@moray.remote', or with options, e.g. "
            "'@moray.remote(num_returns=2, max_retries=1)'.")
    return lambda target: make(target, kwargs)


def _check():
    if not state.connected:
        init()  # as in Ray, the first get/put/wait/... starts (or joins) a cluster


def _raise_error(error):
    _, kind, message, pickled = error
    if kind == _TASK_EXECUTION_EXCEPTION and not pickled:
        # Thrown by C++ code (cross_language): a Python worker's errors always carry a pickle.
        raise exceptions.CrossLanguageError(message)
    if kind == _TASK_EXECUTION_EXCEPTION:
        cause = None
        if pickled:
            try:
                cause = serialization.cloudpickle.loads(pickled)
            except Exception:  # noqa: BLE001 - the message still says what happened
                cause = None
        err = exceptions.RayTaskError(traceback_str=message, cause=cause)
        raise err.as_instanceof_cause() if cause is not None else err
    raise _ERRORS.get(kind, exceptions.RaySystemError)(message)


def get(object_refs, *, timeout=None):
    """The value of a ref, or the values of a list of refs; raises the task's error."""
    _check()
    single = isinstance(object_refs, ObjectRef)
    refs = [object_refs] if single else object_refs
    if not isinstance(refs, (list, tuple)) or not all(isinstance(r, ObjectRef) for r in refs):
        raise ValueError(
            f"'object_refs' must either be an ObjectRef or a list of ObjectRefs, not "
            f"{type(object_refs).__name__}")
    if timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be None or a non-negative number")
    try:
        results = core.get([r.binary() for r in refs], -1.0 if timeout is None else float(timeout))
    except TimeoutError as e:
        raise exceptions.GetTimeoutError(str(e)) from None
    values = []
    for result in results:
        if isinstance(result, tuple):
            _raise_error(result)
        values.append(serialization.unpack(result))
    return values[0] if single else values


def put(value):
    """Stores `value` in the object store; returns its ref."""
    _check()
    if isinstance(value, ObjectRef):
        raise TypeError("Calling 'put' on an ObjectRef is not allowed. If you really want to do "
                        "this, you can wrap the ObjectRef in a list and call 'put' on it.")
    try:
        return ObjectRef(serialization.put(value))
    except RuntimeError as e:
        if str(e).startswith("ObjectStoreFullError: "):
            raise exceptions.ObjectStoreFullError(str(e)) from None
        raise


def wait(object_refs, *, num_returns=1, timeout=None, fetch_local=True):
    """(ready, not ready): the first `num_returns` refs whose values are ready, in input order."""
    _check()
    if isinstance(object_refs, ObjectRef):
        raise TypeError("wait() expected a list of ObjectRef, got a single ObjectRef")
    if not isinstance(object_refs, (list, tuple)) or not all(
            isinstance(r, ObjectRef) for r in object_refs):
        raise TypeError("wait() expected a list of ObjectRef")
    if len(set(object_refs)) != len(object_refs):
        raise ValueError("Wait requires a list of unique object refs.")
    if not isinstance(num_returns, int) or num_returns < 0:
        raise ValueError("num_returns must be a non-negative int")
    if num_returns > len(object_refs):
        raise ValueError("num_returns cannot be greater than the number of objects provided.")
    if timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be None or a non-negative number")
    deadline = None if timeout is None else time.monotonic() + timeout
    flags = core.wait([r.binary() for r in object_refs], num_returns,
                      -1.0 if timeout is None else float(timeout))
    ready = [r for r, f in zip(object_refs, flags) if f][:num_returns] if num_returns else []
    chosen = set(ready)
    not_ready = [r for r in object_refs if r not in chosen]
    if fetch_local and ready:
        # Ready means sealed somewhere; fetch_local also brings each value to this node.
        # Within what is left of the caller's timeout.
        left = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            core.get([r.binary() for r in ready], left)
        except TimeoutError:
            pass
    return ready, not_ready


def kill(actor, *, no_restart=True):
    _check()
    if not isinstance(actor, ActorHandle):
        raise ValueError(f"kill() only works on actor handles, not {type(actor).__name__}")
    core.kill_actor(actor._actor_id, no_restart)


def cancel(object_ref, *, force=False, recursive=True):
    _check()
    if not isinstance(object_ref, ObjectRef):
        raise TypeError(f"cancel() only works on ObjectRefs, not {type(object_ref).__name__}")
    core.cancel_task(object_ref.binary(), force, recursive)


def get_actor(name, namespace=None):
    _check()
    if not isinstance(name, str) or not name:
        raise ValueError("Please supply a non-empty name to get_actor")
    found = core.get_named_actor(name, state.namespace if namespace is None else namespace)
    if found is None:
        raise ValueError(f"Failed to look up actor with name '{name}'. This could because 1. You "
                         f"are trying to look up a named actor you didn't create. 2. The named "
                         f"actor died. 3. You did not use a namespace matching the namespace of "
                         f"the actor.")
    actor_id, class_name = found
    return ActorHandle(actor_id, class_name, {})


def nodes():
    _check()
    return core.nodes()


def cluster_resources():
    _check()
    total = {}
    for node in core.nodes():
        if node["Alive"]:
            for name, amount in node["Resources"].items():
                total[name] = total.get(name, 0) + amount
    return total


def available_resources():
    _check()
    return dict(core.available_resources())


from moray import cross_language, job_config, util  # noqa: E402  (need the names above)
