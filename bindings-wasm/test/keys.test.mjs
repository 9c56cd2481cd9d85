// KeyPair / PublicKey: every format of API.md, fingerprints, secrets never printed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, throwsCode } from './helpers.mjs'

const { KeyPair, PublicKey } = marque
// RFC 8032 test 1.
const SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'
const PUB = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'

test('hex round trip and the RFC 8032 public key', () => {
  const kp = KeyPair.fromHex(SEED)
  assert.equal(kp.toHex(), SEED)
  assert.equal(kp.publicKey.toHex(), PUB)
  assert.ok(kp.publicKey instanceof PublicKey)
  assert.equal(PublicKey.fromHex(PUB).toHex(), PUB)
  assert.equal(PublicKey.fromHex(`ed25519/${PUB}`).toHex(), PUB)
  assert.equal(KeyPair.fromSeed(Uint8Array.from(Buffer.from(SEED, 'hex'))).toHex(), SEED)
  assert.deepEqual([...PublicKey.fromBytes(kp.publicKey.toBytes()).toBytes()], [...Buffer.from(PUB, 'hex')])
})

test('generate gives distinct keys from the JS CSPRNG', () => {
  const a = KeyPair.generate()
  const b = KeyPair.generate()
  assert.notEqual(a.toHex(), b.toHex())
  assert.match(a.toHex(), /^[0-9a-f]{64}$/)
})

test('PEM: PKCS#8 private, SPKI public', () => {
  const kp = KeyPair.fromHex(SEED)
  const pem = kp.toPem()
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----/)
  assert.equal(KeyPair.fromPem(pem).toHex(), SEED)
  const spki = kp.publicKey.toPem()
  assert.match(spki, /^-----BEGIN PUBLIC KEY-----/)
  assert.equal(PublicKey.fromPem(spki).toHex(), PUB)
  throwsCode(() => KeyPair.fromPem(spki), 'invalid_key')
})

test('JWK (RFC 8037): public, private, objects and JSON text', () => {
  const kp = KeyPair.fromHex(SEED)
  const jwk = kp.publicKey.toJwk()
  assert.deepEqual(jwk, { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: kp.publicKey.fingerprint })
  assert.equal(PublicKey.fromJwk(jwk).toHex(), PUB)
  assert.equal(PublicKey.fromJwk(JSON.stringify(jwk)).toHex(), PUB)
  const priv = kp.toJwk()
  assert.equal(typeof priv.d, 'string')
  assert.equal(KeyPair.fromJwk(priv).toHex(), SEED)
  throwsCode(() => PublicKey.fromJwk(priv), 'invalid_key', 'a private JWK is refused where a public key is expected')
  throwsCode(() => PublicKey.fromJwk({ kty: 'EC', crv: 'P-256', x: 'AA' }), 'invalid_key')
  throwsCode(() => PublicKey.fromJwk({ kty: 1 }), 'invalid_key')
})

test('did:key and fingerprint', () => {
  const pk = PublicKey.fromHex(PUB)
  const did = pk.toDid()
  assert.match(did, /^did:key:z6Mk/)
  assert.equal(PublicKey.fromDid(did).toHex(), PUB)
  assert.equal(PublicKey.parse(did).toHex(), PUB)
  assert.match(pk.fingerprint, /^ed25519:[0-9a-f]{16}$/)
  assert.equal(pk.fingerprint, PublicKey.parse(pk.toPem()).fingerprint)
  assert.ok(pk.equals(PUB))
  assert.ok(pk.equals(PublicKey.fromDid(did)))
  assert.ok(!pk.equals(KeyPair.generate().publicKey))
  assert.throws(() => pk.equals(42), { code: 'invalid_argument' }) // not a key: refused, never a silent false
})

test('sign and verify (strict)', () => {
  const kp = KeyPair.fromHex(SEED)
  const sig = kp.sign('hello')
  assert.equal(sig.length, 64)
  kp.publicKey.verify('hello', sig)
  kp.publicKey.verify(new TextEncoder().encode('hello'), sig)
  throwsCode(() => kp.publicKey.verify('hellO', sig), 'invalid_signature')
  throwsCode(() => kp.publicKey.verify('hello', sig.slice(1)), 'invalid_signature')
})

test('secrets are never printed', () => {
  const kp = KeyPair.fromHex(SEED)
  assert.ok(!String(kp).includes(SEED))
  assert.ok(!JSON.stringify(kp).includes(SEED))
  assert.deepEqual(JSON.parse(JSON.stringify(kp)), { publicKey: PUB })
  assert.equal(JSON.stringify(kp.publicKey), JSON.stringify(PUB))
})

test('bad keys are invalid_key', () => {
  for (const bad of ['', 'zz', 'abcd', '00'.repeat(33), 'did:key:zzzz', '{', '-----BEGIN PUBLIC KEY-----']) {
    throwsCode(() => PublicKey.parse(bad), 'invalid_key', JSON.stringify(bad))
  }
  // The identity point is a small-order key.
  throwsCode(() => PublicKey.fromHex('01' + '00'.repeat(31)), 'invalid_key')
  throwsCode(() => KeyPair.fromHex('12'), 'invalid_key')
  throwsCode(() => KeyPair.fromSeed(new Uint8Array(31)), 'invalid_key')
})

test('wrong argument types are invalid_argument', () => {
  throwsCode(() => KeyPair.fromHex(42), 'invalid_argument')
  throwsCode(() => KeyPair.fromSeed('00'), 'invalid_argument')
  throwsCode(() => PublicKey.fromBytes([1, 2, 3]), 'invalid_argument')
  throwsCode(() => PublicKey.parse(undefined), 'invalid_argument')
})

test('a key passed as an argument stays usable', () => {
  const root = KeyPair.generate()
  const pk = root.publicKey
  const v1 = new marque.Verifier({ rootKeys: [pk] })
  const v2 = new marque.Verifier({ rootKeys: [pk] })
  assert.ok(v1 && v2)
  assert.match(pk.toHex(), /^[0-9a-f]{64}$/)
  marque.mint(root, { agent: 'agent:x', agentKey: pk, principal: 'user:a', rights: ['t'], ttlSeconds: 5 })
  assert.match(root.toHex(), /^[0-9a-f]{64}$/)
})
