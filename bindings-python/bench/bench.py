"""marque (Python binding) beside biscuit-python doing the equivalent token work.

    .venv/bin/python bindings-python/bench/bench.py [--iterations N] [--warmup N]

Prints a markdown table of medians and 90th percentiles (microseconds per operation) and the
ratio marque / biscuit-python (below 1 means marque is faster). Both libraries sit on the same
Rust crate (biscuit-auth), so the difference is what each adds around it: marque checks the
hop-signer chain, revocation, its profile descriptors and request validation, and parses its
own claims; biscuit-python here does the bare Biscuit work with the same Datalog. Operations
without a biscuit-python equivalent (proofs of possession) show "n/a". Timings on a shared
machine are noisy: compare medians, and rerun before drawing conclusions.
"""

from __future__ import annotations

import argparse
import platform
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
    rights = ["read_file:read:*", "write_file:write:src/"]

    def mint() -> marque.Token:
        return marque.mint(root, agent="agent:orchestrator", agent_key=orch.public_key, principal="user:alice",
                           task="bench", rights=rights, ttl_seconds=3600)

    token = mint()

    def delegate() -> marque.Token:
        return token.delegate(orch, to="agent:agent_a", to_key=agent.public_key, tools=["read_file"],
                              operations=["read"], resource_prefix="src/")

    child = delegate()
    text = child.to_base64()
    verifier = marque.Verifier([root.public_key])

    def authorize_cold() -> marque.Decision:
        return verifier.authorize(text, tool="read_file", operation="read", resource="src/main.rs")

    def authorize_parsed() -> marque.Decision:
        return verifier.authorize(child, tool="read_file", operation="read", resource="src/main.rs")

    def sign() -> str:
        return marque.sign_proof(agent, child, tool="read_file", operation="read", resource="src/main.rs")

    proofs = [sign() for _ in range(proof_count)]  # fresh single-use proofs, signed untimed

    def authorize_with_proof() -> marque.Decision:
        return verifier.authorize(child, tool="read_file", operation="read", resource="src/main.rs",
                                  proof=proofs.pop())

    return {
        "mint (authority block)": mint,
        "delegate (third-party hop block)": delegate,
        "authorize, cold (base64 text, 2 blocks)": authorize_cold,
        "authorize, repeated parsed token": authorize_parsed,
        "proof: sign": sign,
        "authorize + proof verify": authorize_with_proof,
    }


def biscuit_ops() -> dict[str, Callable[[], object]]:
    if ba is None:
        return {}
    root, orch, agent = ba.KeyPair(), ba.KeyPair(), ba.KeyPair()
    now = int(time.time())
    authority = (
        'marque_profile(1); agent("agent:orchestrator"); agent_key({key}); principal("user:alice"); task("bench");'
        " issued_at({iat}); expires_at({exp}); max_depth(4);"
        " check if time($time), $time <= {exp}; check if depth($depth), $depth <= 4;"
        ' right("read_file", "read", "*"); right("write_file", "write", "src/");'
    )
    import datetime

    iat = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc)
    exp = datetime.datetime.fromtimestamp(now + 3600, tz=datetime.timezone.utc)
    params = {"key": orch.public_key.to_bytes(), "iat": iat, "exp": exp}

    def mint() -> ba.Biscuit:
        return ba.BiscuitBuilder(authority, params).build(root.private_key)

    token = mint()
    hop = (
        'hop(1, "agent:agent_a", "/root/agent_a", {key}); check if time($time), $time <= {exp};'
        ' check if tool($tool), {tools}.contains($tool); check if operation($op), {ops}.contains($op);'
        ' check if resource($res), $res.starts_with("src/");'
    )
    hop_params = {"key": agent.public_key.to_bytes(), "exp": exp, "tools": {"read_file"}, "ops": {"read"}}

    def delegate() -> ba.Biscuit:
        request = token.third_party_request()
        block = request.create_block(orch.private_key, ba.BlockBuilder(hop, hop_params))
        return token.append_third_party(orch.public_key, block)

    child = delegate()
    text = child.to_base64()
    policy = (
        'allow if tool($tool), operation($op), resource($res), right($rt, $ro, $rr), ($rt == "*" || $rt == $tool),'
        ' ($ro == "*" || $ro == $op), ($rr == "*" || $res.starts_with($rr))'
    )

    def authorizer(b: ba.Biscuit) -> int:
        now_dt = datetime.datetime.now(tz=datetime.timezone.utc)
        builder = ba.AuthorizerBuilder(
            'time({now}); tool("read_file"); operation("read"); resource("src/main.rs"); depth(1);'
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
        "authorize, cold (base64 text, 2 blocks)": authorize_cold,
        "authorize, repeated parsed token": authorize_parsed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    args = ap.parse_args()

    m, b = marque_ops(args.iterations + args.warmup), biscuit_ops()

    rows = []
    for name, fn in m.items():
        ms = measure(fn, args.iterations, args.warmup)
        bs = measure(b[name], args.iterations, args.warmup) if name in b else None
        rows.append((name, ms, bs))

    print(f"marque {marque.__version__} vs biscuit-python "
          f"{getattr(ba, '__version__', '0.4.0') if ba else 'not installed'}; Python {platform.python_version()}, "
          f"{platform.machine()}, {args.iterations} iterations (+{args.warmup} warm-up); µs per operation\n")
    print("| operation | marque median | marque p90 | biscuit-python median | biscuit-python p90 | ratio (median) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, ms, bs in rows:
        if bs is None:
            print(f"| {name} | {ms.median_us:.1f} | {ms.p90_us:.1f} | n/a | n/a | n/a |")
        else:
            print(f"| {name} | {ms.median_us:.1f} | {ms.p90_us:.1f} | {bs.median_us:.1f} | {bs.p90_us:.1f} | "
                  f"{ms.median_us / bs.median_us:.2f}x |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
