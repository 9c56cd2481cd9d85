// AuditLog / Envelope and jwtIssue / jwtVerify against the shared vectors
// (tests/vectors/audit.json, jwt.json) byte for byte, plus the Decision -> audit mapping.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { marque, chain, throwsCode, NOW } from './helpers.mjs'

const { AuditLog, Envelope, KeyPair, jwtIssue, jwtVerify } = marque
const audit = JSON.parse(readFileSync(new URL('../../tests/vectors/audit.json', import.meta.url), 'utf8'))
const jwt = JSON.parse(readFileSync(new URL('../../tests/vectors/jwt.json', import.meta.url), 'utf8'))

test('audit: appending the vector events reproduces the vector log byte for byte', () => {
  const signer = KeyPair.fromHex(audit.signer_seed_hex)
  const log = new AuditLog()
  audit.events.forEach((event, i) => {
    const env = log.append(signer, event)
    assert.equal(env.toJson(), audit.envelopes[i].json)
    assert.equal(env.digest, audit.envelopes[i].digest)
    assert.equal(env.prev, audit.envelopes[i].prev)
    assert.equal(env.seq, audit.envelopes[i].seq)
    assert.equal(env.signer.toHex(), audit.signer_public_hex)
    assert.deepEqual(env.event, JSON.parse(audit.envelopes[i].json).event)
  })
  assert.equal(log.toJsonl(), audit.jsonl)
  assert.equal(log.head, audit.head)
  assert.equal(log.length, audit.events.length)
  const env = Envelope.fromJson(audit.envelopes[0].json)
  env.verify(audit.trusted_public_hex)
  throwsCode(() => env.verify([KeyPair.generate().publicKey]), 'invalid_signature')
  assert.deepEqual(JSON.parse(JSON.stringify(env.otelAttributes())), audit.envelopes[0].otel_attributes)
})

for (const c of audit.verify) {
  test(`audit vector: ${c.name}`, () => {
    const log = AuditLog.fromJsonl(c.jsonl)
    const opts = c.expected_head ? { expectedHead: c.expected_head } : undefined
    const r = log.verify(audit.trusted_public_hex, opts)
    const got = { ok: r.ok, entries: r.entries, head: r.head, ...(r.problem ? { problem: { index: r.problem.index, kind: r.problem.kind } } : {}) }
    const want = { ...c.expected }
    if (want.problem) want.problem = { index: want.problem.index, kind: want.problem.kind }
    if (want.problem === null) delete want.problem
    assert.deepEqual(got, want)
    if (!r.ok) throwsCode(() => log.verifyOrThrow(audit.trusted_public_hex, opts), 'audit_chain_broken')
  })
}

test('audit: a decision is recorded with the core mapping', () => {
  const { tc, verifier } = chain()
  const d = verifier.authorize(tc, { tool: 'read_file', operation: 'read', resource: 'src/main.rs', now: NOW + 10 })
  const signer = KeyPair.generate()
  const log = new AuditLog()
  const env = log.appendDecision(signer, d)
  assert.equal(env.event.event_type, 'authorization')
  assert.equal(env.event.agent_id, 'agent:agent_c')
  assert.equal(env.event.decision, 'allow')
  assert.deepEqual(env.event.chain, d.chain)
  log.appendDecision(signer, verifier.authorize(tc, { tool: 'read_file', operation: 'read', resource: 'x', now: NOW + 10 }), 'tool_call')
  assert.equal(log.envelopes()[1].event.decision, 'deny')
  assert.equal(log.verify([signer.publicKey]).ok, true)
  throwsCode(() => log.append(signer, { nope: 1 }), 'invalid_argument')
  throwsCode(() => log.append('x', audit.events[0]), 'invalid_argument')
})

test('jwt: issuing the vector claims gives the vector token byte for byte', () => {
  for (const c of jwt.issue) {
    assert.equal(jwtIssue(KeyPair.fromHex(c.signer_seed_hex), c.claims, c.kid ? { kid: c.kid } : undefined), c.token)
  }
})

const keys = Object.fromEntries(jwt.verify_keys.map((k) => [k.kid, k.public_hex]))
const o = jwt.verify_options
for (const c of jwt.verify) {
  test(`jwt vector: ${c.name}`, () => {
    const opts = { audience: o.audience, leewaySeconds: o.leeway_seconds, maxSize: o.max_size, now: o.now }
    let got
    try {
      got = { claims: jwtVerify(c.token, keys, opts) }
    } catch (e) {
      assert.ok(e instanceof marque.MarqueError, String(e))
      got = { error: e.code }
    }
    if (got.claims) got.claims = JSON.parse(JSON.stringify(got.claims))
    assert.deepEqual(got, c.expected)
  })
}

test('jwt: round trip with key ids, audience and time', () => {
  const k = KeyPair.generate()
  const token = jwtIssue(k, { sub: 'agent:a', aud: 'tools', exp: NOW + 60, iat: NOW }, { kid: 'a' })
  assert.equal(jwtVerify(token, { a: k.publicKey }, { audience: 'tools', now: NOW }).sub, 'agent:a')
  throwsCode(() => jwtVerify(token, { a: k.publicKey }, { audience: 'other', now: NOW }), 'invalid_jwt')
  throwsCode(() => jwtVerify(token, { a: k.publicKey }, { audience: 'tools', now: new Date((NOW + 3600) * 1000) }), 'expired')
  throwsCode(() => jwtIssue(k, { sub: 'x' }), 'invalid_argument')
  throwsCode(() => jwtVerify(token, [k.publicKey], { audience: 'tools', now: NOW, typo: 1 }), 'invalid_argument')
})
