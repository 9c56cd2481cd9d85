#!/usr/bin/env bash
# Build the npm package @marque/wasm in bindings-wasm/pkg/ (idempotent; incremental after the
# first build). Needs the toolchain of scripts/install.sh.
#
#   scripts/build-wasm.sh                 full package -> bindings-wasm/pkg/
#   scripts/build-wasm.sh --verify-only   verifier-only module (no keygen/mint/delegate/signProof)
#                                         -> bindings-wasm/pkg-verify/ (measured, not published)
#   scripts/build-wasm.sh --rego          the module with Rego policies (the core's `rego` feature,
#                                         regorus) -> bindings-wasm/pkg-rego/ (the default module
#                                         does not carry the interpreter; sizes in README "Sizes")
#   scripts/build-wasm.sh --names         the full module keeping its name section (wasm-opt -g),
#                                         for profiling (bindings-wasm/bench/profile.mjs) and
#                                         size-by-crate.py -> bindings-wasm/pkg-names/ (not shipped)
#   scripts/build-wasm.sh --sizes         only print the sizes of what is built
#
# MARQUE_WASM_EXTRA_CONFIG adds cargo --config arguments for experiments, e.g.
#   MARQUE_WASM_EXTRA_CONFIG='--config profile.wasm-release.package.marque.opt-level=3'
# (then compare the copies of pkg/ with bindings-wasm/bench/compare-builds.mjs).
#
# Steps: cargo (Debian rustc + build-std, profile `wasm-release`, always `-p marque-wasm`) ->
# wasm-bindgen twice on the same .wasm (`--target web`: the ES module glue for browsers, Deno,
# Workers and Node's ESM entry; `--target nodejs`: the CommonJS glue for `require`) -> wasm-opt.
# Both glues load the one optimised `marque_wasm_bg.wasm` (the build checks that wasm-bindgen
# emitted the same module for both). The hand-written entry points (index.js, node.js,
# node.cjs, workerd.js, errors*.js, edge.js, *.d.ts, package.json) are committed; everything
# this script writes into pkg/ is generated and git-ignored.
set -euo pipefail

# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"

MODE=full
case "${1:-}" in
    "") ;;
    --verify-only) MODE=verify ;;
    --rego) MODE=rego ;;
    --names) MODE=names ;;
    --sizes) MODE=sizes ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
esac

PROFILE=wasm-release
OUT_WASM="$REPO/target/wasm/wasm32-unknown-unknown/$PROFILE/marque_wasm.wasm"
PKG="$REPO/bindings-wasm/pkg"

sizes() { # sizes DIR: raw and gzipped size of the .wasm and of every file the package ships
    local dir="$1" wasm="$1/marque_wasm_bg.wasm" total=0 gz=0 f
    [ -f "$wasm" ] || { echo "no $wasm (build first)" >&2; return 1; }
    for f in $(cd "$dir" && find . -type f \( -name '*.js' -o -name '*.cjs' -o -name '*.wasm' -o -name '*.d.ts' \) | sort); do
        total=$((total + $(stat -c %s "$dir/$f")))
        gz=$((gz + $(gzip -9 -c "$dir/$f" | wc -c)))
    done
    local br
    br="$(node -e 'const z=require("zlib");process.stdout.write(String(z.brotliCompressSync(require("fs").readFileSync(process.argv[1]),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length))' "$wasm")"
    printf '%-12s wasm %8d B raw, %7d B gzip -9 (%d KiB), %7d B brotli (%d KiB) | all package files %8d B raw, %7d B gzip (%d KiB)\n' \
        "$(basename "$dir")" "$(stat -c %s "$wasm")" "$(gzip -9 -c "$wasm" | wc -c)" \
        "$(( $(gzip -9 -c "$wasm" | wc -c) / 1024 ))" "$br" "$((br / 1024))" "$total" "$gz" "$((gz / 1024))"
}

if [ "$MODE" = sizes ]; then
    sizes "$PKG"
    [ -d "$REPO/bindings-wasm/pkg-verify" ] && sizes "$REPO/bindings-wasm/pkg-verify"
    [ -d "$REPO/bindings-wasm/pkg-rego" ] && sizes "$REPO/bindings-wasm/pkg-rego"
    exit 0
