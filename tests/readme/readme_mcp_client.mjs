// The agent side of the README's Node quick start (tests/readme/test_readme.py): the real MCP SDK
// client with a delegated token as the bearer token and a proof per call in _meta.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { KeyPair, mint, signProof } from '@marque/node'

const url = new URL(process.argv[2])
const seed = (n) => KeyPair.fromSeed(new Uint8Array(32).fill(n))
const [root, orch, reader] = [seed(1), seed(2), seed(3)]
const token = mint(root, { agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:alice', rights: ['read_file:read:*'], ttlSeconds: 600 })
const sub = token.delegate(orch, { to: 'agent:reader', toKey: reader.publicKey, resourcePrefix: 'src/', ttlSeconds: 300 })

const client = new Client({ name: 'readme-agent', version: '1.0.0' })
await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${sub.toBase64()}` } } }))
const call = (path) => client.callTool({
  name: 'read_file', arguments: { path },
  _meta: { 'marque/proof': signProof(reader, sub, { tool: 'read_file', operation: 'read', resource: path }) },
})
const ok = await call('src/app.js')
if (ok.isError) throw new Error(`expected an allowed call: ${JSON.stringify(ok)}`)
console.log(`allowed: ${ok.content[0].text}`)
const denied = await call('.env')
if (!denied.isError) throw new Error(`expected a denial: ${JSON.stringify(denied)}`)
const code = /not_authorized/.test(JSON.stringify(denied)) ? 'not_authorized' : JSON.stringify(denied)
console.log(`denied: ${code}`)
await client.close()
