'use strict'
// @marque/wasm — Node CommonJS entry: wasm-bindgen's nodejs glue instantiates the module
// synchronously at `require` time (it reads marque_wasm_bg.wasm next to this file).
const glue = require('./marque_wasm_node.cjs')
const { MarqueError, ERROR_CODES, guardClasses, installReplayStore, installRevocationFeed } = require('./errors.cjs')

glue.__registerErrorClass(MarqueError)
installReplayStore(glue.Verifier, glue.PendingAuthorization)
// `decision.toCompactJwt(issuer, { issuerName, audience, ttlSeconds })` (non-enumerable; not in
// the verifier-only build).
if (glue.__toCompactJwt) {
  glue.__registerDecisionMethod(function toCompactJwt(issuer, options) {
    return glue.__toCompactJwt(this, issuer, options)
  })
}
// Compile the authorization path now (see src/warmup.rs).
glue.__warmUp()

module.exports = {
  KeyPair: glue.KeyPair,
  PublicKey: glue.PublicKey,
  Token: glue.Token,
  Verifier: glue.Verifier,
  PendingAuthorization: glue.PendingAuthorization,
  RevocationList: glue.RevocationList,
  RevocationFeedState: glue.RevocationFeedState,
  AuditLog: glue.AuditLog,
  Envelope: glue.Envelope,
  jwtIssue: glue.jwtIssue,
  jwtVerify: glue.jwtVerify,
  parseJwks: glue.parseJwks,
  toJwks: glue.toJwks,
  McpConfig: glue.McpConfig,
  wwwAuthenticate: glue.wwwAuthenticate,
  challengeValue: glue.challengeValue,
  bearerToken: glue.bearerToken,
  httpRefusal: glue.httpRefusal,
  resourceMetadataUrl: glue.resourceMetadataUrl,
  protectedResourceMetadata: glue.protectedResourceMetadata,
  mcpDefaultAllow: glue.mcpDefaultAllow,
  mint: glue.mint,
  signProof: glue.signProof,
  approve: glue.approve,
  requestDigest: glue.requestDigest,
  redisSpendScript: glue.redisSpendScript,
  errorCodes: glue.errorCodes,
  version: glue.version,
  MarqueError,
  ERROR_CODES,
  /** Already instantiated: resolves at once (kept for code shared with the ES module entry). */
  init: () => Promise.resolve(),
  initSync: () => {},
}
// `new` and calls without it, refused the same way in both packages (errors.cjs `guardClasses`).
const { MarqueError: _error, ...api } = module.exports
Object.assign(module.exports, guardClasses(api))
// The poller of the operator's signed revocation list (errors.cjs, shared with @marque/node).
Object.assign(module.exports, guardClasses({ RevocationFeed: installRevocationFeed(module.exports.RevocationFeedState, module.exports.Verifier) }))
module.exports.default = module.exports.init
