"""A marque token is a standard Biscuit v3 token (docs/PROFILE.md, profile 3): biscuit-python,
knowing only the root public key, verifies it, reads every block's Datalog, and a plain Biscuit
authorizer — the facts a verifier adds and marque's rights policy, nothing of marque — denies
what a delegation took away. The narrowing lives in the token's Datalog, not in marque."""

from __future__ import annotations

import datetime

import pytest

import marque
from conftest import NOW, Scenario

ba = pytest.importorskip("biscuit_auth")


def root_public(kp: marque.KeyPair) -> object:
    return ba.PublicKey.from_bytes(bytes.fromhex(kp.public_key.to_hex()), ba.Algorithm.Ed25519)


def plain_authorize(
    token: marque.Token, root: marque.KeyPair, tool: str, op: str, resource: str, now: int = NOW, audience: str | None = None
) -> bool:
    biscuit = ba.Biscuit.from_base64(token.to_base64(), root_public(root))
    builder = ba.AuthorizerBuilder(
        "time({now}); tool({tool}); operation({op}); resource({res}); depth({depth});",
        {
            "now": datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc),
            "tool": tool,
            "op": op,
            "res": resource,
            "depth": token.depth,
        },
    )
    if audience is not None:
        builder.add_fact(ba.Fact("audience({aud})", {"aud": audience}))
    builder.add_policy(ba.Policy(RIGHTS_POLICY))
    try:
        builder.build(biscuit).authorize()
        return True
    except Exception:  # biscuit-python raises AuthorizationError on a denial
        return False


RIGHTS_POLICY = (
    'allow if tool($tool), operation($op), resource($res), right($rt, $ro, $rr), ($rt == "*" || $rt == $tool),'
    ' ($ro == "*" || $ro == $op), ($rr == "*" || ($res + "/").starts_with($rr))'
)


def test_biscuit_python_reads_a_marque_token(s: Scenario) -> None:
    root_key = root_public(s.root)
    biscuit = ba.Biscuit.from_base64(s.c_token.to_base64(), root_key)
    assert biscuit.block_count() == 3
    assert "marque_profile(3);" in biscuit.block_source(0)
    assert 'hop("agent:agent_c", hex:' in biscuit.block_source(2)
    # Signed by another root: refused by biscuit-python too.
    other = root_public(marque.KeyPair.from_seed(b"\x09" * 32))
    with pytest.raises(Exception):
        ba.Biscuit.from_base64(s.c_token.to_base64(), other)


def test_a_plain_biscuit_authorizer_enforces_every_narrowing(s: Scenario) -> None:
    # The root token holds read_file:read:* and write_file:write:src/; agent_a's hop narrows to
    # read_file / read / src/, agent_c's to src/main.rs.
    assert plain_authorize(s.root_token, s.root, "write_file", "write", "src/x.rs")
    assert plain_authorize(s.a_token, s.root, "read_file", "read", "src/x.rs")
    assert not plain_authorize(s.a_token, s.root, "write_file", "write", "src/x.rs"), "tools narrowed by hop 1"
    assert not plain_authorize(s.a_token, s.root, "read_file", "read", "docs/x.md"), "prefix narrowed by hop 1"
    assert plain_authorize(s.c_token, s.root, "read_file", "read", "src/main.rs")
    assert not plain_authorize(s.c_token, s.root, "read_file", "read", "src/lib.rs"), "prefix narrowed by hop 2"
    assert not plain_authorize(s.c_token, s.root, "read_file", "read", "src/main.rs", now=NOW + 10**6), "expired"
    # marque's own verifier agrees on every one of these.
    for token, tool, op, res in [
        (s.a_token, "write_file", "write", "src/x.rs"),
        (s.a_token, "read_file", "read", "docs/x.md"),
        (s.c_token, "read_file", "read", "src/lib.rs"),
        (s.c_token, "read_file", "read", "src/main.rs"),
    ]:
        allowed = s.verifier.authorize(token, tool=tool, operation=op, resource=res, now=NOW).allowed
        assert allowed == plain_authorize(token, s.root, tool, op, res)


def test_a_plain_biscuit_authorizer_refuses_a_token_for_another_server(s: Scenario) -> None:
    """A token minted for a server (RFC 8707) carries `check if audience($audience),
    token_audience($audience)`: a plain authorizer that states no audience, or another one,
    denies it (fail closed); stating the server's URI passes."""
    a = "https://a.example/mcp"
    token = marque.mint(s.root, agent="agent:orch", agent_key=s.orch.public_key, principal="user:alice",
                        rights=["read_file:read"], now=NOW, audience=a)
    assert token.audience == [a]
    biscuit = ba.Biscuit.from_base64(token.to_base64(), root_public(s.root))
    assert f'token_audience("{a}");' in biscuit.block_source(0)
    assert "check if audience($audience), token_audience($audience);" in biscuit.block_source(0)
    assert plain_authorize(token, s.root, "read_file", "read", "x", audience=a)
    assert not plain_authorize(token, s.root, "read_file", "read", "x")
    assert not plain_authorize(token, s.root, "read_file", "read", "x", audience="https://b.example/mcp")
