#!/usr/bin/env bash
# Install everything marque's builds and tests need, on a Debian 12 machine (root, or sudo).
# Idempotent: every step checks first and skips when already done, so a re-run takes ~1 s.
# Works unattended (CI=true, no stdin).
#
#   scripts/install.sh           install what is missing
#   scripts/install.sh --check   only report; exit 1 if anything is missing
#
# Verbose output of each step goes to a log file, printed (tail) only when the step fails.
set -euo pipefail

# ---- pins -------------------------------------------------------------------------------------
# wasm-bindgen-cli must equal the `wasm-bindgen` crate in Cargo.lock; this default is used only
# while the workspace lock file has no wasm-bindgen entry.
WASM_BINDGEN_DEFAULT_VERSION=0.2.130
# npm `binaryen` (wasm-opt). Debian's binaryen 108 is too old (breaks wasm-bindgen's externref table).
BINARYEN_NPM_VERSION=132.0.0
APT_PACKAGES=(
    rustc-web cargo-web rust-web-src lld-16   # Debian rustc + std sources + wasm-ld-16 (wasm/bare-metal recipe)
    chromium                                  # browser tests (never download a browser)
    shellcheck                                # actionlint checks the workflows' shell steps with it
    redis-server                              # the shared replay store's tests (loopback, started by each test)
    haproxy                                   # the loopback fleet test's round-robin balancer (tests/fleet)
)
NPM_PROJECT_DIRS=(bindings-node bindings-wasm)
# Wheels that tests/dist/run.sh installs with pip --no-index (the sdist's build backend), into
# .tools/wheelhouse. maturin's pin is the one in scripts/requirements-dev.txt.
WHEELHOUSE_PACKAGES=(maturin)
# ------------------------------------------------------------------------------------------------

# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

CHECK_ONLY=0
case "${1:-}" in
    "") ;;
    --check) CHECK_ONLY=1 ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
esac

MISSING=0
LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/marque-install.XXXXXX")"
trap 'rm -rf "$LOG_DIR"' EXIT

say() { printf '%-18s %s\n' "$1" "$2"; }
# begin STEP MSG ... finish: one line per installing step, ending with its duration.
begin() { printf '%-18s %s ... ' "$1" "$2"; STEP_START=$SECONDS; }
finish() { printf 'done (%ss)\n' "$((SECONDS - STEP_START))"; }

# run LOGNAME CMD...: run quietly; on failure show the log's tail and stop.
run() {
    local name="$1"; shift
    local log="$LOG_DIR/$name.log"
    if ! "$@" </dev/null >"$log" 2>&1; then
        echo "FAILED" >&2
        echo "command: $*  (last 40 lines of its output follow)" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
}

# todo STEP WHAT: in --check mode record a missing item and return 1 (caller skips the install).
todo() {
    if [ "$CHECK_ONLY" = 1 ]; then
        say "$1" "MISSING: $2"
        MISSING=1
        return 1
    fi
    return 0
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo -n env DEBIAN_FRONTEND=noninteractive "$@"
    else echo "need root (or sudo) for: $*" >&2; exit 1
    fi
}

