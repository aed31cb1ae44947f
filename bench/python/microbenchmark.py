#!/usr/bin/env python3
"""Moray's Python API measured the way Ray's `ray microbenchmark` measures Ray's
(python/ray/_private/ray_perf.py: same metric names, same work per timed call, per-second rates;
see docs/benchmarks.md), beside this machine's limits measured in the same run by the C++
benchmark (`microbenchmark --baselines`: a TCP round trip between two processes, a warm memcpy).

    python3 bench/python/microbenchmark.py [--filter TEXT] [--metric NAME]... [--list]
        [--windows N] [--window-seconds S] [--warmup-seconds S] [--jsonl PATH] [--json PATH]
        [--baselines-from PATH/TO/microbenchmark] [--num-cpus N]

Run it with the moray package on PYTHONPATH (`make bench` does: build/python). Each result is
appended to --jsonl the moment it is measured ({"metric", "value", "std", "unit"} or {"metric",
"failed"}), as the C++ benchmark does. Exit status 1 if a metric failed.

The metrics (Ray's definitions):
  single_client_tasks_sync     one no-op task, then get it (tasks/s)
  single_client_tasks_async    1000 no-op tasks, then get all (tasks/s)
  1_1_actor_calls_sync         one call to a num_cpus=0 actor, then get it (calls/s)
  1_1_actor_calls_async        1000 calls to that actor, then get all (calls/s)
  single_client_put_calls      put(0) (puts/s)
  single_client_get_calls      get of one put(0) (gets/s)
  single_client_put_gigabytes  put of a 100 Mi int64 numpy array, 838.9 MB (GB/s, 10^9 bytes);
                               Ray puts np.zeros (pages never written: the kernel's zero page) and
                               counts it as 0.8 GB; here the array is written first (warm pages,
                               the work a real array needs) and counted by its bytes
  placement_group_create/removal  100 groups of one {"custom": 0.001} bundle, created, each
                               waited for, removed (groups/s); the cluster has 100 "custom"
Moray's own (not a Ray metric):
  worker_reads_1gb_array_gigabytes  a task gets a put 1 GiB numpy array as its argument and
                               returns its last element; GiB per second of calls. A worker that
                               copied the array could not beat memcpy; a zero-copy view does
                               (the task also checks that the array is a read-only view)

Ray's timeit: a warm-up (Ray's is 1 s after a 10 s sleep; --warmup-seconds here, no sleep), then
--windows windows of at least --window-seconds, each running the call in steps of a tenth of the
warm-up's count; mean ± std of the windows' rates.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

METRICS = [
    ("single_client_get_calls", "gets/s"),
    ("single_client_put_calls", "puts/s"),
    ("single_client_put_gigabytes", "GB/s"),
    ("single_client_tasks_sync", "tasks/s"),
    ("single_client_tasks_async", "tasks/s"),
    ("1_1_actor_calls_sync", "calls/s"),
    ("1_1_actor_calls_async", "calls/s"),
    ("placement_group_create/removal", "groups/s"),
    ("worker_reads_1gb_array_gigabytes", "GB/s"),
]
BASELINES = ["tcp_roundtrip_64b_baseline", "tcp_roundtrip_64b_us_baseline",
             "memcpy_800mb_gigabytes_baseline"]
LARGE_PUT_INT64S = 100 * 1024 * 1024  # as ray_perf.py
PLACEMENT_GROUPS = 100

results = {}
order = []
jsonl = None


def report(name, entry):
    entry = dict(entry)
    results[name] = entry
    if name not in order:
        order.append(name)
    if "failed" in entry:
        print(f"{name:<44} {'FAILED':>14}   {entry['failed']}", flush=True)
    else:
        d = 3 if entry["value"] < 10 else 1
        print(f"{name:<44} {entry['value']:>14,.{d}f}   ± {entry['std']:<10,.{d}f} {entry['unit']}",
              flush=True)
    if jsonl:
        with open(jsonl, "a") as f:
            f.write(json.dumps({"metric": name, **entry}) + "\n")


def timeit(opt, name, unit, fn, multiplier=1.0):
    """Ray's timeit: warm-up, then windows of >= window_seconds in steps of count/10 + 1 calls."""
    try:
        start = time.perf_counter()
        count = 0
        while count == 0 or time.perf_counter() - start < opt.warmup_seconds:
            fn()
            count += 1
        step = count // 10 + 1
        rates = []
        for _ in range(opt.windows):
            start = time.perf_counter()
            count = 0
            while True:
                for _ in range(step):
                    fn()
                count += step
                elapsed = time.perf_counter() - start
                if elapsed >= opt.window_seconds:
                    break
            rates.append(multiplier * count / elapsed)
    except Exception as e:  # noqa: BLE001 - recorded as the metric's failure; the run goes on
        report(name, {"failed": f"{type(e).__name__}: {e}"})
        return
    report(name, {"value": statistics.fmean(rates),
                  "std": statistics.pstdev(rates) if len(rates) > 1 else 0.0, "unit": unit})


