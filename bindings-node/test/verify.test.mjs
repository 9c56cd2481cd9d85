import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, keys, scenario, verifier, thrown, NOW } from './helpers.mjs'

const { Verifier, Decision, signProof, MarqueError } = marque
const read = (resource, extra = {}) => ({ tool: 'read_file', operation: 'read', resource, now: NOW + 1, ...extra })

test('authorize accepts a Token, base64 text and raw bytes', () => {
  const { c } = scenario()
  const v = verifier()
  for (const tok of [c, c.toBase64(), c.toBytes()]) {
    const d = v.authorize(tok, read('src/lib.rs'))
    assert.ok(d instanceof Decision)
    assert.equal(d.allowed, true)
    assert.equal(d.code, null)
  }
})

test('an allowed decision carries the whole story', () => {
  const { c } = scenario()
  const d = verifier().authorize(c, read('src/lib.rs'))
  assert.equal(d.agent, 'agent:agent_c')
  assert.equal(d.path, '/root/agent_a/agent_c')
  assert.equal(d.agentKeyFingerprint, keys.agentC.publicKey.fingerprint)
  assert.equal(d.agentKey, keys.agentC.publicKey.toHex())
  assert.equal(d.principal, 'user:alice')
  assert.equal(d.task, 'fix-issue-42')
  assert.equal(d.workspace, 'acme/web')
  assert.deepEqual(d.chain, ['agent:orchestrator', 'agent:agent_a', 'agent:agent_c'])
  assert.equal(d.policy, 'marque:rights')
  assert.deepEqual(d.reasons, [])
  assert.deepEqual(d.revocationIds, c.revocationIds)
  assert.equal(d.tokenId, c.revocationIds[2])
  assert.deepEqual(d.request, { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', attributes: {} })
  assert.equal(d.time, NOW + 1)
  assert.equal(d.expiresAt, NOW + 600)
  assert.equal(d.proofVerified, false)
})

test('toJSON is the core JSON byte for byte', () => {
  const { c } = scenario()
  const v = verifier()
  for (const d of [v.authorize(c, read('src/lib.rs')), v.authorize(c, read('.env')), v.authorize(c, read('src/lib.rs', { attributes: { ip: '10.0.0.1' } }))]) {
    assert.equal(JSON.stringify(d), d.toJsonString())
    assert.deepEqual(Object.keys(d.toJSON()), ['allowed', 'code', 'agent', 'path', 'agent_key_fingerprint', 'agent_key', 'principal', 'task', 'workspace', 'chain', 'chain_key_fingerprints', 'policy', 'reasons', 'revocation_ids', 'request', 'time', 'expires_at', 'proof_verified'])
  }
})

test('a denial is a Decision naming the failed check', () => {
  const { c } = scenario()
  const d = verifier().authorize(c, read('src/main.rs'))
  assert.equal(d.allowed, false)
  assert.equal(d.code, 'not_authorized')
  assert.ok(d.reasons.some((r) => r.includes('src/lib.rs') && r.includes('agent:agent_a → agent:agent_c')), d.reasons.join('\n'))
})

test('expiry is a denial with code expired; now accepts a Date', () => {
  const { c } = scenario()
  const d = verifier().authorize(c, read('src/lib.rs', { now: new Date((NOW + 601) * 1000) }))
  assert.equal(d.allowed, false)
  assert.equal(d.code, 'expired')
})

test('authorizeOrThrow raises the denial code', () => {
  const { c } = scenario()
  const v = verifier()
  assert.equal(v.authorizeOrThrow(c, read('src/lib.rs')).allowed, true)
  const e = thrown(() => v.authorizeOrThrow(c, read('README.md')))
  assert.ok(e instanceof MarqueError)
  assert.equal(e.code, 'not_authorized')
  assert.equal(thrown(() => v.authorizeOrThrow(c, read('src/lib.rs', { now: NOW + 10_000 }))).code, 'expired')
})

test('tampered, foreign and unknown-root tokens throw', () => {
  const { c } = scenario()
  const bytes = Buffer.from(c.toBytes())
  bytes[bytes.length - 20] ^= 1
  const e = thrown(() => verifier().authorize(bytes, read('src/lib.rs')))
  assert.ok(['invalid_signature', 'invalid_token'].includes(e.code), e.code)
  // The token names its root key id; a verifier that does not know it says so.
  assert.equal(thrown(() => new Verifier({ rootKeys: [keys.other.publicKey] }).authorize(c, read('src/lib.rs'))).code, 'unknown_root_key')
  assert.equal(thrown(() => new Verifier({ rootKeys: [keys.other.publicKey, keys.agentA.publicKey] }).authorize(c, read('src/lib.rs'))).code, 'unknown_root_key')
  // The right key id bound to the wrong key: the root signature does not verify.
  const wrong = new Verifier({ rootKeys: { [String(c.rootKeyId)]: keys.other.publicKey } })
  assert.equal(thrown(() => wrong.authorize(c, read('src/lib.rs'))).code, 'invalid_signature')
  assert.equal(thrown(() => new Verifier({ rootKeys: [] }).authorize(c, read('src/lib.rs'))).code, 'unknown_root_key')
})

test('root keys by key id, for rotation', () => {
  const { c } = scenario()
  const kid = String(c.rootKeyId)
  const v = new Verifier({ rootKeys: { [kid]: keys.root.publicKey.toHex(), 7: keys.other.publicKey } })
  assert.equal(v.authorize(c, read('src/lib.rs')).allowed, true)
  assert.equal(thrown(() => new Verifier({ rootKeys: { 'not-a-number': keys.root.publicKey } })).code, 'invalid_argument')
})

test('revocation: hop, agent, principal, task', () => {
  const { root, a, c } = scenario()
  const check = (setup, tok, expected) => {
    const v = verifier()
    setup(v)
    const d = v.authorize(tok, read('src/lib.rs'))
    assert.equal(d.allowed, !expected, JSON.stringify(d))
    if (expected) assert.equal(d.code, 'revoked')
  }
  check((v) => v.revoke(a.revocationIds[1]), c, true)
  check((v) => v.revoke(c.revocationIds[2]), a, false) // a sibling/parent is unaffected
  check((v) => v.revoke(c.revocationIds[2].toUpperCase()), c, true)
  check((v) => v.revokeAgent('agent:agent_a'), c, true)
  check((v) => v.revokePrincipal('user:alice'), c, true)
  check((v) => v.revokeTask('fix-issue-42'), c, true)
  check((v) => v.revokeTask('other-task'), c, false)
  const v = verifier()
  v.revokeAgent('agent:x')
  v.revoke(root.revocationIds[0])
  assert.deepEqual(v.revocations, { ids: [root.revocationIds[0]], agents: ['agent:x'], principals: [], tasks: [], keys: [] })
  const w = verifier()
  w.mergeRevocations(v.revocations)
  w.mergeRevocations({ tasks: ['t'] })
  assert.deepEqual(w.revocations, { ids: [root.revocationIds[0]], agents: ['agent:x'], principals: [], tasks: ['t'], keys: [] })
  assert.equal(thrown(() => w.authorizeOrThrow(c, read('src/lib.rs'))).code, 'revoked')
})

test('proofs: valid once, bound to token and request, fresh', () => {
  const { a, c } = scenario()
  const v = verifier()
  const proof = signProof(keys.agentC, c, { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW })
  const ok = v.authorize(c, read('src/lib.rs', { proof }))
  assert.equal(ok.allowed, true)
  assert.equal(ok.proofVerified, true)
  const again = v.authorize(c, read('src/lib.rs', { proof }))
  assert.equal(again.allowed, false)
  assert.equal(again.code, 'replayed_proof')
  assert.equal(thrown(() => v.authorizeOrThrow(c, read('src/lib.rs', { proof }))).code, 'replayed_proof')
  const other = signProof(keys.agentC, c.toBase64(), { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW })
  assert.equal(v.authorize(c, read('src/other.rs', { proof: other })).code, 'invalid_proof')
  const stale = signProof(keys.agentC, c, { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW - 3600 })
  assert.equal(v.authorize(c, read('src/lib.rs', { proof: stale })).code, 'invalid_proof')
  assert.equal(thrown(() => v.authorizeOrThrow(c, read('src/lib.rs', { proof: 'x.y' }))).code, 'invalid_proof')
  assert.equal(thrown(() => signProof(keys.agentA, c, { tool: 'read_file', resource: 'src/lib.rs' })).code, 'wrong_holder_key')
  // A proof for the parent token does not work with the child token.
  const forA = signProof(keys.agentA, a, { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW })
  assert.equal(v.authorize(c, read('src/lib.rs', { proof: forA })).code, 'invalid_proof')
})

test('requireProof denies a bare token', () => {
  const { c } = scenario()
  const v = verifier({ requireProof: true })
  assert.equal(v.authorize(c, read('src/lib.rs')).code, 'invalid_proof')
})

test('policies: deny wins, id reported; facts are refused', () => {
  const { root } = scenario()
  const v = verifier({ policies: [{ id: 'no-tests-on-friday', source: 'deny if tool("run_tests"), attribute("day", "friday");' }] })
  const d = v.authorize(root, { tool: 'run_tests', resource: 'x', now: NOW, attributes: { day: 'friday' } })
  assert.equal(d.allowed, false)
  assert.equal(d.policy, 'no-tests-on-friday')
  assert.equal(v.authorize(root, { tool: 'run_tests', resource: 'x', now: NOW, attributes: { day: 'monday' } }).allowed, true)
  assert.equal(thrown(() => verifier({ policies: [{ id: 'p', source: 'right("*", "*", "*");' }] })).code, 'invalid_argument')
  assert.equal(thrown(() => verifier({ policies: [{ id: 'p', source: 'allow if ((' }] })).code, 'invalid_argument')
})

test('limits are configurable and typed', () => {
  const { c } = scenario()
  const v = verifier({ limits: { maxTokenBytes: 100, maxResourceBytes: 8 } })
  assert.equal(v.limits.maxTokenBytes, 100)
  assert.equal(v.limits.proofWindowSeconds, 60)
  assert.equal(thrown(() => v.authorize(c.toBytes(), read('src/lib.rs'))).code, 'limits_exceeded')
  assert.equal(thrown(() => verifier({ limits: { maxResourceBytes: 8 } }).authorize(c, read('src/lib.rs/very/long'))).code, 'limits_exceeded')
  assert.equal(thrown(() => verifier({ limits: { maxBlocks: 2 } }).authorize(c, read('src/lib.rs'))).code, 'limits_exceeded')
  assert.equal(thrown(() => verifier({ limits: { maxFacts: -1 } })).code, 'invalid_argument')
  assert.equal(verifier().limits.prefixCacheCapacity, 4096)
  const off = verifier({ limits: { prefixCacheCapacity: 0, verifiedCacheCapacity: 0 } })
  assert.equal(off.limits.prefixCacheCapacity, 0)
  assert.equal(off.authorize(c, read('src/lib.rs')).allowed, verifier().authorize(c, read('src/lib.rs')).allowed)
})

test('verify checks signatures only', () => {
  const { c } = scenario()
  assert.equal(verifier().verify(c.toBase64()).path, '/root/agent_a/agent_c')
  assert.equal(thrown(() => new Verifier({ rootKeys: { [String(c.rootKeyId)]: keys.other.publicKey } }).verify(c)).code, 'invalid_signature')
  assert.equal(thrown(() => new Verifier({ rootKeys: [keys.other.publicKey] }).verify(c)).code, 'unknown_root_key')
})

test('authorizeAsync: 100 concurrent calls, all correct', async () => {
  const { c } = scenario()
  // The Datalog time limit is wall-clock: on a loaded CI machine with four pool threads on two
  // cores, the default 20 ms can be hit; this test checks correctness, not speed.
  const v = verifier({ limits: { maxTimeMicros: 5_000_000 } })
  const jobs = Array.from({ length: 100 }, (_, i) => {
    const resource = i % 3 === 0 ? 'src/main.rs' : 'src/lib.rs'
    const withProof = i % 5 === 0
    const proof = withProof ? signProof(keys.agentC, c, { tool: 'read_file', operation: 'read', resource, now: NOW }) : undefined
    return v.authorizeAsync(i % 2 ? c : c.toBase64(), read(resource, { proof })).then((d) => ({ i, d, resource, withProof }))
  })
  const results = await Promise.all(jobs)
  assert.equal(results.length, 100)
  for (const { i, d, resource, withProof } of results) {
    assert.ok(d instanceof Decision)
    assert.equal(d.allowed, resource === 'src/lib.rs', `call ${i}`)
    assert.equal(d.proofVerified, withProof, `call ${i}`)
    assert.equal(d.request.resource, resource)
  }
  // Replays under concurrency: the same proof raced 20 times is accepted exactly once.
  const proof = signProof(keys.agentC, c, { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW })
  const raced = await Promise.all(Array.from({ length: 20 }, () => v.authorizeAsync(c, read('src/lib.rs', { proof }))))
  assert.equal(raced.filter((d) => d.allowed).length, 1)
  assert.equal(raced.filter((d) => d.code === 'replayed_proof').length, 19)
})

test('authorizeAsync rejects (never throws synchronously) with MarqueError', async () => {
  const v = verifier()
  const p1 = v.authorizeAsync('!!!', read('x'))
  assert.ok(p1 instanceof Promise)
  await assert.rejects(p1, (e) => e instanceof MarqueError && e.code === 'invalid_token' && typeof e.stack === 'string')
  await assert.rejects(v.authorizeAsync(42, read('x')), (e) => e instanceof MarqueError && e.code === 'invalid_argument')
  await assert.rejects(v.authorizeAsync(scenario().c, { tool: 'read_file', resource: 'x', now: -1 }), (e) => e.code === 'invalid_argument')
  const other = new Verifier({ rootKeys: [keys.other.publicKey] })
  await assert.rejects(other.authorizeAsync(scenario().c, read('src/lib.rs')), (e) => e instanceof MarqueError && e.code === 'unknown_root_key')
})
