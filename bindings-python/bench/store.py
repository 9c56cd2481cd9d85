"""Authorize-with-proof through a replay store from Python: in-memory vs a loopback redis-server,
one and two processes (issue 17 §1; the Node twin is bindings-node/bench/store.mjs).

    .venv/bin/python bindings-python/bench/store.py [--calls N] [--warmup N]

Needs ``redis-server`` on PATH and ``redis`` (redis-py) in the environment. Starts its own
``redis-server`` on a free 127.0.0.1 port (``--save '' --appendonly no``), killed on exit, on
error and on SIGTERM/Ctrl-C. Each row runs in 1 or 2 processes (``multiprocessing``, spawn)
released together against the same Redis, each with its own ``Verifier``, its proofs signed
beforehand (each used once) and its verified-token cache warmed by the warm-up calls; each
reports its latencies, and calls/s is all processes' calls over the wall time from the first
start to the last end. The rows: the synchronous ``authorize`` (the process's own replay cache);
``await authorize_async(...)`` with an in-memory ``dict`` store; with ``replay_store=`` a ``redis.asyncio``
client (``SET NX PX``); with a budget token and ``counter_store=`` the same client (the core's
script, one EVAL); and 16 calls in flight per process (``asyncio`` tasks, one connection pool)
with the dict store and with Redis. Prints a markdown table (docs/BENCH.md, "Replay store from
Node and Python").

Not a test, but numbers from a broken path are refused: every measured call must be allowed, a
proof used again must be ``replayed_proof`` (with Redis, also in the other process), and the
budget counter in Redis must equal the calls made. Any failure exits 1 without a table.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import multiprocessing as mp
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import marque

try:
    import redis
    import redis.asyncio
except ImportError:  # pragma: no cover - the bench needs it
    sys.exit("store.py: redis-py is not installed (.venv/bin/pip install redis)")

IN_FLIGHT = 16
READ: dict[str, Any] = dict(tool="read_file", operation="read", resource="src/lib.rs")


# ---- worker: one process of a row ------------------------------------------------------------


class DictStore:
    """The in-memory replay store with redis.asyncio's ``set(key, value, nx=, px=)`` shape (a dict,
    no eviction: a few thousand keys per row): the async path's cost without a network."""

    def __init__(self) -> None:
        self.used: dict[str, float] = {}

    async def set(self, key: str, value: str, *, nx: bool, px: int) -> bool | None:
        now = time.monotonic()
        if not nx:
            raise ValueError("only SET NX is implemented")
        if self.used.get(key, 0.0) > now:
            return None
        self.used[key] = now + px / 1000
        return True


async def _timed(call: Any, proofs: list[str], calls: int, lanes: int) -> tuple[list[float], float, float]:
    """``calls`` calls over ``lanes`` concurrent sequential loops: latencies (µs), start, end (s)."""
    lat = [0.0] * calls
    nxt = 0

    async def lane() -> None:
        nonlocal nxt
        while nxt < calls:
            i = nxt
            nxt += 1
            t0 = time.perf_counter()
            d = await call(proofs[i])
            lat[i] = (time.perf_counter() - t0) * 1e6
            if not d.allowed:
                raise RuntimeError(f"measured call {i} refused: {d.code}")

    start = time.time()
    await asyncio.gather(*(lane() for _ in range(lanes)))
    return lat, start, time.time()


