"""The awaiting half of ``Verifier.authorize_async`` (asyncio, ``redis.asyncio`` clients).

The core has decided everything but the call's single-use state and keeps its order (the
proof's nonce, then a human approval's key, then the budgets of every hop); this only awaits each store, bounded by
``timeout`` seconds, and hands its answer back to the core's ``PendingAuthorization``, which
converts it (``True`` / ``None`` for the nonce's ``SET NX PX``; the script's integer for the
budgets). A store that raises or times out fails the call closed: ``ReplayStoreUnavailable``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any, Callable

from marque._native import Decision, PendingAuthorization


async def decided(decision: Decision) -> Decision:
    """An awaitable of a decision made without a store."""
    return decision


async def _answer(what: str, call: Callable[[], Any], timeout: float) -> tuple[Any, str | None]:
    """``(answer, None)``, or ``(None, why)`` when the store raised or did not answer in time."""
    try:
        out = call()
        if inspect.isawaitable(out):
            out = await asyncio.wait_for(out, timeout)
        return out, None
    except asyncio.TimeoutError:
        return None, f"the {what} did not answer within {timeout} s"
    except Exception as e:  # noqa: BLE001 — any store failure fails the call closed
        return None, f"the {what} raised {type(e).__name__}: {str(e)[:200]}"


async def settle(
    pending: PendingAuthorization,
    replay_set: Callable[..., Any] | None,
    counter_eval: Callable[..., Any] | None,
    script: str,
    timeout: float,
) -> Decision:
    """Claims the nonce, then the approval, then spends the budgets, as the pending call asks."""
    while (key := pending.key) is not None:
        if replay_set is None:
            return pending.fail("no replay store")
        got, why = await _answer("replay store", functools.partial(replay_set, key, "1", nx=True, px=pending.ttl_ms), timeout)
        if why is not None:
            return pending.fail(why)
        decision = pending.claimed(got)
        if decision is not None:
            return decision
    args, n = pending.spend_args, len(pending.charges)
    if counter_eval is None:
        return pending.fail("no counter store")
    got, why = await _answer("counter store", lambda: counter_eval(script, n, *args), timeout)
    if why is not None:
        return pending.fail(why)
    return pending.spent(got)
