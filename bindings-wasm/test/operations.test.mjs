// Keys in operations (issue #7), mirroring core/tests/operations.rs: signers that keep the key
// elsewhere (`{ publicKey, sign }`), signed fail-closed revocation lists, JWKS root keys.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, throwsCode } from './helpers.mjs'

const { KeyPair, Verifier, RevocationList, AuditLog, mint, signProof, jwtIssue, jwtVerify, parseJwks, toJwks } = marque
const NOW = 1_767_225_600

const kp = (n) => KeyPair.fromSeed(new Uint8Array(32).fill(n))

/** A key behind a function, counting its calls (as a KMS client would be). */
function remote(key, calls = { n: 0 }) {
  return {
    publicKey: key.publicKey,
    sign(message) {
      assert.ok(message instanceof Uint8Array)
      calls.n++
      return key.sign(message)
    },
  }
}

/** The ways a signer can misbehave: each must be `signer_failed`. */
function liars(publicKey) {
  const other = kp(99)
  const s = (sign) => ({ publicKey, sign })
  return [
    ['other key', s((m) => other.sign(m))],
    ['zeros', s(() => new Uint8Array(64))],
    ['short', s(() => new Uint8Array(10).fill(7))],
    ['long', s(() => new Uint8Array(65).fill(7))],
    ['throws', s(() => { throw new Error('hsm offline') })],
    ['throws a string', s(() => { throw 'kms said no' })],
    ['a string', s(() => 'not bytes')],
    ['an array', s(() => Array(64).fill(1))],
    ['nothing', s(() => undefined)],
    ['a Promise', s(async (m) => kp(1).sign(m))],
  ]
}

const params = (agent, extra = {}) => ({
  agent: 'agent:orchestrator',
  agentKey: agent.publicKey,
  principal: 'user:alice',
  task: 't-1',
  rights: ['read_file:read:src/', 'deploy'],
  ttlSeconds: 3600,
  now: NOW,
  ...extra,
})
const read = (resource, now = NOW) => ({ tool: 'read_file', operation: 'read', resource, now })

test('mint and delegate with external signers', () => {
  const [root, orch, child] = [kp(1), kp(2), kp(3)]
  const rootCalls = { n: 0 }
  const token = mint(remote(root, rootCalls), params(orch))
  assert.equal(rootCalls.n, 1, 'the root signer signs the authority block once')
  const verifier = new Verifier({ rootKeys: [root.publicKey] })
  assert.equal(verifier.authorize(token, read('src/a.rs')).allowed, true)
  // The same claims as a token minted with the in-memory key: only the signatures differ.
  const claims = (t) => {
    const j = t.inspect()
    delete j.revocation_ids
    return j
  }
  assert.deepEqual(claims(token), claims(mint(root, params(orch))))
  throwsCode(() => new Verifier({ rootKeys: [kp(9).publicKey] }).authorize(token, read('src/a.rs')), 'unknown_root_key')

  const orchCalls = { n: 0 }
  const delegated = token.delegate(remote(orch, orchCalls), { to: 'agent:reader', toKey: child.publicKey, tools: ['read_file'], now: NOW })
  assert.equal(orchCalls.n, 1)
  const d = verifier.authorize(delegated, read('src/a.rs'))
  assert.equal(d.allowed, true, d.reasons.join('\n'))
  assert.equal(d.chain.length, 2)
  assert.equal(verifier.authorize(delegated, { tool: 'deploy', operation: 'run', resource: 'prod', now: NOW }).allowed, false,
    'the external hop narrows like a native one')
  // A second hop from the external-signed one, natively.
  const grandchild = delegated.delegate(child, { to: 'agent:gc', toKey: kp(4).publicKey, resourcePrefix: 'src/a.rs', now: NOW })
  assert.equal(verifier.authorize(grandchild, read('src/a.rs')).allowed, true)
  assert.equal(verifier.authorize(grandchild, read('src/a.rsx')).allowed, false, 'prefixes match on segment boundaries')
  // The holder check uses the signer's public key.
  throwsCode(() => token.delegate(remote(kp(7)), { to: 'agent:x', toKey: child.publicKey, now: NOW }), 'wrong_holder_key')
})

