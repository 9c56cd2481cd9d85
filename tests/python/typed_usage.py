"""A user script type-checked with ``mypy --strict`` by test_typing.py: the stubs must make
ordinary marque code type-check without casts or ignores."""

from __future__ import annotations

import pickle

import marque
from marque import Decision, KeyPair, MarqueError, PublicKey, Token, Verifier


def build() -> tuple[Verifier, Token, KeyPair]:
    root: KeyPair = KeyPair.generate()
    orch = KeyPair.from_seed(b"\x02" * 32)
    child = KeyPair.from_hex("03" * 32)
    token: Token = marque.mint(
        root,
        agent="agent:orchestrator",
        agent_key=orch.public_key,
        principal="user:alice",
        task="fix-issue-42",
        rights=["read_file:read:*", {"tool": "write_file", "resource": "src/"}, marque.Right("run_tests")],
        ttl_seconds=600.0,
    )
    sub: Token = token.delegate(
        orch, to="agent:agent_a", to_key=child.public_key.to_hex(), tools=["read_file"], resource_prefix="src/"
    )
    verifier = Verifier(
        [root.public_key],
        policies=[marque.Policy("no-prod", 'deny if attribute("env", "prod")'), ("p2", 'deny if tool("deploy")')],
        limits=marque.Limits(proof_window_seconds=30),
        revocations=marque.RevocationSet(agents=["agent:ghost"]),
    )
    return verifier, sub, child


def decide(verifier: Verifier, token: Token | str | bytes, key: KeyPair) -> Decision:
    proof: str = marque.sign_proof(key, token, tool="read_file", operation="read", resource="src/a.py")
    decision = verifier.authorize(
        token, tool="read_file", operation="read", resource="src/a.py", proof=proof, attributes={"env": "dev"}
    )
    if not decision.allowed:
        reasons: list[str] = decision.reasons
        code: marque.ErrorCode | None = decision.code
        print(code, reasons)
    return decision


def main() -> None:
    verifier, token, key = build()
    d = decide(verifier, token, key)
    as_dict: dict[str, object] = d.to_dict()
    print(d.to_json(), as_dict["agent"], d.chain, d.path, d.policy, d.proof_verified)
    hops: list[marque.Hop] = token.chain
    paths = [h.path for h in hops]
    keys: list[PublicKey] = [h.key for h in hops]
    fp: str = keys[-1].fingerprint
    print(paths, fp, token.revocation_ids, token.to_datalog()[:20], repr(token))
    verifier.revoke(token.revocation_ids[-1])
    verifier.revoke_agent("agent:agent_a")
    try:
        verifier.authorize_or_raise(token.to_base64(), tool="read_file", resource="src/a.py", now=None)
    except marque.Revoked as e:
        print("revoked:", e.code, e.message)
    except MarqueError as e:
        code: marque.ErrorCode = e.code
        assert code in marque.ERROR_CODES
    again: Token = pickle.loads(pickle.dumps(token))
    assert again == token and hash(again) == hash(token)
    jwk = key.public_key.to_jwk()
    assert PublicKey.from_jwk(jwk) == key.public_key

    @marque.requires(verifier, tool="read_file", operation="read", resource=lambda path: path)
    def read_file(path: str) -> str:
        return path.upper()

    with marque.call_context(token=token, proof=None):
        try:
            text: str = read_file("src/a.py")
            print(text)
        except MarqueError as e:
            print("denied:", e.code)


if __name__ == "__main__":
    main()
