"""Shared stores on the asyncio path: ``await Verifier.authorize_async(..., replay_store=,
counter_store=)`` with ``redis.asyncio`` clients.

Against a real ``redis-server`` on a free 127.0.0.1 port (the fixture of test_replay_store.py):
a proof accepted by one verifier is refused by another; two processes share one delegation's
budget (the core's script, atomic on the server); Redis stopped → ``ReplayStoreUnavailable``,
never an allow; restarted → calls succeed again; a store slower than the timeout fails closed.
The contract (order, malformed answers, missing stores) is checked with plain async objects.
Without ``redis-server`` the Redis tests skip, except under ``CI``, where they fail.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest

import marque
from conftest import NOW, Scenario, build_scenario
from test_replay_store import RedisServer, redis, server  # noqa: F401 — the fixture

READ = dict(tool="read_file", operation="read", resource="src/main.rs")


def budgeted(s: Scenario, max_calls: int) -> marque.Token:
    """agent_a (no budget) → agent_c with ``max_calls``: delegation 2 is the budgeted hop."""
    return s.a_token.delegate(s.a, to="agent:agent_c", to_key=s.c.public_key, resource_prefix="src/main.rs",
                              max_calls=max_calls, now=NOW)


async def outcome(v: marque.Verifier, token: marque.Token, s: Scenario, **stores: Any) -> str:
    proof = token.sign_proof(s.c, **READ, now=NOW)
    try:
        d = await v.authorize_async(token, **READ, proof=proof, now=NOW + 1, **stores)
    except marque.MarqueError as e:
        return str(e.code)  # type: ignore[attr-defined]
    return "allowed" if d.allowed else str(d.code)


def aclient(srv: RedisServer) -> Any:
    return redis.asyncio.Redis.from_url(srv.url, socket_timeout=0.5, socket_connect_timeout=0.5)


def test_a_proof_is_used_once_across_async_verifiers(server: RedisServer) -> None:
    s = build_scenario()

    async def run() -> list[str]:
        c1, c2 = aclient(server), aclient(server)
        one, two = marque.Verifier([s.root.public_key]), marque.Verifier([s.root.public_key])
        p = s.c_token.sign_proof(s.c, **READ, now=NOW)
        out = []
        for v, c in [(one, c1), (two, c2), (one, c2)]:
            d = await v.authorize_async(s.c_token, **READ, proof=p, now=NOW + 1, replay_store=c)
            out.append("allowed" if d.allowed else str(d.code))
        await c1.aclose()
        await c2.aclose()
        return out

    assert asyncio.run(run()) == ["allowed", "replayed_proof", "replayed_proof"]
    # Control: the sync path keeps this verifier's own memory, which has not seen the proof.
    p = s.c_token.sign_proof(s.c, **READ, now=NOW)
    assert s.verifier.authorize(s.c_token, **READ, proof=p, now=NOW).allowed


CHILD = """
import asyncio, sys, marque, redis.asyncio
url, root, token, c_seed, now, calls = sys.argv[1:]
async def main():
    client = redis.asyncio.Redis.from_url(url, socket_timeout=0.5)
    v = marque.Verifier([marque.PublicKey.from_hex(root)])
    t, c = marque.Token.from_base64(token), marque.KeyPair.from_hex(c_seed)
    for _ in range(int(calls)):
        p = t.sign_proof(c, tool="read_file", operation="read", resource="src/main.rs", now=int(now))
        d = await v.authorize_async(t, tool="read_file", operation="read", resource="src/main.rs", proof=p,
                                    now=int(now), replay_store=client, counter_store=client)
        print("allowed" if d.allowed else d.code)
    await client.aclose()
