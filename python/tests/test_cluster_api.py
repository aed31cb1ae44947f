import os

import pytest

import moray


def test_resources_nodes_and_context(cluster):
    assert moray.is_initialized()
    assert moray.cluster_resources()["CPU"] == 4
    assert 0 <= moray.available_resources().get("CPU", 0) <= 4
    nodes = moray.nodes()
    assert len(nodes) == 1 and nodes[0]["Alive"]
    context = moray.get_runtime_context()
    assert context.get_job_id() and context.get_node_id() == nodes[0]["NodeID"]

    @moray.remote
    def inside():
        c = moray.get_runtime_context()
        return c.get_task_id(), c.get_node_id()

    task_id, node_id = moray.get(inside.remote())
    assert task_id and node_id == nodes[0]["NodeID"]


def test_init_twice_is_an_error_unless_ignored(cluster):
    with pytest.raises(RuntimeError, match="ignore_reinit_error"):
        moray.init()
    moray.init(ignore_reinit_error=True)


def test_env_vars_at_task_and_actor_level(cluster):
    @moray.remote
    def read(name):
        return os.environ.get(name)

    env = {"env_vars": {"MORAY_PY_TEST": "task-level"}}
    assert moray.get(read.options(runtime_env=env).remote("MORAY_PY_TEST")) == "task-level"
    assert moray.get(read.remote("MORAY_PY_TEST")) is None

    @moray.remote
    class Reader:
        def read(self, name):
            return os.environ.get(name)

    reader = Reader.options(runtime_env={"env_vars": {"MORAY_PY_TEST": "actor"}}).remote()
    assert moray.get(reader.read.remote("MORAY_PY_TEST")) == "actor"


def test_an_unsupported_runtime_env_field_is_an_error(cluster):
    @moray.remote
    def noop():
        return None

    with pytest.raises(Exception, match="pip"):
        noop.options(runtime_env={"pip": ["requests"]}).remote()


def test_ray_libraries_are_out_of_scope():
    for name in ("data", "train", "tune", "serve"):
        with pytest.raises(ImportError, match="not part of moray"):
            __import__(f"moray.{name}")


def test_node_affinity_and_spread_strategies(cluster):
    from moray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    @moray.remote
    def where():
        return moray.get_runtime_context().get_node_id()

    node_id = moray.nodes()[0]["NodeID"]
    hard = NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)
    assert moray.get(where.options(scheduling_strategy=hard).remote(), timeout=60) == node_id
    assert moray.get(where.options(scheduling_strategy="SPREAD").remote(), timeout=60) == node_id
    with pytest.raises(ValueError, match="not a node id"):
        where.options(scheduling_strategy=NodeAffinitySchedulingStrategy("zz", soft=True)).remote()
    with pytest.raises(ValueError, match="scheduling_strategy"):
        where.options(scheduling_strategy="SIDEWAYS").remote()
