#!/usr/bin/env bash
# The whole twofold benchmark, written to bench/RESULTS.md: `bench/run.sh [--baseline REV]`
# (from anywhere).
#
# Builds the release binaries, then for each backend pair — sqlite: SQLite + in-process store;
# postgres: PostgreSQL + Redis — and each population: writes the seed file, times
# `twofold import`, starts `twofold serve`, makes a client key, runs every scenario at every
# connection count with twofold-bench (recording the server's CPU per request and peak RSS),
# and stops the server. bench/report.py then writes RESULTS.md with the targets' verdicts.
#
# --baseline REV (or BENCH_BASELINE=REV): also builds the twofold binary of commit REV (in a
# temporary `git worktree`, with CARGO_TARGET_DIR=target/bench-baseline so a later build is
# incremental; the binary is kept as target/bench-baseline/twofold-<sha>, so the same REV is
# built once) and, for each backend and population, runs that server first and then the current
# one, each from scratch (its own data directory or database, Redis prefix, import, client key
# and client state), with the same scenarios and connections. The client, twofold-bench, is
# always the current one. RESULTS.md then has a before/after table per backend and population.
#
# Knobs (environment):
#   BENCH_DURATION                      measured seconds per run; unset: 5, or less so that the
#                                       whole run, builds included, fits in BENCH_BUDGET seconds
#   BENCH_BUDGET=900                    (15 minutes; 1800 with a baseline, which doubles the
#                                       runs; only used to pick the duration)
#   BENCH_BASELINE                      as --baseline
#   BENCH_POPULATIONS="10000 1000000"   imported users per server
#   BENCH_CONNECTIONS="1 16 64"
#   BENCH_SCENARIOS="healthz verify-valid verify-wrong verify-hotp verify-webauthn enroll enroll-create sms-send"
#   BENCH_SETUP_USERS=1000              verify-hotp and verify-webauthn: users given an HOTP
#                                       device or a security key through the API before their
#                                       first run on a server (not measured; at most the
#                                       population)
#   BENCH_BACKENDS="sqlite postgres"
#   BENCH_MICRO=0                       1: also `cargo bench -p twofold-bench` (micro-benchmarks
#                                       and the profile section; ~1 more minute plus its build)
#   BENCH_RESULTS=bench/RESULTS.md      where to write the report (raw rows: same name, .jsonl)
#   BENCH_PROVISION_MAX=10000           without `twofold import`: users enrolled through the API
#   BENCH_PG_PORT=5432 BENCH_REDIS_PORT=6379
#                                       shared servers to use (PostgreSQL: trust auth, role
#                                       postgres); private throw-away ones are started otherwise
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BASELINE=${BENCH_BASELINE:-}
while (($#)); do
  case $1 in
    --baseline)
      [[ $# -ge 2 && -n $2 ]] || { echo "bench/run.sh: --baseline needs a commit" >&2; exit 2; }
      BASELINE=$2; shift 2 ;;
    --baseline=*) BASELINE=${1#--baseline=}; shift ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument \`$1\` (--baseline REV, --help)" >&2; exit 2 ;;
  esac
done
BASE_SHA=""
if [[ -n $BASELINE ]]; then
  BASE_SHA=$(git rev-parse --verify --quiet "$BASELINE^{commit}") ||
    { echo "bench/run.sh: --baseline $BASELINE: not a commit of this repository" >&2; exit 2; }
fi

DURATION=${BENCH_DURATION:-}
BUDGET=${BENCH_BUDGET:-$([[ -n $BASELINE ]] && echo 1800 || echo 900)}
POPULATIONS=${BENCH_POPULATIONS:-"10000 1000000"}
CONNECTIONS=${BENCH_CONNECTIONS:-"1 16 64"}
SCENARIOS=${BENCH_SCENARIOS:-"healthz verify-valid verify-wrong verify-hotp verify-webauthn enroll enroll-create sms-send"}
SETUP_USERS=${BENCH_SETUP_USERS:-1000}
BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
MICRO=${BENCH_MICRO:-0}
RESULTS=${BENCH_RESULTS:-bench/RESULTS.md}
PROVISION_MAX=${BENCH_PROVISION_MAX:-10000}
PG_PORT=${BENCH_PG_PORT:-5432}
REDIS_PORT=${BENCH_REDIS_PORT:-6379}
RAW=${RESULTS%.md}.jsonl

# Only what this script sets may configure the servers it starts.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^TWOFOLD_' || true)

say() { echo "bench: $*" >&2; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$(now)"; }
have() { local p; p=$(command -v "$1") && [[ -x $p ]]; }
T0=$(now)

# --- Backend helpers: a minimal copy of scripts/test.sh's (kept apart so the test command stays
# exactly as it is).
tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 50); do p=$((20000 + RANDOM % 30000)); tcp_open "$p" || { echo "$p"; return; }; done
  return 1
}
redis_pong() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; printf 'PING\r\n' >&3; read -r l <&3; [[ \$l == +PONG* ]]" 2>/dev/null
}
pg_bindir() {
  if have initdb && have pg_ctl; then dirname "$(readlink -f "$(command -v initdb)")"
  else compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1; fi
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/twofold-bench.XXXXXX")
SERVER_PID="" PG_RUN=() PG_BIN="" PG_STARTED=false REDIS_PID="" DATABASES=() PREFIXES=() BASE_WT=""
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  [[ -n $SERVER_PID ]] && { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  if [[ -n $BASE_WT ]]; then
    git -C "$ROOT" worktree remove --force "$BASE_WT" >/dev/null 2>&1 || true
    git -C "$ROOT" worktree prune >/dev/null 2>&1 || true
  fi
  for db in "${DATABASES[@]}"; do psql "$PG_ADMIN" -qAtc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; done
  # Every key twofold writes expires, but a benchmark leaves tens of thousands (one per client
  # address): remove them now rather than in an hour.
  if have redis-cli; then
    for prefix in "${PREFIXES[@]}"; do
      redis-cli -p "$REDIS_PORT" --scan --pattern "$prefix*" 2>/dev/null |
        xargs -r -n 1000 redis-cli -p "$REDIS_PORT" del >/dev/null 2>&1 || true
    done
  fi
  if $PG_STARTED; then "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$TMP/pg" -m immediate -w stop >/dev/null 2>&1 || true; fi
  [[ -n $REDIS_PID ]] && { kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; }
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_private_pg() {
  PG_BIN=$(pg_bindir)
  [[ -n $PG_BIN && -x $PG_BIN/initdb ]] || { say "PostgreSQL server binaries not found"; return 1; }
  if [[ $EUID -eq 0 ]]; then  # postgres refuses to run as root
    local user=postgres; id postgres >/dev/null 2>&1 || user=nobody
    PG_RUN=(runuser -u "$user" --); chown "$user" "$TMP"
  fi
  PG_PORT=$(free_port) || return 1
  "${PG_RUN[@]}" "$PG_BIN/initdb" -D "$TMP/pg" -A trust -U postgres -E UTF8 --no-sync >"$TMP/initdb.log" 2>&1 ||
    { cat "$TMP/initdb.log" >&2; return 1; }
  PG_STARTED=true
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$TMP/pg" -l "$TMP/pg.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $PG_PORT -k $TMP -c max_connections=300" start >/dev/null ||
    { tail -n 20 "$TMP/pg.log" >&2; return 1; }
}

start_private_redis() {
  have redis-server || { say "redis-server is not installed"; return 1; }
  REDIS_PORT=$(free_port) || return 1
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --dir "$TMP" --logfile "$TMP/redis.log" &
  REDIS_PID=$!
  for _ in $(seq 50); do
    redis_pong "$REDIS_PORT" && return 0
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.2
  done
  tail -n 20 "$TMP/redis.log" >&2 || true
  return 1
}

PG_ADMIN="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
PG_HOW="" REDIS_HOW=""
if [[ " $BACKENDS " == *" postgres "* ]]; then
  if psql "$PG_ADMIN" -qAtc 'select 1' >/dev/null 2>&1; then PG_HOW="shared server on port $PG_PORT"
  else
    say "no PostgreSQL letting role postgres in on port $PG_PORT: starting a private one"
    start_private_pg || { say "ERROR: no PostgreSQL"; exit 1; }
    PG_ADMIN="postgres://postgres@127.0.0.1:$PG_PORT/postgres" PG_HOW="private instance on port $PG_PORT"
  fi
  if redis_pong "$REDIS_PORT"; then REDIS_HOW="shared server on port $REDIS_PORT"
  else
    say "no Redis answering PING on port $REDIS_PORT: starting a private one"
    start_private_redis || { say "ERROR: no Redis"; exit 1; }
    REDIS_HOW="private instance on port $REDIS_PORT"
  fi
fi

# --- Build (timed: the whole benchmark must fit in 15 minutes with it).
say "building (release)"
# What is being measured: the commit, and whether the service's files differed from it.
GIT_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(git status --porcelain --untracked-files=no -- . ':!bench' 2>/dev/null | wc -l)
B0=$(now)
cargo build --release -p twofold -p twofold-bench
BUILD_SECS=$(since "$B0")
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# Private copies: a rebuild in the shared target directory during the run must not swap the
# binary between two servers of one benchmark.
mkdir -p "$TMP/bin"
cp "$TARGET_DIR/release/twofold" "$TARGET_DIR/release/twofold-bench" "$TMP/bin/"
BENCH=$TMP/bin/twofold-bench
declare -A BIN=([current]=$TMP/bin/twofold)

: >"$RAW"
META=$TMP/meta.jsonl
meta() { python3 -c 'import json,sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' "$@" >>"$META"; }
meta kind build seconds "$BUILD_SECS" commit "$GIT_COMMIT" dirty_files "$GIT_DIRTY"

# --- The baseline's server: built once per commit, in a worktree of its own.
BUILDS=(current)
if [[ -n $BASE_SHA ]]; then
  BASE_SHORT=$(git rev-parse --short "$BASE_SHA")
  BASE_TARGET=$ROOT/target/bench-baseline
  BASE_CACHED=$BASE_TARGET/twofold-$BASE_SHA
  if [[ -x $BASE_CACHED ]]; then
    say "baseline $BASE_SHORT: cached binary $BASE_CACHED"
    meta kind baseline commit "$BASE_SHORT" sha "$BASE_SHA" rev "$BASELINE" cached true seconds 0
  else
    say "baseline $BASE_SHORT: building it (release) in a temporary worktree"
    BASE_WT=$TMP/baseline-src
    git worktree add --detach --quiet "$BASE_WT" "$BASE_SHA"
    B0=$(now)
    (cd "$BASE_WT" && CARGO_TARGET_DIR=$BASE_TARGET cargo build --release -p twofold)
    cp "$BASE_TARGET/release/twofold" "$BASE_CACHED.tmp.$$"
    mv -f "$BASE_CACHED.tmp.$$" "$BASE_CACHED"
    meta kind baseline commit "$BASE_SHORT" sha "$BASE_SHA" rev "$BASELINE" cached false seconds "$(since "$B0")"
    git worktree remove --force "$BASE_WT"
    BASE_WT=""
  fi
  cp "$BASE_CACHED" "$TMP/bin/twofold-baseline"
  BIN[baseline]=$TMP/bin/twofold-baseline
  BUILDS=(baseline current)
fi

declare -A HAVE_IMPORT=()
for build in "${BUILDS[@]}"; do
  HAVE_IMPORT[$build]=true
  "${BIN[$build]}" import --help >/dev/null 2>&1 || HAVE_IMPORT[$build]=false
  ${HAVE_IMPORT[$build]} || say "WARNING: the $build twofold has no \`import\`: users are enrolled through the API instead (at most $PROVISION_MAX)"
done

# The duration that fits what is left of the budget: the runs, plus what does not scale with
# the duration (estimated from this machine: imports at ~25k devices/s on PostgreSQL and ~50k/s
# on SQLite, ~0.5 s per run to start the client and save its state, ~5 s per server, the setups
# of verify-hotp and verify-webauthn, 60 s for a possible wait for a fresh TOTP step and the
# report). A baseline doubles the servers and the runs.
if [[ -z $DURATION ]]; then
  DURATION=$(python3 - "$BUDGET" "$(since "$T0")" "$BACKENDS" "$POPULATIONS" "$SCENARIOS" "$CONNECTIONS" "${#BUILDS[@]}" "$SETUP_USERS" <<'PY'
import sys
budget, spent = float(sys.argv[1]), float(sys.argv[2])
backends, pops, scenarios, conns = (a.split() for a in sys.argv[3:7])
builds, setup_users = int(sys.argv[7]), int(sys.argv[8])
runs = builds * len(backends) * len(pops) * len(scenarios) * len(conns)
# Setup per server: ~3 ms (SQLite) or ~5 ms (PostgreSQL) per HOTP user or security key.
setups = ("verify-hotp" in scenarios) + ("verify-webauthn" in scenarios)
setup = lambda b, p: (0.005 if b == "postgres" else 0.003) * setups * min(int(p), setup_users)
fixed = builds * sum(int(p) / (25000 if b == "postgres" else 50000) + 5 + setup(b, p) for b in backends for p in pops)
fixed += 0.5 * runs + 60
d = (budget - spent - fixed) / max(runs, 1)
print(f"{min(5.0, max(2.0, d)):.1f}")
PY
  )
  say "measuring ${DURATION}s per run (BENCH_DURATION unset: 5 s at most, to fit ${BUDGET}s in all)"
  meta kind duration auto true seconds "$DURATION" budget "$BUDGET"
fi

# verify-webauthn: security keys need the public URL on a domain name (the RP ID); nothing is
# served there, it only names the relying party the soft keys sign for.
ORIGIN=https://bench.twofold.example

# SMS limits far above what a run sends: sms-send measures the send path, not the refusals.
# (No maximum is enforced by the configuration for these keys.)
SMS_ENV=(
  TWOFOLD_SMS_GATEWAY=log
  TWOFOLD_SMS_PER_NUMBER_10MIN=1000000 TWOFOLD_SMS_PER_NUMBER_DAY=1000000
  TWOFOLD_SMS_PER_PREFIX_HOUR=1000000 TWOFOLD_SMS_PER_IP_HOUR=1000000
  TWOFOLD_SMS_PER_USER_HOUR=1000000 TWOFOLD_SMS_PER_COUNTRY_HOUR=100000000
  TWOFOLD_SMS_DAILY_BUDGET=100000000 TWOFOLD_SMS_TENANT_DAILY_BUDGET=100000000
)
# Likewise the failures one API key may cause per window (default 5000) when it passes no
# `client_ip`, as the load generator's calls do: verify-wrong sends up to 9 per user (90,000
# for 10^4 users), and a key over its limit gets 429 on every verify and confirm until the
# window ends — every scenario after it would measure refusals.
LIMIT_ENV=(TWOFOLD_KEY_FAILURE_LIMIT=1000000000)

stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

start_server() {  # $1: log file; env from ENV, binary TWOFOLD
  local port; port=$(free_port) || { say "no free port"; return 1; }
  env "${ENV[@]}" TWOFOLD_LISTEN="127.0.0.1:$port" "$TWOFOLD" serve >"$1" 2>&1 &
  SERVER_PID=$!
  URL="http://127.0.0.1:$port"
  for _ in $(seq 300); do
    curl -sf "$URL/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  say "the server did not become ready:"; tail -n 20 "$1" >&2
  return 1
}

# One seed file per population, shared by both backends.
seed_file() {
  local f=$TMP/seeds-$1.jsonl
  if [[ ! -s $f ]]; then
    local s0; s0=$(now)
    "$BENCH" seeds --count "$1" --format jsonl --out "$f"
    meta kind seeds population "$1" seconds "$(since "$s0")"
  fi
  echo "$f"
}

# One server from scratch: $1 backend, $2 population, $3 build (baseline or current).
run_server() {
  local backend=$1 pop=$2 build=$3 label="$1 $2" dir=$TMP/$1-$2-$3
  [[ ${#BUILDS[@]} -gt 1 ]] && label+=" $build"
  TWOFOLD=${BIN[$build]}
  local have_import=${HAVE_IMPORT[$build]}
  mkdir -p "$dir"
  ENV=(TWOFOLD_DATA_DIR="$dir/data" TWOFOLD_LOG=warn TWOFOLD_TRUST_FORWARDED_FOR=true
    TWOFOLD_PUBLIC_URL="$ORIGIN" "${SMS_ENV[@]}" "${LIMIT_ENV[@]}")
  if [[ $backend == postgres ]]; then
    local db="twofold_bench_$$_${pop}_$build" prefix="tfbench$$-$pop-$build:"
    psql "$PG_ADMIN" -qAtc "CREATE DATABASE $db" >/dev/null
    DATABASES+=("$db") PREFIXES+=("$prefix")
    ENV+=(TWOFOLD_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/$db"
      TWOFOLD_REDIS_URL="redis://127.0.0.1:$REDIS_PORT" TWOFOLD_REDIS_PREFIX="$prefix"
      TWOFOLD_MASTER_KEY="$(head -c 32 /dev/urandom | base64)")
  fi
  # (sqlite: the database and the generated development master key live in the data dir,
  # which the import, the key creation and the server share.)

  local users=$pop seeds_arg=() key
  if $have_import; then
    local seeds; seeds=$(seed_file "$pop")
    say "$label: importing $pop devices"
    local i0 out; i0=$(now)
    out=$(env "${ENV[@]}" "$TWOFOLD" import --format jsonl "$seeds" 2>"$dir/import.err") ||
      { say "import failed:"; tail -n 20 "$dir/import.err" >&2; return 1; }
    local secs; secs=$(since "$i0")
    say "$label: $out in ${secs}s"
    meta kind import backend "$backend" population "$pop" build "$build" seconds "$secs" output "$out"
  fi
  key=$(env "${ENV[@]}" "$TWOFOLD" api-key create --name bench --role client 2>"$dir/key.err" | grep -o 'tfk_[A-Za-z0-9_-]*' | tail -n 1) ||
    { say "api-key create failed:"; cat "$dir/key.err" >&2; return 1; }

  start_server "$dir/server.log"
  if ! $have_import; then
    users=$((pop < PROVISION_MAX ? pop : PROVISION_MAX))
    say "$label: enrolling $users users through the API (no import)"
    local p0; p0=$(now)
    "$BENCH" provision --url "$URL" --client-key "$key" --users "$users" \
      --out "$dir/provisioned.jsonl" --state "$dir/state"
    meta kind provision backend "$backend" population "$pop" build "$build" users "$users" seconds "$(since "$p0")"
    seeds_arg=(--seeds "$dir/provisioned.jsonl")
  fi

  # Connections outside, scenarios inside: the three verify-valid runs are then several runs
  # apart, time in which every user gets a fresh TOTP step, so a 10^4 population never runs dry.
  # verify-hotp's and verify-webauthn's users are enrolled by their first run (unmeasured) and
  # kept in the state file for the next ones.
  local tag=""
  [[ ${#BUILDS[@]} -gt 1 ]] && tag=$build
  for conns in $CONNECTIONS; do
    for scenario in $SCENARIOS; do
      local row
      if row=$("$BENCH" load --url "$URL" --client-key "$key" --scenario "$scenario" \
        --connections "$conns" --duration "$DURATION" --users "$users" --pid "$SERVER_PID" \
        --state "$dir/state" "${seeds_arg[@]}" --setup-users "$SETUP_USERS" --origin "$ORIGIN" \
        --label "$label" --json); then
        python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r.update(backend=sys.argv[2], population=int(sys.argv[3])); r.update({"build": sys.argv[4]} if sys.argv[4] else {}); print(json.dumps(r))' \
          "$row" "$backend" "$pop" "$tag" >>"$RAW"
      else
        say "$label: $scenario at $conns connections FAILED"
        meta kind failed backend "$backend" population "$pop" build "$build" scenario "$scenario" connections "$conns"
      fi
    done
  done
  # Anything the server logged at warn or above is worth a look (run.sh keeps the last lines).
  if [[ -s $dir/server.log ]]; then
    meta kind server_log backend "$backend" population "$pop" build "$build" lines "$(wc -l <"$dir/server.log")" \
      tail "$(grep -v 'generated a development master key' "$dir/server.log" | tail -n 5 | cut -c1-300)"
  fi
  stop_server
}

# Baseline first, then current, for each backend and population: the two servers of a pair run
# minutes apart on the same machine, never at the same time.
for backend in $BACKENDS; do
  for pop in $POPULATIONS; do
    for build in "${BUILDS[@]}"; do
      run_server "$backend" "$pop" "$build"
    done
  done
done

MICRO_OUT=""
if [[ $MICRO == 1 ]]; then
  say "micro-benchmarks (cargo bench -p twofold-bench)"
  MICRO_OUT=$TMP/micro.txt
  cargo bench -p twofold-bench --bench micro 2>&1 | tee "$MICRO_OUT" >&2
fi

meta kind run total_seconds "$(since "$T0")" duration "$DURATION" pg "$PG_HOW" redis "$REDIS_HOW" \
  have_import "${HAVE_IMPORT[current]}" baseline_have_import "${HAVE_IMPORT[baseline]:-}" \
  populations "$POPULATIONS" connections "$CONNECTIONS" scenarios "$SCENARIOS" \
  setup_users "$SETUP_USERS" origin "$ORIGIN" budget "$BUDGET"
python3 bench/report.py --meta "$META" --raw "$RAW" --out "$RESULTS" ${MICRO_OUT:+--micro "$MICRO_OUT"}
say "done in $(since "$T0")s: $RESULTS (raw rows: $RAW)"
