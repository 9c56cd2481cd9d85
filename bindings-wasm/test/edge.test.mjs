// The edge helper `guard` on standard Requests: status codes, headers, MCP routing headers and
// the JSON-RPC body, every MCP method mapped by the core, body left readable for forwarding.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { guard, mcpMessage } from '../pkg/edge.js'
import { marque, key } from './helpers.mjs'

const root = key('root')
const agent = marque.KeyPair.generate()
const token = marque.mint(root, {
  agent: 'agent:gw-test',
  agentKey: agent.publicKey,
  principal: 'user:alice',
  rights: ['read_file', 'http:GET:/api/'],
  ttlSeconds: 600,
}).toBase64()
const verifier = new marque.Verifier({ rootKeys: [root.publicKey] })

const rpc = (method, params, { headers = {}, bearer = token, id = 1, noId = false, mcpHeaders = true } = {}) =>
  new Request('https://gw.example/mcp', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(mcpHeaders ? { 'mcp-method': method } : {}),
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', ...(noId ? {} : { id }), method, ...(params === undefined ? {} : { params }) }),
  })
const call = (name, { headers = {}, withMcpHeaders = true, bearer = token, noId = false, args = { path: 'src/a.rs' } } = {}) =>
  rpc('tools/call', { name, arguments: args }, { headers: { ...(withMcpHeaders ? { 'mcp-name': name } : {}), ...headers }, bearer, noId, mcpHeaders: withMcpHeaders })

