// Keys in operations (issue #7): pluggable signers (sync and async), signed fail-closed
// revocation lists, JWKS root keys. Mirrors core/tests/operations.rs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import * as marque from '../index.mjs'
import { thrownCode } from './helpers.mjs'

const { AuditLog, KeyPair, MarqueError, RevocationList, Token, Verifier, jwtIssue, jwtIssueAsync, jwtVerify, mint, mintAsync, parseJwks, signProof, signProofAsync, toJwks } = marque

const NOW = 1_767_225_600
const kp = (n) => KeyPair.fromHex(n.toString(16).padStart(2, '0').repeat(32))

/** A key behind an object, counting its calls (as a KMS client would be). */
function remote(key) {
  return {
    calls: 0,
    key,
    get publicKey() {
      return this.key.publicKey
    },
    sign(message) {
      assert.ok(message instanceof Uint8Array)
      this.calls++
      return this.key.sign(message)
    },
  }
}

/** The same, asynchronous: `sign` resolves later, after real I/O-like waiting. */
function remoteAsync(key, delayMs = 2) {
  return {
    calls: 0,
    publicKey: key.publicKey,
    async sign(message) {
      this.calls++
      await sleep(delayMs)
      return new Uint8Array(key.sign(message))
    },
  }
}

/** The ways a synchronous signer can misbehave. */
function liars(publicKey) {
  const other = kp(99)
  return [
    ['other key', { publicKey, sign: (m) => other.sign(m) }],
    ['zeros', { publicKey, sign: () => new Uint8Array(64) }],
    ['short', { publicKey, sign: () => new Uint8Array(10).fill(7) }],
    ['long', { publicKey, sign: () => new Uint8Array(65).fill(7) }],
    ['throws', { publicKey, sign: () => { throw new Error('hsm offline') } }],
    ['throws a string', { publicKey, sign: () => { throw 'hsm offline' } }],
    ['a string', { publicKey, sign: () => 'not bytes' }],
    ['a number array', { publicKey, sign: () => Array(64).fill(1) }],
    ['undefined', { publicKey, sign: () => undefined }],
    ['a Promise', { publicKey, sign: async (m) => kp(1).sign(m) }],
  ]
}

/** The ways an asynchronous signer can misbehave. */
function asyncLiars(publicKey) {
  const other = kp(99)
  return [
    ['other key', { publicKey, sign: async (m) => other.sign(m) }],
    ['zeros', { publicKey, sign: async () => new Uint8Array(64) }],
    ['short', { publicKey, sign: async () => new Uint8Array(3) }],
    ['rejects', { publicKey, sign: async () => { await sleep(1); throw new Error('kms unavailable') } }],
    ['rejects a string', { publicKey, sign: () => Promise.reject('kms unavailable') }],
    ['throws', { publicKey, sign: () => { throw new Error('kms unavailable') } }],
    ['resolves to a number', { publicKey, sign: async () => 42 }],
  ]
}

function params(agent, extra = {}) {
  return {
    agent: 'agent:orchestrator',
    agentKey: agent.publicKey,
    principal: 'user:alice',
    task: 't-1',
    rights: [{ tool: 'read_file', operation: 'read', resource: 'src/' }, { tool: 'deploy' }],
    ttlSeconds: 3600,
    now: NOW,
    ...extra,
  }
}

const read = (resource, extra = {}) => ({ tool: 'read_file', operation: 'read', resource, now: NOW, ...extra })

const code = thrownCode

async function rejection(promise) {
  try {
    await promise
  } catch (e) {
    assert.ok(e instanceof MarqueError, String(e))
    return e
  }
  assert.fail('expected a rejection')
}

