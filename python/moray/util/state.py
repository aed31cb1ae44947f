"""moray.util.state: Ray's state API (`ray.util.state`) read from the GCS, no dashboard needed.

    from moray.util.state import list_actors, list_tasks, summarize_tasks

    list_actors(filters=[("state", "=", "ALIVE")])   # [{"actor_id": ..., "class_name": ...}]
    list_tasks(filters=[("state", "!=", "FINISHED")], limit=10, detail=True)
    summarize_tasks()["cluster"]["summary"]["my_function"]["state_counts"]   # {"FINISHED": 4}

The rows, filters and summaries are those of `moray list` / `moray summary` (src/cli, in
libmoray), through _moray_core (src/python/state_bindings.cc). Each entry is a dict with Ray's
keys that also allows attribute access (`actor.class_name`). Without `detail` an entry holds the
default columns (`moray list`'s), with it every column (`moray list --detail`'s). `address`:
the connected cluster's GCS when None, else a GCS address (or "auto"); `timeout` (seconds) bounds
each query: past it RayStateApiException is raised. `_explain` (a Ray debugging aid) is refused.
"""

import concurrent.futures
import contextvars
import json
import warnings

from moray import _moray_core as core

__all__ = [
    "list_actors", "list_tasks", "list_objects", "list_nodes", "list_placement_groups",
    "list_jobs", "list_workers", "get_actor", "get_task", "get_node", "get_objects",
    "get_placement_group", "get_job", "get_worker", "summarize_tasks", "summarize_actors",
    "summarize_objects", "RayStateApiException", "StateApiException",
]

DEFAULT_LIMIT = 100
DEFAULT_RPC_TIMEOUT = 30


class RayStateApiException(Exception):
    """A state query failed (the GCS unreachable, records missing), as in Ray."""


StateApiException = RayStateApiException


class StateEntry(dict):
    """A row (or summary) with Ray's keys: a dict that also allows attribute access."""

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__} has no field '{name}' (fields: "
                f"{', '.join(self)})") from None

    def __dir__(self):
        return list(self) + list(super().__dir__())


