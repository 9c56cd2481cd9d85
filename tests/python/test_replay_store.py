"""A shared replay store: ``Verifier(..., replay_store=redis.Redis(...))``.

Against a real ``redis-server`` on a free 127.0.0.1 port (started and stopped by the fixture, no
persistence): two Verifier objects and a second Python process share it, a proof accepted by one
is refused (``replayed_proof``) by the others; Redis stopped → ``ReplayStoreUnavailable``, never
an allow; Redis restarted → calls succeed again with the same verifiers and client. The store
contract (any object with ``set(name, value, *, nx, px)``) is checked with plain objects. Without
``redis-server`` the Redis tests skip, except under ``CI``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

import marque
from conftest import NOW, Scenario, build_scenario

redis = pytest.importorskip("redis") if not os.environ.get("CI") else __import__("redis")

READ = dict(tool="read_file", operation="read", resource="src/main.rs")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    def __init__(self) -> None:
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def server() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (scripts/install.sh installs it)")
        pytest.skip("redis-server is not installed")
    srv = RedisServer()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def client(srv: RedisServer) -> Any:
    return redis.Redis.from_url(srv.url, socket_timeout=0.5, socket_connect_timeout=0.5)


def verifier(s: Scenario, store: object) -> marque.Verifier:
    return marque.Verifier([s.root.public_key], replay_store=store)


def outcome(v: marque.Verifier, s: Scenario, proof: str) -> str:
    try:
        d = v.authorize(s.c_token, **READ, proof=proof, now=NOW + 1)
    except marque.MarqueError as e:
        return str(e.code)  # type: ignore[attr-defined]
    return "allowed" if d.allowed else str(d.code)


CHILD = """
import sys, marque, redis
url, root, token, proof, now = sys.argv[1:]
v = marque.Verifier([marque.PublicKey.from_hex(root)], replay_store=redis.Redis.from_url(url, socket_timeout=0.5))
try:
    d = v.authorize(token, tool="read_file", operation="read", resource="src/main.rs", proof=proof, now=int(now))
    print("allowed" if d.allowed else d.code)
except marque.MarqueError as e:
    print(e.code)
