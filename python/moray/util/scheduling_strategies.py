"""Where a task or actor may run (Ray's ray.util.scheduling_strategies)."""


class PlacementGroupSchedulingStrategy:
    def __init__(self, placement_group, placement_group_bundle_index=-1,
                 placement_group_capture_child_tasks=None):
        self.placement_group = placement_group
        self.placement_group_bundle_index = placement_group_bundle_index
        self.placement_group_capture_child_tasks = placement_group_capture_child_tasks


class NodeAffinitySchedulingStrategy:
    def __init__(self, node_id, soft, _spill_on_unavailable=False, _fail_on_unavailable=False):
        if _spill_on_unavailable or _fail_on_unavailable:
            raise ValueError("_spill_on_unavailable and _fail_on_unavailable are not supported")
        self.node_id = node_id
        self.soft = soft
