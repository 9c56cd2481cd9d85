// The edge helper `guard` on standard Requests: status codes, headers, MCP routing headers and
// JSON-RPC body fallback, body left readable for forwarding.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { guard, mcpCall } from '../pkg/edge.js'
import { marque, key } from './helpers.mjs'

const root = key('root')
const agent = marque.KeyPair.generate()
const token = marque.mint(root, {
  agent: 'agent:gw-test',
  agentKey: agent.publicKey,
  principal: 'user:alice',
  rights: ['read_file:call', 'http:GET:/api/'],
  ttlSeconds: 600,
}).toBase64()
const verifier = new marque.Verifier({ rootKeys: [root.publicKey] })

const call = (name, { headers = {}, withMcpHeaders = true, bearer = token, id = 1 } = {}) =>
  new Request('https://gw.example/mcp', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(withMcpHeaders ? { 'mcp-method': 'tools/call', 'mcp-name': name } : {}),
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { path: 'src/a.rs' } } }),
  })

test('no token: 401 with WWW-Authenticate: Bearer', async () => {
  const r = await guard(call('read_file', { bearer: null }), { verifier })
  assert.ok(r instanceof Response)
  assert.equal(r.status, 401)
  assert.match(r.headers.get('www-authenticate'), /^Bearer realm="marque"$/)
  const r2 = await guard(call('read_file', { headers: { authorization: 'Basic abc' }, bearer: null }), { verifier })
  assert.equal(r2.status, 401)
})

test('bad or foreign token: 401 with error="invalid_token"', async () => {
  for (const bad of ['AAAA', token.slice(0, 40), marque.mint(marque.KeyPair.generate(), { agent: 'agent:x', agentKey: agent.publicKey, principal: 'u', rights: ['*'], ttlSeconds: 60 }).toBase64()]) {
    const r = await guard(call('read_file', { bearer: bad }), { verifier })
    assert.equal(r.status, 401, bad)
    assert.match(r.headers.get('www-authenticate'), /^Bearer realm="marque", error="invalid_token", error_description="/)
    const body = await r.json()
    assert.ok(['invalid_token', 'unknown_root_key', 'invalid_signature'].includes(body.error), body.error)
  }
})

test('allowed tools/call from the Mcp-Method / Mcp-Name headers; the body stays readable', async () => {
  const req = call('read_file')
  const r = await guard(req, { verifier })
  assert.ok(!(r instanceof Response), 'allowed')
  assert.equal(r.decision.allowed, true)
  assert.equal(r.decision.agent, 'agent:gw-test')
  assert.deepEqual(r.decision.request, { tool: 'read_file', operation: 'call', resource: '*' })
  assert.equal(r.mcp.method, 'tools/call')
  assert.equal(r.request, req)
  assert.equal((await req.json()).params.name, 'read_file', 'the original body can still be forwarded')
})

test('denied: 403 with the reasons', async () => {
  const r = await guard(call('delete_repo'), { verifier })
  assert.equal(r.status, 403)
  const body = await r.json()
  assert.equal(body.error, 'not_authorized')
  assert.equal(body.agent, 'agent:gw-test')
  assert.ok(body.reasons.length > 0)
})

test('no MCP headers: method and tool name from the JSON-RPC body', async () => {
  const ok = await guard(call('read_file', { withMcpHeaders: false }), { verifier })
  assert.equal(ok.decision.allowed, true)
  assert.equal((await guard(call('write_file', { withMcpHeaders: false }), { verifier })).status, 403)
})

test('headers that disagree with the body: 400 (unless checkBody: false)', async () => {
  const lying = call('write_file', { headers: { 'mcp-name': 'read_file' } })
  assert.equal((await guard(lying, { verifier })).status, 400)
  const trusting = await guard(call('write_file', { headers: { 'mcp-name': 'read_file' } }), { verifier, checkBody: false })
  assert.equal(trusting.decision.allowed, true, 'headers only: the upstream must do the spec check')
  assert.equal((await guard(call('read_file', { headers: { 'mcp-method': 'tools/list' } }), { verifier })).status, 400)
})

test('Mcp-Name in the =?base64?…?= form is decoded', async () => {
  const name = 'read_file'
  const m = await mcpCall(new Request('https://x/', { method: 'POST', headers: { 'mcp-method': 'tools/call', 'mcp-name': `=?base64?${btoa(name)}?=` } }))
  assert.deepEqual(m, { method: 'tools/call', name })
})

test('MCP methods that are not tool calls need only a valid token', async () => {
  const req = new Request('https://gw.example/mcp', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'mcp-method': 'tools/list' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
  })
  const r = await guard(req, { verifier })
  assert.equal(r.decision, null)
  assert.equal(r.token.agent, 'agent:gw-test')
  // …but an expired or revoked token gets no free pass on them.
  const list = () => new Request('https://gw.example/mcp', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'mcp-method': 'tools/list' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
  })
  const late = await guard(list(), { verifier, now: r.token.expiresAt + 1 })
  assert.equal(late.status, 401)
  assert.match(late.headers.get('www-authenticate'), /expired/)
  const strictVerifier = new marque.Verifier({ rootKeys: [root.publicKey] })
  strictVerifier.revokeAgent('agent:gw-test')
  const revoked = await guard(list(), { verifier: strictVerifier })
  assert.equal(revoked.status, 401)
  assert.match(revoked.headers.get('www-authenticate'), /revoked/)
})

