// Unit tests of @marque/node/mcp (the end-to-end runs are in mcp.e2e.test.mjs).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import { InvalidTokenError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js'
import { z } from 'zod'
import {
  marqueTokenVerifier,
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  bearerChallenge,
  guardTool,
  guardTools,
  authorizeMcpRequest,
  authorizeToolCall,
  callMeta,
  defaultResource,
  DENIED_ERROR_CODE,
  TOKEN_META_KEY,
  PROOF_META_KEY,
  APPROVAL_META_KEY,
  APPROVAL_REQUEST_META_KEY,
} from '@marque/node/mcp'
import { marque, keys, scenario, verifier, NOW } from './helpers.mjs'

const { MarqueError, signProof, approve, requestDigest } = marque

test('marqueTokenVerifier returns AuthInfo with expiry and the agent identity', async () => {
  const { c } = scenario(Math.floor(Date.now() / 1000))
  const info = await marqueTokenVerifier(verifier()).verifyAccessToken(c.toBase64())
  assert.equal(info.token, c.toBase64())
  assert.equal(info.clientId, 'agent:agent_c')
  assert.equal(info.expiresAt, c.expiresAt)
  // Regression: the scopes are agent_c's effective rights, not the root's
  // (['read_file:read:*', 'write_file:write:src/', 'run_tests:*:*']).
  assert.deepEqual(info.scopes, ['read_file:read:src/lib.rs/'])
  assert.deepEqual((await marqueTokenVerifier(verifier()).verifyAccessToken(scenario(Math.floor(Date.now() / 1000)).root.toBase64())).scopes,
    ['read_file:read:*', 'write_file:write:src/', 'run_tests:*:*'])
  assert.equal(info.extra.marque.path, '/root/agent_a/agent_c')
  assert.equal(info.extra.marque.principal, 'user:alice')
  assert.equal(info.extra.marque.agentKeyFingerprint, keys.agentC.publicKey.fingerprint)
  assert.deepEqual(info.extra.marque.chain, ['agent:orchestrator', 'agent:agent_a', 'agent:agent_c'])
  for (const bad of ['', 'garbage', Buffer.from(c.toBytes()).fill(7, 50, 60).toString('base64url')]) {
    await assert.rejects(marqueTokenVerifier(verifier()).verifyAccessToken(bad), (e) => e instanceof InvalidTokenError && /^marque: /.test(e.message))
  }
  assert.throws(() => marqueTokenVerifier({}), MarqueError)
  assert.equal(info.extra.marque.agentKey, keys.agentC.publicKey.toHex())
  // A revoked token is refused at the door.
  const v = verifier()
  v.revokeAgent('agent:agent_a')
  await assert.rejects(marqueTokenVerifier(v).verifyAccessToken(c.toBase64()), (e) => e instanceof InvalidTokenError && /revoked/.test(e.message))
  // Fail closed when the signed revocation list is missing or stale.
  const fleet = verifier({ operatorKeys: [keys.other.publicKey], maxRevocationStaleness: 60 })
  await assert.rejects(marqueTokenVerifier(fleet).verifyAccessToken(c.toBase64()), (e) => e instanceof ServerError && /revocation_list_stale/.test(e.message))
  fleet.loadRevocationList(marque.RevocationList.sign({}, { sequence: 1, signer: keys.other }))
  assert.equal((await marqueTokenVerifier(fleet).verifyAccessToken(c.toBase64())).clientId, 'agent:agent_c')
  // An expired token is refused by the verifier itself, and its message cannot break the SDK's header.
  const old = scenario(Math.floor(Date.now() / 1000) - 7200).c
  await assert.rejects(marqueTokenVerifier(verifier()).verifyAccessToken(old.toBase64()), (e) => e instanceof InvalidTokenError && /expired/.test(e.message) && !/["\\\r\n]/.test(e.message))
})

test('RFC 9728 metadata and challenges', () => {
  assert.equal(protectedResourceMetadataUrl('https://api.example.com/mcp'), 'https://api.example.com/.well-known/oauth-protected-resource/mcp')
  const meta = protectedResourceMetadata({ resource: 'https://api.example.com/mcp', authorizationServers: ['https://auth.example.com'], scopesSupported: ['read_file'], resourceName: 'files' })
  assert.deepEqual(meta, {
    resource: 'https://api.example.com/mcp',
    bearer_methods_supported: ['header'],
    authorization_servers: ['https://auth.example.com'],
    scopes_supported: ['read_file'],
    resource_name: 'files',
    marque_token_format: 'biscuit-v3',
    marque_proof_header: 'Marque-Proof',
    marque_meta_keys: { token: 'marque/token', proof: 'marque/proof' },
  })
  assert.throws(() => protectedResourceMetadata({}), (e) => e.code === 'invalid_argument')
  assert.equal(
    bearerChallenge({ error: 'invalid_token', description: 'bad "sig"', scope: ['a', 'b'], resourceMetadataUrl: 'https://x/.well-known/oauth-protected-resource' }),
    'Bearer error="invalid_token", error_description="bad \'sig\'", scope="a b", resource_metadata="https://x/.well-known/oauth-protected-resource"',
  )
  assert.throws(() => bearerChallenge({ error: 'bogus' }), (e) => e.code === 'invalid_argument')
  assert.equal(bearerChallenge(), 'Bearer')
})

test('authorizeToolCall: token from authInfo (HTTP) or _meta (stdio), proof from _meta or header', async () => {
  const { c } = scenario()
  const v = verifier()
  const req = { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW + 1 }
  const viaMeta = await authorizeToolCall(v, { ...req, extra: { _meta: callMeta({ token: c }) } })
  assert.equal(viaMeta.decision.allowed, true)
  const viaAuth = await authorizeToolCall(v, { ...req, extra: { authInfo: { token: c.toBase64(), clientId: 'x', scopes: [] } } })
  assert.equal(viaAuth.decision.allowed, true)
  const proof = signProof(keys.agentC, c, { ...req, now: NOW })
  const viaHeader = await authorizeToolCall(v, { ...req, extra: { _meta: { [TOKEN_META_KEY]: c.toBase64() }, requestInfo: { headers: { 'marque-proof': proof } } } })
  assert.equal(viaHeader.decision.proofVerified, true)
  const replay = await authorizeToolCall(v, { ...req, extra: { _meta: { [TOKEN_META_KEY]: c.toBase64(), [PROOF_META_KEY]: proof } } })
  assert.equal(replay.result.isError, true)
  assert.match(replay.result.content[0].text, /replayed_proof/)
  assert.equal(replay.result._meta['marque/decision'].code, 'replayed_proof')
  const none = await authorizeToolCall(v, { ...req, extra: {} })
  assert.match(none.result.content[0].text, /no marque token/)
  const garbage = await authorizeToolCall(v, { ...req, extra: { _meta: { [TOKEN_META_KEY]: '!!' } } })
  assert.match(garbage.result.content[0].text, /invalid_token/)
})

// Runs one JSON-RPC request through the server's handler map (what the SDK's Protocol does).
function handle(server, message, extra = {}) {
  const handler = server.server._requestHandlers.get(message.method)
  assert.ok(handler, `no handler for ${message.method}`)
  return handler({ jsonrpc: '2.0', ...message }, { signal: new AbortController().signal, requestId: message.id, sendNotification: async () => {}, sendRequest: async () => {}, ...extra })
}

function filesServer(options) {
  const server = guardTools(new McpServer({ name: 't', version: '0' }), options)
  let ran = 0
  server.registerTool('read_file', { inputSchema: { path: z.string() } }, async () => (ran++, { content: [{ type: 'text', text: 'ok' }] }))
  server.registerTool('run_tests', {}, async () => (ran++, { content: [{ type: 'text', text: 'ok' }] }))
  server.registerTool('copy', { inputSchema: { path: z.string(), uri: z.string() } }, async () => (ran++, { content: [{ type: 'text', text: 'ok' }] }))
  server.registerResource('docs', new ResourceTemplate('file:///srv/docs/{name}', { list: undefined, complete: { name: () => ['a.md'] } }), {}, async (uri) => (ran++, { contents: [{ uri: uri.href, text: 'doc' }] }))
  server.registerPrompt('code_review', { argsSchema: { code: z.string() } }, async () => (ran++, { messages: [] }))
  return { server, ran: () => ran }
}

test('guardTools guards every request, whenever its handler was registered', async () => {
  const { c, root } = scenario()
  const events = []
  const { server, ran } = filesServer({
    verifier: verifier(),
    now: NOW + 1,
    tools: { read_file: { operation: 'read', resource: (a) => a.path }, run_tests: { resource: 'all' } },
    onDecision: (e) => events.push(e),
  })
  const meta = (t) => ({ _meta: callMeta({ token: t }) })
  const tool = (name, args, token = c, id = 1) => handle(server, { id, method: 'tools/call', params: { name, arguments: args, ...meta(token) } })
  assert.equal((await tool('read_file', { path: 'src/lib.rs' })).content[0].text, 'ok')
  assert.equal((await tool('read_file', { path: 'src/main.rs' })).isError, true)
  // agent_c only holds read_file: run_tests is denied although the orchestrator could run it.
  assert.equal((await tool('run_tests', undefined)).isError, true)
  assert.equal((await tool('run_tests', undefined, root)).content[0].text, 'ok')
  assert.equal(ran(), 2)
  assert.deepEqual(events.map((e) => [e.tool, e.resource, e.decision.allowed]), [['read_file', 'src/lib.rs', true], ['read_file', 'src/main.rs', false], ['run_tests', 'all', false], ['run_tests', 'all', true]])
  // An undeclared tool with two resource-like arguments: refused, never guessed.
  const copy = await tool('copy', { path: 'src/lib.rs', uri: 'file:///etc/passwd' })
  assert.equal(copy.isError, true)
  assert.match(copy.content[0].text, /invalid_request/)
  // Allow-listed methods pass without a token (stdio handshake); others are refused.
  assert.ok(Array.isArray((await handle(server, { id: 2, method: 'tools/list', params: {} })).tools))
  assert.throws(() => guardTools({}, { verifier: verifier() }), (e) => e.code === 'invalid_argument')
  assert.throws(() => guardTools(new McpServer({ name: 't', version: '0' }), { verifier: verifier(), audit: { log: {} } }), (e) => e.code === 'invalid_argument')
  assert.throws(() => guardTool(verifier(), { name: 'x' }, null), (e) => e.code === 'invalid_argument')
  assert.throws(() => guardTools(new McpServer({ name: 't', version: '0' }), { verifier: verifier(), allow: ['tools/*'] }), (e) => e.code === 'invalid_argument')
})

test('guardTools and marqueTokenVerifier: a token minted for another server is invalid_token (RFC 8707)', async () => {
  const AUDIENCE = 'https://files.example/mcp'
  const minted = (audience) => marque.mint(keys.root, { agent: 'agent:a', agentKey: keys.orch.publicKey, principal: 'user:alice', rights: ['read_file:read'], ttlSeconds: 600, now: NOW, audience })
  const mine = minted('HTTPS://Files.example/mcp/')
  const theirs = minted(['https://other.example/mcp'])
  assert.deepEqual(mine.audience, [AUDIENCE])
  assert.deepEqual(theirs.audience, ['https://other.example/mcp'])
  const { server } = filesServer({ verifier: verifier({ audience: AUDIENCE }), now: NOW + 1, tools: { read_file: { operation: 'read', resource: (a) => a.path } } })
  const tool = (token) => handle(server, { id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path: 'src/a' }, _meta: callMeta({ token }) } })
  assert.equal((await tool(mine)).content[0].text, 'ok')
  const refused = await tool(theirs)
  assert.equal(refused.isError, true)
  assert.match(refused.content[0].text, /invalid_token/)
  // At the HTTP door: the SDK's InvalidTokenError (401), for another server's token and at a verifier with no audience.
  const now = Math.floor(Date.now() / 1000)
  const fresh = (audience) => marque.mint(keys.root, { agent: 'agent:a', agentKey: keys.orch.publicKey, principal: 'user:alice', rights: ['read_file'], ttlSeconds: 600, now, audience })
  assert.equal((await marqueTokenVerifier(verifier({ audience: AUDIENCE })).verifyAccessToken(fresh(AUDIENCE).toBase64())).clientId, 'agent:a')
  for (const [v, t] of [[verifier({ audience: AUDIENCE }), fresh('https://other.example/mcp')], [verifier(), fresh(AUDIENCE)]]) {
    await assert.rejects(marqueTokenVerifier(v).verifyAccessToken(t.toBase64()), (e) => e instanceof InvalidTokenError && /invalid_token/.test(e.message))
  }
  assert.throws(() => minted(42), (e) => e instanceof MarqueError || e instanceof TypeError)
  assert.throws(() => minted('files.example'), (e) => e.code === 'invalid_argument')
})

