"""Verifier.authorize / Decision / proofs / revocation / policies / limits."""

from __future__ import annotations

import json
import pickle

import pytest

import marque
from conftest import NOW, Scenario, key


def read(v: marque.Verifier, token: object, resource: str, **kw: object) -> marque.Decision:
    return v.authorize(token, tool="read_file", operation="read", resource=resource, now=NOW, **kw)  # type: ignore[arg-type]


def test_seed_scenario_decisions(s: Scenario) -> None:
    v = s.verifier
    ok = read(v, s.c_token, "src/main.rs")
    assert ok.allowed and bool(ok) and ok.code is None
    assert ok.agent == "agent:agent_c"
    assert ok.path == "/root/agent_a/agent_c"
    assert ok.chain == ["agent:orchestrator", "agent:agent_a", "agent:agent_c"]
    assert ok.principal == "user:alice" and ok.task == "fix-issue-42" and ok.workspace == "acme/web"
    assert ok.policy == marque.RIGHTS_POLICY_ID == "marque:rights"
    assert ok.reasons == []
    assert ok.revocation_ids == s.c_token.revocation_ids and ok.token_id == s.c_token.revocation_ids[-1]
    assert ok.agent_key_fingerprint == s.c.fingerprint
    assert (ok.tool, ok.operation, ok.resource, ok.time, ok.expires_at) == (
        "read_file", "read", "src/main.rs", NOW, NOW + 3600,
    )
    assert not ok.proof_verified

    no = read(v, s.c_token, "src/lib.rs")
    assert not no.allowed and not bool(no) and no.code == "not_authorized"
    assert no.reasons == ['delegation 2 (agent:agent_a → agent:agent_c): check if resource($resource), ($resource + "/").starts_with("src/main.rs/")']

    # agent_a: read-only, src/ only.
    assert read(v, s.a_token, "src/lib.rs").allowed
    assert not read(v, s.a_token, "README.md").allowed
    w = v.authorize(s.a_token, tool="write_file", operation="write", resource="src/lib.rs", now=NOW)
    assert not w.allowed and w.code == "not_authorized"
    assert any("read_file" in r for r in w.reasons)
    # The orchestrator keeps its own rights.
    assert v.authorize(s.root_token, tool="write_file", operation="write", resource="src/x", now=NOW).allowed
    assert not v.authorize(s.root_token, tool="write_file", operation="write", resource="docs/x", now=NOW).allowed
    assert v.authorize(s.root_token, tool="run_tests", resource="anything", now=NOW).allowed


def test_token_forms_give_identical_decisions(s: Scenario) -> None:
    forms = [s.c_token, s.c_token.to_base64(), s.c_token.to_base64().rstrip("="), s.c_token.to_bytes(),
             bytearray(s.c_token.to_bytes()), memoryview(s.c_token.to_bytes())]
    decisions = [read(s.verifier, f, "src/main.rs").to_json() for f in forms]
    assert len(set(decisions)) == 1


def test_decision_serialization(s: Scenario) -> None:
    d = read(s.verifier, s.c_token, "src/lib.rs")
    as_dict = d.to_dict()
    assert json.loads(d.to_json()) == as_dict
    assert as_dict["allowed"] is False and as_dict["code"] == "not_authorized"
    assert as_dict["request"] == {"tool": "read_file", "operation": "read", "resource": "src/lib.rs"}
    assert set(as_dict) == {
        "allowed", "code", "agent", "path", "agent_key_fingerprint", "agent_key", "principal", "task", "workspace",
        "chain", "chain_key_fingerprints", "policy", "reasons", "revocation_ids", "request", "time", "expires_at",
        "proof_verified",
    }
    assert d.agent_key == s.c.public_key and as_dict["agent_key"] == s.c.public_key.to_hex()
    assert marque.Decision.from_json(d.to_json()) == d
    assert pickle.loads(pickle.dumps(d)) == d
    assert d != read(s.verifier, s.c_token, "src/main.rs")
    assert repr(d) == (
        "Decision(allowed=False, code='not_authorized', agent='agent:agent_c', path='/root/agent_a/agent_c', "
        "tool='read_file', operation='read', resource='src/lib.rs', policy='marque:rights')"
    )
    with pytest.raises(marque.InvalidArgument):
        marque.Decision.from_json("{}")


def test_into_result_and_authorize_or_raise(s: Scenario) -> None:
    ok = read(s.verifier, s.c_token, "src/main.rs")
    assert ok.into_result() is ok
    with pytest.raises(marque.NotAuthorized) as e:
        read(s.verifier, s.c_token, "src/lib.rs").into_result()
    assert e.value.code == "not_authorized" and "starts_with" in e.value.message
    assert s.verifier.authorize_or_raise(s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW).allowed
    with pytest.raises(marque.NotAuthorized):
        s.verifier.authorize_or_raise(s.c_token, tool="read_file", operation="read", resource="src/lib.rs", now=NOW)
    with pytest.raises(marque.Expired):
        s.verifier.authorize_or_raise(s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW + 3601)