const claims = () => ({ sub: 'agent:a', aud: 'svc', iat: NOW, exp: NOW + 60 })
const event = () => ({ event_type: 'tool_call', agent_id: 'agent:orchestrator', agent_key_fingerprint: '', principal: 'user:alice', action: 'read_file', resource: 'src/a', decision: 'allow', policy_id: '', timestamp: NOW })
const sameClaims = (t) => ({ agent: t.agent, path: t.path, principal: t.principal, task: t.task, rights: t.rights, issuedAt: t.issuedAt, expiresAt: t.expiresAt, chain: t.chain, rootKeyId: t.rootKeyId })

// ---- signers ----

test('mint and delegate with external signers', () => {
  const [root, orch, child] = [kp(1), kp(2), kp(3)]
  const rootSigner = remote(root)
  const token = mint(rootSigner, params(orch))
  assert.equal(rootSigner.calls, 1, 'the root signer signs the authority block once')
  assert.equal(token.rootKeyId, parseJwks(toJwks([root.publicKey]))[0].id, 'tokens carry the root key id')

  const verifier = new Verifier({ rootKeys: [root.publicKey] })
  assert.ok(verifier.authorize(token, read('src/a.rs')).allowed)
  assert.deepEqual(sameClaims(token), sameClaims(mint(root, params(orch))), 'only the signatures differ')
  assert.equal(code(() => new Verifier({ rootKeys: [kp(9).publicKey] }).authorize(token, read('src/a.rs'))), 'unknown_root_key')

  const orchSigner = remote(orch)
  const delegated = token.delegate(orchSigner, { to: 'agent:reader', toKey: child.publicKey, tools: ['read_file'], now: NOW })
  assert.equal(orchSigner.calls, 1)
  const d = verifier.authorize(delegated, read('src/a.rs'))
  assert.ok(d.allowed, d.reasons.join())
  assert.equal(d.chain.length, 2)
  assert.equal(verifier.authorize(delegated, { tool: 'deploy', operation: 'run', resource: 'prod', now: NOW }).allowed, false, 'the external hop narrows like a native one')
  const grandchild = delegated.delegate(child, { to: 'agent:gc', toKey: kp(4).publicKey, resourcePrefix: 'src/a.rs', now: NOW })
  assert.ok(verifier.authorize(grandchild, read('src/a.rs')).allowed)
  assert.equal(verifier.authorize(grandchild, read('src/a.rsx')).allowed, false, 'prefixes match on segment boundaries')

  // The holder check uses the signer's public key.
  assert.equal(code(() => token.delegate(remote(kp(7)), { to: 'agent:x', toKey: child.publicKey, now: NOW })), 'wrong_holder_key')
  // publicKey may be any key form; `this` is the signer object.
  const hexSigner = { publicKey: root.publicKey.toHex(), inner: root, sign(m) { return this.inner.sign(m) } }
  assert.ok(verifier.authorize(mint(hexSigner, params(orch)), read('src/a.rs')).allowed)
})

