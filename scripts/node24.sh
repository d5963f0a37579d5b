#!/usr/bin/env sh
# Runs a command with Node >= 24 first on PATH. wrangler/miniflare need it and it is the
# action's runtime; a machine that has only an older Node gets Node 24 from the npm registry
# (the `node` package) into .tools/, once.
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 24 ]; then
  tools="$root/.tools"
  if [ ! -x "$tools/node_modules/node/bin/node" ]; then
    echo "Node $major found; installing Node 24 from the npm registry into .tools/" >&2
    npm install --prefix "$tools" --no-save --no-audit --no-fund --loglevel=error node@24 >&2
  fi
  PATH="$tools/node_modules/node/bin:$PATH"
  export PATH
fi
exec "$@"
