// The shared vectors (tests/vectors/tokens.json), byte for byte: every case reaches the core's
// decision fields or error code.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, vectors } from './helpers.mjs'

test('vector keys match their public halves', () => {
  assert.equal(marque.KeyPair.fromHex(vectors.root.seed_hex).publicKey.toHex(), vectors.root.public_hex)
  for (const [name, k] of Object.entries(vectors.keys)) {
    assert.equal(marque.KeyPair.fromHex(k.seed_hex).publicKey.toHex(), k.public_hex, name)
  }
})

test('vector tokens round-trip byte for byte (deliberately broken ones fail with the error their case expects)', () => {
  for (const [name, text] of Object.entries(vectors.tokens)) {
    if (name === 'tampered') continue // bit-flipped: still parses, fails its signature check
    let t
    try {
      t = marque.Token.fromBase64(text)
    } catch (e) {
      assert.ok(e instanceof marque.MarqueError, name)
      assert.ok(vectors.cases.some((c) => c.token === name && c.expect.error === e.code), `${name}: ${e.code}`)
      continue
    }
    assert.equal(t.toBase64(), text, name)
    assert.equal(marque.Token.fromBytes(t.toBytes()).toBase64(), text, name)
  }
})

for (const c of vectors.cases) {
  test(`vector case: ${c.name}`, () => {
    const verifier = new marque.Verifier({ rootKeys: [vectors.keys[c.root].public_hex] })
    if (c.revocations) verifier.mergeRevocations(c.revocations)
    const options = { ...c.request, now: c.now, ...(c.proof ? { proof: c.proof } : {}) }
    let got
    try {
      const d = verifier.authorize(vectors.tokens[c.token], options)
      got = { allowed: d.allowed, code: d.code, agent: d.agent, path: d.path, chain: d.chain, policy: d.policy }
    } catch (e) {
      assert.ok(e instanceof marque.MarqueError, String(e))
      got = { error: e.code }
    }
    assert.deepEqual(got, c.expect)
  })
}

test('the vectors cover every outcome', () => {
  const outcomes = new Set(vectors.cases.map((c) => c.expect.error ?? c.expect.code ?? 'allowed'))
  for (const o of ['allowed', 'not_authorized', 'expired', 'revoked', 'invalid_proof', 'unknown_root_key', 'invalid_signature']) {
    assert.ok(outcomes.has(o), o)
  }
})
