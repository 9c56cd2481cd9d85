// examples/edge-gateway over real HTTP on loopback: an upstream and the gateway on ephemeral
// ports, every request bounded by a timeout.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { existsSync, mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { REPO, PKG, marque, key } from './helpers.mjs'

// The example imports '@marque/wasm' by name: link the package into its node_modules.
const link = join(REPO, 'examples/edge-gateway/node_modules/@marque/wasm')
if (!existsSync(link)) {
  mkdirSync(join(link, '..'), { recursive: true })
  symlinkSync(PKG, link, 'dir')
}
const { createHandler, serve } = await import('../../examples/edge-gateway/gateway.mjs')

const root = key('root')
const agent = marque.KeyPair.generate()
const token = marque.mint(root, {
  agent: 'agent:reviewer', agentKey: agent.publicKey, principal: 'user:alice', rights: ['read_file:read:src/'], ttlSeconds: 600,
}).toBase64()
let upstream, gateway, base
const seen = []

before(async () => {
  upstream = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { echoed: body, agent: req.headers['marque-agent'] ?? null } }))
    })
  })
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r))
  const verifier = new marque.Verifier({ rootKeys: [root.publicKey] })
  const handler = createHandler({
    verifier,
    upstream: `http://127.0.0.1:${upstream.address().port}`,
    guardOptions: { mcp: { tools: { read_file: { operation: 'read', resource_arg: 'path' } } } },
  })
  gateway = await serve(handler, { port: 0 })
  base = `http://127.0.0.1:${gateway.address().port}`
})

after(async () => {
  await new Promise((r) => gateway.close(r))
  await new Promise((r) => upstream.close(r))
})

const post = (body, headers = {}) =>
  fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
const readCall = (path) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path } } })

test('allowed calls are forwarded with their body; credentials are not', async () => {
  const before = seen.length
  const r = await post(readCall('src/a.rs'), { authorization: `Bearer ${token}`, 'mcp-method': 'tools/call', 'mcp-name': 'read_file' })
  assert.equal(r.status, 200)
  const body = await r.json()
  assert.deepEqual(JSON.parse(body.result.echoed), readCall('src/a.rs'))
  assert.equal(body.result.agent, 'agent:reviewer')
  assert.equal(seen.length, before + 1)
  const fwd = seen.at(-1)
  assert.equal(fwd.url, '/mcp')
  assert.equal(fwd.headers.authorization, undefined)
  assert.equal(fwd.headers['marque-principal'], 'user:alice')
})

test('missing token: 401 + WWW-Authenticate, nothing forwarded', async () => {
  const before = seen.length
  const r = await post(readCall('src/a.rs'))
  assert.equal(r.status, 401)
  assert.match(r.headers.get('www-authenticate'), /^Bearer /)
  assert.equal(seen.length, before)
})

test('bad token: 401 error="invalid_token"', async () => {
  const r = await post(readCall('src/a.rs'), { authorization: 'Bearer AAAA' })
  assert.equal(r.status, 401)
  assert.match(r.headers.get('www-authenticate'), /error="invalid_token"/)
})

test('denied: 403 with reasons, nothing forwarded', async () => {
  const before = seen.length
  const r = await post(readCall('.env'), { authorization: `Bearer ${token}` })
  assert.equal(r.status, 403)
  const body = await r.json()
  assert.equal(body.error, 'not_authorized')
  assert.ok(body.reasons.length > 0)
  assert.equal(seen.length, before)
})

test('proof header is checked and not forwarded', async () => {
  const proof = marque.signProof(agent, token, { tool: 'read_file', operation: 'read', resource: 'src/b.rs' })
  const r = await post(readCall('src/b.rs'), { authorization: `Bearer ${token}`, 'marque-proof': proof })
  assert.equal(r.status, 200)
  assert.equal(seen.at(-1).headers['marque-proof'], undefined)
  const wrong = await post(readCall('src/c.rs'), { authorization: `Bearer ${token}`, 'marque-proof': proof })
  assert.equal(wrong.status, 403)
  assert.equal((await wrong.json()).error, 'invalid_proof')
})
