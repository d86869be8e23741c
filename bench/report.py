#!/usr/bin/env python3
"""Writes bench/RESULTS.md from run.sh's rows: bench/report.py --meta M --raw R --out O [--micro F].

--raw: one JSON object per `twofold-bench load --json` run, plus backend, population and, when
run.sh ran a baseline, build ("baseline" or "current"; a row without it is the current build's).
--meta: one JSON object per line with a `kind` (build, baseline, duration, seeds, import,
provision, failed, server_log, run).
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

SCENARIO_ORDER = ["healthz", "verify-valid", "verify-wrong", "verify-hotp", "verify-webauthn",
                  "enroll", "enroll-create", "sms-send"]
VERIFY = ["verify-valid", "verify-wrong"]
# The targets, judged on the current build's rows.
TARGET_ENROLL_CREATE_CPU_US = 400.0
TARGET_WRONG_CPU_RATIO = 3.0
TARGET_VALID_CPU_US = 150.0
TARGET_VALID_P99_MS = 10.0
TARGET_VALID_MAX_MS = 50.0
TARGET_SMS_CPU_US = 300.0
TARGET_RSS_MIB = 64.0
TARGET_P50_RATIO = 1.2
RSS_POPULATION = 1_000_000
TAIL_CONNS = 64
# Requests per operation, for rows written before `requests_per_op` was recorded.
REQUESTS_PER_OP = {"enroll": 3, "verify-webauthn": 2}


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


def requests_per_op(row):
    return int(row.get("requests_per_op") or REQUESTS_PER_OP.get(row["scenario"], 1))


def build_of(row):
    """Rows without `build` come from a run without a baseline: the current build."""
    return row.get("build") or "current"


def arrow(before, after, digits=0, sep=""):
    """`before → after`; `sep=","` groups thousands (rates)."""
    if before is None and after is None:
        return "–"
    f = lambda x: "–" if x is None else f"{x:{sep}.{digits}f}"
    return f"{f(before)} → {f(after)}"


def ratio_text(before, after):
    if not before or after is None:
        return "–"
    return f"{after / before:.2f}"


def scenario_label(s, row=None):
    n = requests_per_op(row) if row else REQUESTS_PER_OP.get(s, 1)
    return s + (f" (op, {n} req)" if n > 1 else "")


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
    baseline = (by_kind.get("baseline") or [None])[-1]
    mach = machine()

    # The current build's rows make the load tables and the verdicts; the baseline's appear
    # beside them (before / after).
    table, base = {}, {}
    for r in rows:
        key = (r["backend"], int(r["population"]), r["scenario"], int(r["connections"]))
        (base if build_of(r) == "baseline" else table)[key] = r
    # A run that did nothing (verify-wrong already exhausted) has no latency or CPU to judge.
    measured = {k: r for k, r in table.items() if r.get("operations")}
    base_measured = {k: r for k, r in base.items() if r.get("operations")}
    have_base = bool(base)
    backends = []
    pops = []
    for r in rows:
        if r["backend"] not in backends:
            backends.append(r["backend"])
        if int(r["population"]) not in pops:
            pops.append(int(r["population"]))
    pops.sort()
    conns_list = sorted({int(r["connections"]) for r in rows})
    scenarios = SCENARIO_ORDER + sorted({r["scenario"] for r in rows} - set(SCENARIO_ORDER))
    base_name = f"baseline {baseline['commit']}" if baseline else "baseline"

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
    if baseline:
        how = ("its binary cached by an earlier run" if str(baseline.get("cached")) == "true"
               else f"built in {baseline.get('seconds', '?')} s in a temporary worktree")
        w(f"- baseline (the \"before\" figures): commit {baseline['commit']} (`--baseline {baseline.get('rev', '?')}`), "
          f"{how}. For each backend and population its server ran first, then this commit's, each from "
          "scratch (own data directory or database, Redis prefix, import, client key and client state), "
          "with the same client (this commit's twofold-bench), scenarios and connections.")
    w(f"- machine: {mach['nproc']} CPUs ({mach['cpu']}), {mach['ram']} RAM, Linux {mach['kernel']}")
    total = run.get("total_seconds")
    budget = float(run.get("budget") or 900)
    budget_text = "15 minutes" if budget == 900 else f"the budget of {budget:.0f} s"
    fits = "" if total is None else (f" (fits in {budget_text})" if float(total) <= budget else f" (**over {budget_text}**)")
    w(f"- release build: {build.get('seconds', '?')} s; whole run, builds included: {total or '?'} s{fits}")
    auto = (f" (chosen by run.sh to fit {budget_text} with the builds; BENCH_DURATION sets it)"
            if by_kind.get("duration") else "")
    w(f"- {run.get('duration', '?')} s measured per run{auto}; connections {run.get('connections', '?')}; "
      f"populations {run.get('populations', '?')}; scenarios {run.get('scenarios', '?')}")
    if run.get("pg"):
        w(f"- PostgreSQL: {run['pg']}; Redis: {run.get('redis')}")
    w("- client: `twofold-bench` on one tokio worker thread (HTTP/1.1 keep-alive, one request at a "
      "time per connection) on the same machine: it takes one core, the server and its database "
      "share the other. Server CPU is the server process's utime+stime (/proc/PID/stat) over the "
      "run divided by the operations; PostgreSQL's and Redis's own CPU is not in it. Peak RSS is the "
      "server's VmHWM during the run (reset through /proc/PID/clear_refs at its start"
      + ("" if all(r.get("server_peak_rss_per_run") for r in rows) else
         "; **where the reset was refused, since the server started**") + ").")
    w("- every request carries a random `X-Forwarded-For: 10.a.b.c` (TWOFOLD_TRUST_FORWARDED_FOR=true); "
      "the SMS limits are raised so that sms-send is not refused (log gateway), and the API key's "
      "failure limit (TWOFOLD_KEY_FAILURE_LIMIT) so that verify-wrong's failures do not get every "
      "later call of the key refused; the public URL is "
      f"{run.get('origin') or 'set'} (nothing is served there: it is the security keys' relying party).")
    if any(r.get("clock_ticks_assumed") for r in rows):
        w("- sysconf(_SC_CLK_TCK) did not answer: 100 ticks/s assumed.")
    if run.get("have_import") == "false" or run.get("baseline_have_import") == "false":
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
        bcol = " build |" if have_base else ""
        w("| what | backend | population |" + bcol + " seconds | rate |")
        w("|---|---|---|" + ("---|" if have_base else "") + "---|---|")

        def rate(n, secs, unit):
            # Below the timer's resolution a rate means nothing.
            return f"{n / float(secs):,.0f} {unit}/s" if float(secs) >= 0.05 else "– (too fast to time)"

        def bcell(m):
            if not have_base:
                return ""
            b = m.get("build") or "current"
            return f" {base_name if b == 'baseline' else b} |"

        for s in seeds:
            p = int(s["population"])
            w(f"| `twofold-bench seeds` | – | {pop_name(p)} |" + (" – |" if have_base else "")
              + f" {s['seconds']} | {rate(p, s['seconds'], 'lines')} |")
        for i in imports:
            p = int(i["population"])
            w(f"| `twofold import` (wall time of the command) | {i['backend']} | {pop_name(p)} |{bcell(i)} "
              f"{i['seconds']} | {rate(p, i['seconds'], 'devices')} |")
        for i in provisions:
            u = int(i["users"])
            w(f"| API enroll+confirm | {i['backend']} | {u:,} |{bcell(i)} {i['seconds']} | {rate(u, i['seconds'], 'users')} |")
    else:
        w("No import ran.")
    setups = [r for r in rows if r.get("setup_users")]
    if setups:
        w("")
        w("verify-hotp and verify-webauthn enroll their users through the API before their first run "
          "on a server (not measured, not in the run's CPU or RSS): "
          + "; ".join(f"{r['backend']} {pop_name(r['population'])}"
                      + (f" {base_name if build_of(r) == 'baseline' else 'current'}" if have_base else "")
                      + f" {r['scenario']}: {r['setup_users']:,} users in {r['setup_seconds']:.1f} s"
                      for r in setups) + ".")
    w("")

    w("## Load")
    w("")
    w("Rate is requests/s, except for the scenarios marked (op): operations/s, with latency and "
      "server CPU per operation. `enroll`: create + qr.svg + confirm (3 requests); `verify-webauthn`: "
      "a challenge, then the soft security key's signed assertion sent to verify (2 requests; the "
      "latency includes the client's P-256 signature). `enroll-create` is the create alone, its "
      "answer carrying the QR code inline. `verify-hotp` sends the next counter's code of users "
      "whose HOTP device, like `verify-webauthn`'s security keys, an unmeasured setup enrolled through "
      "the API. Latencies in ms, from an HDR histogram of every operation (failed ones included; "
      "their count is under errors).")
    if have_base:
        w("")
        w(f"These are this commit's rows; the {base_name} rows are in the before / after tables below.")
    w("")
    for b in backends:
        for p in pops:
            present = [k for k in table if k[0] == b and k[1] == p]
            if not present:
                continue
            w(f"### {b} ({'SQLite + in-process store' if b == 'sqlite' else 'PostgreSQL + Redis'}), {pop_name(p)} users")
            w("")
            w("| scenario | conns | rate/s | p50 | p90 | p99 | max | errors | server CPU µs/op | peak RSS MiB |")
            w("|---|---|---|---|---|---|---|---|---|---|")
            for s in scenarios:
                for c in conns_list:
                    r = table.get((b, p, s, c))
                    if not r:
                        continue
                    name = scenario_label(s, r)
                    if r.get("waits"):
                        name += " ¹"
                    if r.get("exhausted"):
                        name += " ²"
                    w(f"| {name} | {c} | {r['ops_per_sec']:,.0f} | {fmt(r['p50_ms'])} | {fmt(r['p90_ms'])} | "
                      f"{fmt(r['p99_ms'])} | {fmt(r['max_ms'])} | {errors_text(r)} | "
                      f"{fmt(r.get('server_cpu_us_per_op'), 0)} | {fmt(r.get('server_peak_rss_mib'), 1)} |")
            exhausted = {table[k]["scenario"] for k in present if table[k].get("exhausted")}
            if "verify-wrong" in exhausted:
                w("")
                w("² verify-wrong stopped early: every user had 9 wrong codes (one more would lock them; "
                  "the allowance is 9 per user per server). Its rate is over the time it ran; a row with "
                  "0 requests found the allowance already used up by the runs before it.")
            if "verify-webauthn" in exhausted:
                w("")
                w("² verify-webauthn stopped early: every security-key user had had 30 challenges in the "
                  "last 5 minutes (the server's limit per user; BENCH_SETUP_USERS sets how many users).")
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
            f"{f['backend']} {pop_name(f['population'])}"
            + (f" {base_name if f.get('build') == 'baseline' else 'current'}" if have_base else "")
            + f" {f['scenario']} at {f['connections']}" for f in failed))
        w("")

    # --- Before / after
    if have_base:
        w("## Before / after")
        w("")
        w(f"Before: {base_name}; after: this commit ({build.get('commit', '?')}). Same machine, same "
          "invocation, one server after the other. Rate in requests/s or, for the (op) scenarios, "
          "operations/s; p99 and max in ms; server CPU in µs per operation, and after ÷ before "
          "(below 1: cheaper); peak RSS in MiB.")
        w("")
        for b in backends:
            for p in pops:
                keys = {k for k in list(table) + list(base) if k[0] == b and k[1] == p}
                if not any(k in base for k in keys):
                    continue
                w(f"### {b} ({'SQLite + in-process store' if b == 'sqlite' else 'PostgreSQL + Redis'}), {pop_name(p)} users")
                w("")
                w("| scenario | conns | rate/s | p99 | max | server CPU µs/op | CPU after ÷ before | peak RSS MiB |")
                w("|---|---|---|---|---|---|---|---|")
                for s in scenarios:
                    for c in conns_list:
                        a, z = base.get((b, p, s, c)), table.get((b, p, s, c))
                        if not a and not z:
                            continue
                        g = lambda r, f: r.get(f) if r and r.get("operations") else None
                        name = scenario_label(s, z or a)
                        if (a and a.get("exhausted")) or (z and z.get("exhausted")):
                            name += " ²"
                        w(f"| {name} | {c} | {arrow(g(a, 'ops_per_sec'), g(z, 'ops_per_sec'), 0, ',')} | "
                          f"{arrow(g(a, 'p99_ms'), g(z, 'p99_ms'), 2)} | {arrow(g(a, 'max_ms'), g(z, 'max_ms'), 2)} | "
                          f"{arrow(g(a, 'server_cpu_us_per_op'), g(z, 'server_cpu_us_per_op'), 0)} | "
                          f"{ratio_text(g(a, 'server_cpu_us_per_op'), g(z, 'server_cpu_us_per_op'))} | "
                          f"{arrow(a and a.get('server_peak_rss_mib'), z and z.get('server_peak_rss_mib'), 1)} |")
                w("")
        w("² stopped early (allowance used up), as in the load tables: the rate is over the time it ran.")
        w("")

    # --- Targets
    w("## Targets")
    w("")
    w("Judged on this commit's rows" + (f"; the {base_name} figure (before) beside each." if have_base else "."))
    w("")
    verdicts = []  # (name, after oks, before oks)

    def before_col(header):
        return f" {header} |" if have_base else ""

    def sep(n):
        return "|" + "---|" * n

    def cpu_target(scenario, limit, what):
        w(f"**{scenario}: server CPU ≤ {limit:.0f} µs per {what}**:")
        w("")
        w("| backend | users | conns | server CPU µs |" + before_col("before"))
        w(sep(4 + have_base))
        oks, boks = [], []
        for b in backends:
            for p in pops:
                for c in conns_list:
                    r, a = measured.get((b, p, scenario, c)), base_measured.get((b, p, scenario, c))
                    if not r and not a:
                        continue
                    cells = []
                    for x, acc in ((r, oks), (a, boks)):
                        v = x.get("server_cpu_us_per_request") if x else None
                        if v is None:
                            cells.append("–")
                        else:
                            acc.append(v <= limit)
                            cells.append(f"{v:.0f} ({verdict(v <= limit)})")
                    w(f"| {b} | {pop_name(p)} | {c} | {cells[0]} |" + (f" {cells[1]} |" if have_base else ""))
        verdicts.append((f"{scenario}: server CPU ≤ {limit:.0f} µs per {what}", oks, boks))
        w("")

    cpu_target("enroll-create", TARGET_ENROLL_CREATE_CPU_US, "request")

    w(f"**verify-wrong: server CPU ≤ {TARGET_WRONG_CPU_RATIO:.0f} × healthz's** (same backend, "
      "population and connections):")
    w("")
    w("| backend | users | conns | healthz µs | verify-wrong µs | ratio |" + before_col("before: healthz / verify-wrong / ratio"))
    w(sep(6 + have_base))
    oks, boks = [], []
    for b in backends:
        for p in pops:
            for c in conns_list:
                cells = []
                for src, acc in ((measured, oks), (base_measured, boks)):
                    h, r = src.get((b, p, "healthz", c)), src.get((b, p, "verify-wrong", c))
                    hv = h.get("server_cpu_us_per_request") if h else None
                    rv = r.get("server_cpu_us_per_request") if r else None
                    if hv and rv is not None:
                        ratio = rv / hv
                        acc.append(ratio <= TARGET_WRONG_CPU_RATIO)
                        cells.append((f"{hv:.0f}", f"{rv:.0f}", f"{ratio:.1f} ({verdict(ratio <= TARGET_WRONG_CPU_RATIO)})"))
                    else:
                        cells.append((fmt(hv, 0), fmt(rv, 0), "–"))
                if all(x[1] == "–" for x in cells[: 1 + have_base]):
                    continue  # no verify-wrong row
                w(f"| {b} | {pop_name(p)} | {c} | {' | '.join(cells[0])} |"
                  + (f" {' / '.join(cells[1])} |" if have_base else ""))
    verdicts.append((f"verify-wrong: server CPU ≤ {TARGET_WRONG_CPU_RATIO:.0f} × healthz", oks, boks))
    w("")

    w(f"**verify-valid: server CPU ≤ {TARGET_VALID_CPU_US:.0f} µs; at {TAIL_CONNS} connections p99 ≤ "
      f"{TARGET_VALID_P99_MS:.0f} ms and max ≤ {TARGET_VALID_MAX_MS:.0f} ms**:")
    w("")
    w("| backend | users | conns | server CPU µs | p99 ms | max ms |" + before_col("before: CPU / p99 / max"))
    w(sep(6 + have_base))
    cpu_ok, cpu_bok, p99_ok, p99_bok, max_ok, max_bok = [], [], [], [], [], []
    for b in backends:
        for p in pops:
            for c in conns_list:
                r, a = measured.get((b, p, "verify-valid", c)), base_measured.get((b, p, "verify-valid", c))
                if not r and not a:
                    continue
                cells = []
                for x, (cok, pok, mok) in ((r, (cpu_ok, p99_ok, max_ok)), (a, (cpu_bok, p99_bok, max_bok))):
                    if not x:
                        cells.append(("–", "–", "–"))
                        continue
                    cpu = x.get("server_cpu_us_per_request")
                    ccell = "–"
                    if cpu is not None:
                        cok.append(cpu <= TARGET_VALID_CPU_US)
                        ccell = f"{cpu:.0f} ({verdict(cpu <= TARGET_VALID_CPU_US)})"
                    pcell, mcell = f"{x['p99_ms']:.2f}", f"{x['max_ms']:.2f}"
                    if c == TAIL_CONNS:
                        pok.append(x["p99_ms"] <= TARGET_VALID_P99_MS)
                        mok.append(x["max_ms"] <= TARGET_VALID_MAX_MS)
                        pcell += f" ({verdict(x['p99_ms'] <= TARGET_VALID_P99_MS)})"
                        mcell += f" ({verdict(x['max_ms'] <= TARGET_VALID_MAX_MS)})"
                    cells.append((ccell, pcell, mcell))
                w(f"| {b} | {pop_name(p)} | {c} | {' | '.join(cells[0])} |"
                  + (f" {' / '.join(cells[1])} |" if have_base else ""))
    verdicts.append((f"verify-valid: server CPU ≤ {TARGET_VALID_CPU_US:.0f} µs", cpu_ok, cpu_bok))
    verdicts.append((f"verify-valid: p99 at {TAIL_CONNS} connections ≤ {TARGET_VALID_P99_MS:.0f} ms", p99_ok, p99_bok))
    verdicts.append((f"verify-valid: max at {TAIL_CONNS} connections ≤ {TARGET_VALID_MAX_MS:.0f} ms", max_ok, max_bok))
    w("")

    cpu_target("sms-send", TARGET_SMS_CPU_US, "request")

    w(f"**Server peak RSS ≤ {TARGET_RSS_MIB:.0f} MiB for {pop_name(RSS_POPULATION)} users at "
      f"{TAIL_CONNS} connections** (the highest peak of that server's runs at {TAIL_CONNS} "
      "connections; every server's highest peak over all its runs beside it, for reference):")
    w("")
    w(f"| backend | users | peak at {TAIL_CONNS} conns | highest peak |" + before_col(f"before: at {TAIL_CONNS} / highest"))
    w(sep(4 + have_base))
    rss_ok, rss_bok = [], []

    def peaks(src, b, p):
        runs = [(r.get("server_peak_rss_mib"), k) for k, r in src.items() if k[0] == b and k[1] == p]
        runs = [(v, k) for v, k in runs if v is not None]
        if not runs:
            return None, None
        top = max(runs)
        tail = [x for x in runs if x[1][3] == TAIL_CONNS]
        return (max(tail) if tail else None), top

    for b in backends:
        for p in pops:
            cells = []
            for src, acc in ((table, rss_ok), (base, rss_bok)):
                tail, top = peaks(src, b, p)
                if top is None:
                    cells.append(("–", "–"))
                    continue
                tcell = "–"
                if tail:
                    tcell = f"{tail[0]:.1f} MiB ({tail[1][2]})"
                    if p == RSS_POPULATION:
                        acc.append(tail[0] <= TARGET_RSS_MIB)
                        tcell += f" ({verdict(tail[0] <= TARGET_RSS_MIB)})"
                cells.append((tcell, f"{top[0]:.1f} MiB ({top[1][2]} at {top[1][3]})"))
            if cells[0] == ("–", "–") and (not have_base or cells[1] == ("–", "–")):
                continue
            w(f"| {b} | {pop_name(p)} | {' | '.join(cells[0])} |" + (f" {' / '.join(cells[1])} |" if have_base else ""))
    if RSS_POPULATION not in pops:
        w("")
        w(f"(No {pop_name(RSS_POPULATION)} population in this run: the target is not judged.)")
    verdicts.append((f"peak RSS ≤ {TARGET_RSS_MIB:.0f} MiB at {pop_name(RSS_POPULATION)} users, {TAIL_CONNS} connections",
                     rss_ok, rss_bok))
    w("")

    p50_ok, p50_bok = [], []
    if len(pops) >= 2:
        lo, hi = (10_000, 1_000_000) if {10_000, 1_000_000} <= set(pops) else (pops[0], pops[-1])
        w(f"**verify p50 at {pop_name(hi)} ÷ at {pop_name(lo)} users ≤ {TARGET_P50_RATIO}**:")
        w("")
        w("| backend | scenario | " + " | ".join(f"{c} conns" for c in conns_list) + " |")
        w(sep(2 + len(conns_list)))
        for b in backends:
            for s in VERIFY:
                cells = []
                for c in conns_list:
                    parts = []
                    for src, acc in ((measured, p50_ok), (base_measured, p50_bok)):
                        a, z = src.get((b, lo, s, c)), src.get((b, hi, s, c))
                        if a and z and a["p50_ms"] > 0:
                            ratio = z["p50_ms"] / a["p50_ms"]
                            acc.append(ratio <= TARGET_P50_RATIO)
                            parts.append(f"{z['p50_ms']:.2f} / {a['p50_ms']:.2f} = {ratio:.2f} ({verdict(ratio <= TARGET_P50_RATIO)})")
                        else:
                            parts.append("–")
                    cells.append(parts[0] + (f"; before {parts[1]}" if have_base and parts[1] != "–" else ""))
                w(f"| {b} | {s} | " + " | ".join(cells) + " |")
    else:
        w(f"**verify p50 at 10^6 ÷ at 10^4 users ≤ {TARGET_P50_RATIO}**: not computed, one population only.")
    verdicts.append((f"verify p50 at the largest ÷ the smallest population ≤ {TARGET_P50_RATIO}", p50_ok, p50_bok))
    w("")

    w("**verify-hotp and verify-webauthn** (measured, no target), beside verify-valid: rate "
      "(verify-webauthn: sign-ins/s, each a challenge and a verify), p50 and p99 in ms, server CPU "
      "per operation (verify-webauthn: for its 2 requests):")
    w("")
    w("| backend | users | conns | scenario | rate/s | p50 | p99 | server CPU µs/op |"
      + before_col("before: rate / p50 / p99 / CPU"))
    w(sep(8 + have_base))
    others = []
    for b in backends:
        for p in pops:
            for c in conns_list:
                for s in ("verify-valid", "verify-hotp", "verify-webauthn"):
                    r, a = measured.get((b, p, s, c)), base_measured.get((b, p, s, c))
                    if not r and not a:
                        continue
                    if s != "verify-valid" and r:
                        others.append(r)
                    cells = []
                    for x in (r, a):
                        cells.append((f"{x['ops_per_sec']:,.0f}", f"{x['p50_ms']:.2f}", f"{x['p99_ms']:.2f}",
                                      fmt(x.get("server_cpu_us_per_op"), 0)) if x else ("–",) * 4)
                    w(f"| {b} | {pop_name(p)} | {c} | {scenario_label(s, r or a)} | {' | '.join(cells[0])} |"
                      + (f" {' / '.join(cells[1])} |" if have_base else ""))
    w("")

    w("**Summary**")
    w("")
    for name, oks, boks in verdicts:
        after = "not measured" if not oks else f"{verdict(all(oks))} ({sum(oks)} of {len(oks)} rows)"
        before = ""
        if have_base:
            before = "; before: " + ("not measured" if not boks else f"{'met' if all(boks) else 'not met'} ({sum(boks)} of {len(boks)} rows)")
        w(f"- {name}: {after}{before}")
    w(f"- verify-hotp, verify-webauthn: measured ({len(others)} rows), no target")
    w("")

    logs = by_kind.get("server_log", [])
    if logs:
        w("## Server log (warn and above)")
        w("")
        for l in logs:
            # The server colours its log even into a file: drop the escapes, one line per entry.
            tail = re.sub(r"\x1b\[[0-9;]*m", "", l["tail"]).strip().replace("`", "'")
            who = f"{l['backend']} {pop_name(l['population'])}"
            if have_base:
                who += f" {base_name if l.get('build') == 'baseline' else 'current'}"
            w(f"- {who}: {l['lines']} lines; the last ones:")
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
            "enroll-create": [("seal seed", us("seal_20_byte_seed")), ("QR SVG", us("qr_svg_otpauth_uri"))],
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
