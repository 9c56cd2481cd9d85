"""Constraints from Python: approvals (``Verifier(approvers=, approval_rules=)``, ``approve``,
``authorize(approval=)``), delegation budgets (``Token.delegate(max_calls=, rate=,
require_approval=)``) and shared counter stores. The rules are the core's (core/tests/constraints.rs,
the attack vectors); these tests pin the binding's surface: shapes refused, results converted."""

from __future__ import annotations

from typing import Any

import pytest

import marque
from conftest import NOW, key

ROOT, ORCH, AGENT, ALICE, MALLORY = key(1), key(2), key(3), key(7), key(8)
DEPLOY: dict[str, Any] = {"tool": "deploy", "operation": "deploy", "resource": "production/web"}


def root_token() -> marque.Token:
    return marque.mint(ROOT, agent="agent:orchestrator", agent_key=ORCH.public_key, principal="user:bob",
                       rights=["deploy:*:*", "read_file:read:*"], ttl_seconds=3600, now=NOW)


def operator(**kwargs: Any) -> marque.Verifier:
    return marque.Verifier([ROOT.public_key], approvers={"user:alice": ALICE.public_key},
                           approval_rules=["deploy:*:production/"], **kwargs)


# --- approvals -------------------------------------------------------------------------------


def test_an_approval_required_call_is_approved_once() -> None:
    v, t = operator(), root_token()
    first = v.authorize(t, **DEPLOY, now=NOW)
    assert (first.allowed, first.code) == (False, "approval_required")
    asked = first.approval_request
    assert asked is not None and asked["approvers"] == ["user:alice"]
    assert "deploy:*:production/" in asked["reason"]
    # The digest can be computed ahead of the call, from the token and the request.
    assert asked["digest"] == marque.request_digest(t, **DEPLOY) == marque.request_digest(t.to_base64(), **DEPLOY)
    approval = marque.approve(ALICE, approver="user:alice", digest=asked["digest"], now=NOW)
    ok = v.authorize(t.to_base64(), **DEPLOY, approval=approval, now=NOW + 5)
    assert ok.allowed and ok.approval_request is None
    assert ok.approval == {"approver": "user:alice", "key_fingerprint": ALICE.public_key.fingerprint, "iat": NOW, "exp": NOW + 300}
    assert ok.to_audit_event().to_dict()["approval"]["approver"] == "user:alice"
    # Single use, whatever the token form.
    again = v.authorize(t.to_bytes(), **DEPLOY, approval=approval, now=NOW + 6)
    assert again.code == "approval_required" and "already used" in again.reasons[0]
    assert again.approval_request is not None and again.approval_request["digest"] == asked["digest"]
    with pytest.raises(marque.ApprovalRequired):
        v.authorize_or_raise(t, **DEPLOY, approval=approval, now=NOW + 7)
    # Calls outside the rule need none, and an approval there is not consumed.
    assert v.authorize(t, tool="deploy", operation="deploy", resource="staging/web", now=NOW).allowed


def test_an_approval_is_bound_to_the_request_and_the_token() -> None:
    v, t, other = operator(), root_token(), root_token()
    digest = marque.request_digest(t, **DEPLOY)
    approval = marque.approve(ALICE, approver="user:alice", digest=digest, now=NOW)
    for token, request in [
        (other, DEPLOY),
        (t, {**DEPLOY, "resource": "production/db"}),
        (t, {**DEPLOY, "attributes": {"version": "2"}}),
    ]:
        d = v.authorize(token, **request, approval=approval, now=NOW)
        assert d.code == "approval_required", request
    assert v.authorize(t, **DEPLOY, approval=approval, now=NOW).allowed, "the refusals above did not burn it"


def test_bad_approvals_are_refused_with_approval_required() -> None:
    v, t = operator(), root_token()
    digest = marque.request_digest(t, **DEPLOY)
    bad = {
        "untrusted approver": marque.approve(MALLORY, approver="user:mallory", digest=digest, now=NOW),
        "another key for alice": marque.approve(MALLORY, approver="user:alice", digest=digest, now=NOW),
        "expired": marque.approve(ALICE, approver="user:alice", digest=digest, ttl_seconds=60, now=NOW - 120),
        "from the future": marque.approve(ALICE, approver="user:alice", digest=digest, now=NOW + 3600),
        "garbled": "not-an-approval",
        "empty": "",
    }
    for what, approval in bad.items():
        assert v.authorize(t, **DEPLOY, approval=approval, now=NOW).code == "approval_required", what