async def _worker(cfg: dict[str, Any], conn: Any) -> None:
    agent = marque.KeyPair.from_hex(cfg["agent_key"])
    token = marque.Token.from_base64(cfg["token"])
    now = cfg["now"]
    verifier = marque.Verifier([marque.PublicKey.from_hex(cfg["root_key"])])
    client = redis.asyncio.Redis.from_url(cfg["url"]) if cfg["store"].startswith("redis") else None
    stores: dict[str, Any] = {"replay_store": DictStore()} if cfg["store"] == "dict" else {}
    if client is not None:
        stores["replay_store"] = client
        if cfg["store"] == "redis+budget":
            stores["counter_store"] = client

    async def call(proof: str) -> marque.Decision:
        if cfg["store"] == "sync":
            return verifier.authorize(token, **READ, proof=proof, now=now)
        return await verifier.authorize_async(token, **READ, proof=proof, now=now, **stores)

    proofs = [marque.sign_proof(agent, token, **READ, now=now) for _ in range(cfg["warmup"] + cfg["calls"])]
    for p in proofs[: cfg["warmup"]]:
        d = await call(p)
        if not d.allowed:
            raise RuntimeError(f"warm-up call refused: {d.code}")
    measured = proofs[cfg["warmup"] :]
    conn.send(("ready",))
    if conn.recv() != ("go",):
        raise RuntimeError("expected go")
    lat, start, end = await _timed(call, measured, cfg["calls"], cfg["lanes"])
    again = await call(measured[0])
    if again.code != "replayed_proof":
        raise RuntimeError(f"a proof used twice was {'allowed' if again.allowed else again.code}, not replayed_proof")
    conn.send(("done", lat, start, end, cfg["warmup"] + cfg["calls"], measured[0]))
    kind, other = conn.recv()
    code = None
    if other is not None:
        d = await call(other)
        code = "allowed" if d.allowed else str(d.code)
    conn.send(("replayed", code))
    if client is not None:
        await client.aclose()


def worker(cfg: dict[str, Any], conn: Any) -> None:
    """A child process: its part of one row (see the module doc)."""
    asyncio.run(_worker(cfg, conn))


# ---- parent: redis-server, the rows, the table -----------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    if shutil.which("redis-server") is None:
        sys.exit("store.py: redis-server is not installed (Debian: apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}"
    for _ in range(250):
        try:
            redis.Redis.from_url(url, socket_timeout=0.2).ping()
            return proc, url
        except redis.exceptions.ConnectionError:
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError("redis-server did not start within 5 s")


def _recv(conn: Any, proc: Any, kind: str) -> tuple[Any, ...]:
    """The next message of ``kind`` from a worker; raises if the worker died first."""
    while not conn.poll(0.1):
        if not proc.is_alive():
            raise RuntimeError(f"a worker exited ({proc.exitcode}) before '{kind}'")
    msg = conn.recv()
    if msg[0] != kind:
        raise RuntimeError(f"expected '{kind}' from a worker, got '{msg[0]}'")
    return msg


def run_row(row: dict[str, Any], procs: int, shared: dict[str, Any], children: list[Any]) -> dict[str, float]:
    """One row: ``procs`` workers released together; the merged latencies and the checks."""
    r = shared["redis"]
    r.flushall()
    ctx = mp.get_context("spawn")
    cfg = {**shared["cfg"], "token": row["token"], "store": row["store"], "lanes": row["lanes"]}
    ws = []
    for _ in range(procs):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=worker, args=(cfg, child), daemon=True)
        p.start()
        children.append(p)
        ws.append((p, parent))
    for p, c in ws:
        _recv(c, p, "ready")
    for _, c in ws:
        c.send(("go",))
    done = [_recv(c, p, "done") for p, c in ws]
    shares = row["store"].startswith("redis") and procs == 2
    for i, (_, c) in enumerate(ws):
        c.send(("replay", done[(i + 1) % procs][5] if shares else None))
    for p, c in ws:
        code = _recv(c, p, "replayed")[1]
        if shares and code != "replayed_proof":
            raise RuntimeError(f"a proof used by the other process was {code} here, not replayed_proof")
    for p, _ in ws:
        p.join(30)
        if p.exitcode != 0:
            raise RuntimeError(f"a worker exited with {p.exitcode}")
    if row["store"] == "redis+budget":
        keys = list(r.scan_iter("marque:budget:*"))
        made = sum(d[4] for d in done)
        spent = sum(int(r.get(k)) for k in keys)
        if len(keys) != 1 or spent != made:
            raise RuntimeError(f"{len(keys)} budget counters holding {spent}, but {made} calls were allowed")
    lat = sorted(x for d in done for x in d[1])
    wall = max(d[3] for d in done) - min(d[2] for d in done)
    pick = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))]  # noqa: E731
    return {"p50": pick(0.5), "p99": pick(0.99), "per_s": len(lat) / wall}


