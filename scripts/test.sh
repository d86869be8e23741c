#!/usr/bin/env bash
# Run the whole test suite against real PostgreSQL and Redis, then (on a full run) the hosted-page
# journeys in headless Chromium (scripts/e2e.sh), API fuzzing (scripts/schemathesis.sh), and the
# generated clients (clients/generate.sh --check, clients/journeys.sh):
# `scripts/test.sh [cargo test args]`.
#
# Backends, in order of preference (the same for both):
#   1. TWOFOLD_TEST_DATABASE_URL / TWOFOLD_TEST_REDIS_URL if set;
#   2. a server already answering on 127.0.0.1 (ports: TWOFOLD_TEST_PG_PORT / TWOFOLD_TEST_REDIS_PORT,
#      default 5432 / 6379), PostgreSQL with trust auth as role `postgres`;
#   3. a throw-away private instance on a free port, deleted on exit (Debian packages are installed
#      first if missing and we are root).
# Under CI=true a backend that is unavailable is fatal; elsewhere it is a loud warning and the tests
# that need it fail with their own message.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_PORT="${TWOFOLD_TEST_PG_PORT:-5432}"
REDIS_PORT="${TWOFOLD_TEST_REDIS_PORT:-6379}"
IN_CI=false
[[ "${CI:-}" == true || "${CI:-}" == 1 ]] && IN_CI=true