def test_approve_refuses_wrong_shapes_and_units() -> None:
    digest = marque.request_digest(root_token(), **DEPLOY)
    with pytest.raises(marque.InvalidArgument):
        marque.approve(ALICE, approver="user:alice", digest="not-a-digest")
    with pytest.raises(marque.InvalidArgument):
        marque.approve(ALICE, approver="user:alice", digest=digest, ttl_seconds=0)
    with pytest.raises(marque.InvalidArgument):  # more than a day: milliseconds by mistake
        marque.approve(ALICE, approver="user:alice", digest=digest, ttl_seconds=300_000)
    with pytest.raises(marque.InvalidArgument):
        marque.approve(ALICE, approver="user:alice", digest=digest, now=NOW * 1000)
    with pytest.raises(marque.InvalidArgument):
        marque.approve(ALICE, approver="", digest=digest)
    with pytest.raises(TypeError):
        marque.approve(ALICE, approver="user:alice", digest=digest, ttl=300)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        marque.approve("not a key", approver="user:alice", digest=digest)  # type: ignore[arg-type]


def test_any_signer_approves() -> None:
    v, t = operator(), root_token()
    digest = marque.request_digest(t, **DEPLOY)
    kms = marque.Signer(ALICE.public_key, ALICE.sign)
    assert v.authorize(t, **DEPLOY, approval=marque.approve(kms, approver="user:alice", digest=digest, now=NOW), now=NOW).allowed


def test_verifier_constraint_options_are_checked() -> None:
    for bad in [["user:alice", ALICE.public_key], "user:alice"]:
        with pytest.raises(TypeError):
            marque.Verifier([ROOT.public_key], approvers=bad)  # type: ignore[arg-type]
    with pytest.raises(marque.InvalidKey):
        marque.Verifier([ROOT.public_key], approvers={"user:alice": "not a key"})
    with pytest.raises(marque.InvalidArgument):
        marque.Verifier([ROOT.public_key], approvers={"": ALICE.public_key})
    with pytest.raises(marque.InvalidArgument):
        marque.Verifier([ROOT.public_key], approval_rules=["deploy:*:production/../x"])
    with pytest.raises(TypeError):
        marque.Verifier([ROOT.public_key], approval_rules="deploy:*:production/")
    with pytest.raises(TypeError):
        marque.Verifier([ROOT.public_key], counter_store=object())
    with pytest.raises(TypeError):
        marque.Verifier([ROOT.public_key], approval_rule=["deploy"])  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        root_token().delegate(ORCH, to="agent:a", to_key=AGENT.public_key, max_call=2)  # type: ignore[call-arg]
    # A rule without any trusted approver fails closed.
    d = marque.Verifier([ROOT.public_key], approval_rules=["deploy:*:production/"]).authorize(root_token(), **DEPLOY, now=NOW)
    assert d.code == "approval_required" and d.approval_request is not None and d.approval_request["approvers"] == []


def test_a_delegation_requires_approval_for_its_subtree() -> None:
    lead = root_token().delegate(ORCH, to="agent:lead", to_key=AGENT.public_key, require_approval=["deploy:*:production"], now=NOW)
    assert lead.to_dict()["hops"][0]["require_approval"][0]["resource"] == "production/"
    worker = lead.delegate(AGENT, to="agent:worker", to_key=key(4), now=NOW)
    v = marque.Verifier([ROOT.public_key], approvers={"user:alice": ALICE})
    d = v.authorize(worker, **DEPLOY, now=NOW)
    assert d.code == "approval_required" and d.approval_request is not None
    assert "agent:lead" in d.approval_request["reason"]
    approval = marque.approve(ALICE, approver="user:alice", digest=d.approval_request["digest"], now=NOW)
    assert v.authorize(worker, **DEPLOY, approval=approval, now=NOW + 1).allowed
    with pytest.raises(marque.InvalidArgument):
        root_token().delegate(ORCH, to="agent:x", to_key=AGENT.public_key, require_approval=["deploy:*:../x"], now=NOW)
    with pytest.raises(TypeError):
        root_token().delegate(ORCH, to="agent:x", to_key=AGENT.public_key, require_approval="deploy:*:production", now=NOW)


# --- budgets ---------------------------------------------------------------------------------


