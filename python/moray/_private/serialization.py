"""Values as bytes (docs/python.md).

Python values are pickled with protocol 5 (cloudpickle, so lambdas and local classes work);
large contiguous buffers (numpy arrays, bytes-like objects) go out of band, beside the pickle,
where `get` hands them back as read-only views into the object store. A value from C++ is msgpack,
and a value bound for C++ is written as msgpack.
"""

import pickle

from moray import _moray_core as core
from moray._private.deps import cloudpickle

# Buffers smaller than this stay inside the pickle: a view costs more than the copy.
_OUT_OF_BAND_MIN = 1024

LANGUAGE_CPP = 0
LANGUAGE_PYTHON = 1


# Values of these exact types pickle the same with the standard pickler, which is several times
# faster than cloudpickle's (no definitions by value are involved).
_PLAIN = (type(None), bool, int, float, str, bytes)


def _split(value):
    """(in-band pickle, [out-of-band buffers]) of `value`."""
    if type(value) in _PLAIN:
        return pickle.dumps(value, protocol=5), []
    buffers = []

    def keep(pickle_buffer):
        try:
            view = pickle_buffer.raw()
        except BufferError:  # not contiguous: pickled in band
            return True
        if view.nbytes < _OUT_OF_BAND_MIN:
            return True
        buffers.append(view)
        return False

    try:
        inband = cloudpickle.dumps(value, protocol=5, buffer_callback=keep)
    except Exception as e:  # noqa: BLE001 - any pickling failure is the user's to see
        raise TypeError(
            f"Could not serialize the value {_describe(value)}: {type(e).__name__}: {e}") from e
    return inband, buffers


def _describe(value):
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} of type {type(value).__name__}"


def pack(value, language=LANGUAGE_PYTHON):
    """`value` as the bytes of a task argument or return."""
    if language == LANGUAGE_CPP:
        return core.to_msgpack(value)
    inband, buffers = _split(value)
    return core.pack(inband, buffers)


def put(value):
    """Puts `value` into the object store (one copy of its buffers); returns the id."""
    inband, buffers = _split(value)
    return core.put(inband, buffers)


def unpack(value):
    """The Python object of a stored value (a core.Value)."""
    decoded = core.decode(value)
    if decoded[0] == "msgpack":
        return decoded[1]
    return pickle.loads(decoded[1], buffers=decoded[2])
