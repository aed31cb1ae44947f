"""moray.util.metrics: a task's Counter, Gauge and Histogram reach the node's Prometheus endpoint
(found through the discovery file), with their tags; Ray's argument checks."""

import json
import os
import re
import subprocess
import urllib.error
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


# <build>/python/moray/__init__.py -> <build>/bin/moray
MORAY_BIN = os.environ.get("MORAY_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(moray.__file__)))),
    "bin", "moray")


def token():
    """The cluster token this user's clusters use (what Prometheus would be given)."""
    return subprocess.run([MORAY_BIN, "get-auth-token"], check=True, capture_output=True,
                          text=True, timeout=30).stdout.strip()


def endpoint(session_dir):
    with open(os.path.join(session_dir, "prom_metrics_service_discovery.json")) as f:
        return json.load(f)[0]["targets"][0]


def scrape(session_dir):
    request = urllib.request.Request(f"http://{endpoint(session_dir)}/metrics",
                                     headers={"Authorization": f"Bearer {token()}"})
    with urllib.request.urlopen(request, timeout=10) as response:
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


def test_the_endpoint_wants_the_cluster_token(cluster):
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://{endpoint(cluster['session_dir'])}/metrics", timeout=10)
    assert missing.value.code == 401
    wrong = urllib.request.Request(f"http://{endpoint(cluster['session_dir'])}/metrics",
                                   headers={"Authorization": "Bearer wrong-token"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(wrong, timeout=10)
    assert refused.value.code == 403
