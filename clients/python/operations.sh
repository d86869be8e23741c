#!/usr/bin/env bash
# usage: clients/python/operations.sh DOC [DIR]
# Fails, naming them, unless the generated package DIR/twofold_client (DIR: this folder by
# default) has a module for every operationId of the OpenAPI document DOC, with the document's
# method and path, and no other: twofold_client/api/<tag>/<operationId>.py.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: clients/python/operations.sh DOC [DIR]" >&2
  exit 2
fi
exec python3 - "$1" "${2:-$HERE}/twofold_client" <<'PY'
import json
import re
import sys
from pathlib import Path

doc, package = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2])
methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
wanted = {}
for path, item in doc.get("paths", {}).items():
    for method, op in item.items():
        if method in methods:
            # The generator's module name: the operationId in snake_case (twofold's already are).
            name = re.sub(r"[^0-9a-zA-Z]+", "_", op["operationId"]).strip("_").lower()
            wanted[name] = (method, path)

found, problems = {}, []
if not (package / "api").is_dir():
    sys.exit(f"clients/python/operations.sh: no generated client at {package} (run generate.sh)")
for module in sorted((package / "api").glob("*/*.py")):
    if module.name == "__init__.py":
        continue
    text = module.read_text()
    method = re.search(r'"method": "(\w+)"', text)
    url = re.search(r'"url": "([^"]*)"', text)
    if not (method and url):
        problems.append(f"{module.relative_to(package.parent)}: no method or url found")
        continue
    found[module.stem] = (method.group(1), url.group(1))

missing = sorted(set(wanted) - set(found))
extra = sorted(set(found) - set(wanted))
wrong = sorted(n for n in set(wanted) & set(found) if wanted[n] != found[n])
for name in missing:
    problems.append(f"missing from the client: {name} ({wanted[name][0].upper()} {wanted[name][1]})")
for name in extra:
    problems.append(f"in the client but not in the document: {name} ({found[name][0].upper()} {found[name][1]})")
for name in wrong:
    problems.append(f"{name}: the document says {wanted[name][0].upper()} {wanted[name][1]}, "
                    f"the client {found[name][0].upper()} {found[name][1]}")
if problems:
    for p in problems:
        print(f"clients/python/operations.sh: {p}", file=sys.stderr)
    sys.exit(1)
print(f"clients/python/operations.sh: all {len(wanted)} operations of the document are in twofold_client, and no other")
PY