test('misbehaving signers never produce tokens, proofs, entries, JWTs or lists', () => {
  const [root, orch] = [kp(1), kp(2)]
  for (const [what, liar] of liars(root.publicKey)) {
    throwsCode(() => mint(liar, params(orch)), 'signer_failed', `mint with a signer returning ${what}`)
  }
  const token = mint(root, params(orch))
  const allowed = new Verifier({ rootKeys: [root.publicKey] }).authorize(token, read('src/a'))
  for (const [what, liar] of liars(orch.publicKey)) {
    throwsCode(() => token.delegate(liar, { to: 'agent:c', toKey: kp(3).publicKey, now: NOW }), 'signer_failed', `delegate: ${what}`)
    throwsCode(() => signProof(liar, token, read('src/a')), 'signer_failed', `proof: ${what}`)
    const log = new AuditLog()
    throwsCode(() => log.append(liar, event()), 'signer_failed', `audit: ${what}`)
    throwsCode(() => log.appendDecision(liar, allowed), 'signer_failed', `audit decision: ${what}`)
    assert.equal(log.length, 0, 'nothing is appended when the signer fails')
    throwsCode(() => jwtIssue(liar, { sub: 'agent:a', aud: 'svc', exp: NOW + 60 }), 'signer_failed', `jwt: ${what}`)
    throwsCode(() => allowed.toCompactJwt(liar, { issuerName: 'gw', audience: 'svc', ttlSeconds: 60 }), 'signer_failed', `decision jwt: ${what}`)
    throwsCode(() => RevocationList.sign({}, { sequence: 1, issuedAt: NOW, signer: liar }), 'signer_failed', `list: ${what}`)
  }
})

test('what a throwing or async sign() did is reported in the signer_failed message', () => {
  const [root, orch] = [kp(1), kp(2)]
  const offline = new Error('hsm offline')
  const e = throwsCode(() => mint({ publicKey: root.publicKey, sign() { throw offline } }, params(orch)), 'signer_failed')
  assert.match(e.message, /hsm offline/)
  assert.equal(e.cause, offline, 'what sign() threw is the cause')
  const garbage = throwsCode(() => mint({ publicKey: root.publicKey, sign: () => new Uint8Array(64) }, params(orch)), 'signer_failed')
  assert.equal(garbage.cause, undefined, 'no stale cause from an earlier failure')
  assert.match(throwsCode(() => mint({ publicKey: root.publicKey, sign() { throw 'kms said no' } }, params(orch)), 'signer_failed').message, /kms said no/)
  assert.match(throwsCode(() => mint({ publicKey: root.publicKey, async sign(m) { return root.sign(m) } }, params(orch)), 'signer_failed').message,
    /synchronous.*@marque\/node/)
  assert.match(throwsCode(() => mint({ publicKey: root.publicKey, sign: () => new Uint8Array(3) }, params(orch)), 'signer_failed').message, /3 bytes/)
  // A hostile thrown value (a Proxy whose every trap throws) is still a signer_failed.
  const hostile = new Proxy({}, { get() { throw new Error('trap') }, getPrototypeOf() { throw new Error('trap') } })
  throwsCode(() => mint({ publicKey: root.publicKey, sign() { throw hostile } }, params(orch)), 'signer_failed')
  // The module keeps working afterwards.
  assert.equal(new Verifier({ rootKeys: [root.publicKey] }).authorize(mint(remote(root), params(orch)), read('src/a')).allowed, true)
})

test('signer arguments that are not signers are invalid_argument (or invalid_key)', () => {
  const orch = kp(2)
  for (const bad of [42, 'text', null, {}, { publicKey: kp(1).publicKey }, { publicKey: kp(1).publicKey, sign: 'no' }, () => new Uint8Array(64)]) {
    throwsCode(() => mint(bad, params(orch)), 'invalid_argument', String(bad))
  }
  throwsCode(() => mint({ publicKey: 'not a key', sign: () => new Uint8Array(64) }, params(orch)), 'invalid_key')
  throwsCode(() => mint({ get sign() { throw new Error('getter') }, publicKey: kp(1).publicKey }, params(orch)), 'invalid_argument')
  // Any key input works as publicKey; `this` is the signer object.
  const root = kp(1)
  const signer = { key: root, publicKey: root.publicKey.toHex(), sign(m) { return this.key.sign(m) } }
  assert.equal(new Verifier({ rootKeys: [root.publicKey] }).authorize(mint(signer, params(orch)), read('src/a')).allowed, true)
})

