"""The dashboard's HTTP surface on a real `moray start --head` cluster: the bind address and the
start output, the token check (401/403), the browser login (cookie), and the /api/v0 endpoints
over the cluster's state (filters, paging and their errors, the metrics samples)."""

import json
import os
import socket
import shutil
import subprocess
import tempfile
import urllib.parse

import moray
import pytest

from conftest import MORAY, TOKEN, http, run_moray, wait_for

BEARER = {"Authorization": "Bearer " + TOKEN}


@moray.remote
def http_probe(x):
    return x * 2


@moray.remote
class HttpCounter:
    def __init__(self):
        self.n = 0

    def add(self):
        self.n += 1
        return self.n


def api(cluster, path, **params):
    query = urllib.parse.urlencode(params, doseq=True)
    status, _, body = http(f"{cluster.url}{path}?{query}", headers=BEARER)
    return status, json.loads(body)


@pytest.fixture(scope="module")
def driver(cluster):
    moray.init(address=cluster.gcs)
    yield
    moray.shutdown()


def non_loopback_address():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_start_serves_on_loopback_and_says_how_to_log_in(cluster):
    assert cluster.url.startswith("http://127.0.0.1:"), cluster.start_output
    assert "moray get-auth-token" in cluster.start_output
    address = non_loopback_address()
    if address:  # loopback only: the machine's other address has nothing on that port
        port = int(cluster.url.rsplit(":", 1)[1])
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=5).close()


def test_api_needs_the_token(cluster):
    status, _, body = http(cluster.url + "/api/v0/nodes")
    assert status == 401 and "Authorization: Bearer" in json.loads(body)["error"]
    status, _, body = http(cluster.url + "/api/v0/nodes", headers={"Authorization": "Bearer no"})
    assert status == 403 and TOKEN not in body.decode()
    status, page = api(cluster, "/api/v0/nodes")
    assert status == 200
    [node] = page["result"]
    assert node["state"] == "ALIVE" and node["resources_total"]["CPU"] == 4
    assert node["object_store_memory"] > 0
    # Joined with the raylet's report once it sent one.
    wait_for(lambda: "object_store_used" in api(cluster, "/api/v0/nodes")[1]["result"][0],
             what="the node's usage report")
    node = api(cluster, "/api/v0/nodes")[1]["result"][0]
    assert node["object_store_used"] >= 0 and node["resources_available"]["CPU"] <= 4


def test_pages_send_a_browser_to_the_login_page(cluster):
    status, headers, _ = http(cluster.url + "/tasks.html")
    assert status == 303 and headers["Location"] == "/login.html?next=/tasks.html"
    status, _, body = http(cluster.url + "/login.html")
    assert status == 200 and b'name="token"' in body
    status, _, _ = http(cluster.url + "/app.js")
    assert status == 401


def login(cluster, token, origin=None):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if origin:
        headers["Origin"] = origin
    form = urllib.parse.urlencode({"token": token, "next": "/tasks.html"}).encode()
    return http(cluster.url + "/login", method="POST", headers=headers, data=form)


def test_cookie_login_reads_but_does_not_write_and_logout_ends_it(cluster):
    status, headers, _ = login(cluster, "wrong")
    assert status == 303 and headers["Location"].startswith("/login.html?error=1")
    assert headers["Set-Cookie"] is None
    status, _, _ = login(cluster, TOKEN, origin="http://evil.example")
    assert status == 403
    status, headers, _ = login(cluster, TOKEN, origin=cluster.url)
    assert status == 303 and headers["Location"] == "/tasks.html"
    set_cookie = headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    assert TOKEN not in set_cookie
    cookie = {"Cookie": set_cookie.split(";")[0]}
    status, _, body = http(cluster.url + "/tasks.html", headers=cookie)
    assert status == 200 and b"tasks.js" in body
    status, _, _ = http(cluster.url + "/api/v0/actors", headers=cookie)
    assert status == 200
    # A cookie never submits a job: another page on this host could make the browser post.
    status, _, body = http(cluster.url + "/api/jobs/", method="POST",
                           headers={**cookie, "Content-Type": "application/json"},
                           data=b'{"entrypoint": "true"}')
    assert status == 403 and b"Bearer" in body
    status, _, _ = http(cluster.url + "/logout", method="POST", headers=cookie)
    assert status == 303
    status, _, _ = http(cluster.url + "/api/v0/actors", headers=cookie)
    assert status == 401


def test_tasks_are_filtered_and_paged_at_the_source(cluster, driver):
    assert moray.get([http_probe.remote(i) for i in range(25)]) == [2 * i for i in range(25)]
    wait_for(lambda: api(cluster, "/api/v0/tasks", filter=["name=http_probe", "state=FINISHED"],
                         limit=1)[1]["total"] == 25, what="25 http_probe tasks FINISHED")
    seen = []
    for offset in range(0, 25, 10):
        status, page = api(cluster, "/api/v0/tasks", filter="name=http_probe", offset=offset,
                           limit=10)
        assert status == 200 and page["total"] == 25 and page["offset"] == offset
        assert page["num_truncated"] == 25 - len(page["result"])
        seen += [row["task_id"] for row in page["result"]]
    assert len(seen) == 25 and len(set(seen)) == 25
    status, page = api(cluster, "/api/v0/tasks", filter="name=http_probe", offset=100)
    assert status == 200 and page["result"] == [] and page["total"] == 25


