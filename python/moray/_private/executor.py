"""A Python worker's side of a task (docs/python.md): the core hands each task here, on the
thread that runs it, as a dict; the answer is ("ok", [return bytes]), ("error", type, message,
pickled exception, retryable) or ("exit",)."""

import asyncio
import inspect
import os
import signal
import socket
import sys
import threading
import traceback

from moray._private import functions, serialization, state
from moray._private.deps import cloudpickle

NORMAL_TASK = 0
ACTOR_CREATION_TASK = 1
ACTOR_TASK = 2
TASK_EXECUTION_EXCEPTION = 1

_actor = None            # the instance this worker hosts
_actor_loop = None       # its event loop (async actors), on a thread of its own
_actor_restarted = False


class _ExitActor(Exception):
    pass


def _args_of(task):
    values = [serialization.unpack(v) for v in task["args"]]
    names = task["kwarg_names"]
    if not names:
        return values, {}
    split = len(values) - len(names)
    return values[:split], dict(zip(names, values[split:]))


def _start_loop():
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="moray-actor-loop", daemon=True).start()
    return loop


def _call(fn, args, kwargs):
    if inspect.iscoroutinefunction(fn):
        return asyncio.run_coroutine_threadsafe(fn(*args, **kwargs), _actor_loop).result()
    return fn(*args, **kwargs)


def _returns(result, num_returns, caller_language):
    if num_returns == 1:
        values = [result]
    elif num_returns == 0:
        values = []
    else:
        values = list(result) if result is not None else []
        if len(values) != num_returns:
            raise ValueError(
                f"the task declared num_returns={num_returns} but returned {len(values)} "
                f"value(s)")
    if caller_language != serialization.LANGUAGE_CPP:
        return [serialization.pack(v, caller_language) for v in values]
    out = []
    for v in values:
        try:
            out.append(serialization.pack(v, caller_language))
        except (TypeError, ValueError) as e:
            from moray.exceptions import CrossLanguageError

            raise CrossLanguageError(
                f"the value returned to a C++ caller has no msgpack form (None, bool, int, "
                f"float, str, bytes, lists and dicts of them cross): {e}") from None
    return out


def _failure(task, error):
    where = f"{task['name']}() (pid={os.getpid()}, ip={_ip()})"
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    message = f"{type(error).__name__}: {error}\n\n{where} failed:\n{text}"
    try:
        pickled = cloudpickle.dumps(error)
    except Exception:  # noqa: BLE001 - the message still tells what happened
        # Never empty: an error without a pickle is a C++ one (CrossLanguageError).
        pickled = cloudpickle.dumps(None)
    return ("error", TASK_EXECUTION_EXCEPTION, message, pickled, True)


_IP = None


def _ip():
    global _IP
    if _IP is None:
        try:
            _IP = socket.gethostbyname(socket.gethostname())
        except OSError:
            _IP = "127.0.0.1"
    return _IP


# The name marker (src/common/log_marker.h): written on stdout and stderr, after flushing them,
# when the name of what this worker runs changes; the raylet's log agent strips it and prefixes
# the lines that follow with the name on the driver ("(name pid=N)").
_NAME_MARKER = "\x1e moray:name "
_running_name = None


def _announce(name):
    global _running_name
    if name == _running_name:
        return
    _running_name = name
    line = (_NAME_MARKER + name + "\n").encode()
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        try:
            stream.flush()
            os.write(fd, line)
        except (OSError, ValueError):
            pass


def execute(task):
    global _actor, _actor_loop, _actor_restarted
    state.current.task = task
    try:
        args, kwargs = _args_of(task)
        kind = task["type"]
        if kind == ACTOR_CREATION_TASK:
            _announce(task["qualname"].rsplit(".", 1)[-1])  # the class's name, as Ray shows it
        elif kind != ACTOR_TASK:
            _announce(task["name"])
        if kind == ACTOR_CREATION_TASK:
            cls = functions.load(task["pickle_key"], task["module"], task["qualname"])
            from moray.actor import is_async_class

            if is_async_class(cls):
                _actor_loop = _start_loop()
            _actor_restarted = task.get("restarted", False)
            _actor = cls(*args, **kwargs)
            return ("ok", [])  # a creation returns nothing
        if kind == ACTOR_TASK:
            if _actor is None:
                raise RuntimeError("this worker hosts no actor")
            method = getattr(_actor, task["qualname"], None)
            if method is None:
                raise AttributeError(
                    f"'{type(_actor).__name__}' object has no method '{task['qualname']}'")
            result = _call(method, args, kwargs)
        else:
            fn = functions.load(task["pickle_key"], task["module"], task["qualname"])
            result = fn(*args, **kwargs)
            if inspect.iscoroutine(result):
                result = asyncio.run(result)
        return ("ok", _returns(result, task["num_returns"], task["caller_language"]))
    except _ExitActor:
        return ("exit",)
    except Exception as e:  # noqa: BLE001 - the caller's get raises it
        return _failure(task, e)
    finally:
        state.current.task = None
        _cancel_requested.discard(task["task_id"])


# Cancel (moray.cancel without force): the core calls cancel() with the running task's id; a
# normal task runs on the main thread, which gets SIGINT — that also breaks a blocking sleep or
# read — and the handler raises TaskCancelledError there if that task is still the one running.
_cancel_requested = set()


def cancel(task_id):
    _cancel_requested.add(task_id)
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


def _on_sigint(signum, frame):
    task = getattr(state.current, "task", None)
    if task is not None and task["task_id"] in _cancel_requested:
        from moray.exceptions import TaskCancelledError

        raise TaskCancelledError(f"{task['name']} was cancelled")
    # Otherwise a cancel that came too late, or a stray signal: a worker ignores it.


def main():
    from moray import _moray_core as core

    state.connected = True
    state.is_worker = True
    # Output goes to the raylet's log agent through pipes: line by line, not in 8 KiB blocks.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except (AttributeError, ValueError):
            pass
    state.namespace = os.environ.get("MORAY_NAMESPACE", "")
    signal.signal(signal.SIGINT, _on_sigint)
    code = core.run_worker(_run, cancel)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run(task):
    if not state.info:
        from moray import _moray_core as core

        state.info = core.context()
    return execute(task)
