// @marque/node/mcp: marque for servers built with @modelcontextprotocol/sdk.
//
// Glue only: every rule — which MCP method maps to which marque request, what is refused, token
// admission, `WWW-Authenticate` challenges, RFC 9728 metadata — is the Rust core's, shared with
// the Python and edge layers (tests/vectors/mcp.json). This module carries SDK objects there and
// the answers back.
//
// - `marqueTokenVerifier(verifier)`: an `OAuthTokenVerifier` for the SDK's `requireBearerAuth`
//   (Streamable HTTP): admits the token through the core (`verifier.admit`: revocation-list
//   staleness, signatures, expiry, revocation) and returns an `AuthInfo` whose `scopes` are the
//   token's effective, narrowed rights and whose `extra.marque` is the agent identity.
// - `guardTools(server, …)`: every request (and notification) the server handles goes through
//   `verifier.authorizeMcpAsync` first — `tools/call`, `resources/read`, `prompts/get`,
//   `completion/complete` are authorized with the caller's token (the bearer token,
//   `extra.authInfo.token`, or `_meta["marque/token"]` on stdio) and proof (`_meta["marque/proof"]`
//   or the `Marque-Proof` header), the allow-list passes, anything else is refused.
// - `protectedResourceMetadata(…)`, `protectedResourceMetadataUrl(…)`, `bearerChallenge(…)`:
//   RFC 9728 metadata and RFC 6750 / RFC 9728 challenges, from the core.
// - `guardTool(…)` / `authorizeToolCall(…)`: authorize one explicit request inside a handler.
import { createRequire } from 'node:module'
import { OtelAuditSink, traceMessage } from './otel.mjs'

const require = createRequire(import.meta.url)

// The MCP TypeScript SDK, either line: 1.x (`@modelcontextprotocol/sdk`) or 2.x
// (`@modelcontextprotocol/server`), both optional peers. Only the bearer-auth error classes differ
// (each line's `requireBearerAuth` recognises its own, by `instanceof` on its ESM build, so they are
// imported — lazily, when a token is refused — as ESM); JSON-RPC errors are duck-typed by both.
const SDK_ERRORS = { 1: '@modelcontextprotocol/sdk/server/auth/errors.js', 2: '@modelcontextprotocol/server' }
const installed = (sdk) => {
  try {
    require.resolve(SDK_ERRORS[sdk])
    return true
  } catch {
    return false
  }
}
const sdkErrors = {}
const errorsOf = (sdk) => (sdkErrors[sdk] ??= import(SDK_ERRORS[sdk]))
const {
  AuditFile, AuditLog, KeyPair, MarqueError, McpConfig, Token, Verifier, MCP_DENIED_ERROR_CODE,
  challengeValue, httpRefusal, protectedResourceMetadata: coreMetadata, resourceMetadataUrl, wwwAuthenticate,
} = require('./index.js')

/** `_meta` key carrying the token on transports without HTTP headers (stdio). */
export const TOKEN_META_KEY = 'marque/token'
/** `_meta` key carrying the proof of possession for this call. */
export const PROOF_META_KEY = 'marque/proof'
/** `_meta` key under which a denied call's result carries the decision JSON. */
export const DECISION_META_KEY = 'marque/decision'
/** HTTP header carrying the proof of possession (alternative to `_meta`). */
export const PROOF_HEADER = 'marque-proof'
/** `_meta` key carrying a human approval of this call (`approve`), beside the proof. */
export const APPROVAL_META_KEY = 'marque/approval'
/** HTTP header carrying a human approval of this call (alternative to `_meta`). */
export const APPROVAL_HEADER = 'marque-approval'
/**
 * `_meta` key under which an `approval_required` tool error carries what to approve:
 * `{ digest, approvers, reason }` (the decision's `approval_request`).
 */