test('guardTools: resources/read, prompts/get and completion need rights; a bearer token alone is not enough', async () => {
  const { c, root } = scenario()
  const { server, ran } = filesServer({ verifier: verifier({ requireProof: false }), now: NOW + 1 })
  const bearer = (t) => ({ authInfo: { token: t.toBase64(), clientId: 'x', scopes: [] } })
  const refused = async (p, code) => {
    await assert.rejects(p, (e) => e.code === DENIED_ERROR_CODE && e.data.marque.code === code, code)
  }
  await refused(handle(server, { id: 3, method: 'resources/read', params: { uri: 'file:///srv/docs/a.md' } }, bearer(c)), 'not_authorized')
  await refused(handle(server, { id: 4, method: 'prompts/get', params: { name: 'code_review', arguments: { code: 'x' } } }, bearer(c)), 'not_authorized')
  await refused(handle(server, { id: 5, method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: 'code_review' }, argument: { name: 'code', value: '' } } }, bearer(root)), 'not_authorized')
  assert.equal(ran(), 0)
  // Headers that disagree with the body, and tools/call without an id, are refused before any handler.
  const call = { name: 'read_file', arguments: { path: 'src/lib.rs' } }
  const lying = await handle(server, { id: 6, method: 'tools/call', params: call }, { ...bearer(c), requestInfo: { headers: { 'mcp-name': 'write_file' } } })
  assert.match(lying.content[0].text, /invalid_request/)
  const noId = await handle(server, { method: 'tools/call', params: call }, bearer(c))
  assert.match(noId.content[0].text, /invalid_request/)
  // A proof is required: resources/read without one is refused like a tool call.
  const strict = filesServer({ verifier: verifier({ requireProof: true }), now: NOW + 1 })
  const rootRead = marque.mint(keys.root, { agent: 'agent:r', agentKey: keys.other.publicKey, principal: 'user:alice', rights: ['resources/read:read:file:///srv/docs/'], ttlSeconds: 60, now: NOW })
  await refused(handle(strict.server, { id: 7, method: 'resources/read', params: { uri: 'file:///srv/docs/a.md' } }, bearer(rootRead)), 'invalid_proof')
  const proof = signProof(keys.other, rootRead, { tool: 'resources/read', operation: 'read', resource: 'file:///srv/docs/a.md', now: NOW })
  const ok = await handle(strict.server, { id: 8, method: 'resources/read', params: { uri: 'file:///srv/docs/a.md' } }, { ...bearer(rootRead), requestInfo: { headers: { 'marque-proof': proof } } })
  assert.equal(ok.contents[0].text, 'doc')
})

