"""marque for servers built with the standalone ``fastmcp`` package (4.x).

Glue over the core, like :mod:`marque.mcp` for the official SDK: the same rules decide
(``Verifier.authorize_mcp``: which method maps to which marque request, what is refused), so one
call gets one decision whichever server handles it. Two pieces:

* :class:`MarqueMiddleware` — ``FastMCP(..., middleware=[MarqueMiddleware(verifier, tools=…)])``:
  every message fastmcp hands to its middleware chain (tool calls, resource reads, prompts,
  completions, the catalogues…) is mapped and decided by the core before its handler runs; a
  refusal is a JSON-RPC error with code :data:`marque.mcp.DENIED_ERROR_CODE` and
  ``data["marque"]`` (``code``, ``reasons``, ``agent``, ``path``, …).
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
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from fastmcp.server.auth import AccessToken, TokenVerifier
from fastmcp.server.dependencies import get_http_headers
from fastmcp.server.middleware import Middleware, MiddlewareContext
from mcp.shared.exceptions import MCPError

from marque._native import AuditFile, AuditLog, MarqueError, Verifier, bearer_token
from marque.context import _check_audit_log, _record

if TYPE_CHECKING:
    from marque._native import _SignerLike
from marque.mcp import DENIED_ERROR_CODE, META_PROOF, META_TOKEN, ToolSpec, _server_resource, mcp_config


class MarqueMiddleware(Middleware):
    """fastmcp middleware: every message through marque's core mapping and decision."""

    def __init__(
        self,
        verifier: Verifier,
        *,
        tools: Mapping[str, ToolSpec] | None = None,
        allow: Iterable[str] | None = None,
        resource: str | None = None,
        audit_log: AuditFile | AuditLog | None = None,
        audit_signer: _SignerLike | None = None,
    ) -> None:
        if not isinstance(verifier, Verifier):
            raise TypeError("MarqueMiddleware needs a marque.Verifier")
        # With audit_log (an AuditFile for a server that runs for long) and audit_signer, every
        # decision is appended as a signed entry before the handler runs.
        _check_audit_log(audit_log, audit_signer)
        self.audit_log = audit_log
        self.audit_signer = audit_signer
        self.verifier = verifier
        self.tools = dict(tools or {})
        # The server's URI is the verifier's audience (RFC 8707): proofs must name it.
        self.config = mcp_config(self.tools, allow=allow, resource=_server_resource(verifier, resource))

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
        carried = {k: v for k, v in meta.items() if k in (META_TOKEN, META_PROOF)} if isinstance(meta, Mapping) else {}
        if carried:
            dumped["_meta"] = {**dumped.get("_meta", {}), **carried}
        if dumped:
            message["params"] = dumped
        return message

    async def on_message(self, context: MiddlewareContext[Any], call_next: Any) -> Any:
        message = self.message(context)
        headers = get_http_headers(include={"authorization", "marque-proof", "mcp-method", "mcp-name"})
        auth = headers.get("authorization")
        details: dict[str, Any] = {"method": context.method}
        params = message.get("params", {})
        resource = None
        try:
            if context.method == "tools/call" and isinstance(params.get("name"), str):
                spec = self.tools.get(params["name"])
                if spec is not None:
                    resource = spec.app_resource(params.get("arguments"))
            outcome = self.verifier.authorize_mcp(
                json.dumps(message),
                config=self.config,
                token=bearer_token(auth) if auth else None,
                proof=headers.get("marque-proof"),
                mcp_method=headers.get("mcp-method"),
                mcp_name=headers.get("mcp-name"),
                resource=resource,
            )
        except MarqueError as e:
            raise _denied(e.code, e.message, details) from None
        decision = outcome.decision
        if decision is not None:
            _record(decision, audit_log=self.audit_log, audit_signer=self.audit_signer)
        if decision is not None and not decision.allowed:
            tool, operation, res = outcome.request or ("", "", "")
            details.update(tool=tool, operation=operation, resource=res, agent=decision.agent, path=decision.path,
                           reasons=decision.reasons)
            raise _denied(decision.code or "not_authorized", "; ".join(decision.reasons), details)
        return await call_next(context)


def _denied(code: str, message: str, details: dict[str, Any]) -> MCPError:
    return MCPError(code=DENIED_ERROR_CODE, message=f"marque: {code}: {message}", data={"marque": {"code": code, **details}})


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