def test_max_calls_runs_out() -> None:
    t = root_token().delegate(ORCH, to="agent:a", to_key=AGENT.public_key, max_calls=2, now=NOW)
    assert t.to_dict()["hops"][0]["budget"]["max_calls"] == 2
    v = marque.Verifier([ROOT.public_key])
    codes = [v.authorize(t, tool="read_file", operation="read", resource="a", now=NOW).code for _ in range(3)]
    assert codes == [None, None, "budget_exhausted"]
    with pytest.raises(marque.BudgetExhausted):
        v.authorize_or_raise(t, tool="read_file", operation="read", resource="a", now=NOW)


def test_a_rate_resets_with_its_window() -> None:
    t = root_token().delegate(ORCH, to="agent:a", to_key=AGENT.public_key, rate={"calls": 1, "window_seconds": 60}, now=NOW)
    v = marque.Verifier([ROOT.public_key])
    at = [NOW + 20, NOW + 21, NOW + 40, NOW + 41]  # NOW is 20 s into a minute: windows at +40
    codes = [v.authorize(t, tool="read_file", operation="read", resource="a", now=n).code for n in at]
    assert codes == [None, "budget_exhausted", None, "budget_exhausted"]


@pytest.mark.parametrize(
    ("rate", "error"),
    [
        ((1, 60), TypeError),
        ([1, 60], TypeError),
        ({"calls": 1}, marque.InvalidArgument),
        ({"calls": 1, "window": 60}, marque.InvalidArgument),
        ({"calls": 1, "window_seconds": 60, "burst": 2}, marque.InvalidArgument),
        ({"calls": 1.5, "window_seconds": 60}, TypeError),
        ({"calls": True, "window_seconds": 60}, TypeError),
        ({"calls": "1", "window_seconds": 60}, TypeError),
        ({"calls": -1, "window_seconds": 60}, marque.InvalidArgument),
        ({"calls": 0, "window_seconds": 60}, marque.InvalidArgument),
        ({"calls": 1, "window_seconds": 0}, marque.InvalidArgument),
        ({"calls": 1, "window_seconds": 60_000 * 60 * 24 * 31}, marque.InvalidArgument),  # milliseconds
    ],
)
def test_wrong_rate_shapes_and_units_are_refused(rate: Any, error: type[BaseException]) -> None:
    with pytest.raises(error):
        root_token().delegate(ORCH, to="agent:a", to_key=AGENT.public_key, rate=rate, now=NOW)


@pytest.mark.parametrize(("max_calls", "error"), [(0, marque.InvalidArgument), (-1, marque.InvalidArgument),
                                                  (2.0, TypeError), (True, TypeError), ("2", TypeError)])
def test_wrong_max_calls_are_refused(max_calls: Any, error: type[BaseException]) -> None:
    with pytest.raises(error):
        root_token().delegate(ORCH, to="agent:a", to_key=AGENT.public_key, max_calls=max_calls, now=NOW)


def test_budgets_only_narrow() -> None:
    parent = root_token().delegate(ORCH, to="agent:a", to_key=AGENT.public_key, max_calls=3,
                                   rate={"calls": 5, "window_seconds": 60}, now=NOW)
    for kwargs in [{"max_calls": 4}, {"rate": {"calls": 6, "window_seconds": 60}}, {"rate": {"calls": 5, "window_seconds": 30}}]:
        with pytest.raises(marque.AttenuationWidens):
            parent.delegate(AGENT, to="agent:c", to_key=key(4), now=NOW, **kwargs)
    parent.delegate(AGENT, to="agent:c", to_key=key(4), max_calls=3, rate={"calls": 1, "window_seconds": 3600}, now=NOW)


def test_a_parent_budget_bounds_its_children_across_verifiers_sharing_a_store() -> None:
    parent = root_token().delegate(ORCH, to="agent:a", to_key=AGENT.public_key, max_calls=3, now=NOW)
    a = parent.delegate(AGENT, to="agent:c", to_key=key(4), max_calls=2, now=NOW)
    b = parent.delegate(AGENT, to="agent:d", to_key=key(5), now=NOW)
    store = marque.MemoryCounterStore()
    v1, v2 = (marque.Verifier([ROOT.public_key], counter_store=store) for _ in range(2))
    read = {"tool": "read_file", "operation": "read", "resource": "a", "now": NOW}
    assert [v1.authorize(a, **read).code, v2.authorize(a, **read).code, v1.authorize(a, **read).code] == [None, None, "budget_exhausted"]
    assert v2.authorize(b, **read).code is None
    assert v1.authorize(b, **read).code == "budget_exhausted", "the parent's 3 calls bound both children on both verifiers"
    # Without a shared store each verifier counts alone.
    v3 = marque.Verifier([ROOT.public_key])
    assert v3.authorize(b, **read).allowed


