"""Identity rules in Python: one agent per id and name in a chain, key revocation, validated
revocation ids, the chain's key fingerprints on decisions, the resource in exchanged JWTs, the
assertion replay window — and every string entry point refusing a `str` that has no UTF-8 form
(a lone surrogate) with `InvalidArgument`, never `UnicodeEncodeError`."""

from __future__ import annotations

import ast
import json
import pathlib
import re
from typing import Any, Callable

import pytest

import marque
from conftest import NOW, build_scenario, key

STUB = pathlib.Path(__file__).resolve().parents[2] / "bindings-python" / "python" / "marque" / "_native.pyi"
BAD = "agent:\ud800"  # a lone surrogate: a valid Python str with no UTF-8 form
MSG = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
URL = "https://mcp.example.com/mcp"


# ---- one agent per id and per name in a chain ----


def test_a_child_cannot_take_an_id_or_name_of_its_chain() -> None:
    s = build_scenario()
    for to in ["agent:orchestrator", "agent:agent_a", "agent:agent_c", "team:orchestrator", "x:agent_a", "agent:root"]:
        with pytest.raises(marque.InvalidArgument):
            s.c_token.delegate(s.c, to=to, to_key=key(9).public_key, now=NOW)
    ok = s.c_token.delegate(s.c, to="agent:agent_d", to_key=key(9).public_key, now=NOW)
    assert ok.path == "/root/agent_a/agent_c/agent_d"


# ---- decisions, audit events and JWTs name the keys and the resource ----