asyncio.run(main())
"""


def test_two_processes_share_a_budget_and_redis_down_fails_closed(server: RedisServer) -> None:
    s = build_scenario()
    t = budgeted(s, 3)

    def child(calls: int) -> list[str]:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, server.url, s.root.public_key.to_hex(), t.to_base64(), "04" * 32,
             str(NOW + 1), str(calls)],
            capture_output=True, text=True, timeout=60, check=True,
        )
        return out.stdout.split()

    async def here(**kw: Any) -> str:
        c = aclient(server)
        try:
            return await outcome(marque.Verifier([s.root.public_key]), kw.pop("token", t), s,
                                 replay_store=c, counter_store=c, **kw)
        finally:
            await c.aclose()

    assert asyncio.run(here()) == "allowed"
    assert child(3) == ["allowed", "allowed", "budget_exhausted"]
    assert asyncio.run(here()) == "budget_exhausted"
    # Redis stopped: closed, never allowed (both stores are that one server).
    server.stop()
    fresh = budgeted(s, 1)
    assert asyncio.run(here(token=fresh)) == "replay_store_unavailable"
    server.start()
    assert asyncio.run(here(token=fresh)) == "allowed"
    assert asyncio.run(here(token=fresh)) == "budget_exhausted"


class Slow:
    """Delegates to a redis.asyncio client, ``delay`` seconds late."""

    def __init__(self, inner: Any, delay: float) -> None:
        self.inner, self.delay = inner, delay

    async def set(self, *a: Any, **kw: Any) -> Any:
        await asyncio.sleep(self.delay)
        return await self.inner.set(*a, **kw)

    async def eval(self, *a: Any) -> Any:
        await asyncio.sleep(self.delay)
        return await self.inner.eval(*a)


def test_a_store_slower_than_the_timeout_fails_closed(server: RedisServer) -> None:
    s = build_scenario()
    t = budgeted(s, 5)

    async def run() -> list[str]:
        c = aclient(server)
        v = marque.Verifier([s.root.public_key])
        out = [
            await outcome(v, t, s, replay_store=Slow(c, 1.0), counter_store=c, timeout=0.05),
            await outcome(v, t, s, replay_store=c, counter_store=Slow(c, 1.0), timeout=0.05),
            await outcome(v, t, s, replay_store=Slow(c, 0.01), counter_store=Slow(c, 0.01), timeout=5),
        ]
        await c.aclose()
        return out

    assert asyncio.run(run()) == ["replay_store_unavailable", "replay_store_unavailable", "allowed"]


class Memory:
    """The store contract on dicts (one process): set-if-absent, and the script's answer."""

    def __init__(self, spend_answer: object = None) -> None:
        self.held: set[str] = set()
        self.counts: dict[str, int] = {}
        self.spend_answer = spend_answer
        self.evals: list[tuple[Any, ...]] = []

    async def set(self, name: str, value: str, *, nx: bool, px: int) -> bool | None:
        if name in self.held:
            return None
        self.held.add(name)
        return True

    async def eval(self, script: str, numkeys: int, *args: str) -> object:
        assert script == marque.REDIS_SPEND_SCRIPT
        self.evals.append(args)
        if self.spend_answer is not None:
            return self.spend_answer
        keys, limits = args[:numkeys], args[numkeys::2]
        for i, (k, limit) in enumerate(zip(keys, limits)):
            if self.counts.get(k, 0) >= int(limit):
                return i + 1
        for k in keys:
            self.counts[k] = self.counts.get(k, 0) + 1
        return 0