test('guardTools through the SDK client (in memory): every method is decided by marque', async () => {
  const { c } = scenario(Math.floor(Date.now() / 1000))
  const { server } = filesServer({ verifier: verifier(), tools: { read_file: { operation: 'read', resource_arg: 'path' } } })
  const [a, b] = InMemoryTransport.createLinkedPair()
  await server.connect(a)
  const client = new Client({ name: 'c', version: '0' })
  await client.connect(b)
  try {
    const _meta = callMeta({ token: c })
    assert.equal((await client.callTool({ name: 'read_file', arguments: { path: 'src/lib.rs' }, _meta })).content[0].text, 'ok')
    await assert.rejects(client.readResource({ uri: 'file:///srv/docs/a.md', _meta }), (e) => e.code === DENIED_ERROR_CODE && /not_authorized/.test(e.message))
    await assert.rejects(client.getPrompt({ name: 'code_review', arguments: { code: 'x' }, _meta }), (e) => e.code === DENIED_ERROR_CODE)
    await assert.rejects(client.setLoggingLevel('debug'), (e) => e.code === DENIED_ERROR_CODE || /Method not found/.test(e.message))
  } finally {
    await client.close()
  }
})

test('guardTools: a Rego policy\'s require_approval reaches the client as the approval_required tool error', async () => {
  const { c } = scenario(Math.floor(Date.now() / 1000))
  const alice = keys.other
  const source = [
    'package mcp.files',
    'default allow = false',
    'allow if { input.tool == "read_file"; input.agent.role == "reader" }',
    'require_approval if { input.tool == "read_file"; startswith(input.resource.id, "src/") }',
  ].join('\n')
  // The role by the agent's path in the spawn tree.
  const v = verifier({ approvers: { 'user:alice': alice.publicKey }, rego: [{ name: 'files', version: '4', source }],
    roles: { '/root/agent_a/agent_c': 'reader' } })
  const { server, ran } = filesServer({ verifier: v, tools: { read_file: { operation: 'read', resource_arg: 'path' } } })
  const [a, b] = InMemoryTransport.createLinkedPair()
  await server.connect(a)
  const client = new Client({ name: 'c', version: '0' })
  await client.connect(b)
  try {
    const call = (meta) => client.callTool({ name: 'read_file', arguments: { path: 'src/lib.rs' }, _meta: callMeta({ token: c, ...meta }) })
    const first = await call({})
    assert.equal(first.isError, true)
    const asked = first._meta[APPROVAL_REQUEST_META_KEY]
    assert.deepEqual(asked.approvers, ['user:alice'])
    assert.match(asked.reason, /rego policy files@4 requires approval/)
    assert.equal(first._meta['marque/decision'].code, 'approval_required')
    assert.equal(first._meta['marque/decision'].policy, 'files@4#require_approval')
    assert.equal(ran(), 0)
    const approval = approve(alice, { approver: 'user:alice', digest: asked.digest })
    assert.equal((await call({ approval })).content[0].text, 'ok')
    assert.equal(ran(), 1)
  } finally {
    await client.close()
  }
})

