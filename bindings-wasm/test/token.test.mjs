// mint / delegate / Token: what a token claims, and delegation only ever narrowing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, chain, key, throwsCode, NOW } from './helpers.mjs'

const { mint, Token, KeyPair } = marque

test('mint: the holder sits at /root with the given claims', () => {
  const { t0 } = chain()
  assert.equal(t0.agent, 'agent:orchestrator')
  assert.equal(t0.path, '/root')
  assert.equal(t0.principal, 'user:alice')
  assert.equal(t0.task, 'fix-issue-42')
  assert.equal(t0.workspace, 'acme/web')
  assert.equal(t0.issuedAt, NOW)
  assert.equal(t0.expiresAt, NOW + 3600)
  assert.equal(t0.depth, 0)
  assert.equal(t0.maxDepth, 4)
  assert.equal(t0.sealed, false)
  assert.equal(marque.mint(key('root'), { agent: 'agent:x', agentKey: key('orchestrator').publicKey, principal: 'u', rights: ['t'], ttlSeconds: 5 }).task, null)
  assert.deepEqual(t0.rights, [
    { tool: 'read_file', operation: 'read', resource: '*' },
    { tool: 'write_file', operation: 'write', resource: '*' },
  ])
  assert.equal(t0.holderKey.toHex(), key('orchestrator').publicKey.toHex())
  assert.equal(typeof t0.rootKeyId, 'number')
  assert.equal(t0.revocationIds.length, 1)
  assert.match(t0.revocationIds[0], /^[0-9a-f]+$/)
})

test('delegate: path, chain, revocation ids, narrowing', () => {
  const { ta, tc, orch, a, c } = chain()
  assert.equal(ta.path, '/root/agent_a')
  assert.equal(tc.path, '/root/agent_a/agent_c')
  assert.equal(tc.agent, 'agent:agent_c')
  assert.equal(tc.depth, 2)
  assert.equal(tc.expiresAt, NOW + 1800, 'clamped to the parent expiry')
  assert.deepEqual(tc.chain, [
    { agent: 'agent:orchestrator', path: '/root', key: orch.publicKey.toHex(), fingerprint: orch.publicKey.fingerprint },
    { agent: 'agent:agent_a', path: '/root/agent_a', key: a.publicKey.toHex(), fingerprint: a.publicKey.fingerprint },
    { agent: 'agent:agent_c', path: '/root/agent_a/agent_c', key: c.publicKey.toHex(), fingerprint: c.publicKey.fingerprint },
  ])
  assert.equal(tc.revocationIds.length, 3)
  assert.deepEqual(tc.revocationIds.slice(0, 2), ta.revocationIds)
  const dl = tc.toDatalog()
  assert.match(dl, /agent\("agent:orchestrator"\)/)
  assert.match(dl, /delegation 2: agent:agent_a → agent:agent_c/)
  assert.match(dl, /check if resource\(\$resource\), \(\$resource \+ "\/"\)\.starts_with\("src\/main.rs\/"\)/)
})

test('toBase64 / fromBase64 / fromBytes / toJSON round trip', () => {
  const { tc } = chain()
  const text = tc.toBase64()
  const again = Token.fromBase64(text)
  assert.equal(again.toBase64(), text)
  assert.equal(Token.fromBase64(text.replace(/=+$/, '')).toBase64(), text, 'padding is optional')
  assert.equal(Token.fromBytes(tc.toBytes()).toBase64(), text)
  assert.equal(JSON.parse(JSON.stringify({ t: tc })).t, text)
  assert.equal(tc.inspect().path, '/root/agent_a/agent_c')
})

test('delegation refuses to widen (attenuation_widens), naming what was asked and held', () => {
  const { t0, ta, orch, a } = chain()
  const child = KeyPair.generate().publicKey
  const e = throwsCode(() => t0.delegate(orch, { to: 'agent:b', toKey: child, tools: ['deploy'], now: NOW }), 'attenuation_widens')
  assert.match(e.message, /deploy/)
  assert.match(e.message, /read_file/)
  throwsCode(() => ta.delegate(a, { to: 'agent:b', toKey: child, operations: ['write'], now: NOW }), 'attenuation_widens')
  throwsCode(() => ta.delegate(a, { to: 'agent:b', toKey: child, resourcePrefix: 'docs/', now: NOW }), 'attenuation_widens')
  throwsCode(() => ta.delegate(a, { to: 'agent:b', toKey: child, maxDepth: 9, now: NOW }), 'attenuation_widens')
})

