"""The server side of marque's MCP integrations, once: what :class:`marque.mcp.MarqueGuard` (the
official SDK) and :class:`marque.fastmcp.MarqueMiddleware` (fastmcp) do with one message.

The core decides (``Verifier.authorize_mcp``: the method → request mapping, the allow-list, the
token and proof); this module only feeds it the message and the HTTP headers, records the
decision (``audit``, ``audit_log``), turns a refusal into :class:`Refusal` (code, message and the
``data["marque"]`` details each integration sends in its own error type), and opens the current
decision and call context around the handler. Private: the public API is the two integrations.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from marque._native import (
    MCP_APPROVAL_META_KEY,
    AuditFile,
    AuditLog,
    Decision,
    MarqueError,
    McpConfig,
    Verifier,
    bearer_token,
)
from marque.context import _DECISION, _record, call_context

if TYPE_CHECKING:
    from marque._native import _SignerLike
    from marque.otel import OtelAuditSink
    from marque.mcp import ToolSpec

#: ``_meta`` key carrying the marque token (base64url) of a call (``marque.mcp.META_TOKEN``).
META_TOKEN = "marque/token"
#: ``_meta`` key carrying a human approval of a call (``marque.mcp.META_APPROVAL``; the core's).
META_APPROVAL = MCP_APPROVAL_META_KEY


class Refusal(Exception):
    """A message marque refuses: its marque ``code``, a ``message`` and the ``details`` an
    integration puts under ``data["marque"]`` (``method``; ``tool``, ``operation``, ``resource``
    once mapped; ``agent``, ``path``, ``reasons`` once decided; for ``approval_required``,
    ``approval_request``: ``{"digest", "approvers", "reason"}`` — what to approve and who may,
    the same object as the Node and Wasm guards'; the retry carries the approval in
    ``_meta["marque/approval"]``)."""

    def __init__(self, code: str, message: str, details: dict[str, Any]):
        super().__init__(f"marque: {code}: {message}")
        self.code = code
        self.message = message
        self.details = details

    @property
    def data(self) -> dict[str, Any]:
        """``{"marque": {"code": …, **details}}``, the JSON-RPC error's ``data``."""
        return {"marque": {"code": self.code, **self.details}}


def authorize_message(
    verifier: Verifier,
    config: McpConfig,
    tools: Mapping[str, ToolSpec],
    message: dict[str, Any],
    *,
    authorization: str | None,
    proof: str | None,
    mcp_method: str | None,
    mcp_name: str | None,
    now: float | None = None,
    audit: Callable[[Decision], object] | None = None,
    audit_log: AuditFile | AuditLog | OtelAuditSink | None = None,
    audit_signer: _SignerLike | None = None,
) -> tuple[Decision | None, str | None]:
    """Decides one JSON-RPC message with the core and records the decision.

    Returns ``(decision, token)`` for a message to run: ``decision`` is ``None`` for an
    allow-listed one (its token, if any, was admitted), else the allowing decision, and ``token``
    the token it was decided on (``Authorization: Bearer`` or ``_meta["marque/token"]``). Raises
    :class:`Refusal` otherwise — also when the decision cannot be recorded (``audit_log``'s last
    line damaged: ``audit_chain_broken``), so a call never runs unrecorded.
    """
    method = message.get("method")
    params = message.get("params")
    details: dict[str, Any] = {"method": method}
    resource = None
    try:
        if method == "tools/call" and isinstance(params, Mapping) and isinstance(params.get("name"), str):
            spec = tools.get(params["name"])
            arguments = params.get("arguments")
            if spec is not None and (arguments is None or isinstance(arguments, Mapping)):
                resource = spec.app_resource(arguments)
        outcome = verifier.authorize_mcp(
            json.dumps(message),
            config=config,
            token=bearer_token(authorization) if authorization is not None else None,
            proof=proof,
            mcp_method=mcp_method,
            mcp_name=mcp_name,
            resource=resource,
            now=now,
        )
    except MarqueError as e:
        raise Refusal(e.code, e.message, details) from None
    decision = outcome.decision
    if decision is None:
        return None, None
    tool, operation, mapped = outcome.request or ("", "", "")
    details.update(tool=tool, operation=operation, resource=mapped)
    try:
        _record(decision, audit=audit, audit_log=audit_log, audit_signer=audit_signer)
    except MarqueError as e:
        raise Refusal(e.code, e.message, details) from None
    if not decision.allowed:
        details.update(agent=decision.agent, path=decision.path, reasons=decision.reasons)
        asked = decision.approval_request
        if asked is not None:
            details["approval_request"] = dict(asked)
        raise Refusal(decision.code or "not_authorized", "; ".join(decision.reasons), details)
    token = bearer_token(authorization) if authorization is not None else None
    if token is None and isinstance(params, Mapping) and isinstance(params.get("_meta"), Mapping):
        meta_token = params["_meta"].get(META_TOKEN)
        token = meta_token if isinstance(meta_token, str) else None
    return decision, token


@contextlib.contextmanager
def current(decision: Decision | None, token: str | None, verifier: Verifier, now: float | None) -> Iterator[None]:
    """Around the handler of an allowed message: :func:`marque.current_decision` is ``decision``
    and a :func:`marque.call_context` holds its token, so guards inside the handler reuse the
    decision for the same request (its proof is spent) and authorize others on the token alone.
    Nothing for an allow-listed message (``decision`` is ``None``)."""
    if decision is None:
        yield
        return
    reset = _DECISION.set(decision)
    try:
        with call_context(token=token, verifier=verifier, now=now, decision=decision):
            yield
    finally:
        _DECISION.reset(reset)
