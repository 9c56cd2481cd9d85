"""Guarding tool functions: a per-call context and the ``requires`` decorator.

A tool server learns the caller's token and proof from its transport (an HTTP header, MCP
``_meta``, a queue message …) and opens a :func:`call_context` around the call; tool
functions decorated with :func:`requires` then authorize themselves against it::

    verifier = marque.Verifier([root_public_key])

    @marque.requires(verifier, tool="read_file", operation="read",
                     resource=lambda path: path)
    def read_file(path: str) -> str:
        return open(path).read()

    with marque.call_context(token=token_text, proof=proof):
        read_file("src/main.py")       # raises NotAuthorized (or Expired, …) when denied

Pass ``audit_log=`` (a :class:`~marque.AuditLog`) and ``audit_signer=`` (the server's
:class:`~marque.KeyPair`, or any signer such as a KMS client) to record every decision, allowed
or denied, as a signed entry (``Decision.to_audit_event()``); verify the log later with
``AuditLog.verify``.

The context lives in a :class:`contextvars.ContextVar`, so it follows threads started with
``contextvars.copy_context()`` and asyncio tasks, and never leaks between concurrent requests.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, TypeVar, Union, cast

from marque._native import AuditFile, AuditLog, Decision, InvalidArgument, KeyPair, NotAuthorized, Token, Verifier

if TYPE_CHECKING:
    from typing_extensions import ParamSpec

    from marque._native import _SignerLike
    from marque.otel import OtelAuditSink

    P = ParamSpec("P")
R = TypeVar("R")

TokenLike = Union[Token, str, bytes]
Resource = Union[str, Callable[..., str]]


@dataclass(frozen=True)
class CallContext:
    """Who is calling: the token presented, its proof of possession, and optional extras
    (``approval``: a human approval of the call, for one that needs it)."""

    token: TokenLike | None
    proof: str | None = None
    now: float | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    verifier: Verifier | None = None
    decision: Decision | None = None
    approval: str | None = None


_CALL: contextvars.ContextVar[CallContext | None] = contextvars.ContextVar("marque_call", default=None)
_DECISION: contextvars.ContextVar[Decision | None] = contextvars.ContextVar("marque_decision", default=None)


@contextmanager
def call_context(
    *,
    token: TokenLike | None,
    proof: str | None = None,
    now: float | None = None,
    attributes: Mapping[str, str] | None = None,
    verifier: Verifier | None = None,
    decision: Decision | None = None,
    approval: str | None = None,
) -> Iterator[CallContext]:
    """Makes ``token`` (and ``proof``) the credentials of every guarded call inside the block.

    ``verifier`` is used by guards declared without one; ``now`` and ``attributes`` are passed
    to ``Verifier.authorize``. ``decision`` is an allowed decision already taken for this call
    (e.g. by ``marque.mcp.MarqueGuard``): a guard asking for exactly the same tool, operation
    and resource reuses it instead of authorizing again (a proof is single-use). ``approval``
    (from :func:`marque.approve`) is passed to ``Verifier.authorize`` for a call that needs one.
    Contexts nest; the innermost wins.
    """
    ctx = CallContext(
        token=token, proof=proof, now=now, attributes=dict(attributes or {}), verifier=verifier, decision=decision,
        approval=approval,
    )
    reset = _CALL.set(ctx)
    try:
        yield ctx
    finally:
        _CALL.reset(reset)


def current_call() -> CallContext | None:
    """The innermost active :func:`call_context`, if any."""
    return _CALL.get()


def current_decision() -> Decision | None:
    """Inside a function guarded by :func:`requires`: the (allowed) decision of this call."""
    return _DECISION.get()


def _not_authorized(message: str) -> NotAuthorized:
    err = NotAuthorized(message)
    err.message = message
    return err


def _invalid_argument(message: str) -> InvalidArgument:
    err = InvalidArgument(message)
    err.message = message
    return err


def _check_audit_log(audit_log: AuditFile | AuditLog | OtelAuditSink | None, audit_signer: _SignerLike | None) -> None:
    """Raises ``InvalidArgument`` unless ``audit_log`` and ``audit_signer`` are given together."""
    if (audit_log is None) != (audit_signer is None):
        raise _invalid_argument("audit_log and audit_signer go together: the log signs each entry with the signer")
    from marque.otel import OtelAuditSink  # no OpenTelemetry import unless a sink is made

    if audit_log is not None and not isinstance(audit_log, (AuditLog, AuditFile, OtelAuditSink)):
        raise TypeError(
            "audit_log must be a marque.AuditFile, a marque.AuditLog or a marque.otel.OtelAuditSink, "
            f"got {type(audit_log).__name__}"
        )
    if audit_signer is not None and not (
        isinstance(audit_signer, KeyPair)
        or (hasattr(audit_signer, "public_key") and callable(getattr(audit_signer, "sign", None)))
    ):
        raise TypeError(
            "audit_signer must be a marque.KeyPair or a signer (public_key and sign(bytes) -> bytes), "
            f"got {type(audit_signer).__name__}"
        )


def _record(
    decision: Decision,
    *,
    audit: Callable[[Decision], object] | None = None,
    audit_log: AuditFile | AuditLog | OtelAuditSink | None = None,
    audit_signer: _SignerLike | None = None,
) -> None:
    """Appends ``decision`` to ``audit_log`` (signed by ``audit_signer``), then calls ``audit``.

    A failing append (``AuditChainBroken`` when the log's last line is damaged) propagates, so a
    guarded call does not run unrecorded.
    """
    if audit_log is not None and audit_signer is not None:
        audit_log.append(audit_signer, decision.to_audit_event())
    if audit is not None:
        audit(decision)


def authorize_call(
    *,
    tool: str,
    resource: str,
    operation: str = "*",
    verifier: Verifier | None = None,
    audit: Callable[[Decision], object] | None = None,
    audit_log: AuditFile | AuditLog | OtelAuditSink | None = None,
    audit_signer: _SignerLike | None = None,
) -> Decision:
    """Authorizes one call from the current :func:`call_context`; the body of :func:`requires`.

    Returns the allowed ``Decision``. Raises ``NotAuthorized`` when there is no call context
    or no token, the exception of the denial code (``NotAuthorized``, ``Expired``,
    ``Revoked``, ``InvalidProof``, ``ReplayedProof`` …) when denied (``Decision.into_result``
    semantics), and ``InvalidToken`` / ``InvalidSignature`` / … for a bad token (no decision,
    nothing recorded). Every decision, allowed or denied, is appended to ``audit_log`` (signed
    by ``audit_signer``) and passed to ``audit`` before anything is raised. A decision reused
    from the call context (taken and recorded by ``marque.mcp.MarqueGuard``) is not recorded
    again.
    """
    _check_audit_log(audit_log, audit_signer)
    ctx = _CALL.get()
    if ctx is None or ctx.token is None:
        raise _not_authorized(f"no marque credentials for {tool}:{operation} on {resource!r} (no call context)")
    prior = ctx.decision
    if (
        prior is not None
        and prior.allowed
        and (prior.tool, prior.operation, prior.resource) == (tool, operation, resource)
        and (verifier is None or verifier is ctx.verifier)
    ):
        return prior
    v = verifier or ctx.verifier
    if v is None:
        raise _invalid_argument("no Verifier: pass one to requires() or call_context(verifier=...)")
    decision = v.authorize(
        ctx.token,
        tool=tool,
        operation=operation,
        resource=resource,
        proof=ctx.proof,
        now=ctx.now,
        attributes=dict(ctx.attributes) or None,
        approval=ctx.approval,
    )
    _record(decision, audit=audit, audit_log=audit_log, audit_signer=audit_signer)
    return decision.into_result()


def requires(
    verifier: Verifier | None = None,
    *,
    tool: str,
    operation: str = "*",
    resource: Resource = "*",
    audit: Callable[[Decision], object] | None = None,
    audit_log: AuditFile | AuditLog | OtelAuditSink | None = None,
    audit_signer: _SignerLike | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: the function runs only if the current call context's token allows it.

    ``resource`` is a string, or a callable receiving the guarded function's arguments (by
    name, defaults applied) and returning the resource string, e.g.
    ``resource=lambda path, **_: path``. Works on plain and ``async`` functions. Inside the
    function, :func:`current_decision` returns the decision. With ``audit_log`` and
    ``audit_signer``, every decision (allowed or denied) is appended to the log as a signed
    entry; ``audit`` receives every decision too.
    """
    _check_audit_log(audit_log, audit_signer)

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        sig = inspect.signature(fn)
        wanted = None if isinstance(resource, str) else inspect.signature(resource).parameters
        takes_all = wanted is not None and any(p.kind is inspect.Parameter.VAR_KEYWORD for p in wanted.values())

        def resolve(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
            if isinstance(resource, str) or wanted is None:
                return cast(str, resource)
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            given = {k: v for k, v in bound.arguments.items() if takes_all or k in wanted}
            value = resource(**given)
            if not isinstance(value, str):
                raise TypeError(f"the resource callable of @requires must return str, got {type(value).__name__}")
            return value

        def decide(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Decision:
            return authorize_call(
                tool=tool,
                operation=operation,
                resource=resolve(args, kwargs),
                verifier=verifier,
                audit=audit,
                audit_log=audit_log,
                audit_signer=audit_signer,
            )

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                decision = decide(args, kwargs)
                reset = _DECISION.set(decision)
                try:
                    return await fn(*args, **kwargs)
                finally:
                    _DECISION.reset(reset)

            return cast("Callable[P, R]", async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            decision = decide(args, kwargs)
            reset = _DECISION.set(decision)
            try:
                return fn(*args, **kwargs)
            finally:
                _DECISION.reset(reset)

        return cast("Callable[P, R]", wrapper)

    return decorate


__all__ = [
    "CallContext",
    "authorize_call",
    "call_context",
    "current_call",
    "current_decision",
    "requires",
]
