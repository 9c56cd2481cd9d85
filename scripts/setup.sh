#!/usr/bin/env bash
# Install everything marque needs (idempotent), build the CLI and every package in release
# mode, then run the delegation demo (mint → attenuate → authorize → audit) in every runtime.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"

"$REPO/scripts/install.sh"
echo "==> building the marque CLI (release)"
cargo build --locked --release -p marque-cli
[ -x scripts/build-python.sh ] && scripts/build-python.sh
[ -x scripts/build-node.sh ] && scripts/build-node.sh
[ -x scripts/build-wasm.sh ] && scripts/build-wasm.sh

echo
echo "================ Rust (marque CLI) ================"
./target/release/marque demo
if [ -f examples/demo.py ] && [ -x .venv/bin/python ]; then
    echo; echo "================ Python ================"
    .venv/bin/python examples/demo.py
fi
if [ -f bindings-node/package.json ]; then
    echo; echo "================ Node ================"
    node examples/demo.mjs node
fi
if [ -f bindings-wasm/pkg/package.json ]; then
    echo; echo "================ Wasm ================"
    node examples/demo.mjs wasm
fi
