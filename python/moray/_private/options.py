"""The options of @remote and .options(), checked as Ray checks them."""

import json

TASK_OPTIONS = {
    "num_cpus", "num_gpus", "resources", "num_returns", "max_retries", "retry_exceptions",
    "name", "runtime_env", "scheduling_strategy", "placement_group",
    "placement_group_bundle_index", "placement_group_capture_child_tasks",
}
ACTOR_OPTIONS = {
    "num_cpus", "num_gpus", "resources", "max_restarts", "max_task_retries", "max_concurrency",
    "name", "namespace", "lifetime", "get_if_exists", "runtime_env", "scheduling_strategy",
    "placement_group", "placement_group_bundle_index", "placement_group_capture_child_tasks",
}
METHOD_OPTIONS = {"num_returns", "name"}


def check(options, allowed, what):
    for key, value in options.items():
        if key not in allowed:
            raise ValueError(
                f"Invalid option keyword {key!r} for {what}. Valid ones are "
                f"{sorted(allowed)}.")
        _check_type(key, value)


def _check_type(key, value):
    def number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if key in ("num_cpus", "num_gpus"):
        if value is not None and (not number(value) or value < 0):
            raise ValueError(f"The keyword '{key}' only accepts None or a non-negative number")
    elif key in ("num_returns", "max_retries", "max_restarts", "max_task_retries",
                 "max_concurrency", "placement_group_bundle_index"):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise TypeError(f"The keyword '{key}' only accepts an int, not {type(value).__name__}")
        if key == "num_returns" and value is not None and value < 0:
            raise ValueError("The keyword 'num_returns' only accepts a non-negative int")
        if key == "max_concurrency" and value is not None and value < 1:
            raise ValueError("max_concurrency must be at least 1")
    elif key == "resources":
        if value is not None:
            if not isinstance(value, dict):
                raise TypeError("The keyword 'resources' only accepts a dict")
            for name, amount in value.items():
                if name in ("CPU", "GPU"):
                    raise ValueError(
                        f"Use the '{'num_cpus' if name == 'CPU' else 'num_gpus'}' keyword "
                        f"instead of resources={{'{name}': ...}}")
                if not number(amount) or amount < 0:
                    raise ValueError(f"resource {name!r} must be a non-negative number")
    elif key in ("name", "namespace"):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"The keyword '{key}' only accepts a str")
    elif key == "lifetime":
        if value not in (None, "detached", "non_detached"):
            raise ValueError("lifetime must be None, 'detached' or 'non_detached'")
    elif key == "runtime_env":
        if value is not None and not isinstance(value, dict):
            raise TypeError("runtime_env must be a dict")


def resources_of(options, default_cpus):
    """The resource request: {'CPU': n, 'GPU': n, ...}."""
    resources = dict(options.get("resources") or {})
    cpus = options.get("num_cpus")
    if cpus is None:
        cpus = default_cpus
    if cpus:
        resources["CPU"] = cpus
    gpus = options.get("num_gpus")
    if gpus:
        resources["GPU"] = gpus
    return resources


def runtime_env_json(env):
    if not env:
        return None
    return json.dumps(env, sort_keys=True)


def strategy_of(options):
    """The scheduling strategy dict the core reads, or None for the default."""
    from moray.util.placement_group import PlacementGroup
    from moray.util.scheduling_strategies import (
        NodeAffinitySchedulingStrategy, PlacementGroupSchedulingStrategy)

    strategy = options.get("scheduling_strategy")
    group = options.get("placement_group")
    if group is not None and group != "default":
        if strategy is not None:
            raise ValueError("scheduling_strategy and placement_group cannot both be given")
        strategy = PlacementGroupSchedulingStrategy(
            group, options.get("placement_group_bundle_index", -1),
            options.get("placement_group_capture_child_tasks"))
    if strategy is None or strategy == "DEFAULT":
        return None
    if strategy == "SPREAD":
        return {"kind": 1}
    if isinstance(strategy, NodeAffinitySchedulingStrategy):
        try:
            node_id = bytes.fromhex(strategy.node_id)
        except (TypeError, ValueError):
            raise ValueError(
                f"NodeAffinitySchedulingStrategy: {strategy.node_id!r} is not a node id "
                f"(hex, as moray.nodes() gives them)") from None
        return {"kind": 2, "node_id": node_id, "soft": bool(strategy.soft)}
    if isinstance(strategy, PlacementGroupSchedulingStrategy):
        pg = strategy.placement_group
        if not isinstance(pg, PlacementGroup):
            raise TypeError("PlacementGroupSchedulingStrategy needs a PlacementGroup")
        index = strategy.placement_group_bundle_index
        return {"kind": 3, "placement_group_id": bytes.fromhex(pg.id.hex()),
                "bundle_index": -1 if index is None else index,
                "capture_child_tasks": bool(strategy.placement_group_capture_child_tasks)}
    raise ValueError(
        f"scheduling_strategy must be 'DEFAULT', 'SPREAD', a PlacementGroupSchedulingStrategy "
        f"or a NodeAffinitySchedulingStrategy, not {strategy!r}")


def core_options(options, default_cpus):
    """The options dict the native module reads (resources, strategy, runtime_env)."""
    out = {"resources": resources_of(options, default_cpus)}
    strategy = strategy_of(options)
    if strategy is not None:
        out["strategy"] = strategy
    env = runtime_env_json(options.get("runtime_env"))
    if env:
        out["runtime_env"] = env
    if options.get("name"):
        out["name"] = options["name"]
    return out


def task_options(options, name, num_returns=None):
    """The core options of a task call: resources (one CPU by default), strategy, env, name,
    returns and retries."""
    out = core_options(options, default_cpus=1)
    if num_returns is None:
        num_returns = options.get("num_returns")
        num_returns = 1 if num_returns is None else num_returns
    out["num_returns"] = num_returns
    out.setdefault("name", name)
    max_retries = options.get("max_retries")
    out["max_retries"] = 3 if max_retries is None else max_retries
    out["retry_exceptions"] = bool(options.get("retry_exceptions", False))
    return out


def actor_options(options, default_concurrency):
    """The core options of an actor creation: resources (one CPU to schedule and none held
    unless given, Ray's default), name, namespace, lifetime, restarts and concurrency."""
    from moray._private import state

    out = core_options(options, default_cpus=0)
    if not any(options.get(k) for k in ("num_cpus", "num_gpus", "resources")):
        out["resources"] = {}
    name = options.get("name")
    if name is not None and not name:
        raise ValueError("an actor's name cannot be empty")
    if name:
        out["name"] = name
    else:
        out.pop("name", None)
    namespace = options.get("namespace")
    out["namespace"] = state.namespace if namespace is None else namespace
    out["detached"] = options.get("lifetime") == "detached"
    if out["detached"] and not name:
        raise ValueError("a detached actor must have a name")
    out["get_if_exists"] = bool(options.get("get_if_exists", False))
    if out["get_if_exists"] and not name:
        raise ValueError("get_if_exists needs a name")
    for key in ("max_restarts", "max_task_retries"):
        if options.get(key) is not None:
            out[key] = options[key]
    concurrency = options.get("max_concurrency")
    out["max_concurrency"] = default_concurrency if concurrency is None else concurrency
    return out
