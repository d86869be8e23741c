#!/usr/bin/env python3
"""Writes bench/RESULTS.md from run.sh's rows: bench/report.py --meta M --raw R --out O [--micro F].

--raw: one JSON object per `twofold-bench load --json` run, plus backend and population.
--meta: one JSON object per line with a `kind` (build, seeds, import, provision, failed,
server_log, run).
--micro: the output of `cargo bench -p twofold-bench` (criterion), for the micro-benchmark and
profile sections.
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
from collections import defaultdict

SCENARIO_ORDER = ["healthz", "verify-valid", "verify-wrong", "enroll", "sms-send"]
VERIFY = ["verify-valid", "verify-wrong"]
TARGET_CPU_RATIO = 3.0
TARGET_P99_MS = 10.0
TARGET_P50_RATIO = 1.2
TARGET_RSS_MIB = 64.0


def read_jsonl(path):
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram": ram,
        "kernel": platform.release(),
    }


def git_commit():
    try:
        head = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", ".", ":!bench"]).returncode != 0
        return head + (" plus uncommitted changes outside bench/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def fmt(x, digits=2):
    return "–" if x is None else f"{x:.{digits}f}"


def pop_name(p):
    p = int(p)
    return f"10^{len(str(p)) - 1}" if str(p).strip("0") == "1" else f"{p:,}"


def verdict(ok):
    return "met" if ok else "**not met**"


def errors_text(row):
    errs = row.get("errors") or {}
    if not errs:
        return "0"
    return ", ".join(f"{k}: {v}" for k, v in sorted(errs.items()))


def parse_micro(text):
    """criterion: `name  time: [low mid high]` (the name may stand on the line before)."""
    units = {"ps": 1e-6, "ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}
    out = {}
    name = None
    for line in text.splitlines():
        m = re.match(r"^(\S+)\s+time:\s+\[(\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\]", line)
        if m:
            name = m.group(1)
            vals = m.groups()[1:]
        else:
            m = re.match(r"^\s+time:\s+\[(\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\]", line)
            if not m or not name:
                n = re.match(r"^(\S+)\s*$", line)
                name = n.group(1) if n and not line.startswith(("Benchmarking", "Found", "Gnuplot")) else name
                continue
            vals = m.groups()
        try:
            out[name] = {
                "low": float(vals[0]) * units[vals[1]],
                "mid": float(vals[2]) * units[vals[3]],
                "high": float(vals[4]) * units[vals[5]],
            }
        except (KeyError, ValueError):
            pass
        name = None
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meta", required=True)
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--micro")
    args = ap.parse_args()

    rows = read_jsonl(args.raw)
    meta = read_jsonl(args.meta)
    by_kind = defaultdict(list)
    for m in meta:
        by_kind[m["kind"]].append(m)
    run = (by_kind.get("run") or [{}])[-1]
    build = (by_kind.get("build") or [{}])[-1]
    mach = machine()

    table = {}
    for r in rows:
        table[(r["backend"], int(r["population"]), r["scenario"], int(r["connections"]))] = r
    # A run that did nothing (verify-wrong already exhausted) has no latency or CPU to judge.
    measured = {k: r for k, r in table.items() if r.get("operations")}
    backends = []
    pops = []
    for r in rows:
        if r["backend"] not in backends:
            backends.append(r["backend"])
        if int(r["population"]) not in pops:
            pops.append(int(r["population"]))
    pops.sort()
    conns_list = sorted({int(r["connections"]) for r in rows})

    L = []
    w = L.append
    w("# twofold benchmark results")
    w("")
    w("Written by `bench/run.sh` (then `bench/report.py`); do not edit by hand, re-run it.")
    w("")
    w("## Run")
    w("")
    w(f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
    if build.get("commit"):
        dirty = int(build.get("dirty_files") or 0)
        w(f"- git commit: {build['commit']}"
          + (f" plus uncommitted changes to {dirty} file(s) outside bench/ (built as they were)" if dirty else ""))
    else:
        w(f"- git commit: {git_commit()}")
    w(f"- machine: {mach['nproc']} CPUs ({mach['cpu']}), {mach['ram']} RAM, Linux {mach['kernel']}")
    total = run.get("total_seconds")
    fits = "" if total is None else (" (fits in 15 minutes)" if float(total) <= 900 else " (**over 15 minutes**)")
    w(f"- release build: {build.get('seconds', '?')} s; whole run, build included: {total or '?'} s{fits}")
    auto = " (chosen by run.sh to fit 15 minutes with the build; BENCH_DURATION sets it)" if by_kind.get("duration") else ""
    w(f"- {run.get('duration', '?')} s measured per run{auto}; connections {run.get('connections', '?')}; "
      f"populations {run.get('populations', '?')}; scenarios {run.get('scenarios', '?')}")
    if run.get("pg"):
        w(f"- PostgreSQL: {run['pg']}; Redis: {run.get('redis')}")
    w("- client: `twofold-bench` on one tokio worker thread (HTTP/1.1 keep-alive, one request at a "
      "time per connection) on the same machine: it takes one core, the server and its database "
      "share the other. Server CPU is the server process's utime+stime (/proc/PID/stat) over the "
      "run divided by the requests; PostgreSQL's and Redis's own CPU is not in it. Peak RSS is the "
      "server's VmHWM during the run (reset through /proc/PID/clear_refs at its start"
      + ("" if all(r.get("server_peak_rss_per_run") for r in rows) else
         "; **where the reset was refused, since the server started**") + ").")
    w("- every request carries a random `X-Forwarded-For: 10.a.b.c` (TWOFOLD_TRUST_FORWARDED_FOR=true); "
      "the SMS limits are raised so that sms-send is not refused (log gateway).")
    if any(r.get("clock_ticks_assumed") for r in rows):
        w("- sysconf(_SC_CLK_TCK) did not answer: 100 ticks/s assumed.")
    if run.get("have_import") == "false":
        w("- **`twofold import` was not available**: the verify populations were enrolled through "
          "the API (`twofold-bench provision`), capped at BENCH_PROVISION_MAX users; the population "
          "column names the intended size.")
    w("")

    w("## Import")
    w("")
    imports = by_kind.get("import", [])
    provisions = by_kind.get("provision", [])
    seeds = by_kind.get("seeds", [])
    if imports or provisions or seeds:
        w("| what | backend | population | seconds | rate |")
        w("|---|---|---|---|---|")
        def rate(n, secs, unit):
            # Below the timer's resolution a rate means nothing.
            return f"{n / float(secs):,.0f} {unit}/s" if float(secs) >= 0.05 else "– (too fast to time)"

        for s in seeds:
            p = int(s["population"])
            w(f"| `twofold-bench seeds` | – | {pop_name(p)} | {s['seconds']} | {rate(p, s['seconds'], 'lines')} |")
        for i in imports:
            p = int(i["population"])
            w(f"| `twofold import` (wall time of the command) | {i['backend']} | {pop_name(p)} | {i['seconds']} | {rate(p, i['seconds'], 'devices')} |")
        for i in provisions:
            u = int(i["users"])
            w(f"| API enroll+confirm | {i['backend']} | {u:,} | {i['seconds']} | {rate(u, i['seconds'], 'users')} |")
    else:
        w("No import ran.")
    w("")

    w("## Load")
    w("")
    w("Rate is requests/s, except `enroll`: operations/s, one operation being create + qr.svg + "
      "confirm (3 requests), with latency and server CPU per operation. Latencies in ms, from an "
      "HDR histogram of every operation (failed ones included; their count is under errors).")
    w("")
    for b in backends:
        for p in pops:
            present = [k for k in table if k[0] == b and k[1] == p]
            if not present:
                continue
            w(f"### {b} ({'SQLite + in-process store' if b == 'sqlite' else 'PostgreSQL + Redis'}), {pop_name(p)} users")
            w("")
            w("| scenario | conns | rate/s | p50 | p90 | p99 | max | errors | server CPU µs/req | peak RSS MiB |")
            w("|---|---|---|---|---|---|---|---|---|---|")
            for s in SCENARIO_ORDER:
                for c in conns_list:
                    r = table.get((b, p, s, c))
                    if not r:
                        continue
                    name = s + (" (op)" if s == "enroll" else "")
                    if r.get("waits"):
                        name += f" ¹"
                    if r.get("exhausted"):
                        name += " ²"
                    w(f"| {name} | {c} | {r['ops_per_sec']:,.0f} | {fmt(r['p50_ms'])} | {fmt(r['p90_ms'])} | "
                      f"{fmt(r['p99_ms'])} | {fmt(r['max_ms'])} | {errors_text(r)} | "
                      f"{fmt(r.get('server_cpu_us_per_op'), 0)} | {fmt(r.get('server_peak_rss_mib'), 1)} |")
            if any(table[k].get("exhausted") for k in present):
                w("")
                w("² verify-wrong stopped early: every user had 9 wrong codes (one more would lock them; "
                  "the allowance is 9 per user per server). Its rate is over the time it ran; a row with "
                  "0 requests found the allowance already used up by the runs before it.")
            waits = [table[k] for k in present if table[k].get("waits")]
            if waits:
                w("")
                w("¹ every user's fresh TOTP steps were used up: the run paused until the next 30 s step "
                  + ", ".join(f"({r['scenario']} at {r['connections']}: {r['waits']}×, {r['wait_seconds']:.1f} s)" for r in waits)
                  + "; the pause is not in the measured time.")
            w("")
    failed = by_kind.get("failed", [])
    if failed:
        w("Runs that failed (no row): " + ", ".join(
            f"{f['backend']} {pop_name(f['population'])} {f['scenario']} at {f['connections']}" for f in failed))
        w("")

    # --- Targets
    w("## Targets")
    w("")
    verdicts = []

    w("**Server CPU per verify ÷ per healthz** (target ≤ 3):")
    w("")
    w("| backend | users | conns | healthz µs | verify-valid µs (ratio) | verify-wrong µs (ratio) |")
    w("|---|---|---|---|---|---|")
    cpu_ok = []
    for b in backends:
        for p in pops:
            for c in conns_list:
                h = measured.get((b, p, "healthz", c))
                if not h or not h.get("server_cpu_us_per_request"):
                    continue
                cells = []
                for s in VERIFY:
                    r = measured.get((b, p, s, c))
                    if r and r.get("server_cpu_us_per_request") is not None:
                        ratio = r["server_cpu_us_per_request"] / h["server_cpu_us_per_request"]
                        cpu_ok.append(ratio <= TARGET_CPU_RATIO)
                        cells.append(f"{r['server_cpu_us_per_request']:.0f} ({ratio:.1f}, {verdict(ratio <= TARGET_CPU_RATIO)})")
                    else:
                        cells.append("–")
                w(f"| {b} | {pop_name(p)} | {c} | {h['server_cpu_us_per_request']:.0f} | {cells[0]} | {cells[1]} |")
    verdicts.append(("CPU per verify ÷ CPU per healthz ≤ 3", cpu_ok))
    w("")

    w("**p99 of verify at 64 connections** (target ≤ 10 ms):")
    w("")
    w("| backend | users | verify-valid p99 | verify-wrong p99 |")
    w("|---|---|---|---|")
    p99_ok = []
    for b in backends:
        for p in pops:
            cells = []
            for s in VERIFY:
                r = measured.get((b, p, s, 64))
                if r:
                    ok = r["p99_ms"] <= TARGET_P99_MS
                    p99_ok.append(ok)
                    cells.append(f"{r['p99_ms']:.2f} ms ({verdict(ok)})")
                else:
                    cells.append("–")
            if any(c != "–" for c in cells):
                w(f"| {b} | {pop_name(p)} | {cells[0]} | {cells[1]} |")
    verdicts.append(("p99 of verify at 64 connections ≤ 10 ms", p99_ok))
    w("")

    p50_ok = []
    if len(pops) >= 2:
        lo, hi = pops[0], pops[-1]
        w(f"**verify p50 at {pop_name(hi)} ÷ at {pop_name(lo)} users** (target ≤ 1.2):")
        w("")
        w("| backend | scenario | " + " | ".join(f"{c} conns" for c in conns_list) + " |")
        w("|---|---|" + "---|" * len(conns_list))
        for b in backends:
            for s in VERIFY:
                cells = []
                for c in conns_list:
                    a, z = measured.get((b, lo, s, c)), measured.get((b, hi, s, c))
                    if a and z and a["p50_ms"] > 0:
                        ratio = z["p50_ms"] / a["p50_ms"]
                        p50_ok.append(ratio <= TARGET_P50_RATIO)
                        cells.append(f"{z['p50_ms']:.2f} / {a['p50_ms']:.2f} = {ratio:.2f} ({verdict(ratio <= TARGET_P50_RATIO)})")
                    else:
                        cells.append("–")
                w(f"| {b} | {s} | " + " | ".join(cells) + " |")
    else:
        w("**verify p50 at 10^6 ÷ at 10^4 users** (target ≤ 1.2): not computed, one population only.")
    verdicts.append(("verify p50 at the largest ÷ the smallest population ≤ 1.2", p50_ok))
    w("")

    w("**Server peak RSS** (target ≤ 64 MiB), per server: the highest of its runs' peaks:")
    w("")
    w("| backend | users | peak RSS |")
    w("|---|---|---|")
    rss_ok = []
    for b in backends:
        for p in pops:
            vals = [table[k].get("server_peak_rss_mib") for k in table if k[0] == b and k[1] == p]
            vals = [v for v in vals if v is not None]
            if vals:
                ok = max(vals) <= TARGET_RSS_MIB
                rss_ok.append(ok)
                w(f"| {b} | {pop_name(p)} | {max(vals):.1f} MiB ({verdict(ok)}) |")
    verdicts.append(("peak RSS ≤ 64 MiB", rss_ok))
    w("")

    w("**Summary**")
    w("")
    for name, oks in verdicts:
        if not oks:
            w(f"- {name}: not measured")
        else:
            w(f"- {name}: {verdict(all(oks))} ({sum(oks)} of {len(oks)} rows)")
    w("")

    logs = by_kind.get("server_log", [])
    if logs:
        w("## Server log (warn and above)")
        w("")
        for l in logs:
            # The server colours its log even into a file: drop the escapes, one line per entry.
            tail = re.sub(r"\x1b\[[0-9;]*m", "", l["tail"]).strip().replace("`", "'")
            w(f"- {l['backend']} {pop_name(l['population'])}: {l['lines']} lines; the last ones:")
            for line in tail.splitlines():
                w(f"  - `{line[:300]}`")
        w("")

    # --- Micro-benchmarks and profile
    micro = {}
    if args.micro and os.path.exists(args.micro):
        with open(args.micro) as f:
            micro = parse_micro(f.read())
    w("## Micro-benchmarks")
    w("")
    if micro:
        w("`cargo bench -p twofold-bench` (criterion, 2 s per bench; median estimate and its interval):")
        w("")
        w("| bench | time µs | interval µs |")
        w("|---|---|---|")
        for name, v in micro.items():
            w(f"| {name} | {v['mid']:.2f} | {v['low']:.2f} – {v['high']:.2f} |")
    else:
        w("Not run: `BENCH_MICRO=1 bench/run.sh` fills this from `cargo bench -p twofold-bench` "
          "(kept off by default to stay inside 15 minutes).")
    w("")

    w("## Profile")
    w("")
    if micro:
        w("The pure computation each request does, from the micro-benchmarks, against the server CPU "
          "it costs (the rest is HTTP, JSON, database, store, audit and scheduling):")
        w("")

        def us(name):
            return micro.get(name, {}).get("mid")

        parts = {
            "verify-valid": [("open seed", us("open_20_byte_seed")), ("TOTP check", us("totp_check_window3_right")),
                             ("assertion sign", us("assertion_sign"))],
            "verify-wrong": [("open seed", us("open_20_byte_seed")), ("TOTP check", us("totp_check_window3_wrong"))],
            "enroll": [("seal seed", us("seal_20_byte_seed")), ("QR SVG ×2 (create, qr.svg)", 2 * (us("qr_svg_otpauth_uri") or 0) or None),
                       ("open seed", us("open_20_byte_seed")), ("TOTP check", us("totp_check_window3_right")),
                       ("assertion sign", us("assertion_sign"))],
        }
        w("| scenario | pure work per op | µs | server CPU µs/op (largest population, 16 conns) | share |")
        w("|---|---|---|---|---|")
        for s, items in parts.items():
            total = sum(v for _, v in items if v)
            cpu = None
            for b in backends:
                r = table.get((b, pops[-1] if pops else 0, s, 16)) if pops else None
                if r and r.get("server_cpu_us_per_op"):
                    cpu = r["server_cpu_us_per_op"] if cpu is None else min(cpu, r["server_cpu_us_per_op"])
            desc = " + ".join(f"{n} {v:.1f}" for n, v in items if v)
            share = f"{100 * total / cpu:.0f} %" if cpu else "–"
            w(f"| {s} | {desc} | {total:.1f} | {fmt(cpu, 0)} | {share} |")
    else:
        w("Not run: `BENCH_MICRO=1 bench/run.sh` fills this (the pure computation of verify and enroll, "
          "from the micro-benchmarks, against the server CPU per request measured above).")
    w("")
    # The perf profile (bench/profile.sh) and what it showed, when they exist.
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("PROFILE.md", "profile-findings.md"):
        path = os.path.join(here, name)
        if os.path.exists(path):
            with open(path) as f:
                text = f.read().strip().splitlines()
            if text and text[0].startswith("# "):
                text = ["### perf: " + text[0][2:]] + text[1:]
            L.extend(text)
            w("")

    with open(args.out, "w") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    main()
