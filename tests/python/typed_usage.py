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
        limits=marque.Limits(proof_window_seconds=30, verified_cache_capacity=16),
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


def audit_and_jwt(verifier: Verifier, token: Token, key: KeyPair) -> None:
    server = KeyPair.generate()
    log = marque.AuditLog()
    decision = verifier.authorize(token, tool="read_file", operation="read", resource="src/a.py")
    env: marque.Envelope = log.append(server, decision.to_audit_event())
    log.append(server, {"event_type": "tool_call", "agent_id": "agent:a", "action": "t", "resource": "r",
                        "decision": "deny", "principal": "u", "policy_id": "p", "agent_key_fingerprint": "",
                        "timestamp": 1_700_000_000})
    event = marque.AuditEvent(event_type="tool_call", agent_id="agent:a", action="t", resource="r",
                              decision="allow", attributes={"mcp.session.id": "s"})
    log.append(server, event)
    seq: int = env.seq
    body: dict[str, object] = env.event
    otel: dict[str, object] = event.otel_attributes()
    report: marque.VerifyReport = log.verify([server.public_key], expected_head=None)
    head: str = report.head
    if report.problem is not None:
        kind: marque.ProblemKind = report.problem.kind
        print(kind, report.problem.index, report.problem.message)
    report.into_result()
    again = marque.AuditLog.from_jsonl(log.to_jsonl())
    assert again.verify(server.public_key, head).ok
    canonical: str = marque.Envelope.from_json(env.to_json()).to_json()
    print(seq, body["decision"], otel["gen_ai.agent.id"], canonical[:10], marque.jcs_canonicalize({"b": 1, "a": [1.5]}))
    try:
        report = marque.verify_audit_file("/nonexistent/audit.jsonl", [server.public_key])
    except marque.InvalidArgument as e:
        print("no file:", e.code)

    claims: dict[str, object] = {"sub": "agent:a", "aud": "https://tools.example", "exp": 4_000_000_000,
                                 "act": marque.chain_to_act(decision.chain)}
    jwt: str = marque.jwt_issue(server, claims, kid="k1")
    got: dict[str, object] = marque.jwt_verify(jwt, {"k1": server.public_key}, audience="https://tools.example",
                                               leeway_seconds=30)
    print(got["sub"], marque.jwt_decode(jwt)["header"]["kid"])
    if decision.allowed:
        compact = decision.to_compact_jwt(server, issuer_name="gw", audience="https://tools.example", ttl_seconds=60)
        verified = marque.jwt_verify(compact, server.public_key, audience="https://tools.example")
        chain: list[str] = marque.act_to_chain(verified["act"])
        print(chain)
    try:
        marque.jwt_verify("eyJhbGciOiJub25lIn0.eyJleHAiOjJ9.", server.public_key)
    except marque.InvalidJwt as e:
        print("refused:", e.code)
    ident = marque.AgentIdentity.from_json({"workspace_id": "ws", "agent_runtime_id": "rt", "agent_private_key": key.to_hex()})
    header: str = ident.sign_assertion("task")
    assertion: marque.AgentAssertion = marque.verify_agent_assertion(header, ident.public_key, window_seconds=60)
    print(ident, assertion.agent_id, verifier.revocation_reason(token), verifier.verified_cache_len())

    @marque.requires(verifier, tool="read_file", operation="read", resource="src/a.py", audit_log=log,
                     audit_signer=server)
    def read() -> str:
        return "ok"

    with marque.call_context(token=token):
        try:
            read()
        except MarqueError as e:
            print("denied:", e.code)


class Kms:
    """A signer of one's own: the secret stays behind ``sign``."""

    def __init__(self) -> None:
        self._hidden = KeyPair.generate()

    @property
    def public_key(self) -> PublicKey:
        return self._hidden.public_key

    def sign(self, message: bytes) -> bytes:
        return self._hidden.sign(message)


def keys_in_operations() -> None:
    kms = Kms()
    root: marque.SignerLike = kms
    operator = marque.Signer(KeyPair.generate().public_key, KeyPair.generate().sign)
    agent = KeyPair.generate()
    token = marque.mint(root, agent="agent:a", agent_key=agent.public_key, principal="u", rights=["read_file:read:*"])
    proof: str = token.sign_proof(marque.Signer(agent.public_key, agent.sign), tool="read_file", resource="x")
    pairs: list[tuple[int, PublicKey]] = marque.parse_jwks(marque.to_jwks([root.public_key]))
    doc: str = marque.to_jwks({kid: key for kid, key in pairs})
    verifier = Verifier.from_jwks(doc, operator_keys=[operator.public_key], max_revocation_staleness=600.0)
    verifier.set_root_keys_from_jwks({"keys": [kms.public_key.to_jwk()]})
    try:
        marque.RevocationList.sign(marque.RevocationSet(agents=["agent:x"]), sequence=1, signer=operator)
    except marque.SignerFailed as e:  # the operator's function signs with another key
        print("refused:", e.code, type(e.__cause__))
    listed = marque.RevocationList.sign(marque.RevocationSet(), sequence=2, signer=Kms(), issued_at=None)
    try:
        loaded: bool = verifier.load_revocation_list(listed.to_json(), now=None)
        print(loaded)
    except (marque.RevocationListInvalid, marque.RevocationListRollbackError) as e:
        print("not loaded:", e.code)
    current: marque.RevocationList | None = verifier.revocation_list
    staleness: int | None = verifier.max_revocation_staleness
    try:
        verifier.authorize(token, tool="read_file", operation="read", resource="x", proof=proof)
    except marque.RevocationListStale as e:
        print("fail closed:", e.code, current, staleness, listed.sequence, listed.issuer.fingerprint)


def main() -> None:
    keys_in_operations()
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
    audit_and_jwt(verifier, token, key)


if __name__ == "__main__":
    main()
