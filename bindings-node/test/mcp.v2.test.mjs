// @marque/node/mcp with the MCP TypeScript SDK 2.x (@modelcontextprotocol/server, /client, /node,
// /express): guardTools on a v2 McpServer (in memory, over stdio and over Streamable HTTP), the bearer
// verifier behind v2's requireBearerAuth (401 + challenge), and the agent side (McpAgent.fetch
// on v2's client transport). The 1.x line is covered by mcp.test.mjs and mcp.e2e.test.mjs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { McpServer, InMemoryTransport } from '@modelcontextprotocol/server'
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node'
import { createMcpExpressApp, requireBearerAuth } from '@modelcontextprotocol/express'
import { Client, ProtocolError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio'
import { fileURLToPath } from 'node:url'
import * as z from 'zod/v4'
import { callMeta, DENIED_ERROR_CODE, guardTools, marqueTokenVerifier, McpAgent } from '@marque/node/mcp'
import { marque, keys } from './helpers.mjs'

const { mint, signProof, Verifier } = marque
const TOOLS = { read_file: { operation: 'read', resource_arg: 'path' } }
const root = () => mint(keys.root, { agent: 'agent:orchestrator', agentKey: keys.orch.publicKey, principal: 'user:alice', rights: ['read_file:read:src/', 'resources/read:read:file:///docs/'], ttlSeconds: 600 })

function filesServer(verifier) {
  const server = new McpServer({ name: 'files-v2', version: '1.0.0' })
  guardTools(server, { verifier, tools: TOOLS })
  server.registerTool('read_file', { inputSchema: z.object({ path: z.string() }) }, async ({ path }) => ({ content: [{ type: 'text', text: `contents of ${path}` }] }))
  server.registerResource('secrets', 'file:///etc/secrets', {}, async (uri) => ({ contents: [{ uri: uri.href, text: 'secret' }] }))
  return server
}

const text = (r) => r.content.map((c) => c.text).join('')

test('SDK 2.x, in memory: every tools/call and resources/read goes through the core', async () => {
  const token = root()
  const server = filesServer(new Verifier({ rootKeys: [keys.root.publicKey], requireProof: true }))
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
  await server.connect(serverSide)
  const client = new Client({ name: 'agent', version: '1.0.0' })
  await client.connect(clientSide)
  try {
    const meta = (path) => callMeta({ token, proof: signProof(keys.orch, token, { tool: 'read_file', operation: 'read', resource: path }) })
    assert.equal(text(await client.callTool({ name: 'read_file', arguments: { path: 'src/a.rs' }, _meta: meta('src/a.rs') })), 'contents of src/a.rs')
    const denied = await client.callTool({ name: 'read_file', arguments: { path: '.env' }, _meta: meta('.env') })
    assert.equal(denied.isError, true)
    assert.match(text(denied), /not_authorized/)
    const noProof = await client.callTool({ name: 'read_file', arguments: { path: 'src/a.rs' }, _meta: callMeta({ token }) })
    assert.match(text(noProof), /invalid_proof/)
    // A resource read outside the token's rights is a JSON-RPC error carrying the marque code.
    const proof = signProof(keys.orch, token, { tool: 'resources/read', operation: 'read', resource: 'file:///etc/secrets' })
    const err = await client.readResource({ uri: 'file:///etc/secrets', _meta: callMeta({ token, proof }) }).then(() => null, (e) => e)
    assert.ok(err instanceof ProtocolError, String(err))
    assert.equal(err.code, DENIED_ERROR_CODE)
    assert.equal(err.data.marque.code, 'not_authorized')
  } finally {
    await client.close()
  }
})

test('SDK 2.x, Streamable HTTP: requireBearerAuth with marqueTokenVerifier, guardTools, McpAgent.fetch', async (t) => {
  const verifier = new Verifier({ rootKeys: [keys.root.publicKey], requireProof: true })
  const app = createMcpExpressApp()
  app.post('/mcp', requireBearerAuth({ verifier: marqueTokenVerifier(verifier, { sdk: 2 }) }), async (req, res) => {
    const server = filesServer(verifier)
    const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => { transport.close(); server.close() })
    await server.connect(transport)
    await transport.handleRequest(req, res, req.body)
  })
  const http = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)) })
  t.after(() => http.close())
  const url = new URL(`http://127.0.0.1:${http.address().port}/mcp`)

  const reader = new McpAgent({ token: root(), key: keys.orch, mcp: { tools: TOOLS } })
    .delegate('agent:reader', { tools: ['read_file'], resourcePrefix: 'src/', ttlSeconds: 300 })
  const client = new Client({ name: 'reader', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(url, { fetch: reader.fetch }))
  try {
    assert.equal(text(await client.callTool({ name: 'read_file', arguments: { path: 'src/lib.rs' } })), 'contents of src/lib.rs')
    const denied = await client.callTool({ name: 'read_file', arguments: { path: 'README.md' } })
    assert.equal(denied.isError, true)
    assert.match(text(denied), /not_authorized/)
  } finally {
    await client.close()
  }
  // The door: a bad token is v2's 401 with a challenge (not a 500: the verifier throws v2's error).
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
  const bad = await fetch(url, { method: 'POST', headers: { ...headers, authorization: 'Bearer not-a-token' }, body })
  assert.equal(bad.status, 401)
  assert.match(bad.headers.get('www-authenticate'), /^Bearer error="invalid_token"/)
  assert.throws(() => marqueTokenVerifier(verifier, { sdk: 3 }), { code: 'invalid_argument' })
  assert.throws(() => marqueTokenVerifier(verifier, { sdK: 2 }), { code: 'invalid_argument' })
})

