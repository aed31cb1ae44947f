"""moray.util.metrics: a task's Counter, Gauge and Histogram reach the node's Prometheus endpoint
(found through the discovery file), with their tags; Ray's argument checks."""

import json
import os
import re
import urllib.request

import pytest

import moray
from helpers import wait_for
from moray.util.metrics import Counter, Gauge, Histogram


@moray.remote
def record():
    requests = Counter("py_requests", description="Requests.", tag_keys=("route",))
    requests.set_default_tags({"route": "/x"})
    requests.inc()
    requests.inc(2.0)
    Gauge("py_depth", tag_keys=("queue",)).set(5, tags={"queue": "a"})
    latency = Histogram("py_latency_ms", boundaries=[1, 10])
    latency.observe(0.5)
    latency.observe(20)
    return True


def scrape(session_dir):
    with open(os.path.join(session_dir, "prom_metrics_service_discovery.json")) as f:
        target = json.load(f)[0]["targets"][0]
    with urllib.request.urlopen(f"http://{target}/metrics", timeout=10) as response:
        return response.read().decode()


def test_task_metrics_reach_the_node_endpoint(cluster):
    assert moray.get(record.remote(), timeout=60)
    text = ""

    def seen():
        nonlocal text
        text = scrape(cluster["session_dir"])
        return re.search(r'^moray_py_requests_total\{route="/x",WorkerId="[0-9a-f]+"\} 3$', text,
                         re.M) is not None

    assert wait_for(seen, timeout=20), text
    assert "# TYPE moray_py_requests_total counter" in text
    assert re.search(r'^moray_py_depth\{queue="a",WorkerId="[0-9a-f]+"\} 5$', text, re.M), text
    assert re.search(r'^moray_py_latency_ms_bucket\{WorkerId="[0-9a-f]+",le="10"\} 1$', text,
                     re.M), text
    assert re.search(r'^moray_py_latency_ms_count\{WorkerId="[0-9a-f]+"\} 2$', text, re.M), text


def test_bad_arguments_are_refused(cluster):
    with pytest.raises(ValueError):
        Counter("bad-name")
    counter = Counter("py_checked", tag_keys=("a",))
    with pytest.raises(ValueError, match="Missing value"):
        counter.inc()
    with pytest.raises(ValueError, match="Unrecognized"):
        counter.inc(tags={"a": "1", "b": "2"})
    with pytest.raises(ValueError):
        counter.inc(-1)
    with pytest.raises(ValueError):
        Histogram("py_no_bounds")
    with pytest.raises(ValueError, match="already defined"):
        Gauge("py_checked", tag_keys=("a",))
