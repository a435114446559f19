#!/usr/bin/env python3
"""report_s3.py - turn bench/s3_run.sh's raw runs into Markdown tables and a results JSON.

Each (server, operation) pair ran once per round; its figure is the median over
the rounds. Ratios come first, as medians of the per-round ratios with their
range: the machine is small and shared, so absolutes move from run to run while
ratios between contenders measured in the same round hold better."""
import argparse
import json
import os
import platform
import statistics
import sys
import time

OPS = [
    ("put1k", "PutObject 1 KiB", 1024),
    ("get1k", "GetObject 1 KiB", 1024),
    ("put1m", "PutObject 1 MiB", 1048576),
    ("get1m", "GetObject 1 MiB", 1048576),
]
SERVERS = [
    ("floor", "floor (libmicrohttpd, same body size)"),
    ("tandem", "tandem (durable: fsync before the answer)"),
    ("s3rver", "s3rver 3.7.1 (Node.js, files, no fsync)"),
    ("moto", "moto 5.2.1 server (Python, memory)"),
]
PEERS = ("floor", "s3rver", "moto")


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summarize(runs):
    by = {}
    for r in runs:
        by.setdefault((r["target"], r["op"]), []).append(r["result"])
    out = {}
    for key, res in by.items():
        out[key] = {
            "rounds": len(res),
            "ops_per_s": med([x["ops_per_s"] for x in res]),
            "p50_us": med([x["latency_us"]["p50"] for x in res]),
            "p90_us": med([x["latency_us"]["p90"] for x in res]),
            "p99_us": med([x["latency_us"]["p99"] for x in res]),
            "server_cpu_us_per_req": med([x["server_cpu_us_per_req"] for x in res]),
            "server_cores_busy": med([x["server_cpu_util"] for x in res]),
            "client_cpu_us_per_req": med([x["client_cpu_us_per_req"] for x in res]),
            "requests": sum(x["requests"] for x in res),
            "errors": sum(x["errors"] for x in res),
            "misses": sum(x["misses"] for x in res),
            "reconnects": sum(x["reconnects"] for x in res),
        }
    return out


def per_round_ratios(runs, op, peer, field):
    """tandem / peer for @field, each round on its own: (median, min, max)."""
    def get(target, rnd):
        for r in runs:
            if r["target"] == target and r["op"] == op and r["round"] == rnd:
                res = r["result"]
                return res.get(field) if field != "p50" else res["latency_us"]["p50"]
        return None

    vals = []
    for rnd in sorted({r["round"] for r in runs}):
        a, b = get("tandem", rnd), get(peer, rnd)
        if a is not None and b:
            vals.append(a / b)
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals)}


def fmt(v, digits=0):
    return "n/a" if v is None else f"{v:,.{digits}f}"


def fmt_ratio(r):
    if r is None:
        return "n/a"
    if len({round(r["min"], 2), round(r["max"], 2)}) == 1:
        return f"{r['median']:.2f}x"
    return f"{r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--fsync", required=True)
    ap.add_argument("--connections", type=int, required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--warmup", type=float, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--commit", default="")
    ap.add_argument("--json-out", required=True)
    a = ap.parse_args()

    with open(a.runs) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    with open(a.fsync) as f:
        fsync_rounds = [json.loads(line)["result"] for line in f if line.strip()]
    s = summarize(runs)
    ratios = {}
    for op, _, _ in OPS:
        for peer in PEERS:
            ratios[f"{op}_ops_vs_{peer}"] = per_round_ratios(runs, op, peer, "ops_per_s")
            ratios[f"{op}_cpu_vs_{peer}"] = per_round_ratios(runs, op, peer,
                                                             "server_cpu_us_per_req")

    out = []
    p = out.append
    p(f"S3 bench run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {a.commit}, "
      f"{os.cpu_count()} cores, {a.connections} connections, {a.rounds} rounds x "
      f"{a.duration:g} s (+{a.warmup:g} s warmup); medians over rounds.")
    p("")
    p("Tandem's ratios to each contender, per round, then the median (range over rounds): "
      "ops/s (higher is better for tandem) and server CPU per request (lower is better).")
    p("")
    p("| tandem | ops/s vs floor | CPU/req vs floor | ops/s vs s3rver | CPU/req vs s3rver "
      "| ops/s vs moto | CPU/req vs moto |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for op, name, _ in OPS:
        if ("tandem", op) not in s:
            continue
        p(f"| {name} | " + " | ".join(fmt_ratio(ratios[f"{op}_{k}_vs_{peer}"])
                                       for peer in PEERS for k in ("ops", "cpu")) + " |")
    p("")
    p("| operation | server | ops/s | MB/s | p50 ms | p90 ms | p99 ms | server CPU µs/req "
      "| server cores busy | loadgen CPU µs/req | errors |")
    p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for op, name, size in OPS:
        for target, server in SERVERS:
            row = s.get((target, op))
            if row is None:
                continue
            mbs = None if row["ops_per_s"] is None else row["ops_per_s"] * size / 1e6
            errs = str(row["errors"])
            if row["misses"]:
                errs += f" (+{row['misses']} short bodies)"
            p(f"| {name} | {server} | {fmt(row['ops_per_s'])} | {fmt(mbs, 1)} | "
              f"{fmt(row['p50_us'] / 1e3, 2)} | {fmt(row['p90_us'] / 1e3, 2)} | "
              f"{fmt(row['p99_us'] / 1e3, 2)} | {fmt(row['server_cpu_us_per_req'], 1)} | "
              f"{fmt(row['server_cores_busy'], 2)} | {fmt(row['client_cpu_us_per_req'], 1)} | "
              f"{errs} |")
    fsync = None
    if fsync_rounds:
        rates = sorted(x["fsyncs_per_s"] for x in fsync_rounds)
        fsync = {"median": statistics.median(rates), "min": rates[0], "max": rates[-1],
                 "rounds": fsync_rounds}
        p("")
        p(f"Disk under the data dir, right before tandem's 1 KiB PUTs: "
          f"{fmt(fsync['median'])} fsyncs/s, median of {len(rates)} rounds "
          f"(range {fmt(fsync['min'])}-{fmt(fsync['max'])}; 4 KiB write + fdatasync).")
    md = "\n".join(out)
    print(md)

    result = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": a.commit,
        "machine": {"cores": os.cpu_count(), "kernel": platform.release(),
                    "loadavg": os.getloadavg()},
        "config": {"connections": a.connections, "duration_s": a.duration,
                   "warmup_s": a.warmup, "rounds": a.rounds},
        "fsync": fsync,
        "summary": {f"{t}/{o}": v for (t, o), v in s.items()},
        "ratios": ratios,
        "runs": runs,
        "markdown": md,
    }
    with open(a.json_out, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
