"""moray.util.state against the module's private cluster: Ray's list/get/summarize calls, their
filters, limit, detail and errors (the rows and summaries are `moray list`'s and `moray summary`'s,
tested line by line in C++)."""

import time
import warnings

import pytest

import moray
from helpers import wait_for
from moray.util import state
from moray.util.placement_group import placement_group, remove_placement_group


@moray.remote
def state_probe(x):
    return x + 1


@moray.remote
def ref_probe():
    return "ref"


@moray.remote
class Tally:
    def __init__(self):
        self.n = 0

    def add(self):
        self.n += 1
        return self.n


@pytest.fixture(scope="module")
def work(cluster):
    assert moray.get([state_probe.remote(i) for i in range(3)]) == [1, 2, 3]
    tally = Tally.remote()
    assert moray.get(tally.add.remote()) == 1
    # Task events reach the GCS in batches, the owner's (FINISHED) and the worker's (its node).
    def probes_reported():
        probes = state.list_tasks(filters=[("func_or_class_name", "=", "state_probe"),
                                           ("state", "=", "FINISHED")])
        return len(probes) == 3 and all(p.node_id for p in probes)

    wait_for(probes_reported, what="the three state_probe tasks FINISHED on the node")
    return tally


def test_list_tasks_filters_and_attribute_access(work):
    tasks = state.list_tasks(filters=[("func_or_class_name", "=", "state_probe")])
    assert len(tasks) == 3
    for task in tasks:
        assert task.state == task["state"] == "FINISHED"
        assert task.type == "NORMAL_TASK" and task.name == "state_probe"
        assert task.job_id == moray.get_runtime_context().get_job_id()
        assert task.task_id and task.node_id
        assert "error_message" not in task  # a detail column
        with pytest.raises(AttributeError, match="no field 'error_message'"):
            task.error_message
    assert state.list_tasks(filters=[("func_or_class_name", "=", "state_probe"),
                                     ("state", "!=", "finished")]) == []
    detailed = state.list_tasks(filters=[("func_or_class_name", "=", "state_probe")],
                                detail=True)
    assert all("error_message" in t and "required_resources" in t for t in detailed)
    one = state.get_task(tasks[0].task_id)
    assert one.task_id == tasks[0].task_id and one.state == "FINISHED"
    assert state.get_task("ff" * 24) is None
    ref = ref_probe.remote()
    assert moray.get(ref) == "ref"
    wait_for(lambda: state.get_task(ref), what="the task of a ref")
    assert state.get_task(ref).task_id == ref.task_id().hex()


def test_limit_warns_about_what_it_left_out(work):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tasks = state.list_tasks(filters=[("func_or_class_name", "=", "state_probe")], limit=2)
    assert len(tasks) == 2
    assert any("Limit last 2 entries (Total 3)" in str(w.message) for w in caught)
    with pytest.raises(ValueError, match="limit"):
        state.list_tasks(limit=0)


def test_list_and_get_actors(work):
    [tally] = state.list_actors(filters=[("class_name", "=", "Tally")])
    assert tally.state == "ALIVE" and tally.pid > 0
    assert tally.job_id == moray.get_runtime_context().get_job_id()
    assert tally.actor_id == work._actor_id.hex()
    assert state.get_actor(tally.actor_id).class_name == "Tally"
    assert state.get_actor("00" * 16) is None
    assert state.list_actors(filters=[("state", "=", "DEAD"), ("class_name", "=", "Tally")]) == []


def test_nodes_jobs_workers(work):
    [node] = state.list_nodes()
    assert node.state == "ALIVE" and node.is_head_node is True
    assert node.node_id == moray.get_runtime_context().get_node_id()
    assert state.get_node(node.node_id).node_ip == node.node_ip
    job_id = moray.get_runtime_context().get_job_id()
    assert [j.job_id for j in state.list_jobs(filters=[("job_id", "=", job_id)])] == [job_id]
    assert state.get_job(job_id).status == "RUNNING"
    workers = state.list_workers(filters=[("is_alive", "=", True)])
    assert workers and all(w.is_alive and w.pid > 0 for w in workers)


def test_objects_and_placement_groups(work):
    ref = moray.put(b"x" * 200_000)
    hex_id = ref.hex()
    # The GCS shows each process's snapshot of up to a second ago: the first may be taken between
    # the put's seal (pinned) and the handle's registration, so wait for the settled state.
    wait_for(lambda: [e for e in state.get_objects(hex_id) if e.reference_type == "LOCAL_REFERENCE"],
             what="the put object in the GCS, held by its handle")
    [entry] = state.get_objects(hex_id)
    assert entry.object_id == hex_id and entry.reference_type == "LOCAL_REFERENCE"
    summary = state.summarize_objects()["cluster"]
    assert summary.total_objects >= 1 and summary.summary_by == "callsite"
    assert summary.summary["disabled"]["total_objects"] == summary.total_objects

    pg = placement_group([{"CPU": 1}], strategy="PACK", name="state-pg")
    assert pg.wait(30)
    [row] = state.list_placement_groups(filters=[("name", "=", "state-pg")])
    assert row.state == "CREATED"
    remove_placement_group(pg)
    assert state.get_placement_group(row.placement_group_id).state == "REMOVED"


def test_summaries(work):
    tasks = state.summarize_tasks()["cluster"]
    assert tasks.summary_by == "func_name"
    probe = tasks.summary["state_probe"]
    assert probe.state_counts == {"FINISHED": 3} and probe.type == "NORMAL_TASK"
    assert tasks.total_tasks >= 3 and tasks.total_actor_scheduled >= 1
    actors = state.summarize_actors()["cluster"]
    assert actors.summary["Tally"] == {"class_name": "Tally", "state_counts": {"ALIVE": 1}}
    assert actors.total_actors >= 1


def test_bad_filters_are_value_errors(work):
    with pytest.raises(ValueError, match="'colour'"):
        state.list_tasks(filters=[("colour", "=", "red")])
    with pytest.raises(ValueError, match="'colour'"):
        state.list_nodes(filters=[("colour", "=", "red")])
    with pytest.raises(ValueError, match="predicate '>'"):
        state.list_actors(filters=[("pid", ">", 1)])
    with pytest.raises(ValueError, match="tuple"):
        state.list_actors(filters=["state=ALIVE"])


def test_timeout_and_explain_are_checked(cluster):
    with pytest.raises(ValueError, match="timeout"):
        state.list_actors(timeout=0)
    with pytest.raises(ValueError, match="_explain"):
        state.list_actors(_explain=True)
    assert isinstance(state.list_nodes(timeout=10), list)
