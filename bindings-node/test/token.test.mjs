import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, keys, scenario, thrown, NOW } from './helpers.mjs'

const { Token, mint } = marque

test('mint: holder, chain, rights, times', () => {
  const { root } = scenario()
  assert.ok(root instanceof Token)
  assert.equal(root.agent, 'agent:orchestrator')
  assert.equal(root.path, '/root')
  assert.equal(root.principal, 'user:alice')
  assert.equal(root.task, 'fix-issue-42')
  assert.equal(root.workspace, 'acme/web')
  assert.equal(root.issuedAt, NOW)
  assert.equal(root.expiresAt, NOW + 3600)
  assert.equal(root.depth, 0)
  assert.equal(root.maxDepth, 4)
  assert.equal(root.sealed, false)
  assert.equal(typeof root.rootKeyId, 'number')
  assert.ok(root.holderKey.equals(keys.orch.publicKey))
  assert.deepEqual(root.rights, [
    { tool: 'read_file', operation: 'read', resource: '*' },
    { tool: 'write_file', operation: 'write', resource: 'src/' },
    { tool: 'run_tests', operation: '*', resource: '*' },
  ])
  assert.deepEqual(root.chain, [
    { agent: 'agent:orchestrator', path: '/root', key: keys.orch.publicKey.toHex(), fingerprint: keys.orch.publicKey.fingerprint },
  ])
  assert.equal(root.revocationIds.length, 1)
  assert.match(root.revocationIds[0], /^[0-9a-f]+$/)
})

test('mint: a Date is accepted for now; defaults to the clock', () => {
  const t = mint(keys.root, { agent: 'agent:x', agentKey: keys.orch.publicKey, principal: 'user:a', rights: [], ttlSeconds: 10, now: new Date(NOW * 1000 + 999) })
  assert.equal(t.issuedAt, NOW)
  const t2 = mint(keys.root, { agent: 'agent:x', agentKey: keys.orch.publicKey.toHex(), principal: 'user:a', rights: [], ttlSeconds: 10 })
  assert.ok(Math.abs(t2.issuedAt - Date.now() / 1000) < 5)
})

test('mint accepts keys as PublicKey, hex, PEM, did, JWK object and bytes', () => {
  const pk = keys.orch.publicKey
  for (const agentKey of [pk, pk.toHex(), pk.toPem(), pk.toDid(), pk.toJwk(), pk.toBytes(), new Uint8Array(pk.toBytes())]) {
    const t = mint(keys.root, { agent: 'agent:x', agentKey, principal: 'user:a', rights: ['t'], ttlSeconds: 10, now: NOW })
    assert.ok(t.holderKey.equals(pk))
  }
})

test('delegate: paths, chain and narrowing', () => {
  const { a, c } = scenario()
  assert.equal(a.path, '/root/agent_a')
  assert.equal(a.agent, 'agent:agent_a')
  assert.equal(c.path, '/root/agent_a/agent_c')
  assert.equal(c.depth, 2)
  assert.equal(c.expiresAt, NOW + 600)
  assert.deepEqual(c.chain.map((h) => h.path), ['/root', '/root/agent_a', '/root/agent_a/agent_c'])
  assert.deepEqual(c.chain.map((h) => h.agent), ['agent:orchestrator', 'agent:agent_a', 'agent:agent_c'])
  assert.equal(c.revocationIds.length, 3)
  assert.deepEqual(c.revocationIds.slice(0, 2), a.revocationIds)
})

test('base64 round trip (padded and unpadded) and bytes', () => {
  const { c } = scenario()
  const b64 = c.toBase64()
  assert.equal(Token.fromBase64(b64).toBase64(), b64)
  assert.equal(Token.fromBase64(b64.replace(/=+$/, '')).toBase64(), b64)
  assert.equal(Token.fromBytes(c.toBytes()).toBase64(), b64)
  assert.equal(JSON.stringify(c), JSON.stringify(b64))
})

test('toDatalog shows every block', () => {
  const dl = scenario().c.toDatalog()
  assert.match(dl, /agent\("agent:orchestrator"\)/)
  assert.match(dl, /right\("read_file", "read", "\*"\)/)
  assert.match(dl, /block 2: delegation 2: agent:agent_a → agent:agent_c/)
  assert.match(dl, /check if resource\(\$resource\), \(\$resource \+ "\/"\)\.starts_with\("src\/lib.rs\/"\)/)
  assert.match(dl, /marque_profile\(3\)/)
})

test('delegate refusals are typed', () => {
  const { root, a } = scenario()
  const to = { to: 'agent:b', toKey: keys.other.publicKey, now: NOW }
  assert.equal(thrown(() => root.delegate(keys.other, to)).code, 'wrong_holder_key')
  const w = thrown(() => a.delegate(keys.agentA, { ...to, tools: ['write_file'] }))
  assert.equal(w.code, 'attenuation_widens')
  assert.match(w.message, /write_file/)
  assert.match(w.message, /read_file/)
  assert.equal(thrown(() => a.delegate(keys.agentA, { ...to, resourcePrefix: 'docs/' })).code, 'attenuation_widens')
  assert.equal(thrown(() => a.delegate(keys.agentA, { ...to, operations: ['write'] })).code, 'attenuation_widens')
  assert.equal(thrown(() => root.delegate(keys.orch, { ...to, tools: [] })).code, 'invalid_argument')
  assert.equal(thrown(() => root.delegate(keys.orch, { ...to, to: 'bad"id' })).code, 'invalid_argument')
  const sealed = root.seal()
  assert.equal(sealed.sealed, true)
  assert.equal(thrown(() => sealed.delegate(keys.orch, to)).code, 'sealed')
})

test('depth is enforced at delegation', () => {
  let t = mint(keys.root, { agent: 'agent:h0', agentKey: keys.orch.publicKey, principal: 'user:a', rights: ['*'], ttlSeconds: 60, maxDepth: 1, now: NOW })
  t = t.delegate(keys.orch, { to: 'agent:h1', toKey: keys.agentA.publicKey, now: NOW })
  assert.equal(thrown(() => t.delegate(keys.agentA, { to: 'agent:h2', toKey: keys.agentC.publicKey, now: NOW })).code, 'depth_exceeded')
})

test('mint refusals are typed', () => {
  const base = { agent: 'agent:x', agentKey: keys.orch.publicKey, principal: 'user:a', rights: ['t'], ttlSeconds: 10, now: NOW }
  for (const bad of [{ agent: 'agent:' }, { principal: '' }, { ttlSeconds: 0 }, { task: 'a"b' }, { maxDepth: 1000 }, { rights: [''] }, { ttlSeconds: -1 }, { ttlSeconds: NaN }, { now: -5 }]) {
    assert.equal(thrown(() => mint(keys.root, { ...base, ...bad })).code, 'invalid_argument', JSON.stringify(bad))
  }
})

test('Token.fromBase64 refuses garbage with invalid_token', () => {
  for (const text of ['', '!!!', 'AAAA', 'aGVsbG8', 'a+b/']) {
    assert.equal(thrown(() => Token.fromBase64(text)).code, 'invalid_token', text)
  }
})