test('no token: 401 with WWW-Authenticate: Bearer', async () => {
  const r = await guard(call('read_file', { bearer: null }), { verifier })
  assert.ok(r instanceof Response)
  assert.equal(r.status, 401)
  assert.match(r.headers.get('www-authenticate'), /^Bearer realm="marque"$/)
  const r2 = await guard(call('read_file', { headers: { authorization: 'Basic abc' }, bearer: null }), { verifier })
  assert.equal(r2.status, 401)
  const meta = await guard(call('read_file', { bearer: null, headers: { 'content-type': 'application/json' } }), { verifier, resourceMetadata: 'https://gw.example/.well-known/oauth-protected-resource/mcp' })
  assert.equal(meta.headers.get('www-authenticate'), 'Bearer realm="marque", resource_metadata="https://gw.example/.well-known/oauth-protected-resource/mcp"')
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

test('a token minted for another server: 401 invalid_token; one for this server passes (RFC 8707)', async () => {
  const AUDIENCE = 'https://gw.example/mcp'
  const bound = new marque.Verifier({ rootKeys: [root.publicKey], audience: AUDIENCE })
  const minted = (audience) => marque.mint(root, { agent: 'agent:gw-test', agentKey: agent.publicKey, principal: 'user:alice', rights: ['read_file'], ttlSeconds: 600, audience })
  const mine = minted(['HTTPS://GW.example/mcp/'])
  assert.deepEqual(mine.audience, [AUDIENCE])
  assert.ok(!((await guard(call('read_file', { bearer: mine.toBase64() }), { verifier: bound })) instanceof Response), 'allowed')
  for (const [v, t] of [[bound, minted('https://other.example/mcp')], [verifier, mine]]) {
    const r = await guard(call('read_file', { bearer: t.toBase64() }), { verifier: v })
    assert.equal(r.status, 401)
    assert.match(r.headers.get('www-authenticate'), /error="invalid_token"/)
    assert.equal((await r.json()).error, 'invalid_token')
  }
  assert.throws(() => minted('https://gw.example/mcp#x'), (e) => e.code === 'invalid_argument')
  assert.throws(() => minted([AUDIENCE, 'HTTPS://gw.example/mcp']), (e) => e.code === 'invalid_argument')
})

test('allowed tools/call from the Mcp-Method / Mcp-Name headers; the body stays readable', async () => {
  const req = call('read_file')
  const r = await guard(req, { verifier })
  assert.ok(!(r instanceof Response), 'allowed')
  assert.equal(r.decision.allowed, true)
  assert.equal(r.decision.agent, 'agent:gw-test')
  assert.deepEqual(r.decision.request, { tool: 'read_file', operation: '*', resource: 'src/a.rs' })
  assert.deepEqual(r.mcp, { method: 'tools/call', request: { tool: 'read_file', operation: '*', resource: 'src/a.rs' } })
  assert.equal(r.request, req)
  assert.equal((await req.json()).params.name, 'read_file', 'the original body can still be forwarded')
})

test('denied: 403 with the reasons', async () => {
  const r = await guard(call('delete_repo'), { verifier })
  assert.equal(r.status, 403)
  assert.match(r.headers.get('www-authenticate'), /error="insufficient_scope"/)
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

test('headers that disagree with the body: 400, always (the body is always checked)', async () => {
  const lying = call('write_file', { headers: { 'mcp-name': 'read_file' } })
  const r = await guard(lying, { verifier })
  assert.equal(r.status, 400)
  assert.equal((await r.json()).error, 'invalid_request')
  assert.equal((await guard(call('read_file', { headers: { 'mcp-method': 'tools/list' } }), { verifier })).status, 400)
  await assert.rejects(guard(call('read_file'), { verifier, checkBody: false }), (e) => e.code === 'invalid_argument')
})

test('Mcp-Name in the =?base64?…?= form is decoded by the core', async () => {
  const r = await guard(call('read_file', { headers: { 'mcp-name': `=?base64?${btoa('read_file')}?=` } }), { verifier })
  assert.equal(r.decision.allowed, true)
})

test('regression: resources/read, prompts/get and completion need rights, not just a bearer token', async () => {
  for (const [method, params] of [
    ['resources/read', { uri: 'file:///etc/passwd' }],
    ['resources/subscribe', { uri: 'file:///etc/passwd' }],
    ['prompts/get', { name: 'exfiltrate' }],
    ['completion/complete', { ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'a', value: '' } }],
  ]) {
    const r = await guard(rpc(method, params), { verifier })
    assert.equal(r.status, 403, method)
    assert.equal((await r.json()).error, 'not_authorized', method)
  }
  // With proofs required, a resource read needs one (it used to pass with the token alone).
  const strict = new marque.Verifier({ rootKeys: [root.publicKey], requireProof: true })
  const reader = marque.mint(root, { agent: 'agent:reader', agentKey: agent.publicKey, principal: 'u', rights: ['resources/read:read:docs://'], ttlSeconds: 60 }).toBase64()
  const read = () => rpc('resources/read', { uri: 'docs://a' }, { bearer: reader, headers: { 'mcp-name': 'docs://a' } })
  const noProof = await guard(read(), { verifier: strict })
  assert.equal(noProof.status, 403)
  assert.equal((await noProof.json()).error, 'invalid_proof')
  const proof = marque.signProof(agent, reader, { tool: 'resources/read', operation: 'read', resource: 'docs://a' })
  const withProof = await guard(rpc('resources/read', { uri: 'docs://a' }, { bearer: reader, headers: { 'marque-proof': proof } }), { verifier: strict })
  assert.equal(withProof.decision.proof_verified, true)
})

test('regression: any other method is refused unless allow-listed; malformed tools/call too', async () => {
  for (const req of [
    rpc('logging/setLevel', { level: 'debug' }),
    rpc('tasks/result', { taskId: 't' }),
    call('read_file', { noId: true }),
    rpc('tools/call', { arguments: { path: 'src/a.rs' } }),
    call('read_file', { args: ['src/a.rs'] }),
    call('read_file', { args: { path: 'src/a.rs', uri: 'file:///etc/passwd' } }),
  ]) {
    const r = await guard(req, { verifier })
    assert.equal(r.status, 400)
    assert.equal((await r.json()).error, 'invalid_request')
  }
  const batch = new Request('https://gw.example/mcp', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '[{"jsonrpc":"2.0","id":1,"method":"ping"}]' })
  assert.equal((await guard(batch, { verifier })).status, 400)
  const dup = new Request('https://gw.example/mcp', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"write_file"}}' })
  assert.equal((await guard(dup, { verifier })).status, 400)
  // The allow-list is configurable; tools/call can never be allow-listed.
  assert.equal((await guard(rpc('logging/setLevel', { level: 'debug' }), { verifier, mcp: { allow: ['logging/setLevel'] } })).decision, null)
  await assert.rejects(guard(rpc('ping'), { verifier, mcp: { allow: ['tools/*'] } }), (e) => e.code === 'invalid_argument')
  await assert.rejects(guard(rpc('ping'), { verifier, toolFromRequst: () => null }), (e) => e.code === 'invalid_argument')
})

test('allow-listed MCP methods need a valid, unexpired, unrevoked token', async () => {
  const r = await guard(rpc('tools/list', {}), { verifier })
  assert.equal(r.decision, null)
  assert.equal(r.admission.agent, 'agent:gw-test')
  assert.deepEqual(r.admission.scopes, ['read_file:*:*', 'http:GET:/api/'])
  const late = await guard(rpc('tools/list', {}), { verifier, now: r.admission.expiresAt + 1 })
  assert.equal(late.status, 401)
  assert.match(late.headers.get('www-authenticate'), /expired/)
  const strictVerifier = new marque.Verifier({ rootKeys: [root.publicKey] })
  strictVerifier.revokeAgent('agent:gw-test')
  const revoked = await guard(rpc('tools/list', {}), { verifier: strictVerifier })
  assert.equal(revoked.status, 401)
  assert.match(revoked.headers.get('www-authenticate'), /revoked/)
})

test('a verifier with maxRevocationStaleness fails closed: 503 revocation_list_stale until a fresh signed list is loaded', async () => {
  const operator = marque.KeyPair.generate()
  const fleet = new marque.Verifier({ rootKeys: [root.publicKey], operatorKeys: [operator.publicKey], maxRevocationStaleness: 300 })
  const listCall = () => rpc('tools/list', {})
  const stale = async (req, options = {}) => {
    const r = await guard(req, { verifier: fleet, ...options })
    assert.ok(r instanceof Response)
    assert.equal(r.status, 503)
    assert.equal(r.headers.get('content-type'), 'application/json')
    const body = await r.json()
    assert.equal(body.error, 'revocation_list_stale')
    assert.match(body.message, /fail closed/)
  }
  await stale(call('read_file'))
  await stale(listCall())
  const now = Math.floor(Date.now() / 1000)
  fleet.loadRevocationList(marque.RevocationList.sign({}, { sequence: 1, signer: operator, issuedAt: now }))
  const ok = await guard(call('read_file'), { verifier: fleet })
  assert.ok(!(ok instanceof Response) && ok.decision.allowed)
  assert.equal((await guard(listCall(), { verifier: fleet })).decision, null)
  await stale(call('read_file'), { now: now + 301 })
  await stale(listCall(), { now: now + 301 })
  // A newer list revoking the agent: a revoked token is 401 invalid_token, whatever the method.
  fleet.loadRevocationList(marque.RevocationList.sign({ agents: ['agent:gw-test'] }, { sequence: 2, signer: operator, issuedAt: now }))
  const denied = await guard(call('read_file'), { verifier: fleet })
  assert.equal(denied.status, 401)
  assert.equal((await denied.json()).error, 'revoked')
  assert.equal((await guard(listCall(), { verifier: fleet })).status, 401)
})

test('plain HTTP: {tool: "http", operation: METHOD, resource: path}, or toolFromRequest', async () => {
  const get = (path) => new Request(`https://gw.example${path}`, { headers: { authorization: `Bearer ${token}` } })
  assert.equal((await guard(get('/api/users'), { verifier })).decision.allowed, true)
  assert.equal((await guard(get('/admin'), { verifier })).status, 403)
  const mapped = await guard(get('/files/src/a.rs'), { verifier, toolFromRequest: (req) => ({ tool: 'read_file', operation: 'read', resource: new URL(req.url).pathname.slice(7) }) })
  assert.equal(mapped.decision.request.resource, 'src/a.rs')
  assert.equal((await guard(get('/x'), { verifier, toolFromRequest: () => null })).status, 400)
  assert.equal((await guard(get('/x'), { verifier, toolFromRequest: () => { throw new Error('nope') } })).status, 400)
})

test('proof of possession from the Marque-Proof header; replay is refused', async () => {
  const strict = new marque.Verifier({ rootKeys: [root.publicKey], requireProof: true })
  assert.equal((await guard(call('read_file'), { verifier: strict })).status, 403)
  const proof = marque.signProof(agent, token, { tool: 'read_file', operation: '*', resource: 'src/a.rs' })
  const ok = await guard(call('read_file', { headers: { 'marque-proof': proof } }), { verifier: strict })
  assert.equal(ok.decision.proof_verified, true)
  const replay = await guard(call('read_file', { headers: { 'marque-proof': proof } }), { verifier: strict })
  assert.equal(replay.status, 403)
  assert.equal((await replay.json()).error, 'replayed_proof')
})

test('tool mappings: the argument a tool declares is its resource', async () => {
  const v = new marque.Verifier({ rootKeys: [root.publicKey] })
  const scoped = marque.mint(root, { agent: 'agent:s', agentKey: agent.publicKey, principal: 'u', rights: ['read_file:read:src/'], ttlSeconds: 60 }).toBase64()
  const mcp = { tools: { read_file: { operation: 'read', resource_arg: 'path' } } }
  const r = await guard(call('read_file', { bearer: scoped, args: { path: 'src/a.rs', uri: 'file:///etc/passwd' } }), { verifier: v, mcp })
  assert.equal(r.decision.allowed, true)
  assert.equal(r.decision.request.resource, 'src/a.rs')
  assert.equal((await guard(call('read_file', { bearer: scoped, args: { path: '.env' } }), { verifier: v, mcp: new marque.McpConfig(mcp) })).status, 403)
})

test('mcpMessage: what counts as MCP traffic', async () => {
  const post = (body, type = 'application/json') => new Request('https://x/', { method: 'POST', headers: { 'content-type': type }, body })
  assert.equal(await mcpMessage(post('{"jsonrpc":"2.0","id":1,"method":"ping"}')), '{"jsonrpc":"2.0","id":1,"method":"ping"}')
  assert.equal(await mcpMessage(post('{"name":"x"}')), null)
  assert.equal(await mcpMessage(post('{"method":"tools/call"}')), '{"method":"tools/call"}')
  assert.equal(await mcpMessage(new Request('https://x/')), null)
})

test('malformed JSON body: 400', async () => {
  const req = new Request('https://gw.example/mcp', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'mcp-method': 'tools/call' }, body: '{nope' })
  assert.equal((await guard(req, { verifier })).status, 400)
})

