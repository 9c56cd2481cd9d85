"""marque for servers built with the standalone ``fastmcp`` package (4.x).

Glue over the core, like :mod:`marque.mcp` for the official SDK: the same rules decide
(``Verifier.authorize_mcp``: which method maps to which marque request, what is refused), so one
call gets one decision whichever server handles it. Two pieces:

* :class:`MarqueMiddleware` — ``FastMCP(..., middleware=[MarqueMiddleware(verifier, tools=…)])``:
  every message fastmcp hands to its middleware chain (tool calls, resource reads, prompts,
  completions, the catalogues…) is mapped and decided by the core before its handler runs; a
  refusal is a JSON-RPC error with code :data:`marque.mcp.DENIED_ERROR_CODE` and
  ``data["marque"]`` (``code``, ``reasons``, ``agent``, ``path``, …). As with
  :class:`marque.mcp.MarqueGuard` (the same code path, ``marque._gate``): ``audit`` /
  ``audit_log`` + ``audit_signer`` record every decision before the handler runs (a decision
  that cannot be recorded is a refusal), and inside the handler :func:`marque.current_decision`
  is the allowing decision and a :func:`marque.call_context` holds the call's token.
* :class:`MarqueTokenVerifier` — ``FastMCP(..., auth=MarqueTokenVerifier(verifier,
  base_url=…))``: fastmcp's auth hook (its ``TokenVerifier``); the bearer token is admitted by the
  core (``Verifier.admit``: revocation-list staleness, signatures, expiry, revocation) and its
  effective narrowed rights are the ``AccessToken`` scopes.

The token comes from ``Authorization: Bearer`` (HTTP) or ``_meta["marque/token"]``; the proof from
``_meta["marque/proof"]`` or the ``Marque-Proof`` header — what :class:`marque.mcp.Agent` and
:func:`marque.mcp.call_meta` send.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from fastmcp.server.auth import AccessToken, TokenVerifier
from fastmcp.server.dependencies import get_http_headers
from fastmcp.server.middleware import Middleware, MiddlewareContext
from mcp.shared.exceptions import MCPError

from marque import _gate
from marque._native import AuditFile, AuditLog, Decision, MarqueError, Verifier
from marque.context import _check_audit_log
from marque.otel import TRACE_META_KEYS, trace_message
from marque.mcp import DENIED_ERROR_CODE, META_APPROVAL, META_PROOF, META_TOKEN, ToolSpec, _server_resource, mcp_config

if TYPE_CHECKING:
    from marque._native import _SignerLike
    from marque.otel import OtelAuditSink


class MarqueMiddleware(Middleware):
    """fastmcp middleware: every message through marque's core mapping and decision."""

    def __init__(
        self,
        verifier: Verifier,
        *,
        tools: Mapping[str, ToolSpec] | None = None,
        allow: Iterable[str] | None = None,
        resource: str | None = None,
        audit: Callable[[Decision], object] | None = None,
        audit_log: AuditFile | AuditLog | OtelAuditSink | None = None,
        audit_signer: _SignerLike | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not isinstance(verifier, Verifier):
            raise TypeError("MarqueMiddleware needs a marque.Verifier")
        _check_audit_log(audit_log, audit_signer)
        self.verifier = verifier
        self.tools = dict(tools or {})
        # The server's URI is the verifier's audience (RFC 8707): proofs must name it.
        self.config = mcp_config(self.tools, allow=allow, resource=_server_resource(verifier, resource))
        self.audit = audit
        self.audit_log = audit_log
        self.audit_signer = audit_signer
        self.clock = clock

    @staticmethod
    def message(context: MiddlewareContext[Any]) -> dict[str, Any]:
        """The JSON-RPC message of a middleware context (what the core maps)."""
        payload = context.message
        params = getattr(payload, "params", payload)  # a full request, or its params
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": context.method}
        if context.type == "request":
            message["id"] = 0  # fastmcp does not expose the id; the core only checks there is one
        dumped: dict[str, Any] = {}
        if params is not None:
            dumped = dict(params.model_dump(by_alias=True, exclude_none=True, mode="json") if hasattr(params, "model_dump") else params)
        # fastmcp moves the request's _meta to the request context: put marque's entries back.
        request_context = getattr(context.fastmcp_context, "request_context", None)
        meta = getattr(request_context, "meta", None) or {}
        carried = {k: v for k, v in meta.items() if k in (META_TOKEN, META_PROOF, META_APPROVAL, *TRACE_META_KEYS)} if isinstance(meta, Mapping) else {}
        if carried:
            dumped["_meta"] = {**dumped.get("_meta", {}), **carried}
        if dumped:
            message["params"] = dumped
        return message

    async def on_message(self, context: MiddlewareContext[Any], call_next: Any) -> Any:
        message = self.message(context)
        # With an OpenTelemetry audit sink: one span in the caller's trace (`_meta.traceparent`).
        with trace_message(self.audit_log, message):
            return await self._guard(context, message, call_next)

    async def _guard(self, context: MiddlewareContext[Any], message: dict[str, Any], call_next: Any) -> Any:
        headers = get_http_headers(include={"authorization", "marque-proof", "mcp-method", "mcp-name"})
        now = self.clock() if self.clock is not None else None
        try:
            decision, token = _gate.authorize_message(
                self.verifier, self.config, self.tools, message,
                authorization=headers.get("authorization"), proof=headers.get("marque-proof"),
                mcp_method=headers.get("mcp-method"), mcp_name=headers.get("mcp-name"), now=now,
                audit=self.audit, audit_log=self.audit_log, audit_signer=self.audit_signer,
            )
        except _gate.Refusal as r:
            raise MCPError(code=DENIED_ERROR_CODE, message=str(r), data=r.data) from None
        with _gate.current(decision, token, self.verifier, now):
            return await call_next(context)


class MarqueTokenVerifier(TokenVerifier):
    """fastmcp's auth hook: a marque bearer token admitted by the core (``None`` = refused, 401)."""

    def __init__(self, verifier: Verifier, *, base_url: str | None = None, required_scopes: list[str] | None = None) -> None:
        super().__init__(base_url=base_url, required_scopes=required_scopes)
        self.verifier = verifier

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            a = self.verifier.admit(token)
        except MarqueError:
            return None
        return AccessToken(token=token, client_id=a.agent, scopes=list(a.scopes), expires_at=int(a.expires_at),
                           claims={"marque": json.loads(a.to_json())})


__all__ = ["MarqueMiddleware", "MarqueTokenVerifier"]