def fmt_us(v: float) -> str:
    return f"{v:.0f} µs" if v < 1000 else f"{v / 1000:.2f} ms"


def print_table(args: argparse.Namespace, version: str, load0: tuple[float, ...], load1: tuple[float, ...],
                out: list[str]) -> None:
    """The run's conditions, then the rows as a markdown table."""
    loads = lambda l: " ".join(f"{v:.2f}" for v in l)  # noqa: E731
    print(f"{args.calls} measured calls per process and row after {args.warmup} warm-up calls; "
          f"{datetime.date.today()}, Python {platform.python_version()}, redis-py {redis.__version__}, "
          f"redis-server {version}, {os.cpu_count()} cores, load average {loads(load0)} before, {loads(load1)} after.")
    print()
    print("| store | processes | p50 | p50 vs memory | p99 | calls/s (all processes) |")
    print("|---|---:|---:|---:|---:|---:|")
    for line in out:
        print(line)
    print()
    print(f"p50 vs memory: the sequential rows against the sync `authorize` row, the {IN_FLIGHT}-in-flight rows "
          f"against the dict store at {IN_FLIGHT}, same process count.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=3000, help="measured calls per process and row")
    ap.add_argument("--warmup", type=int, default=200, help="warm-up calls per process and row")
    args = ap.parse_args()
    if args.calls < 1 or args.warmup < 1:
        ap.error("--calls and --warmup are positive")
    root, orch, agent = marque.KeyPair.generate(), marque.KeyPair.generate(), marque.KeyPair.generate()
    now = int(time.time())
    m0 = marque.mint(root, agent="agent:orchestrator", agent_key=orch.public_key, principal="user:alice",
                     rights=[{"tool": "read_file", "operation": "read"}], ttl_seconds=3600, now=now)
    hop: dict[str, Any] = dict(to="agent:reader", to_key=agent.public_key, tools=["read_file"], resource_prefix="src/", now=now)
    plain = m0.delegate(orch, **hop).to_base64()
    budgeted = m0.delegate(orch, **hop, max_calls=1_000_000).to_base64()

    proc, url = start_redis()
    children: list[Any] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        r = redis.Redis.from_url(url)
        shared = {"redis": r, "cfg": {"url": url, "now": now, "root_key": root.public_key.to_hex(),
                                      "agent_key": agent.to_hex(), "calls": args.calls, "warmup": args.warmup}}
        rows = [
            dict(name="memory, sync `authorize` (own replay cache)", store="sync", lanes=1, token=plain, base=True),
            dict(name="memory, `await authorize_async` + dict store", store="dict", lanes=1, token=plain),
            dict(name="Redis, `authorize_async(replay_store=redis.asyncio)`", store="redis", lanes=1, token=plain),
            dict(name="Redis, budget token: `+ counter_store=` (EVAL)", store="redis+budget", lanes=1, token=budgeted),
            dict(name=f"memory, dict store, {IN_FLIGHT} in flight", store="dict", lanes=IN_FLIGHT, token=plain, base=True),
            dict(name=f"Redis `replay_store`, {IN_FLIGHT} in flight", store="redis", lanes=IN_FLIGHT, token=plain),
        ]
        load0 = os.getloadavg()
        out = []
        for procs in (1, 2):
            base = None
            for row in rows:
                res = run_row(row, procs, shared, children)
                if row.get("base"):
                    base = res
                assert base is not None
                per_s = f"{res['per_s']:,.0f}".replace(",", " ")
                out.append(f"| {row['name']} | {procs} | {fmt_us(res['p50'])} | {res['p50'] / base['p50']:.2f}× | "
                           f"{fmt_us(res['p99'])} | {per_s} |")
        load1 = os.getloadavg()
        version = r.info("server").get("redis_version", "?")
        r.close()
    finally:
        for c in children:
            if c.is_alive():
                c.kill()
        proc.kill()
        proc.wait()
    print_table(args, version, load0, load1, out)

if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 — a broken path prints no table
        print(f"store.py: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
