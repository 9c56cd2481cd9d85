#!/usr/bin/env bash
# Install each release artifact in dist/ (scripts/dist.sh) from its file, offline, into a fresh
# venv / npm project in a temporary directory outside the repository, and use it as a user would:
#
#   wheel  pip install --no-index --find-links dist/ marque; the delegation story (story.py);
#          mypy --strict on that script against the installed package (py.typed + .pyi), and a
#          wrong script that mypy must reject
#   sdist  pip install dist/marque-V.tar.gz (built from source: maturin from a local wheelhouse,
#          crates from cargo's cache, CARGO_NET_OFFLINE); the story
#   node   npm install of the two tarballs (@marque/node + @marque/node-<platform>) with the
#          registry unreachable; the loader must take the binary from the platform package; the
#          story in TypeScript (story.mts) checked by tsc --strict against the installed
#          declarations and run; require() from CommonJS
#   wasm   the same for @marque/wasm
#   lint   actionlint (with shellcheck) on .github/workflows/
#
# and checks that every artifact carries LICENSE, NOTICE and third_party/biscuit-auth/LICENSE,
# byte-identical to the repository's, and each one holding a binary the licence texts of the
# crates compiled into it (third_party/THIRD-PARTY-LICENSES.txt). Tools missing: skipped with a message, but with CI set the
# suite fails instead.
#
#   tests/dist/run.sh                 everything
#   tests/dist/run.sh wheel node ...  only those
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
. "$HERE/../../scripts/env.sh"
cd "$REPO"

DIST="$REPO/dist"
VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
WHEELHOUSE="$REPO/.tools/wheelhouse"          # maturin's wheel for the sdist build (install.sh)
TSC="$REPO/bindings-node/node_modules/.bin/tsc"
NODE_TYPES="$REPO/bindings-node/node_modules/@types"
# An address where no registry answers: npm must not need one for marque's packages.
NO_REGISTRY="http://127.0.0.1:9/"

PARTS=()
for a in "$@"; do
    case "$a" in
        wheel|sdist|node|wasm|lint) PARTS+=("$a") ;;
        -h|--help) sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $a (try --help)" >&2; exit 2 ;;
    esac