test('a sign() that re-enters the audit log gets signer_failed, and the log stays usable', () => {
  const orch = kp(2)
  const log = new AuditLog()
  const reentrant = { publicKey: orch.publicKey, sign: (m) => { log.append(orch, event()); return orch.sign(m) } }
  throwsCode(() => log.append(reentrant, event()), 'signer_failed')
  assert.equal(log.length, 0)
  log.append(remote(orch), event())
  assert.equal(log.verify([orch.publicKey]).ok, true)
})

function event() {
  return { event_type: 'tool_call', agent_id: 'agent:orchestrator', agent_key_fingerprint: kp(2).publicKey.fingerprint, principal: 'user:alice',
    action: 'read_file', resource: 'src/a', decision: 'allow', policy_id: 'p', timestamp: NOW }
}

test('proofs, audit, JWT and Decision.toCompactJwt with external signers', () => {
  const [root, orch] = [kp(1), kp(2)]
  const calls = { n: 0 }
  const signer = remote(orch, calls)
  const token = mint(root, params(orch))

  const proof = signProof(signer, token, read('src/a.rs'))
  const verifier = new Verifier({ rootKeys: [root.publicKey], requireProof: true })
  const d = verifier.authorize(token, { ...read('src/a.rs'), proof })
  assert.ok(d.allowed && d.proof_verified, d.reasons.join('\n'))

  const log = new AuditLog()
  log.append(signer, event())
  log.append(orch, event())
  log.appendDecision(signer, d)
  assert.equal(log.verify([orch.publicKey]).ok, true)

  const jwt = jwtIssue(signer, { sub: 'agent:a', aud: 'svc', exp: NOW + 60 }, { kid: 'k1' })
  assert.equal(jwt, jwtIssue(orch, { sub: 'agent:a', aud: 'svc', exp: NOW + 60 }, { kid: 'k1' }), 'Ed25519 is deterministic')
  assert.equal(jwtVerify(jwt, { k1: orch.publicKey }, { audience: 'svc', now: NOW }).sub, 'agent:a')

  const before = calls.n
  const jwt2 = d.toCompactJwt(signer, { issuerName: 'gateway', audience: 'svc', ttlSeconds: 60 })
  assert.equal(calls.n, before + 1)
  const claims = jwtVerify(jwt2, [orch.publicKey], { audience: 'svc', now: NOW })
  assert.equal(claims.sub, 'agent:orchestrator')
  assert.equal(claims.iss, 'gateway')
  assert.equal(claims.exp, NOW + 60)
  assert.equal(jwt2, d.toCompactJwt(orch, { issuerName: 'gateway', audience: 'svc', ttlSeconds: 60 }), 'a KeyPair issues the same JWT')
  // The method is not data: keys and JSON stay the core's.
  assert.ok(!Object.keys(d).includes('toCompactJwt'))
  assert.ok(!JSON.stringify(d).includes('toCompactJwt'))
  const denied = verifier.authorize(token, { tool: 'write_file', operation: 'write', resource: 'x', proof: signProof(orch, token, { tool: 'write_file', operation: 'write', resource: 'x', now: NOW }), now: NOW })
  assert.equal(denied.allowed, false)
  throwsCode(() => denied.toCompactJwt(signer, { issuerName: 'gw', audience: 'svc', ttlSeconds: 60 }), 'not_authorized')
  throwsCode(() => d.toCompactJwt(signer, { issuerName: 'gw', audience: 'svc' }), 'invalid_argument')
  throwsCode(() => d.toCompactJwt(signer, { issuerName: 'gw', audience: 'svc', ttlSeconds: 60, ttl: 1 }), 'invalid_argument')
  const detached = d.toCompactJwt
  throwsCode(() => detached(signer, { issuerName: 'gw', audience: 'svc', ttlSeconds: 60 }), 'invalid_argument')
})

// ---- signed revocation lists ----

function fleet() {
  const [root, orch] = [kp(1), kp(2)]
  return { root, operator: kp(50), token: mint(root, params(orch)) }
}
const verifierOf = (f, maxRevocationStaleness) =>
  new Verifier({ rootKeys: [f.root.publicKey], operatorKeys: [f.operator.publicKey], maxRevocationStaleness })
const sign = (revocations, sequence, issuedAt, signer) => RevocationList.sign(revocations, { sequence, issuedAt, signer })