test('misbehaving signers never produce tokens, proofs, entries, JWTs or lists', () => {
  const [root, orch] = [kp(1), kp(2)]
  for (const [what, liar] of liars(root.publicKey)) {
    const e = (() => { try { mint(liar, params(orch)) } catch (e) { return e } })()
    assert.ok(e instanceof MarqueError, `${what}: ${e}`)
    assert.equal(e.code, 'signer_failed', `mint with a signer returning ${what}: ${e.message}`)
    if (what.startsWith('throws')) assert.match(e.message, /hsm offline/, 'the exception is reported')
    if (what === 'a Promise') assert.match(e.message, /async/)
  }
  const token = mint(root, params(orch))
  const d = new Verifier({ rootKeys: [root.publicKey] }).authorize(token, read('src/a'))
  for (const [what, liar] of liars(orch.publicKey)) {
    assert.equal(code(() => token.delegate(liar, { to: 'agent:c', toKey: kp(3).publicKey, now: NOW })), 'signer_failed', `delegate: ${what}`)
    assert.equal(code(() => signProof(liar, token, read('src/a'))), 'signer_failed', `proof: ${what}`)
    const log = new AuditLog()
    assert.equal(code(() => log.append(liar, event())), 'signer_failed', `audit: ${what}`)
    assert.equal(code(() => log.appendDecision(liar, d)), 'signer_failed', `audit decision: ${what}`)
    assert.equal(log.length, 0, 'nothing is appended when the signer fails')
    assert.equal(code(() => jwtIssue(liar, claims())), 'signer_failed', `jwt: ${what}`)
    assert.equal(code(() => d.toCompactJwt(liar, { issuerName: 'gw', audience: 'svc', ttlSeconds: 60 })), 'signer_failed', `decision jwt: ${what}`)
    assert.equal(code(() => RevocationList.sign({}, { sequence: 1, signer: liar, issuedAt: NOW })), 'signer_failed', `list: ${what}`)
  }
  // Not a signer at all: a typed argument error, before anything is signed.
  for (const bad of [{}, { publicKey: root.publicKey }, { sign: (m) => root.sign(m) }, { publicKey: root.publicKey, sign: 'x' }, 42, 'key']) {
    assert.equal(code(() => mint(bad, params(orch))), 'invalid_argument')
  }
  assert.equal(code(() => mint({ publicKey: 'zz', sign: (m) => root.sign(m) }, params(orch))), 'invalid_key')
})

test('proofs, audit entries, JWTs and decision JWTs with external signers', () => {
  const [root, orch] = [kp(1), kp(2)]
  const signer = remote(orch)
  const token = mint(root, params(orch))
  const proof = signProof(signer, token, read('src/a.rs'))
  const verifier = new Verifier({ rootKeys: [root.publicKey], requireProof: true })
  const d = verifier.authorize(token, read('src/a.rs', { proof }))
  assert.ok(d.allowed && d.proofVerified, d.reasons.join())

  const log = new AuditLog()
  log.append(signer, event())
  log.append(orch, event())
  log.appendDecision(signer, d)
  assert.ok(log.verify([orch.publicKey]).ok)
  assert.equal(log.length, 3)

  const jwt = jwtIssue(signer, claims(), { kid: 'k1' })
  assert.equal(jwtVerify(jwt, { k1: orch.publicKey }, { audience: 'svc', now: NOW }).sub, 'agent:a')
  assert.equal(jwt, jwtIssue(orch, claims(), { kid: 'k1' }), 'Ed25519 is deterministic')
  const before = signer.calls
  const jwt2 = d.toCompactJwt(signer, { issuerName: 'gateway', audience: 'svc', ttlSeconds: 60 })
  assert.equal(signer.calls, before + 1)
  const c = jwtVerify(jwt2, [orch.publicKey], { audience: 'svc', now: NOW })
  assert.equal(c.iss, 'gateway')
  assert.equal(c.sub, 'agent:orchestrator')
  // A denied decision is not exchanged.
  const denied = verifier.authorize(token, { tool: 'rm', resource: '/', now: NOW, proof: signProof(orch, token, { tool: 'rm', resource: '/', now: NOW }) })
  assert.equal(code(() => denied.toCompactJwt(signer, { issuerName: 'gw', audience: 'svc', ttlSeconds: 60 })), 'not_authorized')
})

test('a signer calling back into the log it signs for gets an error, not a corrupted log', () => {
  const orch = kp(2)
  const log = new AuditLog()
  const sneaky = { publicKey: orch.publicKey, sign: (m) => { log.toJsonl(); return orch.sign(m) } }
  const e = (() => { try { log.append(sneaky, event()) } catch (e) { return e } })()
  assert.equal(e.code, 'signer_failed')
  assert.match(e.message, /in use/)
  assert.equal(log.length, 0)
  log.append(orch, event())
  assert.ok(log.verify([orch.publicKey]).ok)
})

