"""The table of bench/compare-with-ray.sh: Moray and Ray side by side, from the JSON lines each
runtime's drivers appended (one object per metric: value/unit/std, or failed) and the output of
Ray's Python `ray microbenchmark`.

  compare_table.py MORAY.jsonl RAY.jsonl RAY_MICROBENCHMARK.out LOAD.txt CORES
"""
import json
import os
import re
import sys

# Same name, different work: no ratio; the row to read instead.
DIFFERENT_WORK = {
    name: "different work: Moray keeps a small object in the owner's memory, Ray puts it "
    "into plasma; same work: " + name + "_shared_store"
    for name in ("single_client_put_calls", "single_client_get_calls", "multi_client_put_calls")
}
# Same work, different defaults: the ratio holds for the defaults only.
DEFAULTS_DIFFER = {
    "single_client_tasks_async": "defaults: Moray up to 32 short tasks in flight per worker, "
    "Ray 1; same setting: single_client_tasks_async_1_in_flight",
    "multi_client_tasks_async": "defaults: Moray pipelines up to 32 per worker, Ray 1",
    "single_client_tasks_and_get_batch": "defaults: Moray pipelines up to 32 per worker, Ray 1",
    "single_client_wait_1k_refs": "defaults: Moray pipelines up to 32 per worker, Ray 1",
}
# Variants: what Ray's figure is (Ray's default is the variant's setting).
VARIANTS = {
    "_shared_store": "Ray: its put always goes to plasma",
    "_1_in_flight": "Ray: its default is 1 in flight",
}


def load_jsonl(path):
    results, order = {}, []
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            name = entry.pop("metric", None)
            if name is None:
                continue
            if name not in results:
                order.append(name)
            results[name] = entry
    return results, order


def load_python(path):
    py = {}
    if os.path.exists(path):
        for line in open(path):
            m = re.match(r"(.*) per second ([0-9.e+-]+) \+- ([0-9.e+-]+)", line.strip())
            if m:
                name = re.sub(r" \(.*\)$", "", m.group(1)).replace(" ", "_").replace(":", "_")
                py[name] = float(m.group(2))
    return py


def variant_of(name):
    for suffix in VARIANTS:
        if name.endswith(suffix):
            return suffix, name[: -len(suffix)]
    return None, name


def main():
    moray, moray_order = load_jsonl(sys.argv[1])
    ray, ray_order = load_jsonl(sys.argv[2])
    py = load_python(sys.argv[3])
    cores = int(sys.argv[5])
    footnotes = []

    def cell(r, runtime, name):
        if not r:
            return "—"
        if "failed" in r:
            footnotes.append(f"{runtime} {name}: {r['failed']}")
            return f"FAILED [{len(footnotes)}]"
        v, s = r["value"], r.get("std")
        d = 3 if v < 10 else 1
        return f"{v:,.{d}f} ± {s:,.{d}f}" if s is not None else f"{v:,.{d}f}"

    names = moray_order + [n for n in ray_order if n not in moray]
    rows = []
    for n in names:
        m, r = moray.get(n), ray.get(n)
        measured = [x for x in (m, r) if x and "failed" not in x]
        unit = measured[0]["unit"] if measured else ""
        suffix, base = variant_of(n)
        ratio, note = "—", ""
        if n in DIFFERENT_WORK:
            ratio, note = "n/a", DIFFERENT_WORK[n]
        elif len(measured) == 2 and r["value"] > 0:
            x = m["value"] / r["value"]
            ratio = f"{x:,.2f}×"
            if "baseline" in n:
                note = "the machine, no runtime"
            elif x < 1:
                note = "MORAY SLOWER"
        if n in DEFAULTS_DIFFER:
            note = "; ".join(filter(None, [note, DEFAULTS_DIFFER[n]]))
        if suffix:
            note = "; ".join(filter(None, [note, VARIANTS[suffix]]))
        p = py.get(base)
        rows.append((n, cell(m, "Moray", n), cell(r, "Ray (C++)", n), ratio,
                     f"{p:,.1f}" if p is not None else "—", unit, note))

    head = ("metric", "Moray", "Ray (C++)", "Moray/Ray", "Ray (Python)", "unit", "")
    left = (0, 5, 6)
    w = [max(len(str(x[i])) for x in rows + [head]) for i in range(len(head))]

    def fmt(row):
        return "  ".join(str(c).ljust(w[i]) if i in left else str(c).rjust(w[i])
                         for i, c in enumerate(row)).rstrip()

    print()
    print(fmt(head))
    for row in rows:
        print(fmt(row))
    print("\nMoray/Ray: rates, so > 1 means Moray is faster; no ratio where the work differs. "
          "Ray (Python): `ray microbenchmark`, same machine, same run (for a _variant row, its "
          "figure for the metric without the suffix, which is Ray's default).")
    for i, text in enumerate(footnotes, 1):
        print(f"[{i}] {text}")

    # Each runtime against this machine's limits, measured in the same run.
    limits = [
        ("single_client_tasks_sync", "tcp_roundtrip_64b_baseline", "round trips' time per task"),
        ("1_1_actor_calls_sync", "tcp_roundtrip_64b_baseline", "round trips' time per call"),
        ("single_client_put_gigabytes", "memcpy_800mb_gigabytes_baseline", None),
        ("multi_client_put_gigabytes", f"memcpy_80mb_x{cores}_gigabytes_baseline", None),
    ]
    lines = []
    for metric, baseline, per in limits:
        for runtime, results in (("Moray", moray), ("Ray (C++)", ray)):
            a, b = results.get(metric), results.get(baseline)
            if not a or not b or "failed" in a or "failed" in b or not b["value"] or not a["value"]:
                continue
            x = a["value"] / b["value"]
            extra = f" ({1 / x:,.1f} {per})" if per else ""
            lines.append(f"  {runtime:9s} {metric} = {x:.3f} × {baseline}{extra}")
    if lines:
        print("\nRatios to this machine's limits (each runtime's own run of the baseline):")
        print("\n".join(lines))

    loads = {}
    if os.path.exists(sys.argv[4]):
        for line in open(sys.argv[4]):
            parts = line.split()
            if len(parts) == 3:
                loads.setdefault(parts[0], []).append(float(parts[2]))
    if loads:
        print("\nLoad average (1 min) when each metric started: " + "; ".join(
            f"{k} {min(v):.1f}–{max(v):.1f}" for k, v in loads.items()))


if __name__ == "__main__":
    main()
