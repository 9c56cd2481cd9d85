// Hostile input: random strings, bytes, numbers, objects, Proxies and mutated tokens into every
// entry point. The only thing allowed out is a MarqueError with a known code (or a result):
// never a TypeError from the glue, a thrown string or `RuntimeError: unreachable`. Seeded, so a
// failure reproduces; MARQUE_FUZZ_ROUNDS raises the count.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, vectors, chain, NOW } from './helpers.mjs'

const ROUNDS = Number(process.env.MARQUE_FUZZ_ROUNDS ?? 300)
const { KeyPair, PublicKey, Token, Verifier, mint, signProof, MarqueError, ERROR_CODES } = marque

// xorshift32: reproducible.
let seed = 0x9e3779b9
function rnd(n) {
  seed ^= seed << 13
  seed >>>= 0
  seed ^= seed >>> 17
  seed ^= seed << 5
  seed >>>= 0
  return seed % n
}
const pick = (xs) => xs[rnd(xs.length)]

function randomBytes(n) {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = rnd(256)
  return b
}
function randomString() {
  const kinds = [
    () => String.fromCharCode(...Array.from({ length: rnd(80) }, () => rnd(0x7f))),
    () => String.fromCodePoint(...Array.from({ length: rnd(20) }, () => rnd(0x10ffff - 0xe000) + 0xe000)),
    () => Buffer.from(randomBytes(rnd(600))).toString('base64url'),
    () => Buffer.from(randomBytes(32)).toString('hex'),
    () => 'did:key:z6Mk' + 'A'.repeat(rnd(80)),
    () => '-----BEGIN PUBLIC KEY-----\n' + Buffer.from(randomBytes(rnd(60))).toString('base64') + '\n-----END PUBLIC KEY-----',
    () => '{"kty":"OKP","crv":"Ed25519","x":"' + Buffer.from(randomBytes(rnd(40))).toString('base64url') + '"}',
    () => 'x'.repeat(rnd(70_000)),
    () => '\u0000"\\\n',
    () => mutate(pick(Object.values(vectors.tokens))),
  ]
  return pick(kinds)()
}
function mutate(text) {
  const b = Buffer.from(text, 'base64url')
  const op = rnd(4)
  if (op === 0) b[rnd(b.length)] ^= 1 << rnd(8)
  else if (op === 1) return b.subarray(0, rnd(b.length)).toString('base64url')
  else if (op === 2) for (let i = 0; i < 8; i++) b[rnd(b.length)] = rnd(256)
  else return Buffer.concat([b, randomBytes(rnd(40))]).toString('base64url')
  return b.toString('base64url')
}
function throwingProxy() {
  return new Proxy({}, {
    get() { throw new Error('get trap') },
    ownKeys() { throw new Error('ownKeys trap') },
    getPrototypeOf() { throw new Error('getPrototypeOf trap') },
    has() { throw new Error('has trap') },
  })
}
function revokedProxy() {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}
function randomValue(depth = 0) {
  const kinds = [
    () => randomString(),
    () => randomBytes(rnd(100)),
    () => Uint8Array.from(Buffer.from(mutate(pick(Object.values(vectors.tokens))), 'base64url')),
    () => pick([0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 64, Number.MAX_VALUE, 1e-300, NOW]),
    () => pick([null, undefined, true, false, Symbol('s'), 10n, () => 1]),
    () => new Date(pick([NaN, 0, -1e20, 8.64e15, Date.now()])),
    () => throwingProxy(),
    () => revokedProxy(),
    () => ({ get tool() { throw new Error('getter') } }),
    () => ({ __clone: () => pick([42, null, {}, KeyPair.generate(), () => { throw new Error('x') }]) }),
    () => ({ __clone() { throw new Error('clone') } }),
    () => new Proxy(new Uint8Array(8), { get() { throw new Error('typed array proxy') } }),
    () => (depth < 2 ? Array.from({ length: rnd(5) }, () => randomValue(depth + 1)) : []),
    () => (depth < 2 ? randomOptions(depth + 1) : {}),
    () => pick([KeyPair.generate(), KeyPair.generate().publicKey, chain().tc]),
  ]
  return pick(kinds)()
}
const OPTION_KEYS = ['tool', 'operation', 'resource', 'proof', 'now', 'attributes', 'agent', 'agentKey', 'principal',
  'task', 'workspace', 'rights', 'ttlSeconds', 'maxDepth', 'rootKeyId', 'to', 'toKey', 'tools', 'operations',
  'resourcePrefix', 'rootKeys', 'policies', 'limits', 'requireProof', 'id', 'source', 'kty', 'crv', 'x', 'd',
  'sequence', 'signer', 'issuedAt', 'operatorKeys', 'maxRevocationStaleness', 'issuerName', 'audience', 'publicKey',
  'sign', 'keys', 'agents', 'ids']
