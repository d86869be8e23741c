#!/usr/bin/env bash
# The whole twofold benchmark, written to bench/RESULTS.md: `bench/run.sh` (from anywhere).
#
# Builds the release binaries, then for each backend pair — sqlite: SQLite + in-process store;
# postgres: PostgreSQL + Redis — and each population: writes the seed file, times
# `twofold import`, starts `twofold serve`, makes a client key, runs every scenario at every
# connection count with twofold-bench (recording the server's CPU per request and peak RSS),
# and stops the server. bench/report.py then writes RESULTS.md with the targets' verdicts.
#
# Knobs (environment):
#   BENCH_DURATION                      measured seconds per run; unset: 5, or less so that the
#                                       whole run, build included, fits in BENCH_BUDGET seconds
#   BENCH_BUDGET=900                    (15 minutes; only used to pick the duration)
#   BENCH_POPULATIONS="10000 1000000"   imported users per server
#   BENCH_CONNECTIONS="1 16 64"
#   BENCH_SCENARIOS="healthz verify-valid verify-wrong enroll sms-send"
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

DURATION=${BENCH_DURATION:-}
BUDGET=${BENCH_BUDGET:-900}
POPULATIONS=${BENCH_POPULATIONS:-"10000 1000000"}
CONNECTIONS=${BENCH_CONNECTIONS:-"1 16 64"}
SCENARIOS=${BENCH_SCENARIOS:-"healthz verify-valid verify-wrong enroll sms-send"}
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
SERVER_PID="" PG_RUN=() PG_BIN="" PG_STARTED=false REDIS_PID="" DATABASES=() PREFIXES=()
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  [[ -n $SERVER_PID ]] && { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
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
TWOFOLD=$TMP/bin/twofold
BENCH=$TMP/bin/twofold-bench
HAVE_IMPORT=true
"$TWOFOLD" import --help >/dev/null 2>&1 || HAVE_IMPORT=false
$HAVE_IMPORT || say "WARNING: this twofold has no \`import\`: users are enrolled through the API instead (at most $PROVISION_MAX)"

: >"$RAW"
META=$TMP/meta.jsonl
meta() { python3 -c 'import json,sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' "$@" >>"$META"; }
meta kind build seconds "$BUILD_SECS" commit "$GIT_COMMIT" dirty_files "$GIT_DIRTY"

# The duration that fits what is left of the budget: the runs, plus what does not scale with
# the duration (estimated from this machine: imports at ~25k devices/s on PostgreSQL and ~50k/s
# on SQLite, ~0.5 s per run to start the client and save its state, ~5 s per server, 60 s for
# a possible wait for a fresh TOTP step and the report).
if [[ -z $DURATION ]]; then
  DURATION=$(python3 - "$BUDGET" "$(since "$T0")" "$BACKENDS" "$POPULATIONS" "$SCENARIOS" "$CONNECTIONS" <<'PY'
import sys
budget, spent = float(sys.argv[1]), float(sys.argv[2])
backends, pops, scenarios, conns = (a.split() for a in sys.argv[3:7])
runs = len(backends) * len(pops) * len(scenarios) * len(conns)
fixed = sum(int(p) / (25000 if b == "postgres" else 50000) + 5 for b in backends for p in pops)
fixed += 0.5 * runs + 60
d = (budget - spent - fixed) / max(runs, 1)
print(f"{min(5.0, max(2.0, d)):.1f}")
PY
  )
  say "measuring ${DURATION}s per run (BENCH_DURATION unset: 5 s at most, to fit ${BUDGET}s in all)"
  meta kind duration auto true seconds "$DURATION"
fi

# SMS limits far above what a run sends: sms-send measures the send path, not the refusals.
# (No maximum is enforced by the configuration for these keys.)
SMS_ENV=(
  TWOFOLD_SMS_GATEWAY=log
  TWOFOLD_SMS_PER_NUMBER_10MIN=1000000 TWOFOLD_SMS_PER_NUMBER_DAY=1000000
  TWOFOLD_SMS_PER_PREFIX_HOUR=1000000 TWOFOLD_SMS_PER_IP_HOUR=1000000
  TWOFOLD_SMS_PER_USER_HOUR=1000000 TWOFOLD_SMS_PER_COUNTRY_HOUR=100000000
  TWOFOLD_SMS_DAILY_BUDGET=100000000
)

stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

start_server() {  # $1: log file; env from ENV
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

run_pair() {  # $1 backend, $2 population
  local backend=$1 pop=$2 label="$1 $2" dir=$TMP/$1-$2
  mkdir -p "$dir"
  ENV=(TWOFOLD_DATA_DIR="$dir/data" TWOFOLD_LOG=warn TWOFOLD_TRUST_FORWARDED_FOR=true "${SMS_ENV[@]}")
  if [[ $backend == postgres ]]; then
    local db="twofold_bench_$$_$pop" prefix="tfbench$$-$pop:"
    psql "$PG_ADMIN" -qAtc "CREATE DATABASE $db" >/dev/null
    DATABASES+=("$db") PREFIXES+=("$prefix")
    ENV+=(TWOFOLD_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/$db"
      TWOFOLD_REDIS_URL="redis://127.0.0.1:$REDIS_PORT" TWOFOLD_REDIS_PREFIX="$prefix"
      TWOFOLD_MASTER_KEY="$(head -c 32 /dev/urandom | base64)")
  fi
  # (sqlite: the database and the generated development master key live in the data dir,
  # which the import, the key creation and the server share.)

  local users=$pop seeds_arg=() key
  if $HAVE_IMPORT; then
    local seeds; seeds=$(seed_file "$pop")
    say "$label: importing $pop devices"
    local i0 out; i0=$(now)
    out=$(env "${ENV[@]}" "$TWOFOLD" import --format jsonl "$seeds" 2>"$dir/import.err") ||
      { say "import failed:"; tail -n 20 "$dir/import.err" >&2; return 1; }
    local secs; secs=$(since "$i0")
    say "$label: $out in ${secs}s"
    meta kind import backend "$backend" population "$pop" seconds "$secs" output "$out"
  fi
  key=$(env "${ENV[@]}" "$TWOFOLD" api-key create --name bench --role client 2>"$dir/key.err" | grep -o 'tfk_[A-Za-z0-9_-]*' | tail -n 1) ||
    { say "api-key create failed:"; cat "$dir/key.err" >&2; return 1; }

  start_server "$dir/server.log"
  if ! $HAVE_IMPORT; then
    users=$((pop < PROVISION_MAX ? pop : PROVISION_MAX))
    say "$label: enrolling $users users through the API (no import)"
    local p0; p0=$(now)
    "$BENCH" provision --url "$URL" --client-key "$key" --users "$users" \
      --out "$dir/provisioned.jsonl" --state "$dir/state"
    meta kind provision backend "$backend" population "$pop" users "$users" seconds "$(since "$p0")"
    seeds_arg=(--seeds "$dir/provisioned.jsonl")
  fi

  # Connections outside, scenarios inside: the three verify-valid runs are then ~5 runs apart,
  # time in which every user gets a fresh TOTP step, so a 10^4 population never runs dry.
  for conns in $CONNECTIONS; do
    for scenario in $SCENARIOS; do
      local row
      if row=$("$BENCH" load --url "$URL" --client-key "$key" --scenario "$scenario" \
        --connections "$conns" --duration "$DURATION" --users "$users" --pid "$SERVER_PID" \
        --state "$dir/state" "${seeds_arg[@]}" --label "$label" --json); then
        python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r.update(backend=sys.argv[2], population=int(sys.argv[3])); print(json.dumps(r))' \
          "$row" "$backend" "$pop" >>"$RAW"
      else
        say "$label: $scenario at $conns connections FAILED"
        meta kind failed backend "$backend" population "$pop" scenario "$scenario" connections "$conns"
      fi
    done
  done
  # Anything the server logged at warn or above is worth a look (run.sh keeps the last lines).
  if [[ -s $dir/server.log ]]; then
    meta kind server_log backend "$backend" population "$pop" lines "$(wc -l <"$dir/server.log")" \
      tail "$(grep -v 'generated a development master key' "$dir/server.log" | tail -n 5 | cut -c1-300)"
  fi
  stop_server
}

for backend in $BACKENDS; do
  for pop in $POPULATIONS; do
    run_pair "$backend" "$pop"
  done
done

MICRO_OUT=""
if [[ $MICRO == 1 ]]; then
  say "micro-benchmarks (cargo bench -p twofold-bench)"
  MICRO_OUT=$TMP/micro.txt
  cargo bench -p twofold-bench --bench micro 2>&1 | tee "$MICRO_OUT" >&2
fi

meta kind run total_seconds "$(since "$T0")" duration "$DURATION" pg "$PG_HOW" redis "$REDIS_HOW" \
  have_import "$HAVE_IMPORT" populations "$POPULATIONS" connections "$CONNECTIONS" scenarios "$SCENARIOS"
python3 bench/report.py --meta "$META" --raw "$RAW" --out "$RESULTS" ${MICRO_OUT:+--micro "$MICRO_OUT"}
say "done in $(since "$T0")s: $RESULTS (raw rows: $RAW)"
