"""Exceptions raised by moray, with Ray's names (ray.exceptions)."""


class RayError(Exception):
    """The base of every error moray raises."""


class RaySystemError(RayError):
    """A failure of the runtime itself."""


class RayTaskError(RayError):
    """A task or actor method raised an exception.

    `get` raises an instance of a class made from this one and the original exception's type,
    so `except ZeroDivisionError:` still catches a remote ZeroDivisionError. `cause` is the
    original exception; the message shows the remote traceback.
    """

    def __init__(self, function_name="", traceback_str="", cause=None, pid=None, ip=None):
        self.function_name = function_name
        self.traceback_str = traceback_str
        self.cause = cause
        self.pid = pid
        self.ip = ip
        super().__init__(traceback_str)

    def __str__(self):
        return self.traceback_str

    def as_instanceof_cause(self):
        """This error as an instance of both RayTaskError and the cause's type, if possible."""
        cause_cls = type(self.cause)
        if self.cause is None or issubclass(cause_cls, RayTaskError):
            return self
        traceback_str = self.traceback_str
        cause = self.cause

        def __init__(err, *args):
            pass

        def __str__(err):
            return traceback_str

        name = f"RayTaskError({cause_cls.__name__})"
        try:
            cls = type(name, (RayTaskError, cause_cls), {"__init__": __init__, "__str__": __str__})
            err = cls.__new__(cls)
        except TypeError:
            return self  # the two layouts cannot be combined (some built-in exceptions)
        err.args = getattr(cause, "args", ())
        try:
            err.__dict__.update(getattr(cause, "__dict__", {}))
        except (AttributeError, TypeError):
            pass
        err.function_name = self.function_name
        err.traceback_str = traceback_str
        err.cause = cause
        err.pid = self.pid
        err.ip = self.ip
        return err


class WorkerCrashedError(RayError):
    """The worker running the task died unexpectedly."""


class RayActorError(RayError):
    """The actor died, or could not be created."""

    def __init__(self, message="The actor died unexpectedly before finishing this task."):
        super().__init__(message)


class ActorDiedError(RayActorError):
    """The actor is dead (Ray's newer name for RayActorError's common case)."""


class ActorUnavailableError(RayActorError):
    """The actor cannot be reached right now."""


class ObjectLostError(RayError):
    """An object's value was lost and cannot be rebuilt."""


class ObjectReconstructionFailedError(ObjectLostError):
    pass


class OwnerDiedError(ObjectLostError):
    """The process that owned the object died."""


class ReferenceCountingAssertionError(ObjectLostError):
    pass


class ObjectFetchTimedOutError(ObjectLostError):
    pass


class GetTimeoutError(RayError, TimeoutError):
    """`get` timed out."""


class TaskCancelledError(RayError):
    """The task was cancelled."""


class OutOfMemoryError(RayError):
    """A task's worker was killed because its node ran out of memory."""


class ObjectStoreFullError(RayError):
    """The object store is full of objects in use."""


class OutOfDiskError(RayError):
    pass


class RuntimeEnvSetupError(RayError):
    """A runtime env could not be set up."""


class TaskUnschedulableError(RayError):
    pass


class ActorUnschedulableError(RayError):
    pass


class PendingCallsLimitExceeded(RayError):
    pass


class CrossLanguageError(RayError):
    """A value or call could not cross between Python and C++."""
