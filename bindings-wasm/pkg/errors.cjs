'use strict'
// CommonJS twin of errors.js (node.cjs loads its own instance of the module): every error
// thrown by this package is a `MarqueError`, a real `Error` with a stable `code`.

const ERROR_CODES = Object.freeze([
  'invalid_token',
  'invalid_signature',
  'unknown_root_key',
  'expired',
  'revoked',
  'not_authorized',
  'invalid_proof',
  'replayed_proof',
  'depth_exceeded',
  'attenuation_widens',
  'limits_exceeded',
  'invalid_key',
  'invalid_jwt',
  'audit_chain_broken',
  'wrong_holder_key',
  'sealed',
  'invalid_argument',
  'revocation_list_stale',
  'revocation_list_invalid',
  'revocation_list_rollback',
  'signer_failed',
  'invalid_request',
  'replay_store_unavailable',
  'internal',
])
const known = new Set(ERROR_CODES)

class MarqueError extends Error {
  constructor(code, message, options) {
    super(message, options)
    this.code = known.has(code) ? code : 'internal'
  }
}
Object.defineProperty(MarqueError.prototype, 'name', { value: 'MarqueError', writable: true, configurable: true })

module.exports = { ERROR_CODES, MarqueError }
