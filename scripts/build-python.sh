#!/usr/bin/env bash
# Build the Python wheel (release) and install it into $REPO/.venv. It is the wheel that ships
# (scripts/dist.sh copies it into dist/): abi3 (CPython >= 3.9), linked by zig (maturin --zig, the
# `ziglang` package) against glibc 2.17, so it is tagged manylinux2014 / manylinux_2_17.
#
#   scripts/build-python.sh            build if sources changed, then install
#   scripts/build-python.sh --force    always rebuild and reinstall
#
# Idempotent: a stamp (hash of every input: core + binding sources, the vendored biscuit-auth,
# manifests, Cargo.lock, toolchain) is kept in .venv/; when it matches and marque is importable, nothing is done.
# The venv comes from scripts/install.sh (pinned maturin, pytest, mypy, mcp, …); if it is
# missing this script creates a bare one with the pinned maturin only.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
VENV="${VENV:-$REPO/.venv}"
PY="$VENV/bin/python"
MATURIN_PIN="maturin==1.16.0"
ZIG_PIN="ziglang==0.15.2"   # same pins as scripts/requirements-dev.txt
OUT="$REPO/target/wheels-python"
STAMP="$VENV/.marque-python-build"

FORCE=0
case "${1:-}" in
    "") ;;
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
esac

if [ ! -x "$PY" ]; then
    echo "build-python: no venv at $VENV; creating one (run scripts/install.sh for the full dev set)"
    "${PYTHON:-python3}" -m venv "$VENV"
fi
if ! "$VENV/bin/maturin" --version >/dev/null 2>&1; then
    "$PY" -m pip install -q --disable-pip-version-check "$MATURIN_PIN"
fi
if ! "$PY" -m ziglang version >/dev/null 2>&1; then
    "$PY" -m pip install -q --disable-pip-version-check "$ZIG_PIN"
fi

source_files() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -z --cached --others --exclude-standard -- core vendor bindings-python Cargo.toml Cargo.lock
    else
        find core vendor bindings-python Cargo.toml Cargo.lock -type f -not -path '*/target/*' \
            -not -name '*.so' -not -path '*/__pycache__/*' -print0
    fi
}

inputs_hash() {
    {
        source_files | sort -z | xargs -0 sha256sum
        rustc --version
        "$VENV/bin/maturin" --version
        "$PY" -m ziglang version
        "$PY" --version
    } 2>/dev/null | sha256sum | cut -d' ' -f1
}

want="$(inputs_hash)"
if [ "$FORCE" = 0 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
    && (cd / && "$PY" -c 'import marque._native' 2>/dev/null); then
    echo "build-python: up to date ($("$PY" -c 'import marque; print(marque.__version__)'))"
    exit 0
fi

echo "build-python: building the release wheel (maturin --zig, manylinux2014; a few minutes from scratch)"
rm -rf "$OUT"
# The licence texts of the crates compiled into the module (pyproject.toml's license-files).
python3 scripts/third-party-licenses.py bindings-python/Cargo.toml x86_64-unknown-linux-gnu \
    bindings-python/third_party/THIRD-PARTY-LICENSES.txt
# maturin finds zig through the `ziglang` module of the interpreter it runs under.
PATH="$VENV/bin:$PATH" "$VENV/bin/maturin" build --release --manifest-path bindings-python/Cargo.toml \
    --out "$OUT" --interpreter "$PY" --zig --compatibility manylinux2014 --quiet
wheel="$(ls "$OUT"/marque-*.whl)"
"$PY" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"
(cd / && "$PY" -c 'import marque; marque.KeyPair.generate()')
echo "$want" > "$STAMP"
echo "build-python: installed $(basename "$wheel") into $VENV"