export const APPROVAL_REQUEST_META_KEY = 'marque/approval_request'
/** JSON-RPC error code of a marque refusal (methods other than `tools/call`). */
export const DENIED_ERROR_CODE = MCP_DENIED_ERROR_CODE

function assertAudit(audit) {
  const signer = audit?.signer
  const isSigner = signer instanceof KeyPair || (signer !== null && typeof signer === 'object' && signer.publicKey !== undefined && typeof signer.sign === 'function')
  const isLog = audit?.log instanceof AuditFile || audit?.log instanceof AuditLog || audit?.log instanceof OtelAuditSink
  if (audit !== undefined && !(audit && isLog && isSigner)) {
    throw new MarqueError('invalid_argument', 'audit must be { log: AuditFile | AuditLog | OtelAuditSink, signer: KeyPair | Signer, eventType? }')
  }
}

/** A refused MCP request, as a JSON-RPC error both SDK lines send as is (`code`, `data`). */
class DeniedError extends Error {
  constructor(message, data) {
    super(message)
    this.name = 'McpError'
    this.code = DENIED_ERROR_CODE
    this.data = data
  }
}

function assertVerifier(verifier) {
  if (!(verifier instanceof Verifier)) {
    throw new MarqueError('invalid_argument', 'expected a marque Verifier')
  }
}

/**
 * An `OAuthTokenVerifier` for `requireBearerAuth`: the bearer token is a marque token, admitted
 * by the core (`verifier.admit`). A refused token is the SDK's invalid-token error (401; its
 * message passes the core's challenge quoting rule, since the SDK writes it into
 * `WWW-Authenticate`), a stale revocation list its server error (fail closed). `options.sdk`: 1
 * (`@modelcontextprotocol/sdk`, the default when installed) or 2 (`@modelcontextprotocol/server`
 * with `@modelcontextprotocol/express`), whose `requireBearerAuth` each recognise their own
 * error classes. Authorization (rights, delegation checks,
 * proofs) happens per message in `guardTools`.
 */
export function marqueTokenVerifier(verifier, options = {}) {
  assertVerifier(verifier)
  const { resource: given, sdk = installed(1) ? 1 : 2, ...rest } = options ?? {}
  const unknown = Object.keys(rest)
  if (unknown.length > 0) throw new MarqueError('invalid_argument', `marqueTokenVerifier: unknown option \`${unknown[0]}\` (resource, sdk)`)
  serverResource(verifier, given) // a `resource` given must be the verifier's audience
  if (sdk !== 1 && sdk !== 2) throw new MarqueError('invalid_argument', 'marqueTokenVerifier: sdk is 1 (@modelcontextprotocol/sdk) or 2 (@modelcontextprotocol/server)')
  if (!installed(sdk)) throw new MarqueError('invalid_argument', `marqueTokenVerifier: the MCP SDK ${sdk}.x (${SDK_ERRORS[sdk]}) is not installed`)
  const refusal = async (status, message) => {
    const lib = await errorsOf(sdk)
    return sdk === 1
      ? (status === 401 ? new lib.InvalidTokenError(message) : new lib.ServerError(message))
      : new lib.OAuthError(status === 401 ? lib.OAuthErrorCode.InvalidToken : lib.OAuthErrorCode.ServerError, message)
  }
  return {
    async verifyAccessToken(token) {
      let info
      try {
        info = verifier.authInfo(token)
      } catch (e) {
        if (!(e instanceof MarqueError)) throw e
        const message = challengeValue(`marque: ${e.code}: ${e.message}`)
        throw await refusal(httpRefusal(e.code).status, message)
      }
      // The core builds the AuthInfo (its `resource` is the verifier's audience, which
      // `serverResource` checked `options.resource` against); the SDK wants `resource` as a URL.
      return info.resource === undefined ? info : { ...info, resource: new URL(info.resource) }
    },
  }
}

/**
 * The server's URI (RFC 8707): the verifier's `audience`; a `resource` given as well must name
 * the same server (compared in the core's canonical form), else `invalid_argument`.
 */
