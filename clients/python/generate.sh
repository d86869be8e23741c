#!/usr/bin/env bash
# usage: clients/python/generate.sh DOC OUTDIR
# Regenerates OUTDIR/twofold_client (the generated package; nothing else in OUTDIR is touched)
# from the OpenAPI document DOC with the pinned openapi-python-client, config.yml and templates/.
# Deterministic: the same DOC gives byte-identical files.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $# -ne 2 ]]; then
  echo "usage: clients/python/generate.sh DOC OUTDIR" >&2
  exit 2
fi
DOC=$(realpath "$1")
mkdir -p "$2"
OUT=$(realpath "$2")
VENV=$("$HERE/venv.sh")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# ruff (the generator's formatting hooks) is found on PATH: the pinned one, first.
(cd "$WORK" && PATH="$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate \
  --path "$DOC" --meta none --config "$HERE/config.yml" --custom-template-path "$HERE/templates" \
  --output-path "$WORK/twofold_client" --fail-on-warning >"$WORK/log" 2>&1) ||
  { cat "$WORK/log" >&2; echo "clients/python/generate.sh: openapi-python-client failed" >&2; exit 1; }
# It says only "Generating PATH" when all went well: anything else is a problem.
if grep -v '^Generating ' "$WORK/log" | grep -q '[^[:space:]]'; then
  cat "$WORK/log" >&2
  echo "clients/python/generate.sh: openapi-python-client reported problems" >&2
  exit 1
fi
rm -rf "$OUT/twofold_client"
mv "$WORK/twofold_client" "$OUT/twofold_client"
echo "clients/python/generate.sh: generated $OUT/twofold_client" >&2
