"""marque (Python binding) beside biscuit-python and PyJWT doing the equivalent work.

    .venv/bin/python bindings-python/bench/bench.py [--iterations N] [--warmup N]

Prints a markdown table of medians and 90th percentiles (microseconds per operation) and the
ratio marque / reference (below 1 means marque is faster). Token rows compare with
biscuit-python: both sit on the same Rust crate (biscuit-auth), so the difference is what each
adds around it (marque checks the hop-signer chain, revocation, its profile descriptors and
request validation, and parses its own claims; biscuit-python here does the bare Biscuit work
with the same Datalog). "no cache" rows use a verifier with `verified_cache_capacity=0, prefix_cache_capacity=0`; the
"repeated token" row lets marque's verified-token cache skip parsing and signature checks
(revocation, time, request and Datalog still run), while biscuit-python reuses its parsed
token. JWT rows compare with PyJWT (EdDSA through `cryptography`). Audit rows and proofs have
no reference ("n/a"); audit verification rows time a whole 1,000-entry log. Timings on a
shared machine are noisy: compare medians, and rerun before drawing conclusions.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import platform
import tempfile
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import marque

try:
    import biscuit_auth as ba
except ImportError:  # pragma: no cover - the table then shows n/a for biscuit-python
    ba = None
try:
    import jwt as pyjwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
except ImportError:  # pragma: no cover - the table then shows n/a for PyJWT
    pyjwt = None

AUD = "https://tools.example"
AUDIT_LOG_ENTRIES = 1000


@dataclass
class Stat:
    median_us: float
    p90_us: float


def measure(fn: Callable[[], object], iterations: int, warmup: int) -> Stat:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(iterations):
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / 1000)
    samples.sort()
    return Stat(statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.9))])


def marque_ops(proof_count: int) -> dict[str, Callable[[], object]]:
    root, orch, agent = marque.KeyPair.generate(), marque.KeyPair.generate(), marque.KeyPair.generate()
    # The shared workload (core/examples/bench_native.rs and bindings-node/bench/bench.mjs do the same).
    rights = ["read_file:read:*", "write_file:write:src/", "run_tests:*:*"]

    def mint() -> marque.Token:
        return marque.mint(root, agent="agent:orchestrator", agent_key=orch.public_key, principal="user:alice",
                           task="fix-issue-42", rights=rights, ttl_seconds=3600)

    token = mint()

    def delegate() -> marque.Token:
        return token.delegate(orch, to="agent:agent_a", to_key=agent.public_key, tools=["read_file"],
                              resource_prefix="src/")

    child = delegate()
    text = child.to_base64()
    # One agent key signs every proof: let it use the whole replay cache.
    verifier = marque.Verifier([root.public_key], limits=marque.Limits(replay_cache_per_key=100_000))
    uncached = marque.Verifier([root.public_key], limits=marque.Limits(verified_cache_capacity=0, prefix_cache_capacity=0))

    def authorize_cold() -> marque.Decision:
        return uncached.authorize(text, tool="read_file", operation="read", resource="src/lib.rs")

    def authorize_parsed() -> marque.Decision:
        return uncached.authorize(child, tool="read_file", operation="read", resource="src/lib.rs")

    def authorize_cached() -> marque.Decision:
        return verifier.authorize(text, tool="read_file", operation="read", resource="src/lib.rs")

    def sign() -> str:
        return marque.sign_proof(agent, child, tool="read_file", operation="read", resource="src/lib.rs")

    proofs = [sign() for _ in range(proof_count)]  # fresh single-use proofs, signed untimed

    def authorize_with_proof() -> marque.Decision:
        return verifier.authorize(text, tool="read_file", operation="read", resource="src/lib.rs",
                                  proof=proofs.pop())

    server = marque.KeyPair.generate()
    decision = authorize_cold()
    event = decision.to_audit_event()
    log = marque.AuditLog()

    def audit_append() -> marque.Envelope:
        return log.append(server, event)

    full = marque.AuditLog()
    for _ in range(AUDIT_LOG_ENTRIES):
        full.append(server, event)
    head = full.head
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    with os.fdopen(fd, "w") as f:
        f.write(full.to_jsonl())

    def audit_verify() -> marque.VerifyReport:
        return full.verify([server.public_key], head)

    def audit_verify_file() -> marque.VerifyReport:
        return marque.verify_audit_file(path, [server.public_key], head)

    claims = jwt_claims()
    jwt_token = marque.jwt_issue(server, claims, kid="k1")
    jwt_keys = {"k1": server.public_key}

    def jwt_issue() -> str:
        return marque.jwt_issue(server, claims, kid="k1")

    def jwt_verify() -> dict[str, object]:
        return marque.jwt_verify(jwt_token, jwt_keys, audience=AUD)

    def exchange() -> str:
        return decision.to_compact_jwt(server, issuer_name="gateway", audience=AUD, ttl_seconds=60)

    return {
        "mint (authority block)": mint,
        "delegate (third-party hop block)": delegate,
        "authorize, no cache (base64 text, 2 blocks)": authorize_cold,
        "authorize, no cache (parsed token)": authorize_parsed,
        "authorize, repeated token (verified cache)": authorize_cached,
        "proof: sign": sign,
        "authorize + proof verify (verified cache)": authorize_with_proof,
        "audit: append (sign + chain)": audit_append,
        f"audit: verify {AUDIT_LOG_ENTRIES:,}-entry log (in memory)": audit_verify,
        f"audit: verify {AUDIT_LOG_ENTRIES:,}-entry log (file, streaming)": audit_verify_file,
        "jwt: issue (EdDSA)": jwt_issue,
        "jwt: verify (EdDSA)": jwt_verify,
        "decision → compact JWT": exchange,
    }


def jwt_claims() -> dict[str, object]:
    now = int(time.time())
    return {"iss": "https://gateway.example", "sub": "agent:reviewer", "aud": AUD, "iat": now, "exp": now + 3600,
            "scope": "read_file:read", "jti": "t-1",
            "act": {"sub": "agent:reviewer", "act": {"sub": "agent:orchestrator"}}}


def pyjwt_ops() -> dict[str, Callable[[], object]]:
    if pyjwt is None:
        return {}
    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    claims = jwt_claims()
    token = pyjwt.encode(claims, private, algorithm="EdDSA", headers={"kid": "k1"})

    def issue() -> str:
        return str(pyjwt.encode(claims, private, algorithm="EdDSA", headers={"kid": "k1"}))

    def verify() -> dict[str, object]:
        return dict(pyjwt.decode(token, public, algorithms=["EdDSA"], audience=AUD))

    return {"jwt: issue (EdDSA)": issue, "jwt: verify (EdDSA)": verify}


def biscuit_ops() -> dict[str, Callable[[], object]]:
    if ba is None:
        return {}
    root, orch, agent = ba.KeyPair(), ba.KeyPair(), ba.KeyPair()
    now = int(time.time())
    authority = (
        'marque_profile(3); agent("agent:orchestrator"); agent_key({key}); principal("user:alice"); task("fix-issue-42");'
        " issued_at({iat}); expires_at({exp}); max_depth(4);"
        " check if time($time), $time <= {exp}; check if depth($depth), $depth <= 4;"
        ' right("read_file", "read", "*"); right("write_file", "write", "src/"); right("run_tests", "*", "*");'
    )
    import datetime

    iat = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc)
    exp = datetime.datetime.fromtimestamp(now + 3600, tz=datetime.timezone.utc)
    params = {"key": orch.public_key.to_bytes(), "iat": iat, "exp": exp}

    def mint() -> ba.Biscuit:
        return ba.BiscuitBuilder(authority, params).build(root.private_key)

    token = mint()
    hop = (
        'hop("agent:agent_a", {key}); check if time($time), $time <= {exp};'
        ' check if tool($tool), {tools}.contains($tool);'
        ' check if resource($resource), ($resource + "/").starts_with("src/");'
    )
    hop_params = {"key": agent.public_key.to_bytes(), "exp": exp, "tools": {"read_file"}}

    def delegate() -> ba.Biscuit:
        request = token.third_party_request()
        block = request.create_block(orch.private_key, ba.BlockBuilder(hop, hop_params))
        return token.append_third_party(orch.public_key, block)

    child = delegate()
    text = child.to_base64()
    policy = (
        'allow if tool($tool), operation($op), resource($res), right($rt, $ro, $rr), ($rt == "*" || $rt == $tool),'
        ' ($ro == "*" || $ro == $op), ($rr == "*" || ($res + "/").starts_with($rr))'
    )

    def authorizer(b: ba.Biscuit) -> int:
        now_dt = datetime.datetime.now(tz=datetime.timezone.utc)
        builder = ba.AuthorizerBuilder(
            'time({now}); tool("read_file"); operation("read"); resource("src/lib.rs"); depth(1);'
            ' actor("agent:agent_a"); actor_path("/root/agent_a");',
            {"now": now_dt},
        )
        builder.add_policy(ba.Policy(policy))
        # Same run limits as marque's defaults (biscuit-python's 1 ms time limit trips on a loaded machine).
        limits = builder.limits()
        limits.max_time = datetime.timedelta(microseconds=20_000)
        builder.set_limits(limits)
        return builder.build(b).authorize()

    def authorize_cold() -> int:
        return authorizer(ba.Biscuit.from_base64(text, root.public_key))

    def authorize_parsed() -> int:
        return authorizer(child)

    return {
        "mint (authority block)": mint,
        "delegate (third-party hop block)": delegate,
        "authorize, no cache (base64 text, 2 blocks)": authorize_cold,
        "authorize, no cache (parsed token)": authorize_parsed,
        "authorize, repeated token (verified cache)": authorize_parsed,
    }


# Rows timed by the native core on the same workload (core/examples/bench_native.rs).
NATIVE_KEYS = {
    "mint (authority block)": "mint",
    "delegate (third-party hop block)": "delegate",
    "authorize, no cache (base64 text, 2 blocks)": "authorize_cold",
    "authorize, repeated token (verified cache)": "authorize_warm",
    "proof: sign": "proof_sign",
    "authorize + proof verify (verified cache)": "authorize_proof",
    "audit: append (sign + chain)": "audit_append",
    f"audit: verify {AUDIT_LOG_ENTRIES:,}-entry log (in memory)": "audit_verify_1000",
    "jwt: issue (EdDSA)": "jwt_issue",
    "jwt: verify (EdDSA)": "jwt_verify",
}


def native_results() -> dict[str, object]:
    """The native core's medians from `MARQUE_NATIVE_BENCH` (written by bench_native --json)."""
    path = os.environ.get("MARQUE_NATIVE_BENCH")
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        return dict(json.load(f))