test('async variants: an AsyncSigner (Promise-returning sign) for every signing operation', async () => {
  const [root, orch, child] = [kp(1), kp(2), kp(3)]
  const rootKms = remoteAsync(root)
  const orchKms = remoteAsync(orch)
  const verifier = new Verifier({ rootKeys: [root.publicKey], requireProof: true })

  const token = await mintAsync(rootKms, params(orch))
  assert.ok(token instanceof Token)
  assert.equal(rootKms.calls, 1)
  assert.deepEqual(sameClaims(token), sameClaims(mint(root, params(orch))))
  const sub = await token.delegateAsync(orchKms, { to: 'agent:reader', toKey: child.publicKey, tools: ['read_file'], now: NOW })
  assert.deepEqual(sub.chain.map((h) => h.agent), ['agent:orchestrator', 'agent:reader'])
  const proof = await signProofAsync(remoteAsync(child), sub, read('src/a.rs'))
  const d = verifier.authorize(sub, read('src/a.rs', { proof }))
  assert.ok(d.allowed && d.proofVerified, d.reasons.join())

  const jwt = await jwtIssueAsync(orchKms, claims(), { kid: 'k1' })
  assert.equal(jwt, jwtIssue(orch, claims(), { kid: 'k1' }))
  const jwt2 = await d.toCompactJwtAsync(orchKms, { issuerName: 'gateway', audience: 'svc', ttlSeconds: 60 })
  assert.equal(jwt2, d.toCompactJwt(orch, { issuerName: 'gateway', audience: 'svc', ttlSeconds: 60 }))
  const list = await RevocationList.signAsync({ agents: ['agent:x'] }, { sequence: 4, signer: orchKms, issuedAt: NOW })
  assert.ok(list.equals(RevocationList.sign({ agents: ['agent:x'] }, { sequence: 4, signer: orch, issuedAt: NOW })))

  // A KeyPair, and a signer whose sign happens to be synchronous, work too.
  assert.ok(new Verifier({ rootKeys: [root.publicKey] }).authorize(await mintAsync(root, params(orch)), read('src/a.rs')).allowed)
  assert.equal(await jwtIssueAsync(remote(orch), claims()), jwtIssue(orch, claims()))
  assert.equal(await jwtIssueAsync(orch, claims()), jwtIssue(orch, claims()))

  // Many at once: the JS thread stays free while signers wait.
  const many = await Promise.all(Array.from({ length: 12 }, (_, i) => jwtIssueAsync(remoteAsync(orch, 5), { ...claims(), jti: String(i) })))
  assert.equal(new Set(many).size, 12)
})

test('async variants: misbehaving async signers reject with signer_failed', async () => {
  const [root, orch] = [kp(1), kp(2)]
  const token = mint(root, params(orch))
  const d = new Verifier({ rootKeys: [root.publicKey] }).authorize(token, read('src/a'))
  for (const [what, liar] of asyncLiars(root.publicKey)) {
    const e = await rejection(mintAsync(liar, params(orch)))
    assert.equal(e.code, 'signer_failed', `mintAsync with a signer that ${what}: ${e.message}`)
    if (what.startsWith('rejects') || what === 'throws') assert.match(e.message, /kms unavailable/)
  }
  for (const [what, liar] of asyncLiars(orch.publicKey)) {
    assert.equal((await rejection(token.delegateAsync(liar, { to: 'agent:c', toKey: kp(3).publicKey, now: NOW }))).code, 'signer_failed', what)
    assert.equal((await rejection(signProofAsync(liar, token, read('src/a')))).code, 'signer_failed', what)
    assert.equal((await rejection(jwtIssueAsync(liar, claims()))).code, 'signer_failed', what)
    assert.equal((await rejection(d.toCompactJwtAsync(liar, { issuerName: 'gw', audience: 'svc', ttlSeconds: 60 }))).code, 'signer_failed', what)
    assert.equal((await rejection(RevocationList.signAsync({}, { sequence: 1, signer: liar, issuedAt: NOW }))).code, 'signer_failed', what)
  }
  // Other errors keep their codes; bad arguments reject (never throw synchronously).
  assert.equal((await rejection(token.delegateAsync(remoteAsync(kp(7)), { to: 'agent:x', toKey: kp(3).publicKey, now: NOW }))).code, 'wrong_holder_key')
  assert.equal((await rejection(mintAsync({}, params(orch)))).code, 'invalid_argument')
  assert.equal((await rejection(mintAsync(root, { ...params(orch), agent: '' }))).code, 'invalid_argument')
})

