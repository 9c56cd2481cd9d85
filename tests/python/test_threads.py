"""Concurrency: one Verifier shared by many threads, and the GIL released while it works."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import marque
from conftest import NOW, build_scenario, key


def test_gil_is_released_during_authorize() -> None:
    """Deterministic, not timing-based: with a huge switch interval the interpreter never
    forces a thread switch, so the main thread can only run while the worker is inside a call
    that releases the GIL. The main thread's pure-Python loop then finishes before the
    worker's authorize loop; with the GIL held, the worker would finish first."""
    s = build_scenario()
    started = threading.Event()
    done: dict[str, float] = {}

    def worker() -> None:
        started.set()
        for _ in range(20):
            s.verifier.authorize(s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
        done["worker"] = time.perf_counter()

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        t = threading.Thread(target=worker)
        t.start()
        started.wait()  # blocks: lets the worker take the GIL and enter authorize
        total = 0
        for i in range(200_000):  # pure Python, never releases the GIL by itself
            total += i
        done["main"] = time.perf_counter()
        t.join()
    finally:
        sys.setswitchinterval(old)
    assert total == sum(range(200_000))
    assert done["main"] < done["worker"], "the main thread could not run while authorize was working"


def test_gil_is_released_during_mint_and_delegate() -> None:
    root, agent = key(1), key(2)
    started = threading.Event()
    done: dict[str, float] = {}

    def worker() -> None:
        started.set()
        for _ in range(10):
            t = marque.mint(root, agent="agent:a", agent_key=agent, principal="u", rights=["t"], now=NOW)
            t.delegate(agent, to="agent:b", to_key=key(3), now=NOW)
        done["worker"] = time.perf_counter()

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        th = threading.Thread(target=worker)
        th.start()
        started.wait()
        x = 0
        for i in range(200_000):
            x ^= i
        done["main"] = time.perf_counter()
        th.join()
    finally:
        sys.setswitchinterval(old)
    assert done["main"] < done["worker"]


def test_shared_verifier_is_correct_under_contention() -> None:
    """Many threads authorize (and sign fresh proofs) against one Verifier; every decision is
    right, every proof is accepted exactly once, and revocation applies to all threads."""
    s = build_scenario()
    # The Datalog time limit is wall-clock; four threads on a shared 2-core machine (or a debug
    # build) can exceed the 20 ms default, which is not what this test is about.
    v = marque.Verifier([s.root.public_key], limits=marque.Limits(max_time_micros=5_000_000))
    proofs = [s.c_token.sign_proof(s.c, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
              for _ in range(64)]

    def job(i: int) -> tuple[bool, bool, str | None]:
        ok = v.authorize(s.c_token, tool="read_file", operation="read", resource="src/main.rs",
                         proof=proofs[i % 64], now=NOW)
        no = v.authorize(s.c_token.to_base64(), tool="read_file", operation="read", resource="src/lib.rs", now=NOW)
        return ok.allowed, no.allowed, ok.code

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(job, range(128)))
    first_use = [r for r in results if r[0]]
    assert len(first_use) == 64, "each proof must be accepted exactly once"
    assert all(code == "replayed_proof" for ok, _, code in results if not ok)
    assert not any(no for _, no, _ in results)

    v.revoke_agent("agent:agent_a")
    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = list(pool.map(lambda _: v.authorize(s.c_token, tool="read_file", operation="read",
                                                    resource="src/main.rs", now=NOW).code, range(16)))
    assert codes == ["revoked"] * 16


def test_throughput_is_reported_not_asserted(capsys: object) -> None:
    """Measures 1 vs 2 worker threads and prints the ratio (no timing assertion: the machine is shared)."""
    s = build_scenario()
    token = s.c_token

    def run(n: int) -> None:
        for _ in range(n):
            s.verifier.authorize(token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)

    n = 40
    t0 = time.perf_counter()
    run(2 * n)
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(run, [n, n]))
    two = time.perf_counter() - t0
    print(f"\nauthorize x{2 * n}: 1 thread {one * 1000:.0f} ms, 2 threads {two * 1000:.0f} ms, speed-up {one / two:.2f}x")
    assert one > 0 and two > 0
