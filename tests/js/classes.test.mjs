// What both packages do with their classes when misused, the same way: a class called without
// `new`, `new` on a class that has only static factories, `equals` given something that is not a
// key, a seed given as text. Each is a `MarqueError` with a stable code, never a silent result or
// a runtime-specific `TypeError` (bindings-wasm/pkg/errors.cjs `guardClasses`, shared).
// Runs against @marque/node and @marque/wasm.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque } from './marque.mjs'

const { AuditLog, KeyPair, McpConfig, MarqueError, PublicKey, RevocationList, Token, Verifier } = marque
const kp = (n) => KeyPair.fromSeed(new Uint8Array(32).fill(n))
const refused = (f, code) => assert.throws(f, (e) => e instanceof MarqueError && e.code === code, String(f))

test('a class called without new is refused', () => {
  for (const C of [KeyPair, PublicKey, Token, Verifier, AuditLog, McpConfig, RevocationList]) {
    refused(() => C(), 'invalid_argument')
  }
})

test('new on a class with only static factories is refused; the four with constructors construct', () => {
  for (const C of [KeyPair, PublicKey, Token, RevocationList]) refused(() => new C(), 'invalid_argument')
  assert.ok(new Verifier({ rootKeys: [kp(1).publicKey] }) instanceof Verifier)
  assert.ok(new AuditLog() instanceof AuditLog)
  assert.ok(new McpConfig() instanceof McpConfig)
  // Factories and instances made in Rust are still the classes' own.
  assert.ok(kp(1) instanceof KeyPair && kp(1).publicKey instanceof PublicKey)
})

test('PublicKey.equals takes any key input and refuses what is not a key', () => {
  const a = kp(1).publicKey
  assert.equal(a.equals(kp(1).publicKey), true)
  assert.equal(a.equals(kp(2).publicKey), false)
  assert.equal(a.equals(a.toHex()), true)
  assert.equal(a.equals(kp(2).publicKey.toHex()), false)
  for (const junk of [{}, null, undefined, 42]) refused(() => a.equals(junk), 'invalid_argument')
  refused(() => a.equals('not a key'), 'invalid_key')
})

test('a seed is bytes: text (even 64 hex digits) is refused', () => {
  refused(() => KeyPair.fromSeed('01'.repeat(32)), 'invalid_argument')
  refused(() => KeyPair.fromSeed('x'.repeat(32)), 'invalid_argument')
  assert.equal(KeyPair.fromSeed(new Uint8Array(32).fill(1)).publicKey.toHex(), kp(1).publicKey.toHex())
})

test('a key argument: a JWK-shaped object is judged as a key, any other object is the wrong argument', () => {
  const a = kp(1).publicKey
  const jwk = a.toJwk()
  assert.equal(a.equals(jwk), true)
  refused(() => a.equals({ ...jwk, crv: 'P-256' }), 'invalid_key')
  refused(() => a.equals({ kty: 'OKP', x: jwk.x }), 'invalid_argument')
  refused(() => a.equals([1, 2]), 'invalid_argument')
})
