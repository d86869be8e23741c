#!/usr/bin/env bash
# The hosted-page journeys in a real browser: twofold (embedded storage) and the demo relying
# party (examples/relying_party.rs) on free ports, Debian Chromium driven by playwright-core
# (e2e/journeys.mjs). Writes docs/screenshots/{enroll,verify}.png. Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { echo "e2e.sh: $*" >&2; }
have() { local p; p=$(command -v "$1") && [[ -x $p ]]; }

if ! have chromium || ! have node || ! have npm; then
  if [[ $EUID -eq 0 ]] && have apt-get; then
    say "installing chromium nodejs npm (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    pkgs=(); have chromium || pkgs+=(chromium); have node || pkgs+=(nodejs); have npm || pkgs+=(npm)
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  else
    say "needs chromium, node and npm (Debian packages chromium nodejs npm)"; exit 1
  fi
fi
# playwright-core only drives the browser (no browser download); cached under target/.
NODE_DIR=target/e2e-node
if [[ ! -d $NODE_DIR/node_modules/playwright-core ]]; then
  mkdir -p "$NODE_DIR"
  npm install --silent --no-save --no-audit --no-fund --prefix "$NODE_DIR" playwright-core@1 >/dev/null
fi
cp e2e/journeys.mjs "$NODE_DIR/"

cargo build --quiet --bin twofold --example relying_party
BIN=target/debug/twofold
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
TF_PORT=$(free_port); RP_PORT=$(free_port)
wait_for() { for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return; sleep 0.1; done; say "$1 never answered"; exit 1; }

export TWOFOLD_DATA_DIR=$WORK/data TWOFOLD_LISTEN=127.0.0.1:$TF_PORT
KEY=$("$BIN" api-key create --name e2e --role client --return-url-prefix "http://127.0.0.1:$RP_PORT/" 2>/dev/null)
"$BIN" 2>"$WORK/twofold.log" & PIDS+=($!)
wait_for "http://127.0.0.1:$TF_PORT/healthz"
RP_API_KEY=$KEY RP_TWOFOLD_URL=http://127.0.0.1:$TF_PORT RP_LISTEN=127.0.0.1:$RP_PORT \
  target/debug/examples/relying_party >"$WORK/rp.log" 2>&1 & PIDS+=($!)
wait_for "http://127.0.0.1:$RP_PORT/"

if ! RP_URL=http://127.0.0.1:$RP_PORT SHOTS=$PWD/docs/screenshots node "$NODE_DIR/journeys.mjs"; then
  say "failed; twofold's log:"; tail -n 30 "$WORK/twofold.log" >&2
  say "the relying party's log:"; tail -n 30 "$WORK/rp.log" >&2
  exit 1
fi
say "both journeys passed in Chromium"