test('revocation lists round-trip and refuse tampering', () => {
  const f = fleet()
  const list = sign({ agents: ['agent:rogue'], ids: ['AB'.repeat(64)], principals: ['user:mallory'], tasks: ['task:leak'] }, 3, NOW, remote(f.operator))
  const json = list.toJson()
  const back = RevocationList.fromJson(json)
  assert.equal(back.toJson(), json, 'canonical: serializes to the same bytes')
  assert.equal(JSON.stringify(back), json, 'JSON.stringify gives the signed document')
  assert.equal(RevocationList.fromJson(JSON.parse(json)).toJson(), json, 'the parsed object is accepted too')
  assert.deepEqual([back.sequence, back.issuedAt, back.issuer.toHex()], [3, NOW, f.operator.publicKey.toHex()])
  assert.deepEqual(back.revoked.ids, ['ab'.repeat(64)], 'ids are normalized before signing')
  assert.deepEqual(back.revoked.agents, ['agent:rogue'])
  assert.equal(sign({}, 3, NOW, f.operator).toJson(), sign({}, 3, NOW, remote(f.operator)).toJson(), 'KeyPair and signer agree')
  assert.ok(Math.abs(RevocationList.sign({}, { sequence: 1, signer: f.operator }).issuedAt - Date.now() / 1000) < 5, 'issuedAt defaults to now')
  assert.equal(RevocationList.sign('{"tasks":["t"]}', { sequence: 1, signer: f.operator, issuedAt: new Date(NOW * 1000) }).issuedAt, NOW)

  for (const [from, to] of [['"sequence":3', '"sequence":4'], ['agent:rogue', 'agent:rogua'], [String(NOW), '1']]) {
    const forged = json.replace(from, to)
    assert.notEqual(forged, json)
    throwsCode(() => RevocationList.fromJson(forged), 'invalid_signature', from)
  }
  throwsCode(() => RevocationList.fromJson(json.replaceAll(f.operator.publicKey.toHex(), kp(51).publicKey.toHex())), 'invalid_signature')
  for (const bad of [
    '[]', '{}',
    json.replace('"v":1', '"v":2'),
    json.replace('"type":"marque-revocation-list"', '"type":"other"'),
    json.replace('{', '{"extra":1,'),
    json.replace('"sequence":3', '"sequence":-3'),
    json.replace('"sequence":3', '"sequence":3.5'),
    json.replace('"sequence":3', '"sequence":9007199254740993'),
    '{"sig":"x"',
  ]) {
    throwsCode(() => RevocationList.fromJson(bad), 'revocation_list_invalid', bad)
  }
  assert.throws(() => RevocationList.fromJson(json.replace('"sequence":3', '"sequence":3,"sequence":4')), marque.MarqueError)
  throwsCode(() => RevocationList.fromJson(42), 'invalid_argument')
  throwsCode(() => RevocationList.sign({}, { signer: f.operator }), 'invalid_argument')
  throwsCode(() => RevocationList.sign({}, { sequence: 1, signer: f.operator, seq: 2 }), 'invalid_argument')
  throwsCode(() => RevocationList.sign({ nope: [] }, { sequence: 1, signer: f.operator }), 'invalid_argument')
})