// ---- signed revocation lists ----

const fleet = () => {
  const root = kp(1)
  const token = mint(root, params(kp(2)))
  return { root, operator: kp(50), token }
}

const fleetVerifier = (f, maxRevocationStaleness) =>
  new Verifier({ rootKeys: [f.root.publicKey], operatorKeys: [f.operator.publicKey], maxRevocationStaleness })

const sign = (revocations, sequence, issuedAt, signer) => RevocationList.sign(revocations, { sequence, issuedAt, signer })

test('revocation lists round trip and reject tampering', () => {
  const f = fleet()
  const set = { agents: ['agent:rogue'], ids: ['AB'.repeat(64)], principals: ['user:mallory'], tasks: ['task:leak'] }
  const list = sign(set, 3, NOW, f.operator)
  const json = list.toJson()
  const back = RevocationList.fromJson(json)
  assert.ok(back.equals(list))
  assert.equal(back.toJson(), json, 'canonical: serializes to the same text')
  assert.equal(RevocationList.fromJson(JSON.parse(json)).toJson(), json, 'the parsed object is accepted too')
  assert.deepEqual([back.sequence, back.issuedAt, back.issuer.toHex()], [3, NOW, f.operator.publicKey.toHex()])
  assert.deepEqual(back.revoked, { agents: ['agent:rogue'], ids: ['ab'.repeat(64)], principals: ['user:mallory'], tasks: ['task:leak'], keys: [] }, 'ids are normalized before signing')
  assert.equal(typeof back.signature, 'string')
  back.checkIssuer([f.operator.publicKey])
  assert.equal(code(() => back.checkIssuer([kp(51).publicKey])), 'revocation_list_invalid')
  // Signed through a Signer: the same bytes.
  assert.equal(sign(set, 3, NOW, remote(f.operator)).toJson(), json)

  for (const [from, to] of [['"sequence":3', '"sequence":4'], ['agent:rogue', 'agent:rogua'], [String(NOW), '1']]) {
    const forged = json.replace(from, to)
    assert.notEqual(forged, json)
    assert.equal(code(() => RevocationList.fromJson(forged)), 'invalid_signature', from)
  }
  assert.equal(code(() => RevocationList.fromJson(json.replace(f.operator.publicKey.toHex(), kp(51).publicKey.toHex()))), 'invalid_signature')
  for (const bad of [
    '[]',
    '{}',
    json.replace('"v":1', '"v":2'),
    json.replace('"type":"marque-revocation-list"', '"type":"other"'),
    json.replace('{', '{"extra":1,'),
    json.replace('"sequence":3', '"sequence":-3'),
    json.replace('"sequence":3', '"sequence":3.5'),
    json.replace('"sequence":3', '"sequence":9007199254740993'),
    '{"sig":"x"',
  ]) {
    assert.equal(code(() => RevocationList.fromJson(bad)), 'revocation_list_invalid', bad)
  }
  assert.ok(code(() => RevocationList.fromJson(json.replace('"sequence":3', '"sequence":3,"sequence":4'))))
  // Bad arguments when signing.
  assert.equal(code(() => sign({}, 1.5, NOW, f.operator)), 'invalid_argument')
  assert.equal(code(() => sign({}, -1, NOW, f.operator)), 'invalid_argument')
  assert.equal(code(() => sign({}, 2 ** 53, NOW, f.operator)), 'invalid_argument')
})

