"""@remote on a function: RemoteFunction, with .remote() and .options()."""

from moray import _moray_core as core
from moray._private import calls, functions, options as opts, state


class RemoteFunction:
    def __init__(self, function, options):
        opts.check(options, opts.TASK_OPTIONS, "a remote function")
        self._function = function
        self._options = dict(options)
        self.__name__ = getattr(function, "__name__", "function")
        self.__qualname__ = getattr(function, "__qualname__", self.__name__)
        self.__module__ = getattr(function, "__module__", None)
        self.__doc__ = getattr(function, "__doc__", None)

    def __call__(self, *args, **kwargs):
        raise TypeError(
            f"Remote functions cannot be called directly. Instead of running "
            f"'{self.__name__}()', try '{self.__name__}.remote()'.")

    def options(self, **options):
        merged = dict(self._options)
        merged.update(options)
        return RemoteFunction(self._function, merged)

    def remote(self, *args, **kwargs):
        _check_connected()
        call = self._call
        if call is None or call[0] != state.info["job_id"]:
            call = self._call = (state.info["job_id"], *self._prepare())
        packed, kwarg_names = calls.pack_args(args, kwargs)
        ids = core.submit_task(call[1], kwarg_names, packed, call[2])
        return calls.refs_of(ids, call[3])

    _call = None  # (job id, function, core options, num_returns): what every call repeats

    def _prepare(self):
        key = functions.export(self._function, "function")
        options = opts.task_options(self._options, self.__qualname__)
        return (self.__module__ or "", self.__qualname__, key), options, options["num_returns"]


def _check_connected():
    if not state.connected:
        from moray import init

        init()  # Ray starts a local cluster on first use too
