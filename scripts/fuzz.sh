#!/usr/bin/env bash
# Run every cargo-fuzz target for a fixed time each (default 20 s: the CI smoke run), one per core.
#
#   scripts/fuzz.sh            20 s per target
#   scripts/fuzz.sh 600        10 minutes per target (what docs/SECURITY.md reports)
#   scripts/fuzz.sh 600 jwt_verify
#
# Corpora start from the shared vectors (tokens, JWTs, envelopes, keys) and grow in
# fuzz/corpus/<target>/ (gitignored); crashes land in fuzz/artifacts/<target>/ and make the
# script fail. Regressions found this way are kept as tests in core/tests/hostile.rs.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"

SECONDS_PER_TARGET="${1:-20}"
TARGETS=(token_authorize hop_block_datalog resource_rules jwt_verify proof_verify audit_log key_import)
[ $# -ge 2 ] && TARGETS=("${@:2}")

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "installing cargo-fuzz 0.13.1"
    cargo install cargo-fuzz --version 0.13.1 >/dev/null
fi

seed() {
    local target="$1" dir="fuzz/corpus/$1"
    mkdir -p "$dir"
    [ -n "$(ls -A "$dir" 2>/dev/null)" ] && return 0
    python3 - "$target" "$dir" <<'PY'
import base64, hashlib, json, os, sys
target, out = sys.argv[1], sys.argv[2]
def put(data):
    if isinstance(data, str):
        data = data.encode()
    open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb").write(data)
v = lambda name: json.load(open(os.path.join("tests/vectors", name)))
if target == "token_authorize":
    for t in v("tokens.json")["tokens"].values():
        put(t)
        put(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)))
elif target == "hop_block_datalog":
    # Mode byte + input (fuzz/fuzz_targets/hop_block_datalog.rs). Mode 3 (a raw serialized
    # block) starts from the hop blocks of the attack vectors, the profile's own among them.
    def fields(buf):
        i = 0
        while i < len(buf):
            key, i = varint(buf, i)
            kind = key & 7
            if kind == 0:
                _, i = varint(buf, i); yield key >> 3, None
            elif kind == 2:
                n, i = varint(buf, i); yield key >> 3, buf[i:i + n]; i += n
            else:
                return
    def varint(buf, i):
        v = shift = 0
        while True:
            b = buf[i]; i += 1; v |= (b & 0x7f) << shift; shift += 7
            if b < 0x80:
                return v, i
    for t in v("attacks.json")["tokens"].values():
        raw = base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))
        blocks = [b for f, b in fields(raw) if f == 3]
        if blocks:
            payload = [b for f, b in fields(blocks[-1]) if f == 1]
            if payload:
                put(b"\x03" + payload[0])
    for seed in [b"\x01", b"\x01extra(1);", b"\x00check if true;", b"\x01check if f($a), f($b), $a + $b == 3;", b"\x02\x01\x02\x00\x05\x01abc"]:
        put(seed)
elif target == "resource_rules":
    # Flags byte 2 (UTF-8 text mode; fuzz/fuzz_targets/resource_rules.rs), resource, 0xFF,
    # prefix: the resources and prefixes of the attack vectors, each from both parents.
    cases = v("attacks.json")["cases"]
    resources = sorted({c["request"]["resource"] for c in cases if c.get("op") == "authorize" and c.get("request")})
    prefixes = sorted({c["params"]["resource_prefix"] for c in cases if c.get("op") == "delegate" and "resource_prefix" in c.get("params", {})})
    prefixes += ["src", "src/lib/", "*", "repo:org", "mcp://srv/a", "/etc", "channel#x"]
    for i, r in enumerate(resources):
        p = prefixes[i % len(prefixes)]
        for flags in (2, 3):
            put(bytes([flags]) + r.encode("utf-8", "replace") + b"\xff" + p.encode("utf-8", "replace"))
    for p in prefixes:
        put(b"\x02src/lib/x.rs\xff" + p.encode("utf-8", "replace"))
    put(b"\x00\x33\x02\x01\x02\x31\xff\x33")
elif target == "jwt_verify":
    doc = v("jwt.json")
    for case in doc.get("verify", []):
        if isinstance(case, dict) and "token" in case:
            put(case["token"])
    for a in doc.get("agent_assertions", []):
        put(a["header"])
elif target == "proof_verify":
    for c in v("tokens.json")["cases"]:
        if c.get("proof"):
            put(c["proof"])
elif target == "audit_log":
    doc = v("audit.json")
    put(doc["jsonl"])
    for e in doc["envelopes"]:
        put(e["json"])
elif target == "key_import":
    for k in v("tokens.json")["keys"].values():
        put(k["public_hex"]); put(k["seed_hex"])
    put("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
    put('{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}')
PY
}

# Build every target once, then fuzz them side by side, one per core (MARQUE_FUZZ_JOBS; each
# libFuzzer process is single-threaded): every target still gets its full time, and on two cores
# the smoke run takes about half as long as one target after the other. Each target's output is
# kept in its own log and printed, in order, once all have ended.
status=0
JOBS="${MARQUE_FUZZ_JOBS:-$(nproc)}"
LOGS="$(mktemp -d)"
trap 'rm -rf "$LOGS"' EXIT
for t in "${TARGETS[@]}"; do seed "$t"; done
# `cargo fuzz build` without a name builds every target, with the flags `cargo fuzz run` uses (so
# the runs below do not rebuild); a build failure is a failure, reported with its output.
build_ok=1
if [ $# -ge 2 ]; then
    for t in "${TARGETS[@]}"; do
        (cd fuzz && cargo +nightly fuzz build "$t") >>"$LOGS/build" 2>&1 || build_ok=0
    done
else
    (cd fuzz && cargo +nightly fuzz build) >"$LOGS/build" 2>&1 || build_ok=0
fi
if [ "$build_ok" = 0 ]; then
    echo "the fuzz targets did not build (last lines of the output follow)" >&2
    tail -n 40 "$LOGS/build" >&2
    exit 1
fi
fuzz_one() { # fuzz_one TARGET: runs it, its output in $LOGS/TARGET, its verdict in $LOGS/TARGET.ok
    local t="$1"
    if (cd fuzz && cargo +nightly fuzz run "$t" "corpus/$t" -- \
            -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1) >"$LOGS/$t" 2>&1; then
        echo 1 >"$LOGS/$t.ok"
    else
        echo 0 >"$LOGS/$t.ok"
    fi
}
report() { # report TARGET: prints its stats; returns 1 on a crash or a fuzzer that did not run
    local t="$1" log="$LOGS/$1"
    echo "==> fuzz $t for ${SECONDS_PER_TARGET}s"
    grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==|SUMMARY|Done|thread .* panicked)" "$log" || true
    if [ -n "$(ls -A "fuzz/artifacts/$t" 2>/dev/null)" ]; then
        echo "crash found for $t: fuzz/artifacts/$t" >&2
        return 1
    elif [ "$(cat "$LOGS/$t.ok" 2>/dev/null)" != 1 ] || ! grep -q "^stat::number_of_executed_units" "$log"; then
        # A fuzzer that did not build or run is a failure, never a silent pass.
        echo "fuzzing $t did not run (last lines of its output follow)" >&2
        tail -n 25 "$log" >&2
        return 1
    fi
}
running=0
for t in "${TARGETS[@]}"; do
    if [ "$running" -ge "$JOBS" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    fuzz_one "$t" &
    running=$((running + 1))
done
wait
for t in "${TARGETS[@]}"; do
    report "$t" || status=1
done
exit $status
