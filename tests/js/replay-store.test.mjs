// A replay store shared by verifiers, through `Verifier.authorizeWithStore(token, options, store)`
// with the JS object contract `{ claim(key, ttlMs) → Promise<boolean> }` (what a Workers user
// backs with a Durable Object, a Node user with Redis). In-memory JS implementation here; the
// Node package also tests a loopback redis-server (bindings-node/test/replay-store.test.mjs).
// Runs against @marque/node and @marque/wasm.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, RUNTIME } from './marque.mjs'

const { KeyPair, Verifier, MarqueError, mint, signProof } = marque
const NOW = 1_767_225_600
const root = KeyPair.fromHex('01'.repeat(32))
const agent = KeyPair.fromHex('02'.repeat(32))
const token = mint(root, { agent: 'agent:a', agentKey: agent.publicKey, principal: 'user:alice', rights: ['read_file:read:src/'], ttlSeconds: 600, now: NOW })
const read = { tool: 'read_file', operation: 'read', resource: 'src/a.rs', now: NOW }
const verifier = () => new Verifier({ rootKeys: [root.publicKey] })
const proof = (req = read) => signProof(agent, token, req)

function memoryStore() {
  const held = new Map()
  const calls = []
  return {
    calls,
    async claim(key, ttlMs) {
      calls.push([key, ttlMs])
      if (held.has(key)) return false
      held.set(key, Date.now() + ttlMs)
      return true
    },
  }
}

async function outcome(v, p, store, req = read) {
  try {
    const d = await v.authorizeWithStore(token, { ...req, proof: p }, store)
    return d.allowed ? 'allowed' : d.code
  } catch (e) {
    assert.ok(e instanceof MarqueError, String(e))
    return e.code
  }
}

test(`replay store (${RUNTIME}): two verifiers sharing a store refuse the second use`, async () => {
  const store = memoryStore()
  const [one, two] = [verifier(), verifier()]
  const p = proof()
  assert.equal(await outcome(one, p, store), 'allowed')
  assert.equal(await outcome(two, p, store), 'replayed_proof')
  assert.equal(await outcome(one, p, store), 'replayed_proof')
  // Control: the sync path keeps this process's memory, which has not seen the proof.
  assert.equal(two.authorize(token, { ...read, proof: p }).allowed, true)
  for (const [key, ttl] of store.calls) {
    assert.match(key, /^marque:replay:[0-9a-f]{64}$/)
    assert.equal(ttl, 65_000)
  }
})

test(`replay store (${RUNTIME}): a denied call never claims; no proof, no claim`, async () => {
  const store = memoryStore()
  const outside = { ...read, resource: 'secrets/key' }
  assert.equal(await outcome(verifier(), proof(outside), store, outside), 'not_authorized')
  assert.ok((await verifier().authorizeWithStore(token, read, store)).allowed)
  assert.equal(store.calls.length, 0)
})

test(`replay store (${RUNTIME}): a failing store fails closed; recovery is automatic`, async () => {
  const v = verifier()
  const p = proof()
  let down = true
  const inner = memoryStore()
  const flaky = { claim: (k, t) => (down ? Promise.reject(new Error('unreachable')) : inner.claim(k, t)) }
  assert.equal(await outcome(v, p, flaky), 'replay_store_unavailable')
  for (const answer of [1, 'OK', null, undefined, {}]) {
    assert.equal(await outcome(v, p, { claim: async () => answer }), 'replay_store_unavailable', String(answer))
  }
  assert.equal(await outcome(v, p, { claim: () => { throw new Error('sync') } }), 'replay_store_unavailable')
  down = false
  assert.equal(await outcome(v, p, flaky), 'allowed')
  assert.equal(await outcome(v, p, flaky), 'replayed_proof')
  for (const bad of [null, {}, { claim: 1 }]) {
    await assert.rejects(v.authorizeWithStore(token, { ...read, proof: p }, bad), { code: 'invalid_argument' })
  }
  assert.ok(marque.ERROR_CODES.includes('replay_store_unavailable'))
})