# `command -v` alone also reports a non-executable file on PATH.
have() { local p; p=$(command -v "$1") && [[ -x $p ]]; }
say() { echo "test.sh: $*" >&2; }
unavailable() {
  if $IN_CI; then say "ERROR: $* (fatal under CI=true)"; exit 1; fi
  say "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  say "!!! WARNING: $*"
  say "!!! The tests that need it will fail."
  say "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
}
# Credentials must never reach a CI log: hide the password of user:password@ and ?password=.
mask() { sed -E 's#^([A-Za-z0-9+.-]+://[^:@/]*):[^@]*@#\1:***@#; s#([?&]password=)[^&]*#\1***#' <<<"$1"; }
tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
free_port() {  # racy by nature, but private instances fail loudly if they lose the race
  local p
  for _ in $(seq 50); do p=$((20000 + RANDOM % 30000)); tcp_open "$p" || { echo "$p"; return; }; done
  return 1
}
# An open port is not enough: a Redis that wants a password answers PING with -NOAUTH.
redis_pong() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; printf 'PING\r\n' >&3; read -r l <&3; [[ \$l == +PONG* ]]" 2>/dev/null
}
pg_answers() {
  if have pg_isready; then pg_isready -q -h 127.0.0.1 -p "$1"; else tcp_open "$1"; fi
}
pg_bindir() {  # Debian keeps initdb/pg_ctl off PATH, under /usr/lib/postgresql/<major>/bin
  if have initdb && have pg_ctl; then
    dirname "$(readlink -f "$(command -v initdb)")"
  else
    compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1
  fi
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/twofold-test.XXXXXX")
PG_RUN=() PG_BIN="" PG_STARTED=false REDIS_PID="" CLUSTER_PIDS=()
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  if $PG_STARTED; then "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$TMP/pg" -m immediate -w stop >/dev/null 2>&1 || true; fi
  if [[ -n $REDIS_PID ]]; then kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; fi
  for p in "${CLUSTER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Decide what is needed first, so that at most one apt-get run happens.
SHARED_PG="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
need_pg=false
if [[ -z ${TWOFOLD_TEST_DATABASE_URL:-} ]]; then
  if ! pg_answers "$PG_PORT"; then need_pg=true
  # A server that wants a password for role postgres is of no use to us: start our own instead.
  elif have psql && ! psql "$SHARED_PG" -qAtc 'select 1' >/dev/null 2>&1; then
    say "PostgreSQL on port $PG_PORT does not let role postgres in without a password"; need_pg=true
  fi
fi
pkgs=()
$need_pg && [[ -z $(pg_bindir) ]] && pkgs+=(postgresql)
# The fault-injection tests start their own redis-server, whatever Redis we use here.
have redis-server || pkgs+=(redis-server)
# The enrollment tests check our codes against oathtool and our QR codes with zbarimg.
have oathtool || pkgs+=(oathtool)
have zbarimg || pkgs+=(zbar-tools)
# The rediss:// test makes its own CA and server certificate.
have openssl || pkgs+=(openssl)
if ((${#pkgs[@]})); then
  if [[ $EUID -eq 0 ]] && have apt-get; then
    say "installing ${pkgs[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; } ||
      say "apt-get install ${pkgs[*]} failed"
  else
    say "missing ${pkgs[*]} and not root with apt-get: install them yourself"
  fi
fi
have redis-server || unavailable "redis-server is not installed (the fault tests need it)"

start_private_pg() {
  PG_BIN=$(pg_bindir)
  [[ -n $PG_BIN && -x $PG_BIN/initdb ]] || { say "PostgreSQL server binaries not found"; return 1; }
  if [[ $EUID -eq 0 ]]; then  # postgres refuses to run as root
    local user=postgres; id postgres >/dev/null 2>&1 || user=nobody
    PG_RUN=(runuser -u "$user" --); chown "$user" "$TMP"
  fi
  local port; port=$(free_port) || return 1
  "${PG_RUN[@]}" "$PG_BIN/initdb" -D "$TMP/pg" -A trust -U postgres -E UTF8 --no-sync >"$TMP/initdb.log" 2>&1 ||
    { cat "$TMP/initdb.log" >&2; return 1; }
  PG_STARTED=true
  # Durability is pointless for a throw-away cluster; skipping fsync makes the suite much faster.
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$TMP/pg" -l "$TMP/pg.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $TMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { tail -n 20 "$TMP/pg.log" >&2; return 1; }
  TWOFOLD_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

start_private_redis() {
  have redis-server || return 1
  local port; port=$(free_port) || return 1
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --dir "$TMP" --logfile "$TMP/redis.log" &
  REDIS_PID=$!
  for _ in $(seq 50); do
    redis_pong "$port" && { TWOFOLD_TEST_REDIS_URL="redis://127.0.0.1:$port"; return 0; }
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.2
  done
  tail -n 20 "$TMP/redis.log" >&2 || true
  return 1
}

# A throw-away Redis Cluster of three masters (no replicas) from the local redis-server binary.
start_redis_cluster() {
  have redis-server && have redis-cli || return 1
  local ports=() port
  for _ in 1 2 3; do
    port=$(free_port) || return 1
    # A cluster node also listens on port + 10000: both must be free.
    tcp_open $((port + 10000)) && return 1
    ports+=("$port")
    mkdir -p "$TMP/cluster-$port"
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-config-file "$TMP/cluster-$port/nodes.conf" --cluster-node-timeout 2000 \
      --save "" --appendonly no --daemonize no --dir "$TMP/cluster-$port" \
      --logfile "$TMP/cluster-$port/redis.log" &
    CLUSTER_PIDS+=($!)
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 50); do redis_pong "$port" && break; sleep 0.2; done
    redis_pong "$port" || return 1
  done
  redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes \
    >"$TMP/cluster-create.log" 2>&1 || { tail -n 20 "$TMP/cluster-create.log" >&2; return 1; }
  for _ in $(seq 100); do
    if redis-cli -p "${ports[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then
      TWOFOLD_TEST_REDIS_CLUSTER=$(printf 'redis://127.0.0.1:%s,' "${ports[@]}")
      TWOFOLD_TEST_REDIS_CLUSTER=${TWOFOLD_TEST_REDIS_CLUSTER%,}
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# --- PostgreSQL
pg_how="from TWOFOLD_TEST_DATABASE_URL"
if [[ -z ${TWOFOLD_TEST_DATABASE_URL:-} ]]; then
  if ! $need_pg; then TWOFOLD_TEST_DATABASE_URL=$SHARED_PG pg_how="already running on port $PG_PORT"
  elif start_private_pg; then pg_how="private instance (deleted on exit)"
  else pg_how="unavailable"; unavailable "no PostgreSQL: none usable on 127.0.0.1:$PG_PORT and a private one could not be started"; fi
fi

# --- Redis
redis_how="from TWOFOLD_TEST_REDIS_URL"
if [[ -z ${TWOFOLD_TEST_REDIS_URL:-} ]]; then
  if redis_pong "$REDIS_PORT"; then
    TWOFOLD_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT" redis_how="already running on port $REDIS_PORT"
  else
    tcp_open "$REDIS_PORT" && say "Redis on port $REDIS_PORT does not answer PING (password?); starting a private one"
    if start_private_redis; then redis_how="private instance (deleted on exit)"
    else redis_how="unavailable"; unavailable "no Redis: none usable on 127.0.0.1:$REDIS_PORT and a private one could not be started"; fi
  fi
fi

# --- Redis Cluster (the cluster tests)
cluster_how="from TWOFOLD_TEST_REDIS_CLUSTER"
if [[ -z ${TWOFOLD_TEST_REDIS_CLUSTER:-} ]]; then
  if start_redis_cluster; then cluster_how="private 3-master cluster (deleted on exit)"
  else cluster_how="unavailable"; unavailable "no Redis Cluster: three private redis-server nodes could not be started"; fi
fi

export TWOFOLD_TEST_DATABASE_URL TWOFOLD_TEST_REDIS_URL TWOFOLD_TEST_REDIS_CLUSTER
say "PostgreSQL: $(mask "${TWOFOLD_TEST_DATABASE_URL:-<none>}")  [$pg_how]"
say "Redis:      $(mask "${TWOFOLD_TEST_REDIS_URL:-<none>}")  [$redis_how]"
say "Cluster:    ${TWOFOLD_TEST_REDIS_CLUSTER:-<none>}  [$cluster_how]"

# Not exec: the EXIT trap must still stop the private instances.
status=0
cargo test --all-targets "$@" || status=$?
# On a full run (a filtered run is about its filter): the hosted-page journeys in a real browser,
# then schemathesis against the OpenAPI document of a running instance.
if ((status == 0 && $# == 0)); then
  scripts/e2e.sh || status=$?
fi
if ((status == 0 && $# == 0)); then
  scripts/schemathesis.sh || status=$?
fi
# Then the integrators' view: the served document is valid and the committed Python and
# TypeScript clients are what it generates (every operation in each), and each client's journey
# runs against a started twofold.
if ((status == 0 && $# == 0)); then
  { clients/generate.sh --check && clients/journeys.sh; } || status=$?
fi
exit "$status"