"""


def outcome_in_another_process(srv: RedisServer, s: Scenario, proof: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, srv.url, s.root.public_key.to_hex(), s.c_token.to_base64(), proof, str(NOW + 1)],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return out.stdout.strip()


def test_a_proof_is_used_once_across_verifiers_and_processes(server: RedisServer) -> None:
    s = build_scenario()
    one, two = verifier(s, client(server)), verifier(s, client(server))
    p = s.c_token.sign_proof(s.c, **READ, now=NOW)
    assert outcome(one, s, p) == "allowed"
    assert outcome(two, s, p) == "replayed_proof"
    assert outcome(one, s, p) == "replayed_proof"
    assert outcome_in_another_process(server, s, p) == "replayed_proof"
    q = s.c_token.sign_proof(s.c, **READ, now=NOW)
    assert outcome_in_another_process(server, s, q) == "allowed"
    assert outcome(two, s, q) == "replayed_proof"
    # Control: a verifier with its own memory accepts the used proof — the per-process weakness.
    assert outcome(marque.Verifier([s.root.public_key]), s, q) == "allowed"
    # What Redis holds: namespaced hashes with the proof window as TTL, no token material.
    keys = client(server).keys("*")
    assert len(keys) == 2
    for k in keys:
        assert k.startswith(b"marque:replay:") and len(k) == len("marque:replay:") + 64
        ttl = client(server).pttl(k)
        assert 0 < ttl <= (60 + 5) * 1000


def test_redis_down_fails_closed_and_recovers(server: RedisServer) -> None:
    s = build_scenario()
    c = client(server)
    one, two = verifier(s, c), verifier(s, client(server))
    assert outcome(one, s, s.c_token.sign_proof(s.c, **READ, now=NOW)) == "allowed"
    server.stop()
    p = s.c_token.sign_proof(s.c, **READ, now=NOW)
    with pytest.raises(marque.ReplayStoreUnavailable) as e:
        one.authorize(s.c_token, **READ, proof=p, now=NOW + 1)
    assert e.value.code == "replay_store_unavailable"  # type: ignore[attr-defined]
    assert "ConnectionError" in str(e.value)
    with pytest.raises(marque.ReplayStoreUnavailable):
        two.authorize_or_raise(s.c_token, **READ, proof=p, now=NOW + 1)
    assert outcome_in_another_process(server, s, p) == "replay_store_unavailable"
    # Without a proof, the store is not needed.
    assert one.authorize(s.c_token, **READ, now=NOW).allowed
    server.start()
    assert outcome(two, s, p) == "allowed"
    assert outcome(one, s, p) == "replayed_proof"


class Dict:
    """The store contract with a dict (one process): set-if-absent, TTL ignored."""

    def __init__(self) -> None:
        self.d: dict[str, tuple[str, int]] = {}
        self.calls: list[tuple[str, int]] = []

    def set(self, name: str, value: str, *, nx: bool, px: int) -> bool | None:
        assert nx is True and value == "1"
        self.calls.append((name, px))
        if name in self.d:
            return None
        self.d[name] = (value, px)
        return True


def test_any_object_with_set_is_a_store_and_denied_calls_never_claim() -> None:
    s = build_scenario()
    store = Dict()
    one, two = verifier(s, store), verifier(s, store)
    p = s.c_token.sign_proof(s.c, **READ, now=NOW)
    assert outcome(one, s, p) == "allowed"
    assert outcome(two, s, p) == "replayed_proof"
    # A call denied by policy (a resource outside the token) never reaches the store.
    bad = s.c_token.sign_proof(s.c, tool="read_file", operation="read", resource="src/other.rs", now=NOW)
    d = one.authorize(s.c_token, tool="read_file", operation="read", resource="src/other.rs", proof=bad, now=NOW)
    assert d.code == "not_authorized"
    assert len(store.calls) == 2
    assert all(n.startswith("marque:replay:") and px == 65_000 for n, px in store.calls)


@pytest.mark.parametrize(
    "answer",
    [0, 1, "yes", b"nope", [], object()],
)
def test_a_store_answering_anything_else_is_unavailable(answer: object) -> None:
    class Odd:
        def set(self, name: str, value: str, *, nx: bool, px: int) -> object:
            return answer

    s = build_scenario()
    p = s.c_token.sign_proof(s.c, **READ, now=NOW)
    with pytest.raises(marque.ReplayStoreUnavailable):
        verifier(s, Odd()).authorize(s.c_token, **READ, proof=p, now=NOW)


def test_ok_and_false_answers() -> None:
    for answer, want in [("OK", "allowed"), (b"OK", "allowed"), (False, "replayed_proof"), (None, "replayed_proof")]:
        class Fixed:
            def set(self, name: str, value: str, *, nx: bool, px: int) -> object:
                return answer

        s = build_scenario()
        assert outcome(verifier(s, Fixed()), s, s.c_token.sign_proof(s.c, **READ, now=NOW)) == want


def test_what_is_not_a_store_is_refused() -> None:
    s = build_scenario()
    for bad in [object(), 42, "redis://x"]:
        with pytest.raises(TypeError):
            verifier(s, bad)

    class Async:
        async def set(self, name: str, value: str, *, nx: bool, px: int) -> bool:
            return True

    with pytest.raises(TypeError, match="coroutine"):
        verifier(s, Async())
    # None is the default (in-memory) store.
    assert verifier(s, None).authorize(s.c_token, **READ, proof=s.c_token.sign_proof(s.c, **READ, now=NOW), now=NOW).allowed


def test_a_redis_counter_store_shares_budgets_atomically_and_fails_closed(server: RedisServer) -> None:
    """``counter_store=redis.Redis(...)``: the core's Lua script on a real server; a parent's
    budget bounds its children across verifiers (and clients); Redis down → the call raises."""
    s = build_scenario()
    parent = s.root_token.delegate(s.orch, to="agent:lead", to_key=s.a.public_key, max_calls=3, now=NOW)
    a = parent.delegate(s.a, to="agent:x", to_key=s.c.public_key, max_calls=2, now=NOW)
    b = parent.delegate(s.a, to="agent:y", to_key=s.c.public_key, rate={"calls": 5, "window_seconds": 60}, now=NOW)
    one = marque.Verifier([s.root.public_key], counter_store=client(server))
    two = marque.Verifier([s.root.public_key], counter_store=client(server))
    codes = [one.authorize(a, **READ, now=NOW).code, two.authorize(a, **READ, now=NOW).code,
             one.authorize(a, **READ, now=NOW).code, two.authorize(b, **READ, now=NOW).code,
             one.authorize(b, **READ, now=NOW).code]
    assert codes == [None, None, "budget_exhausted", None, "budget_exhausted"]
    keys = client(server).keys("marque:budget:*")
    assert keys and all(len(k) == len("marque:budget:") + 64 for k in keys)
    assert all(0 < client(server).pttl(k) for k in keys)
    server.stop()
    with pytest.raises(marque.ReplayStoreUnavailable):
        one.authorize(b, **READ, now=NOW)
    # A call without budgets does not need the store.
    assert one.authorize(s.root_token, **READ, now=NOW).allowed
