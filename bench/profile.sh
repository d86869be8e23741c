#!/usr/bin/env bash
# A perf profile of the verify path: a release server on SQLite + the in-process store with 10^4
# imported devices, driven by `twofold-bench` with wrong codes (verify-wrong) then fresh valid
# codes (verify-valid) at 16 connections, sampled by `perf record`; writes the hottest symbols of
# each to bench/PROFILE.md. Needs `perf` (Debian: linux-perf) and perf_event_paranoid ≤ 2.
# `bench/profile.sh` (about 2 minutes after the release build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v perf >/dev/null || { echo "profile.sh: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
SECONDS_PER=${PROFILE_SECONDS:-10}
cargo build --release -p twofold -p twofold-bench
B=$PWD/target/release
TMP=$(mktemp -d /tmp/twofold-profile.XXXXXX)
SERVER=""
cleanup() { [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
for k in $(env | grep -o '^TWOFOLD_[A-Z_]*'); do unset "$k"; done
export TWOFOLD_DATA_DIR=$TMP/data TWOFOLD_LOG=warn TWOFOLD_TRUST_FORWARDED_FOR=true
# Far above what a run sends: without it the client key is refused after 5000 failures.
export TWOFOLD_KEY_FAILURE_LIMIT=1000000000
PORT=$(free_port)
export TWOFOLD_LISTEN=127.0.0.1:$PORT
"$B/twofold-bench" seeds --count 10000 >"$TMP/seeds.jsonl"
"$B/twofold" import "$TMP/seeds.jsonl" >/dev/null 2>&1
KEY=$("$B/twofold" api-key create --name profile --role client 2>/dev/null)
"$B/twofold" serve >"$TMP/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

OUT=bench/PROFILE.md
{
  echo "# Profile of the verify path"
  echo
  echo "Written by \`bench/profile.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)):"
  echo "a release server (SQLite + in-process store, 10^4 imported devices) sampled by"
  echo "\`perf record -F 999 -g\` for ${SECONDS_PER} s while \`twofold-bench\` sends 16 connections of"
  echo "each scenario. Self time per symbol (kernel symbols are the server's system calls and"
  echo "context switches); release builds have no frame pointers, so the call graph is not shown."
} >"$OUT"
for scenario in verify-wrong verify-valid; do
  perf record -q -F 999 -g -p "$SERVER" -o "$TMP/$scenario.data" -- sleep "$SECONDS_PER" 2>/dev/null &
  PERF=$!
  line=$("$B/twofold-bench" load --url "http://127.0.0.1:$PORT" --client-key "$KEY" \
    --scenario "$scenario" --connections 16 --duration "$SECONDS_PER" --users 10000 \
    --pid "$SERVER" --state "$TMP/state" 2>&1 | tail -1) || true
  wait "$PERF" || true
  {
    echo
    echo "#### $scenario"
    echo
    echo "\`$line\`"
    echo
    echo '```'
    perf report -i "$TMP/$scenario.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null |
      grep '%' | head -25 | sed -E 's/ +$//' | cut -c1-120 || true # head closes the pipe early
    echo '```'
    echo
    echo "By thread (actix workers: HTTP and the use cases; twofold-db: the database calls;"
    echo "tokio-rt-worker: background tasks such as the audit writer):"
    echo
    echo '```'
    perf report -i "$TMP/$scenario.data" --no-children --sort comm --stdio -g none 2>/dev/null |
      grep '%' | head -6 | sed -E 's/ +$//' || true
    echo '```'
  } >>"$OUT"
done
echo "profile.sh: wrote $OUT" >&2
