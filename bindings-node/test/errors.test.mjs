import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { marque, keys, scenario, verifier, thrown, NOW } from './helpers.mjs'

const { MarqueError, ERROR_CODES, KeyPair, PublicKey, Token, Verifier, mint, signProof } = marque

test('ERROR_CODES is the core list, frozen', () => {
  assert.deepEqual(ERROR_CODES, marque.errorCodes())
  assert.ok(Object.isFrozen(ERROR_CODES))
  for (const c of ['invalid_token', 'invalid_signature', 'unknown_root_key', 'expired', 'revoked', 'not_authorized', 'invalid_proof', 'replayed_proof', 'depth_exceeded', 'attenuation_widens', 'limits_exceeded', 'invalid_key', 'invalid_jwt', 'audit_chain_broken', 'wrong_holder_key', 'sealed', 'invalid_argument', 'internal']) {
    assert.ok(ERROR_CODES.includes(c), c)
  }
})

test('the ErrorCode union in index.d.ts lists exactly ERROR_CODES', async () => {
  const { readFileSync } = await import('node:fs')
  const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')
  const union = dts.slice(dts.indexOf('export type ErrorCode ='), dts.indexOf('export declare const ERROR_CODES'))
  assert.deepEqual([...union.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]), [...ERROR_CODES])
})

test('errors are real Errors: instanceof, name, code, message, stack', () => {
  const e = thrown(() => KeyPair.fromHex('zz'))
  assert.ok(e instanceof Error)
  assert.ok(e instanceof MarqueError)
  assert.equal(e.name, 'MarqueError')
  assert.equal(e.code, 'invalid_key')
  assert.equal(typeof e.message, 'string')
  assert.ok(e.message.length > 0)
  assert.match(e.stack, /MarqueError/)
  assert.match(e.stack, /errors\.test\.mjs/)
  assert.equal(Object.prototype.toString.call(e), '[object Error]')
  const own = new MarqueError('expired', 'x')
  assert.equal(own.code, 'expired')
  assert.ok(own instanceof Error)
})

test('CommonJS and ESM share one MarqueError class', () => {
  const require = createRequire(import.meta.url)
  const cjs = require('../index.js')
  assert.equal(cjs.MarqueError, MarqueError)
  assert.ok(thrown(() => cjs.Token.fromBase64('!')) instanceof MarqueError)
})

test('wrong JS types become invalid_argument MarqueErrors', () => {
  const cases = [
    () => KeyPair.fromHex(5),
    () => PublicKey.fromBytes(42),
    () => mint(keys.root, null),
    () => mint(null, {}),
    () => mint(keys.orch.publicKey, { agent: 'agent:x', agentKey: keys.orch.publicKey, principal: 'p', rights: [], ttlSeconds: 1 }),
    () => new Verifier(),
    () => new Verifier({ rootKeys: 'abc' }),
    () => Verifier({ rootKeys: [] }),
    () => new Token(),
    () => verifier().authorize(scenario().c, { tool: 1, resource: 'x' }),
    () => verifier().authorize(scenario().c, { tool: 't', resource: 'x', now: 'yesterday' }),
    () => verifier().authorize(scenario().c, { tool: 't', resource: 'x', now: Infinity }),
    () => verifier().authorize({}, { tool: 't', resource: 'x' }),
    () => signProof(keys.agentC, scenario().c, { tool: 't' }),
    () => scenario().c.delegate(keys.agentC, { to: 'agent:x', toKey: 12 }),
    () => scenario().c.delegate({}, { to: 'agent:x', toKey: keys.other.publicKey }),
    () => PublicKey.fromJwk(42),
  ]
  for (const [i, fn] of cases.entries()) {
    const e = thrown(fn)
    assert.ok(e instanceof MarqueError, `case ${i}: ${e}`)
    assert.equal(e.code, 'invalid_argument', `case ${i}: ${e.message}`)
  }
})

