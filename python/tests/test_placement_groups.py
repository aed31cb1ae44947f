import pytest

import moray
from moray.util.placement_group import (placement_group, placement_group_table,
                                        remove_placement_group)
from moray.util.scheduling_strategies import PlacementGroupSchedulingStrategy


def test_a_group_is_created_used_and_removed(cluster):
    pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="PACK")
    assert pg.wait(30)
    assert moray.get(pg.ready(), timeout=30)
    assert placement_group_table(pg)["state"] == "CREATED"

    @moray.remote(num_cpus=1)
    def inside():
        return "ran"

    strategy = PlacementGroupSchedulingStrategy(pg, placement_group_bundle_index=1)
    assert moray.get(inside.options(scheduling_strategy=strategy).remote(), timeout=30) == "ran"

    @moray.remote(num_cpus=1)
    class InGroup:
        def where(self):
            return "actor"

    actor = InGroup.options(scheduling_strategy=PlacementGroupSchedulingStrategy(pg)).remote()
    assert moray.get(actor.where.remote(), timeout=30) == "actor"
    remove_placement_group(pg)
    assert placement_group_table(pg)["state"] == "REMOVED"


def test_bad_bundles_and_strategies_are_errors(cluster):
    with pytest.raises(ValueError):
        placement_group([])
    with pytest.raises(ValueError):
        placement_group([{"CPU": 1}], strategy="SIDEWAYS")
    with pytest.raises(ValueError):
        placement_group([{"CPU": 0}])


def test_an_infeasible_group_stays_pending(cluster):
    pg = placement_group([{"CPU": 1000}])
    assert not pg.wait(1)
    assert placement_group_table(pg)["state"] == "PENDING"
    remove_placement_group(pg)