class FakeRedis:
    """Runs REDIS_SPEND_SCRIPT's semantics in Python (the bridge is under test, not Redis)."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.calls: list[tuple[Any, ...]] = []

    def eval(self, script: str, numkeys: int, *keys_and_args: str) -> object:
        assert script == marque.REDIS_SPEND_SCRIPT
        self.calls.append((numkeys, *keys_and_args))
        keys, args = keys_and_args[:numkeys], keys_and_args[numkeys:]
        for i, k in enumerate(keys):
            if self.counters.get(k, 0) >= int(args[2 * i]):
                return i + 1
        for k in keys:
            self.counters[k] = self.counters.get(k, 0) + 1
        return 0


def test_a_redis_like_counter_store_is_bridged() -> None:
    parent = root_token().delegate(ORCH, to="agent:a", to_key=AGENT.public_key, max_calls=2, now=NOW)
    child = parent.delegate(AGENT, to="agent:c", to_key=key(4), rate={"calls": 5, "window_seconds": 60}, now=NOW)
    redis = FakeRedis()
    v1, v2 = (marque.Verifier([ROOT.public_key], counter_store=redis) for _ in range(2))
    read = {"tool": "read_file", "operation": "read", "resource": "a", "now": NOW}
    assert [v1.authorize(child, **read).code, v2.authorize(child, **read).code, v1.authorize(child, **read).code] == [
        None, None, "budget_exhausted"]
    numkeys, *rest = redis.calls[0]
    assert numkeys == 2 and all(k.startswith("marque:budget:") for k in rest[:2])
    assert rest[2] == "2" and rest[4] == "5", "limits: the parent's 2 calls, the child's 5 per window"
    # A call without budgets never reaches the store.
    marque.Verifier([ROOT.public_key], counter_store=redis).authorize(root_token(), **read)
    assert len(redis.calls) == 3


@pytest.mark.parametrize("answer", [None, "0", True, 3, -1, 1.0, [0]])
def test_a_counter_store_answering_nonsense_fails_closed(answer: object) -> None:
    class Odd:
        def eval(self, script: str, numkeys: int, *keys_and_args: str) -> object:
            return answer

    t = root_token().delegate(ORCH, to="agent:a", to_key=AGENT.public_key, max_calls=2, now=NOW)
    with pytest.raises(marque.ReplayStoreUnavailable):
        marque.Verifier([ROOT.public_key], counter_store=Odd()).authorize(t, tool="read_file", operation="read", resource="a", now=NOW)


def test_a_counter_store_that_raises_fails_closed() -> None:
    class Down:
        def eval(self, script: str, numkeys: int, *keys_and_args: str) -> object:
            raise ConnectionError("connection refused")

    t = root_token().delegate(ORCH, to="agent:a", to_key=AGENT.public_key, max_calls=2, now=NOW)
    with pytest.raises(marque.ReplayStoreUnavailable, match="ConnectionError"):
        marque.Verifier([ROOT.public_key], counter_store=Down()).authorize(t, tool="read_file", operation="read", resource="a", now=NOW)


def test_an_async_counter_store_is_refused() -> None:
    class Async:
        async def eval(self, script: str, numkeys: int, *keys_and_args: str) -> object:
            return 0

    with pytest.raises(TypeError, match="sync"):
        marque.Verifier([ROOT.public_key], counter_store=Async())


def test_a_guarded_function_takes_the_approval_from_the_call_context() -> None:
    v, t = operator(), root_token()

    @marque.requires(v, tool="deploy", operation="deploy", resource=lambda target: target)
    def deploy(target: str) -> str:
        d = marque.current_decision()
        assert d is not None and d.approval is not None
        return f"{target} approved by {d.approval['approver']}"

    with marque.call_context(token=t, now=NOW), pytest.raises(marque.ApprovalRequired):
        deploy("production/web")
    approval = marque.approve(ALICE, approver="user:alice", digest=marque.request_digest(t, **DEPLOY), now=NOW)
    with marque.call_context(token=t, now=NOW, approval=approval):
        assert deploy("production/web") == "production/web approved by user:alice"
        with pytest.raises(marque.ApprovalRequired):  # single use
            deploy("production/web")
