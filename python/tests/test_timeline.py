"""moray.timeline (Ray's ray.timeline) against the module's private cluster: the events of tasks,
a failed task and an actor, and the file it writes (the trace itself is tested span by span in
C++, tests/timeline_test.cc)."""

import json

import pytest

import moray
from helpers import wait_for
from moray.util import state


@moray.remote
def traced(x):
    return x * 2


@moray.remote
def traced_failure():
    raise ValueError("traced failure")


@moray.remote
class TracedActor:
    def ping(self):
        return "pong"


@pytest.fixture(scope="module")
def work(cluster):
    assert moray.get([traced.remote(i) for i in range(3)]) == [0, 2, 4]
    with pytest.raises(Exception):
        moray.get(traced_failure.remote())
    actor = TracedActor.remote()
    assert moray.get(actor.ping.remote()) == "pong"

    def all_final():
        done = state.list_tasks(filters=[("state", "=", "FINISHED")], limit=1000)
        failed = state.list_tasks(filters=[("state", "=", "FAILED")], limit=1000,
                                  raise_on_missing_output=False)
        names = [t.func_or_class_name for t in done]
        return (names.count("traced") == 3 and any(n.endswith("ping") for n in names)
                and len(failed) >= 1)

    wait_for(all_final, what="the traced tasks, the actor call and the failure final in the GCS")
    return actor


def spans(events):
    return [e for e in events if e["ph"] == "X"]


def test_timeline_returns_one_span_per_attempt_that_ran(work):
    events = moray.timeline()
    assert isinstance(events, list)
    traced_spans = [e for e in spans(events) if e["args"]["func_or_class_name"] == "traced"]
    assert len(traced_spans) == 3
    for span in traced_spans:
        assert span["name"] == "traced"
        assert span["dur"] > 0 and span["ts"] > 0
        assert span["args"]["state"] == "FINISHED"
        assert span["args"]["job_id"] == moray.get_runtime_context().get_job_id()
    failed = [e for e in spans(events) if e["args"]["state"] == "FAILED"]
    assert [e["args"]["func_or_class_name"] for e in failed].count("traced_failure") == 1
    assert any(e["name"].endswith("ping") for e in spans(events))
    # Every span's node and worker are named by metadata events.
    processes = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    threads = {(e["pid"], e["tid"]) for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    for span in spans(events):
        assert span["pid"] in processes and (span["pid"], span["tid"]) in threads


def test_timeline_writes_the_trace_to_a_file(work, tmp_path):
    path = tmp_path / "trace.json"
    assert moray.timeline(filename=str(path)) is None
    trace = json.loads(path.read_text())
    assert len([e for e in spans(trace["traceEvents"])
                if e["args"]["func_or_class_name"] == "traced"]) == 3
