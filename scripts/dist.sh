#!/usr/bin/env bash
# Build marque's release artifacts into dist/ (git-ignored), the files a user installs:
#
#   wheel  marque-V-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl: the wheel of
#          scripts/build-python.sh (maturin --zig: abi3, glibc >= 2.17), checked by auditwheel
#   sdist  marque-V.tar.gz: maturin's sdist plus the vendored biscuit-auth (see sdist() below);
#          `pip install marque-V.tar.gz` builds it from source
#   node   marque-node-V.tgz + marque-node-<platform>-V.tgz: @marque/node in napi-rs's
#          platform-package layout: the main package (JS, types, the loader native.js) has an
#          optionalDependency on @marque/node-<platform> for each platform built, which holds
#          marque.<platform>.node (napi create-npm-dirs + napi artifacts, as `napi pre-publish`
#          lays it out)
#   wasm   marque-wasm-V.tgz: `npm pack` of bindings-wasm/pkg
#
# Every artifact carries LICENSE, NOTICE and third_party/biscuit-auth/LICENSE (vendor/'s licence);
# each one holding a compiled module also third_party/THIRD-PARTY-LICENSES.txt, the licence texts
# of the crates compiled into it (scripts/third-party-licenses.py).
# Idempotent; reuses the release builds of scripts/build-{python,node,wasm}.sh (each skips what is
# up to date), so after `scripts/test.sh`'s binding suites it only packs.
#
#   scripts/dist.sh                   all four
#   scripts/dist.sh wheel node ...    only those
#   MARQUE_DIST_NODE_BINARIES=DIR     pack the marque.<platform>.node files found in DIR (the
#                                     release workflow's downloaded artifacts) instead of building
#                                     this machine's; with MARQUE_DIST_ALL_TARGETS=1 every target
#                                     in bindings-node/package.json must be there
#
# tests/dist/run.sh installs each artifact from its file and tests it (scripts/test.sh runs both).
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"

DIST="$REPO/dist"
VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
LICENCE_FILES=(LICENSE NOTICE third_party/biscuit-auth/LICENSE)   # as they appear in every artifact

STEPS=()
for a in "$@"; do
    case "$a" in
        wheel|sdist|node|wasm) STEPS+=("$a") ;;
        -h|--help) sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $a (try --help)" >&2; exit 2 ;;
    esac
