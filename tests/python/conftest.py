"""Shared fixtures: deterministic keys, a fixed clock and the seed delegation scenario.

Run from the repository root with the project's venv:  .venv/bin/python -m pytest tests/python
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import marque

NOW = 1_700_000_000


def key(n: int) -> marque.KeyPair:
    """A deterministic key pair (seed = 32 bytes of n)."""
    return marque.KeyPair.from_seed(bytes([n]) * 32)


@dataclass
class Scenario:
    """user:alice → /root orchestrator → /root/agent_a (read-only src/) → /root/agent_a/agent_c (one file)."""

    root: marque.KeyPair
    orch: marque.KeyPair
    a: marque.KeyPair
    c: marque.KeyPair
    root_token: marque.Token
    a_token: marque.Token
    c_token: marque.Token
    verifier: marque.Verifier


def build_scenario() -> Scenario:
    root, orch, a, c = key(1), key(2), key(3), key(4)
    root_token = marque.mint(
        root,
        agent="agent:orchestrator",
        agent_key=orch.public_key,
        principal="user:alice",
        task="fix-issue-42",
        workspace="acme/web",
        rights=["read_file:read:*", "write_file:write:src/", {"tool": "run_tests"}],
        ttl_seconds=3600,
        now=NOW,
    )
    a_token = root_token.delegate(
        orch, to="agent:agent_a", to_key=a.public_key, tools=["read_file"], operations=["read"],
        resource_prefix="src/", now=NOW,
    )
    c_token = a_token.delegate(a, to="agent:agent_c", to_key=c.public_key, resource_prefix="src/main.rs", now=NOW)
    return Scenario(root, orch, a, c, root_token, a_token, c_token, marque.Verifier([root.public_key]))


@pytest.fixture
def s() -> Scenario:
    return build_scenario()
