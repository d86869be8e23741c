#!/usr/bin/env bash
# The hosted-page journeys in a real browser: twofold (embedded storage) and the demo relying
# party (examples/relying_party.rs) on free ports, Debian Chromium driven by playwright-core
# (e2e/journeys.mjs). twofold is reached as `localhost` (its public URL, TWOFOLD_PUBLIC_URL:
# browsers refuse security keys on an IP address, and `localhost` is a secure context over http)
# and the relying party as `127.0.0.1`: two sites, as in most deployments (SameSite cookies
# behave accordingly). Chromium's virtual authenticator (DevTools protocol) stands in for the
# security key; a hardware HOTP token, imported beforehand through the admin API (from
# tests/data/pskc/pypskc-plain.xml), is claimed and brought back in step. Screenshots of the
# pages go to target/e2e-screenshots, or to the folder given with `--shots DIR` (the README's
# come from `scripts/e2e.sh --shots docs/screenshots`). Then the accessibility checks
# (e2e/a11y.mjs): axe-core on every page state, no page wider than a phone, a keyboard-only
# journey; A11Y_REPORT_ONLY=1 lists their findings without failing. A second twofold, its clock
# 11 minutes ahead (faketime) and sharing the first one's master key, shows the expired-link page.
# Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { echo "e2e.sh: $*" >&2; }
SHOTS=target/e2e-screenshots
if [[ ${1:-} == --shots ]]; then SHOTS=${2:?--shots needs a folder}; fi
mkdir -p "$SHOTS"
SHOTS=$(cd "$SHOTS" && pwd)
# The playwright-core release this was written against (it drives the system Chromium; it needs
# Node.js 20 or later).
PLAYWRIGHT=1.64.1
# The axe-core release the accessibility checks run (injected into each page).
AXE=4.14.1
have() { local p; p=$(command -v "$1") && [[ -x $p ]]; }

if ! have chromium || ! have node || ! have npm || ! have curl || ! have python3 || ! have faketime; then
  if [[ $EUID -eq 0 ]] && have apt-get; then
    pkgs=()
    for p in chromium curl python3 faketime; do have "$p" || pkgs+=("$p"); done
    have node || pkgs+=(nodejs); have npm || pkgs+=(npm)
    say "installing ${pkgs[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  else
    say "needs chromium, node, npm, curl, python3 and faketime"; exit 1
  fi
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  say "playwright-core $PLAYWRIGHT needs Node.js 20 or later; this is $(node --version)"; exit 1
fi
# playwright-core only drives the browser (no browser download); it and axe-core are cached under
# target/.
NODE_DIR=target/e2e-node
version() { node -p "try { require('./$NODE_DIR/node_modules/$1/package.json').version } catch { '' }"; }
if [[ $(version playwright-core) != "$PLAYWRIGHT" || $(version axe-core) != "$AXE" ]]; then
  mkdir -p "$NODE_DIR"
  npm install --silent --no-save --no-audit --no-fund --prefix "$NODE_DIR" \
    "playwright-core@$PLAYWRIGHT" "axe-core@$AXE" >/dev/null
fi
cp e2e/*.mjs "$NODE_DIR/"

cargo build --quiet --bin twofold --example relying_party
# Cargo puts binaries under CARGO_TARGET_DIR when a developer sets one.
OUT="${CARGO_TARGET_DIR:-target}/debug"
BIN=$OUT/twofold
WORK=$(mktemp -d)
PIDS=()
# (faketime runs its program as a child, and passes no signal on: the children go first.)
cleanup() {
  for p in "${PIDS[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
TF_PORT=$(free_port); RP_PORT=$(free_port); LATE_PORT=$(free_port)
wait_for() { for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return; sleep 0.1; done; say "$1 never answered"; exit 1; }

# twofold listens on 127.0.0.1 but is known as http://localhost:PORT: the hosted pages' RP ID
# is then `localhost`, and the assertions' issuer (`iss`) is that URL, which is why the relying
# party talks to twofold (links, JWKS) through it too.
TF=http://localhost:$TF_PORT
export TWOFOLD_DATA_DIR=$WORK/data TWOFOLD_LISTEN=127.0.0.1:$TF_PORT TWOFOLD_PUBLIC_URL=$TF
# The demo shop's name, as its users know it: the pages say "Sign in to Demo Shop".
export TWOFOLD_TENANT_NAMES="default=Demo Shop"
RP=http://127.0.0.1:$RP_PORT
KEY=$("$BIN" api-key create --name e2e --role client --return-url-prefix "$RP/" 2>/dev/null)
ADMIN_KEY=$("$BIN" api-key create --name e2e-admin --role admin 2>/dev/null)
# Keys the accessibility checks revoke from the console: another's, and the session's own.
"$BIN" api-key create --name e2e-spare --role client --return-url-prefix "$RP/" >/dev/null 2>&1
OWN_KEY=$("$BIN" api-key create --name e2e-own --role admin 2>/dev/null)
"$BIN" 2>"$WORK/twofold.log" & PIDS+=($!)
wait_for "http://127.0.0.1:$TF_PORT/healthz"
# The expired-link page: links last 10 minutes and no request can set the time (SEC-19), so a
# second instance, 11 minutes ahead, with the same master key (hence the same link MAC) and data
# of its own, is shown a link of the first. Only its wall clock is moved: its timers keep time.
LATE=http://localhost:$LATE_PORT
TWOFOLD_DATA_DIR=$WORK/late TWOFOLD_MASTER_KEY_FILE=$WORK/data/master.key \
  TWOFOLD_LISTEN=127.0.0.1:$LATE_PORT TWOFOLD_PUBLIC_URL=$LATE FAKETIME_DONT_FAKE_MONOTONIC=1 \
  faketime -f +11m "$BIN" 2>"$WORK/late.log" & PIDS+=($!)
wait_for "http://127.0.0.1:$LATE_PORT/healthz"
# The hardware-token journey's key fob: an admin imports the inventory (a plaintext PSKC file;
# its HOTP token PP-0001 is the one the journey claims and brings back in step).
status=$(curl -s -o "$WORK/import.json" -w '%{http_code}' -X POST "$TF/v1/admin/tokens/import" \
  -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/pskc+xml' \
  --data-binary @tests/data/pskc/pypskc-plain.xml)
if [[ $status != 201 ]]; then
  say "importing the tokens answered $status: $(cat "$WORK/import.json")"; exit 1
fi
RP_API_KEY=$KEY RP_TWOFOLD_URL=$TF RP_LISTEN=127.0.0.1:$RP_PORT RP_PUBLIC_URL=$RP \
  "$OUT"/examples/relying_party >"$WORK/rp.log" 2>&1 & PIDS+=($!)
wait_for "$RP/"

if ! RP_URL=$RP TWOFOLD_URL=$TF TWOFOLD_LATE_URL=$LATE ADMIN_KEY=$ADMIN_KEY OWN_KEY=$OWN_KEY \
  SHOTS=$SHOTS node "$NODE_DIR/journeys.mjs"; then
  say "failed; twofold's log:"; tail -n 30 "$WORK/twofold.log" >&2
  say "the relying party's log:"; tail -n 30 "$WORK/rp.log" >&2
  exit 1
fi
if [[ ${A11Y_REPORT_ONLY:-} == 1 ]]; then
  say "all journeys passed in Chromium, accessibility findings (if any) listed only (screenshots in $SHOTS)"
else
  say "all journeys and accessibility checks passed in Chromium (screenshots in $SHOTS)"
fi