def threads_throughput(fn: Callable[[], object], threads: int, per_thread: int) -> float:
    """Calls per second with `threads` Python threads each making `per_thread` calls."""
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        barrier.wait()
        for _ in range(per_thread):
            fn()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    return threads * per_thread / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    args = ap.parse_args()

    m = marque_ops(args.iterations + args.warmup)
    native = native_results()
    native_ops = native.get("ops", {}) if isinstance(native.get("ops"), dict) else {}
    references = [("biscuit-python", biscuit_ops()), ("PyJWT", pyjwt_ops())]

    rows = []
    for name, fn in m.items():
        slow = name.startswith("audit: verify")
        n, w = (max(10, args.iterations // 10), 3) if slow else (args.iterations, args.warmup)
        ms = measure(fn, n, w)
        ref = next(((label, ops[name]) for label, ops in references if name in ops), None)
        rs = (ref[0], measure(ref[1], n, w)) if ref else None
        rows.append((name, ms, rs))

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"marque {marque.__version__} vs biscuit-python "
          f"{getattr(ba, '__version__', '0.4.0') if ba else 'not installed'} and PyJWT "
          f"{getattr(pyjwt, '__version__', '?') if pyjwt else 'not installed'}; Python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs"
          f"{f', load average {load[0]:.1f}' if load else ''}; {args.iterations} iterations (+{args.warmup} warm-up; "
          f"audit verification: {max(10, args.iterations // 10)}); µs per operation\n")
    print("| operation | marque median | marque p90 | native core median | marque / native | reference | "
          "reference median | reference p90 | ratio marque / reference |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|")
    for name, ms, rs in rows:
        nat = native_ops.get(NATIVE_KEYS.get(name, ""))
        ncols = f"{nat['median_us']:.1f} | {ms.median_us / nat['median_us']:.2f}x" if nat else "n/a | "
        if rs is None:
            print(f"| {name} | {ms.median_us:.1f} | {ms.p90_us:.1f} | {ncols} | n/a | | | |")
        else:
            label, st = rs
            print(f"| {name} | {ms.median_us:.1f} | {ms.p90_us:.1f} | {ncols} | {label} | {st.median_us:.1f} | "
                  f"{st.p90_us:.1f} | {ms.median_us / st.median_us:.2f}x |")
    if native_ops:
        print(f"\nNative core: the same operations timed by `core/examples/bench_native.rs` earlier in the same "
              f"`scripts/bench.sh` run (load average then: {native.get('load', '?')}).")

    # Concurrency: the binding releases the GIL while the core works, so threads run in parallel.
    print("\n| Python threads sharing one Verifier | 1 thread (calls/s) | 2 threads (calls/s) | speed-up |")
    print("|---|---:|---:|---:|")
    per = max(100, args.iterations)
    for label, key in [("authorize, no cache (base64 text, 2 blocks)", "cold"),
                       ("authorize, repeated token (verified cache)", "warm")]:
        fn = m[label]
        n = per if key == "cold" else per * 4
        threads_throughput(fn, 1, n // 10)
        one = statistics.median(threads_throughput(fn, 1, n) for _ in range(3))
        two = statistics.median(threads_throughput(fn, 2, n) for _ in range(3))
        print(f"| {label} | {one:,.0f} | {two:,.0f} | {two / one:.2f}x |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
