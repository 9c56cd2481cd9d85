// Unit tests of @marque/node/mcp (the end-to-end runs are in mcp.e2e.test.mjs).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js'
import { z } from 'zod'
import {
  marqueTokenVerifier,
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  bearerChallenge,
  guardTool,
  guardTools,
  authorizeToolCall,
  callMeta,
  defaultResource,
  TOKEN_META_KEY,
  PROOF_META_KEY,
} from '@marque/node/mcp'
import { marque, keys, scenario, verifier, NOW } from './helpers.mjs'

const { MarqueError, signProof } = marque

test('marqueTokenVerifier returns AuthInfo with expiry and the agent identity', async () => {
  const { c } = scenario(Math.floor(Date.now() / 1000))
  const info = await marqueTokenVerifier(verifier()).verifyAccessToken(c.toBase64())
  assert.equal(info.token, c.toBase64())
  assert.equal(info.clientId, 'agent:agent_c')
  assert.equal(info.expiresAt, c.expiresAt)
  assert.deepEqual(info.scopes, ['read_file:read:*', 'write_file:write:src/', 'run_tests:*:*'])
  assert.equal(info.extra.marque.path, '/root/agent_a/agent_c')
  assert.equal(info.extra.marque.principal, 'user:alice')
  assert.equal(info.extra.marque.agentKeyFingerprint, keys.agentC.publicKey.fingerprint)
  assert.deepEqual(info.extra.marque.chain.map((h) => h.agent), ['agent:orchestrator', 'agent:agent_a', 'agent:agent_c'])
  for (const bad of ['', 'garbage', Buffer.from(c.toBytes()).fill(7, 50, 60).toString('base64url')]) {
    await assert.rejects(marqueTokenVerifier(verifier()).verifyAccessToken(bad), (e) => e instanceof InvalidTokenError && /^marque: /.test(e.message))
  }
  assert.throws(() => marqueTokenVerifier({}), MarqueError)
  assert.equal(info.extra.marque.agentKey, keys.agentC.publicKey.toHex())
  // A revoked token is refused at the door.
  const v = verifier()
  v.revokeAgent('agent:agent_a')
  await assert.rejects(marqueTokenVerifier(v).verifyAccessToken(c.toBase64()), (e) => e instanceof InvalidTokenError && /revoked/.test(e.message))
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
    'Bearer error="invalid_token", error_description="bad \\"sig\\"", scope="a b", resource_metadata="https://x/.well-known/oauth-protected-resource"',
  )
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
  assert.match(none.result.content[0].text, /no token/)
  const garbage = await authorizeToolCall(v, { ...req, extra: { _meta: { [TOKEN_META_KEY]: '!!' } } })
  assert.match(garbage.result.content[0].text, /invalid_token/)
})

test('guardTools wraps registerTool (with and without arguments) and refuses server.tool', async () => {
  const { c } = scenario()
  const events = []
  const server = guardTools(new McpServer({ name: 't', version: '0' }), {
    verifier: verifier(),
    now: NOW + 1,
    tools: { read_file: { operation: 'read', resource: (a) => a.path }, run_tests: { resource: 'all' } },
    onDecision: (e) => events.push(e),
  })
  let ran = 0
  server.registerTool('read_file', { inputSchema: { path: z.string() } }, async () => (ran++, { content: [{ type: 'text', text: 'ok' }] }))
  server.registerTool('run_tests', {}, async () => (ran++, { content: [{ type: 'text', text: 'ok' }] }))
  assert.throws(() => server.tool('x', async () => ({ content: [] })), (e) => e instanceof MarqueError)
  const tools = server._registeredTools
  const extra = { _meta: callMeta({ token: c }) }
  assert.equal((await tools.read_file.handler({ path: 'src/lib.rs' }, extra)).content[0].text, 'ok')
  assert.equal((await tools.read_file.handler({ path: 'src/main.rs' }, extra)).isError, true)
  // agent_c only holds read_file: run_tests is denied although the orchestrator could run it.
  assert.equal((await tools.run_tests.handler(extra)).isError, true)
  const root = { _meta: callMeta({ token: scenario().root }) }
  assert.equal((await tools.run_tests.handler(root)).content[0].text, 'ok')
  assert.equal(ran, 2)
  assert.deepEqual(events.map((e) => [e.tool, e.resource, e.decision.allowed]), [['read_file', 'src/lib.rs', true], ['read_file', 'src/main.rs', false], ['run_tests', 'all', false], ['run_tests', 'all', true]])
  assert.throws(() => guardTools({}, { verifier: verifier() }), (e) => e.code === 'invalid_argument')
  assert.throws(() => guardTools(new McpServer({ name: 't', version: '0' }), { verifier: verifier(), audit: { log: {} } }), (e) => e.code === 'invalid_argument')
  assert.throws(() => guardTool(verifier(), { name: 'x' }, null), (e) => e.code === 'invalid_argument')
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

test('defaultResource picks the first string argument that names a resource', () => {
  assert.equal(defaultResource({ path: 'a', uri: 'b' }), 'a')
  assert.equal(defaultResource({ url: 'u' }), 'u')
  assert.equal(defaultResource({ n: 1 }), '*')
  assert.equal(defaultResource(undefined), '*')
})