function randomOptions(depth = 0) {
  const o = {}
  for (let i = rnd(6); i > 0; i--) o[pick(OPTION_KEYS)] = randomValue(depth + 1)
  return o
}

function expectOnlyMarqueErrors(label, fn) {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof MarqueError, `${label}: threw ${e?.constructor?.name}: ${e?.message ?? String(e)}`)
    assert.ok(ERROR_CODES.includes(e.code), `${label}: unknown code ${e.code}`)
    assert.notEqual(e.code, 'internal', `${label}: internal error ${e.message}`)
  }
}

test('every entry point: random arguments give results or MarqueErrors only', () => {
  const { tc, c, verifier } = chain()
  const kp = KeyPair.generate()
  const entry = [
    ['KeyPair.fromHex', (x) => KeyPair.fromHex(x)],
    ['KeyPair.fromSeed', (x) => KeyPair.fromSeed(x)],
    ['KeyPair.fromPem', (x) => KeyPair.fromPem(x)],
    ['KeyPair.fromJwk', (x) => KeyPair.fromJwk(x)],
    ['PublicKey.fromHex', (x) => PublicKey.fromHex(x)],
    ['PublicKey.fromBytes', (x) => PublicKey.fromBytes(x)],
    ['PublicKey.fromPem', (x) => PublicKey.fromPem(x)],
    ['PublicKey.fromJwk', (x) => PublicKey.fromJwk(x)],
    ['PublicKey.fromDid', (x) => PublicKey.fromDid(x)],
    ['PublicKey.parse', (x) => PublicKey.parse(x)],
    ['publicKey.equals', (x) => kp.publicKey.equals(x)],
    ['publicKey.verify', (x, y) => kp.publicKey.verify(x, y)],
    ['keyPair.sign', (x) => kp.sign(x)],
    ['Token.fromBase64', (x) => Token.fromBase64(x)],
    ['Token.fromBytes', (x) => Token.fromBytes(x)],
    ['mint', (x, y) => mint(x, y)],
    ['mint(root, random)', (x) => mint(kp, x)],
    ['token.delegate', (x, y) => tc.delegate(x, y)],
    ['token.delegate(holder, random)', (x) => tc.delegate(c, x)],
    ['signProof', (x, y, z) => signProof(x, y, z)],
    ['signProof(holder, random, random)', (x, y) => signProof(c, x, y)],
    ['new Verifier', (x) => new Verifier(x)],
    ['new Verifier({rootKeys})', (x) => new Verifier({ rootKeys: x })],
    ['new Verifier({limits})', (x) => new Verifier({ rootKeys: [kp.publicKey], limits: x })],
    ['new Verifier({policies})', (x) => new Verifier({ rootKeys: [kp.publicKey], policies: x })],
    ['verifier.authorize', (x, y) => verifier.authorize(x, y)],
    ['verifier.authorize(random token)', (x) => verifier.authorize(x, { tool: 'read_file', operation: 'read', resource: 'src/main.rs', now: NOW })],
    ['verifier.authorize(token, random)', (x) => verifier.authorize(tc, x)],
    ['verifier.authorize(proof)', (x) => verifier.authorize(tc, { tool: 'read_file', operation: 'read', resource: 'src/main.rs', proof: x, now: NOW })],
    ['verifier.authorizeOrThrow', (x, y) => verifier.authorizeOrThrow(x, y)],
    ['verifier.verify', (x) => verifier.verify(x)],
    ['verifier.revoke', (x) => new Verifier({ rootKeys: [kp.publicKey] }).revoke(x)],
    ['verifier.revokeAgent', (x) => new Verifier({ rootKeys: [kp.publicKey] }).revokeAgent(x)],
    ['verifier.mergeRevocations', (x) => new Verifier({ rootKeys: [kp.publicKey] }).mergeRevocations(x)],
    ['AuditLog.fromJsonl + verify', (x, y) => marque.AuditLog.fromJsonl(x).verify(y)],
    ['auditLog.append', (x, y) => new marque.AuditLog().append(x, y)],
    ['auditLog.appendDecision', (x, y) => new marque.AuditLog().appendDecision(kp, x, y)],
    ['Envelope.fromJson', (x) => marque.Envelope.fromJson(x)],
    ['jwtIssue', (x, y, z) => marque.jwtIssue(x, y, z)],
    ['jwtVerify', (x, y, z) => marque.jwtVerify(x, y, z)],
    ['jwtVerify(random token)', (x) => marque.jwtVerify(x, [kp.publicKey], { now: NOW })],
    // Keys in operations: signers, signed revocation lists, JWKS.
    ['mint(random signer object)', (x, y) => mint({ publicKey: x, sign: () => y }, { agent: 'agent:a', agentKey: kp.publicKey, principal: 'u', rights: ['x'], ttlSeconds: 60 })],
    ['mint(signer returning random)', (x) => mint({ publicKey: kp.publicKey, sign: () => x }, { agent: 'agent:a', agentKey: kp.publicKey, principal: 'u', rights: ['x'], ttlSeconds: 60 })],
    ['signProof(signer throwing random)', (x) => signProof({ publicKey: c.publicKey, sign() { throw x } }, tc, { tool: 't', resource: 'r' })],
    ['RevocationList.sign', (x, y) => marque.RevocationList.sign(x, y)],
    ['RevocationList.sign(random signer)', (x) => marque.RevocationList.sign({}, { sequence: 1, signer: x })],
    ['RevocationList.fromJson', (x) => marque.RevocationList.fromJson(x)],
    ['verifier.loadRevocationList', (x, y) => new Verifier({ rootKeys: [kp.publicKey], operatorKeys: [kp.publicKey] }).loadRevocationList(x, y)],
    ['new Verifier({operatorKeys, maxRevocationStaleness})', (x, y) => new Verifier({ rootKeys: [kp.publicKey], operatorKeys: x, maxRevocationStaleness: y })],
    ['Verifier.fromJwks', (x, y) => Verifier.fromJwks(x, y)],
    ['verifier.setRootKeysFromJwks', (x) => new Verifier({ rootKeys: [kp.publicKey] }).setRootKeysFromJwks(x)],
    ['parseJwks', (x) => marque.parseJwks(x)],
    ['toJwks', (x) => marque.toJwks(x)],
    ['decision.toCompactJwt', (x, y) => verifier.authorize(tc, { tool: 'read_file', operation: 'read', resource: 'src/main.rs', now: NOW + 1 }).toCompactJwt(x, y)],
  ]
  for (let i = 0; i < ROUNDS; i++) {
    for (const [label, fn] of entry) {
      const args = [randomValue(), randomValue(), randomValue()]
      expectOnlyMarqueErrors(`${label} (round ${i})`, () => fn(...args))
    }
  }
  // The module is still healthy.
  const d = verifier.authorize(tc, { tool: 'read_file', operation: 'read', resource: 'src/main.rs', now: NOW + 1 })
  assert.equal(d.allowed, true)
})

