// marque edge helper: authorize a fetch-style `Request` before forwarding it.
//
//   import { guard } from '@marque/wasm/edge'
//   const result = await guard(request, { verifier, mcp: { tools: { read_file: { operation: 'read', resource_arg: 'path' } } } })
//   if (result instanceof Response) return result      // 400 / 401 / 403 / 503, ready to send
//   return fetch(upstream, result.request)             // allowed: result.decision says who and why
//
// Runs anywhere `Request`/`Response` exist (Node >= 20, Deno, browsers, Workers-like runtimes).
// Glue only: every MCP message is mapped and decided by the core (`verifier.authorizeMcp`: the
// same rules as the Node and Python layers, tests/vectors/mcp.json), and the status code and
// `WWW-Authenticate` challenge of a refusal are the core's (`httpRefusal`, `wwwAuthenticate`).
//
// With the MCP TypeScript SDK 2.x's runtime-neutral bearer auth (`requireBearerAuth` of
// `@modelcontextprotocol/server`, for Workers, Deno, Bun, Hono), `tokenVerifier(verifier, { sdk })`
// is its `OAuthTokenVerifier`: the SDK's gate admits the token, then `guard` decides the message:
//
//   import * as sdk from '@modelcontextprotocol/server'
//   const gate = sdk.requireBearerAuth({ verifier: tokenVerifier(verifier, { sdk }), expectedResource: new URL(verifier.audience) })
//   const auth = await gate(request)                    // 401 + challenge, or the AuthInfo
//   if (auth instanceof Response) return auth
//   const result = await guard(request, { verifier, mcp })
import { McpConfig, MarqueError, bearerToken, challengeValue, httpRefusal, wwwAuthenticate } from './index.js'

/** Header carrying the proof of possession (`signProof` output). */
export const PROOF_HEADER = 'Marque-Proof'
/** Header carrying a human approval of this call (`approve` output); in an MCP message it may travel in `_meta["marque/approval"]` instead. */
export const APPROVAL_HEADER = 'Marque-Approval'
/** MCP Streamable HTTP (2026-07-28) routing headers. */
export const MCP_METHOD_HEADER = 'Mcp-Method'
export const MCP_NAME_HEADER = 'Mcp-Name'

const MAX_BODY_BYTES = 1024 * 1024
const OPTIONS = new Set(['verifier', 'mcp', 'toolFromRequest', 'proofHeader', 'realm', 'resourceMetadata', 'now'])
const configs = new WeakMap()
let defaultConfig = null

function configOf(mcp) {
  if (mcp === undefined || mcp === null) return (defaultConfig ??= new McpConfig())
  if (mcp instanceof McpConfig) return mcp
  if (typeof mcp !== 'object') throw new MarqueError('invalid_argument', 'guard options.mcp must be an McpConfig or its JSON form')
  let config = configs.get(mcp)
  if (config === undefined) {
    config = new McpConfig(mcp)
    configs.set(mcp, config)
  }
  return config
}

/**
 * Authorizes `request`. Resolves to `{ decision, admission, request, token, mcp }` when allowed
 * (the original `request`, body unread, ready to forward), or to a `Response` to send back as
 * is. Every MCP message (a JSON-RPC POST, or one with an `Mcp-Method` header) is decided by the
 * core with `options.mcp` (an `McpConfig` or its JSON form): `tools/call`, `resources/read`,
 * `prompts/get`, `completion/complete` … are authorized (proofs included), the allow-list is
 * admitted (the token must still verify, be unexpired and not revoked), anything else is
 * refused. Plain HTTP is `{tool: "http", operation: <METHOD>, resource: <path>}`, or what
 * `toolFromRequest(request)` returns (`null`: refused). Refusals: 401 + `WWW-Authenticate:
 * Bearer` for a missing or unacceptable token, 403 for a denial, 400 for a malformed or
 * unmapped request, 503 `{"error":"revocation_list_stale"}` when the verifier's signed
 * revocation list is missing or too old (fail closed).
 *
 * @param {Request} request
 * @param {import('./edge.d.ts').GuardOptions} options
 */
