"""Keys in operations (issue #7), mirroring core/tests/operations.rs: pluggable signers,
signed fail-closed revocation lists, JWKS root keys."""

from __future__ import annotations

import json
import pickle
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

import marque
from conftest import NOW, key

ROOT = Path(__file__).resolve().parents[2]


class Remote:
    """A key behind an object, counting its calls (as a KMS client would be)."""

    def __init__(self, kp: marque.KeyPair) -> None:
        self._kp = kp
        self.calls = 0
        self.messages: list[object] = []

    @property
    def public_key(self) -> marque.PublicKey:
        return self._kp.public_key

    def sign(self, message: bytes) -> bytes:
        self.messages.append(message)
        self.calls += 1
        return self._kp.sign(message)


class RemoteWithKeyMethod:
    """``public_key()`` as a method and a hex key; returns a bytearray."""

    def __init__(self, kp: marque.KeyPair) -> None:
        self._kp = kp

    def public_key(self) -> str:
        return self._kp.public_key.to_hex()

    def sign(self, message: bytes) -> bytearray:
        return bytearray(self._kp.sign(message))


class Boom(RuntimeError):
    pass


def liars(public: marque.PublicKey) -> list[tuple[str, marque.Signer]]:
    """The ways a signer can misbehave."""
    other = key(99)

    def raising(_m: bytes) -> bytes:
        raise Boom("hsm offline")

    cases: list[tuple[str, Callable[[bytes], Any]]] = [
        ("other key", other.sign),
        ("zeros", lambda _m: bytes(64)),
        ("short", lambda _m: bytes([7]) * 10),
        ("long", lambda _m: bytes([7]) * 65),
        ("raising", raising),
        ("str", lambda _m: "x" * 64),
        ("None", lambda _m: None),
        ("int", lambda _m: 42),
    ]
    return [(what, marque.Signer(public, f)) for what, f in cases]


def mint(root: Any, orch: marque.KeyPair, **kw: Any) -> marque.Token:
    return marque.mint(root, agent="agent:orchestrator", agent_key=orch.public_key, principal="user:alice",
                       task="t-1", rights=["read_file:read:src/", "deploy:*:*"], ttl_seconds=3600, now=NOW, **kw)


def authorize(v: marque.Verifier, token: marque.Token, resource: str = "src/a.rs", now: int = NOW,
              **kw: Any) -> marque.Decision:
    return v.authorize(token, tool="read_file", operation="read", resource=resource, now=now, **kw)


def without_ids(t: marque.Token) -> dict[str, Any]:
    d = t.to_dict()
    d.pop("revocation_ids")
    return d


# ---- signers ----------------------------------------------------------------------------------

def test_mint_and_delegate_with_external_signers() -> None:
    root, orch, child = key(1), key(2), key(3)
    root_signer = Remote(root)
    token = mint(root_signer, orch)
    assert root_signer.calls == 1, "the root signer signs the authority block once"
    assert all(type(m) is bytes for m in root_signer.messages)
    native = mint(root, orch)
    assert token.root_key_id == native.root_key_id is not None
    verifier = marque.Verifier([root.public_key])
    d = authorize(verifier, token)
    assert d.allowed, d.reasons
    assert without_ids(token) == without_ids(native), "only the signatures differ"
    with pytest.raises(marque.UnknownRootKey):
        authorize(marque.Verifier([key(9).public_key]), token)

    # Delegation with the holder's key behind an object.
    orch_signer = Remote(orch)
    delegated = token.delegate(orch_signer, to="agent:reader", to_key=child.public_key, tools=["read_file"], now=NOW)
    assert orch_signer.calls == 1
    d = authorize(verifier, delegated)
    assert d.allowed and d.chain == ["agent:orchestrator", "agent:reader"]
    denied = verifier.authorize(delegated, tool="deploy", operation="run", resource="prod", now=NOW)
    assert not denied.allowed, "the external hop narrows like a native one"
    # A second hop from the external-signed one, natively; a third with public_key() as a method.
    grandchild = delegated.delegate(child, to="agent:gc", to_key=key(4).public_key, resource_prefix="src/a.rs", now=NOW)
    assert authorize(verifier, grandchild).allowed
    great = grandchild.delegate(RemoteWithKeyMethod(key(4)), to="agent:ggc", to_key=key(5), now=NOW)
    assert authorize(verifier, great).allowed
    # A marque.Signer wrapping a plain function.
    wrapped = token.delegate(marque.Signer(orch.public_key, orch.sign), to="agent:w", to_key=key(6), now=NOW)
    assert authorize(verifier, wrapped).allowed

    # The holder check uses the signer's public key.
    with pytest.raises(marque.WrongHolderKey):
        token.delegate(Remote(key(7)), to="agent:x", to_key=child.public_key, now=NOW)


