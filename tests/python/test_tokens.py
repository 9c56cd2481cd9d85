"""mint / delegate / Token: the seed scenario, readable claims, input forms, pickling."""

from __future__ import annotations

import datetime
import pickle

import pytest

import marque
from conftest import NOW, Scenario, key


def test_seed_scenario_chain(s: Scenario) -> None:
    assert [h.path for h in s.c_token.chain] == ["/root", "/root/agent_a", "/root/agent_a/agent_c"]
    assert [h.agent for h in s.c_token.chain] == ["agent:orchestrator", "agent:agent_a", "agent:agent_c"]
    assert [h.key for h in s.c_token.chain] == [s.orch.public_key, s.a.public_key, s.c.public_key]
    assert [h.fingerprint for h in s.c_token.chain] == [k.fingerprint for k in (s.orch, s.a, s.c)]
    assert s.c_token.agent == "agent:agent_c"
    assert s.c_token.path == "/root/agent_a/agent_c"
    assert s.c_token.holder_key == s.c.public_key
    assert s.c_token.principal == "user:alice"
    assert s.c_token.task == "fix-issue-42"
    assert s.c_token.workspace == "acme/web"
    assert s.c_token.depth == 2
    assert s.c_token.max_depth == marque.DEFAULT_MAX_DEPTH == 4
    assert s.c_token.issued_at == NOW
    assert s.c_token.expires_at == NOW + 3600
    assert len(s.c_token.revocation_ids) == 3
    assert s.c_token.revocation_ids[:2] == s.a_token.revocation_ids
    assert all(len(r) == 128 and int(r, 16) >= 0 for r in s.c_token.revocation_ids)
    assert not s.c_token.sealed


def test_rights_forms_are_equivalent() -> None:
    root, agent = key(1), key(2)
    forms: list[list[object]] = [
        ["read_file:read:src/", "deploy"],
        [{"tool": "read_file", "operation": "read", "resource": "src/"}, {"tool": "deploy"}],
        [marque.Right("read_file", "read", "src/"), marque.Right.parse("deploy")],
    ]
    tokens = [
        marque.mint(root, agent="agent:x", agent_key=agent.public_key, principal="user:u", rights=f, now=NOW)
        for f in forms
    ]
    assert tokens[0].rights == [marque.Right("read_file", "read", "src/"), marque.Right("deploy", "*", "*")]
    assert all(t.rights == tokens[0].rights for t in tokens)


def test_right_object() -> None:
    r = marque.Right.parse("read_file:read:src/a:b")
    assert (r.tool, r.operation, r.resource) == ("read_file", "read", "src/a:b")
    assert str(r) == "read_file:read:src/a:b"
    assert repr(r) == "Right('read_file', 'read', 'src/a:b')"
    assert r.to_dict() == {"tool": "read_file", "operation": "read", "resource": "src/a:b"}
    assert r.covers(tool="read_file", operation="read", resource="src/a:b/c")
    assert not r.covers(tool="read_file", operation="write", resource="src/a:b/c")
    assert pickle.loads(pickle.dumps(r)) == r and hash(r) == hash(marque.Right.parse(str(r)))
    with pytest.raises(marque.InvalidArgument):
        marque.Right("")
    with pytest.raises(marque.InvalidArgument):
        marque.mint(key(1), agent="agent:x", agent_key=key(2), principal="u", rights=[{"tool": "t", "typo": "x"}])
    with pytest.raises(TypeError):
        marque.mint(key(1), agent="agent:x", agent_key=key(2), principal="u", rights="read_file")  # type: ignore[arg-type]


def test_agent_key_forms() -> None:
    root, agent = key(1), key(2)
    pk = agent.public_key
    for form in (pk, agent, pk.to_hex(), pk.to_pem(), pk.to_did(), pk.to_jwk(), pk.to_bytes()):
        t = marque.mint(root, agent="agent:x", agent_key=form, principal="user:u", now=NOW)
        assert t.holder_key == pk


