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