def measure_baselines(opt):
    """This machine's limits from the C++ benchmark, run now (no cluster)."""
    if not opt.baselines_from:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "baselines.jsonl")
        run = subprocess.run([opt.baselines_from, "--baselines", "--jsonl", path,
                              "--windows", str(opt.windows), "--window-seconds",
                              str(opt.window_seconds), "--warmup-seconds", str(opt.warmup_seconds)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if run.returncode != 0:
            print(f"microbenchmark.py: {opt.baselines_from} --baselines failed: {run.stderr}",
                  file=sys.stderr)
        if os.path.exists(path):
            for line in open(path):
                entry = json.loads(line)
                report(entry.pop("metric"), entry)


def run_metrics(opt, wanted):
    import numpy as np

    import moray as ray
    from moray.util import placement_group, remove_placement_group

    @ray.remote
    def small_value():
        return b"ok"

    @ray.remote(num_cpus=0)
    class Actor:
        def small_value(self):
            return b"ok"

    ray.init(num_cpus=opt.num_cpus, resources={"custom": 100},
             object_store_memory=opt.object_store_memory)
    try:
        if "single_client_get_calls" in wanted:
            value = ray.put(0)
            timeit(opt, "single_client_get_calls", "gets/s", lambda: ray.get(value))
            del value
        if "single_client_put_calls" in wanted:
            timeit(opt, "single_client_put_calls", "puts/s", lambda: ray.put(0))
        if "single_client_put_gigabytes" in wanted:
            arr = np.zeros(LARGE_PUT_INT64S, dtype=np.int64)
            arr.fill(1)  # warm pages, like any array a program has computed
            timeit(opt, "single_client_put_gigabytes", "GB/s", lambda: ray.put(arr),
                   arr.nbytes / 1e9)
            del arr
        if "single_client_tasks_sync" in wanted:
            timeit(opt, "single_client_tasks_sync", "tasks/s",
                   lambda: ray.get(small_value.remote()))
        if "single_client_tasks_async" in wanted:
            timeit(opt, "single_client_tasks_async", "tasks/s",
                   lambda: ray.get([small_value.remote() for _ in range(1000)]), 1000)
        if "1_1_actor_calls_sync" in wanted:
            a = Actor.remote()
            timeit(opt, "1_1_actor_calls_sync", "calls/s", lambda: ray.get(a.small_value.remote()))
        if "1_1_actor_calls_async" in wanted:
            a = Actor.remote()
            timeit(opt, "1_1_actor_calls_async", "calls/s",
                   lambda: ray.get([a.small_value.remote() for _ in range(1000)]), 1000)
        if "placement_group_create/removal" in wanted:
            def create_wait_remove():
                groups = [placement_group([{"custom": 0.001}]) for _ in range(PLACEMENT_GROUPS)]
                for group in groups:
                    if not group.wait(timeout_seconds=30):
                        raise TimeoutError("a placement group was not ready within 30 s")
                for group in groups:
                    remove_placement_group(group)

            timeit(opt, "placement_group_create/removal", "groups/s", create_wait_remove,
                   PLACEMENT_GROUPS)
        if "worker_reads_1gb_array_gigabytes" in wanted:
            @ray.remote
            def last(array):
                if array.flags.owndata or array.flags.writeable:
                    raise AssertionError("the worker's array is a copy, not a view of the store")
                return int(array[-1])

            big = np.ones(1 << 27, dtype=np.int64)  # 1 GiB
            ref = ray.put(big)
            del big
            timeit(opt, "worker_reads_1gb_array_gigabytes", "GB/s",
                   lambda: ray.get(last.remote(ref)), (1 << 30) / 1e9)
            del ref
    finally:
        ray.shutdown()


def print_ratios():
    tcp = results.get("tcp_roundtrip_64b_baseline", {})
    memcpy = results.get("memcpy_800mb_gigabytes_baseline", {})
    lines = []
    if "value" in tcp:
        for name in ("single_client_tasks_sync", "1_1_actor_calls_sync"):
            if "value" in results.get(name, {}):
                lines.append(f"  {name}: each call takes "
                             f"{tcp['value'] / results[name]['value']:.1f} TCP round trips' time")
    if "value" in memcpy and "value" in results.get("worker_reads_1gb_array_gigabytes", {}):
        lines.append(f"  worker_reads_1gb_array_gigabytes: "
                     f"{results['worker_reads_1gb_array_gigabytes']['value'] / memcpy['value']:.1f} "
                     f"× memcpy (above 1: no copy)")
    if "value" in memcpy and "value" in results.get("single_client_put_gigabytes", {}):
        lines.append(f"  single_client_put_gigabytes: "
                     f"{results['single_client_put_gigabytes']['value'] / memcpy['value']:.2f} × "
                     f"the same run's memcpy")
    if lines:
        print("-- ratios to this machine's limits (same run)")
        print("\n".join(lines))


def main():
    global jsonl
    parser = argparse.ArgumentParser(
        description="Moray's Python API, measured as Ray's `ray microbenchmark` measures Ray's")
    parser.add_argument("--filter", default="", help="metrics whose name contains the text")
    parser.add_argument("--metric", action="append", default=[], help="exactly this metric")
    parser.add_argument("--list", action="store_true", help="print the metric names")
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--window-seconds", type=float, default=2.0)
    parser.add_argument("--warmup-seconds", type=float, default=1.0)
    parser.add_argument("--jsonl", help="append each result here as it is measured")
    parser.add_argument("--json", help="write all results here at the end")
    parser.add_argument("--baselines-from",
                        help="the C++ microbenchmark, for this machine's limits (--baselines)")
    parser.add_argument("--num-cpus", type=int, default=os.cpu_count())
    parser.add_argument("--object-store-memory", type=int, default=4 << 30)
    opt = parser.parse_args()
    names = [name for name, _ in METRICS]
    if opt.list:
        print("\n".join(names))
        return 0
    for name in opt.metric:
        if name not in names + BASELINES:
            parser.error(f"unknown metric {name!r} (--list names them)")
    wanted = [n for n in names
              if (n in opt.metric if opt.metric else opt.filter in n)]
    jsonl = opt.jsonl

    print(f"{'metric':<44} {'value':>14}   {'± std':<10} unit")
    print(f"-- Python API, Ray's metrics ({opt.windows} windows of >= {opt.window_seconds} s after "
          f"a {opt.warmup_seconds} s warm-up; mean ± std)", flush=True)
    measure_baselines(opt)
    if wanted:
        run_metrics(opt, wanted)
    print_ratios()
    if opt.json:
        with open(opt.json, "w") as f:
            json.dump({n: results[n] for n in order}, f, indent=1)
    return 1 if any("failed" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
