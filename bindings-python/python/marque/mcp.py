"""marque for MCP servers and clients (the official ``mcp`` Python SDK, 2.x).

Three pieces, usable together or apart:

* :class:`MarqueGuard` — server middleware that authorizes **every** ``tools/call`` with the
  caller's marque token and proof of possession, and answers a denial with an MCP error
  (JSON-RPC code :data:`DENIED_ERROR_CODE`, ``data.marque.code`` = the marque code). The token
  comes from ``Authorization: Bearer`` on Streamable HTTP or from ``_meta["marque/token"]``
  (stdio, or HTTP without a header); the proof from ``_meta["marque/proof"]``. Inside the tool,
  :func:`marque.current_decision` returns the decision and :func:`marque.requires` guards work.
* :class:`MarqueTokenVerifier` — the SDK's ``TokenVerifier`` for ``MCPServer(token_verifier=…,
  auth=…)``: checks the token's signatures and expiry at the HTTP layer (401 + RFC 9728
  ``WWW-Authenticate`` challenge otherwise) and exposes the agent identity as ``AccessToken``
  claims. Per-call authorization stays with the guard.
* Helpers: :func:`call_meta` (client side: the ``_meta`` for one call, with a fresh proof),
  :func:`protected_resource_metadata` and :func:`www_authenticate` (RFC 9728 / RFC 6750), and
  :func:`auth_settings`.

A tool call maps onto a marque request (tool, operation, resource) through :class:`ToolSpec`:
by default tool = the MCP tool name, operation = ``"*"``, resource = ``"*"``. Client and server
must use the same mapping, since the proof binds it::

    tools = {"read_file": ToolSpec(operation="read", resource_arg="path")}
    server = MCPServer("files", middleware=[MarqueGuard(verifier, tools=tools)])
    ...
    meta = call_meta(token, agent_key, name="read_file", arguments={"path": "src/a.py"}, tools=tools)
    await client.call_tool("read_file", {"path": "src/a.py"}, meta=meta)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal, Union

from marque._native import AuditLog, Decision, MarqueError, PublicKey, Token, Verifier, sign_proof
from marque.context import _DECISION, _check_audit_log, _record, call_context

if TYPE_CHECKING:
    from mcp.server.auth.provider import AccessToken

    from marque._native import _SignerLike
    from mcp.server.auth.settings import AuthSettings
    from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

#: ``_meta`` key carrying the marque token (base64url) of a call.
META_TOKEN = "marque/token"
#: ``_meta`` key carrying the proof of possession of a call.
META_PROOF = "marque/proof"
#: JSON-RPC error code of a marque denial (in the implementation-defined band -32000..-32019).
DENIED_ERROR_CODE = -32010

TokenLike = Union[Token, str, bytes]


@dataclass(frozen=True)
class ToolSpec:
    """How one MCP tool call maps onto a marque request.

    ``tool`` defaults to the MCP tool name. The resource is, in order: the value of the
    argument named ``resource_arg``; ``resource(arguments)`` when ``resource`` is callable;
    else the literal ``resource`` (default ``"*"``).
    """

    operation: str = "*"
    resource: str | Callable[[Mapping[str, Any]], str] = "*"
    resource_arg: str | None = None
    tool: str | None = None

    def request(self, name: str, arguments: Mapping[str, Any] | None) -> tuple[str, str, str]:
        """``(tool, operation, resource)`` for a call of tool ``name`` with ``arguments``."""
        args = arguments or {}
        if self.resource_arg is not None:
            value = args.get(self.resource_arg)
            if not isinstance(value, str):
                raise ValueError(f"tool {name!r}: argument {self.resource_arg!r} must be a string (the resource)")
            resource = value
        elif callable(self.resource):
            resource = self.resource(args)
        else:
            resource = self.resource
        return (self.tool or name, self.operation, resource)


def request_for(
    name: str, arguments: Mapping[str, Any] | None, tools: Mapping[str, ToolSpec] | None = None
) -> tuple[str, str, str]:
    """The marque ``(tool, operation, resource)`` of an MCP tool call under ``tools``."""
    return (tools or {}).get(name, ToolSpec()).request(name, arguments)


def call_meta(
    token: TokenLike,
    agent_keypair: _SignerLike | None = None,
    *,
    name: str,
    arguments: Mapping[str, Any] | None = None,
    tools: Mapping[str, ToolSpec] | None = None,
    include_token: bool = True,
    now: float | None = None,
) -> dict[str, str]:
    """Client side: the ``_meta`` entries for one ``tools/call``.

    Returns ``{"marque/token": …, "marque/proof": …}``: the token (omit it with
    ``include_token=False`` when it travels in an ``Authorization`` header) and, when
    ``agent_keypair`` (the holder's key) is given, a fresh single-use proof bound to this call.
    """
    meta: dict[str, str] = {}
    if include_token:
        meta[META_TOKEN] = token.to_base64() if isinstance(token, Token) else (
            token if isinstance(token, str) else Token.from_bytes(token).to_base64()
        )
    if agent_keypair is not None:
        tool, operation, resource = request_for(name, arguments, tools)
        meta[META_PROOF] = sign_proof(agent_keypair, token, tool=tool, operation=operation, resource=resource, now=now)
    return meta


def bearer_headers(token: TokenLike) -> dict[str, str]:
    """``{"Authorization": "Bearer <token>"}`` for Streamable HTTP clients."""
    text = token.to_base64() if isinstance(token, Token) else (
        token if isinstance(token, str) else Token.from_bytes(token).to_base64()
    )
    return {"Authorization": f"Bearer {text}"}


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def www_authenticate(
    *,
    resource_metadata: str | None = None,
    error: Literal["invalid_request", "invalid_token", "insufficient_scope"] | None = None,
    error_description: str | None = None,
    realm: str | None = None,
    scope: str | None = None,
) -> str:
    """A ``WWW-Authenticate: Bearer …`` challenge (RFC 6750 §3) pointing at the RFC 9728
    protected-resource metadata (``resource_metadata``, RFC 9728 §5.1)."""
    params: list[str] = []
    for key, value in (
        ("realm", realm),
        ("error", error),
        ("error_description", error_description),
        ("scope", scope),
        ("resource_metadata", resource_metadata),
    ):
        if value is not None:
            clean = "".join(c if c.isprintable() else " " for c in value)
            params.append(f"{key}={_quote(clean)}")
    return "Bearer" + (" " + ", ".join(params) if params else "")


def resource_metadata_url(resource: str) -> str:
    """The RFC 9728 §3.1 metadata URL of a protected resource
    (``https://h/mcp`` → ``https://h/.well-known/oauth-protected-resource/mcp``)."""
    from urllib.parse import urlsplit

    parts = urlsplit(resource)
    path = "" if parts.path in ("", "/") else parts.path
    return f"{parts.scheme}://{parts.netloc}/.well-known/oauth-protected-resource{path}"


def protected_resource_metadata(
    resource: str,
    *,
    root_keys: Iterable[PublicKey] = (),
    authorization_servers: Iterable[str] = (),
    resource_name: str | None = None,
    resource_documentation: str | None = None,
) -> dict[str, Any]:
    """RFC 9728 protected-resource metadata for an MCP server guarded by marque.

    Standard members (``resource``, ``bearer_methods_supported``, …) plus marque's own:
    ``marque_root_keys`` (the trusted roots as RFC 8037 JWKs, ``kid`` = fingerprint) and
    ``marque_meta_keys`` (where the token and proof go on transports without headers).
    """
    doc: dict[str, Any] = {
        "resource": resource,
        "bearer_methods_supported": ["header"],
        "marque_root_keys": [k.to_jwk() for k in root_keys],
        "marque_meta_keys": {"token": META_TOKEN, "proof": META_PROOF},
    }
    servers = list(authorization_servers)
    if servers:
        doc["authorization_servers"] = servers
    if resource_name is not None:
        doc["resource_name"] = resource_name
    if resource_documentation is not None:
        doc["resource_documentation"] = resource_documentation
    return doc


def auth_settings(resource_server_url: str, *, issuer_url: str | None = None) -> AuthSettings:
    """``AuthSettings`` for ``MCPServer(auth=…, token_verifier=MarqueTokenVerifier(…))``.

    marque tokens are not OAuth audience-bound, so ``validate_token_resource`` is off (the
    guard authorizes every call instead); ``issuer_url`` defaults to the server's origin.
    """
    from urllib.parse import urlsplit

    from mcp.server.auth.settings import AuthSettings

    parts = urlsplit(resource_server_url)
    return AuthSettings(
        issuer_url=issuer_url or f"{parts.scheme}://{parts.netloc}",  # type: ignore[arg-type]
        resource_server_url=resource_server_url,  # type: ignore[arg-type]
        validate_token_resource=False,
    )


class MarqueTokenVerifier:
    """The MCP SDK's ``TokenVerifier`` backed by a marque :class:`~marque.Verifier`.

    ``verify_token`` accepts a token whose signatures chain to a trusted root and that has not
    expired, and returns an ``AccessToken`` with ``client_id`` = the acting agent id,
    ``subject`` = the principal, ``expires_at`` = the token's expiry and ``claims`` = the agent
    identity (agent, path, chain, principal, task, workspace, key fingerprint, token id). It
    does not authorize any tool: install :class:`MarqueGuard` for that.
    """

    def __init__(self, verifier: Verifier, *, resource: str | None = None, clock: Callable[[], float] | None = None):
        self.verifier = verifier
        self.resource = resource
        self._clock = clock

    async def verify_token(self, token: str) -> AccessToken | None:
        from mcp.server.auth.provider import AccessToken

        try:
            parsed = self.verifier.verify(token)
        except MarqueError:
            return None
        import time

        now = self._clock() if self._clock is not None else time.time()
        if parsed.expires_at < now:
            return None
        holder = parsed.chain[-1]
        claims: dict[str, Any] = {
            "iss": f"marque:root:{parsed.root_key_id}" if parsed.root_key_id is not None else "marque",
            "sub": parsed.principal,
            "agent": parsed.agent,
            "path": parsed.path,
            "chain": [h.agent for h in parsed.chain],
            "principal": parsed.principal,
            "task": parsed.task,
            "workspace": parsed.workspace,
            "agent_key_fingerprint": holder.fingerprint,
            "token_id": parsed.revocation_ids[-1],
            "exp": parsed.expires_at,
            "iat": parsed.issued_at,
        }
        return AccessToken(
            token=token,
            client_id=parsed.agent,
            scopes=[],
            expires_at=parsed.expires_at,
            resource=self.resource,
            subject=parsed.principal,
            claims=claims,
        )


class MarqueGuard:
    """MCP server middleware: authorizes every ``tools/call`` with marque.

    ``MCPServer(..., middleware=[MarqueGuard(verifier, tools={...})])`` (or append it to
    ``server.middleware``). Other methods pass through untouched. On denial (policy, expiry,
    revocation, bad or replayed proof, missing/bad token) the call never reaches the tool and the
    client receives, with ``deny_as="error"`` (default), a JSON-RPC error with code
    :data:`DENIED_ERROR_CODE` and ``data = {"marque": {"code", "reasons", "agent", "path",
    "tool", "operation", "resource"}}``; with ``deny_as="result"``, a ``CallToolResult`` with
    ``isError: true`` and the same object as ``structuredContent`` (visible to the model).

    ``audit`` receives every decision taken (allowed or denied); with ``audit_log`` and
    ``audit_signer`` every decision is also appended to the log as a signed entry
    (``Decision.to_audit_event()``), before the tool runs. A call refused before any decision
    (no token, a malformed or forged token) leaves no entry. If the append fails
    (``AuditChainBroken``: the log's last line is damaged), the call is denied with that code
    rather than run unrecorded. ``clock`` overrides the time.
    """

    def __init__(
        self,
        verifier: Verifier,
        *,
        tools: Mapping[str, ToolSpec] | None = None,
        deny_as: Literal["error", "result"] = "error",
        error_code: int = DENIED_ERROR_CODE,
        audit: Callable[[Decision], object] | None = None,
        audit_log: AuditLog | None = None,
        audit_signer: _SignerLike | None = None,
        clock: Callable[[], float] | None = None,
    ):
        _check_audit_log(audit_log, audit_signer)
        self.verifier = verifier
        self.tools: dict[str, ToolSpec] = dict(tools or {})
        self.deny_as = deny_as
        self.error_code = error_code
        self.audit = audit
        self.audit_log = audit_log
        self.audit_signer = audit_signer
        self.clock = clock

    @staticmethod
    def credentials(ctx: ServerRequestContext[Any, Any]) -> tuple[str | None, str | None]:
        """``(token, proof)`` of a request: the bearer token of the HTTP request (or its
        ``_meta`` token), and the ``_meta`` proof."""
        meta: Mapping[str, Any] = ctx.meta or {}
        if not meta and isinstance(ctx.params, Mapping):
            raw = ctx.params.get("_meta")
            meta = raw if isinstance(raw, Mapping) else {}
        token: str | None = None
        request = ctx.request
        headers = getattr(request, "headers", None)
        if headers is not None:
            auth = headers.get("authorization")
            if isinstance(auth, str) and auth[:7].lower() == "bearer ":
                token = auth[7:].strip()
        if token is None:
            value = meta.get(META_TOKEN)
            token = value if isinstance(value, str) else None
        proof = meta.get(META_PROOF)
        return token, proof if isinstance(proof, str) else None

    def _deny(self, code: str, message: str, details: dict[str, Any]) -> HandlerResult:
        from mcp.shared.exceptions import MCPError

        data = {"marque": {"code": code, **details}}
        if self.deny_as == "result":
            from mcp_types import CallToolResult, TextContent

            return CallToolResult(
                content=[TextContent(type="text", text=f"marque: {code}: {message}")],
                structured_content=data,
                is_error=True,
            )
        raise MCPError(code=self.error_code, message=f"marque: {code}: {message}", data=data)

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call" or ctx.request_id is None:
            return await call_next(ctx)
        params: Mapping[str, Any] = ctx.params if isinstance(ctx.params, Mapping) else {}
        name = params.get("name")
        arguments = params.get("arguments")
        if not isinstance(name, str) or not (arguments is None or isinstance(arguments, Mapping)):
            return await call_next(ctx)  # malformed: the SDK's own validation answers it
        try:
            tool, operation, resource = request_for(name, arguments, self.tools)
        except ValueError as e:
            return self._deny("invalid_argument", str(e), {"tool": name})
        details: dict[str, Any] = {"tool": tool, "operation": operation, "resource": resource}
        token, proof = self.credentials(ctx)
        if token is None:
            return self._deny(
                "not_authorized",
                f"no marque token (send Authorization: Bearer or _meta[{META_TOKEN!r}])",
                details,
            )
        now = self.clock() if self.clock is not None else None
        try:
            decision = self.verifier.authorize(
                token, tool=tool, operation=operation, resource=resource, proof=proof, now=now
            )
        except MarqueError as e:
            return self._deny(e.code, e.message, details)
        try:
            _record(decision, audit=self.audit, audit_log=self.audit_log, audit_signer=self.audit_signer)
        except MarqueError as e:
            return self._deny(e.code, e.message, details)
        if not decision.allowed:
            details.update(agent=decision.agent, path=decision.path, reasons=decision.reasons)
            return self._deny(decision.code or "not_authorized", "; ".join(decision.reasons), details)
        # The proof is spent: guards inside the tool reuse this decision for the same request,
        # and authorize other requests on the token alone.
        reset = _DECISION.set(decision)
        try:
            with call_context(token=token, verifier=self.verifier, now=now, decision=decision):
                return await call_next(ctx)
        finally:
            _DECISION.reset(reset)


def install(server: Any, verifier: Verifier, **kwargs: Any) -> MarqueGuard:
    """Appends a :class:`MarqueGuard` to ``server.middleware`` (an ``MCPServer`` or low-level
    ``Server``) and returns it."""
    guard = MarqueGuard(verifier, **kwargs)
    server.middleware.append(guard)
    return guard


def denial(error: BaseException) -> dict[str, Any] | None:
    """Client side: the ``data["marque"]`` object of an MCP error raised by a marque denial,
    or ``None`` if ``error`` is not one."""
    data = getattr(error, "data", None)
    if isinstance(data, Mapping) and isinstance(data.get("marque"), Mapping):
        return dict(data["marque"])
    return None


__all__ = [
    "DENIED_ERROR_CODE",
    "META_PROOF",
    "META_TOKEN",
    "MarqueGuard",
    "MarqueTokenVerifier",
    "ToolSpec",
    "auth_settings",
    "bearer_headers",
    "call_meta",
    "denial",
    "install",
    "protected_resource_metadata",
    "request_for",
    "resource_metadata_url",
    "www_authenticate",
]