# ---- 0. prerequisites this script cannot install ----------------------------------------------
# The machine kind marque's scripts are made for (README "Prerequisites"): Debian 12 (apt), root
# or passwordless sudo, Rust >= 1.85 through rustup (cargo on PATH), Node.js >= 20.19 with npm,
# Python >= 3.9 (3.11 tested) with venv. Missing ones are reported with what to do, and stop.
version_at_least() { # VERSION MINIMUM: dotted numeric comparison
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}
step_prereqs() {
    local bad=0 v
    prereq_missing() { say "prerequisite" "MISSING: $1"; bad=1; }
    if [ -r /etc/os-release ] && . /etc/os-release && [ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ]; then :
    else say "prerequisite" "warning: made for Debian 12; this is ${PRETTY_NAME:-an unknown system} (apt steps may differ)"; fi
    command -v apt-get >/dev/null || prereq_missing "apt-get (a Debian-based system)"
    if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then prereq_missing "root or passwordless sudo (for apt-get)"; fi
    if command -v cargo >/dev/null && v="$(cargo --version | awk '{print $2}')" && version_at_least "$v" 1.85.0; then :
    else prereq_missing "Rust >= 1.85 via rustup (cargo on PATH; have: ${v:-none}) — https://rustup.rs"; fi
    v=""
    if command -v node >/dev/null && v="$(node --version | tr -d v)" && version_at_least "$v" 20.19.0 && command -v npm >/dev/null; then :
    else prereq_missing "Node.js >= 20.19 with npm (have: ${v:-none})"; fi
    v=""
    if v="$("${PYTHON:-python3}" -c 'import sys, venv; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)" && version_at_least "$v" 3.9.0; then :
    else prereq_missing "Python >= 3.9 with the venv module as ${PYTHON:-python3} (have: ${v:-none})"; fi
    if [ "$bad" = 1 ]; then
        echo "install.sh: install the missing prerequisites above first (README: Prerequisites)" >&2
        exit 1
    fi
    say "prerequisites" "ok (rust $(cargo --version | awk '{print $2}'), node $(node --version), python $(${PYTHON:-python3} --version 2>&1 | awk '{print $2}'))"
}

# ---- 1. Debian packages ------------------------------------------------------------------------
step_apt() {
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then say apt "ok (${APT_PACKAGES[*]})"; return; fi
    todo apt "${missing[*]}" || return 0
    begin apt "apt-get update + install ${missing[*]}"
    run apt-update as_root apt-get -o DPkg::Lock::Timeout=300 update -q
    run apt-install as_root apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
    finish
}

