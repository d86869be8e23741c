#!/usr/bin/env bash
# Re-takes docs/screenshots/*.png: a fresh embedded twofold with a little data in it, signed in to
# /admin through the real login form in headless Chromium (Debian `chromium`), driven by
# playwright-core from npm. Needs: a built `target/release/twofold` (or the binary given as $1), oathtool,
# chromium, node + npm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${1:-target/release/twofold}
WORK=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=18089
B=http://127.0.0.1:$PORT

TWOFOLD_DATA_DIR=$WORK/data TWOFOLD_LISTEN=127.0.0.1:$PORT "$BIN" 2>"$WORK/log" &
PID=$!
for _ in $(seq 100); do grep -q 'tfk_' "$WORK/log" && curl -sf $B/healthz >/dev/null && break; sleep 0.2; done
KEY=$(grep -o 'tfk_[A-Za-z0-9_-]*' "$WORK/log" | head -n 1)
[[ -n $KEY ]] || { cat "$WORK/log" >&2; exit 1; }
api() { curl -sf -H "Authorization: Bearer $KEY" -H 'content-type: application/json' "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# alice: an authenticator app in use, a lost phone revoked, a spare enrollment left pending.
ENR=$(api -d '{"label":"Pixel 8 authenticator"}' $B/v1/users/alice/devices/totp)
ID=$(field "['device']['id']" <<<"$ENR"); SECRET=$(field "['secret']" <<<"$ENR")
api -d "{\"code\":\"$(oathtool --totp -b "$SECRET")\"}" $B/v1/users/alice/devices/$ID/confirm >/dev/null
sleep 31
api -d "{\"code\":\"$(oathtool --totp -b "$SECRET")\"}" $B/v1/users/alice/verify >/dev/null
ENR=$(api -d '{"label":"old iPhone"}' $B/v1/users/alice/devices/totp)
ID2=$(field "['device']['id']" <<<"$ENR"); SECRET2=$(field "['secret']" <<<"$ENR")
api -d "{\"code\":\"$(oathtool --totp -b "$SECRET2")\"}" $B/v1/users/alice/devices/$ID2/confirm >/dev/null
api -X DELETE $B/v1/users/alice/devices/$ID2
api -d '{"label":"spare YubiKey app"}' $B/v1/users/alice/devices/totp >/dev/null
api -d '{}' $B/v1/users/alice/recovery-codes >/dev/null
# carol: locked out by ten wrong codes (the user page says until when).
ENR=$(api -d '{"label":"work phone app"}' $B/v1/users/carol/devices/totp)
ID3=$(field "['device']['id']" <<<"$ENR"); SECRET3=$(field "['secret']" <<<"$ENR")
api -d "{\"code\":\"$(oathtool --totp -b "$SECRET3")\"}" $B/v1/users/carol/devices/$ID3/confirm >/dev/null
for _ in $(seq 10); do api -d '{"code":"000000"}' $B/v1/users/carol/verify >/dev/null || true; done
for _ in 1 2 3; do api -d '{"code":"000000"}' $B/v1/users/alice/verify >/dev/null || true; done
api -d '{}' $B/v1/users/bob/devices/totp >/dev/null
sleep 1.2 # the audit batch writer

npm install --silent --no-save --prefix "$WORK/pw" playwright-core@1 >/dev/null
cp docs/screenshots/take.mjs "$WORK/pw/"
TWOFOLD_URL=$B TWOFOLD_KEY=$KEY OUT=$PWD/docs/screenshots node "$WORK/pw/take.mjs"