def test_misbehaving_signers_never_produce_tokens() -> None:
    root, orch = key(1), key(2)
    for what, liar in liars(root.public_key):
        with pytest.raises(marque.SignerFailed, match="signer"):
            mint(liar, orch)
    token = mint(root, orch)
    decision = authorize(marque.Verifier([root.public_key]), token)
    assert decision.allowed
    claims = {"sub": "agent:a", "aud": "svc", "iat": NOW, "exp": NOW + 60}
    event = {"event_type": "tool_call", "agent_id": "agent:orchestrator", "agent_key_fingerprint": "",
             "principal": "user:alice", "action": "read_file", "resource": "src/a", "decision": "allow",
             "policy_id": "p", "timestamp": NOW}
    for what, liar in liars(orch.public_key):
        attempts: list[tuple[str, Callable[[], object]]] = [
            ("delegate", lambda: token.delegate(liar, to="agent:c", to_key=key(3), now=NOW)),
            ("Token.sign_proof", lambda: token.sign_proof(liar, tool="read_file", resource="src/a", now=NOW)),
            ("sign_proof", lambda: marque.sign_proof(liar, token, tool="read_file", resource="src/a", now=NOW)),
            ("jwt_issue", lambda: marque.jwt_issue(liar, claims)),
            ("to_compact_jwt", lambda: decision.to_compact_jwt(liar, issuer_name="gw", audience="svc", ttl_seconds=60)),
            ("Envelope.sign", lambda: marque.Envelope.sign(liar, event, 0)),
            ("RevocationList.sign", lambda: marque.RevocationList.sign(
                marque.RevocationSet(), sequence=1, signer=liar, issued_at=NOW)),
        ]
        for op, attempt in attempts:
            with pytest.raises(marque.SignerFailed) as e:
                attempt()
            assert e.value.code == "signer_failed", (what, op)
            assert isinstance(e.value, marque.SignerFailedError) and isinstance(e.value, marque.MarqueError)
        log = marque.AuditLog()
        with pytest.raises(marque.SignerFailed):
            log.append(liar, event)
        assert len(log) == 0, "nothing is appended when the signer fails"


def test_signer_failure_messages_and_causes() -> None:
    pub = key(1).public_key
    raised = Boom("hsm offline: secret detail")

    def raising(_m: bytes) -> bytes:
        raise raised

    with pytest.raises(marque.SignerFailed) as e:
        marque.jwt_issue(marque.Signer(pub, raising), {"exp": NOW})
    assert e.value.__cause__ is raised, "the user's exception is the cause"
    assert "Boom" in e.value.message and "secret detail" not in e.value.message
    for f, words in [
        (lambda _m: bytes(3), "3 bytes"),
        (lambda _m: "sig", "str, not bytes"),
        (lambda _m: bytes(64), "does not verify"),
    ]:
        with pytest.raises(marque.SignerFailed, match=words) as e:
            marque.jwt_issue(marque.Signer(pub, f), {"exp": NOW})
        assert e.value.__cause__ is None

    # An exception that is not an Exception (KeyboardInterrupt, SystemExit, ...) is not wrapped.
    class Abort(BaseException):
        pass

    def abort(_m: bytes) -> bytes:
        raise Abort()

    with pytest.raises(Abort):
        mint(marque.Signer(pub, abort), key(2))


