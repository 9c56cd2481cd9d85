// One error mechanism in both JS packages: every refusal — a core error, a JS value of the wrong
// type, a getter that throws while an argument is read — is an instance of the package's one
// `MarqueError` class (built by Rust in both: bindings-node/src/errors.rs,
// bindings-wasm/src/errors.rs), with a stable `code` from ERROR_CODES; an async entry point
// rejects, never throws synchronously.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, RUNTIME } from './marque.mjs'

const { KeyPair, PublicKey, Token, Verifier, MarqueError, ERROR_CODES, mint, signProof } = marque
const NOW = 1_767_225_600
const root = KeyPair.fromSeed(new Uint8Array(32).fill(1))
const agent = KeyPair.fromSeed(new Uint8Array(32).fill(2))
const token = () => mint(root, { agent: 'agent:a', agentKey: agent.publicKey, principal: 'user:u', rights: ['*'], ttlSeconds: 3600, now: NOW })

function thrown(fn) {
  try {
    fn()
  } catch (e) {
    return e
  }
  assert.fail('expected a throw')
}

test(`errors (${RUNTIME}): ERROR_CODES is the core's list, frozen, and MarqueError a real Error subclass`, () => {
  assert.deepEqual([...ERROR_CODES], marque.errorCodes())
  assert.ok(Object.isFrozen(ERROR_CODES))
  const own = new MarqueError('expired', 'x')
  assert.ok(own instanceof Error)
  assert.equal(own.name, 'MarqueError')
  assert.equal(own.code, 'expired')
  assert.equal(new MarqueError('no_such_code', 'x').code, 'internal')
})

test(`errors (${RUNTIME}): a core refusal is a MarqueError with its code, message and stack`, () => {
  const e = thrown(() => PublicKey.fromHex('zz'))
  assert.ok(e instanceof MarqueError, String(e))
  assert.equal(e.name, 'MarqueError')
  assert.equal(e.code, 'invalid_key')
  assert.ok(e.message.length > 0)
  assert.match(e.stack, /errors\.test\.mjs/)
  assert.equal(thrown(() => Token.fromBase64('AAAA')).code, 'invalid_token')
})

test(`errors (${RUNTIME}): a JS value of the wrong type is invalid_argument, never the runtime's TypeError`, () => {
  const v = new Verifier({ rootKeys: [root.publicKey] })
  const cases = [
    () => PublicKey.fromHex(5),
    () => PublicKey.fromHex(Symbol('s')),
    () => Token.fromBase64(42),
    () => KeyPair.fromSeed(42),
    () => mint(root, null),
    () => mint(null, {}),
    () => new Verifier({ rootKeys: 'abc' }),
    () => v.revokeAgent(7),
    () => v.authorize(token(), { tool: 1, resource: 'x' }),
    () => v.authorize({}, { tool: 't', resource: 'x' }),
    () => v.revokeTask(['t']),
    () => signProof(agent, token(), { tool: 't', get resource() { throw new Error('getter boom') } }),
  ]
  for (const [i, fn] of cases.entries()) {
    const e = thrown(fn)
    assert.ok(e instanceof MarqueError, `case ${i}: ${e && e.stack}`)
    assert.equal(e.code, 'invalid_argument', `case ${i}: ${e.message}`)
  }
})

// @marque/wasm has no `…Async` entry points (its calls do not block a thread pool).
test(`errors (${RUNTIME}): an async entry point with a bad argument rejects with a MarqueError`, { skip: RUNTIME === 'wasm' && 'no async entry points' }, async () => {
  const v = new Verifier({ rootKeys: [root.publicKey] })
  const calls = [
    () => v.authorizeAsync(42, { tool: 't', resource: 'x', now: NOW }),
    () => v.authorizeAsync(token(), { tool: 't', resource: 'x', now: NOW, bogus: 1 }),
    () => marque.mintAsync(root, { agent: 'agent:a', agentKey: 12, principal: 'user:u', rights: [], ttlSeconds: 1 }),
  ]
  for (const [i, call] of calls.entries()) {
    let p
    assert.doesNotThrow(() => { p = call() }, `case ${i} threw synchronously`)
    assert.ok(p instanceof Promise, `case ${i}`)
    await assert.rejects(p, (e) => e instanceof MarqueError && e.code === 'invalid_argument', `case ${i}`)
  }
})

test(`errors (${RUNTIME}): approval_required and budget_exhausted are reachable, typed denials`, () => {
  const approver = KeyPair.fromSeed(new Uint8Array(32).fill(7))
  const gated = new Verifier({ rootKeys: [root.publicKey], approvers: { 'user:alice': approver.publicKey }, approvalRules: ['deploy:*:production/'] })
  const call = { tool: 'deploy', operation: 'deploy', resource: 'production/web', now: NOW }
  assert.equal(gated.authorize(token(), call).code, 'approval_required')
  const e = thrown(() => gated.authorizeOrThrow(token(), call))
  assert.ok(e instanceof MarqueError, String(e))
  assert.equal(e.code, 'approval_required')
  const child = token().delegate(agent, { to: 'agent:b', toKey: approver.publicKey, maxCalls: 1, now: NOW })
  const v = new Verifier({ rootKeys: [root.publicKey] })
  assert.equal(v.authorize(child, call).allowed, true)
  const b = thrown(() => v.authorizeOrThrow(child, call))
  assert.ok(b instanceof MarqueError, String(b))
  assert.equal(b.code, 'budget_exhausted')
  assert.match(b.message, /delegation 1 \(agent:b\)/)
})
