#!/usr/bin/env python3
"""The Python table of bench/compare-with-ray.sh: Moray's Python API (bench/python/microbenchmark.py,
JSON lines) beside Ray's own `ray microbenchmark` (its "NAME per second MEAN +- STD" lines), same
machine, same run, with each runtime's figures against this machine's limits measured in that run.

  compare_python.py MORAY_PYTHON.jsonl RAY_MICROBENCHMARK.out
"""
import json
import os
import re
import sys

# The targets for the Python API (issue 14).
TASK_ACTOR_TARGET = 5.0
PUT_OF_MEMCPY_TARGET = 0.8
NOTES = {
    "single_client_put_calls": "Moray: small objects in the owner's memory; Ray: plasma",
    "single_client_get_calls": "Moray: small objects in the owner's memory; Ray: plasma",
    "single_client_put_gigabytes": "not comparable: Ray puts np.zeros (zero-page reads), "
                                   "Moray a written array",
    "single_client_tasks_async": "defaults: Moray up to 32 short tasks in flight per worker, Ray 1",
}
# Same name, different work: no ratio (as bench/compare_table.py).
DIFFERENT_WORK = ("single_client_put_calls", "single_client_get_calls", "single_client_put_gigabytes")
TARGETED = ("single_client_tasks_sync", "single_client_tasks_async", "1_1_actor_calls_sync",
            "1_1_actor_calls_async")


def load_jsonl(path):
    results, order = {}, []
    if os.path.exists(path):
        for line in open(path):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            name = entry.pop("metric", None)
            if name:
                if name not in results:
                    order.append(name)
                results[name] = entry
    return results, order


def load_ray(path):
    ray = {}
    if os.path.exists(path):
        for line in open(path):
            m = re.match(r"(.*) per second ([0-9.e+-]+) \+- ([0-9.e+-]+)", line.strip())
            if m:
                name = re.sub(r" \(.*\)$", "", m.group(1)).replace(" ", "_").replace(":", "_")
                ray[name] = (float(m.group(2)), float(m.group(3)))
    return ray


def main():
    moray, order = load_jsonl(sys.argv[1])
    ray = load_ray(sys.argv[2])
    rows = []
    for name in order:
        m = moray[name]
        if "baseline" in name:
            continue
        r = ray.get(name)
        if "failed" in m:
            mcell, ratio = "FAILED: " + m["failed"][:60], "—"
        else:
            d = 3 if m["value"] < 10 else 1
            mcell = f"{m['value']:,.{d}f} ± {m['std']:,.{d}f}"
            ratio = "—"
            if name in DIFFERENT_WORK:
                ratio = "n/a: different work"
            elif r and r[0] > 0:
                x = m["value"] / r[0]
                ratio = f"{x:,.2f}×"
                if name in TARGETED:
                    ratio += " (target ≥5×: " + ("met" if x >= TASK_ACTOR_TARGET else "NOT met") + ")"
                elif x < 1:
                    ratio += " MORAY SLOWER"
        rcell = f"{r[0]:,.1f} ± {r[1]:,.1f}" if r else "— (not run)"
        rows.append((name, mcell, rcell, ratio, m.get("unit", ""), NOTES.get(name, "")))
    head = ("metric", "Moray (Python)", "Ray (Python)", "Moray/Ray", "unit", "")
    w = [max(len(str(x[i])) for x in rows + [head]) for i in range(len(head))]
    print()
    print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(head)).rstrip())
    for row in rows:
        print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(row)).rstrip())
    if not ray:
        print("\nRay (Python): no figures in this run (Ray not installed or `ray microbenchmark` "
              "did not report); no ratio is given.")

    lines = []
    tcp = moray.get("tcp_roundtrip_64b_baseline", {})
    memcpy = moray.get("memcpy_800mb_gigabytes_baseline", {})
    if "value" in tcp:
        lines.append(f"  tcp_roundtrip_64b_baseline: {tcp['value']:,.0f} round trips/s")
        for name in ("single_client_tasks_sync", "1_1_actor_calls_sync"):
            for runtime, value in (("Moray", moray.get(name, {}).get("value")),
                                   ("Ray", ray.get(name, (None,))[0])):
                if value:
                    lines.append(f"  {name}, {runtime}: {tcp['value'] / value:.1f} round trips' "
                                 f"time per call")
    if "value" in memcpy:
        lines.append(f"  memcpy_800mb_gigabytes_baseline: {memcpy['value']:.2f} GB/s")
        put = moray.get("single_client_put_gigabytes", {}).get("value")
        if put:
            x = put / memcpy["value"]
            lines.append(f"  single_client_put_gigabytes, Moray: {x:.2f} × memcpy (target ≥ "
                         f"{PUT_OF_MEMCPY_TARGET:.0%}: {'met' if x >= PUT_OF_MEMCPY_TARGET else 'NOT met'})")
    if lines:
        print("\nAgainst this machine's limits, measured in the same run:")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