test('a verifier loads only trusted, forward-moving lists', () => {
  const f = fleet()
  const v = verifierOf(f)
  assert.equal(v.revocationList, null)
  assert.equal(v.maxRevocationStaleness, null)
  const l5 = sign({ agents: ['agent:a'] }, 5, NOW, f.operator)
  assert.equal(v.loadRevocationList(l5, { now: NOW }), true)
  assert.equal(v.loadRevocationList(l5, { now: NOW }), false, 'the same list again is a no-op')
  assert.equal(v.revocationList.sequence, 5)

  throwsCode(() => v.loadRevocationList(sign({}, 6, NOW, kp(51)), { now: NOW }), 'revocation_list_invalid', 'untrusted operator')
  // Rollbacks: an older sequence, the same sequence with other content, an older issue time.
  for (const l of [sign({}, 4, NOW + 10, f.operator), sign({}, 5, NOW, f.operator), sign({}, 6, NOW - 1, f.operator)]) {
    throwsCode(() => v.loadRevocationList(l, { now: NOW + 10 }), 'revocation_list_rollback', `sequence ${l.sequence}`)
  }
  assert.equal(v.revocationList.toJson(), l5.toJson(), 'a refused list changes nothing')
  // From the future (beyond 5 minutes of skew).
  const future = sign({}, 7, NOW + 301, f.operator)
  throwsCode(() => v.loadRevocationList(future, { now: NOW }), 'revocation_list_invalid')
  assert.equal(v.loadRevocationList(future, { now: NOW + 1 }), true, 'within the skew it loads')
  // From JSON text or the parsed object, with the same checks.
  const l8 = sign({}, 8, NOW + 400, f.operator)
  assert.equal(v.loadRevocationList(l8.toJson(), { now: NOW + 400 }), true)
  throwsCode(() => v.loadRevocationList(JSON.parse(l5.toJson()), { now: NOW + 400 }), 'revocation_list_rollback')
  throwsCode(() => v.loadRevocationList(l8.toJson().replace('"sequence":8', '"sequence":9'), { now: NOW + 400 }), 'invalid_signature')
  throwsCode(() => v.loadRevocationList(l8, { now: NOW, when: 1 }), 'invalid_argument')
  // A verifier without operator keys trusts no list.
  throwsCode(() => new Verifier({ rootKeys: [f.root.publicKey] }).loadRevocationList(l5, { now: NOW }), 'revocation_list_invalid')
})

test('signed lists revoke before Datalog, and a stale or missing list fails closed', () => {
  const f = fleet()
  const v = verifierOf(f, 600)
  assert.equal(v.maxRevocationStaleness, 600)
  const ok = read('src/a.rs')
  throwsCode(() => v.authorize(f.token, ok), 'revocation_list_stale', 'no list yet')
  throwsCode(() => v.checkRevocationListFresh({ now: NOW }), 'revocation_list_stale', 'no list yet (no tool call)')
  v.loadRevocationList(sign({}, 1, NOW, f.operator), { now: NOW })
  v.checkRevocationListFresh({ now: NOW + 600 })
  throwsCode(() => v.checkRevocationListFresh({ now: NOW + 601 }), 'revocation_list_stale')
  assert.equal(v.authorize(f.token, read('src/a.rs', NOW + 600)).allowed, true)
  const e = throwsCode(() => v.authorize(f.token, read('src/a.rs', NOW + 601)), 'revocation_list_stale', 'older than the limit')
  assert.match(e.message, /601/)
  throwsCode(() => v.authorizeOrThrow(f.token, read('src/a.rs', NOW + 601)), 'revocation_list_stale')
  // A newer list revoking the agent: revoked before any Datalog (the request is not even covered
  // by the token's rights, which Datalog would report as not_authorized).
  v.loadRevocationList(sign({ agents: ['agent:orchestrator'] }, 2, NOW + 601, remote(f.operator)), { now: NOW + 601 })
  const d = v.authorize(f.token, { tool: 'rm', operation: 'rf', resource: '/', now: NOW + 602 })
  assert.equal(d.code, 'revoked')
  assert.match(d.reasons[0], /agent:orchestrator/)
  assert.ok(v.revocationReason(f.token))
  // The next list lifts it (a list is the operator's whole current set).
  v.loadRevocationList(sign({}, 3, NOW + 700, f.operator), { now: NOW + 700 })
  assert.equal(v.authorize(f.token, read('src/a.rs', NOW + 700)).allowed, true)
  // Local revocations still apply beside the list.
  v.revokeTask('t-1')
  assert.equal(v.authorize(f.token, read('src/a.rs', NOW + 700)).code, 'revoked')
  // Without a staleness limit an old list is still applied, never required.
  const relaxed = verifierOf(f)
  assert.equal(relaxed.authorize(f.token, ok).allowed, true)
  relaxed.loadRevocationList(sign({ agents: ['agent:orchestrator'] }, 2, NOW + 601, f.operator), { now: NOW + 601 })
  assert.equal(relaxed.authorize(f.token, read('src/a.rs', NOW + 1_000_000)).code, 'revoked')
  throwsCode(() => verifierOf(f, -1), 'invalid_argument')
})

