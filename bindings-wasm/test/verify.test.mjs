// Verifier.authorize: decisions as data, proofs, revocation, limits, policies.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, chain, key, throwsCode, NOW } from './helpers.mjs'

const { Verifier, signProof, KeyPair } = marque
const READ_MAIN = { tool: 'read_file', operation: 'read', resource: 'src/main.rs' }

test('a decision is a plain object with the core Decision JSON fields', () => {
  const { tc, verifier } = chain()
  const d = verifier.authorize(tc, { ...READ_MAIN, now: NOW + 10 })
  assert.equal(Object.getPrototypeOf(d), Object.prototype)
  assert.deepEqual(Object.keys(d), [
    'allowed', 'code', 'agent', 'path', 'agent_key_fingerprint', 'agent_key', 'principal', 'task', 'workspace', 'chain', 'chain_key_fingerprints',
    'policy', 'reasons', 'revocation_ids', 'request', 'time', 'expires_at', 'proof_verified',
  ])
  assert.equal(d.allowed, true)
  assert.equal(d.code, null)
  assert.equal(d.agent, 'agent:agent_c')
  assert.equal(d.path, '/root/agent_a/agent_c')
  assert.equal(d.principal, 'user:alice')
  assert.equal(d.task, 'fix-issue-42')
  assert.deepEqual(d.chain, ['agent:orchestrator', 'agent:agent_a', 'agent:agent_c'])
  assert.equal(d.policy, 'marque:rights')
  assert.deepEqual(d.reasons, [])
  assert.deepEqual(d.revocation_ids, tc.revocationIds)
  assert.deepEqual(d.request, READ_MAIN)
  assert.equal(d.time, NOW + 10)
  assert.equal(d.expires_at, NOW + 1800)
  // camelCase aliases (as in @marque/node), not enumerable: JSON stays the core's.
  assert.equal(d.agentKeyFingerprint, d.agent_key_fingerprint)
  assert.equal(d.agentKey, tc.holderKey.toHex())
  assert.deepEqual(d.revocationIds, d.revocation_ids)
  assert.equal(d.expiresAt, d.expires_at)
  assert.equal(d.proofVerified, false)
  assert.equal(d.tokenId, tc.revocationIds[2])
  assert.ok(!JSON.stringify(d).includes('revocationIds'))
})

test('token given as Token, base64 text or bytes: same decision', () => {
  const { tc, verifier } = chain()
  const opts = { ...READ_MAIN, now: NOW + 10 }
  const a = verifier.authorize(tc, opts)
  const b = verifier.authorize(tc.toBase64(), opts)
  const c = verifier.authorize(tc.toBytes(), opts)
  assert.deepEqual(a, b)
  assert.deepEqual(a, c)
})

test('denials are data with readable reasons', () => {
  const { tc, ta, t0, verifier } = chain()
  const d = verifier.authorize(tc, { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW + 10 })
  assert.equal(d.allowed, false)
  assert.equal(d.code, 'not_authorized')
  assert.ok(d.reasons.some((r) => r.includes('delegation 2')), d.reasons.join('\n'))
  assert.equal(verifier.authorize(ta, { tool: 'write_file', operation: 'write', resource: 'src/x', now: NOW + 10 }).allowed, false)
  assert.equal(verifier.authorize(t0, { tool: 'write_file', operation: 'write', resource: 'docs/x', now: NOW + 10 }).allowed, true)
  const late = verifier.authorize(tc, { ...READ_MAIN, now: NOW + 1801 })
  assert.equal(late.code, 'expired')
  assert.equal(verifier.authorize(tc, { ...READ_MAIN, now: new Date((NOW + 10) * 1000) }).allowed, true)
})

test('authorizeOrThrow throws the denial code', () => {
  const { tc, verifier } = chain()
  assert.equal(verifier.authorizeOrThrow(tc, { ...READ_MAIN, now: NOW + 10 }).allowed, true)
  throwsCode(() => verifier.authorizeOrThrow(tc, { ...READ_MAIN, resource: 'x', now: NOW + 10 }), 'not_authorized')
})