def test_now_accepts_int_float_datetime() -> None:
    root, agent = key(1), key(2)
    args = dict(agent="agent:x", agent_key=agent.public_key, principal="user:u", ttl_seconds=10)
    a = marque.mint(root, now=NOW, **args)  # type: ignore[arg-type]
    b = marque.mint(root, now=NOW + 0.999, **args)  # type: ignore[arg-type]
    c = marque.mint(root, now=datetime.datetime.fromtimestamp(NOW, tz=datetime.timezone.utc), **args)  # type: ignore[arg-type]
    assert a.issued_at == b.issued_at == c.issued_at == NOW
    assert a.expires_at == NOW + 10
    for bad in (-1, -0.5, float("nan"), float("inf")):
        with pytest.raises(marque.InvalidArgument):
            marque.mint(root, now=bad, **args)  # type: ignore[arg-type]
    with pytest.raises(marque.InvalidArgument):
        marque.mint(root, now=datetime.datetime(2024, 1, 1), **args)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        marque.mint(root, now="yesterday", **args)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        marque.mint(root, now=True, **args)  # type: ignore[arg-type]
    # Default now: the clock.
    import time

    t = marque.mint(root, **args)  # type: ignore[arg-type]
    assert abs(t.issued_at - time.time()) < 5


def test_delegate_narrows_and_names_child(s: Scenario) -> None:
    assert s.a_token.path == "/root/agent_a"
    assert s.a_token.to_dict()["hops"] == [
        {
            "agent": "agent:agent_a",
            "tools": ["read_file"],
            "operations": ["read"],
            "resource_prefix": "src/",
            "expires_at": NOW + 3600,
            "max_depth": None,
        }
    ]
    short = s.root_token.delegate(s.orch, to="agent:b", to_key=key(9), ttl_seconds=60, tools="run_tests", now=NOW)
    assert short.expires_at == NOW + 60
    assert short.to_dict()["hops"][0]["tools"] == ["run_tests"]


def test_delegate_refusals(s: Scenario) -> None:
    with pytest.raises(marque.AttenuationWidens) as e:
        s.a_token.delegate(s.a, to="agent:x", to_key=key(9), tools=["write_file"], now=NOW)
    assert e.value.code == "attenuation_widens"
    assert "write_file" in str(e.value) and "read_file" in str(e.value)
    with pytest.raises(marque.AttenuationWidens):
        s.a_token.delegate(s.a, to="agent:x", to_key=key(9), resource_prefix="secrets/", now=NOW)
    with pytest.raises(marque.WrongHolderKey):
        s.a_token.delegate(s.orch, to="agent:x", to_key=key(9), now=NOW)
    with pytest.raises(marque.InvalidArgument):
        s.a_token.delegate(s.a, to="agent:bad/name", to_key=key(9), now=NOW)
    with pytest.raises(marque.InvalidArgument):
        s.a_token.delegate(s.a, to="agent:x", to_key=key(9), tools=[], now=NOW)
    with pytest.raises(TypeError):
        s.a_token.delegate(s.a.public_key, to="agent:x", to_key=key(9))  # type: ignore[arg-type]


def test_depth_and_seal() -> None:
    root, agents = key(1), [key(10 + i) for i in range(4)]
    t = marque.mint(root, agent="agent:a0", agent_key=agents[0], principal="user:u", rights=["t"], max_depth=2, now=NOW)
    t = t.delegate(agents[0], to="agent:a1", to_key=agents[1], now=NOW)
    t = t.delegate(agents[1], to="agent:a2", to_key=agents[2], now=NOW)
    with pytest.raises(marque.DepthExceeded):
        t.delegate(agents[2], to="agent:a3", to_key=agents[3], now=NOW)
    sealed = t.seal()
    assert sealed.sealed and "sealed=True" in repr(sealed)
    root2 = marque.mint(root, agent="agent:a0", agent_key=agents[0], principal="user:u", rights=["t"], now=NOW).seal()
    with pytest.raises(marque.Sealed):
        root2.delegate(agents[0], to="agent:a1", to_key=agents[1], now=NOW)
    # A sealed token still authorizes.
    d = marque.Verifier([root.public_key]).authorize(sealed, tool="t", resource="x", now=NOW)
    assert d.allowed and d.agent == "agent:a2"


def test_round_trips_equality_and_pickle(s: Scenario) -> None:
    t = s.c_token
    text = t.to_base64()
    assert str(t) == text
    assert marque.Token.from_base64(text) == t
    assert marque.Token.from_base64(text.rstrip("=")) == t
    assert marque.Token.from_bytes(t.to_bytes()) == t == marque.Token.from_bytes(bytearray(bytes(t)))
    assert len(t) == len(t.to_bytes())
    assert hash(marque.Token.from_base64(text)) == hash(t)
    assert t != s.a_token
    assert len({t, marque.Token.from_base64(text), s.a_token}) == 2
    assert pickle.loads(pickle.dumps(t)) == t
    h = t.chain[1]
    assert pickle.loads(pickle.dumps(h)) == h and hash(h) == hash(pickle.loads(pickle.dumps(h)))
    assert marque.Hop(h.agent, h.path, h.key.to_hex()) == h