test('guardTools: approval_required is a tool error carrying what to approve; the approval travels in _meta["marque/approval"]', async () => {
  const { c } = scenario(Math.floor(Date.now() / 1000))
  const alice = keys.other
  const v = verifier({ approvers: { 'user:alice': alice.publicKey }, approvalRules: ['read_file:*:src/'] })
  const { server, ran } = filesServer({ verifier: v, tools: { read_file: { operation: 'read', resource_arg: 'path' } } })
  const [a, b] = InMemoryTransport.createLinkedPair()
  await server.connect(a)
  const client = new Client({ name: 'c', version: '0' })
  await client.connect(b)
  try {
    const call = (meta) => client.callTool({ name: 'read_file', arguments: { path: 'src/lib.rs' }, _meta: callMeta({ token: c, ...meta }) })
    const first = await call({})
    assert.equal(first.isError, true)
    assert.equal(first.structuredContent, undefined)
    const asked = first._meta[APPROVAL_REQUEST_META_KEY]
    assert.deepEqual(asked.approvers, ['user:alice'])
    assert.equal(asked.digest, requestDigest(c, { tool: 'read_file', operation: 'read', resource: 'src/lib.rs' }))
    assert.equal(first._meta['marque/decision'].approval_request.digest, asked.digest)
    assert.match(first.content[0].text, new RegExp(`approval_required.*user:alice.*${asked.digest}.*marque/approval`))
    const approval = approve(alice, { approver: 'user:alice', digest: asked.digest })
    assert.deepEqual(callMeta({ approval }), { [APPROVAL_META_KEY]: approval })
    assert.equal((await call({ approval })).content[0].text, 'ok')
    assert.equal(ran(), 1)
    // Used once; an approval of another call (or a non-string one) is refused, never run.
    const again = await call({ approval })
    assert.equal(again.isError, true)
    assert.equal(again._meta[APPROVAL_REQUEST_META_KEY].digest, asked.digest)
    const other = approve(alice, { approver: 'user:alice', digest: requestDigest(c, { tool: 'read_file', operation: 'read', resource: 'src/main.rs' }) })
    assert.equal((await call({ approval: other })).isError, true)
    assert.equal(ran(), 1)
  } finally {
    await client.close()
  }
  // authorizeToolCall (one explicit request) reads it from _meta or the Marque-Approval header.
  const req = { tool: 'read_file', operation: 'read', resource: 'src/lib.rs' }
  const denied = await authorizeToolCall(v, { ...req, extra: { _meta: callMeta({ token: c }) } })
  const digest = denied.result._meta[APPROVAL_REQUEST_META_KEY].digest
  const viaHeader = await authorizeToolCall(v, { ...req, extra: { _meta: callMeta({ token: c }), requestInfo: { headers: { 'marque-approval': approve(alice, { approver: 'user:alice', digest }) } } } })
  assert.equal(viaHeader.decision.approval.approver, 'user:alice')
})

