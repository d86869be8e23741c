#!/usr/bin/env bash
# The clients, from the document twofold serves: starts a twofold (embedded storage, a scratch
# folder), fetches /openapi.json, checks it with openapi-spec-validator, and regenerates
# clients/python and clients/typescript from it (each folder's generate.sh, its tools pinned).
# Then each client must hold every operation of the document (each folder's operations.sh).
#
#   clients/generate.sh           regenerate in place (commit the result)
#   clients/generate.sh --check   regenerate into a scratch copy and fail, showing the difference,
#                                 if the committed document or either client is not what the
#                                 server's document gives: the drift check the test command runs
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { echo "clients/generate.sh: $*" >&2; }
CHECK=false
case ${1:-} in
  --check) CHECK=true ;;
  "") ;;
  *) say "usage: clients/generate.sh [--check]"; exit 2 ;;
esac

cargo build --quiet --bin twofold
BIN=${CARGO_TARGET_DIR:-target}/debug/twofold
WORK=$(mktemp -d)
PID=
cleanup() { [[ -n $PID ]] && kill "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TWOFOLD_DATA_DIR=$WORK/data TWOFOLD_LISTEN=127.0.0.1:$PORT "$BIN" 2>"$WORK/twofold.log" & PID=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
# Pretty-printed, keys in the server's order: a diff of it reads like a diff of the API.
curl -sf "http://127.0.0.1:$PORT/openapi.json" | python3 -m json.tool >"$WORK/openapi.json" ||
  { say "could not fetch the document:"; tail -n 20 "$WORK/twofold.log" >&2; exit 1; }
kill "$PID" 2>/dev/null; PID=

if $CHECK; then
  OUT=$WORK/clients
  mkdir -p "$OUT"
  # The committed folders, without what installs put beside them.
  tar -C clients --exclude=node_modules --exclude=__pycache__ -cf - . | tar -C "$OUT" -xf -
else
  OUT=clients
fi
cp "$WORK/openapi.json" "$OUT/openapi.json"
clients/python/generate.sh "$WORK/openapi.json" "$OUT/python"
clients/typescript/generate.sh "$WORK/openapi.json" "$OUT/typescript"
# The Python tools' venv (made by the step above) holds the validator.
"${CARGO_TARGET_DIR:-target}/clients-venv/bin/openapi-spec-validator" "$WORK/openapi.json"
clients/python/operations.sh "$WORK/openapi.json"
clients/typescript/operations.sh "$WORK/openapi.json"

if $CHECK; then
  if ! diff -ru --exclude=node_modules --exclude=__pycache__ clients "$OUT" >"$WORK/drift"; then
    say "the committed clients differ from what the served document generates:"
    head -n 80 "$WORK/drift" >&2
    say "run clients/generate.sh and commit the result"
    exit 1
  fi
  say "the document is valid, and the committed clients match it"
else
  say "regenerated clients/openapi.json, clients/python and clients/typescript"
fi
