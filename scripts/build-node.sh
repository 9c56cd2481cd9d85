#!/usr/bin/env bash
# Builds the Node.js package (bindings-node/) in place: installs the npm dependencies from
# package-lock.json and builds the release native module, so `require('./bindings-node')` and
# `import … from './bindings-node/index.mjs'` work from the repo root. Idempotent: cargo and
# npm skip what is up to date.
set -euo pipefail
cd "$(dirname "$0")/../bindings-node"
if [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  :
elif [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
npm run build
node scripts/link-example.mjs
node -e "require('.'); console.log('bindings-node: built', require('./package.json').name)"