test('audit: each decision is appended, signed, to the log', async () => {
  const { c } = scenario()
  const log = new marque.AuditLog()
  const events = []
  const v = verifier()
  const call = (resource) => authorizeToolCall(v, { tool: 'read_file', operation: 'read', resource, now: NOW + 1, extra: { _meta: callMeta({ token: c }) }, audit: { log, signer: keys.other }, onDecision: (e) => events.push(e) })
  await call('src/lib.rs')
  await call('src/main.rs')
  assert.equal(log.length, 2)
  assert.equal(log.verify([keys.other.publicKey]).ok, true)
  assert.deepEqual(log.envelopes().map((e) => e.event.decision), ['allow', 'deny'])
  assert.equal(events[1].entry.seq, 1)
  assert.equal(events[1].entry.event.attributes.denial_code, 'not_authorized')
  // The audit signer may be a Signer (a key held elsewhere) instead of a KeyPair.
  const remote = { publicKey: keys.other.publicKey, sign: (m) => keys.other.sign(m) }
  await authorizeToolCall(v, { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW + 1, extra: { _meta: callMeta({ token: c }) }, audit: { log, signer: remote } })
  assert.equal(log.length, 3)
  assert.equal(log.verify([keys.other.publicKey]).ok, true)
})

test('audit: a durable AuditFile takes the decisions, rotates, and resumes after a restart', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'marque-auditfile-'))
  try {
    const path = join(dir, 'audit.jsonl')
    const { c } = scenario()
    const v = verifier()
    const log = new marque.AuditFile(path, [keys.other.publicKey], { maxBytes: 1500, fsync: 'never' })
    const call = (resource, audit) => authorizeToolCall(v, { tool: 'read_file', operation: 'read', resource, now: NOW + 1, extra: { _meta: callMeta({ token: c }) }, audit })
    for (const r of ['src/a.rs', 'src/b.rs', 'src/c.rs', 'README.md']) await call(r, { log, signer: keys.other })
    assert.equal(log.nextSeq, 4)
    const head = log.head
    const files = log.files()
    assert.ok(files.length > 1, 'rotated')
    log.close()
    assert.throws(() => log.append(keys.other, { event_type: 'x', agent_id: 'a', action: 'a', resource: 'r', decision: 'allow', timestamp: NOW }), (e) => e.code === 'invalid_argument')
    assert.deepEqual(marque.verifyAuditFiles(files, [keys.other.publicKey], { expectedHead: head }), { ok: true, entries: 4, head, problem: null })
    const again = new marque.AuditFile(path, [keys.other.publicKey])
    assert.equal(again.nextSeq, 4)
    assert.equal(again.head, head)
    assert.equal(again.torn, null)
    await call('src/d.rs', { log: again, signer: keys.other })
    assert.equal(marque.verifyAuditFiles(again.files(), [keys.other.publicKey], { expectedHead: again.head }).entries, 5)
    assert.throws(() => new marque.AuditFile(path, [keys.other.publicKey]), (e) => e.code === 'invalid_argument' && /already open/.test(e.message))
    again.close()
    assert.throws(() => new marque.AuditFile(path, [keys.other.publicKey], { fsnyc: 'never' }), (e) => e.code === 'invalid_argument' && /fsync/.test(e.message))
    assert.throws(() => new marque.AuditFile(path, [keys.other.publicKey], { fsync: 'sometimes' }), (e) => e.code === 'invalid_argument')
    assert.throws(() => new marque.AuditFile(path, [keys.other.publicKey], { maxBytes: -1 }), (e) => e.code === 'invalid_argument')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a verifier built from JWKS with a signed revocation list guards tool calls, failing closed when the list is stale', async () => {
  const { c } = scenario()
  const operator = keys.agentC
  const v = marque.Verifier.fromJwks(marque.toJwks([keys.root.publicKey]), { operatorKeys: [operator.publicKey], maxRevocationStaleness: 60 })
  const call = (now) => authorizeToolCall(v, { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now, extra: { _meta: callMeta({ token: c }) } })
  assert.match((await call(NOW + 1)).result.content[0].text, /revocation_list_stale/)
  v.loadRevocationList(marque.RevocationList.sign({}, { sequence: 1, signer: operator, issuedAt: NOW }), { now: NOW })
  assert.ok((await call(NOW + 1)).decision.allowed)
  assert.match((await call(NOW + 61)).result.content[0].text, /revocation_list_stale/)
})