test('signed lists revoke by block, principal and task', () => {
  const f = fleet()
  const v = verifierOf(f, 3600)
  const child = f.token.delegate(kp(2), { to: 'agent:c', toKey: kp(3).publicKey, now: NOW })
  v.loadRevocationList(sign({ ids: [child.revocationIds[1]] }, 1, NOW, f.operator), { now: NOW })
  assert.equal(v.authorize(child, read('src/a')).code, 'revoked')
  assert.equal(v.authorize(f.token, read('src/a')).allowed, true, 'the parent stays valid')
  for (const [n, set] of [[2, { principals: ['user:alice'] }], [3, { tasks: ['t-1'] }]]) {
    v.loadRevocationList(sign(set, n, NOW, f.operator), { now: NOW })
    assert.equal(v.authorize(f.token, read('src/a')).code, 'revoked', JSON.stringify(set))
  }
})

// ---- JWKS root key discovery ----

test('a verifier from a JWKS document, and rotation', () => {
  const [oldRoot, newRoot, orch] = [kp(1), kp(11), kp(2)]
  const old = mint(oldRoot, params(orch))
  const fresh = mint(newRoot, params(orch))
  const explicit = mint(kp(12), params(orch, { rootKeyId: 7 }))
  const doc = toJwks({ [old.rootKeyId]: oldRoot.publicKey, [fresh.rootKeyId]: newRoot.publicKey, 7: kp(12).publicKey })
  assert.equal(typeof doc, 'string')
  const parsed = parseJwks(doc)
  assert.equal(Object.keys(parsed).length, 3)
  assert.ok(parsed['7'].equals(kp(12).publicKey))
  assert.ok(parsed[String(old.rootKeyId)].equals(oldRoot.publicKey))
  assert.equal(toJwks([oldRoot.publicKey]), toJwks({ [old.rootKeyId]: oldRoot.publicKey }), 'a list gets the derived ids')
  assert.equal(JSON.stringify(parseJwks(JSON.parse(doc))), JSON.stringify(parsed), 'a parsed document is accepted too')

  const v = Verifier.fromJwks(doc)
  for (const t of [old, fresh, explicit]) assert.equal(v.authorize(t, read('src/a')).allowed, true)
  assert.equal(new Verifier({ rootKeys: parsed }).authorize(explicit, read('src/a')).allowed, true, 'parseJwks output is rootKeys')
  // Rotation: publish a document without the old key.
  v.setRootKeysFromJwks(toJwks([newRoot.publicKey]))
  throwsCode(() => v.authorize(old, read('src/a')), 'unknown_root_key')
  assert.equal(v.authorize(fresh, read('src/a')).allowed, true)
  // A bad document leaves the verifier as it was.
  throwsCode(() => v.setRootKeysFromJwks('{"keys":[]}'), 'invalid_key')
  throwsCode(() => v.setRootKeysFromJwks(42), 'invalid_argument')
  assert.equal(v.authorize(fresh, read('src/a')).allowed, true)

  // fromJwks takes the other verifier options (not rootKeys).
  const f = fleet()
  const strict = Verifier.fromJwks({ keys: [f.root.publicKey.toJwk()] }, { operatorKeys: [f.operator.publicKey], maxRevocationStaleness: 60, requireProof: true })
  throwsCode(() => strict.authorize(f.token, read('src/a')), 'revocation_list_stale')
  strict.loadRevocationList(sign({}, 1, NOW, f.operator), { now: NOW })
  assert.equal(strict.authorize(f.token, read('src/a')).code, 'invalid_proof')
  throwsCode(() => Verifier.fromJwks(doc, { rootKeys: [] }), 'invalid_argument')
})

