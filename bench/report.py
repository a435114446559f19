#!/usr/bin/env python3
"""report.py - turn bench/run.sh's raw runs into a Markdown table and a results JSON.

Each (server, operation) pair ran once per round; its figure is the median over
the rounds. Ratios come first: the machine is small and shared, so absolutes
move from run to run while ratios between contenders measured in the same run
hold better."""
import argparse
import json
import os
import platform
import statistics
import sys
import time

ROWS = [
    ("floor", "hello", "GET / (hello world)", "floor (libmicrohttpd)"),
    ("floor", "get", "GetItem (signed, not parsed)", "floor (libmicrohttpd)"),
    ("tandem", "get", "GetItem", "tandem"),
    ("dynalite", "get", "GetItem", "dynalite"),
    ("floor", "put", "PutItem (signed, not parsed)", "floor (libmicrohttpd)"),
    ("tandem", "put", "PutItem", "tandem (durable, group commit)"),
    ("dynalite", "put", "PutItem", "dynalite (memory, no fsync)"),
]


def summarize(runs):
    by = {}
    for r in runs:
        by.setdefault((r["target"], r["op"]), []).append(r["result"])
    out = {}
    for key, results in by.items():
        def med(f):
            vals = [f(x) for x in results if f(x) is not None]
            return statistics.median(vals) if vals else None

        out[key] = {
            "rounds": len(results),
            "ops_per_s": med(lambda x: x["ops_per_s"]),
            "p50_us": med(lambda x: x["latency_us"]["p50"]),
            "p90_us": med(lambda x: x["latency_us"]["p90"]),
            "p99_us": med(lambda x: x["latency_us"]["p99"]),
            "server_cpu_us_per_req": med(lambda x: x["server_cpu_us_per_req"]),
            "server_cores_busy": med(lambda x: x["server_cpu_util"]),
            "client_cpu_us_per_req": med(lambda x: x["client_cpu_us_per_req"]),
            "requests": sum(x["requests"] for x in results),
            "errors": sum(x["errors"] for x in results),
            "misses": sum(x["misses"] for x in results),
        }
    return out


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt(v, digits=0):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def fmt_ratio(v):
    return "n/a" if v is None else f"{v:.2f}x"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--fsync", required=True)
    ap.add_argument("--connections", type=int, required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--warmup", type=float, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--loadgen-threads", type=int, required=True)
    ap.add_argument("--commit", default="")
    ap.add_argument("--flushes", default="")
    ap.add_argument("--json-out", required=True)
    a = ap.parse_args()

    with open(a.runs) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    with open(a.fsync) as f:
        fsync_rounds = [json.loads(line) for line in f if line.strip()]
    # The median round's figures, and the spread of the rate.
    fsyncs = sorted((x["result"] for x in fsync_rounds), key=lambda x: x["fsyncs_per_s"])
    fsync = dict(fsyncs[len(fsyncs) // 2])
    fsync["min_fsyncs_per_s"] = fsyncs[0]["fsyncs_per_s"]
    fsync["max_fsyncs_per_s"] = fsyncs[-1]["fsyncs_per_s"]
    fsync["rounds"] = fsync_rounds
    s = summarize(runs)
    hello = s.get(("floor", "hello"), {})
    floor_get = s.get(("floor", "get"), {})
    floor_put = s.get(("floor", "put"), {})
    dyn_get = s.get(("dynalite", "get"), {})
    dyn_put = s.get(("dynalite", "put"), {})
    t_get = s.get(("tandem", "get"), {})
    t_put = s.get(("tandem", "put"), {})
    disk_allows = fsync["fsyncs_per_s"] * a.connections

    def cmp(row, base, field):
        return ratio(row.get(field), base.get(field))

    ratios = {}
    for op, row, same, dyn in (("get", t_get, floor_get, dyn_get),
                               ("put", t_put, floor_put, dyn_put)):
        ratios[f"{op}_ops_vs_floor"] = cmp(row, same, "ops_per_s")
        ratios[f"{op}_cpu_vs_floor"] = cmp(row, same, "server_cpu_us_per_req")
        ratios[f"{op}_ops_vs_hello"] = cmp(row, hello, "ops_per_s")
        ratios[f"{op}_cpu_vs_hello"] = cmp(row, hello, "server_cpu_us_per_req")
        ratios[f"{op}_ops_vs_dynalite"] = cmp(row, dyn, "ops_per_s")
        ratios[f"{op}_cpu_vs_dynalite"] = cmp(row, dyn, "server_cpu_us_per_req")
    # Each round's PutItem rate against the disk measured just before it.
    disk_by_round = {x["round"]: x["result"]["fsyncs_per_s"] for x in fsync_rounds}
    per_round = [r["result"]["ops_per_s"] / (disk_by_round[r["round"]] * a.connections)
                 for r in runs if r["target"] == "tandem" and r["op"] == "put" and
                 disk_by_round.get(r["round"])]
    ratios["put_ops_vs_disk"] = statistics.median(per_round) if per_round else None
    ratios["put_ops_vs_one_fsync_each"] = ratio(t_put.get("ops_per_s"), fsync["fsyncs_per_s"])
    # tandem's own flushes (fdatasync calls) while it took PutItems, if counted.
    flush_rounds = []
    if a.flushes and os.path.exists(a.flushes):
        with open(a.flushes) as f:
            flush_rounds = [json.loads(line) for line in f if line.strip()]
    put_by_round = {r["round"]: r["result"]["ops_per_s"] for r in runs
                    if r["target"] == "tandem" and r["op"] == "put"}
    flush_rate = [x["fdatasyncs"] / x["seconds"] for x in flush_rounds if x["seconds"] > 0]
    per_flush = [put_by_round[x["round"]] / (x["fdatasyncs"] / x["seconds"])
                 for x in flush_rounds
                 if x["fdatasyncs"] > 0 and x["seconds"] > 0 and put_by_round.get(x["round"])]
    ratios["put_flushes_per_s"] = statistics.median(flush_rate) if flush_rate else None
    ratios["puts_per_flush"] = statistics.median(per_flush) if per_flush else None

    def aim(ok):
        return "n/a" if ok is None else ("met" if ok else "NOT met")

    def both(x, y):
        return None if x is None or y is None else (x and y)

    def ge(v, lim):
        return None if v is None else v >= lim

    def le(v, lim):
        return None if v is None else v <= lim

    aims = {
        "get_half_floor_rate": ge(ratios["get_ops_vs_floor"], 0.5),
        "get_cpu_within_3x_floor": le(ratios["get_cpu_vs_floor"], 3.0),
        "put_80pct_of_disk": ge(ratios["put_ops_vs_disk"], 0.8),
        "get_ahead_of_dynalite": ge(ratios["get_ops_vs_dynalite"], 2.0),
        "put_ahead_of_dynalite": ge(ratios["put_ops_vs_dynalite"], 2.0),
    }

    out = []
    p = out.append
    p(f"Bench run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {a.commit}, "
      f"{os.cpu_count()} cores, {a.connections} connections, {a.rounds} rounds x "
      f"{a.duration:g} s (+{a.warmup:g} s warmup), loadgen threads {a.loadgen_threads}; "
      "medians over rounds.")
    p("")
    p("Ratios of tandem to the floor answering the same signed request, to the floor's "
      "GET /, and to dynalite (ops/s: higher is better; CPU/req: lower is better).")
    p("")
    p("| tandem | ops/s vs floor | CPU/req vs floor | ops/s vs floor GET / "
      "| CPU/req vs floor GET / | ops/s vs dynalite | CPU/req vs dynalite |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for op, name in (("get", "GetItem"), ("put", "PutItem (durable)")):
        p(f"| {name} | " + " | ".join(fmt_ratio(ratios[f"{op}_{k}"]) for k in (
            "ops_vs_floor", "cpu_vs_floor", "ops_vs_hello", "cpu_vs_hello", "ops_vs_dynalite",
            "cpu_vs_dynalite")) + " |")
    p("")
    p("| operation | server | ops/s | p50 µs | p90 µs | p99 µs | server CPU µs/req "
      "| server cores busy | loadgen CPU µs/req | errors |")
    p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for target, op, opname, server in ROWS:
        row = s.get((target, op))
        if row is None:
            continue
        # The floor answers no GetItem with an item: its misses mean nothing.
        misses = row["misses"] if target != "floor" else 0
        errs = str(row["errors"]) + (f" (+{misses} misses)" if misses else "")
        p(f"| {opname} | {server} | {fmt(row['ops_per_s'])} | {fmt(row['p50_us'])} | "
          f"{fmt(row['p90_us'])} | {fmt(row['p99_us'])} | "
          f"{fmt(row['server_cpu_us_per_req'], 1)} | {fmt(row['server_cores_busy'], 2)} | "
          f"{fmt(row['client_cpu_us_per_req'], 1)} | "
          f"{errs} |")
    p("")
    p(f"Disk under the data dir: {fmt(fsync['fsyncs_per_s'])} fsyncs/s, median of "
      f"{len(fsyncs)} rounds (range {fmt(fsync['min_fsyncs_per_s'])}-"
      f"{fmt(fsync['max_fsyncs_per_s'])}; 4 KiB write + fdatasync, "
      f"p50 {fsync['p50_us']:.0f} µs). At {a.connections} connections at most "
      f"{a.connections} PutItems can share one commit, so the disk allows "
      f"~{fmt(disk_allows)} durable PutItem/s (the aim below pairs each round's PutItem "
      "rate with the disk measured just before it); with one fsync per PutItem it would allow "
      f"{fmt(fsync['fsyncs_per_s'])} (tandem reached "
      f"{fmt_ratio(ratios['put_ops_vs_one_fsync_each'])} of that).")
    if ratios["puts_per_flush"] is not None:
        p("")
        p(f"While it took PutItems tandem flushed {fmt(ratios['put_flushes_per_s'])} times/s "
          f"(fdatasync calls counted by perf, warmup included; median of {len(flush_rounds)} "
          f"rounds): {fmt(ratios['puts_per_flush'], 1)} PutItems per flush.")
    p("")
    p("| aim | measured | |")
    p("| --- | ---: | --- |")
    p(f"| GetItem >= 0.5x the floor's rate (same request) | {fmt_ratio(ratios['get_ops_vs_floor'])} | "
      f"{aim(aims['get_half_floor_rate'])} |")
    p(f"| GetItem CPU/req <= 3x the floor's (same request) | {fmt_ratio(ratios['get_cpu_vs_floor'])} | "
      f"{aim(aims['get_cpu_within_3x_floor'])} |")
    p(f"| durable PutItem >= 80 % of what the disk allows | "
      f"{fmt(None if ratios['put_ops_vs_disk'] is None else ratios['put_ops_vs_disk'] * 100, 1)} % "
      f"| {aim(aims['put_80pct_of_disk'])} |")
    p(f"| GetItem far ahead of dynalite (>= 2x) | {fmt_ratio(ratios['get_ops_vs_dynalite'])} | "
      f"{aim(aims['get_ahead_of_dynalite'])} |")
    p(f"| PutItem far ahead of dynalite (>= 2x) | {fmt_ratio(ratios['put_ops_vs_dynalite'])} | "
      f"{aim(aims['put_ahead_of_dynalite'])} |")
    md = "\n".join(out)
    print(md)

    result = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": a.commit,
        "machine": {"cores": os.cpu_count(), "kernel": platform.release()},
        "config": {
            "connections": a.connections,
            "duration_s": a.duration,
            "warmup_s": a.warmup,
            "rounds": a.rounds,
            "loadgen_threads": a.loadgen_threads,
        },
        "fsync": fsync,
        "disk_allows_puts_per_s": disk_allows,
        "summary": {f"{t}/{o}": v for (t, o), v in s.items()},
        "ratios": ratios,
        "aims": aims,
        "runs": runs,
        "markdown": md,
    }
    with open(a.json_out, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
