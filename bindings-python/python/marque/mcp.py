"""marque for MCP servers and clients (the official ``mcp`` Python SDK, 2.x).

Glue over the core: every rule (which MCP method maps to which marque request, what is
refused, token admission, challenges) lives in the Rust core and is shared with the Node and
edge layers (``tests/vectors/mcp.json``). Three pieces, usable together or apart:

* :class:`MarqueGuard` — server middleware through which **every** message goes:
  ``tools/call``, ``resources/read``, ``prompts/get``, ``completion/complete`` … are authorized
  with the caller's marque token and proof of possession, the allow-list (``initialize``,
  ``ping``, notifications, the ``…/list`` catalogues) passes, anything else is refused; a
  denial is an MCP error (JSON-RPC code :data:`DENIED_ERROR_CODE`, ``data.marque.code`` = the
  marque code). The token comes from ``Authorization: Bearer`` on Streamable HTTP or from
  ``_meta["marque/token"]`` (stdio); the proof from ``_meta["marque/proof"]`` or the
  ``Marque-Proof`` header. Inside the tool, :func:`marque.current_decision` returns the
  decision and :func:`marque.requires` guards work.
* :class:`MarqueTokenVerifier` — the SDK's ``TokenVerifier`` for ``MCPServer(token_verifier=…,
  auth=…)``: admits the token at the HTTP layer (``Verifier.admit``: revocation-list staleness,
  signatures, expiry, revocation; 401 + RFC 9728 ``WWW-Authenticate`` challenge otherwise) and
  exposes the agent identity and its effective rights as the ``AccessToken``.
* :class:`MarqueAuth` / :class:`Agent` — the client side: ``auth=`` for the SDK's HTTP client,
  adding the bearer token and a fresh proof bound to each authorized message (the core's
  ``McpConfig.client_headers``); ``Agent.delegate`` hands a sub-agent a narrowed token.
* Helpers: :func:`call_meta` (client side: the ``_meta`` for one call, with a fresh proof),
  :func:`protected_resource_metadata` and :func:`www_authenticate` (RFC 9728 / RFC 6750), and
  :func:`auth_settings`.

A tool call maps onto a marque request (tool, operation, resource) through :class:`ToolSpec`:
by default tool = the MCP tool name, operation = ``"*"``, and the resource is the one argument
among ``resource``, ``path``, ``file``, ``uri``, ``url`` (two present: refused, declare
``resource_arg``), else ``"*"``. Client and server must use the same mapping, since the proof
binds it::

    tools = {"read_file": ToolSpec(operation="read", resource_arg="path")}
    server = MCPServer("files", middleware=[MarqueGuard(verifier, tools=tools)])
    ...
    meta = call_meta(token, agent_key, name="read_file", arguments={"path": "src/a.py"}, tools=tools)
    await client.call_tool("read_file", {"path": "src/a.py"}, meta=meta)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal, Union

from marque._native import (
    MCP_DENIED_ERROR_CODE,
    AuditFile,
    AuditLog,
    Decision,
    InvalidArgument,
    InvalidRequest,
    KeyPair,
    MarqueError,
    McpConfig,
    PublicKey,
    Token,
    Verifier,
    bearer_token,
    http_refusal,
    resource_metadata_url,
    sign_proof,
)
from marque._native import protected_resource_metadata as _protected_resource_metadata
from marque._native import www_authenticate as _www_authenticate
from marque import _gate
from marque.context import _check_audit_log
from marque.otel import trace_message

if TYPE_CHECKING:
    from mcp.server.auth.provider import AccessToken

    from marque._native import _SignerLike
    from marque.otel import OtelAuditSink
    from mcp.server.auth.settings import AuthSettings
    from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

#: ``_meta`` key carrying the marque token (base64url) of a call.
META_TOKEN = "marque/token"
#: ``_meta`` key carrying the proof of possession of a call.
META_PROOF = "marque/proof"
#: ``_meta`` key carrying a human approval of a call (the retry after ``approval_required``).
META_APPROVAL = _gate.META_APPROVAL
#: JSON-RPC error code of a marque denial (in the implementation-defined band -32000..-32019).
DENIED_ERROR_CODE = MCP_DENIED_ERROR_CODE

TokenLike = Union[Token, str, bytes]


@dataclass(frozen=True)
class ToolSpec:
    """How one MCP tool call maps onto a marque request (the core's tool configuration).

    ``tool`` defaults to the MCP tool name and ``operation`` to ``"*"``. The resource is the
    value of the argument named ``resource_arg`` (missing or not a string: refused), or a fixed
    ``resource`` string, or ``resource(arguments)`` when ``resource`` is callable (the
    application's own mapping). Without any of them the core's rule applies: the one argument
    among ``resource``, ``path``, ``file``, ``uri``, ``url`` (two or more present: refused,
    never guessed), else ``"*"``.

    ``attribute_args`` (``{"resource.env": "env"}``) gives the call request attributes from its
    string arguments (missing or not a string: refused), ``attributes`` fixed ones
    (``{"resource.type": "service"}``): operator policies read them (Datalog
    ``attribute(k, v)``, Rego ``input.resource.env``) and an approval's digest covers them.
    """

    operation: str = "*"
    resource: str | Callable[[Mapping[str, Any]], str] | None = None
    resource_arg: str | None = None
    tool: str | None = None
    attribute_args: Mapping[str, str] | None = None
    attributes: Mapping[str, str] | None = None

    def config(self) -> dict[str, Any]:
        """This spec as a core tool configuration (a callable resource is left to the caller)."""
        out: dict[str, Any] = {"operation": self.operation}
        if self.tool is not None:
            out["tool"] = self.tool
        if self.resource_arg is not None:
            out["resource_arg"] = self.resource_arg
        if isinstance(self.resource, str):
            out["resource"] = self.resource
        if self.attribute_args is not None:
            out["attribute_args"] = dict(self.attribute_args)
        if self.attributes is not None:
            out["attributes"] = dict(self.attributes)
        return out

    def app_resource(self, arguments: Mapping[str, Any] | None) -> str | None:
        """The resource a callable ``resource`` computes for ``arguments`` (else ``None``)."""
        if self.resource is None or isinstance(self.resource, str):
            return None
        value = self.resource(arguments or {})
        if not isinstance(value, str):
            raise TypeError(f"the resource callable of a ToolSpec must return str, got {type(value).__name__}")
        return value

    def request(self, name: str, arguments: Mapping[str, Any] | None) -> tuple[str, str, str]:
        """``(tool, operation, resource)`` for a call of tool ``name`` with ``arguments``."""
        return request_for(name, arguments, {name: self})


def mcp_config(
    tools: Mapping[str, ToolSpec] | None = None, *, allow: Iterable[str] | None = None, resource: str | None = None
) -> McpConfig:
    """The core ``McpConfig`` of these tool specs (and allow-list; default ``MCP_DEFAULT_ALLOW``;
    and ``resource``, the server's URI: agents bind their proofs to it, RFC 8707)."""
    doc: dict[str, Any] = {"tools": {name: spec.config() for name, spec in (tools or {}).items()}}
    if allow is not None:
        doc["allow"] = list(allow)
    if resource is not None:
        doc["resource"] = resource
    return McpConfig(doc)


def request_for(
    name: str, arguments: Mapping[str, Any] | None, tools: Mapping[str, ToolSpec] | None = None
) -> tuple[str, str, str]:
    """The marque ``(tool, operation, resource)`` of an MCP tool call under ``tools`` (the core's
    mapping; ``InvalidRequest`` when it refuses the call, e.g. two possible resource arguments)."""
    spec = (tools or {}).get(name)
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": 0, "method": "tools/call", "params": {"name": name}}
    if arguments is not None:
        message["params"]["arguments"] = dict(arguments)
    mapped = mcp_config(tools).map(message, resource=spec.app_resource(arguments) if spec else None)
    if mapped.request is None:  # pragma: no cover - tools/call is always mapped
        raise InvalidRequest("tools/call was not mapped")
    return mapped.request


def call_meta(
    token: TokenLike,
    agent_keypair: _SignerLike | None = None,
    *,
    name: str,
    arguments: Mapping[str, Any] | None = None,
    tools: Mapping[str, ToolSpec] | None = None,
    include_token: bool = True,
    now: float | None = None,
    resource: str | None = None,
    approval: str | None = None,
) -> dict[str, str]:
    """Client side: the ``_meta`` entries for one ``tools/call``.

    Returns ``{"marque/token": …, "marque/proof": …}``: the token (omit it with
    ``include_token=False`` when it travels in an ``Authorization`` header) and, when
    ``agent_keypair`` (the holder's key) is given, a fresh single-use proof bound to this call
    (and to ``resource``, the URI of the server it is for, when given: RFC 8707). ``approval``
    (from :func:`marque.approve`, after an ``approval_required`` denial) goes in
    ``_meta["marque/approval"]``.
    """
    meta: dict[str, str] = {}
    if include_token:
        meta[META_TOKEN] = token.to_base64() if isinstance(token, Token) else (
            token if isinstance(token, str) else Token.from_bytes(token).to_base64()
        )
    if agent_keypair is not None:
        tool, operation, target = request_for(name, arguments, tools)
        meta[META_PROOF] = sign_proof(
            agent_keypair, token, tool=tool, operation=operation, resource=target, now=now, audience=resource
        )
    if approval is not None:
        meta[META_APPROVAL] = approval
    return meta


def bearer_headers(token: TokenLike) -> dict[str, str]:
    """``{"Authorization": "Bearer <token>"}`` for Streamable HTTP clients."""
    text = token.to_base64() if isinstance(token, Token) else (
        token if isinstance(token, str) else Token.from_bytes(token).to_base64()
    )
    return {"Authorization": f"Bearer {text}"}


def _http_auth_base() -> Any:
    """The ``Auth`` base class of the MCP SDK's HTTP client (``httpx2`` in mcp 2.x, else
    ``httpx``): the client accepts an ``auth=`` only if it is an instance of its own class."""
    for name in ("httpx2", "httpx"):
        try:
            return importlib.import_module(name).Auth
        except ImportError:  # pragma: no cover - depends on what is installed
            continue
    return object  # pragma: no cover


class MarqueAuth(_http_auth_base()):  # type: ignore[misc]
    """Client side: ``auth=`` for the MCP SDK's HTTP client (``httpx2`` / ``httpx``).

    Every request carries ``Authorization: Bearer <token>``; every JSON-RPC message the server
    authorizes (``tools/call``, ``resources/read``, ``prompts/get`` …) also gets a fresh
    ``Marque-Proof`` bound to the exact request the server maps it to, plus the ``Mcp-Method``
    / ``Mcp-Name`` headers — all from the core (``McpConfig.client_headers``), so client and
    server cannot disagree. ``tools`` (or ``config``) must be the server's tool declarations, and
    ``resource`` the server's URI (its RFC 8707 audience: the proofs are bound to it, so another
    server cannot replay them). A message the server would refuse raises ``InvalidRequest``
    before it is sent::

        auth = MarqueAuth(token, agent_key, tools={"read_file": ToolSpec(operation="read", resource_arg="path")},
                          resource="https://files.example/mcp")
        async with httpx2.AsyncClient(auth=auth) as http, streamable_http_client(url, http_client=http) as (r, w):
            ...
    """

    requires_request_body = True

    def __init__(
        self,
        token: TokenLike,
        agent_keypair: _SignerLike,
        *,
        tools: Mapping[str, ToolSpec] | None = None,
        allow: Iterable[str] | None = None,
        config: McpConfig | None = None,
        resource: str | None = None,
    ) -> None:
        if config is not None and (tools is not None or allow is not None or resource is not None):
            raise TypeError("give config or tools/allow/resource, not both")
        self.token = token if isinstance(token, Token) else (
            Token.from_base64(token) if isinstance(token, str) else Token.from_bytes(token)
        )
        self.agent_keypair = agent_keypair
        self.config = config if config is not None else mcp_config(tools, allow=allow, resource=resource)

    def headers(self, message: Mapping[str, Any] | str | None) -> dict[str, str]:
        """The headers for one outgoing message (``None``: a request without a JSON-RPC body)."""
        if message is None:
            return bearer_headers(self.token)
        return dict(self.config.client_headers(message, self.token, self.agent_keypair))

    def auth_flow(self, request: Any) -> Any:
        body = request.content
        message = body.decode("utf-8", "surrogateescape") if request.method == "POST" and body else None
        request.headers.update(self.headers(message))
        yield request


class Agent:
    """The agent side in one object: a token, the key that holds it, and the server's tool
    declarations. ``auth`` plugs it into an MCP client; ``delegate`` hands a sub-agent a narrowed
    token under a fresh key of its own — one call::

        me = Agent(token, key, tools=tools)
        reader = me.delegate("agent:reader", tools=["read_file"], resource_prefix="src/", ttl_seconds=600)
        async with httpx2.AsyncClient(auth=reader.auth) as http: ...
    """

    def __init__(
        self,
        token: TokenLike,
        agent_keypair: _SignerLike,
        *,
        tools: Mapping[str, ToolSpec] | None = None,
        allow: Iterable[str] | None = None,
        config: McpConfig | None = None,
        resource: str | None = None,
    ) -> None:
        self.auth = MarqueAuth(token, agent_keypair, tools=tools, allow=allow, config=config, resource=resource)

    @property
    def token(self) -> Token:
        return self.auth.token

    @property
    def key(self) -> _SignerLike:
        return self.auth.agent_keypair

    def headers(self, message: Mapping[str, Any] | str | None) -> dict[str, str]:
        """The headers for one outgoing message (see :class:`MarqueAuth`)."""
        return self.auth.headers(message)

    def delegate(
        self,
        to: str,
        *,
        tools: Iterable[str] | None = None,
        operations: Iterable[str] | None = None,
        resource_prefix: str | None = None,
        ttl_seconds: int | None = None,
        max_depth: int | None = None,
        now: float | None = None,
    ) -> Agent:
        """A sub-agent ``to``: a fresh key pair and this token delegated to it, narrowed
        (authority only narrows: widening raises ``AttenuationWidens``)."""
        child_key = KeyPair.generate()
        child = self.token.delegate(
            self.key, to=to, to_key=child_key.public_key, tools=tools, operations=operations,
            resource_prefix=resource_prefix, ttl_seconds=ttl_seconds, max_depth=max_depth, now=now,
        )
        return Agent(child, child_key, config=self.auth.config)


def www_authenticate(
    *,
    resource_metadata: str | None = None,
    error: Literal["invalid_request", "invalid_token", "insufficient_scope"] | None = None,
    error_description: str | None = None,
    realm: str | None = None,
    scope: str | None = None,
) -> str:
    """A ``WWW-Authenticate: Bearer …`` challenge (RFC 6750 §3) pointing at the RFC 9728
    protected-resource metadata (``resource_metadata``, RFC 9728 §5.1); the core's one quoting
    rule keeps every value inside its quotes."""
    return _www_authenticate(
        realm=realm, error=error, error_description=error_description, scope=scope, resource_metadata=resource_metadata
    )


def protected_resource_metadata(
    resource: str,
    *,
    root_keys: Iterable[PublicKey] = (),
    authorization_servers: Iterable[str] = (),
    resource_name: str | None = None,
    resource_documentation: str | None = None,
) -> dict[str, Any]:
    """RFC 9728 protected-resource metadata for an MCP server guarded by marque (the core's
    document): the standard members plus ``marque_token_format``, ``marque_proof_header``,
    ``marque_meta_keys`` and, with ``root_keys``, ``marque_root_keys`` (RFC 8037 JWKs)."""
    return _protected_resource_metadata(
        resource,
        root_keys=list(root_keys),
        authorization_servers=list(authorization_servers),
        resource_name=resource_name,
        resource_documentation=resource_documentation,
    )


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

    ``verify_token`` admits the token through the core (``Verifier.admit``): the signed
    revocation list is fresh (when the verifier requires one), the signatures chain to a trusted
    root, the token has not expired, is not revoked and is within its depth — else ``None``
    (the SDK answers 401 with an RFC 9728 challenge). It returns an ``AccessToken`` with
    ``client_id`` = the acting agent id, ``subject`` = the principal, ``expires_at`` = the
    token's expiry, ``scopes`` = the token's *effective* rights (narrowed by every hop, as
    ``tool:operation:resource``) and ``claims`` = the agent identity (agent, path, chain,
    principal, task, workspace, key fingerprint, token id). It authorizes no call: install
    :class:`MarqueGuard` for that.
    """

    def __init__(self, verifier: Verifier, *, resource: str | None = None, clock: Callable[[], float] | None = None):
        self.verifier = verifier
        self.resource = _server_resource(verifier, resource)
        self._clock = clock

    async def verify_token(self, token: str) -> AccessToken | None:
        from mcp.server.auth.provider import AccessToken

        try:
            a = self.verifier.admit(token, now=self._clock() if self._clock is not None else None)
        except MarqueError:
            return None
        claims: dict[str, Any] = {
            "iss": f"marque:root:{a.root_key_id}" if a.root_key_id is not None else "marque",
            "sub": a.principal,
            "agent": a.agent,
            "path": a.path,
            "chain": a.chain,
            "principal": a.principal,
            "task": a.task,
            "workspace": a.workspace,
            "agent_key_fingerprint": a.agent_key_fingerprint,
            "token_id": a.token_id,
            "exp": a.expires_at,
            "iat": a.issued_at,
        }
        return AccessToken(
            token=token,
            client_id=a.agent,
            scopes=a.scopes,
            expires_at=a.expires_at,
            resource=self.resource,
            subject=a.principal,
            claims=claims,
        )


def _server_resource(verifier: Verifier, resource: str | None) -> str | None:
    """The server's URI: the verifier's audience; a ``resource`` given as well must be the same
    server (compared in the core's canonical form), else ``InvalidArgument``."""
    if resource is None:
        return verifier.audience
    canonical = McpConfig({"resource": resource}).resource
    if canonical != verifier.audience:
        raise InvalidArgument(
            f"resource {resource!r} is not the verifier's audience ({verifier.audience!r}): give the Verifier "
            f"audience={resource!r} so that proofs are checked against this server"
        )
    return canonical


def _header(request: Any, name: str) -> str | None:
    headers = getattr(request, "headers", None)
    value = headers.get(name) if headers is not None else None
    return value if isinstance(value, str) else None


class MarqueGuard:
    """MCP server middleware: every message goes through marque's core mapping, nothing falls
    through.

    ``MCPServer(..., middleware=[MarqueGuard(verifier, tools={...})])`` (or append it to
    ``server.middleware``). ``tools/call``, ``resources/read``/``subscribe``/``unsubscribe``,
    ``prompts/get`` and ``completion/complete`` are authorized with the caller's token and proof
    (``Verifier.authorize_mcp``); the allow-list (``allow``, default ``MCP_DEFAULT_ALLOW``:
    ``initialize``, ``ping``, ``notifications/*`` and the ``…/list`` catalogues) passes without
    a rights check (a token it carries must still be admissible); anything else — another
    method, a request without an ``id``, a malformed ``tools/call``, ``Mcp-Method`` /
    ``Mcp-Name`` headers that disagree with the body — is refused (``invalid_request``). The
    token comes from ``Authorization: Bearer`` on Streamable HTTP or from
    ``_meta["marque/token"]``; the proof from ``_meta["marque/proof"]`` or the ``Marque-Proof``
    header.

    On denial the message never reaches its handler and the client receives, with
    ``deny_as="error"`` (default), a JSON-RPC error with code :data:`DENIED_ERROR_CODE` and
    ``data = {"marque": {"code", "reasons", "agent", "path", "tool", "operation", "resource"}}``
    (an ``approval_required`` denial adds ``"approval_request": {"digest", "approvers",
    "reason"}``: an approver signs ``digest`` with :func:`marque.approve` and the client retries
    the call with the approval in ``_meta["marque/approval"]`` and a fresh proof);
    with ``deny_as="result"``, a denied ``tools/call`` gets a ``CallToolResult`` with ``isError:
    true`` and the same object as ``structuredContent`` (visible to the model).

    Audience (RFC 8707): the verifier's ``audience`` (``Verifier(..., audience=…)``, this
    server's URI) binds every proof to this server; ``resource`` may name it here too (it must
    be the same, or every call is refused ``invalid_argument``).

    ``audit`` receives every decision taken (allowed or denied); with ``audit_log`` and
    ``audit_signer`` every decision is also appended to the log as a signed entry
    (``Decision.to_audit_event()``), before the handler runs. A message refused before any
    decision (no token, a malformed or forged token, a malformed message) leaves no entry. If the
    append fails (``AuditChainBroken``: the log's last line is damaged), the call is denied with
    that code rather than run unrecorded. ``clock`` overrides the time.
    """

    def __init__(
        self,
        verifier: Verifier,
        *,
        tools: Mapping[str, ToolSpec] | None = None,
        allow: Iterable[str] | None = None,
        deny_as: Literal["error", "result"] = "error",
        error_code: int = DENIED_ERROR_CODE,
        audit: Callable[[Decision], object] | None = None,
        audit_log: AuditFile | AuditLog | OtelAuditSink | None = None,
        audit_signer: _SignerLike | None = None,
        clock: Callable[[], float] | None = None,
        resource: str | None = None,
    ):
        _check_audit_log(audit_log, audit_signer)
        self.verifier = verifier
        self.tools: dict[str, ToolSpec] = dict(tools or {})
        self.config = mcp_config(self.tools, allow=allow, resource=_server_resource(verifier, resource))
        self.deny_as = deny_as
        self.error_code = error_code
        self.audit = audit
        self.audit_log = audit_log
        self.audit_signer = audit_signer
        self.clock = clock

    @staticmethod
    def message(ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
        """The JSON-RPC message of a request context (what the core maps)."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": ctx.method}
        if ctx.request_id is not None:
            message["id"] = ctx.request_id
        if ctx.params is not None:
            message["params"] = dict(ctx.params) if isinstance(ctx.params, Mapping) else ctx.params
        return message

    def _deny(self, method: str, code: str, message: str, details: dict[str, Any]) -> HandlerResult:
        from mcp.shared.exceptions import MCPError

        data = {"marque": {"code": code, **details}}
        if self.deny_as == "result" and method == "tools/call":
            from mcp_types import CallToolResult, TextContent

            return CallToolResult(
                content=[TextContent(type="text", text=f"marque: {code}: {message}")],
                structured_content=data,
                is_error=True,
            )
        raise MCPError(code=self.error_code, message=f"marque: {code}: {message}", data=data)

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        message = self.message(ctx)
        # With an OpenTelemetry audit sink: one span in the caller's trace (`_meta.traceparent`).
        with trace_message(self.audit_log, message):
            return await self._guard(ctx, message, call_next)

    async def _guard(self, ctx: ServerRequestContext[Any, Any], message: dict[str, Any], call_next: CallNext) -> HandlerResult:
        request = ctx.request
        now = self.clock() if self.clock is not None else None
        try:
            decision, token = _gate.authorize_message(
                self.verifier, self.config, self.tools, message,
                authorization=_header(request, "authorization"), proof=_header(request, "marque-proof"),
                mcp_method=_header(request, "mcp-method"), mcp_name=_header(request, "mcp-name"), now=now,
                audit=self.audit, audit_log=self.audit_log, audit_signer=self.audit_signer,
            )
        except _gate.Refusal as r:
            return self._deny(ctx.method, r.code, r.message, r.details)
        with _gate.current(decision, token, self.verifier, now):
            return await call_next(ctx)


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
    "Agent",
    "DENIED_ERROR_CODE",
    "META_APPROVAL",
    "META_PROOF",
    "META_TOKEN",
    "MarqueAuth",
    "MarqueGuard",
    "MarqueTokenVerifier",
    "ToolSpec",
    "auth_settings",
    "bearer_headers",
    "bearer_token",
    "call_meta",
    "denial",
    "http_refusal",
    "install",
    "mcp_config",
    "protected_resource_metadata",
    "request_for",
    "resource_metadata_url",
    "www_authenticate",
]