# ---- 2. wasm-bindgen-cli -----------------------------------------------------------------------
wasm_bindgen_version() {
    local v=""
    if [ -f Cargo.lock ]; then
        v="$(awk '/^\[\[package\]\]/ { inpkg = 0 }
                  /^name = "wasm-bindgen"$/ { inpkg = 1; next }
                  inpkg && /^version = / { gsub(/"/, "", $3); print $3; exit }' Cargo.lock)"
    fi
    echo "${v:-$WASM_BINDGEN_DEFAULT_VERSION}"
}

step_wasm_bindgen() {
    local want have=""
    want="$(wasm_bindgen_version)"
    if command -v wasm-bindgen >/dev/null; then have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')"; fi
    if [ "$have" = "$want" ]; then say wasm-bindgen "ok ($want)"; return; fi
    todo wasm-bindgen "wasm-bindgen-cli $want (have: ${have:-none})" || return 0
    begin wasm-bindgen "cargo install wasm-bindgen-cli $want (have: ${have:-none}; ~2-3 min)"
    # No --locked: the crate's own lock file pins a webpki-roots release the registry here lacks.
    run wasm-bindgen cargo install wasm-bindgen-cli --version "=$want"
    have="$(wasm-bindgen --version | awk '{print $2}')"
    [ "$have" = "$want" ] || { echo "wasm-bindgen is $have after install, wanted $want (PATH?)" >&2; exit 1; }
    finish
}

# ---- 3. Python venv ----------------------------------------------------------------------------
step_venv() {
    local req="$REPO/scripts/requirements-dev.txt" stamp="$REPO/.venv/.marque-requirements" want
    local py="${PYTHON:-python3}"
    want="$("$py" --version 2>&1) $(sha256sum "$req" | cut -d' ' -f1)"
    if [ -x .venv/bin/python ] && .venv/bin/python -c '' 2>/dev/null \
        && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        say venv "ok (.venv, requirements-dev.txt up to date)"
        return
    fi
    todo venv ".venv with scripts/requirements-dev.txt" || return 0
    if ! { [ -x .venv/bin/python ] && .venv/bin/python -c '' 2>/dev/null; }; then
        begin venv "create .venv ($("$py" --version 2>&1)) + pip install -r scripts/requirements-dev.txt"
        rm -rf .venv
        run venv-create "$py" -m venv .venv
    else
        begin venv "pip install -r scripts/requirements-dev.txt"
    fi
    run pip .venv/bin/python -m pip install -q -r "$req"
    echo "$want" > "$stamp"
    finish
}

# ---- 4. npm binaryen (wasm-opt) into .tools ----------------------------------------------------
step_binaryen() {
    local pj="$REPO/.tools/node_modules/binaryen/package.json" have=""
    [ -f "$pj" ] && have="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pj" | head -n1)"
    if [ "$have" = "$BINARYEN_NPM_VERSION" ] && [ -x "$MARQUE_WASM_OPT" ]; then
        say binaryen "ok (npm binaryen $have: .tools/node_modules/.bin/wasm-opt)"; return
    fi
    todo binaryen "npm binaryen@$BINARYEN_NPM_VERSION in .tools (have: ${have:-none})" || return 0
    begin binaryen "npm install binaryen@$BINARYEN_NPM_VERSION into .tools"
    mkdir -p .tools
    run binaryen npm install --prefix "$REPO/.tools" --save-exact "binaryen@$BINARYEN_NPM_VERSION"
    [ -x "$MARQUE_WASM_OPT" ] || { echo "no $MARQUE_WASM_OPT after install" >&2; exit 1; }
    finish
}

# ---- 5. npm deps of the JS packages (those that exist) ----------------------------------------
# Skip when node_modules/.package-lock.json (npm's record of the last install) is newer than
# package.json and package-lock.json.
step_npm_dirs() {
    local d stamp
    for d in "${NPM_PROJECT_DIRS[@]}"; do
        if [ ! -f "$d/package.json" ]; then say "npm $d" "skip (no package.json)"; continue; fi
        stamp="$d/node_modules/.package-lock.json"
        if [ -f "$stamp" ] && [ ! "$d/package.json" -nt "$stamp" ] \
            && { [ ! -f "$d/package-lock.json" ] || [ ! "$d/package-lock.json" -nt "$stamp" ]; }; then
            say "npm $d" "ok"; continue
        fi
        todo "npm $d" "node_modules" || continue
        if [ -f "$d/package-lock.json" ]; then
            begin "npm $d" "npm ci"
            run "npm-${d//\//-}" env -C "$REPO/$d" npm ci
        else
            begin "npm $d" "npm install (no package-lock.json: creates one)"
            run "npm-${d//\//-}" env -C "$REPO/$d" npm install
        fi
        finish
    done
}

# ---- 6. a local wheelhouse for offline builds from the sdist ------------------------------------
step_wheelhouse() {
    local dir="$REPO/.tools/wheelhouse" p pin want=() missing=()
    for p in "${WHEELHOUSE_PACKAGES[@]}"; do
        pin="$(grep -i "^$p==" scripts/requirements-dev.txt | head -n1)"
        [ -n "$pin" ] || { echo "no pin for $p in scripts/requirements-dev.txt" >&2; exit 1; }
        want+=("$pin")
        compgen -G "$dir/${p//-/_}-${pin#*==}-*.whl" >/dev/null || missing+=("$pin")
    done
    if [ ${#missing[@]} -eq 0 ]; then say wheelhouse "ok (${want[*]})"; return; fi
    todo wheelhouse "${missing[*]} in .tools/wheelhouse" || return 0
    begin wheelhouse "pip download ${missing[*]} into .tools/wheelhouse"
    mkdir -p "$dir"
    run wheelhouse .venv/bin/python -m pip download -q --only-binary=:all: --no-deps -d "$dir" "${missing[@]}"
    finish
}

step_prereqs
step_apt
step_wasm_bindgen
step_venv
step_binaryen
step_npm_dirs
step_wheelhouse

if [ "$CHECK_ONLY" = 1 ] && [ "$MISSING" = 1 ]; then
    echo "some tools are missing: run scripts/install.sh" >&2
    exit 1
fi