def test_decisions_and_audit_events_carry_the_chain_key_fingerprints() -> None:
    s = build_scenario()
    d = s.verifier.authorize(s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
    fingerprints = [k.public_key.fingerprint for k in (s.orch, s.a, s.c)]
    assert d.allowed and d.chain_key_fingerprints == fingerprints
    assert d.to_dict()["chain_key_fingerprints"] == fingerprints
    assert d.to_audit_event().to_dict()["attributes"]["chain_key_fingerprints"] == fingerprints
    jwt = d.to_compact_jwt(s.root, issuer_name="gw", audience="svc", ttl_seconds=60)
    claims = marque.jwt_verify(jwt, s.root.public_key, audience="svc", now=NOW)
    assert claims["resource"] == "src/main.rs" and claims["scope"] == "read_file:read"


def test_policies_can_key_on_the_actor_key() -> None:
    s = build_scenario()
    c_hex = s.c.public_key.to_hex()
    v = marque.Verifier([s.root.public_key], policies=[("no-c", f"deny if actor_key(hex:{c_hex});")])
    d = v.authorize(s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
    assert not d.allowed and d.policy == "no-c"
    assert v.authorize(s.a_token, tool="read_file", operation="read", resource="src/x", now=NOW).allowed


# ---- revocation by key; revocation entries are validated ----


def test_a_revoked_key_is_refused_under_any_agent_id() -> None:
    s = build_scenario()
    again = s.root_token.delegate(s.orch, to="agent:fresh", to_key=s.a.public_key, now=NOW)
    v = marque.Verifier([s.root.public_key])
    v.revoke_key(s.a.public_key)
    for token in (s.a_token, s.c_token, again):
        d = v.authorize(token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
        assert d.code == "revoked" and "is revoked" in d.reasons[0], d.reasons
    assert v.revocations.keys == [s.a.public_key.to_hex()]
    assert v.authorize(s.root_token, tool="read_file", operation="read", resource="x", now=NOW).allowed
    rs = marque.RevocationSet(keys=[s.a.public_key.to_hex()])
    assert rs.revoke_key(s.c.public_key) and not rs.revoke_key(s.c.public_key.to_hex())
    assert marque.RevocationSet.from_json(rs.to_json()) == rs and len(rs) == 2


def test_malformed_revocation_entries_raise_invalid_argument() -> None:
    s = build_scenario()
    full = s.a_token.revocation_ids[1]
    v = marque.Verifier([s.root.public_key])
    for bad in ["0123abcd", full[:16], full[:-1], full + "0", "g" * 128, ""]:
        with pytest.raises(marque.InvalidArgument):
            v.revoke(bad)
        with pytest.raises(marque.InvalidArgument):
            marque.RevocationSet().revoke(bad)
        with pytest.raises(marque.InvalidArgument):
            marque.RevocationSet(ids=[bad])
    for call in [lambda: v.revoke_agent("agent:"), lambda: v.revoke_principal(""), lambda: v.revoke_task("a\nb"),
                 lambda: v.revoke_key("00ff"), lambda: marque.RevocationSet.from_json('{"ids":["0123abcd"]}')]:
        with pytest.raises(marque.MarqueError) as err:
            call()
        assert err.value.code in ("invalid_argument", "invalid_key")
    assert len(v.revocations) == 0, "nothing malformed was stored"
    v.revoke(full.upper())
    assert v.revocations.ids == [full]


# ---- agent assertions: one use per window ----


def test_an_assertion_verifier_refuses_a_replay_and_fails_closed_when_full() -> None:
    agent = key(7)
    header = marque.sign_agent_assertion(agent, "rt_1", "task", now=NOW)
    v = marque.AssertionVerifier(capacity=1)
    assert v.verify(header, agent.public_key, now=NOW).task_id == "task"
    with pytest.raises(marque.ReplayedProof):
        v.verify(header, agent.public_key, now=NOW + 1)
    with pytest.raises(marque.LimitsExceeded):
        v.verify(marque.sign_agent_assertion(agent, "rt_1", "other", now=NOW), agent.public_key, now=NOW)
    assert len(v) == 1 and v.window_seconds == 60 and v.capacity == 1
    # The stateless function remembers nothing (documented).
    for _ in range(2):
        marque.verify_agent_assertion(header, agent.public_key, now=NOW)


# ---- lone surrogates: every string entry point ----


def _stub_string_parameters() -> set[tuple[str, str]]:
    """(callable, parameter) of every public native callable whose parameter may be a str."""
    tree = ast.parse(STUB.read_text())
    out: set[tuple[str, str]] = set()

    def visit(name: str, f: ast.FunctionDef) -> None:
        for a in f.args.args + f.args.kwonlyargs:
            if a.arg in ("self", "cls") or a.annotation is None:
                continue
            text = ast.unparse(a.annotation)
            if re.search(r"\bstr\b|_TokenLike|_PublicKeyLike|_PublicKeysLike|_RightLike", text):
                out.add((name, a.arg))

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            visit(node.name, node)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            # (`_`-prefixed classes are Protocols of user objects — a signer, a replay store —
            # that marque calls, not native callables.)
            for f in node.body:
                if isinstance(f, ast.FunctionDef):
                    visit(f"{node.name}.{f.name}", f)
    return out


def _entry_points() -> dict[tuple[str, str], Callable[[], Any]]:
    """A call per (callable, parameter) with that parameter given a str holding a lone surrogate
    (in a list or dict where the parameter takes one) and every other argument valid."""
    s = build_scenario()
    v = marque.Verifier([s.root.public_key])
    d = v.authorize(s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
    event = d.to_audit_event()
    log = marque.AuditLog()
    envelope = log.append(key(9), event)
    identity = marque.AgentIdentity.from_json(
        {"workspace_id": "ws", "agent_runtime_id": "rt", "agent_private_key": "01" * 32}
    )
    rs = marque.RevocationSet()
    signed = marque.RevocationList.sign(rs, sequence=1, signer=key(50), issued_at=NOW)
    pk, kp, tok = s.c.public_key, s.c, s.c_token
    ev = dict(event_type="t", agent_id="agent:a", action="a", resource="r", decision="allow", timestamp=NOW)
    auth = dict(tool="read_file", resource="src/main.rs", operation="read", now=NOW)

    e: dict[tuple[str, str], Callable[[], Any]] = {
        ("Signer.__new__", "public_key"): lambda: marque.Signer(BAD, lambda m: b""),
        ("Signer.sign", "message"): lambda: marque.Signer(kp.public_key, kp.sign).sign(BAD),
        ("KeyPair.from_hex", "hex"): lambda: marque.KeyPair.from_hex(BAD),
        ("KeyPair.from_pem", "pem"): lambda: marque.KeyPair.from_pem(BAD),
        ("KeyPair.from_jwk", "jwk"): lambda: marque.KeyPair.from_jwk(BAD),
        ("KeyPair.sign", "message"): lambda: kp.sign(BAD),
        ("PublicKey.from_hex", "hex"): lambda: marque.PublicKey.from_hex(BAD),
        ("PublicKey.from_pem", "pem"): lambda: marque.PublicKey.from_pem(BAD),
        ("PublicKey.from_jwk", "jwk"): lambda: marque.PublicKey.from_jwk(BAD),
        ("PublicKey.from_did", "did"): lambda: marque.PublicKey.from_did(BAD),
        ("PublicKey.parse", "text"): lambda: marque.PublicKey.parse(BAD),
        ("PublicKey.verify", "message"): lambda: pk.verify(BAD, bytes(64)),
        ("Right.__new__", "tool"): lambda: marque.Right(BAD),
        ("Right.__new__", "operation"): lambda: marque.Right("t", BAD),
        ("Right.__new__", "resource"): lambda: marque.Right("t", "o", BAD),
        ("Right.parse", "text"): lambda: marque.Right.parse(BAD),
        ("Right.covers", "tool"): lambda: marque.Right("t").covers(tool=BAD, resource="r"),
        ("Right.covers", "resource"): lambda: marque.Right("t").covers(tool="t", resource=BAD),
        ("Right.covers", "operation"): lambda: marque.Right("t").covers(tool="t", resource="r", operation=BAD),
        ("Policy.__new__", "id"): lambda: marque.Policy(BAD, "allow if true;"),
        ("Policy.__new__", "source"): lambda: marque.Policy("p", BAD),
        ("Limits.from_dict", "d"): lambda: marque.Limits.from_dict({BAD: 1}),
        ("Hop.__new__", "agent"): lambda: marque.Hop(BAD, "/root", pk),
        ("Hop.__new__", "path"): lambda: marque.Hop("agent:a", BAD, pk),
        ("Hop.__new__", "key"): lambda: marque.Hop("agent:a", "/root", BAD),
        ("Token.from_base64", "text"): lambda: marque.Token.from_base64(BAD),
        ("Token.delegate", "to"): lambda: tok.delegate(kp, to=BAD, to_key=pk, now=NOW),
        ("Token.delegate", "to_key"): lambda: tok.delegate(kp, to="agent:x", to_key=BAD, now=NOW),
        ("Token.delegate", "tools"): lambda: tok.delegate(kp, to="agent:x", to_key=pk, tools=[BAD], now=NOW),
        ("Token.delegate", "operations"): lambda: tok.delegate(kp, to="agent:x", to_key=pk, operations=BAD, now=NOW),
        ("Token.delegate", "resource_prefix"): lambda: tok.delegate(kp, to="agent:x", to_key=pk, resource_prefix=BAD),
        ("Token.delegate", "require_approval"): lambda: tok.delegate(kp, to="agent:x", to_key=pk, require_approval=[BAD]),
        ("Token.sign_proof", "tool"): lambda: tok.sign_proof(kp, tool=BAD, resource="r"),
        ("Token.sign_proof", "resource"): lambda: tok.sign_proof(kp, tool="t", resource=BAD),
        ("Token.sign_proof", "operation"): lambda: tok.sign_proof(kp, tool="t", resource="r", operation=BAD),
        ("Token.sign_proof", "audience"): lambda: tok.sign_proof(kp, tool="t", resource="r", audience=BAD),
        ("RevocationSet.__new__", "ids"): lambda: marque.RevocationSet(ids=[BAD]),
        ("RevocationSet.__new__", "agents"): lambda: marque.RevocationSet(agents=[BAD]),
        ("RevocationSet.__new__", "principals"): lambda: marque.RevocationSet(principals=[BAD]),
        ("RevocationSet.__new__", "tasks"): lambda: marque.RevocationSet(tasks=[BAD]),
        ("RevocationSet.__new__", "keys"): lambda: marque.RevocationSet(keys=[BAD]),
        ("RevocationSet.revoke", "revocation_id"): lambda: marque.RevocationSet().revoke(BAD),
        ("RevocationSet.revoke_agent", "agent_id"): lambda: marque.RevocationSet().revoke_agent(BAD),
        ("RevocationSet.revoke_key", "key"): lambda: marque.RevocationSet().revoke_key(BAD),
        ("RevocationSet.revoke_principal", "principal"): lambda: marque.RevocationSet().revoke_principal(BAD),
        ("RevocationSet.revoke_task", "task"): lambda: marque.RevocationSet().revoke_task(BAD),
        ("RevocationSet.from_json", "json"): lambda: marque.RevocationSet.from_json(BAD),
        ("RevocationList.from_json", "json"): lambda: marque.RevocationList.from_json(BAD),
        ("RevocationList.check_issuer", "trusted_keys"): lambda: signed.check_issuer(BAD),
        ("Decision.to_compact_jwt", "issuer_name"): lambda: d.to_compact_jwt(kp, issuer_name=BAD, audience="a", ttl_seconds=1),
        ("Decision.to_compact_jwt", "audience"): lambda: d.to_compact_jwt(kp, issuer_name="i", audience=BAD, ttl_seconds=1),
        ("Decision.from_json", "json"): lambda: marque.Decision.from_json(BAD),
        ("Verifier.__new__", "root_keys"): lambda: marque.Verifier([BAD]),
        ("Verifier.__new__", "policies"): lambda: marque.Verifier([pk], policies=[(BAD, "allow if true;")]),
        ("Verifier.__new__", "operator_keys"): lambda: marque.Verifier([pk], operator_keys=[BAD]),
        ("Verifier.__new__", "approvers"): lambda: marque.Verifier([pk], approvers={BAD: pk}),
        ("Verifier.__new__", "approval_rules"): lambda: marque.Verifier([pk], approval_rules=[BAD]),
        ("Verifier.from_jwks", "approvers"): lambda: marque.Verifier.from_jwks(marque.to_jwks([pk]), approvers={"user:a": BAD}),
        ("Verifier.from_jwks", "approval_rules"): lambda: marque.Verifier.from_jwks(marque.to_jwks([pk]), approval_rules=[BAD]),
        ("Verifier.__new__", "roles"): lambda: marque.Verifier([pk], roles={"agent:a": BAD}),
        ("Verifier.from_jwks", "roles"): lambda: marque.Verifier.from_jwks(marque.to_jwks([pk]), roles={BAD: "deployer"}),
        ("Verifier.__new__", "rego"): lambda: marque.Verifier([pk], rego=[{"name": "p", "source": BAD}]),
        ("Verifier.authorize", "approval"): lambda: v.authorize(tok, **auth, approval=BAD),
        ("Verifier.authorize_or_raise", "approval"): lambda: v.authorize_or_raise(tok, **auth, approval=BAD),
        ("approve", "approver"): lambda: marque.approve(kp, approver=BAD, digest="A" * 43),
        ("approve", "digest"): lambda: marque.approve(kp, approver="user:a", digest=BAD),
        ("RevocationFeedState.__new__", "url"): lambda: marque.RevocationFeedState(BAD),
        ("RevocationFeedState.apply", "etag"): lambda: marque.RevocationFeedState("https://x.example/r").apply(v, 200, BAD, b"{}"),
        ("RevocationFeedState.failed", "why"): lambda: marque.RevocationFeedState("https://x.example/r").failed(BAD),
        ("RevocationFeedState.use_state_file", "path"): lambda: marque.RevocationFeedState("https://x.example/r").use_state_file(BAD, v),
        ("request_digest", "token"): lambda: marque.request_digest(BAD, tool="t", resource="r"),
        ("request_digest", "tool"): lambda: marque.request_digest(tok, tool=BAD, resource="r"),
        ("request_digest", "resource"): lambda: marque.request_digest(tok, tool="t", resource=BAD),
        ("request_digest", "operation"): lambda: marque.request_digest(tok, tool="t", resource="r", operation=BAD),
        ("request_digest", "attributes"): lambda: marque.request_digest(tok, tool="t", resource="r", attributes={BAD: "v"}),
        ("Verifier.__new__", "audience"): lambda: marque.Verifier([pk], audience=BAD),
        ("Verifier.from_jwks", "audience"): lambda: marque.Verifier.from_jwks(marque.to_jwks([pk]), audience=BAD),
        ("Verifier.from_jwks", "jwks"): lambda: marque.Verifier.from_jwks(BAD),
        ("Verifier.from_jwks", "policies"): lambda: marque.Verifier.from_jwks(
            marque.to_jwks([pk]), policies=[("p", BAD)]),
        ("Verifier.from_jwks", "operator_keys"): lambda: marque.Verifier.from_jwks(marque.to_jwks([pk]), operator_keys=BAD),
        ("Verifier.set_root_keys_from_jwks", "jwks"): lambda: v.set_root_keys_from_jwks(BAD),
        ("Verifier.add_operator_key", "key"): lambda: v.add_operator_key(BAD),
        ("Verifier.load_revocation_list", "revocation_list"): lambda: v.load_revocation_list(BAD),
        ("Verifier.authorize", "token"): lambda: v.authorize(BAD, **auth),
        ("Verifier.authorize", "tool"): lambda: v.authorize(tok, **{**auth, "tool": BAD}),
        ("Verifier.authorize", "resource"): lambda: v.authorize(tok, **{**auth, "resource": BAD}),
        ("Verifier.authorize", "operation"): lambda: v.authorize(tok, **{**auth, "operation": BAD}),
        ("Verifier.authorize", "proof"): lambda: v.authorize(tok, **auth, proof=BAD),
        ("Verifier.authorize", "attributes"): lambda: v.authorize(tok, **auth, attributes={"k": BAD}),
        ("Verifier.authorize_async", "token"): lambda: v.authorize_async(BAD, **auth),
        ("Verifier.authorize_async", "tool"): lambda: v.authorize_async(tok, **{**auth, "tool": BAD}),
        ("Verifier.authorize_async", "resource"): lambda: v.authorize_async(tok, **{**auth, "resource": BAD}),
        ("Verifier.authorize_async", "operation"): lambda: v.authorize_async(tok, **{**auth, "operation": BAD}),
        ("Verifier.authorize_async", "proof"): lambda: v.authorize_async(tok, **auth, proof=BAD),
        ("Verifier.authorize_async", "attributes"): lambda: v.authorize_async(tok, **auth, attributes={BAD: "v"}),
        ("Verifier.authorize_async", "approval"): lambda: v.authorize_async(tok, **auth, approval=BAD),
        ("Verifier.authorize_or_raise", "token"): lambda: v.authorize_or_raise(BAD, **auth),
        ("Verifier.authorize_or_raise", "tool"): lambda: v.authorize_or_raise(tok, **{**auth, "tool": BAD}),
        ("Verifier.authorize_or_raise", "resource"): lambda: v.authorize_or_raise(tok, **{**auth, "resource": BAD}),
        ("Verifier.authorize_or_raise", "operation"): lambda: v.authorize_or_raise(tok, **{**auth, "operation": BAD}),
        ("Verifier.authorize_or_raise", "proof"): lambda: v.authorize_or_raise(tok, **auth, proof=BAD),
        ("Verifier.authorize_or_raise", "attributes"): lambda: v.authorize_or_raise(tok, **auth, attributes={BAD: "v"}),
        ("Verifier.verify", "token"): lambda: v.verify(BAD),
        ("Verifier.revoke", "revocation_id"): lambda: v.revoke(BAD),
        ("Verifier.revoke_agent", "agent_id"): lambda: v.revoke_agent(BAD),
        ("Verifier.revoke_key", "key"): lambda: v.revoke_key(BAD),
        ("Verifier.revoke_principal", "principal"): lambda: v.revoke_principal(BAD),
        ("Verifier.revoke_task", "task"): lambda: v.revoke_task(BAD),
        ("Verifier.revocation_reason", "token"): lambda: v.revocation_reason(BAD),
        ("Verifier.add_policy", "id"): lambda: v.add_policy(BAD, "allow if true;"),
        ("Verifier.add_policy", "source"): lambda: v.add_policy("p", BAD),
        ("parse_jwks", "jwks"): lambda: marque.parse_jwks(BAD),
        ("to_jwks", "keys"): lambda: marque.to_jwks({1: BAD}),
        ("mint", "agent"): lambda: marque.mint(s.root, agent=BAD, agent_key=pk, principal="u"),
        ("mint", "agent_key"): lambda: marque.mint(s.root, agent="agent:a", agent_key=BAD, principal="u"),
        ("mint", "principal"): lambda: marque.mint(s.root, agent="agent:a", agent_key=pk, principal=BAD),
        ("mint", "task"): lambda: marque.mint(s.root, agent="agent:a", agent_key=pk, principal="u", task=BAD),
        ("mint", "workspace"): lambda: marque.mint(s.root, agent="agent:a", agent_key=pk, principal="u", workspace=BAD),
        ("mint", "rights"): lambda: marque.mint(s.root, agent="agent:a", agent_key=pk, principal="u", rights=[BAD]),
        ("mint", "audience"): lambda: marque.mint(s.root, agent="agent:a", agent_key=pk, principal="u", audience=BAD),
        ("sign_proof", "token"): lambda: marque.sign_proof(kp, BAD, tool="t", resource="r"),
        ("sign_proof", "tool"): lambda: marque.sign_proof(kp, tok, tool=BAD, resource="r"),
        ("sign_proof", "resource"): lambda: marque.sign_proof(kp, tok, tool="t", resource=BAD),
        ("sign_proof", "operation"): lambda: marque.sign_proof(kp, tok, tool="t", resource="r", operation=BAD),
        ("sign_proof", "audience"): lambda: marque.sign_proof(kp, tok, tool="t", resource="r", audience=BAD),
        ("Envelope.sign", "prev"): lambda: marque.Envelope.sign(kp, event, 0, BAD),
        ("Envelope.sign", "event"): lambda: marque.Envelope.sign(kp, {**ev, "agent_id": BAD}, 0),
        ("Envelope.from_json", "json"): lambda: marque.Envelope.from_json(BAD),
        ("Envelope.verify", "trusted_keys"): lambda: envelope.verify(BAD),
        ("AuditLog.from_jsonl", "text"): lambda: marque.AuditLog.from_jsonl(BAD),
        ("AuditLog.append", "event"): lambda: marque.AuditLog().append(kp, {**ev, "action": BAD}),
        ("AuditLog.verify", "trusted_keys"): lambda: log.verify(BAD),
        ("AuditLog.verify", "expected_head"): lambda: log.verify(pk, BAD),
        ("AuditEvent.from_dict", "d"): lambda: marque.AuditEvent.from_dict({**ev, "resource": BAD}),
        ("AuditEvent.from_json", "json"): lambda: marque.AuditEvent.from_json(BAD),
        ("verify_audit_file", "path"): lambda: marque.verify_audit_file(BAD, pk),
        ("AuditFile.__new__", "path"): lambda: marque.AuditFile(BAD, pk),
        ("AuditFile.__new__", "trusted_keys"): lambda: marque.AuditFile("/nonexistent/audit.jsonl", BAD),
        ("verify_audit_file", "trusted_keys"): lambda: marque.verify_audit_file("/nonexistent", BAD),
        ("verify_audit_file", "expected_head"): lambda: marque.verify_audit_file("/nonexistent", pk, BAD),
        ("jcs_canonicalize", "value"): lambda: marque.jcs_canonicalize({"k": BAD}),
        ("jcs_canonicalize_str", "json"): lambda: marque.jcs_canonicalize_str(BAD),
        ("jwt_issue", "claims"): lambda: marque.jwt_issue(kp, {"exp": NOW, "sub": BAD}),
        ("jwt_issue", "kid"): lambda: marque.jwt_issue(kp, {"exp": NOW}, BAD),
        ("jwt_verify", "token"): lambda: marque.jwt_verify(BAD, pk),
        ("jwt_verify", "keys"): lambda: marque.jwt_verify("a.b.c", {BAD: pk}),
        ("jwt_verify", "audience"): lambda: marque.jwt_verify("a.b.c", pk, audience=BAD),
        ("jwt_verify", "issuer"): lambda: marque.jwt_verify("a.b.c", pk, issuer=BAD),
        ("jwt_verify", "required_claims"): lambda: marque.jwt_verify("a.b.c", pk, required_claims=[BAD]),
        ("jwt_decode", "token"): lambda: marque.jwt_decode(BAD),
        ("chain_to_act", "chain"): lambda: marque.chain_to_act([BAD]),
        ("act_to_chain", "act"): lambda: marque.act_to_chain(BAD),
        ("jwk_thumbprint", "key"): lambda: marque.jwk_thumbprint(BAD),
        ("AgentIdentity.parse", "text"): lambda: marque.AgentIdentity.parse(BAD),
        ("AgentIdentity.parse", "trusted_key"): lambda: marque.AgentIdentity.parse("x.y.z", BAD),
        ("AgentIdentity.from_json", "record"): lambda: marque.AgentIdentity.from_json(BAD),
        ("AgentIdentity.from_jwt", "token"): lambda: marque.AgentIdentity.from_jwt(BAD),
        ("AgentIdentity.from_jwt", "trusted_key"): lambda: marque.AgentIdentity.from_jwt("x.y.z", BAD),
        ("AgentIdentity.from_file", "path"): lambda: marque.AgentIdentity.from_file(BAD),
        ("AgentIdentity.from_file", "trusted_key"): lambda: marque.AgentIdentity.from_file("/nonexistent", BAD),
        ("AgentIdentity.from_env", "trusted_key"): lambda: marque.AgentIdentity.from_env(BAD),
        ("AgentIdentity.sign_assertion", "task_id"): lambda: identity.sign_assertion(BAD, NOW),
        ("AssertionVerifier.verify", "header"): lambda: marque.AssertionVerifier().verify(BAD, pk),
        ("AssertionVerifier.verify", "key"): lambda: marque.AssertionVerifier().verify("AgentAssertion x", BAD),
        ("verify_agent_assertion", "header"): lambda: marque.verify_agent_assertion(BAD, pk),
        ("verify_agent_assertion", "key"): lambda: marque.verify_agent_assertion("AgentAssertion x", BAD),
        ("sign_agent_assertion", "agent_runtime_id"): lambda: marque.sign_agent_assertion(kp, BAD, "t"),
        ("sign_agent_assertion", "task_id"): lambda: marque.sign_agent_assertion(kp, "rt", BAD),
        ("AuditEvent.__new__", "usage"): lambda: marque.AuditEvent(**ev, usage={"model": BAD}),
        ("AuditEvent.__new__", "approval"): lambda: marque.AuditEvent(**ev, approval={"by": BAD}),
        ("AuditEvent.__new__", "attributes"): lambda: marque.AuditEvent(**ev, attributes={BAD: 1}),
        ("AuditEvent.__new__", "chain"): lambda: marque.AuditEvent(**ev, chain=[BAD]),
        ("McpConfig.__new__", "config"): lambda: marque.McpConfig(BAD),
        ("McpConfig.is_allowed", "method"): lambda: marque.McpConfig().is_allowed(BAD),
        ("McpConfig.map", "message"): lambda: marque.McpConfig().map(BAD),
        ("McpConfig.client_headers", "message"): lambda: marque.McpConfig().client_headers(BAD, tok, s.root),
        ("McpConfig.client_headers", "token"): lambda: marque.McpConfig().client_headers(MSG, BAD, s.root),
        ("McpConfig.map", "token"): lambda: marque.McpConfig().map(MSG, token=BAD),
        ("McpConfig.map", "proof"): lambda: marque.McpConfig().map(MSG, proof=BAD),
        ("McpConfig.map", "mcp_method"): lambda: marque.McpConfig().map(MSG, mcp_method=BAD),
        ("McpConfig.map", "mcp_name"): lambda: marque.McpConfig().map(MSG, mcp_name=BAD),
        ("McpConfig.map", "resource"): lambda: marque.McpConfig().map(MSG, resource=BAD),
        ("Verifier.admit", "token"): lambda: v.admit(BAD),
        ("Verifier.authorize_mcp", "message"): lambda: v.authorize_mcp(BAD),
        ("Verifier.authorize_mcp", "token"): lambda: v.authorize_mcp(MSG, token=BAD),
        ("Verifier.authorize_mcp", "proof"): lambda: v.authorize_mcp(MSG, proof=BAD),
        ("Verifier.authorize_mcp", "mcp_method"): lambda: v.authorize_mcp(MSG, mcp_method=BAD),
        ("Verifier.authorize_mcp", "mcp_name"): lambda: v.authorize_mcp(MSG, mcp_name=BAD),
        ("Verifier.authorize_mcp", "resource"): lambda: v.authorize_mcp(MSG, resource=BAD),
        ("bearer_token", "authorization"): lambda: marque._native.bearer_token(BAD),
        ("http_refusal", "code"): lambda: marque._native.http_refusal(BAD),
        ("resource_metadata_url", "resource"): lambda: marque._native.resource_metadata_url(BAD),
        ("www_authenticate", "realm"): lambda: marque._native.www_authenticate(realm=BAD),
        ("www_authenticate", "error_description"): lambda: marque._native.www_authenticate(error_description=BAD),
        ("www_authenticate", "scope"): lambda: marque._native.www_authenticate(scope=[BAD]),
        ("www_authenticate", "resource_metadata"): lambda: marque._native.www_authenticate(resource_metadata=BAD),
        ("protected_resource_metadata", "resource"): lambda: marque._native.protected_resource_metadata(BAD),
        ("protected_resource_metadata", "root_keys"): lambda: marque._native.protected_resource_metadata(URL, root_keys=[BAD]),
        ("protected_resource_metadata", "authorization_servers"): lambda: marque._native.protected_resource_metadata(
            URL, authorization_servers=[BAD]),
        ("protected_resource_metadata", "scopes_supported"): lambda: marque._native.protected_resource_metadata(
            URL, scopes_supported=[BAD]),
        ("protected_resource_metadata", "resource_name"): lambda: marque._native.protected_resource_metadata(URL, resource_name=BAD),
        ("protected_resource_metadata", "resource_documentation"): lambda: marque._native.protected_resource_metadata(
            URL, resource_documentation=BAD),
    }
    for name in ["event_type", "agent_id", "action", "resource", "decision", "agent_key_fingerprint", "principal",
                 "task", "operation", "policy_id", "policy_version", "token_id"]:
        e[("AuditEvent.__new__", name)] = lambda name=name: marque.AuditEvent(**{**ev, name: BAD})
    return e


def test_every_string_parameter_of_the_api_is_walked() -> None:
    missing = _stub_string_parameters() - set(_entry_points())
    assert not missing, f"string parameters without a lone-surrogate case: {sorted(missing)}"


@pytest.mark.parametrize("entry", sorted(_entry_points()), ids=lambda e: f"{e[0]}({e[1]})")
def test_a_lone_surrogate_is_invalid_argument(entry: tuple[str, str]) -> None:
    call = _entry_points()[entry]
    with pytest.raises(marque.MarqueError) as err:
        call()
    assert isinstance(err.value, marque.InvalidArgument), f"{type(err.value).__name__}: {err.value}"
    assert json.dumps(str(err.value))  # the message itself is printable text
