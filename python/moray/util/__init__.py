"""moray.util: placement groups, scheduling strategies, the state API, metrics."""

from moray.util.placement_group import (PlacementGroup, get_placement_group, placement_group,
                                        placement_group_table, remove_placement_group)
from moray.util import metrics, scheduling_strategies, state

__all__ = ["PlacementGroup", "placement_group", "remove_placement_group", "get_placement_group",
           "placement_group_table", "scheduling_strategies", "state", "metrics"]