def test_signer_arguments_are_type_checked() -> None:
    with pytest.raises(TypeError, match="signer"):
        mint(object(), key(2))
    with pytest.raises(TypeError, match="signer"):
        mint(key(1).public_key, key(2))  # a public key cannot sign

    class NoSign:
        public_key = key(1).public_key
        sign = "not callable"

    with pytest.raises(TypeError):
        mint(NoSign(), key(2))
    with pytest.raises(TypeError, match="callable"):
        marque.Signer(key(1).public_key, "not callable")  # type: ignore[arg-type]

    class BadKey:
        public_key = 42

        def sign(self, m: bytes) -> bytes:
            return bytes(64)

    with pytest.raises(TypeError):
        mint(BadKey(), key(2))
    with pytest.raises(marque.InvalidKey):
        marque.Signer("not a key", lambda m: m)


def test_signer_class() -> None:
    kp = key(5)
    s = marque.Signer(kp.public_key, kp.sign)
    assert s.public_key == kp.public_key
    assert s.sign(b"m") == kp.sign(b"m") and s.sign("m") == kp.sign(b"m")
    assert "ed25519:" in repr(s) and kp.to_hex() not in repr(s)
    assert isinstance(s, marque.SignerLike) and isinstance(kp, marque.SignerLike)
    assert isinstance(Remote(kp), marque.SignerLike)
    assert not isinstance(object(), marque.SignerLike)


def test_proofs_audit_and_jwt_with_external_signers() -> None:
    root, orch = key(1), key(2)
    signer = Remote(orch)
    token = mint(root, orch)

    proof = token.sign_proof(signer, tool="read_file", operation="read", resource="src/a.rs", now=NOW)
    verifier = marque.Verifier([root.public_key], require_proof=True)
    d = authorize(verifier, token, proof=proof)
    assert d.allowed and d.proof_verified, d.reasons
    proof = marque.sign_proof(signer, token.to_base64(), tool="read_file", operation="read", resource="src/b.rs",
                              now=NOW)
    assert authorize(verifier, token, "src/b.rs", proof=proof).allowed

    log = marque.AuditLog()
    log.append(signer, d.to_audit_event())
    log.append(orch, d.to_audit_event())
    log.append(RemoteWithKeyMethod(orch), d.to_audit_event())
    assert log.verify([orch.public_key]).ok
    env = marque.Envelope.sign(signer, d.to_audit_event(), 0)
    assert env == marque.Envelope.sign(orch, d.to_audit_event(), 0), "Ed25519 is deterministic"

    claims = {"sub": "agent:a", "aud": "svc", "iat": NOW, "exp": NOW + 60}
    jwt = marque.jwt_issue(signer, claims, kid="k1")
    assert jwt == marque.jwt_issue(orch, claims, kid="k1")
    assert marque.jwt_verify(jwt, {"k1": orch.public_key}, audience="svc", now=NOW)["sub"] == "agent:a"
    before = signer.calls
    jwt2 = d.to_compact_jwt(signer, issuer_name="gateway", audience="svc", ttl_seconds=60)
    assert signer.calls == before + 1
    assert marque.jwt_verify(jwt2, orch.public_key, audience="svc", now=NOW)["iss"] == "gateway"


def test_python_signers_run_while_other_threads_work() -> None:
    """The core runs without the GIL; a Python signer re-acquires it. Many threads at once."""
    root = key(1)
    slow_calls = []

    def slow_sign(m: bytes) -> bytes:
        time.sleep(0.001)  # releases the GIL inside the callback
        slow_calls.append(1)
        return root.sign(m)

    signer = marque.Signer(root.public_key, slow_sign)
    verifier = marque.Verifier([root.public_key])
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            t = marque.mint(signer, agent=f"agent:w{i}", agent_key=key(2).public_key, principal="u",
                            rights=["read_file"], now=NOW)
            assert verifier.authorize(t, tool="read_file", resource="x", now=NOW).allowed
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(slow_calls) == 8