done
[ ${#STEPS[@]} -gt 0 ] || STEPS=(wheel sdist node wasm)

TMP="$(mktemp -d "${TMPDIR:-/tmp}/marque-dist.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$DIST"

need() { # need COMMAND WHAT: the tool must exist (scripts/install.sh installs it)
    command -v "$1" >/dev/null 2>&1 || { echo "dist: $1 not found ($2; run scripts/install.sh)" >&2; exit 1; }
}

# put_licences DIR: the licence files, at the paths every artifact uses.
put_licences() {
    mkdir -p "$1/third_party/biscuit-auth"
    cp LICENSE NOTICE "$1/"
    cp vendor/biscuit-auth/LICENSE "$1/third_party/biscuit-auth/LICENSE"
}

# put_third_party DIR MANIFEST TARGET: the licence texts of the crates compiled into the binary of
# MANIFEST for TARGET, as DIR/third_party/THIRD-PARTY-LICENSES.txt (packages holding a binary).
put_third_party() {
    mkdir -p "$1/third_party"
    python3 "$REPO/scripts/third-party-licenses.py" "$2" "$3" "$1/third_party/THIRD-PARTY-LICENSES.txt" 2>/dev/null
}

# The Python project keeps committed copies (maturin reads licence files from its own directory
# only): they must equal the originals.
check_python_licence_copies() {
    local f src
    for f in "${LICENCE_FILES[@]}"; do
        src="$f"; [ "$f" = third_party/biscuit-auth/LICENSE ] && src=vendor/biscuit-auth/LICENSE
        cmp -s "$src" "bindings-python/$f" || {
            echo "dist: bindings-python/$f differs from $src (copy it: cp $src bindings-python/$f)" >&2; exit 1; }
    done
}

# npm_pack SRC_DIR OUT_DIR: npm pack, quietly; prints the tarball's path.
npm_pack() {
    local name
    name="$(cd "$1" && npm pack --silent --pack-destination "$2" 2>/dev/null | tail -n1)"
    if [ -z "$name" ] || [ ! -f "$2/$name" ]; then
        echo "dist: npm pack failed in $1" >&2; (cd "$1" && npm pack --dry-run) >&2; exit 1
    fi
    echo "$2/$name"
}

# stage_npm SRC_DIR STAGE_DIR: copy exactly the files `npm pack` would take from SRC_DIR (its
# package.json "files"), so the package is packed without touching the source tree.
stage_npm() {
    local src="$1" stage="$2" f
    mkdir -p "$stage"
    (cd "$src" && npm pack --dry-run --json 2>/dev/null) |
        node -e 'for (const f of JSON.parse(require("fs").readFileSync(0, "utf8"))[0].files) console.log(f.path)' |
        while IFS= read -r f; do
            mkdir -p "$stage/$(dirname "$f")"
            cp "$src/$f" "$stage/$f"
        done
}

# ---- wheel ---------------------------------------------------------------------------------------
wheel() {
    need auditwheel "auditwheel from scripts/requirements-dev.txt"
    check_python_licence_copies
    "$REPO/scripts/build-python.sh"
    local built
    built="$(ls "$REPO"/target/wheels-python/marque-"$VERSION"-*.whl)"
    rm -f "$DIST"/marque-*.whl
    cp "$built" "$DIST/"
    local whl report
    whl="$DIST/$(basename "$built")"
    # auditwheel reads the versioned glibc symbols the extension needs: they must allow manylinux_2_17.
    report="$(auditwheel show "$whl")"
    local flat="${report//$'\n'/ }"
    if ! grep -q 'consistent with the following platform tag: *"manylinux_2_17_x86_64"' <<<"$flat"; then
        echo "$report" >&2
        echo "dist: $(basename "$whl") is not manylinux_2_17 (manylinux2014) compliant" >&2
        exit 1
    fi
    case "$(basename "$whl")" in
        *-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl) ;;
        *) echo "dist: unexpected wheel tags: $(basename "$whl")" >&2; exit 1 ;;
    esac
    echo "dist: wheel   $(basename "$whl") (auditwheel: manylinux_2_17_x86_64)"
}

# ---- sdist ---------------------------------------------------------------------------------------
# maturin packs the Python project, its path dependencies (core/) and the workspace manifest, but
# not the crates that [patch.crates-io] points at: the sdist would build against the unmodified
# biscuit-auth from the registry (or fail, as the core uses the fork's additions). So the vendored
# copy (and vendor/README.md, which lists marque's changes) is added to maturin's tarball here;
# tests/dist/run.sh proves the result builds with `pip install`.
sdist() {
    need maturin "maturin from scripts/requirements-dev.txt"
    check_python_licence_copies
    # The sdist carries pyproject.toml's licence files, this one included (build-python.sh writes it
    # for the wheel; the release workflow may run this step alone).
    put_third_party bindings-python bindings-python/Cargo.toml x86_64-unknown-linux-gnu
    maturin sdist --manifest-path bindings-python/Cargo.toml --out "$TMP/sdist" >"$TMP/sdist.log" 2>&1 ||
        { cat "$TMP/sdist.log" >&2; exit 1; }
    local src="$TMP/sdist/marque-$VERSION.tar.gz" out="$DIST/marque-$VERSION.tar.gz"
    local vendor_list="$TMP/vendor-files"
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files vendor >"$vendor_list"
    else
        find vendor -type f | sort >"$vendor_list"
    fi
    rm -f "$DIST"/marque-*.tar.gz
    python3 - "$src" "$out" "marque-$VERSION" "$vendor_list" <<'EOF'
import gzip, io, sys, tarfile
src, out, root, listing = sys.argv[1:5]
with tarfile.open(src, "r:gz") as t:
    members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
names = {m.name for m, _ in members}
mtime = max(m.mtime for m, _ in members)
for path in open(listing).read().split("\n"):
    if not path or f"{root}/{path}" in names:
        continue
    info = tarfile.TarInfo(f"{root}/{path}")
    data = open(path, "rb").read()
    info.size, info.mtime, info.mode = len(data), mtime, 0o644
    members.append((info, data))
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    for m, data in members:
        t.addfile(m, io.BytesIO(data) if data is not None else None)
with open(out, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=mtime, filename="") as g:
    g.write(buf.getvalue())
EOF
    echo "dist: sdist   $(basename "$out") (+ vendor/biscuit-auth)"
}