fi

FEATURES=()
if [ "$MODE" = verify ] || [ "$MODE" = rego ] || [ "$MODE" = names ]; then
    if [ "$MODE" = verify ]; then
        FEATURES=(--no-default-features)
        PKG="$REPO/bindings-wasm/pkg-verify"
    elif [ "$MODE" = names ]; then
        PKG="$REPO/bindings-wasm/pkg-names"
    else
        FEATURES=(--features rego)
        PKG="$REPO/bindings-wasm/pkg-rego"
    fi
    mkdir -p "$PKG"
    # The verifier-only, Rego and profiling packages reuse the committed entry points.
    for f in index.js index.d.ts node.js node.cjs errors.js errors.cjs edge.js edge.d.ts workerd.js package.json; do
        cp "$REPO/bindings-wasm/pkg/$f" "$PKG/$f"
    done
fi

# Panics are unreachable from input (the binding and core never unwrap on it; the hostile-input
# tests check it), so the module is built with `panic=immediate-abort`: no panic messages,
# locations or formatting machinery in the .wasm (about 15 % smaller). Set only for this build
# (RUSTFLAGS with an explicit --target do not reach build scripts or proc macros), never in
# [profile.*] (see scripts/README.md). MARQUE_WASM_PANIC=abort builds with the usual strategy.
if [ "${MARQUE_WASM_PANIC:-immediate-abort}" = immediate-abort ]; then
    export RUSTFLAGS="${RUSTFLAGS:-} -Zunstable-options -Cpanic=immediate-abort"
fi
# std itself is built with its `optimize_for_size` feature (smaller sort, formatting and string
# routines): about 13 KiB gzipped less, no measurable cost on the bench (bindings-wasm/README.md).
echo "== cargo ($PROFILE, ${FEATURES[*]:-default features}, std optimize_for_size, RUSTFLAGS=${RUSTFLAGS:-})"
wasm_cargo build --profile "$PROFILE" -p marque-wasm "${FEATURES[@]}" -Z build-std-features=optimize_for_size \
    --config "profile.$PROFILE.package.dlmalloc.opt-level=3" --config "profile.$PROFILE.package.hashbrown.opt-level=3" ${MARQUE_WASM_EXTRA_CONFIG:-}

TMP="$(mktemp -d "${TMPDIR:-/tmp}/marque-wasm.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

echo "== wasm-bindgen $(wasm-bindgen --version | awk '{print $2}') (web + nodejs)"
wasm-bindgen --target web --out-dir "$TMP/web" "$OUT_WASM"
wasm-bindgen --target nodejs --out-dir "$TMP/node" "$OUT_WASM"
if ! cmp -s "$TMP/web/marque_wasm_bg.wasm" "$TMP/node/marque_wasm_bg.wasm"; then
    echo "wasm-bindgen emitted different modules for --target web and --target nodejs;" \
         "the package can no longer share one .wasm" >&2
    exit 1
fi

echo "== wasm-opt"
if [ "$MODE" = names ]; then
    wasm_opt "$TMP/web/marque_wasm_bg.wasm" "$TMP/opt.wasm" -g --strip-producers
else
    wasm_opt "$TMP/web/marque_wasm_bg.wasm" "$TMP/opt.wasm" --strip-debug --strip-producers
fi

echo "== assemble $PKG"
rm -rf "$PKG/snippets"
cp "$TMP/opt.wasm" "$PKG/marque_wasm_bg.wasm"
cp "$TMP/web/marque_wasm.js" "$PKG/marque_wasm.js"
if [ -d "$TMP/web/snippets" ]; then cp -r "$TMP/web/snippets" "$PKG/snippets"; fi
cp "$REPO/bindings-wasm/README.md" "$PKG/README.md"
# The CommonJS glue requires the inline-JS snippets of dependencies (biscuit-auth's
# `performance.now()` clock), which wasm-bindgen writes as ES modules: give it CommonJS twins.
node "$REPO/bindings-wasm/scripts/cjs-glue.mjs" "$TMP/node/marque_wasm.js" "$PKG/marque_wasm_node.cjs" "$PKG"

sizes "$PKG"