test('mutated vector tokens: decisions or MarqueErrors, never an allow for a changed token', () => {
  const verifier = new Verifier({ rootKeys: [vectors.root.public_hex] })
  const original = vectors.tokens.agent_c
  let allowed = 0
  for (let i = 0; i < ROUNDS * 10; i++) {
    const text = mutate(original)
    try {
      const d = verifier.authorize(text, { tool: 'read_file', operation: 'read', resource: 'src/main.rs', now: NOW + 10 })
      // Only a mutation outside the signed content may pass: base64 padding bits, or the root
      // key id (an unsigned hint: an unknown id makes the verifier try every trusted root).
      if (d.allowed) {
        allowed++
        assert.deepEqual(d.revocation_ids, marque.Token.fromBase64(original).revocationIds)
      }
    } catch (e) {
      assert.ok(e instanceof MarqueError, String(e))
      assert.notEqual(e.code, 'internal', e.message)
    }
  }
  assert.ok(allowed < ROUNDS, `${allowed} mutations were allowed`)
})

test('calling a method with a foreign `this` or on a freed object is a MarqueError or a clear TypeError, never a trap', () => {
  const kp = KeyPair.generate()
  const pk = kp.publicKey
  pk.free()
  for (const fn of [() => pk.toHex(), () => KeyPair.prototype.toHex.call({}), () => Token.prototype.toBase64.call(null)]) {
    try {
      fn()
    } catch (e) {
      assert.ok(!(e instanceof WebAssembly.RuntimeError), `trap: ${e}`)
      assert.ok(e instanceof Error, String(e))
    }
  }
  assert.match(kp.toHex(), /^[0-9a-f]{64}$/, 'the module is still healthy')
})