# ---- node ----------------------------------------------------------------------------------------
node_pkg() {
    local src="$REPO/bindings-node" stage="$TMP/node" napi="$REPO/bindings-node/node_modules/.bin/napi"
    local bins="$TMP/node-binaries"
    mkdir -p "$bins"
    if [ -n "${MARQUE_DIST_NODE_BINARIES:-}" ]; then
        find "$MARQUE_DIST_NODE_BINARIES" -name 'marque.*.node' -exec cp {} "$bins/" \;
    else
        "$REPO/scripts/build-node.sh" >/dev/null
        cp "$src"/marque.*.node "$bins/"
    fi
    [ -x "$napi" ] || { echo "dist: no $napi (run scripts/install.sh)" >&2; exit 1; }
    ls "$bins"/marque.*.node >/dev/null 2>&1 || { echo "dist: no marque.<platform>.node to pack" >&2; exit 1; }

    # The main package: what bindings-node/package.json "files" lists, plus the licences.
    stage_npm "$src" "$stage"
    put_licences "$stage"
    # napi's targets for this release = the configured targets whose binary is here (a local dist
    # is the one platform this machine builds; the release workflow brings all of them).
    node - "$stage/package.json" "$bins" "${MARQUE_DIST_ALL_TARGETS:-0}" <<'EOF'
const fs = require('fs')
const [file, bins, all] = process.argv.slice(2)
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'))
const { parseTriple } = require(require.resolve('@napi-rs/cli', { paths: [process.env.REPO + '/bindings-node'] }))
const have = new Set(fs.readdirSync(bins).map((f) => f.replace(/^marque\.(.*)\.node$/, '$1')))
const configured = pkg.napi.targets
const built = configured.filter((t) => have.has(parseTriple(t).platformArchABI))
const missing = configured.filter((t) => !built.includes(t))
const unknown = [...have].filter((p) => !configured.some((t) => parseTriple(t).platformArchABI === p))
if (unknown.length) { console.error(`dist: binaries for unconfigured platforms: ${unknown}`); process.exit(1) }
if (all === '1' && missing.length) { console.error(`dist: missing binaries for ${missing}`); process.exit(1) }
if (!built.length) { console.error('dist: no binary for a configured target'); process.exit(1) }
pkg.napi.targets = built
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n')
EOF
    # napi-rs's layout: npm/<platform>/package.json per target, then each binary into its package.
    (cd "$stage" && "$napi" create-npm-dirs) >"$TMP/napi.log" 2>&1 || { cat "$TMP/napi.log" >&2; exit 1; }
    mkdir -p "$stage/artifacts"
    cp "$bins"/marque.*.node "$stage/artifacts/"
    (cd "$stage" && "$napi" artifacts --output-dir artifacts) >"$TMP/napi.log" 2>&1 || { cat "$TMP/napi.log" >&2; exit 1; }
    rm -rf "$stage/artifacts" "$stage"/marque.*.node   # `napi artifacts` also copies them to the root
    # What `napi pre-publish` adds to the main package (without publishing anything): an
    # optionalDependency on each platform package, at the same version; and each platform package
    # gets the main package's engines, repository and licences.
    node - "$stage" <<'EOF'
const fs = require('fs')
const path = require('path')
const stage = process.argv[2]
const file = path.join(stage, 'package.json')
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'))
const optional = {}
for (const dir of fs.readdirSync(path.join(stage, 'npm')).sort()) {
  const pfile = path.join(stage, 'npm', dir, 'package.json')
  const p = JSON.parse(fs.readFileSync(pfile, 'utf8'))
  if (!fs.readdirSync(path.join(stage, 'npm', dir)).some((f) => f.endsWith('.node'))) {
    console.error(`dist: npm/${dir} has no binary`); process.exit(1)
  }
  Object.assign(p, { license: pkg.license, repository: pkg.repository, engines: pkg.engines })
  p.files = [...new Set([...(p.files ?? []), 'LICENSE', 'NOTICE', 'third_party/'])]
  fs.writeFileSync(pfile, JSON.stringify(p, null, 2) + '\n')
  optional[p.name] = pkg.version
  if (p.version !== pkg.version) { console.error(`dist: ${p.name} is ${p.version}, not ${pkg.version}`); process.exit(1) }
}
pkg.optionalDependencies = optional
delete pkg.devDependencies
delete pkg.scripts
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n')
console.error(`dist: @marque/node optionalDependencies: ${Object.keys(optional).join(', ')}`)
EOF
    rm -f "$DIST"/marque-node-*.tgz
    local dir out triple
    for dir in "$stage"/npm/*/; do
        put_licences "$dir"
        triple="$(node -e '
const { parseTriple } = require(require.resolve("@napi-rs/cli", { paths: [process.env.REPO + "/bindings-node"] }))
const pkg = require(process.argv[1])
const t = pkg.napi.targets.find((t) => parseTriple(t).platformArchABI === process.argv[2])
if (!t) process.exit(1)
console.log(t)' "$stage/package.json" "$(basename "$dir")")"
        put_third_party "$dir" bindings-node/Cargo.toml "$triple"
        out="$(npm_pack "$dir" "$DIST")"
        echo "dist: node    $(basename "$out")"
    done
    out="$(npm_pack "$stage" "$DIST")"
    echo "dist: node    $(basename "$out")"
}

# ---- wasm ----------------------------------------------------------------------------------------
# Rebuilt only when an input is newer than the module (the wasm suite of scripts/test.sh has just
# built it; build-wasm.sh would rerun wasm-bindgen and wasm-opt).
wasm_pkg() {
    local pkg="$REPO/bindings-wasm/pkg" stage="$TMP/wasm" wasm="$REPO/bindings-wasm/pkg/marque_wasm_bg.wasm"
    if [ ! -f "$wasm" ] || [ -n "$(find core/src bindings-wasm/src bindings-wasm/Cargo.toml core/Cargo.toml \
            vendor/biscuit-auth/src Cargo.toml Cargo.lock -newer "$wasm" -print -quit)" ]; then
        "$REPO/scripts/build-wasm.sh"
    fi
    stage_npm "$pkg" "$stage"
    put_licences "$stage"
    put_third_party "$stage" bindings-wasm/Cargo.toml wasm32-unknown-unknown
    rm -f "$DIST"/marque-wasm-*.tgz
    local out
    out="$(npm_pack "$stage" "$DIST")"
    echo "dist: wasm    $(basename "$out")"
}

need npm "Node.js and npm"
for step in "${STEPS[@]}"; do
    case "$step" in
        wheel) wheel ;;
        sdist) sdist ;;
        node) node_pkg ;;
        wasm) wasm_pkg ;;
    esac
done

echo
echo "dist/ ($(date -u +%Y-%m-%dT%H:%MZ)):"
for f in "$DIST"/*; do
    [ -f "$f" ] || continue
    printf '  %-78s %9d B  %6d KiB\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(( ($(stat -c %s "$f") + 1023) / 1024 ))"
done
