# Placement groups, in the primer's spirit (Ray's basic example): reserve two 1-CPU bundles
# atomically, run a task and an actor inside them, then give the reservation back.
import moray as ray
from moray.util.placement_group import (placement_group, placement_group_table,
                                        remove_placement_group)
from moray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

ray.init(num_cpus=2)

# Reserve both CPUs of the node as one unit; PACK keeps the bundles together.
pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="PACK")
ray.get(pg.ready(), timeout=30)
print("placement group", placement_group_table(pg)["state"])


@ray.remote(num_cpus=1)
def square(x):
    return x * x


@ray.remote(num_cpus=1)
class Accumulator:
    def __init__(self):
        self.total = 0

    def add(self, x):
        self.total += x
        return self.total


in_bundle_0 = PlacementGroupSchedulingStrategy(placement_group=pg, placement_group_bundle_index=0)
in_bundle_1 = PlacementGroupSchedulingStrategy(placement_group=pg, placement_group_bundle_index=1)
print("task in bundle 0:", ray.get(square.options(scheduling_strategy=in_bundle_0).remote(3)))
acc = Accumulator.options(scheduling_strategy=in_bundle_1).remote()
print("actor in bundle 1:", ray.get([acc.add.remote(i) for i in range(1, 4)]))

# The cluster's CPUs are all reserved: nothing outside the group fits until it is removed.
ray.kill(acc)
remove_placement_group(pg)
print("placement group", placement_group_table(pg)["state"])
print("outside the group:", ray.get(square.remote(4), timeout=30))
