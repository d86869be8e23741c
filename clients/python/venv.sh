#!/usr/bin/env bash
# Prints the path of the venv that holds clients/python's pinned tools, ${CARGO_TARGET_DIR:-target}/clients-venv,
# (re)making it first when it is missing or was made from another requirements-dev.txt or Python.
# Used by generate.sh and journey.sh; needs python3 with venv (Debian: python3-venv) and PyPI.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
[[ $TARGET == /* ]] || TARGET=$PWD/$TARGET
VENV=$TARGET/clients-venv
STAMP=$( { cat "$HERE/requirements-dev.txt"; python3 --version; } | sha256sum | cut -d' ' -f1)
mkdir -p "$TARGET"
exec 9>"$TARGET/clients-venv.lock"
flock 9 # two scripts at once make it once
if [[ ! -x $VENV/bin/python || $(cat "$VENV/.requirements-sha256" 2>/dev/null) != "$STAMP" ]]; then
  echo "clients/python: making $VENV from requirements-dev.txt" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$HERE/requirements-dev.txt" >&2
  echo "$STAMP" >"$VENV/.requirements-sha256"
fi
echo "$VENV"