function serverResource(verifier, resource) {
  if (resource === undefined || resource === null) return verifier.audience ?? undefined
  const canonical = new McpConfig({ resource: String(resource) }).resource
  if (canonical !== (verifier.audience ?? null)) {
    throw new MarqueError('invalid_argument', `resource ${JSON.stringify(String(resource))} is not the verifier's audience (${verifier.audience ?? 'not set'}): give the Verifier { audience: ${JSON.stringify(String(resource))} } so that proofs are checked against this server`)
  }
  return canonical
}

/** The RFC 9728 metadata URL for an MCP server URL (`/.well-known/oauth-protected-resource/…`). */
export function protectedResourceMetadataUrl(serverUrl) {
  return resourceMetadataUrl(new URL(String(serverUrl)).href)
}

/**
 * RFC 9728 OAuth 2.0 Protected Resource Metadata for a marque-guarded MCP server (the core's
 * document). Serve it at `protectedResourceMetadataUrl(serverUrl)`.
 */
export function protectedResourceMetadata({ resource, authorizationServers, scopesSupported, resourceName, resourceDocumentation, rootKeys } = {}) {
  if (!resource) throw new MarqueError('invalid_argument', 'protectedResourceMetadata needs `resource` (the server URL)')
  return coreMetadata({
    resource: new URL(String(resource)).href,
    ...(authorizationServers ? { authorizationServers: authorizationServers.map(String) } : {}),
    ...(scopesSupported ? { scopesSupported: [...scopesSupported] } : {}),
    ...(resourceName !== undefined ? { resourceName } : {}),
    ...(resourceDocumentation !== undefined ? { resourceDocumentation: String(resourceDocumentation) } : {}),
    ...(rootKeys ? { rootKeys } : {}),
  })
}

/** A `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3, `resource_metadata` from RFC 9728 §5.1), by the core. */
export function bearerChallenge({ error, description, scope, resourceMetadataUrl: metadata, realm } = {}) {
  return wwwAuthenticate({
    ...(realm !== undefined ? { realm: String(realm) } : {}),
    ...(error !== undefined ? { error } : {}),
    ...(description !== undefined ? { errorDescription: String(description) } : {}),
    ...(scope !== undefined ? { scope: Array.isArray(scope) ? scope.map(String) : String(scope).split(' ').filter(Boolean) } : {}),
    ...(metadata !== undefined ? { resourceMetadata: String(metadata) } : {}),
  })
}

// A handler's view of the HTTP request: `extra.requestInfo.headers` (a plain object) and
// `extra.authInfo` in SDK 1.x, `ctx.http.req.headers` (web `Headers`) and `ctx.http.authInfo` in 2.x.
function headerOf(extra, name) {
  const v2 = extra?.http?.req?.headers
  if (v2 && typeof v2.get === 'function') return v2.get(name) ?? undefined
  const h = extra?.requestInfo?.headers?.[name]
  return Array.isArray(h) ? h[0] : h
}

function authInfoOf(extra) {
  return extra?.authInfo ?? extra?.http?.authInfo
}

const DEFAULT_CONFIG = new McpConfig()

/**
 * The resource the core reads from a tool call's arguments when the tool declares none: the one
 * argument among `resource`, `path`, `file`, `uri`, `url` (two or more: `invalid_request`, never
 * a guess), else `*`.
 */
export function defaultResource(args) {
  const message = { jsonrpc: '2.0', id: 0, method: 'tools/call', params: { name: 'tool', ...(args === undefined ? {} : { arguments: args }) } }
  return DEFAULT_CONFIG.map(message).request.resource
}

