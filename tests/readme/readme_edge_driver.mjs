// Drives the README's Wasm edge module (worker.mjs) the way a Workers runtime would:
// `fetch(request, env)` with real Requests, in front of an upstream on loopback.
import { createServer } from 'node:http'
import { KeyPair, mint, signProof } from '@marque/wasm'
import worker from './worker.mjs'

const upstream = createServer((req, res) => {
  let body = ''
  req.on('data', (c) => { body += c })
  req.on('end', () => {
    const msg = JSON.parse(body)
    res.end(`upstream saw ${msg.params.name} ${msg.params.arguments.path}`)
  })
})
await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve))
const env = {
  MARQUE_ROOT_KEY: KeyPair.fromSeed(new Uint8Array(32).fill(1)).publicKey.toHex(),
  UPSTREAM: `http://127.0.0.1:${upstream.address().port}`,
}
const seed = (n) => KeyPair.fromSeed(new Uint8Array(32).fill(n))
const [root, orch, reader] = [seed(1), seed(2), seed(3)]
const token = mint(root, { agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:alice', rights: ['read_file:read:*'], ttlSeconds: 600 })
const sub = token.delegate(orch, { to: 'agent:reader', toKey: reader.publicKey, resourcePrefix: 'src/', ttlSeconds: 300 })

const call = (path, { token = sub, proof = true } = {}) => {
  const headers = { 'content-type': 'application/json', 'mcp-method': 'tools/call', 'mcp-name': 'read_file' }
  if (token) headers.authorization = `Bearer ${token.toBase64()}`
  if (proof) headers['marque-proof'] = signProof(reader, sub, { tool: 'read_file', operation: 'read', resource: path })
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path } } })
  return worker.fetch(new Request('https://edge.example/mcp', { method: 'POST', headers, body }), env)
}
try {
  const ok = await call('src/a.rs')
  console.log(`allowed: ${ok.status} ${await ok.text()}`)
  console.log(`denied: ${(await call('.env')).status}`)
  console.log(`no token: ${(await call('src/a.rs', { token: null, proof: false })).status}`)
} finally {
  upstream.close()
}
