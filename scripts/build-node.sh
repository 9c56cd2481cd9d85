#!/usr/bin/env bash
# Builds the Node.js package (bindings-node/) in place: installs the npm dependencies from
# package-lock.json and builds the release native module, so `require('./bindings-node')` and
# `import … from './bindings-node/index.mjs'` work from the repo root. Idempotent: cargo and
# npm skip what is up to date.
#
# On Linux x86_64 (glibc) the module is linked by zig against glibc 2.17 (`napi build -x`:
# cargo-zigbuild with the `ziglang` package, both from scripts/requirements-dev.txt), so the
# binary scripts/dist.sh packs as @marque/node-linux-x64-gnu loads on any glibc >= 2.17, not only
# on the glibc of the build machine. MARQUE_NODE_NATIVE_LINK=1 links with the system toolchain.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO/bindings-node"
if [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  :
elif [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
# The error class (and the replay-store glue) of both JS packages is one module,
# bindings-wasm/pkg/errors.cjs; @marque/node ships it as errors.js (git-ignored here).
cp "$REPO/bindings-wasm/pkg/errors.cjs" "$REPO/bindings-node/errors.js"
BUILD_ARGS=()
LIBC="$(ldd --version 2>&1 || true)"
if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] && [ -z "${MARQUE_NODE_NATIVE_LINK:-}" ] \
    && [[ "$LIBC" != *musl* ]]; then
    PATH="$REPO/.venv/bin:$PATH"   # cargo-zigbuild, and python -m ziglang for zig
    if ! command -v cargo-zigbuild >/dev/null || ! python -m ziglang version >/dev/null 2>&1; then
        echo "build-node: cargo-zigbuild or ziglang missing from .venv (run scripts/install.sh," \
             "or MARQUE_NODE_NATIVE_LINK=1 for a build linked against this machine's glibc)" >&2
        exit 1
    fi
    BUILD_ARGS=(--target x86_64-unknown-linux-gnu.2.17 --cross-compile)
fi
# `check-dts.mjs --rebuild` regenerates index.d.ts with these same arguments (same target, same
# flags), so cargo reuses this build's dependencies instead of compiling them all again.
printf '%s\n' "${BUILD_ARGS[@]}" >"$REPO/bindings-node/.napi-build-args"
npm run build -- "${BUILD_ARGS[@]}"
node scripts/link-example.mjs
node -e "require('.'); console.log('bindings-node: built', require('./package.json').name)"
