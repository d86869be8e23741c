#!/usr/bin/env bash
# Each client's journey against a running twofold (embedded storage, a scratch folder): the
# calls an integrator makes (enroll, confirm, verify, the assertion checked by the client's
# helper, a wrong code as a typed error, a hosted-page link, admin calls). Run by
# scripts/test.sh after clients/generate.sh --check.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { echo "clients/journeys.sh: $*" >&2; }
cargo build --quiet --bin twofold
BIN=${CARGO_TARGET_DIR:-target}/debug/twofold
WORK=$(mktemp -d)
PID=
cleanup() { [[ -n $PID ]] && kill "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
# twofold refuses TWOFOLD_* settings it does not know: the journeys' variables (TWOFOLD_URL and
# the keys) are given to the journeys only, never exported to the server.
export TWOFOLD_DATA_DIR=$WORK/data TWOFOLD_LISTEN=127.0.0.1:$PORT TWOFOLD_PUBLIC_URL=$URL
ADMIN=$("$BIN" api-key create --name clients-admin --role admin 2>"$WORK/cli.log") ||
  { say "could not make a key:"; cat "$WORK/cli.log" >&2; exit 1; }
CLIENT=$("$BIN" api-key create --name shop --role client \
  --return-url-prefix https://shop.example/ 2>"$WORK/cli.log") ||
  { say "could not make a key:"; cat "$WORK/cli.log" >&2; exit 1; }
"$BIN" 2>"$WORK/twofold.log" & PID=$!
for _ in $(seq 100); do curl -sf -o /dev/null "$URL/readyz" && break; sleep 0.1; done
for lang in python typescript; do
  if ! env -u TWOFOLD_DATA_DIR -u TWOFOLD_LISTEN -u TWOFOLD_PUBLIC_URL \
    TWOFOLD_URL="$URL" TWOFOLD_ADMIN_KEY="$ADMIN" TWOFOLD_CLIENT_KEY="$CLIENT" \
    "clients/$lang/journey.sh"; then
    say "the $lang journey failed; twofold's last log lines:"
    tail -n 20 "$WORK/twofold.log" >&2
    exit 1
  fi
done
say "both clients' journeys passed"