DEADLOCK_SCENARIO = """
import threading, time
import marque
kp = marque.KeyPair.from_seed(bytes([9]) * 32)
in_sign, release = threading.Event(), threading.Event()
def sign(m):
    in_sign.set()
    release.wait(10)  # releases the GIL while the append holds the log's lock
    return kp.sign(m)
log = marque.AuditLog()
event = {"event_type": "tool_call", "agent_id": "agent:a", "agent_key_fingerprint": "", "principal": "u",
         "action": "t", "resource": "r", "decision": "allow", "policy_id": "p", "timestamp": 1700000000}
appender = threading.Thread(target=log.append, args=(marque.Signer(kp.public_key, sign), event))
appender.start()
assert in_sign.wait(10)
seen = []
reader = threading.Thread(target=lambda: seen.append((len(log), log.head, len(log.lines), repr(log))))
reader.start()
time.sleep(0.05)
release.set()
appender.join()
reader.join()
assert seen[0][0] == 1 and len(log) == 1 and log.to_jsonl().count("\\n") == 1, seen
print("ok")
"""


def test_audit_log_readers_do_not_deadlock_with_a_python_signer() -> None:
    """`append` holds the log's lock while the Python signer waits for the GIL; a reader on
    another thread (holding the GIL) must not block the process. In a subprocess: a deadlock
    would hang, so it is a timeout here."""
    r = subprocess.run([sys.executable, "-c", DEADLOCK_SCENARIO], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


def test_guards_record_decisions_with_an_external_signer() -> None:
    root, orch = key(1), key(2)
    token = marque.mint(root, agent="agent:orchestrator", agent_key=orch.public_key, principal="user:alice",
                        rights=["read_file:read:*"])
    log, server = marque.AuditLog(), Remote(key(8))

    @marque.requires(marque.Verifier([root.public_key]), tool="read_file", operation="read", resource="a",
                     audit_log=log, audit_signer=server)
    def read() -> str:
        return "ok"

    with marque.call_context(token=token):
        assert read() == "ok"
    assert server.calls == 1 and log.verify(key(8).public_key).ok
    with pytest.raises(TypeError, match="signer"):
        marque.requires(marque.Verifier([root.public_key]), tool="t", audit_log=log, audit_signer=object())


# ---- signed revocation lists ---------------------------------------------------------------

OPERATOR = 50


def verifier(staleness: int | None = None) -> marque.Verifier:
    return marque.Verifier([key(1).public_key], operator_keys=[key(OPERATOR).public_key],
                           max_revocation_staleness=staleness)


def signed(seq: int, at: int, *, agents: list[str] | None = None, signer: Any = None) -> marque.RevocationList:
    return marque.RevocationList.sign(marque.RevocationSet(agents=agents or []), sequence=seq,
                                      signer=signer or key(OPERATOR), issued_at=at)


def test_revocation_list_round_trips_and_rejects_tampering() -> None:
    operator = key(OPERATOR)
    rs = marque.RevocationSet(agents=["agent:rogue"], ids=["AB" * 64], principals=["user:mallory"],
                              tasks=["task:leak"])
    lst = marque.RevocationList.sign(rs, sequence=3, signer=operator, issued_at=NOW)
    text = lst.to_json()
    back = marque.RevocationList.from_json(text)
    assert back == lst
    assert back.to_json() == text, "canonical: serializes to the same bytes"
    assert (back.sequence, back.issued_at, back.issuer) == (3, NOW, operator.public_key)
    assert "ab" * 64 in back.revoked.ids, "ids are normalized before signing"
    assert back.revoked.agents == ["agent:rogue"] and len(back.revoked) == 4
    assert len(back.signature) == 64
    assert "sig" not in repr(back) and "sequence=3" in repr(back)
    assert pickle.loads(pickle.dumps(back)) == back
    assert marque.RevocationList.from_json(json.loads(text)) == lst, "a dict works too"
    # The same document from a signer behind a function (Ed25519 is deterministic).
    assert marque.RevocationList.sign(rs, sequence=3, signer=Remote(operator), issued_at=NOW).to_json() == text
    back.check_issuer([operator.public_key])
    with pytest.raises(marque.RevocationListInvalid):
        back.check_issuer(key(51).public_key)

    # Any edit breaks the signature.
    for frm, to in [('"sequence":3', '"sequence":4'), ("agent:rogue", "agent:rogua"), (str(NOW), "1")]:
        forged = text.replace(frm, to, 1)
        assert forged != text
        with pytest.raises(marque.InvalidSignature):
            marque.RevocationList.from_json(forged)
    # Swapping the issuer for another key is a bad signature too.
    with pytest.raises(marque.InvalidSignature):
        marque.RevocationList.from_json(text.replace(operator.public_key.to_hex(), key(51).public_key.to_hex()))
    # Malformed documents.
    for bad in [
        "[]",
        "{}",
        text.replace('"v":1', '"v":2'),
        text.replace('"type":"marque-revocation-list"', '"type":"other"'),
        text.replace("{", '{"extra":1,', 1),
        text.replace('"sequence":3', '"sequence":-3'),
        text.replace('"sequence":3', '"sequence":3.5'),
        text.replace('"sequence":3', '"sequence":9007199254740993'),
        '{"sig":"x"',
    ]:
        with pytest.raises(marque.RevocationListInvalid):
            marque.RevocationList.from_json(bad)
    # Duplicate members are refused by the strict parser.
    with pytest.raises(marque.MarqueError):
        marque.RevocationList.from_json(text.replace('"sequence":3', '"sequence":3,"sequence":4', 1))
    # Out of range arguments.
    with pytest.raises(marque.InvalidArgument):
        marque.RevocationList.sign(rs, sequence=2**53, signer=operator, issued_at=NOW)
    with pytest.raises(marque.InvalidArgument):
        marque.RevocationList.sign(rs, sequence=-1, signer=operator, issued_at=NOW)
    with pytest.raises(TypeError):
        marque.RevocationList.sign(rs, sequence="1", signer=operator, issued_at=NOW)  # type: ignore[arg-type]


def test_verifier_loads_only_trusted_forward_moving_lists() -> None:
    v = verifier()
    assert v.operator_keys == [key(OPERATOR).public_key] and v.revocation_list is None
    l5 = signed(5, NOW, agents=["agent:a"])
    assert v.load_revocation_list(l5, now=NOW) is True
    assert v.load_revocation_list(l5, now=NOW) is False, "the same list again is a no-op"
    assert v.revocation_list is not None and v.revocation_list.sequence == 5

    # Untrusted operator.
    with pytest.raises(marque.RevocationListInvalid):
        v.load_revocation_list(signed(6, NOW, signer=key(51)), now=NOW)
    # Rollbacks: an older sequence, the same sequence with other content, an older issue time.
    for rollback in [signed(4, NOW + 10), signed(5, NOW), signed(6, NOW - 1)]:
        with pytest.raises(marque.RevocationListRollback):
            v.load_revocation_list(rollback, now=NOW + 10)
    assert v.revocation_list == l5, "a refused list changes nothing"
    # A list from the future (beyond 5 minutes of skew) is refused.
    future = signed(7, NOW + 301)
    with pytest.raises(marque.RevocationListInvalid):
        v.load_revocation_list(future, now=NOW)
    assert v.load_revocation_list(future, now=NOW + 1), "within the skew it loads"
    # From JSON (text or dict), with the same checks.
    l8 = signed(8, NOW + 400)
    assert v.load_revocation_list(l8.to_json(), now=NOW + 400)
    assert v.load_revocation_list(json.loads(l8.to_json()), now=NOW + 400) is False
    with pytest.raises(marque.RevocationListRollback):
        v.load_revocation_list(l5.to_json(), now=NOW + 400)
    with pytest.raises(marque.InvalidSignature):
        v.load_revocation_list(signed(9, NOW + 400).to_json().replace('"sequence":9', '"sequence":10'), now=NOW + 400)
    with pytest.raises(TypeError):
        v.load_revocation_list(b"{}", now=NOW)  # type: ignore[arg-type]
    # A verifier without operator keys trusts no list, until one is added.
    bare = marque.Verifier([key(1).public_key])
    with pytest.raises(marque.RevocationListInvalid):
        bare.load_revocation_list(l5, now=NOW)
    bare.add_operator_key(key(OPERATOR))
    assert bare.load_revocation_list(l5, now=NOW)


def test_signed_lists_revoke_before_datalog_and_fail_closed_when_stale() -> None:
    token = mint(key(1), key(2))
    v = verifier(600)
    assert v.max_revocation_staleness == 600
    # No list yet: fail closed.
    with pytest.raises(marque.RevocationListStale):
        authorize(v, token)
    with pytest.raises(marque.RevocationListStale):
        v.check_revocation_list_fresh(now=NOW)
    with pytest.raises(marque.RevocationListStaleError):
        v.authorize_or_raise(token, tool="read_file", operation="read", resource="src/a.rs", now=NOW)
    # A fresh empty list: allowed.
    v.load_revocation_list(signed(1, NOW), now=NOW)
    v.check_revocation_list_fresh(now=NOW + 600)
    with pytest.raises(marque.RevocationListStale):
        v.check_revocation_list_fresh(now=NOW + 601)
    assert authorize(v, token, now=NOW + 600).allowed
    # Older than the limit: fail closed, even for a token that would be allowed.
    with pytest.raises(marque.RevocationListStale) as e:
        authorize(v, token, now=NOW + 601)
    assert "601" in e.value.message
    # A newer list revoking the agent: denied as revoked, and before any Datalog (the request
    # is not even covered by the token's rights, which Datalog would report as not_authorized).
    l2 = signed(2, NOW + 601, agents=["agent:orchestrator"])
    v.load_revocation_list(l2, now=NOW + 601)
    d = v.authorize(token, tool="rm", operation="rf", resource="/", now=NOW + 602)
    assert d.code == "revoked" and "agent:orchestrator" in d.reasons[0]
    assert v.revocation_reason(token) is not None
    # The next list lifts it (the list is the operator's whole current set).
    v.load_revocation_list(signed(3, NOW + 700), now=NOW + 700)
    assert authorize(v, token, now=NOW + 700).allowed
    # Local revocations still apply beside the list.
    v.revoke_task("t-1")
    assert authorize(v, token, now=NOW + 700).code == "revoked"
    # Without a staleness limit an old list is still applied, never required.
    relaxed = verifier(None)
    assert relaxed.max_revocation_staleness is None
    assert authorize(relaxed, token).allowed
    relaxed.load_revocation_list(l2, now=NOW + 601)
    assert authorize(relaxed, token, now=NOW + 1_000_000).code == "revoked"
    # The limit can be set and lifted on a live verifier.
    fresh = verifier(None)
    fresh.set_max_revocation_staleness(60)
    with pytest.raises(marque.RevocationListStale):
        authorize(fresh, token)
    fresh.set_max_revocation_staleness(None)
    assert authorize(fresh, token).allowed


def test_revocation_lists_revoke_by_block_principal_and_task() -> None:
    token = mint(key(1), key(2))
    v = verifier(3600)
    child = token.delegate(key(2), to="agent:c", to_key=key(3), now=NOW)
    by_block = marque.RevocationSet(ids=[child.revocation_ids[1]])
    v.load_revocation_list(marque.RevocationList.sign(by_block, sequence=1, signer=key(OPERATOR), issued_at=NOW),
                           now=NOW)
    assert authorize(v, child, "src/a").code == "revoked"
    assert authorize(v, token, "src/a").allowed, "the parent stays valid"
    for n, rs in [(2, marque.RevocationSet(principals=["user:alice"])), (3, marque.RevocationSet(tasks=["t-1"]))]:
        v.load_revocation_list(marque.RevocationList.sign(rs, sequence=n, signer=key(OPERATOR), issued_at=NOW),
                               now=NOW)
        assert authorize(v, token, "src/a").code == "revoked"


# ---- JWKS root key discovery -----------------------------------------------------------------

def test_verifier_from_jwks_and_rotation() -> None:
    old_root, new_root, orch = key(1), key(11), key(2)
    old, new = mint(old_root, orch), mint(new_root, orch)
    explicit = mint(key(12), orch, root_key_id=7)

    doc = marque.to_jwks([old_root.public_key, new_root, (7, key(12).public_key)])
    parsed = marque.parse_jwks(doc)
    assert len(parsed) == 3
    assert parsed[0] == (old.root_key_id, old_root.public_key)
    assert parsed[1] == (new.root_key_id, new_root.public_key)
    assert parsed[2] == (7, key(12).public_key)
    assert marque.parse_jwks(json.loads(doc)) == parsed, "a dict works too"
    assert marque.to_jwks(dict(parsed)) == doc
    assert marque.to_jwks(parsed) == doc
    v = marque.Verifier.from_jwks(doc)
    assert v.root_keys == dict(parsed)
    for t in (old, new, explicit):
        assert authorize(v, t, "src/a").allowed
    # Rotation: publish a document without the old key.
    v.set_root_keys_from_jwks(marque.to_jwks([new_root.public_key]))
    with pytest.raises(marque.UnknownRootKey):
        authorize(v, old, "src/a")
    assert authorize(v, new, "src/a").allowed
    # A bad document leaves the verifier as it was.
    with pytest.raises(marque.InvalidKey):
        v.set_root_keys_from_jwks('{"keys":[]}')
    assert authorize(v, new, "src/a").allowed
    # from_jwks takes the constructor's options.
    strict = marque.Verifier.from_jwks(json.loads(doc), require_proof=True, operator_keys=key(OPERATOR),
                                       max_revocation_staleness=60)
    with pytest.raises(marque.RevocationListStale):
        authorize(strict, new, "src/a")
    strict.load_revocation_list(signed(1, NOW), now=NOW)
    assert authorize(strict, new, "src/a").code == "invalid_proof"
    with pytest.raises(marque.InvalidKey):
        marque.Verifier.from_jwks("not json")


def test_jwks_documents_are_checked() -> None:
    pub = key(1).public_key
    x, fp = pub.to_jwk()["x"], pub.fingerprint
    derived = marque.parse_jwks(marque.to_jwks([pub]))[0][0]

    def doc(entry: str) -> str:
        return '{"keys":[' + entry + "]}"

    ok = [
        (doc(f'{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}'), derived),
        (doc(f'{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"{fp}","use":"sig","alg":"EdDSA"}}'), derived),
        (doc(f'{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"42"}}'), 42),
        (doc(f'{{"kty":"RSA","n":"AQAB","e":"AQAB"}},{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}'), derived),
    ]
    for d, kid in ok:
        assert marque.parse_jwks(d) == [(kid, pub)], d
    d_member = key(1).to_jwk()
    x2 = key(2).public_key.to_jwk()["x"]
    bad = [
        "not json",
        "{}",
        '{"keys":{}}',
        doc(""),
        doc('{"kty":"RSA","n":"AQAB","e":"AQAB"}'),
        doc(f'{{"kty":"OKP","crv":"Ed25519","x":"{x}","use":"enc"}}'),
        doc(json.dumps(d_member)),
        doc(f'{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"ed25519:0000000000000000"}}'),
        doc(f'{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"root-2026"}}'),
        doc(f'{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"99999999999"}}'),
        doc(f'{{"kty":"OKP","crv":"Ed25519","x":"{x}","alg":"ES256"}}'),
        doc('{"kty":"OKP","crv":"Ed25519","x":"AAAA"}'),
        doc(f'{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"5"}},{{"kty":"OKP","crv":"Ed25519","x":"{x2}","kid":"5"}}'),
    ]
    for d in bad:
        with pytest.raises(marque.InvalidKey) as e:
            marque.parse_jwks(d)
        assert d_member["d"] not in e.value.message, "no secret in errors"
        with pytest.raises(marque.InvalidKey):
            marque.Verifier.from_jwks(d)
    with pytest.raises(TypeError):
        marque.to_jwks(42)  # type: ignore[arg-type]
    with pytest.raises(marque.InvalidArgument):
        marque.to_jwks([(-1, pub)])


# ---- the README's example ----------------------------------------------------------------------

def test_readme_keys_in_operations_example_runs() -> None:
    readme = (ROOT / "bindings-python" / "README.md").read_text()
    section = readme.split("## Keys in operations", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "no example in the README's Keys in operations section"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
