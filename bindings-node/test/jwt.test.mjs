import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, keys, thrown, NOW } from './helpers.mjs'

const { jwtIssue, jwtVerify, MarqueError } = marque
const claims = {
  iss: 'https://orchestrator.example',
  sub: 'agent:reviewer',
  aud: 'https://tools.example',
  iat: NOW,
  exp: NOW + 300,
  act: { sub: 'agent:reviewer', act: { sub: 'agent:orchestrator' } },
  scope: 'read_file',
  task: 'fix-issue-42',
}
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')

test('issue and verify (list of keys, key id map, Date)', () => {
  const token = jwtIssue(keys.orch, claims, { kid: 'k1' })
  assert.equal(token.split('.').length, 3)
  assert.deepEqual(JSON.parse(Buffer.from(token.split('.')[0], 'base64url')), { alg: 'EdDSA', kid: 'k1', typ: 'JWT' })
  assert.equal(jwtIssue(keys.orch, claims, { kid: 'k1' }), token, 'issuing is deterministic')
  const got = jwtVerify(token, { k1: keys.orch.publicKey }, { audience: 'https://tools.example', now: NOW + 10 })
  assert.equal(got.sub, 'agent:reviewer')
  assert.equal(got.task, 'fix-issue-42')
  assert.deepEqual(got.act, claims.act)
  assert.equal(jwtVerify(jwtIssue(keys.orch, JSON.stringify(claims)), [keys.orch.publicKey.toHex()], { audience: 'https://tools.example', now: new Date((NOW + 10) * 1000) }).exp, NOW + 300)
})

test('strictness: expiry, audience, issuer, alg none, HS256, embedded jwk, wrong key, size', () => {
  const token = jwtIssue(keys.orch, claims, { kid: 'k1' })
  const ks = { k1: keys.orch.publicKey }
  const aud = { audience: 'https://tools.example', now: NOW + 10 }
  const code = (fn) => thrown(fn).code
  assert.equal(code(() => jwtVerify(token, ks, { ...aud, now: NOW + 1000 })), 'expired')
  assert.equal(code(() => jwtVerify(token, ks, { now: NOW + 10 })), 'invalid_jwt')
  assert.equal(code(() => jwtVerify(token, ks, { ...aud, audience: 'https://other' })), 'invalid_jwt')
  assert.equal(code(() => jwtVerify(token, ks, { ...aud, issuer: 'https://mallory' })), 'invalid_jwt')
  assert.equal(code(() => jwtVerify(token, { k1: keys.other.publicKey }, aud)), 'invalid_jwt')
  const [, payload, sig] = token.split('.')
  assert.equal(code(() => jwtVerify(`${b64({ alg: 'none' })}.${payload}.`, ks, aud)), 'invalid_jwt')
  assert.equal(code(() => jwtVerify(`${b64({ alg: 'HS256', kid: 'k1' })}.${payload}.${sig}`, ks, aud)), 'invalid_jwt')
  assert.equal(code(() => jwtVerify(`${b64({ alg: 'EdDSA', kid: 'k1', jwk: keys.other.publicKey.toJwk() })}.${payload}.${sig}`, ks, aud)), 'invalid_jwt')
  assert.equal(code(() => jwtVerify('x'.repeat(20_000), ks, aud)), 'limits_exceeded')
  assert.equal(code(() => jwtVerify(token, ks, { ...aud, require: ['jti'] })), 'invalid_jwt')
  // No exp: refused when issuing, and a hand-made one is refused when verifying.
  assert.equal(code(() => jwtIssue(keys.orch, { sub: 'x' })), 'invalid_argument')
  const noExp = `${b64({ alg: 'EdDSA' })}.${b64({ sub: 'x', aud: 'https://tools.example' })}`
  const noExpSig = Buffer.from(keys.orch.sign(noExp)).toString('base64url')
  assert.equal(code(() => jwtVerify(`${noExp}.${noExpSig}`, [keys.orch.publicKey], aud)), 'invalid_jwt')
  assert.equal(code(() => jwtIssue(keys.orch, [1, 2])), 'invalid_argument')
  assert.equal(code(() => jwtIssue(keys.orch, { n: 1.5e300 ** 2 })), 'invalid_argument')
  for (const bad of ['', '.', 'a.b.c', '....']) assert.ok(thrown(() => jwtVerify(bad, ks, aud)) instanceof MarqueError)
})