test('every error code reachable from JS is raised with that code', () => {
  const { root, a, c } = scenario()
  const v = verifier()
  const read = { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW }
  const got = new Map()
  const hit = (code, fn) => got.set(code, thrown(fn).code)
  hit('invalid_token', () => Token.fromBase64('AAAA'))
  hit('invalid_signature', () => new Verifier({ rootKeys: { [String(c.rootKeyId)]: keys.other.publicKey } }).authorize(c, read))
  hit('unknown_root_key', () => new Verifier({ rootKeys: [keys.other.publicKey] }).authorize(c, read))
  hit('expired', () => v.authorizeOrThrow(c, { ...read, now: NOW + 10_000 }))
  hit('not_authorized', () => v.authorizeOrThrow(c, { ...read, resource: 'secrets' }))
  hit('invalid_proof', () => v.authorizeOrThrow(c, { ...read, proof: 'a.b' }))
  // (authorizeWithStore's failure path, synchronously: a store that could not answer.)
  hit('replay_store_unavailable', () => v.authorizeBegin(c, { ...read, proof: signProof(keys.agentC, c, { ...read }) }).fail('down'))
  hit('replayed_proof', () => {
    const proof = signProof(keys.agentC, c, { ...read })
    v.authorize(c, { ...read, proof })
    v.authorizeOrThrow(c, { ...read, proof })
  })
  hit('revoked', () => {
    const w = verifier()
    w.revokeAgent('agent:agent_c')
    w.authorizeOrThrow(c, read)
  })
  hit('depth_exceeded', () => {
    const t = mint(keys.root, { agent: 'agent:x', agentKey: keys.orch.publicKey, principal: 'p', rights: ['*'], ttlSeconds: 60, maxDepth: 0, now: NOW })
    t.delegate(keys.orch, { to: 'agent:y', toKey: keys.agentA.publicKey, now: NOW })
  })
  hit('attenuation_widens', () => a.delegate(keys.agentA, { to: 'agent:b', toKey: keys.other.publicKey, tools: ['deploy'] }))
  hit('limits_exceeded', () => v.authorize('A'.repeat(100_000), read))
  hit('invalid_key', () => PublicKey.fromHex('00'))
  hit('wrong_holder_key', () => root.delegate(keys.other, { to: 'agent:b', toKey: keys.other.publicKey }))
  hit('sealed', () => root.seal().delegate(keys.orch, { to: 'agent:b', toKey: keys.other.publicKey }))
  hit('invalid_argument', () => mint(keys.root, { agent: '', agentKey: keys.orch.publicKey, principal: 'p', rights: [], ttlSeconds: 1 }))
  hit('invalid_jwt', () => marque.jwtVerify('a.b.c', [keys.orch.publicKey]))
  hit('audit_chain_broken', () => {
    const log = new marque.AuditLog()
    log.append(keys.root, { event_type: 't', agent_id: 'agent:a', agent_key_fingerprint: '', principal: 'p', action: 'x', resource: 'r', decision: 'allow', policy_id: '', timestamp: NOW })
    marque.AuditLog.fromJsonl(log.toJsonl().replace('"r"', '"s"')).verifyOrThrow([keys.root.publicKey])
  })
  const operator = keys.other
  const list = (sequence, issuedAt) => marque.RevocationList.sign({}, { sequence, issuedAt, signer: operator })
  hit('revocation_list_stale', () => new Verifier({ rootKeys: [keys.root.publicKey], maxRevocationStaleness: 60 }).authorize(c, read))
  hit('revocation_list_invalid', () => marque.RevocationList.fromJson('{}'))
  hit('revocation_list_rollback', () => {
    const w = new Verifier({ rootKeys: [keys.root.publicKey], operatorKeys: [operator.publicKey] })
    w.loadRevocationList(list(2, NOW), { now: NOW })
    w.loadRevocationList(list(1, NOW), { now: NOW })
  })
  hit('invalid_request', () => v.authorize(c, { ...read, resource: 'src/../secrets/key' }))
  hit('signer_failed', () => mint({ publicKey: keys.root.publicKey, sign: () => new Uint8Array(64) }, { agent: 'agent:x', agentKey: keys.orch.publicKey, principal: 'p', rights: ['*'], ttlSeconds: 60 }))
  hit('approval_required', () => {
    const w = new Verifier({ rootKeys: [keys.root.publicKey], approvers: { 'user:alice': keys.other.publicKey }, approvalRules: ['read_file:*:src/'] })
    w.authorizeOrThrow(c, read)
  })
  hit('budget_exhausted', () => {
    const budgeted = c.delegate(keys.agentC, { to: 'agent:d', toKey: keys.other.publicKey, maxCalls: 1, now: NOW })
    const w = verifier()
    w.authorizeOrThrow(budgeted, read)
    w.authorizeOrThrow(budgeted, read)
  })
  for (const [want, code] of got) assert.equal(code, want)
  // Not reachable from the public API: internal (an invariant failure).
  const unreachable = ['internal']
  assert.deepEqual([...ERROR_CODES].filter((c) => !got.has(c)).sort(), unreachable.filter((c) => ERROR_CODES.includes(c) && !got.has(c)).sort())
})

