#!/usr/bin/env bash
# Every test of every runtime: Rust core + CLI (unit, integration, doc, clippy, no-std and wasm32
# builds), then the Python, Node and Wasm packages where they exist, then the release artifacts
# installed from their files, then every code block of the README. Installs what is missing
# first (idempotent). `.ci/run` calls exactly this.
#
#   scripts/test.sh            everything
#   MARQUE_SKIP_CROSS=1 ...    skip the bare-metal and wasm32 core builds (quick local runs)
#   MARQUE_SKIP_FUZZ=1 ...     skip the 20 s-per-target fuzzing smoke run
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"

"$REPO/scripts/install.sh"

# Tests in other languages drive the CLI built by the Rust suite.
MARQUE_BIN="${CARGO_TARGET_DIR:-$REPO/target}/debug/marque"
export MARQUE_BIN MARQUE_CLI="$MARQUE_BIN"

PASSED=0
FAILED=0
FAILED_NAMES=()
suite() {
    local name="$1"; shift
    echo
    echo "==> $name"
    local start=$SECONDS
    if "$@"; then
        PASSED=$((PASSED + 1))
        echo "<== $name: ok ($((SECONDS - start)) s)"
    else
        FAILED=$((FAILED + 1))
        FAILED_NAMES+=("$name")
        echo "<== $name: FAILED ($((SECONDS - start)) s)"
    fi
}

rust_tests() {
    # marque-redis: its fleet tests start their own loopback redis-server (scripts/install.sh).
    # The CLI turns on the core's `biscuit-fork` and `rego` features, so this runs the Rego
    # tests, doctests and shared vectors (tests/vectors/rego.json) with the fork; the nofork suite
    # below runs them again on the core alone, against crates.io's biscuit-auth.
    cargo test --locked -p marque -p marque-cli -p marque-redis
}
rust_nostd_tests() {
    cargo test --locked -p marque --no-default-features --lib
}
rust_clippy() {
    cargo clippy --locked -p marque -p marque-cli -p marque-redis --all-targets -- -D warnings &&
        cargo clippy --locked -p marque-wasm -p marque-python -p marque-node -- -D warnings &&
        cargo clippy --locked -p marque --no-default-features -- -D warnings &&
        # The core alone (without `biscuit-fork`), with Rego, every target. The core with the fork
        # and without Rego is linted as a dependency of the bindings (second line): clippy lints
        # every workspace member it compiles.
        cargo clippy --locked -p marque --features rego --all-targets -- -D warnings
}
# The core as a crates.io user would build it for these targets (the packages build their own
# configurations below): `check` finds what a build would (a library is not linked) in half
# the time.
core_baremetal() {
    baremetal_cargo check -p marque
}
core_wasm32() {
    wasm_cargo check --release -p marque --features wasm
}

# The core as crates.io would serve it, against crates.io's biscuit-auth (no [patch], feature
# `biscuit-fork` off), and vendor/ against that release: only marked, listed changes.
# Both need crates.io; with `CI` set they fail rather than skip (they never skip).
rust_upstream_vendor() {
    "$REPO/scripts/check-upstream.sh" vendor
}
rust_upstream_nofork() {
    "$REPO/scripts/check-upstream.sh" nofork
}

suite "rust: core + cli tests" rust_tests
suite "rust: vendor/ = biscuit-auth 6.0.0 + marked changes" rust_upstream_vendor
suite "rust: core without the fork (crates.io biscuit-auth)" rust_upstream_nofork
suite "rust: core without std" rust_nostd_tests
suite "rust: clippy -D warnings" rust_clippy
if [ -z "${MARQUE_SKIP_CROSS:-}" ]; then
    suite "rust: core for thumbv7em-none-eabihf (no_std)" core_baremetal
    suite "rust: core for wasm32-unknown-unknown" core_wasm32
fi

fuzz_smoke() {
    "$REPO/scripts/fuzz.sh" 20
}
if [ -z "${MARQUE_SKIP_FUZZ:-}" ]; then
    suite "rust: fuzzing smoke (20 s per target, one per core)" fuzz_smoke
fi

python_tests() {
    "$REPO/scripts/build-python.sh" && "$REPO/.venv/bin/python" -m pytest -q tests/python &&
        "$REPO/.venv/bin/python" examples/demo.py >/dev/null
}
# The one JS suite shared by both JS packages (tests/js), against the package named by $1.
js_shared_tests() {
    MARQUE_JS="$1" node --test tests/js/*.test.mjs
}
node_tests() {
    "$REPO/scripts/build-node.sh" && (cd bindings-node && npm test) && js_shared_tests node &&
        node examples/demo.mjs node >/dev/null
}
wasm_tests() {
    # The default module (no Rego: a `rego` option is refused) and the Rego build (pkg-rego),
    # which replays the Rego vectors.
    "$REPO/scripts/build-wasm.sh" && "$REPO/scripts/build-wasm.sh" --rego &&
        (cd bindings-wasm && npm test) && js_shared_tests wasm &&
        MARQUE_JS=wasm MARQUE_WASM_PKG=pkg-rego node --test tests/js/vectors-rego.test.mjs &&
        node examples/demo.mjs wasm >/dev/null
}
[ -d bindings-python ] && suite "python package" python_tests
[ -d bindings-node ] && suite "node package" node_tests
[ -d bindings-wasm ] && suite "wasm package" wasm_tests

# The loopback fleet (tests/fleet/run.sh): redis-server, haproxy, three Node and one Python MCP
# server, the revocation feed and the OTLP receiver, driven by an MCP SDK client (bounded, ~10 s;
# uses the builds of the suites above and the CLI of the Rust suite).
fleet_tests() {
    MARQUE_BIN="$MARQUE_BIN" "$REPO/tests/fleet/run.sh"
}
[ -d bindings-node ] && [ -d bindings-python ] && suite "fleet" fleet_tests

# The release artifacts (scripts/dist.sh packs the builds above into dist/), each installed from
# its file, offline, in a fresh venv / npm project outside the repository (tests/dist/run.sh).
dist_tests() {
    "$REPO/scripts/dist.sh" && "$REPO/tests/dist/run.sh"
}
suite "release artifacts: built, installed from the files, used" dist_tests

# Every code block of README.md, run from the artifacts just built (tests/readme/).
readme_tests() {
    "$REPO/.venv/bin/python" -m pytest -q tests/readme
}
suite "README: every code block runs" readme_tests

echo
if [ "$FAILED" -gt 0 ]; then
    printf 'failed suite: %s\n' "${FAILED_NAMES[@]}"
fi
echo "suites: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
