// Times are seconds (docs/PROFILE.md, "Times"): `Date.now()` milliseconds passed as `now` are
// refused with invalid_argument — never a token valid for millennia — while a `Date` object keeps
// working (the binding converts it to seconds). Runs against @marque/node and @marque/wasm.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, RUNTIME } from './marque.mjs'

const { KeyPair, Verifier, MarqueError, mint, signProof } = marque
const root = KeyPair.fromHex('01'.repeat(32))
const orch = KeyPair.fromHex('02'.repeat(32))
const child = KeyPair.fromHex('03'.repeat(32))
const base = { agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:alice', rights: ['read_file:read:src/'], ttlSeconds: 60 }
const request = { tool: 'read_file', operation: 'read', resource: 'src/a.rs' }

function refusesMilliseconds(fn) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof MarqueError, String(e))
    assert.equal(e.code, 'invalid_argument')
    assert.match(e.message, /milliseconds/)
    assert.match(e.message, /seconds since the epoch/)
    return true
  })
}

test(`clocks (${RUNTIME}): Date.now() as now is refused by mint, delegate, authorize and signProof`, () => {
  refusesMilliseconds(() => mint(root, { ...base, now: Date.now() }))
  const token = mint(root, { ...base, now: new Date() })
  refusesMilliseconds(() => token.delegate(orch, { to: 'agent:a', toKey: child.publicKey, ttlSeconds: 60, now: Date.now() }))
  const verifier = new Verifier({ rootKeys: [root.publicKey] })
  refusesMilliseconds(() => verifier.authorize(token, { ...request, now: Date.now() }))
  refusesMilliseconds(() => signProof(orch, token, { ...request, now: Date.now() }))
})

test(`clocks (${RUNTIME}): a Date, seconds, or no now at all keep working`, () => {
  const now = new Date()
  const seconds = Math.floor(now.getTime() / 1000)
  const token = mint(root, { ...base, now })
  assert.ok(Math.abs(token.expiresAt - (seconds + 60)) <= 1, `expiresAt ${token.expiresAt} is seconds`)
  const sub = token.delegate(orch, { to: 'agent:a', toKey: child.publicKey, ttlSeconds: 30, now })
  assert.ok(sub.expiresAt <= seconds + 31, 'the TTL is counted in seconds')
  const verifier = new Verifier({ rootKeys: [root.publicKey] })
  assert.equal(verifier.authorize(sub, { ...request, now }).allowed, true)
  assert.equal(verifier.authorize(sub, { ...request, now: seconds }).allowed, true)
  assert.equal(verifier.authorize(sub, request).allowed, true)
  const proof = signProof(child, sub, { ...request, now })
  assert.equal(verifier.authorize(sub, { ...request, proof, now: seconds }).proofVerified, true)
  // Before 2000 is not a plausible time either.
  assert.throws(() => mint(root, { ...base, now: 1000 }), (e) => e instanceof MarqueError && e.code === 'invalid_argument')
})