def test_readable_forms(s: Scenario) -> None:
    dl = s.c_token.to_datalog()
    assert 'agent("agent:orchestrator")' in dl
    assert 'right("read_file", "read", "*")' in dl
    assert "delegation 2: agent:agent_a → agent:agent_c" in dl
    assert 'hop("agent:agent_c", hex:' in dl and "marque_profile(3)" in dl
    d = s.c_token.to_dict()
    assert d["agent"] == "agent:agent_c" and d["depth"] == 2
    assert [h["path"] for h in d["chain"]] == ["/root", "/root/agent_a", "/root/agent_a/agent_c"]
    import json

    assert json.loads(s.c_token.to_json()) == d


def test_token_repr_is_readable_and_secret_free(s: Scenario) -> None:
    r = repr(s.c_token)
    assert r == (
        "Token(agent='agent:agent_c', path='/root/agent_a/agent_c', principal='user:alice', depth=2, "
        f"expires_at={NOW + 3600})"
    )
    for kp in (s.root, s.orch, s.a, s.c):
        assert kp.to_hex() not in repr(s.c_token) + repr(s.c_token.chain) + s.c_token.to_datalog()


def test_mint_validation() -> None:
    root, agent = key(1), key(2)
    for kwargs in (
        dict(agent="agent:", agent_key=agent, principal="u"),
        dict(agent="agent:a", agent_key=agent, principal=""),
        dict(agent="agent:a", agent_key=agent, principal="u", ttl_seconds=0),
        dict(agent="agent:a", agent_key=agent, principal="u", task='x"y'),
        dict(agent="agent:a", agent_key=agent, principal="u", max_depth=1000),
        dict(agent="agent:a", agent_key=agent, principal="u", max_depth=-1),
        dict(agent="agent:a", agent_key=agent, principal="u", root_key_id=2**40),
    ):
        with pytest.raises(marque.InvalidArgument):
            marque.mint(root, now=NOW, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        marque.mint(agent.public_key, agent="agent:a", agent_key=agent, principal="u")  # type: ignore[arg-type]


def test_token_parse_errors() -> None:
    for text in ["", "!!!", "AAAA", "aGVsbG8", "a+b/"]:
        with pytest.raises(marque.InvalidToken):
            marque.Token.from_base64(text)
    with pytest.raises(marque.LimitsExceeded):
        marque.Token.from_base64("A" * 100_000)
    with pytest.raises(TypeError):
        marque.Token.from_bytes("text")  # type: ignore[arg-type]


def test_mint_audience_binds_a_token_to_servers(s: Scenario) -> None:
    def mint(audience: object) -> marque.Token:
        return marque.mint(s.root, agent="agent:a", agent_key=s.orch.public_key, principal="user:alice",
                           rights=["read_file:read"], now=NOW, audience=audience)  # type: ignore[arg-type]

    assert mint("HTTPS://A.example:443/mcp/").audience == ["https://a.example/mcp"]
    both = mint(["https://a.example/mcp", "https://b.example"])
    assert both.audience == ["https://a.example/mcp", "https://b.example"]
    assert both.to_dict()["audience"] == both.audience
    assert marque.Token.from_base64(both.to_base64()).audience == both.audience
    assert mint(None).audience == [] and s.root_token.audience == []
    for bad in ("a.example", "https://a.example/#x", ["https://a.example", "HTTPS://A.EXAMPLE/"]):
        with pytest.raises(marque.InvalidArgument):
            mint(bad)
    with pytest.raises(TypeError):
        mint(42)
    for uri, ok in (("https://b.example/", True), ("https://c.example", False)):
        v = marque.Verifier([s.root.public_key], audience=uri)
        if ok:
            assert v.authorize(both, tool="read_file", operation="read", resource="x", now=NOW).allowed
        else:
            with pytest.raises(marque.InvalidToken):
                v.authorize(both, tool="read_file", operation="read", resource="x", now=NOW)