// A denied tool call: a tool error result (`isError`), the reason as text, the decision JSON in
// `_meta["marque/decision"]` and, for `approval_required`, what to approve in
// `_meta["marque/approval_request"]` (`{ digest, approvers, reason }`). `_meta`, not
// `structuredContent`: a client validates `structuredContent` against the tool's `outputSchema`.
function deniedResult(text, decisionJson) {
  const asked = decisionJson?.approval_request
  return {
    isError: true,
    content: [{ type: 'text', text }],
    ...(decisionJson ? { _meta: { [DECISION_META_KEY]: decisionJson, ...(asked ? { [APPROVAL_REQUEST_META_KEY]: asked } : {}) } } : {}),
  }
}

const decisions = new WeakMap()

/** The allowed `Decision` of the current call, inside a guarded handler. */
export function decisionOf(extra) {
  return extra && typeof extra === 'object' ? decisions.get(extra) : undefined
}

/**
 * Authorizes one explicit request (`{tool, operation, resource}`) with the caller's token and
 * proof. Returns `{ decision }` when allowed, else `{ result }`: a tool error result naming the reason.
 */
export async function authorizeToolCall(verifier, { tool, operation = '*', resource = '*', extra, now, onDecision, audit }) {
  assertVerifier(verifier)
  assertAudit(audit)
  const meta = extra?._meta ?? {}
  const token = authInfoOf(extra)?.token ?? meta[TOKEN_META_KEY]
  const proof = meta[PROOF_META_KEY] ?? headerOf(extra, PROOF_HEADER)
  const approval = meta[APPROVAL_META_KEY] ?? headerOf(extra, APPROVAL_HEADER)
  if (typeof token !== 'string' || token.length === 0) {
    return { result: deniedResult(`marque: ${tool} denied: no marque token (send "Authorization: Bearer <token>" or _meta["${TOKEN_META_KEY}"])`) }
  }
  let decision
  try {
    decision = await verifier.authorizeAsync(token, {
      tool, operation, resource,
      ...(typeof proof === 'string' ? { proof } : {}),
      ...(typeof approval === 'string' ? { approval } : {}),
      ...(now !== undefined ? { now } : {}),
    })
  } catch (e) {
    if (!(e instanceof MarqueError)) throw e
    onDecision?.({ tool, operation, resource, error: e, decision: null, entry: null })
    return { result: deniedResult(`marque: ${tool} denied: ${e.code}: ${e.message}`) }
  }
  const entry = audit ? audit.log.appendDecision(audit.signer, decision, audit.eventType ?? 'tool_call') : null
  onDecision?.({ tool, operation, resource, error: null, decision, entry })
  if (!decision.allowed) return { result: deniedResult(denialText(decision), decision.toJSON()) }
  return { decision }
}

function denialText(decision) {
  const { tool, resource } = decision.request
  const why = decision.reasons.length ? decision.reasons.join('; ') : 'no reason given'
  const asked = decision.approvalRequest
  const next = asked
    ? `; to proceed, an approver (${asked.approvers.join(', ') || 'none trusted'}) approves digest ${asked.digest} and the call is retried with the approval in _meta["${APPROVAL_META_KEY}"]`
    : ''
  return `marque: ${tool} on ${resource} denied for ${decision.agent} (${decision.path}): ${decision.code}: ${why}${next}`
}

/**
 * Wraps one tool handler so it runs only when marque allows the call on an explicit request:
 * `server.registerTool(name, config, guardTool(verifier, { name, operation, resource }, handler))`.
 * `resource` is a string or a function of the arguments (default: `defaultResource`).
 */
