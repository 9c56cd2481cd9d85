import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, keys, thrown } from './helpers.mjs'

const { KeyPair, PublicKey, MarqueError } = marque
// RFC 8032, test 1.
const SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'
const PUB = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'
const SIG = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'

test('KeyPair hex round trip and RFC 8032 vector', () => {
  const kp = KeyPair.fromHex(SEED)
  assert.equal(kp.toHex(), SEED)
  assert.equal(kp.publicKey.toHex(), PUB)
  assert.equal(Buffer.from(kp.sign(new Uint8Array())).toString('hex'), SIG)
  kp.publicKey.verify('', Buffer.from(SIG, 'hex'))
  assert.equal(thrown(() => kp.publicKey.verify('x', Buffer.from(SIG, 'hex'))).code, 'invalid_signature')
  assert.ok(KeyPair.fromSeed(Buffer.from(SEED, 'hex')).publicKey.equals(kp.publicKey))
})

test('KeyPair PEM and JWK round trips; generate is random', () => {
  const kp = KeyPair.generate()
  assert.match(kp.toPem(), /^-----BEGIN PRIVATE KEY-----/)
  assert.equal(KeyPair.fromPem(kp.toPem()).toHex(), kp.toHex())
  assert.equal(KeyPair.fromJwk(kp.toJwk()).toHex(), kp.toHex())
  assert.notEqual(KeyPair.generate().toHex(), kp.toHex())
})

test('a KeyPair never prints its secret', () => {
  const kp = KeyPair.fromHex(SEED)
  for (const s of [String(kp), JSON.stringify(kp), require_inspect(kp)]) {
    assert.ok(!s.includes(SEED), s)
  }
  assert.deepEqual(JSON.parse(JSON.stringify(kp)), { publicKey: PUB })
})

function require_inspect(v) {
  return `${v}` + JSON.stringify(Object.keys(v))
}

test('PublicKey formats round trip', () => {
  const pk = PublicKey.fromHex(PUB)
  assert.equal(pk.toHex(), PUB)
  assert.equal(PublicKey.fromPem(pk.toPem()).toHex(), PUB)
  assert.match(pk.toPem(), /^-----BEGIN PUBLIC KEY-----/)
  const jwk = pk.toJwk()
  assert.deepEqual(Object.keys(jwk).sort(), ['crv', 'kid', 'kty', 'x'])
  assert.equal(jwk.kty, 'OKP')
  assert.equal(jwk.crv, 'Ed25519')
  assert.equal(jwk.kid, pk.fingerprint)
  assert.equal(PublicKey.fromJwk(jwk).toHex(), PUB)
  assert.equal(PublicKey.fromJwk(JSON.stringify(jwk)).toHex(), PUB)
  assert.match(pk.toDid(), /^did:key:z6Mk/)
  assert.equal(PublicKey.fromDid(pk.toDid()).toHex(), PUB)
  assert.equal(PublicKey.fromBytes(pk.toBytes()).toHex(), PUB)
  for (const text of [PUB, `ed25519/${PUB}`, pk.toPem(), JSON.stringify(jwk), pk.toDid()]) {
    assert.equal(PublicKey.parse(text).toHex(), PUB)
  }
  assert.match(pk.fingerprint, /^ed25519:[0-9a-f]{16}$/)
  assert.equal(String(pk), PUB)
  assert.equal(JSON.stringify({ k: pk }), `{"k":"${PUB}"}`)
})

test('a private JWK is refused where a public key is expected', () => {
  const e = thrown(() => PublicKey.fromJwk(KeyPair.fromHex(SEED).toJwk()))
  assert.ok(e instanceof MarqueError)
  assert.equal(e.code, 'invalid_key')
})

test('bad keys are invalid_key', () => {
  for (const bad of ['', 'zz', 'abcd', '00'.repeat(33), 'did:key:zzzz', '{', '-----BEGIN PUBLIC KEY-----']) {
    assert.equal(thrown(() => PublicKey.parse(bad)).code, 'invalid_key', bad)
  }
  assert.equal(thrown(() => PublicKey.fromBytes(new Uint8Array(31))).code, 'invalid_key')
  assert.equal(thrown(() => KeyPair.fromHex('12')).code, 'invalid_key')
  assert.equal(thrown(() => KeyPair.fromPem('nope')).code, 'invalid_key')
  assert.equal(thrown(() => KeyPair.fromSeed(new Uint8Array(5))).code, 'invalid_key')
})

test('fixtures are deterministic', () => {
  assert.equal(keys.root.toHex(), '01'.repeat(32))
})