def _entry(value):
    if isinstance(value, dict):
        return StateEntry((k, _entry(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_entry(v) for v in value]
    return value


def _filters(filters):
    """Ray's (key, predicate, value) tuples as the core takes them (values as text)."""
    out = []
    for f in filters or []:
        if not isinstance(f, (tuple, list)) or len(f) != 3:
            raise ValueError(f"a filter must be a (key, predicate, value) tuple, not {f!r}")
        key, predicate, value = f
        if not isinstance(key, str):
            raise ValueError(f"a filter key must be a str, not {key!r}")
        if predicate not in ("=", "!="):
            raise ValueError(f"Unsupported filter predicate {predicate!r} in {tuple(f)!r}; "
                             f"supported predicates: '=', '!='")
        if isinstance(value, bool):
            text = "True" if value else "False"
        elif isinstance(value, (str, int, float)):
            text = str(value)
        else:
            raise ValueError(f"a filter value must be a str, bool, int or float, not {value!r}")
        out.append((key, predicate, text))
    return out


_timeout = contextvars.ContextVar("moray_state_timeout", default=DEFAULT_RPC_TIMEOUT)


def _bound(timeout, explain):
    """Checks the options every query takes; `timeout` bounds the query's calls from now on."""
    if explain:
        raise ValueError("_explain is not supported by moray's state API")
    if timeout is None or isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
            or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    _timeout.set(timeout)


def _call(fn, *args):
    """`fn(*args)` on a thread of its own, so the query ends within the timeout (the native call
    releases the GIL); RayStateApiException when it fails or takes longer."""
    timeout = _timeout.get()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(fn, *args).result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        raise RayStateApiException(f"the state query did not finish within {timeout} s "
                                   f"(timeout)") from None
    except ValueError:
        raise
    except RuntimeError as e:
        raise RayStateApiException(str(e)) from None
    finally:
        pool.shutdown(wait=False)


def _missing(resource, dropped, raise_on_missing_output, evicted=0):
    if not dropped:
        return
    if evicted:
        # Tasks: records the GCS evicted past --task-events-max-num-task-in-gcs, the rest events
        # that never reached it.
        message = (f"{dropped} {resource} records or events were dropped by the cluster "
                   f"({evicted} records evicted past the GCS's limit, "
                   f"--task-events-max-num-task-in-gcs; {dropped - evicted} events lost on the "
                   f"way), so the result may be incomplete.")
    else:
        message = (f"{dropped} {resource} records were dropped by the cluster (its buffers were "
                   f"full), so the result may be incomplete.")
    if raise_on_missing_output:
        raise RayStateApiException(
            message + " To allow missing output, set `raise_on_missing_output=False`.")
    warnings.warn(message)


def _list(resource, address, filters, limit, detail, raise_on_missing_output):
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive int, not {limit!r}")
    return _query(resource, address, filters, limit, detail, raise_on_missing_output)


def _query(resource, address, filters, limit, detail, raise_on_missing_output):
    """Rows matching `filters`, at most `limit` (0: all) of them."""
    reply = _call(core.state_list, resource, _filters(filters), limit, bool(detail),
                  address or "")
    rows = json.loads(reply["rows"])
    _missing(resource, reply["num_dropped"], raise_on_missing_output,
             reply.get("num_evicted", 0))
    if reply["num_truncated"]:
        warnings.warn(f"Limit last {len(rows)} entries (Total {reply['total']}). Use `filters` "
                      f"to reduce the amount of data to return or setting a higher limit with "
                      f"`limit` to see all data.")
    return [_entry(row) for row in rows]


def _make_list(resource, doc):
    def list_resource(address=None, filters=None, limit=DEFAULT_LIMIT,
                      timeout=DEFAULT_RPC_TIMEOUT, detail=False, raise_on_missing_output=True,
                      _explain=False):
        _bound(timeout, _explain)
        return _list(resource, address, filters, limit, detail, raise_on_missing_output)

    list_resource.__name__ = f"list_{resource.replace('-', '_')}"
    list_resource.__qualname__ = list_resource.__name__
    list_resource.__doc__ = doc
    return list_resource


list_actors = _make_list("actors", "Actors in the cluster, dead ones included.")
list_tasks = _make_list("tasks", "Task attempts in the cluster (one entry per attempt).")
list_objects = _make_list("objects", "Objects, one entry per process that tracks each.")
list_nodes = _make_list("nodes", "Nodes in the cluster, dead ones included.")
list_placement_groups = _make_list("placement-groups", "Placement groups, removed included.")
list_jobs = _make_list("jobs", "Jobs (drivers) of the cluster.")
list_workers = _make_list("workers", "Worker processes of every node.")


def _get(resource, id_column, id, address):
    if not isinstance(id, str) or not id:
        raise ValueError(f"{id_column} must be a non-empty hex str, not {id!r}")
    return _query(resource, address, [(id_column, "=", id)], 0, True, False)


def get_actor(id, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    """The actor with this id (hex), or None."""
    _bound(timeout, _explain)
    found = _get("actors", "actor_id", id, address)
    return found[0] if found else None


def get_task(id, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    """The task with this id (hex, or the ObjectRef it returned): its attempt, a list of attempts
    if it was retried, or None."""
    _bound(timeout, _explain)
    if hasattr(id, "task_id") and hasattr(id, "binary"):  # an ObjectRef
        id = id.task_id().hex()
    found = _get("tasks", "task_id", id, address)
    if not found:
        return None
    return found[0] if len(found) == 1 else found


def get_node(id, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    _bound(timeout, _explain)
    found = _get("nodes", "node_id", id, address)
    return found[0] if found else None


def get_placement_group(id, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    _bound(timeout, _explain)
    found = _get("placement-groups", "placement_group_id", id, address)
    return found[0] if found else None


def get_job(id, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    _bound(timeout, _explain)
    found = _get("jobs", "job_id", id, address)
    return found[0] if found else None


def get_worker(id, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    _bound(timeout, _explain)
    found = _get("workers", "worker_id", id, address)
    return found[0] if found else None


def get_objects(id, address=None, timeout=DEFAULT_RPC_TIMEOUT, _explain=False):
    """Every process's entry of the object with this id (hex): a list, empty if unknown."""
    _bound(timeout, _explain)
    return _get("objects", "object_id", id, address)


def _counts(lines):
    """The CLI's "NAME: count" lines as {NAME: count}."""
    counts = {}
    for line in (lines or "").splitlines():
        name, _, count = line.rpartition(": ")
        counts[name] = int(count)
    return counts


def _summary(resource, address, raise_on_missing_output):
    data = json.loads(_call(core.state_summary, resource, address or ""))
    _missing(resource, data.get("num_dropped", 0), raise_on_missing_output,
             data.get("num_evicted", 0))
    return data


def summarize_tasks(address=None, timeout=DEFAULT_RPC_TIMEOUT, raise_on_missing_output=True,
                    _explain=False):
    """Task counts per function or class name and state, over every task of the cluster."""
    _bound(timeout, _explain)
    data = _summary("tasks", address, raise_on_missing_output)
    summary = {}
    for group in data["groups"]:
        name = group["func_or_class_name"]
        entry = summary.setdefault(name, {"func_or_class_name": name, "type": group["type"],
                                          "state_counts": {}})
        for state, count in _counts(group["state_counts"]).items():
            entry["state_counts"][state] = entry["state_counts"].get(state, 0) + count
    return _entry({"cluster": {
        "summary": summary,
        "total_tasks": data["total_tasks"],
        "total_actor_tasks": data["total_actor_tasks"],
        "total_actor_scheduled": data["total_actor_scheduled"],
        "summary_by": "func_name",
    }})


def summarize_actors(address=None, timeout=DEFAULT_RPC_TIMEOUT, raise_on_missing_output=True,
                     _explain=False):
    """Actor counts per class and state, over the whole actor table."""
    _bound(timeout, _explain)
    data = _summary("actors", address, raise_on_missing_output)
    summary = {group["class_name"]: {"class_name": group["class_name"],
                                     "state_counts": _counts(group["state_counts"])}
               for group in data["groups"]}
    return _entry({"cluster": {"summary": summary, "total_actors": data["total_actors"],
                               "summary_by": "class"}})


def summarize_objects(address=None, timeout=DEFAULT_RPC_TIMEOUT, raise_on_missing_output=True,
                      _explain=False):
    """Object entries grouped by call site (always "disabled": call sites are not recorded)."""
    _bound(timeout, _explain)
    data = _summary("objects", address, raise_on_missing_output)
    summary = {}
    for group in data["groups"]:
        summary[group["call_site"]] = {
            "total_objects": group["total_objects"],
            "total_size_mb": float(group["total_size_mb"]),
            "total_num_workers": group["total_num_workers"],
            "total_num_nodes": group["total_num_nodes"],
            "task_state_counts": _counts(group["task_state_counts"]),
            "ref_type_counts": _counts(group["ref_type_counts"]),
        }
    return _entry({"cluster": {
        "summary": summary,
        "total_objects": data["total_objects"],
        "total_size_mb": round(data["total_size_bytes"] / (1024 * 1024), 6),
        "callsite_enabled": False,
        "summary_by": "callsite",
    }})