def test_bad_parameters_are_named(cluster):
    status, body = api(cluster, "/api/v0/tasks", limit=0)
    assert status == 400 and "'limit'" in body["error"] and "10000" in body["error"]
    status, body = api(cluster, "/api/v0/tasks", offset="-1")
    assert status == 400 and "'offset'" in body["error"]
    status, body = api(cluster, "/api/v0/tasks", filter="colour=red")
    assert status == 400 and "colour" in body["error"]
    status, body = api(cluster, "/api/v0/actors", filter="state")
    assert status == 400 and "KEY=VALUE" in body["error"]
    status, body = api(cluster, "/api/v0/metrics", since="yesterday")
    assert status == 400 and "'since'" in body["error"]


def test_actors_jobs_groups_and_workers(cluster, driver):
    counter = HttpCounter.remote()
    assert moray.get(counter.add.remote()) == 1
    status, page = api(cluster, "/api/v0/actors", filter=["class_name=HttpCounter", "state=ALIVE"])
    assert status == 200 and page["total"] == 1
    assert page["result"][0]["pid"] > 0
    status, page = api(cluster, "/api/v0/jobs")
    job_id = moray.get_runtime_context().get_job_id()
    assert status == 200 and job_id in [row["job_id"] for row in page["result"]]
    status, page = api(cluster, "/api/v0/placement_groups")
    assert status == 200 and page["result"] == []
    status, page = api(cluster, "/api/v0/workers", filter="is_alive=true")
    assert status == 200 and page["total"] >= 1
    status, page = api(cluster, "/api/v0/actors", filter="class_name=HttpCounter", offset=1)
    assert status == 200 and page["result"] == [] and page["total"] == 1


def test_metrics_samples_have_history(cluster, driver):
    def two_samples():
        status, body = api(cluster, "/api/v0/metrics")
        return status == 200 and len(body["samples"]) >= 2 and body
    body = wait_for(two_samples, timeout=30, what="two metrics samples")
    last = body["samples"][-1]
    assert last["cpu_total"] == 4 and last["alive_nodes"] == 1
    assert last["object_store_capacity"] > 0
    assert set(last["tasks_by_state"]) >= {"RUNNING", "FINISHED", "FAILED"}
    status, newer = api(cluster, "/api/v0/metrics", since=last["time_ms"])
    assert status == 200 and all(s["time_ms"] > last["time_ms"] for s in newer["samples"])


def test_disabled_auth_needs_no_login_and_warns_off_loopback(cluster):
    root = tempfile.mkdtemp(prefix="moray-dashboard-open-")
    env = dict(os.environ, MORAY_TMPDIR=root, HOME=root, RAY_AUTH_MODE="disabled")
    env.pop("RAY_AUTH_TOKEN", None)
    try:
        started = run_moray(["start", "--head", "--port=0", "--node-manager-port=0",
                             "--dashboard-port=0", "--dashboard-host=0.0.0.0", "--num-cpus=1"],
                            env)
        assert started.returncode == 0, started.stdout + started.stderr
        assert "get-auth-token" not in started.stdout
        assert ("the dashboard listens on 0.0.0.0 with no login" in started.stderr), started.stderr
        url = started.stdout.split("Dashboard: ")[1].split()[0]
        status, _, body = http(url + "/")
        assert status == 200 and b"overview.js" in body
        status, headers, _ = http(url + "/login")
        assert status == 303 and headers["Location"] == "/"
        status, _, _ = http(url + "/api/v0/nodes")
        assert status == 200
    finally:
        run_moray(["stop"], env)
        shutil.rmtree(root, ignore_errors=True)


@moray.remote
class HttpTalker:
    def say(self, text):
        print(text, flush=True)
        return text


def test_logs_are_listed_and_read_through_the_raylet(cluster, driver):
    talker = HttpTalker.remote()
    assert moray.get(talker.say.remote("talker line one")) == "talker line one"
    [actor] = api(cluster, "/api/v0/actors", filter="class_name=HttpTalker")[1]["result"]
    def line_logged():
        status, body = api(cluster, "/api/v0/logs/actor", actor_id=actor["actor_id"])
        return status == 200 and "talker line one" in body["data"] and body
    body = wait_for(line_logged, what="the actor's line in its log")
    assert body["file_name"].endswith(".out") and str(actor["pid"]) in body["file_name"]
    assert body["worker_alive"] and body["next_offset"] == body["offset"] + len(body["data"].encode())
    # The next read from next_offset holds only what came after.
    assert moray.get(talker.say.remote("talker line two")) == "talker line two"
    def second():
        status, more = api(cluster, "/api/v0/logs/actor", actor_id=actor["actor_id"],
                           offset=body["next_offset"])
        return status == 200 and "talker line two" in more["data"] and more
    more = wait_for(second, what="the second line")
    assert "talker line one" not in more["data"]
    status, listing = api(cluster, "/api/v0/logs")
    [node] = listing["nodes"]
    names = [f["name"] for f in node["files"]]
    assert status == 200 and "raylet.out" in names and body["file_name"] in names
    status, raylet = api(cluster, "/api/v0/logs/file", node_id=node["node_id"], name="raylet.out",
                         tail=5)
    assert status == 200 and raylet["data"].count("\n") <= 5
    status, err = api(cluster, "/api/v0/logs/actor", actor_id="00" * 16)
    assert status in (400, 404) and "actor" in err["error"]
    status, err = api(cluster, "/api/v0/logs/file", node_id=node["node_id"], name="../../etc/passwd")
    assert status == 400
    status, err = api(cluster, "/api/v0/logs/file", node_id="zz")
    assert status == 400 and "'node_id'" in err["error"]
