// authorizeMcpWithStore, both packages: the core maps and decides an MCP message up to its
// single-use state (authorizeMcpBegin); the store a fleet shares claims it. A proof is used once
// across verifiers, an allowed method or a denial asks no store, a configuration for another
// server is refused before anything is claimed, an approval is claimed after the nonce.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, RUNTIME } from './marque.mjs'

const { KeyPair, Verifier, MarqueError, McpConfig, PendingAuthorization, mint, signProof, approve } = marque
const NOW = 1_767_225_600
const root = KeyPair.fromHex('01'.repeat(32))
const agent = KeyPair.fromHex('02'.repeat(32))
const alice = KeyPair.fromHex('07'.repeat(32))
const token = mint(root, { agent: 'agent:a', agentKey: agent.publicKey, principal: 'user:u', rights: ['read_file:read:src/', 'deploy:deploy:*'], ttlSeconds: 600, now: NOW })
const config = new McpConfig({ tools: { read_file: { operation: 'read', resource_arg: 'path' }, deploy: { operation: 'deploy', resource_arg: 'service', attribute_args: { 'resource.env': 'env' } } } })
const read = (path) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path } } })
const text = token.toBase64()

function memoryStore() {
  const held = new Set()
  return { held, claims: 0, async claim(key) { this.claims += 1; if (held.has(key)) return false; held.add(key); return true } }
}

test(`mcp store (${RUNTIME}): a proof is used once across verifiers sharing the store`, async () => {
  const store = memoryStore()
  const [one, two] = [new Verifier({ rootKeys: [root.publicKey] }), new Verifier({ rootKeys: [root.publicKey] })]
  const proof = signProof(agent, token, { tool: 'read_file', operation: 'read', resource: 'src/a.rs', now: NOW })
  const step = one.authorizeMcpBegin(config, read('src/a.rs'), { token: text, proof, now: NOW })
  assert.ok(step instanceof PendingAuthorization)
  assert.equal(step.mcpMethod, 'tools/call')
  const { tool, operation, resource, attributes } = step.mcpRequest
  assert.deepEqual([tool, operation, resource, attributes ?? null], ['read_file', 'read', 'src/a.rs', null])
  step.free?.()
  const first = await one.authorizeMcpWithStore(config, read('src/a.rs'), { token: text, proof, now: NOW }, store)
  assert.equal(first.allowed, true)
  assert.equal(first.method, 'tools/call')
  assert.equal(first.request.resource, 'src/a.rs')
  assert.equal(first.decision.agent, 'agent:a')
  const again = await two.authorizeMcpWithStore(config, read('src/a.rs'), { token: text, proof, now: NOW }, store)
  assert.equal(again.allowed, false)
  assert.equal(again.decision.code, 'replayed_proof')
  // A denial and an allowed method ask no store; the outcome is the core's.
  const claims = store.claims
  const denied = await one.authorizeMcpWithStore(config, read('.env'), { token: text, now: NOW }, store)
  assert.equal(denied.decision.code, 'not_authorized')
  const listed = await one.authorizeMcpWithStore(config, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { token: text, now: NOW }, store)
  assert.equal(listed.allowed, true)
  assert.equal(listed.admission.agent, 'agent:a')
  assert.equal(store.claims, claims)
  // A configuration for another server than the verifier's audience: refused, nothing claimed.
  const elsewhere = new McpConfig({ tools: {}, resource: 'https://other.example/mcp' })
  await assert.rejects(one.authorizeMcpWithStore(elsewhere, read('src/a.rs'), { token: text, proof, now: NOW }, store), (e) => e instanceof MarqueError && e.code === 'invalid_argument')
  // A store that fails closes the call.
  const down = { claim: async () => { throw new Error('ECONNREFUSED') } }
  const fresh = signProof(agent, token, { tool: 'read_file', operation: 'read', resource: 'src/a.rs', now: NOW })
  await assert.rejects(one.authorizeMcpWithStore(config, read('src/a.rs'), { token: text, proof: fresh, now: NOW }, down), (e) => e instanceof MarqueError && e.code === 'replay_store_unavailable')
  await assert.rejects(one.authorizeMcpWithStore(config, read('src/a.rs'), { token: text, now: NOW }, null), (e) => e instanceof MarqueError && e.code === 'invalid_argument')
  assert.equal(store.claims, claims)
})

test(`mcp store (${RUNTIME}): an approval is claimed once after the nonce; the mapping's attributes reach the decision`, async () => {
  const store = memoryStore()
  const gated = () => new Verifier({ rootKeys: [root.publicKey], approvers: { 'user:alice': alice.publicKey }, approvalRules: ['deploy:*:web'] })
  const deploy = (env, approval) => ({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'deploy', arguments: { service: 'web', env }, ...(approval ? { _meta: { 'marque/approval': approval } } : {}) } })
  const asked = await gated().authorizeMcpWithStore(config, deploy('production'), { token: text, now: NOW }, store)
  assert.equal(asked.decision.code, 'approval_required')
  assert.deepEqual(asked.request.attributes, { 'resource.env': 'production' })
  const approval = approve(alice, { approver: 'user:alice', digest: asked.decision.approvalRequest.digest, now: NOW })
  const ok = await gated().authorizeMcpWithStore(config, deploy('production', approval), { token: text, now: NOW }, store)
  assert.equal(ok.allowed, true, ok.decision.reasons?.join())
  assert.equal(ok.decision.approval.approver, 'user:alice')
  const again = await gated().authorizeMcpWithStore(config, deploy('production', approval), { token: text, now: NOW }, store)
  assert.equal(again.decision.code, 'approval_required')
  // The approval is bound to the attribute: the same call for staging needs its own.
  const staging = await gated().authorizeMcpWithStore(config, deploy('staging', approval), { token: text, now: NOW }, store)
  assert.equal(staging.decision.code, 'approval_required')
})