test('defaultResource never guesses between two resource arguments', () => {
  // Regression: { path: 'a', uri: 'b' } used to be 'a' (the first of a fixed list).
  assert.throws(() => defaultResource({ path: 'a', uri: 'b' }), (e) => e.code === 'invalid_request')
  assert.equal(defaultResource({ url: 'u' }), 'u')
  assert.equal(defaultResource({ n: 1 }), '*')
  assert.equal(defaultResource(undefined), '*')
  assert.throws(() => defaultResource({ path: 3 }), (e) => e.code === 'invalid_request')
})

test('guardTools with a shared store: a proof accepted by one server is replayed on every other; a failing store fails closed', async () => {
  const now = Math.floor(Date.now() / 1000)
  const { c } = scenario(now)
  const held = new Map()
  let down = false
  const store = {
    claims: 0,
    async claim(key, ttlMs) {
      this.claims += 1
      if (down) throw new Error('ECONNREFUSED')
      if (held.has(key)) return false
      held.set(key, ttlMs)
      return true
    },
  }
  const tools = { read_file: { operation: 'read', resource_arg: 'path' } }
  const events = []
  const connect = async (options) => {
    const { server, ran } = filesServer({ verifier: verifier(), tools, onDecision: (e) => events.push(e), ...options })
    const [a, b] = InMemoryTransport.createLinkedPair()
    await server.connect(a)
    const client = new Client({ name: 'c', version: '0' })
    await client.connect(b)
    return { client, ran }
  }
  const nodes = [await connect({ store }), await connect({ store }), await connect({ store, storeOptions: { timeoutMs: 500 } })]
  const alone = await connect({})
  const outcome = (r) => (r.isError ? (r._meta?.['marque/decision']?.code ?? /denied: ([a-z_]+)/.exec(r.content[0].text)?.[1]) : 'allowed')
  const read = { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now }
  const call = (node, proof) => node.client.callTool({ name: 'read_file', arguments: { path: 'src/lib.rs' }, _meta: callMeta({ token: c, proof }) })
  try {
    const proof = signProof(keys.agentC, c, read)
    assert.equal(outcome(await call(nodes[0], proof)), 'allowed')
    for (const node of nodes) assert.equal(outcome(await call(node, proof)), 'replayed_proof')
    assert.equal(held.size, 1)
    assert.match([...held.keys()][0], /^marque:replay:[0-9a-f]{64}$/)
    // Control: a server keeping proofs in its own memory accepts the same proof once more.
    assert.equal(outcome(await alone.client.callTool({ name: 'read_file', arguments: { path: 'src/lib.rs' }, _meta: callMeta({ token: c, proof }) })), 'allowed')
    // Allow-listed methods and calls without a proof claim nothing; a denied call claims nothing.
    const claims = store.claims
    await nodes[1].client.listTools()
    assert.equal(outcome(await call(nodes[1], undefined)), 'allowed')
    const outside = { ...read, resource: '.env' }
    const denied = await nodes[1].client.callTool({ name: 'read_file', arguments: { path: '.env' }, _meta: callMeta({ token: c, proof: signProof(keys.agentC, c, outside) }) })
    assert.equal(outcome(denied), 'not_authorized')
    assert.equal(store.claims, claims)
    // The store down: every proof-carrying call refused with the typed code, the handler never runs; back up: accepted.
    down = true
    for (const node of nodes) {
      const ran = node.ran()
      assert.equal(outcome(await call(node, signProof(keys.agentC, c, read))), 'replay_store_unavailable')
      assert.equal(node.ran(), ran)
    }
    down = false
    for (const node of nodes) assert.equal(outcome(await call(node, signProof(keys.agentC, c, read))), 'allowed')
    assert.ok(events.some((e) => e.error?.code === 'replay_store_unavailable'))
  } finally {
    for (const node of [...nodes, alone]) await node.client.close()
  }
  assert.throws(() => guardTools(new McpServer({ name: 't', version: '0' }), { verifier: verifier(), store: { set() {} } }), (e) => e.code === 'invalid_argument')
  // authorizeMcpRequest with a store keeps the core's refusals: a configuration for another server.
  const message = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path: 'src/lib.rs' }, _meta: callMeta({ token: c, proof: signProof(keys.agentC, c, read) }) } }
  const claims = store.claims
  const elsewhere = await authorizeMcpRequest(verifier(), message, undefined, { config: new marque.McpConfig({ tools, resource: 'https://other.example/mcp' }), store })
  assert.equal(elsewhere.refusal?.code, 'invalid_argument')
  assert.equal(store.claims, claims)
})