export async function guard(request, options) {
  const { verifier, mcp, toolFromRequest, proofHeader = PROOF_HEADER, realm = 'marque', resourceMetadata, now } = options ?? {}
  for (const key of Object.keys(options ?? {})) {
    if (!OPTIONS.has(key)) throw new MarqueError('invalid_argument', `guard options: unknown option \`${key}\` (expected one of: ${[...OPTIONS].join(', ')})`)
  }
  if (!verifier || typeof verifier.authorizeMcp !== 'function') {
    throw new MarqueError('invalid_argument', 'guard(request, { verifier }): a marque Verifier is required')
  }
  const config = configOf(mcp)
  const refuse = (code, message, decision) => refusal({ realm, resourceMetadata }, code, message, decision)
  const authorization = request.headers.get('authorization')
  const token = authorization === null ? null : bearerToken(authorization)
  if (token == null) return refuse(null, 'a Bearer token is required')
  const proof = request.headers.get(proofHeader)
  const approval = request.headers.get(APPROVAL_HEADER)
  const at = now === undefined ? {} : { now }
  try {
    const message = await mcpMessage(request)
    if (message === null) {
      const target = toolFromRequest ? await toolFromRequest(request) : { tool: 'http', operation: request.method, resource: new URL(request.url).pathname }
      if (!target) throw new MarqueError('invalid_request', 'the request maps to no marque request')
      const decision = verifier.authorize(token, {
        tool: target.tool,
        operation: target.operation ?? '*',
        resource: target.resource,
        ...(proof !== null ? { proof } : {}),
        ...(approval !== null ? { approval } : {}),
        ...at,
      })
      if (!decision.allowed) return refuse(decision.code, 'denied', decision)
      return { decision, admission: null, request, token, mcp: null }
    }
    const outcome = verifier.authorizeMcp(config, message, {
      token,
      ...(proof !== null ? { proof } : {}),
      ...(approval !== null ? { approval } : {}),
      ...(request.headers.get(MCP_METHOD_HEADER) !== null ? { mcpMethod: request.headers.get(MCP_METHOD_HEADER) } : {}),
      ...(request.headers.get(MCP_NAME_HEADER) !== null ? { mcpName: request.headers.get(MCP_NAME_HEADER) } : {}),
      ...at,
    })
    if (!outcome.allowed) return refuse(outcome.decision.code, 'denied', outcome.decision)
    return { decision: outcome.decision, admission: outcome.admission, request, token, mcp: { method: outcome.method, request: outcome.request } }
  } catch (e) {
    if (!(e instanceof MarqueError)) {
      return refuse('invalid_request', `could not map the request: ${e instanceof Error ? e.message : String(e)}`)
    }
    return refuse(e.code, e.message)
  }
}

/**
 * The MCP message of `request` as JSON text, or `null` when it is not MCP traffic. MCP traffic
 * is a request with an `Mcp-Method` header, or a POST with a JSON content type whose body is an
 * array or an object with a `jsonrpc`, `method`, `id`, `result` or `error` member; its body
 * (read from a clone, at most 1 MiB) goes to the core as received.
 * @param {Request} request
 * @returns {Promise<string | null>}
 */
export async function mcpMessage(request) {
  const flagged = request.headers.get(MCP_METHOD_HEADER) !== null
  const json = request.method === 'POST' && /json/i.test(request.headers.get('content-type') ?? '')
  if (!json) {
    if (flagged) throw new MarqueError('invalid_request', 'an MCP request is a JSON POST')
    return null
  }
  const text = await readBounded(request.clone())
  if (flagged) return text
  let body
  try {
    body = JSON.parse(text)
  } catch {
    return text // not JSON: the core refuses it
  }
  const rpc = Array.isArray(body) || (body !== null && typeof body === 'object' && ['jsonrpc', 'method', 'id', 'result', 'error'].some((k) => k in body))
  return rpc ? text : null
}

async function readBounded(request) {
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > MAX_BODY_BYTES) throw new MarqueError('invalid_request', 'the request body is larger than 1 MiB')
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BODY_BYTES) {
      await reader.cancel()
      throw new MarqueError('invalid_request', 'the request body is larger than 1 MiB')
    }
    chunks.push(value)
  }
  const all = new Uint8Array(size)
  let off = 0
  for (const c of chunks) {
    all.set(c, off)
    off += c.byteLength
  }
  return new TextDecoder().decode(all)
}

