// End to end: the example MCP server (examples/mcp-server) called with the SDK's real Client,
// over stdio and over Streamable HTTP on 127.0.0.1.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { callMeta, DECISION_META_KEY, marqueFetch, McpAgent } from '@marque/node/mcp'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { marque, keys, scenario } from './helpers.mjs'
import { linkExample } from '../scripts/link-example.mjs'

const { signProof, AuditLog, KeyPair } = marque
const auditSeed = '0a'.repeat(32)
const auditDir = mkdtempSync(join(tmpdir(), 'marque-audit-'))
const example = linkExample()
const serverPath = fileURLToPath(new URL('server.mjs', `file://${example}/`))
const env = { ...process.env, MARQUE_ROOT_PUB: keys.root.publicKey.toHex() }
const now = () => Math.floor(Date.now() / 1000)
// Tokens minted at the real current time (the server uses its clock).
const tokens = () => scenario(now())

const text = (r) => r.content.map((c) => c.text).join('')
const proofFor = (signer, token, tool, operation, resource) => signProof(signer, token, { tool, operation, resource })
function tamper(token) {
  const b = Buffer.from(token.toBytes())
  b[b.length - 40] ^= 1
  return b.toString('base64url')
}

// `c` is agent_c's token; `writer` is the token (and `writerKey` its holder) used for a write
// attempt outside the delegation.
async function checkCalls(client, attach, { c, writer, writerKey }) {
  // Allowed: agent_c reads its one file, with a proof.
  const ok = await client.callTool({ name: 'read_file', arguments: { path: 'src/lib.rs' }, _meta: attach(c, proofFor(keys.agentC, c, 'read_file', 'read', 'src/lib.rs')) })
  assert.equal(ok.isError, undefined, text(ok))
  assert.match(text(ok), /answer/)
  assert.equal(ok._meta?.['marque/agent'], 'agent:agent_c')

  // Outside the delegation: denied, naming the reason and the failing hop.
  const denied = await client.callTool({ name: 'read_file', arguments: { path: '.env' }, _meta: attach(c, proofFor(keys.agentC, c, 'read_file', 'read', '.env')) })
  assert.equal(denied.isError, true)
  assert.match(text(denied), /not_authorized/)
  assert.match(text(denied), /agent:agent_a → agent:agent_c/)
  assert.equal(denied._meta[DECISION_META_KEY].code, 'not_authorized')
  const write = await client.callTool({ name: 'write_file', arguments: { path: 'src/lib.rs', content: 'x' }, _meta: attach(writer, proofFor(writerKey, writer, 'write_file', 'write', 'src/lib.rs')) })
  assert.equal(write.isError, true)
  assert.match(text(write), /not_authorized/)

  // Replayed proof: the same proof a second time is refused.
  const proof = proofFor(keys.agentC, c, 'read_file', 'read', 'src/lib.rs')
  const first = await client.callTool({ name: 'read_file', arguments: { path: 'src/lib.rs' }, _meta: attach(c, proof) })
  assert.equal(first.isError, undefined, text(first))
  const replay = await client.callTool({ name: 'read_file', arguments: { path: 'src/lib.rs' }, _meta: attach(c, proof) })
  assert.equal(replay.isError, true)
  assert.match(text(replay), /replayed_proof/)

  // A proof signed by another agent (a stolen token) is refused.
  const stolen = await client.callTool({ name: 'read_file', arguments: { path: 'src/lib.rs' }, _meta: attach(c, proofFor(keys.agentC, c, 'read_file', 'read', 'src/main.rs')) })
  assert.equal(stolen.isError, true)
  assert.match(text(stolen), /invalid_proof/)
}

test('stdio: token and proof in _meta', async () => {
  const client = new Client({ name: 'marque-e2e', version: '0.0.0' })
  const auditFile = join(auditDir, 'stdio.jsonl')
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [serverPath, '--stdio'], env: { ...env, MARQUE_AUDIT_SEED: auditSeed, MARQUE_AUDIT_LOG: auditFile }, stderr: 'pipe' }))
  try {
    const { tools } = await client.listTools()
    assert.deepEqual(tools.map((t) => t.name).sort(), ['read_file', 'write_file'])
    const { a, c } = tokens()
    await checkCalls(client, (token, proof) => callMeta({ token, proof }), { c, writer: a, writerKey: keys.agentA })

    // Tampered token: rejected with a typed error.
    const bad = await client.callTool({ name: 'read_file', arguments: { path: 'src/lib.rs' }, _meta: { 'marque/token': tamper(c) } })
    assert.equal(bad.isError, true)
    assert.match(text(bad), /invalid_signature|invalid_token/)
    // No token at all.
    const none = await client.callTool({ name: 'read_file', arguments: { path: 'src/lib.rs' } })
    assert.equal(none.isError, true)
    assert.match(text(none), /no marque token/)

    // Every decision was appended, signed and chained, to the server's audit log.
    const log = AuditLog.fromJsonl(readFileSync(auditFile, 'utf8'))
    const report = log.verify([KeyPair.fromHex(auditSeed).publicKey])
    assert.equal(report.ok, true, JSON.stringify(report))
    const events = log.envelopes().map((e) => e.event)
    assert.deepEqual(events.map((e) => [e.decision, e.resource, e.attributes.denial_code ?? null]), [
      ['allow', 'src/lib.rs', null],
      ['deny', '.env', 'not_authorized'],
      ['deny', 'src/lib.rs', 'not_authorized'],
      ['allow', 'src/lib.rs', null],
      ['deny', 'src/lib.rs', 'replayed_proof'],
      ['deny', 'src/lib.rs', 'invalid_proof'],
    ])
    assert.equal(events[0].agent_id, 'agent:agent_c')
    assert.deepEqual(events[0].chain, ['agent:orchestrator', 'agent:agent_a', 'agent:agent_c'])
  } finally {
    await client.close()
  }
})