def test_the_async_contract_fails_closed() -> None:
    s = build_scenario()
    t = budgeted(s, 1)
    v = marque.Verifier([s.root.public_key])

    async def run() -> None:
        m = Memory()
        assert await outcome(v, t, s, replay_store=m, counter_store=m) == "allowed"
        p = t.sign_proof(s.c, **READ, now=NOW)
        d = await v.authorize_async(t, **READ, proof=p, now=NOW, replay_store=m, counter_store=m)
        assert d.code == "budget_exhausted" and "delegation 2 (agent:agent_c)" in d.reasons[0]
        # A replayed nonce is decided before any budget: nothing spent.
        d = await v.authorize_async(t, **READ, proof=p, now=NOW, replay_store=m, counter_store=m)
        assert d.code == "replayed_proof" and len(m.evals) == 2
        key, limit, ttl = m.evals[0]
        assert key.startswith("marque:budget:") and limit == "1" and int(ttl) > 0
        # Answers that are not the script's: closed.
        for answer in [-1, 2, "0", b"0", 1.0, True, [0]]:
            odd = Memory(spend_answer=answer)
            assert await outcome(v, t, s, replay_store=odd, counter_store=odd) == "replay_store_unavailable", answer
        # A store that raises.
        class Down(Memory):
            async def eval(self, *a: Any) -> object:
                raise ConnectionError("refused")
        down = Down()
        assert await outcome(v, t, s, replay_store=down, counter_store=down) == "replay_store_unavailable"
        class Garbled(Memory):  # an exception message that is not valid text: still typed
            async def set(self, name: str, value: str, *, nx: bool, px: int) -> bool | None:
                raise ValueError("\ud800")
        garbled = Garbled()
        assert await outcome(v, t, s, replay_store=garbled, counter_store=garbled) == "replay_store_unavailable"
        # A needed store missing: refused before anything is claimed; a token without budgets
        # needs no counter store; without a proof no replay store.
        fresh = Memory()
        assert await outcome(v, t, s, replay_store=fresh) == "invalid_argument"
        assert await outcome(v, t, s, counter_store=fresh) == "invalid_argument"
        assert not fresh.held and not fresh.evals
        assert await outcome(v, s.c_token, s, replay_store=fresh) == "allowed"
        d = await v.authorize_async(t, **READ, now=NOW, counter_store=Memory())
        assert d.allowed
        # A denied call reaches no store.
        bad = t.sign_proof(s.c, tool="read_file", operation="read", resource="src/other.rs", now=NOW)
        d = await v.authorize_async(t, tool="read_file", operation="read", resource="src/other.rs", proof=bad, now=NOW,
                                    replay_store=fresh, counter_store=fresh)
        assert d.code == "not_authorized" and len(fresh.held) == 1

    asyncio.run(run())
    for bad_timeout in [0, -1, 61, "1", True]:
        with pytest.raises(marque.InvalidArgument):
            v.authorize_async(t, **READ, now=NOW, counter_store=Memory(), timeout=bad_timeout)
    for bad_store in [object(), 42]:
        with pytest.raises(TypeError):
            v.authorize_async(t, **READ, now=NOW, counter_store=bad_store)


DEPLOY = dict(tool="deploy", operation="deploy", resource="production/web")


def test_an_approval_is_used_once_across_async_verifiers(server: RedisServer) -> None:  # noqa: F811
    """The asyncio path takes ``approval=``: claimed once in the shared replay store after the
    proof's nonce, so an approval used on one verifier is ``approval_required`` on another."""
    s = build_scenario()
    alice = marque.KeyPair.generate()
    token = marque.mint(s.root, agent="agent:deployer", agent_key=s.a, principal="user:bob", rights=["deploy:*:*"], now=NOW)

    def verifier() -> marque.Verifier:
        return marque.Verifier([s.root.public_key], approvers={"user:alice": alice.public_key},
                               approval_rules=["deploy:*:production/"])

    one, two = verifier(), verifier()

    async def run() -> None:
        c1, c2 = aclient(server), aclient(server)
        try:
            asked = await one.authorize_async(token, **DEPLOY, proof=token.sign_proof(s.a, **DEPLOY, now=NOW), now=NOW,
                                              replay_store=c1)
            assert asked.code == "approval_required" and asked.approval_request is not None
            approval = marque.approve(alice, approver="user:alice", digest=asked.approval_request["digest"], now=NOW)
            d = await one.authorize_async(token, **DEPLOY, proof=token.sign_proof(s.a, **DEPLOY, now=NOW), now=NOW,
                                          approval=approval, replay_store=c1)
            assert d.allowed and d.approval is not None and d.approval["approver"] == "user:alice"
            again = await two.authorize_async(token, **DEPLOY, proof=token.sign_proof(s.a, **DEPLOY, now=NOW), now=NOW,
                                              approval=approval, replay_store=c2)
            assert again.code == "approval_required" and "already used" in again.reasons[0]
            assert again.approval_request is not None and again.approval_request["digest"] == asked.approval_request["digest"]
            # Without a replay store the approval cannot be claimed: refused before anything is used.
            fresh = marque.approve(alice, approver="user:alice", digest=asked.approval_request["digest"], now=NOW)
            with pytest.raises(marque.InvalidArgument):
                await two.authorize_async(token, **DEPLOY, now=NOW, approval=fresh, counter_store=Memory())
            d = await two.authorize_async(token, **DEPLOY, now=NOW, approval=fresh, replay_store=c2)
            assert d.allowed
        finally:
            await c1.aclose()
            await c2.aclose()

    asyncio.run(run())
