# shellcheck shell=bash
# Source me (bash):  . scripts/env.sh
#
# Exports REPO, puts the project venv and cargo's bin dir on PATH, and defines:
#   wasm_cargo SUBCOMMAND [ARGS...]       cargo for wasm32-unknown-unknown (Debian rustc + build-std)
#   baremetal_cargo [SUBCOMMAND] [ARGS...] cargo for thumbv7em-none-eabihf, no_std (core,alloc)
#   wasm_opt IN.wasm OUT.wasm             npm binaryen's wasm-opt with the flags Node 20 accepts
#
# Why Debian's toolchain for the cross builds: rustup cannot download target std libraries here,
# so std/core are rebuilt from Debian's rust-web-src, which must match the compiler exactly, i.e.
# Debian's /usr/bin/rustc (rustc-web), not rustup's. See docs/TOOLCHAIN.md.
# Native builds keep using rustup's cargo (first on PATH); the cross builds use their own
# target dirs so the two compilers never invalidate each other's artifacts.
# Safe to source more than once and under `set -euo pipefail`.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO

_marque_path_prepend() {
    case ":$PATH:" in
        *":$1:"*) ;;
        *) PATH="$1:$PATH" ;;
    esac
}
_marque_path_prepend "${CARGO_HOME:-${HOME:-/root}/.cargo}/bin"
_marque_path_prepend "$REPO/.venv/bin"
export PATH
unset -f _marque_path_prepend

# Flags for npm binaryen's wasm-opt (not --all-features: it emits stringref, which Node 20 rejects).
MARQUE_WASM_OPT_FLAGS=(-Oz --enable-bulk-memory --enable-reference-types --enable-multivalue
    --enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int)
MARQUE_WASM_OPT="$REPO/.tools/node_modules/.bin/wasm-opt"

# Run Debian's cargo/rustc (rustc-web) with nightly features unlocked (RUSTC_BOOTSTRAP=1).
# RUSTC/RUSTDOC are pinned too, in case the caller runs under a rustup-proxied cargo that exported
# them. Debian ships no clippy for this toolchain: `cargo clippy` would fall through to rustup's
# clippy (1.95), whose std sources do not exist, so it is refused here; use `check`.
_marque_no_clippy() {
    if [ "$1" = clippy ]; then
        echo "clippy is not available for the Debian cross toolchain; use 'check' (run clippy natively)" >&2
        return 2
    fi
}
_marque_debian_cargo() {
    env PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 "$@"
}

# wasm_cargo build --release -p marque
# The target flags go right after the subcommand so that `wasm_cargo test -- args` still works.
wasm_cargo() {
    if [ $# -eq 0 ]; then echo "usage: wasm_cargo SUBCOMMAND [ARGS...]" >&2; return 2; fi
    local sub="$1"; shift
    _marque_no_clippy "$sub" || return
    _marque_debian_cargo \
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-16 \
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER:-wasm-bindgen-test-runner}" \
        cargo "$sub" --target wasm32-unknown-unknown -Z build-std=std,panic_abort \
        --target-dir "$REPO/target/wasm" "$@"
}

# baremetal_cargo -p marque            (= cargo build --no-default-features ...)
# baremetal_cargo check -p marque --features alloc
# An rlib-only check that the crate is no_std + alloc clean; nothing is linked.
baremetal_cargo() {
    local sub=build
    case "${1:-}" in
        ""|-*) ;;
        *) sub="$1"; shift ;;
    esac
    _marque_no_clippy "$sub" || return
    _marque_debian_cargo \
        cargo "$sub" --no-default-features --target thumbv7em-none-eabihf -Z build-std=core,alloc \
        --target-dir "$REPO/target/baremetal" "$@"
}

# wasm_opt in.wasm out.wasm [extra wasm-opt flags]
wasm_opt() {
    if [ $# -lt 2 ]; then echo "usage: wasm_opt IN.wasm OUT.wasm [FLAGS...]" >&2; return 2; fi
    local in="$1" out="$2"; shift 2
    "$MARQUE_WASM_OPT" "${MARQUE_WASM_OPT_FLAGS[@]}" "$@" "$in" -o "$out"
}