export function guardTool(verifier, spec, handler) {
  assertVerifier(verifier)
  if (typeof handler !== 'function') throw new MarqueError('invalid_argument', 'guardTool needs a handler function')
  const { name, operation = '*', resource = defaultResource, hasArgs = true, onDecision, now, audit } = spec ?? {}
  assertAudit(audit)
  if (typeof name !== 'string' || !name) throw new MarqueError('invalid_argument', 'guardTool needs the tool `name`')
  return async (...callArgs) => {
    const extra = hasArgs ? callArgs[1] : callArgs[0]
    const args = hasArgs ? callArgs[0] : undefined
    let op, res
    try {
      op = typeof operation === 'function' ? operation(args) : operation
      res = typeof resource === 'function' ? resource(args) : resource
    } catch (e) {
      if (!(e instanceof MarqueError)) throw e
      return deniedResult(`marque: ${name} denied: ${e.code}: ${e.message}`)
    }
    const outcome = await authorizeToolCall(verifier, { tool: name, operation: op, resource: res, extra, onDecision, now, audit })
    if (outcome.result) return outcome.result
    if (extra && typeof extra === 'object') decisions.set(extra, outcome.decision)
    return handler(...callArgs)
  }
}

/**
 * The core configuration of `guardTools` options: `tools[name]` is the core's tool mapping
 * (`{ tool?, operation?, resource_arg?, resource?, attribute_args?, attributes? }`), except that `resource` may be a function
 * of the arguments (the application's own mapping, applied per call); `allow` the allow-list;
 * `resource` the server's URI (RFC 8707: agents bind their proofs to it).
 */
export function mcpConfig({ tools = {}, allow, resource } = {}) {
  const core = {}
  for (const [name, spec] of Object.entries(tools)) {
    const { resource, ...rest } = spec ?? {}
    core[name] = typeof resource === 'function' ? rest : { ...rest, ...(resource !== undefined ? { resource } : {}) }
  }
  return new McpConfig({ tools: core, ...(allow !== undefined ? { allow } : {}), ...(resource !== undefined ? { resource: String(resource) } : {}) })
}

/**
 * Decides one MCP message (the JSON-RPC request or notification the SDK hands to its handlers)
 * with the core: `{ outcome }` when it may reach its handler (`outcome.decision` is the allowed
 * decision of an authorized request, `null` for an allow-listed one), else `{ refusal: { code,
 * message, details, decision } }`.
 */
export async function authorizeMcpRequest(verifier, message, extra, { config = DEFAULT_CONFIG, tools = {}, now, onDecision, audit, store, storeOptions } = {}) {
  const params = message?.params
  const details = { method: message?.method }
  let resource
  try {
    const fn = message?.method === 'tools/call' && typeof params?.name === 'string' ? tools[params.name]?.resource : undefined
    if (typeof fn === 'function' && (params.arguments === undefined || (params.arguments !== null && typeof params.arguments === 'object' && !Array.isArray(params.arguments)))) {
      resource = fn(params.arguments ?? {})
      if (typeof resource !== 'string') throw new MarqueError('invalid_request', `the resource function of tool ${params.name} returned no string`)
    }
    const token = authInfoOf(extra)?.token
    const options = {
      ...(typeof token === 'string' ? { token } : {}),
      ...(typeof headerOf(extra, PROOF_HEADER) === 'string' ? { proof: headerOf(extra, PROOF_HEADER) } : {}),
      ...(typeof headerOf(extra, APPROVAL_HEADER) === 'string' ? { approval: headerOf(extra, APPROVAL_HEADER) } : {}),
      ...(typeof headerOf(extra, 'mcp-method') === 'string' ? { mcpMethod: headerOf(extra, 'mcp-method') } : {}),
      ...(typeof headerOf(extra, 'mcp-name') === 'string' ? { mcpName: headerOf(extra, 'mcp-name') } : {}),
      ...(resource !== undefined ? { resource } : {}),
      ...(now !== undefined ? { now } : {}),
    }
    const outcome = store === undefined
      ? await verifier.authorizeMcpAsync(config, message, options)
      : await verifier.authorizeMcpWithStore(config, message, options, store, storeOptions)
    const decision = outcome.decision ?? null
    if (decision === null) return { outcome }
    const request = outcome.request
    Object.assign(details, request)
    const entry = audit ? audit.log.appendDecision(audit.signer, decision, audit.eventType ?? 'tool_call') : null
    onDecision?.({ method: message.method, ...request, error: null, decision, entry })
    if (!decision.allowed) {
      const asked = decision.approvalRequest ? { approval_request: decision.toJSON().approval_request } : {}
      return { refusal: { code: decision.code, message: denialText(decision), details: { ...details, agent: decision.agent, path: decision.path, reasons: decision.reasons, ...asked }, decision } }
    }
    return { outcome }
  } catch (e) {
    if (!(e instanceof MarqueError)) throw e
    onDecision?.({ method: message?.method, tool: params?.name, operation: undefined, resource, error: e, decision: null, entry: null })
    return { refusal: { code: e.code, message: `marque: ${message?.method ?? 'message'} denied: ${e.code}: ${e.message}`, details, decision: null } }
  }
}

