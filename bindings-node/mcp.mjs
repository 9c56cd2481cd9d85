// @marque/node/mcp: marque for servers built with @modelcontextprotocol/sdk.
//
// - `marqueTokenVerifier(verifier)`: an `OAuthTokenVerifier` for the SDK's `requireBearerAuth`
//   (Streamable HTTP): checks the token's signatures and returns an `AuthInfo` with `expiresAt`
//   and the agent identity in `extra.marque`.
// - `protectedResourceMetadata(…)`, `protectedResourceMetadataUrl(…)`, `bearerChallenge(…)`:
//   RFC 9728 metadata and RFC 6750 / RFC 9728 `WWW-Authenticate` challenges.
// - `guardTool(…)` / `guardTools(server, …)`: authorize every `tools/call` (and, with `audit`,
//   append a signed entry for each decision to an `AuditLog`) with the caller's
//   token — the bearer token from the HTTP transport (`extra.authInfo.token`) or, on stdio,
//   `_meta["marque/token"]` — and its proof of possession (`_meta["marque/proof"]`, or the
//   `Marque-Proof` HTTP header). A denial becomes a tool error result naming the reason.
//
// Like the rest of the package this adds no security logic of its own: every decision is
// `Verifier.authorizeAsync` from the Rust core.
import { createRequire } from 'node:module'
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js'
import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js'

const require = createRequire(import.meta.url)
const { AuditLog, KeyPair, MarqueError, Verifier } = require('./index.js')

/** `_meta` key carrying the token on transports without HTTP headers (stdio). */
export const TOKEN_META_KEY = 'marque/token'
/** `_meta` key carrying the proof of possession for this call. */
export const PROOF_META_KEY = 'marque/proof'
/** `_meta` key under which a denied call's result carries the decision JSON. */
export const DECISION_META_KEY = 'marque/decision'
/** HTTP header carrying the proof of possession (alternative to `_meta`). */
export const PROOF_HEADER = 'marque-proof'

function assertAudit(audit) {
  const signer = audit?.signer
  const isSigner = signer instanceof KeyPair || (signer !== null && typeof signer === 'object' && signer.publicKey !== undefined && typeof signer.sign === 'function')
  if (audit !== undefined && !(audit && audit.log instanceof AuditLog && isSigner)) {
    throw new MarqueError('invalid_argument', 'audit must be { log: AuditLog, signer: KeyPair | Signer, eventType? }')
  }
}

function assertVerifier(verifier) {
  if (!(verifier instanceof Verifier)) {
    throw new MarqueError('invalid_argument', 'expected a marque Verifier')
  }
}

/**
 * An `OAuthTokenVerifier` for `requireBearerAuth`: the bearer token is a marque token. Its
 * signatures, structure and revocation are checked here (and `expiresAt` by the SDK);
 * authorization (rights, delegation checks, proofs) happens per tool call in
 * `guardTool`/`guardTools`.
 */
export function marqueTokenVerifier(verifier, options = {}) {
  assertVerifier(verifier)
  return {
    async verifyAccessToken(token) {
      let t
      try {
        t = verifier.verify(token)
      } catch (e) {
        if (e instanceof MarqueError) throw new InvalidTokenError(`marque: ${e.code}: ${e.message}`)
        throw e
      }
      // Revoked tokens are refused at the door (401), before any tool call is decided.
      const revoked = verifier.revocationReason(t)
      if (revoked !== null) throw new InvalidTokenError(`marque: revoked: ${revoked}`)
      const chain = t.chain
      return {
        token,
        clientId: t.agent,
        scopes: t.rights.map((r) => `${r.tool}:${r.operation}:${r.resource}`),
        expiresAt: t.expiresAt,
        ...(options.resource ? { resource: new URL(String(options.resource)) } : {}),
        extra: {
          marque: {
            agent: t.agent,
            path: t.path,
            principal: t.principal,
            task: t.task,
            workspace: t.workspace,
            agentKeyFingerprint: chain[chain.length - 1].fingerprint,
            agentKey: chain[chain.length - 1].key,
            chain,
            revocationIds: t.revocationIds,
          },
        },
      }
    },
  }
}

/** The RFC 9728 metadata URL for an MCP server URL (`/.well-known/oauth-protected-resource/…`). */
export function protectedResourceMetadataUrl(serverUrl) {
  return getOAuthProtectedResourceMetadataUrl(new URL(String(serverUrl)))
}

/**
 * RFC 9728 OAuth 2.0 Protected Resource Metadata for a marque-guarded MCP server. Serve it at
 * `protectedResourceMetadataUrl(serverUrl)`.
 */
export function protectedResourceMetadata({ resource, authorizationServers, scopesSupported, resourceName, resourceDocumentation } = {}) {
  if (!resource) throw new MarqueError('invalid_argument', 'protectedResourceMetadata needs `resource` (the server URL)')
  const meta = {
    resource: String(new URL(String(resource))),
    bearer_methods_supported: ['header'],
  }
  if (authorizationServers?.length) meta.authorization_servers = authorizationServers.map(String)
  if (scopesSupported?.length) meta.scopes_supported = [...scopesSupported]
  if (resourceName) meta.resource_name = resourceName
  if (resourceDocumentation) meta.resource_documentation = String(resourceDocumentation)
  // marque extension: how to present tokens and proofs, and which root keys are trusted.
  meta.marque_token_format = 'biscuit-v3'
  meta.marque_proof_header = 'Marque-Proof'
  meta.marque_meta_keys = { token: TOKEN_META_KEY, proof: PROOF_META_KEY }
  return meta
}

const quote = (s) => String(s).replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ')