test('a verifier with maxRevocationStaleness fails closed: 503 revocation_list_stale until a fresh signed list is loaded', async () => {
  const operator = marque.KeyPair.generate()
  const fleet = new marque.Verifier({ rootKeys: [root.publicKey], operatorKeys: [operator.publicKey], maxRevocationStaleness: 300 })
  const listCall = () => new Request('https://gw.example/mcp', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'mcp-method': 'tools/list' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/list' }),
  })
  const stale = async (req, options = {}) => {
    const r = await guard(req, { verifier: fleet, ...options })
    assert.ok(r instanceof Response)
    assert.equal(r.status, 503)
    assert.equal(r.headers.get('content-type'), 'application/json')
    const body = await r.json()
    assert.equal(body.error, 'revocation_list_stale')
    assert.match(body.message, /fail closed/)
  }
  // No list loaded: tool calls and other MCP methods alike.
  await stale(call('read_file'))
  await stale(listCall())
  // A fresh list: allowed again.
  const now = Math.floor(Date.now() / 1000)
  fleet.loadRevocationList(marque.RevocationList.sign({}, { sequence: 1, signer: operator, issuedAt: now }))
  const ok = await guard(call('read_file'), { verifier: fleet })
  assert.ok(!(ok instanceof Response) && ok.decision.allowed)
  assert.equal((await guard(listCall(), { verifier: fleet })).decision, null)
  // Too old at the guard's `now`: 503 again.
  await stale(call('read_file'), { now: now + 301 })
  await stale(listCall(), { now: now + 301 })
  // A newer list revoking the agent: 403 revoked on tool calls, 401 on the others.
  fleet.loadRevocationList(marque.RevocationList.sign({ agents: ['agent:gw-test'] }, { sequence: 2, signer: operator, issuedAt: now }))
  const denied = await guard(call('read_file'), { verifier: fleet })
  assert.equal(denied.status, 403)
  assert.equal((await denied.json()).error, 'revoked')
  assert.equal((await guard(listCall(), { verifier: fleet })).status, 401)
})

test('plain HTTP: {tool: "http", operation: METHOD, resource: path}', async () => {
  const get = (path) => new Request(`https://gw.example${path}`, { headers: { authorization: `Bearer ${token}` } })
  assert.equal((await guard(get('/api/users'), { verifier })).decision.allowed, true)
  assert.equal((await guard(get('/admin'), { verifier })).status, 403)
})

test('proof of possession from the Marque-Proof header; replay is refused', async () => {
  const strict = new marque.Verifier({ rootKeys: [root.publicKey], requireProof: true })
  assert.equal((await guard(call('read_file'), { verifier: strict })).status, 403)
  const proof = marque.signProof(agent, token, { tool: 'read_file', operation: 'call', resource: '*' })
  const ok = await guard(call('read_file', { headers: { 'marque-proof': proof } }), { verifier: strict })
  assert.equal(ok.decision.proof_verified, true)
  const replay = await guard(call('read_file', { headers: { 'marque-proof': proof } }), { verifier: strict })
  assert.equal(replay.status, 403)
  assert.equal((await replay.json()).error, 'replayed_proof')
})

test('custom mapping: toolFromRequest sees the MCP call', async () => {
  const v = new marque.Verifier({ rootKeys: [root.publicKey] })
  const scoped = marque.mint(root, { agent: 'agent:s', agentKey: agent.publicKey, principal: 'u', rights: ['read_file:read:src/'], ttlSeconds: 60 }).toBase64()
  const toolFromRequest = (_req, mcp) => ({ tool: mcp.name, operation: 'read', resource: mcp.arguments.path })
  const r = await guard(call('read_file', { bearer: scoped }), { verifier: v, toolFromRequest })
  assert.equal(r.decision.allowed, true)
  assert.equal(r.decision.request.resource, 'src/a.rs')
  const bad = await guard(call('read_file', { bearer: scoped }), { verifier: v, toolFromRequest: () => { throw new Error('nope') } })
  assert.equal(bad.status, 400)
})

test('malformed JSON body: 400', async () => {
  const req = new Request('https://gw.example/mcp', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{nope' })
  assert.equal((await guard(req, { verifier })).status, 400)
})
