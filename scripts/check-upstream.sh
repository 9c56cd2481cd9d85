#!/usr/bin/env bash
# marque against crates.io's biscuit-auth 6.0.0 (issue 21, point 5). Needs crates.io.
#
#   scripts/check-upstream.sh           both checks below
#   scripts/check-upstream.sh vendor    vendor/biscuit-auth = the 6.0.0 release + marked, listed
#                                       changes only (scripts/check-vendor.py); the release is
#                                       downloaded once into target/upstream/ and its checksum
#                                       checked against crates.io's index entry
#   scripts/check-upstream.sh nofork    the core as `cargo package` makes it (what `cargo add
#                                       marque` gets), built and tested in a workspace of its own
#                                       with no [patch]: crates.io's biscuit-auth, feature
#                                       `biscuit-fork` off (core/src/compat.rs's portable path)
#
# The nofork workspace (target/nofork/) links the repository's tests/, docs/, README.md and
# bindings (the core's tests read vectors and generated lists there) and shares target/.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"

VERSION=6.0.0
# crates.io's index: biscuit-auth 6.0.0, "cksum".
SHA256=d5884fc86b3e21f5649ef4326e17ef729b3096e6502deaf13db7b7fb05bb992b
CRATE="$REPO/target/upstream/biscuit-auth-$VERSION.crate"

vendor_check() {
    if [ ! -f "$CRATE" ] || ! echo "$SHA256  $CRATE" | sha256sum -c --status; then
        mkdir -p "$(dirname "$CRATE")"
        curl -sSfL --retry 3 -o "$CRATE.part" "https://static.crates.io/crates/biscuit-auth/biscuit-auth-$VERSION.crate"
        if ! echo "$SHA256  $CRATE.part" | sha256sum -c --status; then
            echo "check-upstream: the downloaded biscuit-auth $VERSION does not match crates.io's checksum" >&2
            rm -f "$CRATE.part"
            return 1
        fi
        mv "$CRATE.part" "$CRATE"
    fi
    python3 "$REPO/scripts/check-vendor.py" "$CRATE"
}

nofork_check() {
    local w="$REPO/target/nofork" version
    version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
    # Resolves marque's dependencies against crates.io alone ([patch] is the workspace's, not
    # the package's): a feature or version only the fork has fails here.
    cargo package -p marque --no-verify --allow-dirty --quiet
    rm -rf "$w"
    mkdir -p "$w"
    tar xzf "$REPO/target/package/marque-$version.crate" -C "$w"
    mv "$w/marque-$version" "$w/core"
    # A .crate stores one fixed mtime for every file: without a touch, a re-run in a warm target
    # dir sees "unchanged" sources and tests the previous run's build of the core.
    find "$w/core" -type f -exec touch {} +
    cp "$w/core/Cargo.lock" "$w/Cargo.lock"
    local entry
    for entry in tests docs README.md bindings-python bindings-node bindings-wasm cli examples; do
        ln -s "$REPO/$entry" "$w/$entry"
    done
    # The dev profile of the real workspace, so that target/ is shared.
    cat > "$w/Cargo.toml" <<'EOF'
[workspace]
resolver = "2"
members = ["core"]

[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
opt-level = 2
EOF
    if grep -rq 'vendor/biscuit-auth' "$w/core/Cargo.toml"; then
        echo "check-upstream: the packaged core names vendor/" >&2
        return 1
    fi
    # With the `rego` feature: the core alone runs the Rego tests and vectors here (the main suite
    # runs them with the fork). The 1M-entry audit stream (minutes in a debug build) runs in the
    # main suite already; it does not touch biscuit-auth, so it is skipped here.
    (cd "$w" && cargo test -p marque --features rego --target-dir "$REPO/target" -- --skip a_million_entries_stream_in_constant_memory)
    # Proof that it really was crates.io's release: its source is the registry, not vendor/.
    (cd "$w" && cargo tree -p marque -e normal -i biscuit-auth --depth 0) | grep -q "biscuit-auth v$VERSION$" || {
        echo "check-upstream: the nofork build did not use crates.io's biscuit-auth $VERSION" >&2
        return 1
    }
}

case "${1:-all}" in
    vendor) vendor_check ;;
    nofork) nofork_check ;;
    all) vendor_check && nofork_check ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
esac