/**
 * Guards every message `server` (an `McpServer` or a low-level `Server`) handles, whenever its
 * handler was registered: each request and notification goes through `authorizeMcpRequest`
 * before its handler runs. A denied `tools/call` becomes a tool error result naming the reason
 * (with the decision JSON in `_meta["marque/decision"]`); any other refused request a JSON-RPC
 * error `DENIED_ERROR_CODE` with `data.marque`; a refused notification is dropped. `tools[name]`
 * maps a tool's calls (see `mcpConfig`); `allow` replaces the allow-list. Proofs are bound to
 * this server by the verifier's `audience` (RFC 8707); `resource`, if given, must be the same
 * URI. Returns the server.
 */
export function guardTools(server, { verifier, tools = {}, allow, resource, onDecision, now, audit, store, storeOptions } = {}) {
  assertVerifier(verifier)
  assertAudit(audit)
  const low = server?.server ?? server
  const requests = low?._requestHandlers
  const notifications = low?._notificationHandlers
  if (!(requests instanceof Map) || !(notifications instanceof Map)) {
    throw new MarqueError('invalid_argument', 'guardTools expects an McpServer or Server (of @modelcontextprotocol/sdk 1.x or @modelcontextprotocol/server 2.x)')
  }
  const config = mcpConfig({ tools, allow, resource: serverResource(verifier, resource) })
  if (store !== undefined && (store === null || typeof store !== 'object' || typeof store.claim !== 'function')) {
    throw new MarqueError('invalid_argument', 'guardTools store must be an object with claim(key, ttlMs) → Promise<boolean> (and spend(charges) for budgets): see authorizeWithStore')
  }
  const options = { config, tools, now, onDecision, audit, store, storeOptions }
  // With an OpenTelemetry audit sink: one span per request in the caller's trace (`_meta.traceparent`).
  const guardRequest = (method, handler) => (request, extra) => traceMessage(audit?.log, request, () => guarded(method, handler, request, extra))
  const guarded = async (method, handler, request, extra) => {
    const { outcome, refusal } = await authorizeMcpRequest(verifier, request, extra, options)
    if (refusal) {
      if (method === 'tools/call') return deniedResult(refusal.message, refusal.decision?.toJSON())
      throw new DeniedError(refusal.message, { marque: { code: refusal.code, ...refusal.details } })
    }
    if (outcome.decision && extra && typeof extra === 'object') decisions.set(extra, outcome.decision)
    return handler(request, extra)
  }
  const guardNotification = (handler) => async (notification) => {
    const { refusal } = await authorizeMcpRequest(verifier, notification, undefined, options)
    if (!refusal) return handler(notification)
  }
  for (const [map, wrap] of [[requests, guardRequest], [notifications, (_m, h) => guardNotification(h)]]) {
    for (const [method, handler] of [...map]) map.set(method, wrap(method, handler))
    const set = map.set.bind(map)
    map.set = (method, handler) => set(method, wrap(method, handler))
  }
  return server
}

/**
 * Client side: the `_meta` to send with a call (token on stdio, proof and approval on any
 * transport). `approval`: the string `approve` returned for this exact call.
 */
