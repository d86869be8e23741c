# Sourced by generate.sh and journey.sh: where things are, and the pinned Node tools installed
# (npm ci from package-lock.json) once under target/, not in this folder.
TS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$TS_DIR/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-target}
[[ $TARGET = /* ]] || TARGET=$ROOT/$TARGET
NODE_DIR=$TARGET/clients-node/typescript

need_node() {
  local p
  for p in node npm; do
    command -v "$p" >/dev/null || { say "needs Node.js 20 or later and npm (apt-get install nodejs npm)"; exit 1; }
  done
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if ((major < 20)); then say "needs Node.js 20 or later; this is $(node --version)"; exit 1; fi
}

# npm ci into $NODE_DIR when package-lock.json (or Node's major version) changed since the last
# install; --ignore-scripts: no package here needs an install script.
ensure_tools() {
  need_node
  local stamp
  stamp="$(sha256sum <"$TS_DIR/package-lock.json" | cut -d' ' -f1) node$(node -p 'process.versions.node.split(".")[0]')"
  if [[ ! -d $NODE_DIR/node_modules || $(cat "$NODE_DIR/.installed" 2>/dev/null) != "$stamp" ]]; then
    say "installing the pinned Node packages (npm ci) into ${NODE_DIR#"$ROOT"/}"
    rm -rf "$NODE_DIR/node_modules" "$NODE_DIR/.installed"
    mkdir -p "$NODE_DIR"
    cp "$TS_DIR/package.json" "$TS_DIR/package-lock.json" "$NODE_DIR/"
    (cd "$NODE_DIR" && npm ci --silent --ignore-scripts --no-audit --no-fund >/dev/null)
    echo "$stamp" >"$NODE_DIR/.installed"
  fi
}