test('a verifier loads only trusted, forward-moving lists', () => {
  const f = fleet()
  const v = fleetVerifier(f)
  assert.equal(v.revocationList, null)
  const l5 = sign({ agents: ['agent:a'] }, 5, NOW, f.operator)
  assert.equal(v.loadRevocationList(l5, { now: NOW }), true)
  assert.equal(v.loadRevocationList(l5, { now: NOW }), false, 'the same list again is a no-op')
  assert.equal(v.revocationList.sequence, 5)

  assert.equal(code(() => v.loadRevocationList(sign({}, 6, NOW, kp(51)), { now: NOW })), 'revocation_list_invalid', 'untrusted operator')
  const l4 = sign({}, 4, NOW + 10, f.operator)
  const l5b = sign({}, 5, NOW, f.operator)
  const l6Old = sign({}, 6, NOW - 1, f.operator)
  for (const l of [l4, l5b, l6Old]) {
    assert.equal(code(() => v.loadRevocationList(l, { now: NOW + 10 })), 'revocation_list_rollback', `sequence ${l.sequence}`)
  }
  assert.ok(v.revocationList.equals(l5), 'a refused list changes nothing')
  const future = sign({}, 7, NOW + 301, f.operator)
  assert.equal(code(() => v.loadRevocationList(future, { now: NOW })), 'revocation_list_invalid')
  assert.equal(v.loadRevocationList(future, { now: new Date((NOW + 1) * 1000) }), true, 'within the skew it loads')
  // From JSON text or the parsed object, with the same checks.
  const l8 = sign({}, 8, NOW + 400, f.operator)
  assert.equal(v.loadRevocationList(l8.toJson(), { now: NOW + 400 }), true)
  assert.equal(code(() => v.loadRevocationList(l5.toJson(), { now: NOW + 400 })), 'revocation_list_rollback')
  assert.equal(code(() => v.loadRevocationList(JSON.parse(l5.toJson()), { now: NOW + 400 })), 'revocation_list_rollback')
  assert.equal(code(() => v.loadRevocationList(l8.toJson().replace('"sequence":8', '"sequence":9'), { now: NOW + 400 })), 'invalid_signature')
  // A verifier without operator keys trusts no list; one can be added.
  const bare = new Verifier({ rootKeys: [f.root.publicKey] })
  assert.equal(code(() => bare.loadRevocationList(l5, { now: NOW })), 'revocation_list_invalid')
  assert.deepEqual(bare.operatorKeys, [])
  bare.addOperatorKey(f.operator.publicKey.toHex())
  assert.equal(bare.operatorKeys[0].toHex(), f.operator.publicKey.toHex())
  assert.equal(bare.loadRevocationList(l5, { now: NOW }), true)
})