test('JWKS documents are checked (invalid_key), secrets never echoed', () => {
  const key = kp(1).publicKey
  const { x } = key.toJwk()
  const fp = key.fingerprint
  const id = String(mint(kp(1), params(kp(2))).rootKeyId)
  const doc = (entry) => `{"keys":[${entry}]}`
  for (const [d, want] of [
    [doc(`{"kty":"OKP","crv":"Ed25519","x":"${x}"}`), id],
    [doc(`{"kty":"OKP","crv":"Ed25519","x":"${x}","kid":"${fp}","use":"sig","alg":"EdDSA"}`), id],
    [doc(`{"kty":"OKP","crv":"Ed25519","x":"${x}","kid":"42"}`), '42'],
    [doc(`{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"OKP","crv":"Ed25519","x":"${x}"}`), id],
  ]) {
    const parsed = parseJwks(d)
    assert.deepEqual(Object.keys(parsed), [want], d)
    assert.ok(parsed[want].equals(key))
  }
  const secret = kp(1).toJwk()
  for (const d of [
    'not json', '{}', '{"keys":{}}', doc(''),
    doc('{"kty":"RSA","n":"AQAB","e":"AQAB"}'),
    doc(`{"kty":"OKP","crv":"Ed25519","x":"${x}","use":"enc"}`),
    doc(JSON.stringify(secret)),
    doc(`{"kty":"OKP","crv":"Ed25519","x":"${x}","kid":"ed25519:0000000000000000"}`),
    doc(`{"kty":"OKP","crv":"Ed25519","x":"${x}","kid":"root-2026"}`),
    doc(`{"kty":"OKP","crv":"Ed25519","x":"${x}","kid":"99999999999"}`),
    doc(`{"kty":"OKP","crv":"Ed25519","x":"${x}","alg":"ES256"}`),
    doc('{"kty":"OKP","crv":"Ed25519","x":"AAAA"}'),
    doc(`{"kty":"OKP","crv":"Ed25519","x":"${x}","kid":"5"},{"kty":"OKP","crv":"Ed25519","x":"${kp(2).publicKey.toJwk().x}","kid":"5"}`),
  ]) {
    const e = throwsCode(() => parseJwks(d), 'invalid_key', d)
    assert.ok(!e.message.includes(secret.d), 'no secret in errors')
    throwsCode(() => Verifier.fromJwks(d), 'invalid_key', d)
  }
  throwsCode(() => parseJwks(undefined), 'invalid_argument')
  throwsCode(() => toJwks('nope'), 'invalid_argument')
})

test('error codes of issue #7 are in the taxonomy', () => {
  for (const c of ['revocation_list_stale', 'revocation_list_invalid', 'revocation_list_rollback', 'signer_failed']) {
    assert.ok(marque.ERROR_CODES.includes(c), c)
    assert.equal(new marque.MarqueError(c, 'x').code, c)
  }
})

// ---- shared vectors: tests/vectors/operations.json (checked by every binding) ----

test('operations vectors: the signed list re-signs byte for byte, the tampered one fails, the JWKS verifier decides', async () => {
  const { readFileSync } = await import('node:fs')
  const doc = JSON.parse(readFileSync(new URL('../../tests/vectors/operations.json', import.meta.url), 'utf8'))
  const rl = doc.revocation_list
  const operator = kp(doc.operator_seed)
  // Deterministic: the same inputs sign to the same bytes, with a KeyPair and with a signer object.
  assert.equal(RevocationList.sign(rl.revoked, { sequence: rl.sequence, issuedAt: rl.issued_at, signer: operator }).toJson(), rl.list)
  assert.equal(RevocationList.sign(rl.revoked, { sequence: rl.sequence, issuedAt: rl.issued_at, signer: remote(operator) }).toJson(), rl.list)
  const parsed = RevocationList.fromJson(rl.list)
  assert.deepEqual(parsed.revoked, rl.revoked)
  assert.equal(parsed.issuer.toHex(), rl.issuer)
  assert.deepEqual([parsed.sequence, parsed.issuedAt], [rl.sequence, rl.issued_at])
  throwsCode(() => RevocationList.fromJson(rl.tampered), 'invalid_signature')

  const j = doc.jwks
  assert.deepEqual(Object.keys(parseJwks(j.document)).map(Number).sort(), [...j.root_key_ids].sort())
  const v = Verifier.fromJwks(j.document)
  const req = { ...j.request, now: doc.now }
  for (const name of ['token_by_root', 'token_by_id_7']) {
    const d = v.authorize(j[name], req)
    assert.equal(d.allowed, true, `${name}: ${d.reasons.join('\n')}`)
  }
  throwsCode(() => v.authorize(j.token_by_other_root, req), 'unknown_root_key')
  // The vector list, loaded by a fleet verifier, revokes what it names.
  const fleet = Verifier.fromJwks(j.document, { operatorKeys: [rl.issuer], maxRevocationStaleness: 60 })
  throwsCode(() => fleet.authorize(j.token_by_root, req), 'revocation_list_stale')
  assert.equal(fleet.loadRevocationList(rl.list, { now: doc.now }), true)
  assert.equal(fleet.authorize(j.token_by_root, req).allowed, true)
  throwsCode(() => fleet.loadRevocationList(rl.tampered, { now: doc.now }), 'invalid_signature')
})
