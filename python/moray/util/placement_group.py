"""Placement groups (Ray's ray.util.placement_group): bundles of resources reserved together."""

import time

from moray import _moray_core as core
from moray._private import state

_STRATEGIES = {"PACK": 0, "SPREAD": 1, "STRICT_PACK": 2, "STRICT_SPREAD": 3}
_STATES = {0: "PENDING", 1: "PREPARED", 2: "CREATED", 3: "REMOVED", 4: "RESCHEDULING"}


class PlacementGroupID:
    def __init__(self, hex_id):
        self._hex = hex_id

    def hex(self):
        return self._hex

    def binary(self):
        return bytes.fromhex(self._hex)

    def __eq__(self, other):
        return isinstance(other, PlacementGroupID) and other._hex == self._hex

    def __hash__(self):
        return hash(self._hex)

    def __repr__(self):
        return f"PlacementGroupID({self._hex})"


class PlacementGroup:
    def __init__(self, id, bundle_cache=None):
        self.id = id if isinstance(id, PlacementGroupID) else PlacementGroupID(id)
        self._bundles = bundle_cache

    def ready(self):
        """An ObjectRef that becomes ready once the group is created."""
        global _ready_task
        if _ready_task is None:
            from moray import remote

            _ready_task = remote(num_cpus=0)(_placement_group_ready)
        return _ready_task.options(scheduling_strategy=_strategy_for(self)).remote()

    def wait(self, timeout_seconds=30):
        """Whether the group was created within `timeout_seconds`."""
        if timeout_seconds is None:
            timeout_seconds = -1
        deadline = None if timeout_seconds < 0 else time.monotonic() + timeout_seconds
        while True:
            step = 1 if deadline is None else max(0, min(1, int(deadline - time.monotonic() + 0.999)))
            if core.wait_placement_group(self.id.hex(), step) == 2:
                return True
            info = core.placement_group_info(self.id.hex(), "", "")
            if info is None or info["state"] == 3:
                return False
            if deadline is not None and time.monotonic() >= deadline:
                return False

    @property
    def bundle_specs(self):
        if self._bundles is None:
            info = core.placement_group_info(self.id.hex(), "", "")
            self._bundles = [dict(b) for b in info["bundles"]] if info else []
        return self._bundles

    @property
    def bundle_count(self):
        return len(self.bundle_specs)

    def __eq__(self, other):
        return isinstance(other, PlacementGroup) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __reduce__(self):
        return PlacementGroup, (self.id.hex(), self._bundles)


def _placement_group_ready():
    return True


_ready_task = None  # the remote function above, made (and exported) once


def _strategy_for(group):
    from moray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    return PlacementGroupSchedulingStrategy(group)


def placement_group(bundles, strategy="PACK", name="", lifetime=None, _soft_target_node_id=None,
                    bundle_label_selector=None):
    if not state.connected:
        from moray import init

        init()
    if not isinstance(bundles, list) or not bundles:
        raise ValueError("bundles must be a non-empty list of resource dicts")
    for bundle in bundles:
        if not isinstance(bundle, dict) or not bundle:
            raise ValueError(f"each bundle must be a non-empty dict of resources, not {bundle!r}")
        for name_, amount in bundle.items():
            if not isinstance(amount, (int, float)) or amount < 0:
                raise ValueError(f"bundle resource {name_!r} must be a non-negative number")
        if all(amount == 0 for amount in bundle.values()):
            raise ValueError(f"Bundles cannot be an empty dictionary or resources with only 0 "
                             f"values. Bundles: {bundles}")
    if strategy not in _STRATEGIES:
        raise ValueError(f"Invalid placement group strategy {strategy!r}; use one of "
                         f"{sorted(_STRATEGIES)}")
    if lifetime not in (None, "detached"):
        raise ValueError("lifetime must be None or 'detached'")
    if _soft_target_node_id is not None or bundle_label_selector is not None:
        raise ValueError("_soft_target_node_id and bundle_label_selector are not supported")
    group_id = core.create_placement_group(
        [{k: float(v) for k, v in b.items()} for b in bundles], _STRATEGIES[strategy], name or "",
        lifetime == "detached", state.namespace)
    return PlacementGroup(group_id, [dict(b) for b in bundles])


def remove_placement_group(placement_group):
    if not isinstance(placement_group, PlacementGroup):
        raise TypeError("remove_placement_group needs a PlacementGroup")
    core.remove_placement_group(placement_group.id.hex())


def get_placement_group(placement_group_name, namespace=None):
    info = core.placement_group_info("", placement_group_name,
                                     state.namespace if namespace is None else namespace)
    if info is None:
        raise ValueError(f"Failed to look up placement group with name: {placement_group_name}")
    return PlacementGroup(info["placement_group_id"])


def placement_group_table(placement_group=None):
    def row(info):
        return {"placement_group_id": info["placement_group_id"], "name": info["name"],
                "bundles": {i: dict(b) for i, b in enumerate(info["bundles"])},
                "strategy": {v: k for k, v in _STRATEGIES.items()}.get(info["strategy"]),
                "state": _STATES.get(info["state"], "UNKNOWN")}

    if placement_group is not None:
        info = core.placement_group_info(placement_group.id.hex(), "", "")
        return row(info) if info else {}
    table = {}
    for group_id in core.placement_group_ids():
        info = core.placement_group_info(group_id, "", "")
        if info:
            table[group_id] = row(info)
    return table
