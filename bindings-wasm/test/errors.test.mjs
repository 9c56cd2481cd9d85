// MarqueError: a real Error subclass with a stable code, from every entry point (ESM and CJS).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { marque, throwsCode } from './helpers.mjs'

const require = createRequire(import.meta.url)

test('ERROR_CODES equals the core list (errorCodes()) in order', () => {
  assert.deepEqual([...marque.ERROR_CODES], marque.errorCodes())
  assert.ok(Object.isFrozen(marque.ERROR_CODES))
  for (const c of ['invalid_token', 'invalid_signature', 'unknown_root_key', 'expired', 'revoked', 'not_authorized',
    'invalid_proof', 'replayed_proof', 'depth_exceeded', 'attenuation_widens', 'limits_exceeded', 'invalid_key',
    'invalid_jwt', 'audit_chain_broken']) {
    assert.ok(marque.ERROR_CODES.includes(c), c)
  }
})

test('thrown errors are MarqueError instances with code, message, name and stack', () => {
  const e = throwsCode(() => marque.KeyPair.fromHex('zz'), 'invalid_key')
  assert.equal(e.name, 'MarqueError')
  assert.equal(e.constructor, marque.MarqueError)
  assert.equal(typeof e.message, 'string')
  assert.ok(e.message.length > 0)
  assert.match(e.stack, /MarqueError/)
  assert.ok(Object.prototype.toString.call(e) === '[object Error]')
})

test('MarqueError can be constructed by users; unknown codes become internal', () => {
  const e = new marque.MarqueError('expired', 'x')
  assert.ok(e instanceof Error)
  assert.equal(e.code, 'expired')
  assert.equal(new marque.MarqueError('nope', 'x').code, 'internal')
})

test('the CommonJS entry throws its MarqueError too', () => {
  const cjs = require('../pkg/node.cjs')
  assert.deepEqual([...cjs.ERROR_CODES], cjs.errorCodes())
  let thrown
  try {
    cjs.PublicKey.fromHex('nope')
  } catch (e) {
    thrown = e
  }
  assert.ok(thrown instanceof cjs.MarqueError)
  assert.ok(thrown instanceof Error)
  assert.equal(thrown.code, 'invalid_key')
})
