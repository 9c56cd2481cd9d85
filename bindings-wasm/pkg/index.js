// @marque/wasm — ES module entry for browsers, Deno, Workers-like runtimes (and bundlers).
// Instantiate once before use:
//   import init, { Verifier } from '@marque/wasm'
//   await init()                       // fetches marque_wasm_bg.wasm next to this file
//   await init(bytesOrResponseOrUrl)   // or from bytes / a Response / a URL / a WebAssembly.Module
//   initSync(bytesOrModule)            // or synchronously from bytes / a WebAssembly.Module
// In Node, `import '@marque/wasm'` resolves to node.js, which does this synchronously.
import * as glue from './marque_wasm.js'
import { MarqueError, ERROR_CODES, guardClasses, installReplayStore, installRevocationFeed } from './errors.js'

export { MarqueError, ERROR_CODES }
// `new` and calls without it, refused the same way in both packages (errors.js `guardClasses`).
const api = guardClasses(glue)
export const { KeyPair, PublicKey, Token, Verifier, PendingAuthorization, RevocationList, RevocationFeedState, AuditLog, Envelope, jwtIssue, jwtVerify, parseJwks, toJwks, requestDigest, redisSpendScript, errorCodes, version } = api
// The poller of the operator's signed revocation list (errors.js, shared with @marque/node).
export const { RevocationFeed } = guardClasses({ RevocationFeed: installRevocationFeed(api.RevocationFeedState, api.Verifier) })
// The door of an HTTP or MCP server (admission, MCP mapping, Bearer helpers).
export const { McpConfig, wwwAuthenticate, challengeValue, bearerToken, httpRefusal, resourceMetadataUrl, protectedResourceMetadata, mcpDefaultAllow } = api
/** Absent from the verifier-only build (`scripts/build-wasm.sh --verify-only`). */
export const mint = glue.mint
/** Absent from the verifier-only build. */
export const signProof = glue.signProof
/** Absent from the verifier-only build. */
export const approve = glue.approve

let pending = null

/** `decision.toCompactJwt(issuer, { issuerName, audience, ttlSeconds })` (non-enumerable; not in
 * the verifier-only build). */
function toCompactJwt(issuer, options) {
  return glue.__toCompactJwt(this, issuer, options)
}

function ready() {
  glue.__registerErrorClass(MarqueError)
  installReplayStore(glue.Verifier, glue.PendingAuthorization)
  if (glue.__toCompactJwt) glue.__registerDecisionMethod(toCompactJwt)
  // Compile the authorization path now (see src/warmup.rs): the first real `authorize` then
  // stays well inside the Datalog time limit.
  glue.__warmUp()
}

/**
 * Instantiates the module (once; later calls return the same promise). `input`: nothing (fetch
 * `marque_wasm_bg.wasm` next to this file), a URL or path string, a `Response`, bytes, or a
 * `WebAssembly.Module`.
 */
export default function init(input) {
  if (pending === null) {
    pending = glue
      .default(input === undefined ? undefined : { module_or_path: input })
      .then(() => ready())
      .catch((e) => {
        pending = null
        throw e
      })
  }
  return pending
}
export { init }

/** Instantiates the module synchronously from its bytes or a `WebAssembly.Module`. */
export function initSync(input) {
  glue.initSync({ module: input })
  ready()
  pending = Promise.resolve()
}