test('signed lists revoke before any Datalog runs, and a stale or missing list fails closed', () => {
  const f = fleet()
  const v = fleetVerifier(f, 600)
  assert.equal(v.maxRevocationStaleness, 600)
  const ok = read('src/a.rs')
  assert.equal(code(() => v.authorize(f.token, ok)), 'revocation_list_stale', 'no list yet: fail closed')
  assert.equal(code(() => v.checkRevocationListFresh({ now: NOW })), 'revocation_list_stale', 'no tool call either')
  v.loadRevocationList(sign({}, 1, NOW, f.operator), { now: NOW })
  v.checkRevocationListFresh({ now: NOW + 600 })
  assert.equal(code(() => v.checkRevocationListFresh({ now: NOW + 601 })), 'revocation_list_stale')
  assert.ok(v.authorize(f.token, { ...ok, now: NOW + 600 }).allowed)
  const e = (() => { try { v.authorize(f.token, { ...ok, now: NOW + 601 }) } catch (e) { return e } })()
  assert.equal(e.code, 'revocation_list_stale', 'older than the limit: fail closed')
  assert.match(e.message, /601/)
  // The async path fails closed too.
  return v.authorizeAsync(f.token, { ...ok, now: NOW + 601 }).then(
    () => assert.fail('expected revocation_list_stale'),
    (err) => {
      assert.equal(err.code, 'revocation_list_stale')
      // A newer list revoking the agent: denied as revoked before Datalog (the request is not
      // even covered by the token's rights).
      v.loadRevocationList(sign({ agents: ['agent:orchestrator'] }, 2, NOW + 601, f.operator), { now: NOW + 601 })
      const d = v.authorize(f.token, { tool: 'rm', operation: 'rf', resource: '/', now: NOW + 602 })
      assert.equal(d.code, 'revoked')
      assert.match(d.reasons[0], /agent:orchestrator/)
      assert.ok(v.revocationReason(f.token))
      // The next list lifts it (a list is the operator's whole current set).
      v.loadRevocationList(sign({}, 3, NOW + 700, f.operator), { now: NOW + 700 })
      assert.ok(v.authorize(f.token, { ...ok, now: NOW + 700 }).allowed)
      // Local revocations still apply beside the list.
      v.revokeTask('t-1')
      assert.equal(v.authorize(f.token, { ...ok, now: NOW + 700 }).code, 'revoked')
      // Turning the limit off: an old list still applies, but is never required.
      v.setMaxRevocationStaleness(null)
      assert.equal(v.maxRevocationStaleness, null)
      const relaxed = fleetVerifier(f)
      assert.ok(relaxed.authorize(f.token, ok).allowed)
      relaxed.loadRevocationList(sign({ agents: ['agent:orchestrator'] }, 2, NOW + 601, f.operator), { now: NOW + 601 })
      assert.equal(relaxed.authorize(f.token, { ...ok, now: NOW + 1_000_000 }).code, 'revoked')
      relaxed.setMaxRevocationStaleness(10)
      assert.equal(code(() => relaxed.authorize(f.token, { ...ok, now: NOW + 1_000_000 })), 'revocation_list_stale')
    },
  )
})

test('revocation lists revoke by block, principal and task', () => {
  const f = fleet()
  const v = fleetVerifier(f, 3600)
  const child = f.token.delegate(kp(2), { to: 'agent:c', toKey: kp(3).publicKey, now: NOW })
  v.loadRevocationList(sign({ ids: [child.revocationIds[1]] }, 1, NOW, f.operator), { now: NOW })
  assert.equal(v.authorize(child, read('src/a')).code, 'revoked')
  assert.ok(v.authorize(f.token, read('src/a')).allowed, 'the parent stays valid')
  for (const [n, set] of [[2, { principals: ['user:alice'] }], [3, { tasks: ['t-1'] }]]) {
    v.loadRevocationList(sign(set, n, NOW, f.operator), { now: NOW })
    assert.equal(v.authorize(f.token, read('src/a')).code, 'revoked', JSON.stringify(set))
  }
})

// ---- JWKS root key discovery ----