test('SDK 2.x, stdio: the real client and a guarded server in a child process; token and proof in _meta', async () => {
  // Over stdio there is no Authorization header: the token and a fresh proof ride in each
  // request's _meta. The server binds proofs to its audience (RFC 8707), so the agent signs for it.
  const audience = 'https://files.example/mcp'
  const serverPath = fileURLToPath(new URL('fixtures/mcp-v2-stdio-server.mjs', import.meta.url))
  const env = { ...process.env, MARQUE_ROOT_PUB: keys.root.publicKey.toHex(), MARQUE_AUDIENCE: audience }
  const client = new Client({ name: 'agent-v2', version: '1.0.0' })
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [serverPath, '--stdio'], env, stderr: 'pipe' }))
  try {
    // The handshake and the catalogue are allow-listed: no token needed on stdio.
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['read_file'])
    const token = root()
    const proof = (path, aud = audience) => signProof(keys.orch, token, { tool: 'read_file', operation: 'read', resource: path, ...(aud ? { audience: aud } : {}) })
    const call = (path, meta) => client.callTool({ name: 'read_file', arguments: { path }, _meta: meta })
    assert.equal(text(await call('src/a.rs', callMeta({ token, proof: proof('src/a.rs') }))), 'contents of src/a.rs')
    // Denied: outside the token's rights.
    const denied = await call('.env', callMeta({ token, proof: proof('.env') }))
    assert.equal(denied.isError, true)
    assert.match(text(denied), /not_authorized/)
    // Missing proof (proofs are required), a proof for another server, one naming no server.
    for (const [meta, why] of [
      [callMeta({ token }), /invalid_proof: a proof of possession is required/],
      [callMeta({ token, proof: proof('src/a.rs', 'https://other.example/mcp') }), /invalid_proof: proof audience .*another server/],
      [callMeta({ token, proof: proof('src/a.rs', null) }), /invalid_proof: proof names no audience/],
    ]) {
      const refused = await call('src/a.rs', meta)
      assert.equal(refused.isError, true)
      assert.match(text(refused), why)
    }
    // No token at all.
    const none = await call('src/a.rs', undefined)
    assert.equal(none.isError, true)
    assert.match(text(none), /no marque token/)
    // The same proof twice: replayed.
    const once = proof('src/b.rs')
    assert.equal(text(await call('src/b.rs', callMeta({ token, proof: once }))), 'contents of src/b.rs')
    assert.match(text(await call('src/b.rs', callMeta({ token, proof: once }))), /replayed_proof/)
  } finally {
    await client.close()
  }
})

test('audience: guardTools and marqueTokenVerifier take the server URI from the verifier; a different resource is refused', () => {
  const verifier = new Verifier({ rootKeys: [keys.root.publicKey], audience: 'HTTPS://Files.example/mcp/' })
  assert.equal(verifier.audience, 'https://files.example/mcp')
  const server = new McpServer({ name: 'x', version: '1.0.0' })
  guardTools(server, { verifier, resource: 'https://files.example/mcp' })
  assert.throws(() => guardTools(new McpServer({ name: 'y', version: '1.0.0' }), { verifier, resource: 'https://other.example/mcp' }), { code: 'invalid_argument' })
  assert.throws(() => marqueTokenVerifier(new Verifier({ rootKeys: [keys.root.publicKey] }), { sdk: 2, resource: 'https://files.example/mcp' }), { code: 'invalid_argument' })
  assert.throws(() => new Verifier({ rootKeys: [keys.root.publicKey], audience: 'https://files.example/mcp#x' }), { code: 'invalid_argument' })
  assert.throws(() => signProof(keys.orch, root(), { tool: 't', resource: 'r', audience: 'files.example' }), { code: 'invalid_argument' })
  assert.throws(() => signProof(keys.orch, root(), { tool: 't', resource: 'r', audiance: 'https://files.example/mcp' }), { code: 'invalid_argument' })
})

test('audience: McpAgent signs for the server it is configured with; the server refuses proofs for another', async () => {
  const token = root()
  const message = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path: 'src/a.rs' } } }
  const server = (audience) => new Verifier({ rootKeys: [keys.root.publicKey], requireProof: true, audience })
  const decide = async (agent, audience) => {
    const h = agent.headers(message)
    const o = await server(audience).authorizeMcpAsync(new marque.McpConfig({ tools: TOOLS }), message, { token: h.Authorization.slice(7), proof: h['Marque-Proof'] })
    return o.decision.code ?? 'allowed'
  }
  const agent = new McpAgent({ token, key: keys.orch, mcp: { tools: TOOLS }, resource: 'https://files.example/mcp' })
  assert.equal(agent.config.resource, 'https://files.example/mcp')
  assert.equal(await decide(agent, 'https://files.example/mcp'), 'allowed')
  assert.equal(await decide(agent, 'https://other.example/mcp'), 'invalid_proof')
  // A sub-agent keeps the server it was handed.
  const reader = agent.delegate('agent:reader', { tools: ['read_file'], ttlSeconds: 60 })
  assert.equal(reader.config.resource, 'https://files.example/mcp')
})