function describe(v) {
  try {
    return typeof v === 'symbol' ? 'a symbol' : String(v).slice(0, 40)
  } catch {
    return Object.prototype.toString.call(v)
  }
}

// Deterministic PRNG so failures reproduce.
function rng(seed) {
  let s = seed >>> 0
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32)
}

function hostileValues(rand, validToken) {
  const str = (n) => Array.from({ length: n }, () => String.fromCharCode(Math.floor(rand() * 0x3000))).join('')
  const bytes = (n) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256))
  const cyclic = {}
  cyclic.self = cyclic
  const throwing = { get tool() { throw new Error('getter boom') } }
  const mutated = Buffer.from(validToken.toBytes())
  mutated[Math.floor(rand() * mutated.length)] ^= 1 << Math.floor(rand() * 8)
  return [
    undefined, null, 0, -1, NaN, Infinity, 2 ** 64, 1.5, true, '', ' ', str(8), str(300), '='.repeat(5), 'A'.repeat(30_000),
    bytes(0), bytes(31), bytes(32), bytes(64), bytes(2000), mutated, mutated.toString('base64url'), Buffer.from(str(20)),
    new Float64Array(4), new ArrayBuffer(8), [], [1, 2], ['a'], {}, { kty: 'OKP' }, { kty: 'OKP', crv: 'Ed25519', x: str(43) }, cyclic, throwing,
    Symbol('s'), () => 1, new Date(NaN), new Date(), new Map(), Promise.resolve(), 10n, Object.create(null), keys.orch, keys.orch.publicKey, validToken,
    { tool: str(5), resource: str(5) }, { tool: 'read_file', resource: 'src/x', operation: 1 }, { tool: 'read_file', resource: 'x', proof: str(50) },
    { agent: str(10), agentKey: str(64), principal: str(3), rights: [str(3)], ttlSeconds: rand() * 1e6 },
    { to: str(5), toKey: bytes(32), tools: [str(2)], resourcePrefix: str(3) },
    { rootKeys: [bytes(32)] }, { rootKeys: { 1: str(64) } }, { rootKeys: [keys.root.publicKey], policies: [{ id: str(3), source: str(40) }] },
    { rootKeys: [keys.root.publicKey], limits: { maxFacts: rand() * -10 } },
    { publicKey: keys.orch.publicKey, sign: () => bytes(64) }, { publicKey: str(64), sign: () => str(3) }, { publicKey: keys.orch.publicKey, sign: () => { throw cyclic } },
    { get publicKey() { throw new Error('getter boom') }, sign: () => bytes(64) }, { publicKey: keys.orch.publicKey, sign: async () => bytes(64) },
    { keys: [{ kty: 'OKP', crv: 'Ed25519', x: str(43) }] }, { keys: [bytes(3)] },
    { agents: [str(4)], ids: [str(64)] }, { sequence: rand() * 1e6, signer: keys.orch, issuedAt: rand() * 1e9 }, { sequence: -1, signer: {} },
    { now: NOW }, { type: 'marque-revocation-list', v: 1, issuer: str(64), issued_at: 1, sequence: 1, revoked: {}, sig: str(86) },
  ]
}

