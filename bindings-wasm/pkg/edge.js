// marque edge helper: authorize a fetch-style `Request` before forwarding it.
//
//   import { guard } from '@marque/wasm/edge'
//   const result = await guard(request, { verifier })
//   if (result instanceof Response) return result      // 401 / 403 / 400 / 503, ready to send
//   return fetch(upstream, result.request)             // allowed: result.decision says who and why
//
// Runs anywhere `Request`/`Response` exist (Node >= 20, Deno, browsers, Workers-like runtimes).
// It imports nothing from the wasm module: it uses the `verifier` it is given.

/** Header carrying the proof of possession (`signProof` output). */
export const PROOF_HEADER = 'Marque-Proof'
/** MCP Streamable HTTP (2026-07-28) routing headers. */
export const MCP_METHOD_HEADER = 'Mcp-Method'
export const MCP_NAME_HEADER = 'Mcp-Name'

/** Codes meaning "this credential is not acceptable" (answered with 401, not 403). */
const CREDENTIAL_CODES = new Set([
  'invalid_token', 'invalid_signature', 'unknown_root_key', 'limits_exceeded', 'invalid_key',
])
const MAX_BODY_BYTES = 1024 * 1024

/**
 * Authorizes `request`. Resolves to `{ decision, request, token, mcp }` when allowed (the original
 * `request`, body unread, ready to forward), or to a `Response` to send back as is:
 * 401 + `WWW-Authenticate: Bearer` when the token is missing or not acceptable, 403 with the
 * reasons when the decision is a denial, 400 when the request cannot be mapped to a tool call,
 * 503 `{"error":"revocation_list_stale"}` when the verifier has a `maxRevocationStaleness` and
 * its signed revocation list is missing or too old (fail closed: refresh it with
 * `verifier.loadRevocationList`).
 *
 * @param {Request} request
 * @param {{
 *   verifier: { authorize(token: string, options: object): any, verify(token: string): any },
 *   toolFromRequest?: (request: Request, mcp: McpCall | null) =>
 *       ({ tool: string, operation?: string, resource: string } | null | Promise<{ tool: string, operation?: string, resource: string } | null>),
 *   proofHeader?: string,
 *   realm?: string,
 *   now?: number | Date,
 *   checkBody?: boolean,
 * }} options
 */
export async function guard(request, options) {
  const { verifier, toolFromRequest, proofHeader = PROOF_HEADER, realm = 'marque', now, checkBody = true } = options ?? {}
  if (!verifier || typeof verifier.authorize !== 'function') {
    throw new TypeError('guard(request, { verifier }): a Verifier is required')
  }
  const token = bearerToken(request.headers.get('authorization'))
  if (token === null) {
    return unauthorized(realm, null, 'a Bearer token is required')
  }

  let mcp
  try {
    mcp = await mcpCall(request, { checkBody })
  } catch (e) {
    return problem(400, 'invalid_request', e instanceof Error ? e.message : String(e))
  }
  let target
  try {
    target = toolFromRequest ? await toolFromRequest(request, mcp) : defaultTarget(request, mcp)
  } catch (e) {
    return problem(400, 'invalid_request', `could not map the request to a tool call: ${e instanceof Error ? e.message : e}`)
  }

  const proof = request.headers.get(proofHeader) ?? undefined
  try {
    if (target === null || target === undefined) {
      // Not a tool call (MCP initialize, tools/list, notifications…): the token must verify,
      // be unexpired and not be revoked (no tool to decide, but no free pass either).
      // The staleness rule `authorize` applies first (throws revocation_list_stale → 503 below).
      if (typeof verifier.checkRevocationListFresh === 'function') {
        verifier.checkRevocationListFresh(now === undefined ? undefined : { now })
      }
      const verified = verifier.verify(token)
      const at = now === undefined ? Date.now() / 1000 : now instanceof Date ? now.getTime() / 1000 : now
      if (at > verified.expiresAt) return unauthorized(realm, 'expired', 'the token has expired')
      const revoked = typeof verifier.revocationReason === 'function' ? verifier.revocationReason(verified) : null
      if (revoked) return unauthorized(realm, 'revoked', revoked)
      return { decision: null, request, token: verified, mcp }
    }
    const decision = verifier.authorize(token, {
      tool: target.tool,
      operation: target.operation ?? '*',
      resource: target.resource,
      ...(proof !== undefined ? { proof } : {}),
      ...(now !== undefined ? { now } : {}),
    })
    if (!decision.allowed) {
      return problem(403, decision.code ?? 'not_authorized', 'denied', {
        agent: decision.agent,
        path: decision.path,
        chain: decision.chain,
        reasons: decision.reasons,
      })
    }
    return { decision, request, token, mcp }
  } catch (e) {
    const code = e && typeof e.code === 'string' ? e.code : 'internal'
    const message = e instanceof Error ? e.message : String(e)
    if (CREDENTIAL_CODES.has(code)) return unauthorized(realm, code, message)
    if (code === 'invalid_argument' || code === 'invalid_request') return problem(400, code, message)
    // Fail closed: the verifier cannot vouch for revocations right now.
    if (code === 'revocation_list_stale') return problem(503, code, message)
    return problem(500, code, 'authorization failed')
  }
}