export function callMeta({ token, proof, approval } = {}) {
  const meta = {}
  if (token !== undefined) meta[TOKEN_META_KEY] = typeof token === 'string' ? token : token.toBase64()
  if (proof !== undefined) meta[PROOF_META_KEY] = proof
  if (approval !== undefined) meta[APPROVAL_META_KEY] = approval
  return meta
}

function configOf(mcp, resource) {
  if (mcp instanceof McpConfig) {
    if (resource !== undefined) throw new MarqueError('invalid_argument', 'give the server resource inside the McpConfig, or mcp as { tools, allow } with resource')
    return mcp
  }
  return mcpConfig({ ...(mcp ?? {}), ...(resource !== undefined ? { resource } : {}) })
}

/**
 * Client side: a `fetch` for the SDK's HTTP client transports (`new
 * StreamableHTTPClientTransport(url, { fetch: marqueFetch({ token, agent, mcp }) })`). Every
 * request carries `Authorization: Bearer <token>`; a POSTed JSON-RPC message also gets the
 * core's `clientHeaders` — a fresh `Marque-Proof` bound to exactly the request the server maps it
 * to, `Mcp-Method` and `Mcp-Name` — so client and server cannot disagree. `mcp` is the server's
 * tool declarations (`{ tools, allow }`, as for `guardTools`, or an `McpConfig`); `resource` the
 * server's URI (RFC 8707: every proof is bound to it, so another server cannot replay it). A
 * message the server would refuse throws `invalid_request` before it is sent.
 */
export function marqueFetch({ token, agent, mcp, resource, fetch: base = globalThis.fetch, ...rest } = {}) {
  const unknown = Object.keys(rest)
  if (unknown.length > 0) throw new MarqueError('invalid_argument', `marqueFetch: unknown option \`${unknown[0]}\``)
  if (token === undefined || agent === undefined) throw new MarqueError('invalid_argument', 'marqueFetch needs { token, agent }')
  const config = configOf(mcp, resource)
  const bearer = `Bearer ${typeof token === 'string' ? token : token.toBase64()}`
  return async function fetchWithMarque(input, init = {}) {
    const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined))
    let extra = { Authorization: bearer }
    if (method === 'POST') {
      // The JSON-RPC message is what the proof binds: it must be readable here.
      if (typeof init.body !== 'string') throw new MarqueError('invalid_request', 'marqueFetch: a POST body must be the JSON-RPC message as a string')
      extra = config.clientHeaders(init.body, token, agent)
    }
    for (const [name, value] of Object.entries(extra)) headers.set(name, value)
    return base(input, { ...init, headers })
  }
}

/**
 * The agent side in one object: a token, the key (or `Signer`) holding it, the server's tool
 * declarations and its URI (`resource`, the audience of every proof). `fetch` plugs it into the SDK's HTTP client transports; `headers(message)` gives
 * the headers of one message; `delegate(to, options)` hands a sub-agent a narrowed token under a
 * fresh key of its own, in one call.
 */
export class McpAgent {
  constructor({ token, key, mcp, resource, ...rest } = {}) {
    const unknown = Object.keys(rest)
    if (unknown.length > 0) throw new MarqueError('invalid_argument', `McpAgent: unknown option \`${unknown[0]}\``)
    this.token = typeof token === 'string' ? Token.fromBase64(token) : token
    this.key = key
    this.config = configOf(mcp, resource)
    this.fetch = marqueFetch({ token: this.token, agent: key, mcp: this.config })
  }

  headers(message) {
    return this.config.clientHeaders(message, this.token, this.key)
  }

  delegate(to, options = {}) {
    const key = KeyPair.generate()
    const token = this.token.delegate(this.key, { ...options, to, toKey: key.publicKey })
    return new McpAgent({ token, key, mcp: this.config })
  }
}
