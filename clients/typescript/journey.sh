#!/usr/bin/env bash
# The TypeScript client's journey against a running twofold: $TWOFOLD_URL, $TWOFOLD_ADMIN_KEY and
# $TWOFOLD_CLIENT_KEY (tenant `default`, return URL prefix https://shop.example/), as
# clients/journeys.sh sets them. Type-checks src/, journey.ts and test/ with `tsc --noEmit` (a
# schema.d.ts that no longer fits the code fails here), runs the helper's unit tests, then the
# journey. Works on a copy under target/clients-node/typescript: nothing is written here.
set -euo pipefail
say() { echo "clients/typescript/journey.sh: $*" >&2; }
for v in TWOFOLD_URL TWOFOLD_ADMIN_KEY TWOFOLD_CLIENT_KEY; do
  [[ -n ${!v:-} ]] || { say "set $v (clients/journeys.sh starts a twofold and sets them)"; exit 2; }
done
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_tools

# The copy sits beside the installed node_modules, which Node and tsc find from there.
WORK=$NODE_DIR/work
rm -rf "$WORK"
mkdir -p "$WORK"
cp -R "$TS_DIR/src" "$TS_DIR/test" "$TS_DIR/journey.ts" "$TS_DIR/tsconfig.json" "$WORK/"
cd "$WORK"
TSC=$NODE_DIR/node_modules/typescript/bin/tsc
node "$TSC" --noEmit -p tsconfig.json
say "type check passed (tsc --noEmit $(node "$TSC" --version | cut -d' ' -f2))"
# Checked above: emit only.
node "$TSC" -p tsconfig.json --noCheck
node --test --test-reporter=spec dist/test/verify.test.js
node dist/journey.js
