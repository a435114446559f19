#!/usr/bin/env python3
"""report_dataplane.py - the data-plane rounds of bench/run.sh (--ops query,update,txn)
as a Markdown table: medians over rounds per (target, op), and tandem's ratios
to the floor (the same signed requests, answered without parsing) and to
dynalite. An op dynalite does not support shows its errors instead of a rate."""

import argparse
import json
import statistics

OPS = (("query", "Query, 100-item pages"),
       ("update", "UpdateItem with a condition"),
       ("txn", "TransactWriteItems of 4 puts"))


def med(rs, f):
    vals = [f(r) for r in rs if f(r) is not None]
    return statistics.median(vals) if vals else None


def summary(rs):
    return {
        "ops_per_s": med(rs, lambda r: r["ops_per_s"] if r["ok"] else None),
        "p50_us": med(rs, lambda r: r["latency_us"]["p50"] if r["ok"] else None),
        "p99_us": med(rs, lambda r: r["latency_us"]["p99"] if r["ok"] else None),
        "cpu_us": med(rs, lambda r: r.get("server_cpu_us_per_req") if r["ok"] else None),
        "errors": sum(r["errors"] for r in rs),
        "misses": sum(r["misses"] for r in rs),
        "ok": sum(r["ok"] for r in rs),
    }


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(v, nd=0):
    return "-" if v is None else f"{v:,.{nd}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--connections", type=int)
    ap.add_argument("--duration", type=float)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--commit")
    ap.add_argument("--json-out")
    a = ap.parse_args()
    by = {}
    with open(a.runs) as f:
        for line in f:
            r = json.loads(line)
            by.setdefault((r["target"], r["op"]), []).append(r["result"])
    s = {k: summary(v) for k, v in by.items()}
    print(f"Data plane, {a.connections} connections, {a.duration} s x {a.rounds} rounds "
          f"(medians), commit {a.commit}:\n")
    print("| operation | tandem ops/s | p50 / p99 ms | floor ops/s | dynalite ops/s "
          "| tandem vs floor | tandem vs dynalite | CPU/req tandem / floor / dynalite (us) |")
    print("|---|---|---|---|---|---|---|---|")
    out = {}
    for op, name in OPS:
        t, fl, dy = (s.get((x, op)) for x in ("tandem", "floor", "dynalite"))
        if not t:
            continue
        dyn_txt = fmt(dy and dy["ops_per_s"])
        if dy and not dy["ok"]:
            dyn_txt = f"unsupported ({dy['errors']} errors)"
        row = {"tandem": t, "floor": fl, "dynalite": dy,
               "vs_floor": ratio(t["ops_per_s"], fl and fl["ops_per_s"]),
               "vs_dynalite": ratio(t["ops_per_s"], dy and dy["ok"] and dy["ops_per_s"])}
        out[op] = row
        print(f"| {name} | {fmt(t['ops_per_s'])} | "
              f"{fmt(t['p50_us'] and t['p50_us'] / 1e3, 2)} / "
              f"{fmt(t['p99_us'] and t['p99_us'] / 1e3, 2)} | "
              f"{fmt(fl and fl['ops_per_s'])} | {dyn_txt} | {fmt(row['vs_floor'], 3)} | "
              f"{fmt(row['vs_dynalite'], 2)} | {fmt(t['cpu_us'], 1)} / "
              f"{fmt(fl and fl['cpu_us'], 1)} / {fmt(dy and dy['cpu_us'], 1)} |")
        if t["errors"] or t["misses"]:
            print(f"|  (tandem {op}: {t['errors']} errors, {t['misses']} short pages) ||||||||")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"commit": a.commit, "ops": out}, f, indent=1)


if __name__ == "__main__":
    main()