let http
before(async () => {
  const child = spawn(process.execPath, [serverPath, '--http', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 15_000)
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = out.match(/on (http:\/\/127\.0\.0\.1:\d+\/mcp)/)
      if (m) {
        clearTimeout(timer)
        resolve(new URL(m[1]))
      }
    })
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
  http = { child, url }
})
after(() => http?.child.kill('SIGTERM'))

async function httpClient(token) {
  const client = new Client({ name: 'marque-e2e-http', version: '0.0.0' })
  const transport = new StreamableHTTPClientTransport(http.url, { requestInit: { headers: { Authorization: `Bearer ${typeof token === 'string' ? token : token.toBase64()}` } } })
  await client.connect(transport)
  return client
}

test('Streamable HTTP: bearer token, proof in _meta', async () => {
  const { c } = tokens()
  // The bearer token is the transport's identity; per call, the guard authorizes that token.
  const client = await httpClient(c)
  try {
    await checkCalls(client, (_token, proof) => callMeta({ proof }), { c, writer: c, writerKey: keys.agentC })
  } finally {
    await client.close()
  }
})

test('Streamable HTTP: agent_a read-only under src/', async () => {
  const { a } = tokens()
  const client = await httpClient(a)
  try {
    const ok = await client.callTool({ name: 'read_file', arguments: { path: 'src/main.rs' }, _meta: callMeta({ proof: proofFor(keys.agentA, a, 'read_file', 'read', 'src/main.rs') }) })
    assert.equal(ok.isError, undefined, text(ok))
    const bare = await client.callTool({ name: 'read_file', arguments: { path: 'src/main.rs' } })
    assert.equal(bare.isError, undefined, 'a proof is optional unless the verifier requires one')
  } finally {
    await client.close()
  }
})

test('Streamable HTTP: a tampered or missing token is a 401 with an RFC 9728 challenge', async () => {
  const { c } = tokens()
  await assert.rejects(httpClient(tamper(c)), /401|invalid_token|Unauthorized/i)
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} })
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
  const r = await fetch(http.url, { method: 'POST', headers: { ...headers, authorization: `Bearer ${tamper(c)}` }, body })
  assert.equal(r.status, 401)
  const challenge = r.headers.get('www-authenticate')
  assert.match(challenge, /^Bearer error="invalid_token"/)
  assert.match(challenge, /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/)
  const missing = await fetch(http.url, { method: 'POST', headers, body })
  assert.equal(missing.status, 401)
  // The metadata document named in the challenge.
  const metaUrl = challenge.match(/resource_metadata="([^"]+)"/)[1]
  const meta = await (await fetch(metaUrl)).json()
  assert.equal(meta.resource, http.url.href)
  assert.deepEqual(meta.bearer_methods_supported, ['header'])
  // An expired token is refused at the door too (AuthInfo.expiresAt).
  const old = scenario(now() - 7200).c
  const expired = await fetch(http.url, { method: 'POST', headers: { ...headers, authorization: `Bearer ${old.toBase64()}` }, body })
  assert.equal(expired.status, 401)
})

test('Streamable HTTP, agent side: McpAgent.fetch sends the bearer token and a fresh proof per call; delegate is one call', async () => {
  const { root } = tokens()
  const mcp = { tools: { read_file: { operation: 'read', resource_arg: 'path' } } }
  const me = new McpAgent({ token: root, key: keys.orch, mcp })
  const reader = me.delegate('agent:reader', { tools: ['read_file'], resourcePrefix: 'src/', ttlSeconds: 300 })
  assert.deepEqual(reader.token.chain.map((h) => h.agent), ['agent:orchestrator', 'agent:reader'])
  const connect = async (fetch) => {
    const client = new Client({ name: 'marque-agent', version: '0.0.0' })
    await client.connect(new StreamableHTTPClientTransport(http.url, { fetch }))
    return client
  }
  const client = await connect(reader.fetch)
  try {
    const ok = await client.callTool({ name: 'read_file', arguments: { path: 'src/main.rs' } })
    assert.equal(ok.isError, undefined, text(ok))
    const denied = await client.callTool({ name: 'read_file', arguments: { path: 'README.md' } })
    assert.equal(denied.isError, true)
    assert.match(text(denied), /not_authorized/)
  } finally {
    await client.close()
  }
  // The proof travels in the Marque-Proof header and the server checks it: the first tools/call's
  // proof sent again with the second call is refused as a replay.
  let kept
  const replaying = marqueFetch({
    token: reader.token, agent: reader.key, mcp,
    fetch: (input, init) => {
      const headers = new Headers(init.headers)
      if (headers.get('marque-proof')) {
        kept ??= headers.get('marque-proof')
        headers.set('marque-proof', kept)
      }
      return fetch(input, { ...init, headers })
    },
  })
  const replayer = await connect(replaying)
  try {
    const first = await replayer.callTool({ name: 'read_file', arguments: { path: 'src/main.rs' } })
    assert.equal(first.isError, undefined, text(first))
    const second = await replayer.callTool({ name: 'read_file', arguments: { path: 'src/main.rs' } })
    assert.equal(second.isError, true)
    assert.match(text(second), /replayed_proof/)
  } finally {
    await replayer.close()
  }
  // Options are checked; a message the server would refuse never leaves.
  assert.throws(() => marqueFetch({ token: reader.token, agent: reader.key, mpc: mcp }), { code: 'invalid_argument' })
  assert.throws(() => reader.headers({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'read_file', arguments: { path: 'x' } } }), { code: 'invalid_request' })
})
