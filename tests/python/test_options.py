"""A misspelt key never changes what a call does: every dict the binding reads (rights, limits,
audit events, revocation sets) refuses a key it does not know with `InvalidArgument`, naming the
key and, when one is close, the spelling meant. Keywords are checked by the signatures."""

from __future__ import annotations

import json
import pathlib
from typing import Any, Callable

import pytest

import marque

NOW = 1_767_225_600
AUDIT = json.loads((pathlib.Path(__file__).resolve().parents[1] / "vectors" / "audit.json").read_text())


def kp(n: int) -> marque.KeyPair:
    return marque.KeyPair.from_seed(bytes([n]) * 32)


ROOT, ORCH = kp(1), kp(2)


def mint(rights: list[Any]) -> marque.Token:
    return marque.mint(
        ROOT, agent="agent:o", agent_key=ORCH.public_key, principal="user:alice", rights=rights, ttl_seconds=60, now=NOW
    )


def refused(call: Callable[[], object], key: str, meant: str | None) -> None:
    with pytest.raises(marque.InvalidArgument) as info:
        call()
    message = str(info.value)
    assert f"`{key}`" in message, message
    if meant is not None:
        assert f"did you mean `{meant}`" in message, message
    else:
        assert "did you mean" not in message, message


@pytest.mark.parametrize(
    ("key", "meant"), [("resouce", "resource"), ("Tool", "tool"), ("op", None), ("resource_prefix", None)]
)
def test_a_right_given_as_a_dict_refuses_unknown_keys(key: str, meant: str | None) -> None:
    assert mint([{"tool": "read_file", "resource": "src/"}]).rights[0].resource == "src/"
    refused(lambda: mint([{"tool": "read_file", key: "src/"}]), key, meant)


def test_limits_from_a_dict_refuse_unknown_keys() -> None:
    assert marque.Limits.from_dict({"replay_cache_per_key": 5}).replay_cache_per_key == 5
    refused(lambda: marque.Limits.from_dict({"replay_cache_capasity": 5}), "replay_cache_capasity", "replay_cache_capacity")
    refused(lambda: marque.Limits.from_dict({"maxTokenBytes": 5}), "maxTokenBytes", "max_token_bytes")
    # Keywords: the signature refuses them (TypeError), a typo never passes silently.
    with pytest.raises(TypeError):
        marque.Limits(replay_cache_capasity=5)  # type: ignore[call-arg]


def test_audit_events_given_as_dicts_refuse_unknown_members() -> None:
    event = AUDIT["events"][0]
    signer = marque.KeyPair.from_hex(AUDIT["signer_seed_hex"])
    marque.AuditLog().append(signer, event)
    for call in (
        lambda e: marque.AuditLog().append(signer, e),
        lambda e: marque.AuditEvent.from_dict(e),
    ):
        refused(lambda: call({**event, "eventType": "tool_call"}), "eventType", "event_type")
        refused(lambda: call({**event, "bogus": 1}), "bogus", None)


def test_revocation_sets_refuse_unknown_members() -> None:
    assert marque.RevocationSet.from_json(json.dumps({"agents": ["agent:x"]})).agents == ["agent:x"]
    refused(lambda: marque.RevocationSet.from_json(json.dumps({"agnets": ["agent:x"]})), "agnets", "agents")


def test_signed_revocation_lists_given_as_dicts_refuse_unknown_members() -> None:
    operator = kp(5)
    verifier = marque.Verifier([ROOT.public_key], operator_keys=[operator.public_key])
    doc = json.loads(marque.RevocationList.sign(marque.RevocationSet(), sequence=1, signer=operator, issued_at=NOW).to_json())
    # A signed document: an extra member is refused before the signature is even checked.
    with pytest.raises(marque.MarqueError) as info:
        verifier.load_revocation_list({**doc, "extra": 1}, now=NOW)
    assert "extra" in str(info.value)
    assert verifier.load_revocation_list(doc, now=NOW)