test('only the holder can delegate (wrong_holder_key), depth is bounded, sealed is final', () => {
  const { t0, ta, orch } = chain()
  const child = KeyPair.generate()
  throwsCode(() => ta.delegate(orch, { to: 'agent:b', toKey: child.publicKey, now: NOW }), 'wrong_holder_key')
  const shallow = mint(key('root'), { agent: 'agent:o', agentKey: orch.publicKey, principal: 'user:a', rights: ['*'], ttlSeconds: 60, maxDepth: 1, now: NOW })
  const one = shallow.delegate(orch, { to: 'agent:b', toKey: child.publicKey, now: NOW })
  throwsCode(() => one.delegate(child, { to: 'agent:c', toKey: KeyPair.generate().publicKey, now: NOW }), 'depth_exceeded')
  const sealed = t0.seal()
  assert.equal(sealed.sealed, true)
  throwsCode(() => sealed.delegate(orch, { to: 'agent:b', toKey: child.publicKey, now: NOW }), 'sealed')
})

test('mint and delegate validate their options', () => {
  const root = key('root')
  const k = KeyPair.generate().publicKey
  const base = { agent: 'agent:a', agentKey: k, principal: 'user:a', rights: ['t'], ttlSeconds: 60, now: NOW }
  throwsCode(() => mint(root, { ...base, agent: 'agent:' }), 'invalid_argument')
  throwsCode(() => mint(root, { ...base, principal: '' }), 'invalid_argument')
  throwsCode(() => mint(root, { ...base, ttlSeconds: 0 }), 'invalid_argument')
  throwsCode(() => mint(root, { ...base, ttlSeconds: -1 }), 'invalid_argument')
  throwsCode(() => mint(root, { ...base, ttlSeconds: 1.5 }), 'invalid_argument')
  throwsCode(() => mint(root, { ...base, task: 'x"y' }), 'invalid_argument')
  throwsCode(() => mint(root, { ...base, maxDepth: 1000 }), 'invalid_argument')
  throwsCode(() => mint(root, { ...base, rights: [{ tool: '' }] }), 'invalid_argument')
  throwsCode(() => mint(root, { ...base, rights: 'read' }), 'invalid_argument')
  throwsCode(() => mint(root, { ...base, agentKey: 'nope' }), 'invalid_key')
  throwsCode(() => mint(root, { ...base, ttl_seconds: 5 }), 'invalid_argument', 'unknown options are refused')
  const t = mint(root, base)
  const { orch } = chain()
  throwsCode(
    () => t.delegate(KeyPair.fromHex('00'.repeat(32)), { to: 'agent:b', toKey: k, resource_prefix: 'src/' }),
    'invalid_argument',
    'a misspelt narrowing option must not silently delegate everything',
  )
  assert.ok(orch)
})

test('now accepts seconds or a Date, ttlSeconds counts from it', () => {
  const root = key('root')
  const k = KeyPair.generate().publicKey
  const base = { agent: 'agent:a', agentKey: k, principal: 'user:a', rights: ['t'], ttlSeconds: 60 }
  assert.equal(mint(root, { ...base, now: new Date(NOW * 1000) }).issuedAt, NOW)
  assert.equal(mint(root, { ...base, now: NOW + 0.9 }).issuedAt, NOW)
  const t = mint(root, base)
  assert.ok(Math.abs(t.issuedAt - Date.now() / 1000) < 5, 'default: the host clock')
  assert.equal(t.expiresAt, t.issuedAt + 60)
  throwsCode(() => mint(root, { ...base, now: new Date(NaN) }), 'invalid_argument')
  throwsCode(() => mint(root, { ...base, now: '2026-01-01' }), 'invalid_argument')
  throwsCode(() => mint(root, { ...base, now: -5 }), 'invalid_argument')
})

test('garbage tokens are invalid_token', () => {
  for (const text of ['', '!!!', 'AAAA', 'aGVsbG8', 'a+b/']) {
    throwsCode(() => Token.fromBase64(text), 'invalid_token', text)
  }
  throwsCode(() => Token.fromBytes(new Uint8Array([1, 2, 3])), 'invalid_token')
})