test('fuzz: every entry point answers hostile input with a MarqueError or a value, never a crash', async () => {
  const { c } = scenario()
  const v = verifier()
  const rand = rng(0xc0ffee)
  const entryPoints = [
    (x) => KeyPair.fromHex(x), (x) => KeyPair.fromPem(x), (x) => KeyPair.fromSeed(x), (x) => KeyPair.fromJwk(x),
    (x) => PublicKey.fromHex(x), (x) => PublicKey.fromPem(x), (x) => PublicKey.fromBytes(x), (x) => PublicKey.fromJwk(x),
    (x) => PublicKey.fromDid(x), (x) => PublicKey.parse(x), (x) => keys.orch.publicKey.verify(x, x), (x) => keys.orch.sign(x),
    (x) => keys.orch.publicKey.equals(x),
    (x) => Token.fromBase64(x), (x) => Token.fromBytes(x),
    (x) => mint(keys.root, x), (x) => mint(x, x),
    (x) => c.delegate(keys.agentC, x), (x) => c.delegate(x, { to: 'agent:x', toKey: x }),
    (x) => new Verifier(x), (x) => v.authorize(x, { tool: 'read_file', resource: 'src/lib.rs', now: NOW }), (x) => v.authorize(c, x),
    (x) => v.authorizeOrThrow(x, x), (x) => v.verify(x), (x) => v.revoke(x), (x) => v.revokeAgent(x), (x) => v.revokePrincipal(x),
    (x) => v.revokeTask(x), (x) => v.mergeRevocations(x),
    (x) => signProof(keys.agentC, x, { tool: 't', resource: 'r' }), (x) => signProof(keys.agentC, c, x), (x) => signProof(x, c, x),
    (x) => marque.jwtIssue(keys.orch, x), (x) => marque.jwtIssue(x, { exp: 1 }, x), (x) => marque.jwtVerify(x, [keys.orch.publicKey]),
    (x) => marque.jwtVerify('a.b.c', x, x), (x) => new marque.AuditLog().append(keys.root, x), (x) => marque.AuditLog.fromJsonl(x).verify([keys.root.publicKey]),
    (x) => new marque.AuditLog().verify(x, x), (x) => marque.Envelope.fromJson(x), (x) => new marque.AuditLog().appendDecision(keys.root, x),
    (x) => new marque.AuditLog().append(x, x), (x) => marque.jwtIssue(x, { exp: 1 }), (x) => signProof(x, c, { tool: 't', resource: 'r' }),
    (x) => marque.RevocationList.fromJson(x), (x) => marque.RevocationList.sign(x, x), (x) => marque.RevocationList.sign({}, { sequence: 1, signer: x }),
    (x) => v.loadRevocationList(x, x), (x) => v.loadRevocationList(x), (x) => v.addOperatorKey(x), (x) => v.setMaxRevocationStaleness(x),
    (x) => marque.Verifier.fromJwks(x, x), (x) => marque.parseJwks(x), (x) => marque.toJwks(x), (x) => new Verifier({ rootKeys: [keys.root.publicKey], operatorKeys: x, maxRevocationStaleness: x }),
  ]
  let calls = 0
  let errors = 0
  for (let round = 0; round < 4; round++) {
    for (const value of hostileValues(rand, c)) {
      for (const fn of entryPoints) {
        calls++
        try {
          fn(value)
        } catch (e) {
          errors++
          assert.ok(e instanceof MarqueError, `${fn} on ${describe(value)}: ${e && e.stack}`)
          assert.ok(ERROR_CODES.includes(e.code), e.code)
          assert.ok(e.stack)
        }
      }
      // The async paths too.
      const asyncCalls = [
        v.authorizeAsync(value, { tool: 'read_file', resource: 'src/lib.rs', now: NOW }),
        marque.mintAsync(value, value),
        marque.jwtIssueAsync(value, { exp: 1 }),
        marque.signProofAsync(value, c, value),
        c.delegateAsync(value, { to: 'agent:x', toKey: keys.other.publicKey }),
        marque.RevocationList.signAsync({}, { sequence: 1, signer: value }),
      ]
      assert.ok(asyncCalls.every((p) => p instanceof Promise), 'async entry points never throw synchronously')
      for (const res of await Promise.all(asyncCalls.map((p) => p.then(() => null, (e) => e)))) {
        if (res) assert.ok(res instanceof MarqueError && ERROR_CODES.includes(res.code), String(res && res.stack))
      }
    }
  }
  assert.ok(calls > 5000)
  assert.ok(errors > calls / 2)
})