/** A `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3, `resource_metadata` from RFC 9728 §5.1). */
export function bearerChallenge({ error, description, scope, resourceMetadataUrl, realm } = {}) {
  const parts = []
  if (realm) parts.push(`realm="${quote(realm)}"`)
  if (error) parts.push(`error="${quote(error)}"`)
  if (description) parts.push(`error_description="${quote(description)}"`)
  if (scope) parts.push(`scope="${quote(Array.isArray(scope) ? scope.join(' ') : scope)}"`)
  if (resourceMetadataUrl) parts.push(`resource_metadata="${quote(resourceMetadataUrl)}"`)
  return parts.length ? `Bearer ${parts.join(', ')}` : 'Bearer'
}

function headerOf(extra, name) {
  const h = extra?.requestInfo?.headers?.[name]
  return Array.isArray(h) ? h[0] : h
}

function pickString(args, keys) {
  if (!args || typeof args !== 'object') return undefined
  for (const k of keys) if (typeof args[k] === 'string') return args[k]
  return undefined
}

/** Default resource of a call: the first string among `resource`, `path`, `file`, `uri`, `url`; else `*`. */
export function defaultResource(args) {
  return pickString(args, ['resource', 'path', 'file', 'uri', 'url']) ?? '*'
}

function deniedResult(text, decisionJson) {
  return {
    isError: true,
    content: [{ type: 'text', text }],
    ...(decisionJson ? { _meta: { [DECISION_META_KEY]: decisionJson } } : {}),
  }
}

const decisions = new WeakMap()

/** The allowed `Decision` of the current call, inside a guarded tool handler. */
export function decisionOf(extra) {
  return extra && typeof extra === 'object' ? decisions.get(extra) : undefined
}

/**
 * Authorizes one tool call. Returns `{ decision }` when allowed, else `{ result }`: a tool error
 * result naming the reason.
 */
export async function authorizeToolCall(verifier, { tool, operation = '*', resource = '*', extra, now, onDecision, audit }) {
  assertVerifier(verifier)
  assertAudit(audit)
  const meta = extra?._meta ?? {}
  const token = extra?.authInfo?.token ?? meta[TOKEN_META_KEY]
  const proof = meta[PROOF_META_KEY] ?? headerOf(extra, PROOF_HEADER)
  if (typeof token !== 'string' || token.length === 0) {
    return { result: deniedResult(`marque: ${tool} denied: no token (send "Authorization: Bearer <token>" or _meta["${TOKEN_META_KEY}"])`) }
  }
  let decision
  try {
    decision = await verifier.authorizeAsync(token, { tool, operation, resource, ...(typeof proof === 'string' ? { proof } : {}), ...(now !== undefined ? { now } : {}) })
  } catch (e) {
    if (!(e instanceof MarqueError)) throw e
    onDecision?.({ tool, operation, resource, error: e, decision: null, entry: null })
    return { result: deniedResult(`marque: ${tool} denied: ${e.code}: ${e.message}`) }
  }
  // Signed audit entry of every decision (allowed or denied), before the handler runs.
  const entry = audit ? audit.log.appendDecision(audit.signer, decision, audit.eventType ?? 'tool_call') : null
  onDecision?.({ tool, operation, resource, error: null, decision, entry })
  if (!decision.allowed) {
    const why = decision.reasons.length ? decision.reasons.join('; ') : 'no reason given'
    return { result: deniedResult(`marque: ${tool} on ${resource} denied for ${decision.agent} (${decision.path}): ${decision.code}: ${why}`, decision.toJSON()) }
  }
  return { decision }
}

/**
 * Wraps one tool handler so it runs only when marque allows the call. Use as the callback of
 * `server.registerTool(name, config, guardTool(verifier, { name, … }, handler))`.
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
    const op = typeof operation === 'function' ? operation(args) : operation
    const res = typeof resource === 'function' ? resource(args) : resource
    const outcome = await authorizeToolCall(verifier, { tool: name, operation: op, resource: res, extra, onDecision, now, audit })
    if (outcome.result) return outcome.result
    if (extra && typeof extra === 'object') decisions.set(extra, outcome.decision)
    return handler(...callArgs)
  }
}

/**
 * Guards every tool registered on `server` from now on with `registerTool`: each `tools/call`
 * is authorized by marque before the handler runs. `tools[name]` gives the operation and the
 * resource (a string or a function of the arguments) of each tool; by default the operation is
 * `*` and the resource is `defaultResource(args)`. The deprecated `server.tool(…)` is refused, so
 * no tool can be registered unguarded by mistake. Returns the server.
 */
export function guardTools(server, { verifier, tools = {}, onDecision, now, audit } = {}) {
  assertVerifier(verifier)
  assertAudit(audit)
  if (!server || typeof server.registerTool !== 'function') {
    throw new MarqueError('invalid_argument', 'guardTools expects an McpServer')
  }
  const register = server.registerTool.bind(server)
  server.registerTool = (name, config, cb) => {
    const spec = tools[name] ?? {}
    return register(name, config, guardTool(verifier, { name, onDecision, now, audit, ...spec, hasArgs: config?.inputSchema !== undefined }, cb))
  }
  server.tool = () => {
    throw new MarqueError('invalid_argument', 'server.tool() is not guarded by marque: use server.registerTool()')
  }
  return server
}

/** Client side: the `_meta` to send with a `tools/call` (token on stdio, proof on any transport). */
export function callMeta({ token, proof } = {}) {
  const meta = {}
  if (token !== undefined) meta[TOKEN_META_KEY] = typeof token === 'string' ? token : token.toBase64()
  if (proof !== undefined) meta[PROOF_META_KEY] = proof
  return meta
}