done
[ ${#PARTS[@]} -gt 0 ] || PARTS=(wheel sdist node wasm lint)

T="$(mktemp -d "${TMPDIR:-/tmp}/marque-dist-test.XXXXXX")"
trap 'rm -rf "$T"' EXIT
case "$T" in "$REPO"/*) echo "the temporary directory must be outside the repository" >&2; exit 1 ;; esac

PASSED=0
FAILED=0
SKIPPED=0
FAILED_NAMES=()
check() { # check NAME CMD...: one named check, its output indented
    local name="$1"; shift
    local start=$SECONDS
    if "$@" >"$T/out" 2>&1; then
        PASSED=$((PASSED + 1)); echo "ok    $name ($((SECONDS - start)) s)"
        [ -z "${VERBOSE:-}" ] || sed 's/^/      /' "$T/out"
    else
        FAILED=$((FAILED + 1)); FAILED_NAMES+=("$name"); echo "FAIL  $name ($((SECONDS - start)) s)"
        sed 's/^/      /' "$T/out" | tail -n 60
        return 1
    fi
}
# have TOOL...: true when every tool exists; otherwise a skip, or a failure under CI.
have() {
    local t missing=()
    for t in "$@"; do [ -e "$t" ] || command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ -n "${CI:-}" ]; then
        FAILED=$((FAILED + 1)); FAILED_NAMES+=("missing ${missing[*]}")
        echo "FAIL  missing ${missing[*]} (CI is set: run scripts/install.sh)"
    else
        SKIPPED=$((SKIPPED + 1)); echo "skip  missing ${missing[*]} (run scripts/install.sh)"
    fi
    return 1
}
# artifact GLOB: sets FOUND to the first file in dist/ matching GLOB, or counts a failure.
artifact() {
    FOUND="$(compgen -G "$DIST/$1" | head -n1 || true)"
    [ -n "$FOUND" ] && return 0
    FAILED=$((FAILED + 1)); FAILED_NAMES+=("no dist/$1")
    echo "FAIL  no dist/$1 (run scripts/dist.sh)"
    return 1
}

# licences_in DIR: DIR holds the three licence files, equal to the repository's.
licences_in() {
    local dir="$1"
    cmp "$REPO/LICENSE" "$dir/LICENSE" && cmp "$REPO/NOTICE" "$dir/NOTICE" &&
        cmp "$REPO/vendor/biscuit-auth/LICENSE" "$dir/third_party/biscuit-auth/LICENSE" &&
        grep -q 'Apache License' "$dir/LICENSE" && echo "licences in $dir: ok"
}
# third_party_in DIR: the licence texts of the crates compiled into the binary, there and sane.
third_party_in() {
    local f="$1/third_party/THIRD-PARTY-LICENSES.txt"
    grep -q '^  curve25519-dalek ' "$f" && grep -q '^  biscuit-auth 6.0.0 ' "$f" &&
        grep -q 'Permission is hereby granted' "$f" && grep -q 'Apache License' "$f" &&
        echo "third-party licences in $f: $(grep -c '^  [a-z]' "$f") crates"
}
# unpack ARCHIVE DIR
unpack() {
    mkdir -p "$2"
    case "$1" in
        *.whl) python3 -m zipfile -e "$1" "$2" ;;
        *) tar -xzf "$1" -C "$2" ;;
    esac
}

# ---- Python ------------------------------------------------------------------------------------
# A fresh venv without pip of its own (creating one with pip costs seconds); the dev venv's pip
# installs into it (`pip --python`).
fresh_venv() { python3 -m venv --without-pip "$1"; }
vpip() { local venv="$1"; shift; "$REPO/.venv/bin/python" -m pip --python "$venv/bin/python" "$@"; }

wheel_licences() {
    local whl="$1" d="$T/wheel-unpacked"
    unpack "$whl" "$d" && licences_in "$d/marque-$VERSION.dist-info/licenses" &&
        third_party_in "$d/marque-$VERSION.dist-info/licenses" &&
        test -f "$d/marque/py.typed" && test -f "$d/marque/_native.pyi" && echo "py.typed + _native.pyi: ok"
}
wheel_install() {
    fresh_venv "$T/venv-wheel" &&
        vpip "$T/venv-wheel" install -q --disable-pip-version-check --no-cache-dir --no-index --find-links "$DIST" \
            "marque==$VERSION" &&
        vpip "$T/venv-wheel" show -f marque >"$T/show-wheel" && grep -q "licenses/NOTICE" "$T/show-wheel"
}
run_story_py() { # run_story_py VENV
    mkdir -p "$T/work" && cp "$HERE/story.py" "$T/work/story.py" &&
        (cd "$T/work" && env -u PYTHONPATH "$1/bin/python" -I story.py) | tee "$T/story-py.out" &&
        grep -q "from $1/lib/python" "$T/story-py.out" && grep -q '^story: ok$' "$T/story-py.out"
}
wheel_mypy() {
    # mypy from the dev venv, reading the packages of the fresh venv (PEP 561: py.typed + .pyi).
    mkdir -p "$T/work" && cp "$HERE/story.py" "$T/work/story.py" &&
        (cd "$T/work" && env -u MYPYPATH "$REPO/.venv/bin/python" -m mypy --strict --no-incremental \
            --cache-dir=/dev/null --python-executable "$T/venv-wheel/bin/python" story.py)
}
wheel_mypy_rejects() {
    cat >"$T/work/wrong.py" <<'EOF'
import marque
root = marque.KeyPair.generate()
marque.mint(root, agent="agent:a", agent_key=root.public_key)  # no principal
verdict: int = marque.Verifier([root.public_key]).authorize("t", tool="read_file", resource=1).allowed_typo
EOF
    local out
    out="$(cd "$T/work" && "$REPO/.venv/bin/python" -m mypy --strict --no-incremental --cache-dir=/dev/null \
        --python-executable "$T/venv-wheel/bin/python" wrong.py 2>&1)" && { echo "mypy accepted wrong.py"; return 1; }
    echo "$out"
    grep -q 'Missing named argument "principal"' <<<"$out" && grep -q 'Argument "resource"' <<<"$out" &&
        grep -q 'allowed_typo' <<<"$out"
}

sdist_licences() {
    local d="$T/sdist-unpacked" root
    unpack "$1" "$d" && root="$d/marque-$VERSION" && licences_in "$root" && third_party_in "$root" &&
        test -f "$root/vendor/biscuit-auth/Cargo.toml" && test -f "$root/vendor/README.md" &&
        grep -q '^License-File: NOTICE$' "$root/PKG-INFO" && echo "vendor/biscuit-auth: ok"
}
sdist_install() {
    # Build isolation installs maturin from the wheelhouse only; cargo finds every crate in its
    # cache; no pip cache (a wheel pip built from an earlier sdist at the same path would be reused). A quick profile (no LTO, opt-level 0) keeps the suite short: the sdist must build, and
    # the optimised build is the wheel's.
    # The crates built from the sdist's own sources are cleaned first, so they are compiled from
    # the unpacked files (cargo would otherwise reuse them: same relative paths, older mtimes).
    cargo clean -q --release --target-dir "$REPO/target/sdist-install" -p marque -p marque-python \
        -p biscuit-auth 2>/dev/null || true
    fresh_venv "$T/venv-sdist" &&
        env PIP_NO_INDEX=1 PIP_FIND_LINKS="$WHEELHOUSE" CARGO_NET_OFFLINE=true \
            CARGO_TARGET_DIR="$REPO/target/sdist-install" CARGO_PROFILE_RELEASE_LTO=false \
            CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=0 \
            "$REPO/.venv/bin/python" -m pip --python "$T/venv-sdist/bin/python" install \
            --disable-pip-version-check --no-cache-dir "$1" &&
        vpip "$T/venv-sdist" show -f marque >"$T/show-sdist" && grep -q '_native.abi3.so' "$T/show-sdist" &&
        grep -q "licenses/NOTICE" "$T/show-sdist"
}

# ---- npm -----------------------------------------------------------------------------------------
# npm_project DIR TARBALL...: a fresh project with the tarballs installed, nothing from a registry.
npm_project() {
    local dir="$1"; shift
    mkdir -p "$dir" && printf '{ "name": "user-project", "private": true, "type": "module" }\n' >"$dir/package.json" &&
        (cd "$dir" && npm install --offline --registry "$NO_REGISTRY" --no-audit --no-fund --no-update-notifier \
            --loglevel=error "$@")
}
node_layout() {
    local p="$T/npm-node/node_modules/@marque" plat
    plat="$(basename "$(ls -d "$p"/node-*)")"
    licences_in "$p/node" && licences_in "$p/$plat" && third_party_in "$p/$plat" &&
        test -f "$p/$plat/marque.${plat#node-}.node" && echo "binary: @marque/$plat/marque.${plat#node-}.node" &&
        { ! compgen -G "$p/node/*.node" >/dev/null || { echo "the main package holds a .node"; return 1; }; } &&
        node -e 'const p=require(process.argv[1]); if (!p.optionalDependencies[process.argv[2]]) process.exit(1)' \
            "$p/node/package.json" "@marque/$plat" && echo "optionalDependencies: @marque/$plat"
}
# ts_story DIR PACKAGE: tsc --strict on story.mts against the installed package, then run it.
ts_story() {
    local dir="$1" pkg="$2"
    sed "s#'@marque/node'#'$pkg'#g" "$HERE/story.mts" >"$dir/story.mts" &&
        cat >"$dir/tsconfig.json" <<EOF &&
{
  "compilerOptions": {
    "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext",
    "strict": true, "skipLibCheck": false, "outDir": "out",
    "typeRoots": ["$NODE_TYPES"], "types": ["node"]
  },
  "files": ["story.mts"]
}
EOF
        (cd "$dir" && "$TSC" -p tsconfig.json) &&
        (cd "$dir" && node out/story.mjs) | tee "$dir/story.out" &&
        grep -q "from $dir/node_modules/" "$dir/story.out" && grep -q '^story: ok$' "$dir/story.out"
}
cjs_require() { # cjs_require DIR PACKAGE
    (cd "$1" && node -e '
const m = require(process.argv[1])
const k = m.KeyPair.generate()
if (!require.resolve(process.argv[1]).startsWith(process.cwd())) process.exit(2)
console.log(process.argv[1], "via require():", k.publicKey.toHex().length === 64 ? "ok" : "wrong")' "$2")
}

wasm_licences() { licences_in "$1" && third_party_in "$1"; }

# ---- run -----------------------------------------------------------------------------------------
echo "==> artifacts in $DIST, installed under $T"
for part in "${PARTS[@]}"; do
    case "$part" in
        wheel)
            artifact "marque-$VERSION-cp39-abi3-*.whl" || continue
            whl="$FOUND"
            check "wheel: licences, py.typed and stubs inside" wheel_licences "$whl"
            check "wheel: pip install --no-index from dist/ into a fresh venv" wheel_install || continue
            check "wheel: the delegation story from outside the repository" run_story_py "$T/venv-wheel"
            if have "$REPO/.venv/bin/mypy"; then
                check "wheel: mypy --strict on the user script against the installed package" wheel_mypy
                check "wheel: mypy --strict rejects a wrong user script" wheel_mypy_rejects
            fi
            ;;
        sdist)
            artifact "marque-$VERSION.tar.gz" || continue
            sd="$FOUND"
            check "sdist: licences and vendor/biscuit-auth inside" sdist_licences "$sd"
            have cargo "$WHEELHOUSE" || continue
            check "sdist: pip install dist/marque-$VERSION.tar.gz (builds from source, offline)" sdist_install "$sd" || continue
            check "sdist: the delegation story from outside the repository" run_story_py "$T/venv-sdist"
            ;;
        node)
            artifact "marque-node-$VERSION.tgz" || continue
            main="$FOUND"
            artifact "marque-node-*-$VERSION.tgz" || continue
            plats=()
            while IFS= read -r f; do plats+=("$f"); done < <(compgen -G "$DIST/marque-node-*-$VERSION.tgz")
            check "node: npm install of ${#plats[@]}+1 tarballs, no registry" npm_project "$T/npm-node" "${plats[@]}" "$main" || continue
            check "node: platform-package layout and licences" node_layout
            if have "$TSC" "$NODE_TYPES/node"; then
                check "node: tsc --strict on the TypeScript user script, then run it" ts_story "$T/npm-node" @marque/node
            fi
            check "node: require() from CommonJS" cjs_require "$T/npm-node" @marque/node
            ;;
        wasm)
            artifact "marque-wasm-$VERSION.tgz" || continue
            tgz="$FOUND"
            check "wasm: npm install of the tarball, no registry" npm_project "$T/npm-wasm" "$tgz" || continue
            check "wasm: licences inside" wasm_licences "$T/npm-wasm/node_modules/@marque/wasm"
            if have "$TSC" "$NODE_TYPES/node"; then
                check "wasm: tsc --strict on the TypeScript user script, then run it" ts_story "$T/npm-wasm" @marque/wasm
            fi
            check "wasm: require() from CommonJS" cjs_require "$T/npm-wasm" @marque/wasm
            ;;
        lint)
            if have actionlint shellcheck; then
                check "actionlint .github/workflows (with shellcheck)" actionlint -no-color -shellcheck shellcheck
            fi
            ;;
    esac
done

echo
if [ "$FAILED" -gt 0 ]; then printf 'failed: %s\n' "${FAILED_NAMES[@]}"; fi
echo "dist: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
