"""Concurrency: one Verifier shared by many threads, and the GIL released while it works."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import marque
from conftest import NOW, build_scenario, key


def main_thread_progresses_while(native_call: Callable[[], object], give_up_after: float = 10.0) -> bool:
    """Runs ``native_call`` in a loop on a worker thread, with a huge switch interval so the
    interpreter never forces a thread switch: the main thread can then only run while the
    worker is inside a call that releases the GIL. The worker stops as soon as the main
    thread's pure-Python loop is done, or after ``give_up_after`` seconds. Returns whether the main thread finished
    first (deterministic; load on the machine only changes how long it takes)."""
    started, main_done = threading.Event(), threading.Event()
    worker_gave_up = threading.Event()

    def worker() -> None:
        started.set()
        deadline = time.monotonic() + give_up_after
        while not main_done.is_set():
            native_call()
            if time.monotonic() > deadline:
                worker_gave_up.set()
                return

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        t = threading.Thread(target=worker)
        t.start()
        started.wait()  # blocks: lets the worker take the GIL and start calling
        total = 0
        for i in range(200_000):  # pure Python: never releases the GIL by itself
            total += i
        main_done.set()
        t.join()
    finally:
        sys.setswitchinterval(old)
    assert total == sum(range(200_000))
    return not worker_gave_up.is_set()


def test_gil_is_released_during_authorize() -> None:
    s = build_scenario()
    assert main_thread_progresses_while(
        lambda: s.verifier.authorize(s.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
    ), "the main thread could not run while authorize was working"


def test_gil_is_released_during_mint_delegate_and_proofs() -> None:
    root, agent = key(1), key(2)

    def work() -> None:
        t = marque.mint(root, agent="agent:a", agent_key=agent, principal="u", rights=["t"], now=NOW)
        t = t.delegate(agent, to="agent:b", to_key=key(3), now=NOW)
        marque.sign_proof(key(3), t, tool="t", resource="r", now=NOW)

    assert main_thread_progresses_while(work)


def test_the_gil_check_detects_a_gil_holding_call() -> None:
    """The check itself is sound: a call that holds the GIL (a C builtin without a release
    point) starves the main thread until the worker gives up."""
    import hashlib

    data = b"x" * 1000  # hashlib releases the GIL only above 2047 bytes
    assert not main_thread_progresses_while(lambda: hashlib.sha256(data).digest(), give_up_after=1.0)


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
