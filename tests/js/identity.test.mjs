// Identity rules, against @marque/node or @marque/wasm (MARQUE_JS): one agent per id and name in
// a chain, revocation by key, whole revocation ids only, the chain's key fingerprints on
// decisions and the decided resource in exchanged JWTs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, RUNTIME } from './marque.mjs'

const { KeyPair, Verifier, MarqueError, mint, jwtVerify } = marque
const NOW = 1_767_225_600
const kp = (n) => KeyPair.fromSeed(new Uint8Array(32).fill(n))
const code = (f) => {
  try {
    f()
  } catch (e) {
    if (e instanceof MarqueError) return e.code
    throw e
  }
  return 'no error'
}

function scenario() {
  const [root, orch, a, c] = [kp(1), kp(2), kp(3), kp(4)]
  const t0 = mint(root, {
    agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:alice',
    rights: ['read_file:read:*'], ttlSeconds: 3600, now: NOW,
  })
  const ta = t0.delegate(orch, { to: 'agent:agent_a', toKey: a.publicKey, resourcePrefix: 'src/', now: NOW })
  const tc = ta.delegate(a, { to: 'agent:agent_c', toKey: c.publicKey, now: NOW })
  return { root, orch, a, c, t0, ta, tc }
}
const read = (resource = 'src/main.rs') => ({ tool: 'read_file', operation: 'read', resource, now: NOW })

test(`identity (${RUNTIME}): a child cannot take an id or a name of its chain`, () => {
  const s = scenario()
  for (const to of ['agent:orchestrator', 'agent:agent_a', 'agent:agent_c', 'team:orchestrator', 'x:agent_a', 'agent:root']) {
    assert.equal(code(() => s.tc.delegate(s.c, { to, toKey: kp(9).publicKey, now: NOW })), 'invalid_argument', to)
  }
  assert.equal(s.tc.delegate(s.c, { to: 'agent:agent_d', toKey: kp(9).publicKey, now: NOW }).path, '/root/agent_a/agent_c/agent_d')
})

test(`identity (${RUNTIME}): decisions carry the chain's key fingerprints; the JWT names the resource`, () => {
  const s = scenario()
  const d = new Verifier({ rootKeys: [s.root.publicKey] }).authorize(s.tc, read())
  const fingerprints = [s.orch, s.a, s.c].map((k) => k.publicKey.fingerprint)
  assert.deepEqual(d.chainKeyFingerprints, fingerprints)
  assert.deepEqual(JSON.parse(JSON.stringify(d)).chain_key_fingerprints, fingerprints)
  const jwt = d.toCompactJwt(s.root, { issuerName: 'gw', audience: 'svc', ttlSeconds: 60 })
  const claims = jwtVerify(jwt, [s.root.publicKey], { audience: 'svc', now: NOW })
  assert.equal(claims.resource, 'src/main.rs')
  assert.equal(claims.scope, 'read_file:read')
})

test(`identity (${RUNTIME}): a revoked key is refused under any agent id`, () => {
  const s = scenario()
  const again = s.t0.delegate(s.orch, { to: 'agent:fresh', toKey: s.a.publicKey, now: NOW })
  const v = new Verifier({ rootKeys: [s.root.publicKey] })
  v.revokeKey(s.a.publicKey)
  for (const t of [s.ta, s.tc, again]) assert.equal(v.authorize(t, read()).code, 'revoked')
  assert.equal(v.authorize(s.t0, read()).allowed, true)
  assert.deepEqual(v.revocations.keys, [s.a.publicKey.toHex()])
  // The same through a shared set.
  const w = new Verifier({ rootKeys: [s.root.publicKey] })
  w.mergeRevocations({ keys: [s.a.publicKey.toHex()] })
  assert.equal(w.authorize(again, read()).code, 'revoked')
})

test(`identity (${RUNTIME}): malformed revocation entries throw invalid_argument and store nothing`, () => {
  const s = scenario()
  const full = s.ta.revocationIds[1]
  const v = new Verifier({ rootKeys: [s.root.publicKey] })
  for (const bad of ['0123abcd', full.slice(0, 16), full.slice(1), full + '0', 'g'.repeat(128), '']) {
    assert.equal(code(() => v.revoke(bad)), 'invalid_argument', bad)
    assert.equal(code(() => v.mergeRevocations({ ids: [bad] })), 'invalid_argument', bad)
  }
  assert.equal(code(() => v.revokeAgent('agent:')), 'invalid_argument')
  assert.equal(code(() => v.revokePrincipal('')), 'invalid_argument')
  assert.equal(code(() => v.mergeRevocations({ keys: ['00ff'] })), 'invalid_argument')
  assert.equal(v.revocations.ids.length + v.revocations.agents.length + v.revocations.principals.length, 0)
  v.revoke(full.toUpperCase())
  assert.deepEqual(v.revocations.ids, [full])
  assert.equal(v.authorize(s.tc, read()).code, 'revoked')
})