/**
 * @typedef {{ method: string, name: string | null, id?: unknown, arguments?: unknown }} McpCall
 */

/**
 * The MCP call carried by `request`, or `null` when it is not MCP traffic: method and name from
 * the `Mcp-Method` / `Mcp-Name` headers (MCP Streamable HTTP 2026-07-28), else from the JSON-RPC
 * body (`method`, `params.name`), read from a clone so the original body can still be forwarded.
 *
 * With `checkBody` (the default) a JSON body is read even when the headers are present and must
 * agree with them (else an error, answered 400): the gateway then never authorizes one call
 * while forwarding another to an upstream that does not do the spec's own header/body check.
 * `checkBody: false` trusts the headers and never reads the body when they are present.
 * @param {Request} request
 * @param {{ checkBody?: boolean }} [options]
 * @returns {Promise<McpCall | null>}
 */
export async function mcpCall(request, { checkBody = true } = {}) {
  const headerMethod = request.headers.get(MCP_METHOD_HEADER)
  const rawName = request.headers.get(MCP_NAME_HEADER)
  const headerName = rawName === null ? null : decodeHeaderValue(rawName)
  const headersComplete = headerMethod !== null && (headerName !== null || headerMethod !== 'tools/call')
  const jsonBody = request.method === 'POST' && /json/i.test(request.headers.get('content-type') ?? '')
  if ((headersComplete && !checkBody) || !jsonBody) {
    return headerMethod === null ? null : { method: headerMethod, name: headerName }
  }
  const text = await readBounded(request.clone())
  let body
  try {
    body = JSON.parse(text)
  } catch {
    throw new Error('the request body is not valid JSON')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body) || typeof body.method !== 'string') {
    if (Array.isArray(body)) throw new Error('JSON-RPC batches are not accepted')
    return headerMethod === null ? null : { method: headerMethod, name: headerName }
  }
  const params = body.params && typeof body.params === 'object' ? body.params : {}
  const name = typeof params.name === 'string' ? params.name : null
  if (headerMethod !== null && headerMethod !== body.method) {
    throw new Error('the Mcp-Method header does not match the JSON-RPC method')
  }
  if (headerName !== null && body.method === 'tools/call' && headerName !== name) {
    throw new Error('the Mcp-Name header does not match the tool name in the body')
  }
  return { method: body.method, name, id: body.id, arguments: params.arguments }
}

/**
 * The default mapping: an MCP `tools/call` is `{tool: <name>, operation: "call", resource: "*"}`
 * (the tool itself; pass `toolFromRequest` to authorize on arguments such as a path); other MCP
 * methods only need a valid token; plain HTTP is `{tool: "http", operation: <METHOD>,
 * resource: <path>}`.
 */
export function defaultTarget(request, mcp) {
  if (mcp) {
    if (mcp.method !== 'tools/call') return null
    if (!mcp.name) throw new Error('tools/call without a tool name')
    return { tool: mcp.name, operation: 'call', resource: '*' }
  }
  return { tool: 'http', operation: request.method, resource: new URL(request.url).pathname }
}

function bearerToken(header) {
  if (header === null) return null
  const m = /^Bearer[ ]+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(header)
  return m ? m[1] : null
}

// `=?base64?…?=` sentinel of MCP header values that are not plain printable ASCII.
function decodeHeaderValue(value) {
  const m = /^=\?base64\?(.*)\?=$/.exec(value)
  if (!m) return value
  try {
    const bin = atob(m[1])
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0))
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new Error('the Mcp-Name header is not valid base64 UTF-8')
  }
}

async function readBounded(request) {
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > MAX_BODY_BYTES) throw new Error('the request body is too large to inspect')
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
      throw new Error('the request body is too large to inspect')
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

function quote(s) {
  return String(s).replace(/[\\"]/g, '').replace(/[^\x20-\x7e]/g, '').slice(0, 200)
}

function unauthorized(realm, code, message) {
  const params = [`realm="${quote(realm)}"`]
  if (code !== null) params.push('error="invalid_token"', `error_description="${quote(message)}"`)
  return new Response(JSON.stringify({ error: code ?? 'missing_token', message }), {
    status: 401,
    headers: { 'content-type': 'application/json', 'www-authenticate': `Bearer ${params.join(', ')}` },
  })
}

function problem(status, code, message, extra = {}) {
  return new Response(JSON.stringify({ error: code, message, ...extra }), {
    status,
    headers: { 'content-type': 'application/json' },
  })
}