test('errors: unknown root, tampered token, no roots', () => {
  const { tc } = chain()
  // The token names its root by key id: another root is unknown, not a bad signature.
  const other = new Verifier({ rootKeys: [KeyPair.generate().publicKey] })
  throwsCode(() => other.authorize(tc, { ...READ_MAIN, now: NOW + 10 }), 'unknown_root_key')
  const two = new Verifier({ rootKeys: [KeyPair.generate().publicKey, KeyPair.generate().publicKey] })
  throwsCode(() => two.authorize(tc, { ...READ_MAIN, now: NOW + 10 }), 'unknown_root_key')
  const bytes = tc.toBytes()
  bytes[bytes.length >> 1] ^= 0x20
  const { verifier } = chain()
  assert.throws(() => verifier.authorize(bytes, { ...READ_MAIN, now: NOW + 10 }), (e) => e instanceof marque.MarqueError && ['invalid_signature', 'invalid_token'].includes(e.code))
  throwsCode(() => new Verifier({ rootKeys: [] }).authorize(tc, { ...READ_MAIN, now: NOW }), 'unknown_root_key')
})

test('root keys by key id, as any key input', () => {
  const { tc, root } = chain()
  const v = new Verifier({ rootKeys: { [String(tc.rootKeyId)]: root.publicKey.toPem() } })
  assert.equal(v.authorize(tc, { ...READ_MAIN, now: NOW + 10 }).allowed, true)
  throwsCode(() => new Verifier({ rootKeys: { abc: root.publicKey } }), 'invalid_argument')
  throwsCode(() => new Verifier({ rootKeys: 'x' }), 'invalid_argument')
  throwsCode(() => new Verifier({}), 'invalid_argument')
  throwsCode(() => new Verifier(), 'invalid_argument')
})

test('proofs: signed by the holder, bound to token and request, fresh, once', () => {
  const { tc, c, a, verifier } = chain()
  const proof = signProof(c, tc, { ...READ_MAIN, now: NOW })
  const d = verifier.authorize(tc, { ...READ_MAIN, proof, now: NOW + 5 })
  assert.equal(d.allowed, true)
  assert.equal(d.proof_verified, true)
  assert.equal(verifier.authorize(tc, { ...READ_MAIN, proof, now: NOW + 6 }).code, 'replayed_proof')
  const p2 = signProof(c, tc.toBase64(), { ...READ_MAIN, now: NOW })
  assert.equal(verifier.authorize(tc, { ...READ_MAIN, resource: 'src/lib.rs', proof: p2, now: NOW + 5 }).code, 'invalid_proof')
  const p3 = signProof(c, tc, { ...READ_MAIN, now: NOW })
  assert.equal(verifier.authorize(tc, { ...READ_MAIN, proof: p3, now: NOW + 120 }).code, 'invalid_proof')
  throwsCode(() => signProof(a, tc, { ...READ_MAIN, now: NOW }), 'wrong_holder_key')
  const strict = new Verifier({ rootKeys: [key('root').publicKey], requireProof: true })
  assert.equal(strict.authorize(tc, { ...READ_MAIN, now: NOW + 5 }).code, 'invalid_proof')
  const p4 = signProof(c, tc, { ...READ_MAIN, now: new Date(NOW * 1000) })
  assert.equal(strict.authorize(tc, { ...READ_MAIN, proof: p4, now: NOW + 5 }).allowed, true)
})

test('revocation: a hop and below, agents, principals, tasks; shareable', () => {
  const { ta, tc, t0 } = chain()
  const opts = { ...READ_MAIN, now: NOW + 10 }
  const mk = () => new Verifier({ rootKeys: [key('root').publicKey] })
  let v = mk()
  v.revoke(tc.revocationIds[1])
  assert.equal(v.authorize(tc, opts).code, 'revoked')
  assert.equal(v.authorize(ta, opts).code, 'revoked')
  assert.equal(v.authorize(t0, opts).allowed, true, 'the parent stays valid')
  v = mk()
  v.revokeAgent('agent:agent_c')
  assert.equal(v.authorize(tc, opts).code, 'revoked')
  assert.equal(v.authorize(ta, opts).allowed, true)
  v = mk()
  v.revokePrincipal('user:alice')
  assert.equal(v.authorize(t0, opts).code, 'revoked')
  v.revokeTask('fix-issue-42')
  const set = v.revocations
  assert.deepEqual(set, { ids: [], agents: [], principals: ['user:alice'], tasks: ['fix-issue-42'] })
  const w = mk()
  w.mergeRevocations(JSON.stringify(set))
  assert.equal(w.authorize(t0, opts).code, 'revoked')
  throwsCode(() => w.mergeRevocations({ nope: [] }), 'invalid_argument')
  throwsCode(() => w.revoke(5), 'invalid_argument')
})