test('a verifier built from a JWKS document, and root key rotation', () => {
  const [oldRoot, newRoot, orch] = [kp(1), kp(11), kp(2)]
  const old = mint(oldRoot, params(orch))
  const fresh = mint(newRoot, params(orch))
  const explicit = mint(kp(12), params(orch, { rootKeyId: 7 }))

  const doc = toJwks({ [String(old.rootKeyId)]: oldRoot.publicKey, [String(fresh.rootKeyId)]: newRoot.publicKey, 7: kp(12).publicKey })
  assert.deepEqual(toJwks([oldRoot.publicKey]), toJwks({ [String(old.rootKeyId)]: oldRoot.publicKey }), 'a list uses derived ids')
  const parsed = parseJwks(doc)
  assert.equal(parsed.length, 3)
  const seven = parsed.find((k) => k.id === 7)
  assert.ok(seven.key.equals(kp(12).publicKey))
  assert.deepEqual(parseJwks(JSON.parse(doc)).map((k) => k.id), parsed.map((k) => k.id), 'the parsed object is accepted too')

  const v = Verifier.fromJwks(doc)
  assert.equal(v.rootKeys.length, 3)
  for (const t of [old, fresh, explicit]) assert.ok(v.authorize(t, read('src/a')).allowed)
  // Rotation: publish a document without the old key.
  v.setRootKeysFromJwks(JSON.parse(toJwks([newRoot.publicKey])))
  assert.equal(code(() => v.authorize(old, read('src/a'))), 'unknown_root_key')
  assert.ok(v.authorize(fresh, read('src/a')).allowed)
  // A bad document leaves the verifier as it was.
  assert.equal(code(() => v.setRootKeysFromJwks('{"keys":[]}')), 'invalid_key')
  assert.ok(v.authorize(fresh, read('src/a')).allowed)
  assert.deepEqual(v.rootKeys.map((k) => k.key.toHex()), [newRoot.publicKey.toHex()])

  // Options of fromJwks: the same as the constructor's, without rootKeys.
  const operator = kp(50)
  const strict = Verifier.fromJwks(toJwks([newRoot.publicKey]), { operatorKeys: [operator.publicKey], maxRevocationStaleness: 60, requireProof: true })
  assert.equal(code(() => strict.authorize(fresh, read('src/a'))), 'revocation_list_stale')
  strict.loadRevocationList(sign({}, 1, NOW, operator), { now: NOW })
  assert.equal(strict.authorize(fresh, read('src/a')).code, 'invalid_proof')
})

test('JWKS documents are checked', () => {
  const key = kp(1).publicKey
  const { x } = key.toJwk()
  const fp = key.fingerprint
  const derived = parseJwks(toJwks([key]))[0].id
  const doc = (...entries) => JSON.stringify({ keys: entries })
  const ok = [
    [doc({ kty: 'OKP', crv: 'Ed25519', x }), derived],
    [doc({ kty: 'OKP', crv: 'Ed25519', x, kid: fp, use: 'sig', alg: 'EdDSA' }), derived],
    [doc({ kty: 'OKP', crv: 'Ed25519', x, kid: '42' }), 42],
    [doc({ kty: 'RSA', n: 'AQAB', e: 'AQAB' }, { kty: 'OKP', crv: 'Ed25519', x }), derived],
  ]
  for (const [d, id] of ok) {
    const got = parseJwks(d)
    assert.equal(got.length, 1, d)
    assert.equal(got[0].id, id, d)
    assert.ok(got[0].key.equals(key))
  }
  const secret = kp(1).toJwk()
  const bad = [
    'not json',
    '{}',
    '{"keys":{}}',
    doc(),
    doc({ kty: 'RSA', n: 'AQAB', e: 'AQAB' }),
    doc({ kty: 'OKP', crv: 'Ed25519', x, use: 'enc' }),
    doc(secret),
    doc({ kty: 'OKP', crv: 'Ed25519', x, kid: 'ed25519:0000000000000000' }),
    doc({ kty: 'OKP', crv: 'Ed25519', x, kid: 'root-2026' }),
    doc({ kty: 'OKP', crv: 'Ed25519', x, kid: '99999999999' }),
    doc({ kty: 'OKP', crv: 'Ed25519', x, alg: 'ES256' }),
    doc({ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }),
    doc({ kty: 'OKP', crv: 'Ed25519', x, kid: '5' }, { kty: 'OKP', crv: 'Ed25519', x: kp(2).publicKey.toJwk().x, kid: '5' }),
  ]
  for (const d of bad) {
    for (const fn of [() => parseJwks(d), () => Verifier.fromJwks(d)]) {
      const e = (() => { try { fn() } catch (e) { return e } })()
      assert.ok(e instanceof MarqueError, d)
      assert.equal(e.code, 'invalid_key', `${d}: ${e.message}`)
      assert.ok(!e.message.includes(secret.d), 'no secret in errors')
    }
  }
  assert.equal(code(() => toJwks({ notanid: key })), 'invalid_argument')
})