/** The `Response` of a refusal: the core's status and challenge for `code` (`null`: no token). */
function refusal({ realm, resourceMetadata }, code, message, decision) {
  const { status, error } = httpRefusal(code)
  const headers = { 'content-type': 'application/json' }
  if (status === 401 || error === 'insufficient_scope') {
    headers['www-authenticate'] = wwwAuthenticate({
      realm: String(realm),
      ...(error ? { error } : {}),
      ...(code !== null ? { errorDescription: decision ? decision.reasons.join('; ') || message : message } : {}),
      ...(resourceMetadata !== undefined ? { resourceMetadata: String(resourceMetadata) } : {}),
    })
  }
  // An `approval_required` denial carries what to approve: `approval_request` = `{ digest, approvers, reason }`.
  const asked = decision?.approval_request ? { approval_request: decision.approval_request } : {}
  const body = { error: code ?? 'missing_token', message, ...(decision ? { agent: decision.agent, path: decision.path, chain: decision.chain, reasons: decision.reasons, ...asked } : {}) }
  return new Response(JSON.stringify(body), { status, headers })
}

/**
 * An `OAuthTokenVerifier` for the MCP TypeScript SDK 2.x's runtime-neutral bearer auth
 * (`requireBearerAuth` / `verifyBearerToken` of `@modelcontextprotocol/server`): the bearer token
 * is a marque token, admitted by the core (`verifier.admit`: revocation-list staleness,
 * signatures, expiry, revocation). A refused token is the SDK's `OAuthError` (`invalid_token`:
 * 401 with the SDK's challenge; a stale revocation list or an unavailable store: `server_error`,
 * fail closed), its message passed through the core's challenge quoting rule. The `AuthInfo` has
 * `clientId` = the agent, `scopes` = the token's effective, narrowed rights, `expiresAt`, and
 * `resource` = the verifier's `audience` (so the SDK's `expectedResource` is this server: marque
 * binds each call's *proof* to it, which `guard` checks); `extra.marque` is the agent identity.
 * It authorizes no call: run `guard` (every MCP message, proofs included) after the gate.
 *
 * `options.sdk` is the SDK module (`import * as sdk from '@modelcontextprotocol/server'`): its
 * `OAuthError` and `OAuthErrorCode`, which the SDK recognises by `instanceof` — this package
 * depends on no SDK. `options.now` fixes the time (tests).
 *
 * @param {{ authInfo: Function }} verifier
 * @param {{ sdk: { OAuthError: any, OAuthErrorCode: any }, now?: number | Date }} options
 */
export function tokenVerifier(verifier, options) {
  const { sdk, now, ...rest } = options ?? {}
  for (const key of Object.keys(rest)) {
    throw new MarqueError('invalid_argument', `tokenVerifier options: unknown option \`${key}\` (expected one of: sdk, now)`)
  }
  if (!verifier || typeof verifier.authInfo !== 'function') {
    throw new MarqueError('invalid_argument', 'tokenVerifier(verifier, { sdk }): a marque Verifier is required')
  }
  if (typeof sdk?.OAuthError !== 'function' || typeof sdk?.OAuthErrorCode !== 'object' || sdk.OAuthErrorCode === null) {
    throw new MarqueError('invalid_argument', "tokenVerifier: options.sdk must be the SDK module (import * as sdk from '@modelcontextprotocol/server')")
  }
  const { OAuthError, OAuthErrorCode } = sdk
  return {
    async verifyAccessToken(token) {
      let info
      try {
        info = verifier.authInfo(token, now === undefined ? undefined : { now })
      } catch (e) {
        if (!(e instanceof MarqueError)) throw e
        const { status } = httpRefusal(e.code)
        const code = status === 401 ? OAuthErrorCode.InvalidToken : status === 400 ? OAuthErrorCode.InvalidRequest : OAuthErrorCode.ServerError
        throw new OAuthError(code, challengeValue(`marque: ${e.code}: ${e.message}`))
      }
      // The core builds the AuthInfo; the SDK wants `resource` as a URL.
      return info.resource === undefined ? info : { ...info, resource: new URL(info.resource) }
    },
  }
}
