// An edge gateway in front of an MCP (or any HTTP) server: a fetch-style handler that verifies
// the caller's marque token (and proof of possession) with @marque/wasm's `guard`, then forwards
// allowed requests to the upstream. `createHandler` runs as is on any runtime with
// Request/Response/fetch (Deno, Workers, Bun); `serve` adapts it to plain `node:http`.
//
//   MARQUE_ROOT_KEY=<hex> UPSTREAM=http://127.0.0.1:3000 PORT=8787 node gateway.mjs
import { createServer } from 'node:http'
import { Readable } from 'node:stream'
import { guard } from '@marque/wasm/edge'

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host', 'upgrade', 'te', 'trailer', 'proxy-authorization']

/**
 * @param {{ verifier: import('@marque/wasm').Verifier, upstream: string | URL,
 *           guardOptions?: Omit<import('@marque/wasm/edge').GuardOptions, 'verifier'>,
 *           fetch?: typeof fetch }} options
 * @returns {(request: Request) => Promise<Response>}
 */
export function createHandler({ verifier, upstream, guardOptions = {}, fetch: doFetch = fetch }) {
  const base = new URL(upstream)
  return async function handle(request) {
    const result = await guard(request, { verifier, ...guardOptions })
    if (result instanceof Response) return result
    const { decision } = result
    const url = new URL(request.url)
    const target = new URL(url.pathname + url.search, base)
    const headers = new Headers(request.headers)
    for (const h of [...HOP_BY_HOP, 'authorization', (guardOptions.proofHeader ?? 'Marque-Proof').toLowerCase()]) headers.delete(h)
    if (decision) {
      // What the upstream may log or use: who is acting, for whom, through which chain.
      headers.set('marque-agent', decision.agent)
      headers.set('marque-path', decision.path)
      headers.set('marque-principal', decision.principal)
      headers.set('marque-chain', decision.chain.join(','))
    }
    const hasBody = !['GET', 'HEAD'].includes(request.method)
    const upstreamResponse = await doFetch(target, {
      method: request.method,
      headers,
      body: hasBody ? request.body : undefined,
      duplex: hasBody ? 'half' : undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    })
    const out = new Headers(upstreamResponse.headers)
    for (const h of ['connection', 'keep-alive', 'transfer-encoding', 'content-encoding', 'content-length']) out.delete(h)
    return new Response(upstreamResponse.body, { status: upstreamResponse.status, headers: out })
  }
}

/** Serves a fetch-style handler on `node:http`. Resolves to the listening server. */
export function serve(handler, { port = 0, host = '127.0.0.1' } = {}) {
  const server = createServer(async (req, res) => {
    try {
      const url = `http://${req.headers.host ?? `${host}:${port}`}${req.url}`
      const hasBody = !['GET', 'HEAD'].includes(req.method ?? 'GET')
      const headers = new Headers()
      for (const [k, v] of Object.entries(req.headers)) {
        if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v)
      }
      const request = new Request(url, {
        method: req.method,
        headers,
        body: hasBody ? Readable.toWeb(req) : undefined,
        duplex: hasBody ? 'half' : undefined,
      })
      const response = await handler(request)
      res.writeHead(response.status, Object.fromEntries(response.headers))
      if (response.body) {
        for await (const chunk of response.body) res.write(chunk)
      }
      res.end()
    } catch (e) {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: 'bad_gateway', message: String(e?.message ?? e) }))
    }
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve(server))
  })
}

// `node gateway.mjs`: a gateway for one root key in front of one upstream.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { Verifier } = await import('@marque/wasm')
  const rootKey = process.env.MARQUE_ROOT_KEY
  const upstream = process.env.UPSTREAM
  if (!rootKey || !upstream) {
    console.error('usage: MARQUE_ROOT_KEY=<root public key> UPSTREAM=<url> [PORT=8787] node gateway.mjs')
    process.exit(2)
  }
  const verifier = new Verifier({ rootKeys: [rootKey] })
  const server = await serve(createHandler({ verifier, upstream }), { port: Number(process.env.PORT ?? 8787) })
  console.log(`marque edge gateway on http://127.0.0.1:${server.address().port} -> ${upstream}`)
}
