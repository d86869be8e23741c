#!/usr/bin/env bash
# The Python client's journey against the twofold at $TWOFOLD_URL, with $TWOFOLD_ADMIN_KEY and
# $TWOFOLD_CLIENT_KEY (tenant `default`, return URLs under https://shop.example/): first the
# unit tests of twofold_assertion, then journey.py. Prints each check as it passes; non-zero on
# any failure. Uses the pinned venv (venv.sh) with this folder on PYTHONPATH.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${TWOFOLD_URL:?set TWOFOLD_URL, e.g. http://127.0.0.1:8080}"
: "${TWOFOLD_ADMIN_KEY:?set TWOFOLD_ADMIN_KEY (an admin API key)}"
: "${TWOFOLD_CLIENT_KEY:?set TWOFOLD_CLIENT_KEY (a client API key of tenant default)}"
VENV=$("$HERE/venv.sh")
export PYTHONPATH=$HERE${PYTHONPATH:+:$PYTHONPATH} PYTHONDONTWRITEBYTECODE=1
cd "$HERE"
echo "clients/python: twofold_assertion's unit tests"
"$VENV/bin/python" -m unittest test_twofold_assertion
echo "clients/python: the journey"
"$VENV/bin/python" journey.py