test('authorizeMcpRequest with a shared store: an approval is used once across servers; the tool mapping\'s attributes reach the policies', async () => {
  const now = Math.floor(Date.now() / 1000)
  const { c } = scenario(now)
  const alice = keys.other
  const held = new Set()
  const store = { async claim(key) { if (held.has(key)) return false; held.add(key); return true } }
  const config = new marque.McpConfig({ tools: { read_file: { operation: 'read', resource_arg: 'path', attribute_args: { 'resource.env': 'env' } } } })
  const server = () => verifier({
    approvers: { 'user:alice': alice.publicKey },
    approvalRules: ['read_file:*:src/'],
    policies: [{ id: 'no-prod', source: 'deny if attribute("resource.env", "production");' }],
  })
  const [one, two] = [server(), server()]
  const read = { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now }
  const message = (meta, env = 'staging') => ({
    jsonrpc: '2.0', id: 1, method: 'tools/call',
    params: { name: 'read_file', arguments: { path: 'src/lib.rs', env }, _meta: callMeta({ token: c, proof: signProof(keys.agentC, c, read), ...meta }) },
  })
  const decide = async (v, meta, env) => {
    const { outcome, refusal } = await authorizeMcpRequest(v, message(meta, env), undefined, { config, store })
    return outcome ? { code: 'allowed', decision: outcome.decision } : { code: refusal.code, decision: refusal.decision }
  }
  const first = await decide(one, {})
  assert.equal(first.code, 'approval_required')
  const digest = first.decision.approvalRequest.digest
  // The digest covers the attribute: it is the digest of the request with resource.env.
  assert.equal(digest, requestDigest(c, { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', attributes: { 'resource.env': 'staging' } }))
  const approval = approve(alice, { approver: 'user:alice', digest })
  const ok = await decide(one, { approval })
  assert.equal(ok.code, 'allowed')
  assert.equal(ok.decision.approval.approver, 'user:alice')
  const again = await decide(two, { approval })
  assert.equal(again.code, 'approval_required')
  assert.equal(again.decision.approvalRequest.digest, digest)
  // The attribute from the argument reaches the operator's Datalog policy on the store path too.
  const prod = approve(alice, { approver: 'user:alice', digest: requestDigest(c, { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', attributes: { 'resource.env': 'production' } }) })
  assert.equal((await decide(two, { approval: prod }, 'production')).code, 'not_authorized')
  // A declared attribute argument missing: refused before any store is asked.
  const size = held.size
  const { refusal } = await authorizeMcpRequest(one, { ...message({}), params: { ...message({}).params, arguments: { path: 'src/lib.rs' } } }, undefined, { config, store })
  assert.equal(refusal.code, 'invalid_request')
  assert.equal(held.size, size)
})