def test_expiry(s: Scenario) -> None:
    assert read(s.verifier, s.c_token, "src/main.rs", ).allowed
    late = s.verifier.authorize(s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW + 3601)
    assert not late.allowed and late.code == "expired"
    short = s.a_token.delegate(s.a, to="agent:tmp", to_key=key(9), ttl_seconds=10, now=NOW)
    assert read(s.verifier, short, "src/x", ).allowed
    assert s.verifier.authorize(short, tool="read_file", operation="read", resource="src/x", now=NOW + 11).code == "expired"


class TestProofs:
    def test_valid_proof(self, s: Scenario) -> None:
        p = marque.sign_proof(s.c, s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
        d = read(s.verifier, s.c_token, "src/main.rs", proof=p)
        assert d.allowed and d.proof_verified
        # The method form is the same thing.
        p2 = s.c_token.sign_proof(s.c, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
        assert p2 != p  # fresh nonce
        assert read(s.verifier, s.c_token.to_base64(), "src/main.rs", proof=p2).proof_verified

    def test_replay_is_denied(self, s: Scenario) -> None:
        p = marque.sign_proof(s.c, s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
        assert read(s.verifier, s.c_token, "src/main.rs", proof=p).allowed
        again = read(s.verifier, s.c_token, "src/main.rs", proof=p)
        assert not again.allowed and again.code == "replayed_proof"
        with pytest.raises(marque.ReplayedProof):
            again.into_result()

    def test_proof_binds_request_token_key_and_time(self, s: Scenario) -> None:
        p = marque.sign_proof(s.c, s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
        other_res = read(s.verifier, s.c_token, "src/main.rsx", proof=p)
        assert other_res.code == "invalid_proof"  # the proof is checked before any Datalog
        assert read(s.verifier, s.c_token, "src/main.rs", proof=p + "x").code == "invalid_proof"
        # Proof of a's token presented with c's token.
        pa = marque.sign_proof(s.a, s.a_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
        assert read(s.verifier, s.c_token, "src/main.rs", proof=pa).code == "invalid_proof"
        stale = marque.sign_proof(s.c, s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW - 61)
        assert read(s.verifier, s.c_token, "src/main.rs", proof=stale).code == "invalid_proof"
        future = marque.sign_proof(s.c, s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW + 30)
        assert read(s.verifier, s.c_token, "src/main.rs", proof=future).code == "invalid_proof"
        with pytest.raises(marque.InvalidProof):
            s.verifier.authorize_or_raise(s.c_token, tool="read_file", operation="read", resource="src/main.rs",
                                          proof="garbage", now=NOW)

    def test_only_the_holder_can_sign(self, s: Scenario) -> None:
        with pytest.raises(marque.WrongHolderKey) as e:
            marque.sign_proof(s.a, s.c_token, tool="read_file", resource="src/main.rs")
        assert e.value.code == "wrong_holder_key"

    def test_require_proof(self, s: Scenario) -> None:
        v = marque.Verifier([s.root.public_key], require_proof=True)
        d = read(v, s.c_token, "src/main.rs")
        assert not d.allowed and d.code == "invalid_proof"
        p = s.c_token.sign_proof(s.c, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
        assert read(v, s.c_token, "src/main.rs", proof=p).allowed

    def test_window_is_configurable(self, s: Scenario) -> None:
        v = marque.Verifier([s.root.public_key], limits=marque.Limits(proof_window_seconds=5))
        p = s.c_token.sign_proof(s.c, tool="read_file", operation="read", resource="src/main.rs", now=NOW - 6)
        assert read(v, s.c_token, "src/main.rs", proof=p).code == "invalid_proof"


class TestRevocation:
    def test_revoking_a_hop_kills_it_and_below(self, s: Scenario) -> None:
        sibling = s.root_token.delegate(s.orch, to="agent:agent_b", to_key=key(8), now=NOW)
        s.verifier.revoke(s.a_token.revocation_ids[1])
        for t in (s.a_token, s.c_token):
            d = read(s.verifier, t, "src/main.rs")
            assert not d.allowed and d.code == "revoked"
            assert "block 1 is revoked" in d.reasons[0]
        assert read(s.verifier, sibling, "src/main.rs").allowed
        assert read(s.verifier, s.root_token, "src/main.rs").allowed
        with pytest.raises(marque.Revoked):
            s.verifier.authorize_or_raise(s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)

    @pytest.mark.parametrize(
        "how, value",
        [("revoke_agent", "agent:agent_a"), ("revoke_principal", "user:alice"), ("revoke_task", "fix-issue-42")],
    )
    def test_by_agent_principal_task(self, s: Scenario, how: str, value: str) -> None:
        getattr(s.verifier, how)(value)
        assert read(s.verifier, s.c_token, "src/main.rs").code == "revoked"
        assert value in getattr(s.verifier.revocations, how.replace("revoke_", "") + "s")

    def test_revocation_set_is_shareable(self, s: Scenario) -> None:
        rs = marque.RevocationSet()
        assert rs.revoke(s.c_token.revocation_ids[2].upper())
        assert not rs.revoke(s.c_token.revocation_ids[2])
        assert rs.revoke_agent("agent:ghost") and rs.revoke_principal("user:mallory") and rs.revoke_task("t9")
        assert len(rs) == 4
        assert rs.ids == [s.c_token.revocation_ids[2]]
        shared = marque.RevocationSet.from_json(rs.to_json())
        assert shared == rs and pickle.loads(pickle.dumps(rs)) == rs
        assert json.loads(rs.to_json()) == {
            "ids": rs.ids, "agents": ["agent:ghost"], "principals": ["user:mallory"], "tasks": ["t9"],
        }
        v = marque.Verifier([s.root.public_key], revocations=shared)
        assert read(v, s.c_token, "src/main.rs").code == "revoked"
        assert read(v, s.a_token, "src/main.rs").allowed
        v2 = marque.Verifier([s.root.public_key])
        v2.merge_revocations(shared)
        assert v2.revocations == shared
        other = marque.RevocationSet(tasks=["x"])
        other.merge(rs)
        assert len(other) == 5
        with pytest.raises(marque.InvalidArgument):
            marque.RevocationSet.from_json('{"nope": []}')


class TestPolicies:
    def test_deny_policy_runs_first(self, s: Scenario) -> None:
        v = marque.Verifier([s.root.public_key], policies=[("no-tests-on-main", 'deny if tool("run_tests"), resource("main")')])
        d = v.authorize(s.root_token, tool="run_tests", resource="main", now=NOW)
        assert not d.allowed and d.policy == "no-tests-on-main" and d.reasons[0] == "denied by policy no-tests-on-main"
        assert v.authorize(s.root_token, tool="run_tests", resource="dev", now=NOW).allowed
        assert v.policies == [marque.Policy("no-tests-on-main", 'deny if tool("run_tests"), resource("main")')]

    def test_add_policy_and_attributes(self, s: Scenario) -> None:
        v = marque.Verifier([s.root.public_key])
        v.add_policy("prod-freeze", 'deny if attribute("env", "prod")')
        assert v.authorize(s.root_token, tool="run_tests", resource="x", now=NOW, attributes={"env": "dev"}).allowed
        d = v.authorize(s.root_token, tool="run_tests", resource="x", now=NOW, attributes={"env": "prod"})
        assert d.policy == "prod-freeze" and not d.allowed

    def test_policies_cannot_inject_facts(self, s: Scenario) -> None:
        v = marque.Verifier([s.root.public_key])
        with pytest.raises(marque.InvalidArgument):
            v.add_policy("evil", 'right("*", "*", "*");')
        with pytest.raises(marque.InvalidArgument):
            v.add_policy("broken", "allow if ((((")
        with pytest.raises(TypeError):
            marque.Verifier([s.root.public_key], policies=["just a string"])  # type: ignore[list-item]


class TestRootsAndLimits:
    def test_unknown_root_and_tampering(self, s: Scenario) -> None:
        with pytest.raises(marque.UnknownRootKey):
            read(marque.Verifier([key(99).public_key, key(98).public_key]), s.c_token, "src/main.rs")
        with pytest.raises(marque.UnknownRootKey):
            read(marque.Verifier([]), s.c_token, "src/main.rs")
        raw = bytearray(s.root_token.to_bytes())
        raw[-10] ^= 0x01  # inside the last signature
        with pytest.raises((marque.InvalidSignature, marque.InvalidToken)):
            read(s.verifier, bytes(raw), "src/main.rs")
        with pytest.raises(marque.InvalidToken):
            read(s.verifier, "AAAA", "src/main.rs")

    def test_tampered_signature_is_invalid_signature(self, s: Scenario) -> None:
        raw = bytearray(s.root_token.to_bytes())
        sig = s.root_token.revocation_ids[0]  # the authority block's signature, hex
        at = bytes(raw).find(bytes.fromhex(sig))
        assert at > 0
        raw[at + 5] ^= 0x40
        with pytest.raises(marque.InvalidSignature) as e:
            read(s.verifier, bytes(raw), "src/main.rs")
        assert e.value.code == "invalid_signature"
        with pytest.raises(marque.InvalidSignature):
            s.verifier.verify(bytes(raw))

    def test_key_id_map_for_rotation(self, s: Scenario) -> None:
        new_root = key(50)
        t = marque.mint(new_root, agent="agent:x", agent_key=key(51), principal="user:u", rights=["t"], root_key_id=7, now=NOW)
        assert t.root_key_id == 7
        v = marque.Verifier({7: new_root.public_key, 1: s.root.public_key.to_hex()})
        assert v.root_keys == {7: new_root.public_key, 1: s.root.public_key}
        assert v.authorize(t, tool="t", resource="r", now=NOW).allowed
        assert read(v, s.c_token, "src/main.rs").allowed
        # A single key is accepted without a list.
        assert read(marque.Verifier(s.root.public_key), s.c_token, "src/main.rs").allowed

    def test_verify_only_checks_signatures(self, s: Scenario) -> None:
        t = s.verifier.verify(s.c_token.to_base64())
        assert t == s.c_token
        s.verifier.revoke_agent("agent:agent_c")
        assert s.verifier.verify(s.c_token.to_bytes()) == s.c_token

    def test_limits(self, s: Scenario) -> None:
        lim = marque.Limits(max_token_bytes=200, max_blocks=2)
        assert lim.max_token_bytes == 200 and lim.proof_window_seconds == 60
        assert marque.Limits.from_dict(lim.to_dict()) == lim and pickle.loads(pickle.dumps(lim)) == lim
        v = marque.Verifier([s.root.public_key], limits=lim)
        assert v.limits == lim
        with pytest.raises(marque.LimitsExceeded):
            read(v, s.c_token, "src/main.rs")
        v2 = marque.Verifier([s.root.public_key], limits=marque.Limits(max_blocks=2))
        with pytest.raises(marque.LimitsExceeded):
            read(v2, s.c_token, "src/main.rs")
        with pytest.raises(marque.LimitsExceeded):
            read(s.verifier, s.c_token, "x" * 5000)
        with pytest.raises(marque.InvalidArgument):
            marque.Limits(max_blocks=-1)
        with pytest.raises(marque.InvalidArgument):
            marque.Limits.from_dict({"max_blockz": 1})

    def test_repr(self, s: Scenario) -> None:
        v = marque.Verifier([s.root.public_key], policies=[marque.Policy("p1", 'deny if tool("x")')])
        assert repr(v) == f"Verifier(root_keys=['{s.root.fingerprint}'], policies=['p1'])"
        assert "max_token_bytes=16384" in repr(v.limits)


def test_revocation_reason_and_verified_cache(s: Scenario) -> None:
    assert s.verifier.revocation_reason(s.c_token) is None
    s.verifier.revoke_agent("agent:agent_a")
    reason = s.verifier.revocation_reason(s.c_token.to_base64())
    assert reason is not None and "agent:agent_a" in reason
    assert s.verifier.revocation_reason(s.root_token.to_bytes()) is None
    with pytest.raises(marque.InvalidToken):
        s.verifier.revocation_reason("AAAA")

    assert marque.Limits().verified_cache_capacity == 1024
    v = marque.Verifier([s.root.public_key], limits=marque.Limits(verified_cache_capacity=2))
    assert v.limits.verified_cache_capacity == 2 and v.verified_cache_len() == 0
    for token in (s.c_token, s.c_token.to_base64(), s.c_token.to_bytes()):
        assert v.authorize(token, tool="read_file", operation="read", resource="src/main.rs", now=NOW).allowed
    assert v.verified_cache_len() == 1
    for token in (s.a_token, s.root_token):
        v.authorize(token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
    assert v.verified_cache_len() == 2  # bounded
    # A cached token is still checked for revocation and time on every call.
    v.revoke_agent("agent:agent_c")
    assert v.authorize(s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW).code == "revoked"
    off = marque.Verifier([s.root.public_key], limits=marque.Limits(verified_cache_capacity=0))
    off.authorize(s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
    assert off.verified_cache_len() == 0
    # The verified-prefix cache is a limit too (0 turns it off); decisions do not depend on it.
    assert marque.Limits().prefix_cache_capacity == 4096
    no_prefix = marque.Verifier([s.root.public_key], limits=marque.Limits(verified_cache_capacity=0, prefix_cache_capacity=0))
    assert no_prefix.limits.prefix_cache_capacity == 0
    for verifier in (off, no_prefix):
        assert verifier.authorize(s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW).allowed
        assert verifier.authorize(s.c_token, tool="read_file", operation="read", resource=".env", now=NOW).code == "not_authorized"
