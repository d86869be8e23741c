#!/usr/bin/env bash
# Regenerates the generated part of this client, src/schema.d.ts, from an OpenAPI document:
#
#   clients/typescript/generate.sh DOC OUTDIR
#
# DOC is the document (JSON), OUTDIR this folder or a copy of it; only OUTDIR/src/schema.d.ts
# is written. openapi-typescript (pinned in package.json and package-lock.json) is installed with
# `npm ci` under target/clients-node/typescript. The output holds no timestamp and no path:
# twice the same document gives the same bytes.
set -euo pipefail
say() { echo "clients/typescript/generate.sh: $*" >&2; }
if (($# != 2)); then say "usage: clients/typescript/generate.sh DOC OUTDIR"; exit 2; fi
DOC=$(realpath "$1"); OUTDIR=$(realpath "$2")
[[ -f $DOC ]] || { say "no document at $1"; exit 1; }
[[ -d $OUTDIR ]] || { say "no folder at $2"; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_tools

# From a scratch folder, so no redocly.yaml of the caller's changes the output; the document is
# copied there under a fixed name.
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
cp "$DOC" "$SCRATCH/openapi.json"
mkdir -p "$OUTDIR/src"
# --empty-objects-unknown: the free-form objects (a security key's `credential`, the WebAuthn
# `options`, an audit event's `detail`) become Record<string, unknown>, not Record<string, never>.
(cd "$SCRATCH" && node "$NODE_DIR/node_modules/openapi-typescript/bin/cli.js" openapi.json \
  --empty-objects-unknown --output schema.d.ts >/dev/null)
cp "$SCRATCH/schema.d.ts" "$OUTDIR/src/schema.d.ts"
say "wrote src/schema.d.ts ($(grep -c . "$OUTDIR/src/schema.d.ts") lines) with openapi-typescript $(node -p "require('$NODE_DIR/node_modules/openapi-typescript/package.json').version")"