test('approval_required: 403 with what to approve; the approval in the Marque-Approval header or _meta["marque/approval"]', async () => {
  const alice = marque.KeyPair.generate()
  const gated = new marque.Verifier({ rootKeys: [root.publicKey], approvers: { 'user:alice': alice.publicKey }, approvalRules: ['read_file:*:src/'] })
  const denied = await guard(call('read_file'), { verifier: gated })
  assert.equal(denied.status, 403)
  const body = await denied.json()
  assert.equal(body.error, 'approval_required')
  assert.deepEqual(body.approval_request.approvers, ['user:alice'])
  assert.equal(body.approval_request.digest, marque.requestDigest(token, { tool: 'read_file', resource: 'src/a.rs' }))
  const approval = () => marque.approve(alice, { approver: 'user:alice', digest: body.approval_request.digest })
  const viaHeader = await guard(call('read_file', { headers: { 'marque-approval': approval() } }), { verifier: gated })
  assert.ok(!(viaHeader instanceof Response))
  assert.equal(viaHeader.decision.approval.approver, 'user:alice')
  const inMeta = rpc('tools/call', { name: 'read_file', arguments: { path: 'src/a.rs' }, _meta: { 'marque/approval': approval() } }, { headers: { 'mcp-name': 'read_file' } })
  assert.ok(!((await guard(inMeta, { verifier: gated })) instanceof Response))
  // Two different approvals (header and _meta): 400.
  const both = rpc('tools/call', { name: 'read_file', arguments: { path: 'src/a.rs' }, _meta: { 'marque/approval': approval() } }, { headers: { 'mcp-name': 'read_file', 'marque-approval': approval() } })
  assert.equal((await guard(both, { verifier: gated })).status, 400)
})

test('budget_exhausted: 429', async () => {
  const budgeted = marque.Token.fromBase64(token).delegate(agent, { to: 'agent:b', toKey: marque.KeyPair.generate().publicKey, maxCalls: 1 })
  const v = new marque.Verifier({ rootKeys: [root.publicKey] })
  const once = (t) => call('read_file', { bearer: t.toBase64() })
  assert.ok(!((await guard(once(budgeted), { verifier: v })) instanceof Response))
  const r = await guard(once(budgeted), { verifier: v })
  assert.equal(r.status, 429)
  assert.equal((await r.json()).error, 'budget_exhausted')
})
