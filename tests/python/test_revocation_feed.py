"""The revocation feed end to end: ``marque revoke publish`` writes the signed list where a
loopback HTTP server (ETag / If-None-Match, started and stopped here) serves it, and
``marque.RevocationFeed`` keeps a verifier current from it: a new list is enforced, a ``304``
keeps it, a failing or vanished publisher keeps the list in force, backs off and lets the
staleness rule fail closed, a good answer recovers, and the state file carries the rollback rule
across a restart. Uses the CLI binary (``target/debug/marque`` or ``MARQUE_BIN``).
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import marque

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("MARQUE_BIN", str(ROOT / "target" / "debug" / "marque"))


def cli(*args: str) -> str:
    out = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


class Publisher:
    """A static server for one file, with ETag and If-None-Match, and a switch to fail."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.status: int | None = None  # force this status instead of serving
        self.requests: list[dict[str, Any]] = []
        publisher = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                publisher.requests.append({"path": self.path, "if_none_match": self.headers.get("If-None-Match")})
                if publisher.status is not None:
                    self.send_response(publisher.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = publisher.path.read_bytes()
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/revocations.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def world(tmp_path: pathlib.Path) -> Any:
    if not os.path.exists(BIN):
        pytest.fail(f"marque binary not found at {BIN}: run `cargo build -p marque-cli` or set MARQUE_BIN")
    op_key = tmp_path / "operator.pem"
    op_pub = cli("keygen", "--out", str(op_key))
    served = tmp_path / "revocations.json"
    unsigned = tmp_path / "set.json"
    unsigned.write_text('{"ids":[],"agents":[],"keys":[],"principals":[],"tasks":[]}')

    def publish(*agents: str) -> int:
        if agents:
            args = ["revoke", "add", "--list", str(unsigned)]
            for a in agents:
                args += ["--agent", a]
            cli(*args)
        return int(cli("revoke", "publish", "--list", str(unsigned), "--key", str(op_key), "--out", str(served)).split('"sequence":')[1].split(",")[0])

    publish()
    server = Publisher(served)
    root = marque.KeyPair.generate()
    agent = marque.KeyPair.generate()
    token = marque.mint(root, agent="agent:a", agent_key=agent.public_key, principal="user:alice",
                        rights=["read_file:read:*"], ttl_seconds=3600)

    def verifier(staleness: int = 600) -> marque.Verifier:
        return marque.Verifier([root.public_key], operator_keys=[op_pub], max_revocation_staleness=staleness)

    def read(v: marque.Verifier, now: float | None = None) -> str:
        try:
            d = v.authorize(token, tool="read_file", operation="read", resource="a", now=now)
        except marque.MarqueError as e:
            return e.code
        return "allowed" if d.allowed else str(d.code)

    yield dict(server=server, publish=publish, verifier=verifier, read=read, served=served, tmp=tmp_path)
    server.stop()


def test_a_published_revocation_is_enforced_and_304_keeps_the_list(world: Any) -> None:
    v = world["verifier"]()
    feed = marque.RevocationFeed(v, world["server"].url, interval=1)
    assert world["read"](v) == "revocation_list_stale", "no list yet: closed"
    out = feed.poll_once()
    assert out == {"loaded": 1, "error": None, "next_poll_in": 1}
    assert world["read"](v) == "allowed"
    assert feed.poll_once() == {"loaded": None, "error": None, "next_poll_in": 1}
    assert world["server"].requests[-1]["if_none_match"] == feed.state.etag
    assert world["publish"]("agent:a") == 2
    assert feed.poll_once()["loaded"] == 2
    assert world["read"](v) == "revoked"
    assert feed.freshness() is not None and feed.freshness() < 60


def test_a_failing_publisher_keeps_the_list_backs_off_and_fails_closed_when_stale(world: Any) -> None:
    v = world["verifier"](staleness=120)
    feed = marque.RevocationFeed(v, world["server"].url, interval=2, max_backoff=8)
    feed.poll_once()
    world["server"].status = 500
    waits = [feed.poll_once()["next_poll_in"] for _ in range(4)]
    assert waits == [4, 8, 8, 8]
    assert "HTTP 500" in (feed.state.last_error or "")
    world["server"].status = 302  # a redirect is not followed: the feed polls the URL it was given
    assert "HTTP 302" in (feed.poll_once()["error"] or "")
    assert world["read"](v) == "allowed", "the list in force still holds"
    world["server"].stop()
    out = feed.poll_once()
    assert out["loaded"] is None and out["error"] and "Error" in out["error"]
    assert world["read"](v, now=time.time() + 200) == "revocation_list_stale"
    # The publisher back (a new server on the same file): recovers without a restart.
    world["server"] = Publisher(world["served"])
    feed2 = marque.RevocationFeed(v, world["server"].url, interval=2)
    world["publish"]()
    assert feed2.poll_once()["loaded"] == 2
    assert world["read"](v) == "allowed"


def test_the_state_file_refuses_an_older_list_after_a_restart(world: Any) -> None:
    state = world["tmp"] / "state" / "last.json"
    state.parent.mkdir()
    old = world["served"].read_bytes()
    world["publish"]("agent:a")
    v = world["verifier"]()
    feed = marque.RevocationFeed(v, world["server"].url, state_file=str(state))
    assert feed.restored is None
    assert feed.poll_once()["loaded"] == 2
    assert state.exists()
    # Restart: a fresh verifier has the list before any poll; the publisher (or someone in its
    # place) now serves the older list: refused, still revoked.
    v2 = world["verifier"]()
    feed2 = marque.RevocationFeed(v2, world["server"].url, state_file=str(state))
    assert feed2.restored == 2
    assert world["read"](v2) == "revoked"
    world["served"].write_bytes(old)
    out = feed2.poll_once()
    assert out["loaded"] is None and "revocation_list_rollback" in out["error"]
    assert world["read"](v2) == "revoked"


def test_the_polling_thread_picks_up_a_new_list(world: Any) -> None:
    v = world["verifier"]()
    with marque.RevocationFeed(v, world["server"].url, interval=1) as feed:
        deadline = time.monotonic() + 10
        while world["read"](v) != "allowed":
            assert time.monotonic() < deadline, "the first list never arrived"
            time.sleep(0.05)
        world["publish"]("agent:a")
        while world["read"](v) != "revoked":
            assert time.monotonic() < deadline, "the revocation never arrived"
            time.sleep(0.05)
    assert feed._thread is None
    assert feed.polls >= 2


def test_wrong_urls_units_and_types_are_refused(world: Any) -> None:
    v = world["verifier"]()
    for url in ["file:///etc/passwd", "https://user:pw@ops.example/r.json", "ftp://x/r", "https://x/r#f"]:
        with pytest.raises(marque.InvalidArgument):
            marque.RevocationFeed(v, url)
    with pytest.raises(marque.InvalidArgument):
        marque.RevocationFeed(v, world["server"].url, interval=30_000)  # milliseconds meant
    with pytest.raises(marque.InvalidArgument):
        marque.RevocationFeed(v, world["server"].url, interval=30, max_backoff=10)
    with pytest.raises(ValueError):
        marque.RevocationFeed(v, world["server"].url, timeout=0)
    with pytest.raises(TypeError):
        marque.RevocationFeed(object(), world["server"].url)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        marque.RevocationFeed(v, world["server"].url, intervl=5)  # type: ignore[call-arg]
