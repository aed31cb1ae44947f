"""Arguments of a call as the core takes them: positional, then keyword values, each an inline
value or a reference (a top-level ObjectRef is passed by reference and resolved before the call
runs; refs nested in values stay refs)."""

from moray._private import serialization
from moray.object_ref import ObjectRef


def pack_args(args, kwargs):
    """([(is_ref, bytes)], [keyword names])."""
    packed = []
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, ObjectRef):
            packed.append((True, value.binary()))
        else:
            packed.append((False, serialization.pack(value)))
    return packed, list(kwargs.keys())


def refs_of(ids, num_returns):
    refs = [ObjectRef(i) for i in ids]
    if num_returns == 1:
        return refs[0]
    if num_returns == 0:
        return None
    return refs
