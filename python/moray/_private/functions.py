"""Functions and classes travel pickled through the GCS KV (docs/python.md).

The first `.remote()` of a definition pickles it (cloudpickle) and stores it once under a key
made from the job and the pickle's SHA-256; task specs name the key. Workers load a key once and
keep what it unpickled. A definition changed between calls (a redefinition) pickles differently,
so it is exported under a new key.
"""

import hashlib
import threading

from moray import _moray_core as core
from moray._private import state
from moray._private.deps import cloudpickle

KV_NAMESPACE = "moray_functions"

_lock = threading.Lock()
# (job id, id(definition)) -> (definition, key): the definition is kept so ids stay unique; the
# job is part of the key because a key names the job's store (a later init is another cluster).
_exported = {}
_loaded = {}     # key -> unpickled definition


def export(definition, what):
    """The KV key of `definition` (a function or class), exporting it on first use."""
    cache_key = (state.info["job_id"], id(definition))
    with _lock:
        known = _exported.get(cache_key)
        if known is not None and known[0] is definition:
            return known[1]
    try:
        pickled = cloudpickle.dumps(definition)
    except Exception as e:  # noqa: BLE001
        raise TypeError(
            f"Could not serialize the {what} {getattr(definition, '__qualname__', definition)!r} "
            f"to send it to workers: {type(e).__name__}: {e}") from e
    key = f"{state.info['job_id']}:{hashlib.sha256(pickled).hexdigest()}"
    core.kv_put(KV_NAMESPACE, key, pickled, False)
    with _lock:
        _exported[cache_key] = (definition, key)
    return key


def load(key, module, qualname):
    """The function or class a task names: unpickled from the KV, or imported by name."""
    with _lock:
        found = _loaded.get(key or f"{module}:{qualname}")
    if found is not None:
        return found
    if key:
        pickled = core.kv_get(KV_NAMESPACE, key)
        if pickled is None:
            raise RuntimeError(f"the function {qualname} ({key}) is not in the cluster's store")
        definition = cloudpickle.loads(pickled)
    else:
        import importlib

        definition = importlib.import_module(module)
        for part in qualname.split("."):
            definition = getattr(definition, part)
    with _lock:
        _loaded[key or f"{module}:{qualname}"] = definition
    return definition
