#!/usr/bin/env bash
# Fails, naming them, unless the operationIds of the document are exactly the operations of the
# generated client (the keys of the `operations` interface of src/schema.d.ts):
#
#   clients/typescript/operations.sh DOC [DIR]      (DIR: this folder or a copy; default this one)
set -euo pipefail
say() { echo "clients/typescript/operations.sh: $*" >&2; }
if (($# < 1 || $# > 2)); then say "usage: clients/typescript/operations.sh DOC [DIR]"; exit 2; fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v node >/dev/null || { say "needs Node.js 20 or later"; exit 1; }
exec node "$HERE/operations.mjs" "$1" "${2:-$HERE}/src/schema.d.ts"