test('limits: configurable, typed errors', () => {
  const { tc } = chain()
  const v = new Verifier({ rootKeys: [key('root').publicKey], limits: { maxTokenBytes: 100 } })
  assert.equal(v.limits.maxTokenBytes, 100)
  assert.equal(v.limits.maxTimeMicros, 50000)
  assert.equal(new Verifier({ rootKeys: [key('root').publicKey], limits: { verifiedCacheCapacity: 0 } }).limits.verifiedCacheCapacity, 0)
  assert.equal(new Verifier({ rootKeys: [key('root').publicKey], limits: { prefixCacheCapacity: 0 } }).limits.prefixCacheCapacity, 0)
  assert.equal(v.limits.prefixCacheCapacity, 4096)
  throwsCode(() => v.authorize(tc, { ...READ_MAIN, now: NOW + 10 }), 'limits_exceeded')
  const big = new Verifier({ rootKeys: [key('root').publicKey] })
  throwsCode(() => big.authorize(tc, { ...READ_MAIN, resource: 'x'.repeat(5000), now: NOW + 10 }), 'limits_exceeded')
  throwsCode(() => new Verifier({ rootKeys: [key('root').publicKey], limits: { maxTokenByte: 1 } }), 'invalid_argument')
})

test('user policies run before the rights policy', () => {
  const { tc } = chain()
  const v = new Verifier({
    rootKeys: [key('root').publicKey],
    policies: [{ id: 'no-main', source: 'deny if resource("src/main.rs");' }],
  })
  const d = v.authorize(tc, { ...READ_MAIN, now: NOW + 10 })
  assert.equal(d.allowed, false)
  assert.equal(d.policy, 'no-main')
  throwsCode(() => new Verifier({ rootKeys: [key('root').publicKey], policies: [{ id: 'x', source: 'right("*","*","*");' }] }), 'invalid_argument')
})

test('attributes reach policies', () => {
  const { tc } = chain()
  const v = new Verifier({ rootKeys: [key('root').publicKey], policies: [{ id: 'ip', source: 'deny if attribute("ip", "10.0.0.1");' }] })
  assert.equal(v.authorize(tc, { ...READ_MAIN, now: NOW + 10, attributes: { ip: '10.0.0.1' } }).policy, 'ip')
  assert.equal(v.authorize(tc, { ...READ_MAIN, now: NOW + 10, attributes: { ip: '10.0.0.2' } }).allowed, true)
  throwsCode(() => v.authorize(tc, { ...READ_MAIN, attributes: { ip: 1 } }), 'invalid_argument')
})

test('verify: signatures and structure only', () => {
  const { tc, verifier } = chain()
  assert.equal(verifier.verify(tc.toBase64()).agent, 'agent:agent_c')
  throwsCode(() => new Verifier({ rootKeys: [KeyPair.generate().publicKey] }).verify(tc), 'unknown_root_key')
})

test('regex policies: ASCII patterns work; patterns this build cannot compile are refused, never silently ignored', () => {
  const { tc, root } = chain()
  const mk = (source) => new Verifier({ rootKeys: [root.publicKey], policies: [{ id: 'p', source }] })
  const v = mk('deny if resource($r), $r.matches("^src/[a-z]+\\\\.rs$");')
  assert.equal(v.authorize(tc, { ...READ_MAIN, now: NOW + 10 }).policy, 'p')
  // The wasm module is built without Unicode tables: a `deny if` using them would never deny.
  throwsCode(() => mk('deny if resource($r), $r.matches("\\\\p{L}");'), 'invalid_argument')
  throwsCode(() => mk('deny if resource($r), $r.matches("(unclosed");'), 'invalid_argument')
  // regex-lite reads \w \d \s \b and (?i) as ASCII where native builds are Unicode-aware:
  // refused rather than decide differently on non-ASCII input.
  for (const p of ['^\\\\w+$', '\\\\d', '\\\\bx', '(?i)secret']) {
    assert.throws(() => mk(`deny if resource($r), $r.matches("${p}");`), (e) => e.code === 'invalid_argument' && /ASCII only/.test(e.message), p)
  }
  assert.equal(mk('deny if resource($r), $r.matches("^src/[A-Za-z0-9_]+[.]rs$");').authorize(tc, { ...READ_MAIN, now: NOW + 10 }).policy, 'p')
})
