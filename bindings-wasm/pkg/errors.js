// Generated from errors.cjs by scripts/shared-types.mjs: edit errors.cjs, then run it.
// The JavaScript shared by both packages: every error thrown is a `MarqueError`, a real `Error`
// with a stable `code`, constructed by Rust (src/errors.rs, bindings-node/src/errors.rs); the
// class guard, the replay-store and revocation-feed glue. This CommonJS file is node.cjs's and
// @marque/node's errors.js (scripts/build-node.sh copies it); errors.js, the ES module form for
// browsers, Deno and workerd, is generated from it (scripts/shared-types.mjs).
export const ERROR_CODES = Object.freeze([
  // BEGIN generated error codes: js-codes (core/tests/error_codes.rs)
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
  'approval_required',
  'budget_exhausted',
  'internal',
  // END generated error codes
])
const known = new Set(ERROR_CODES)

export class MarqueError extends Error {
  constructor(code, message, options) {
    super(message, options)
    this.code = known.has(code) ? code : 'internal'
  }
}
Object.defineProperty(MarqueError.prototype, 'name', { value: 'MarqueError', writable: true, configurable: true })

/**
 * Adds `Verifier.prototype.authorizeWithStore(token, options, store, storeOptions)`: `authorize`
 * with the call's single-use state kept in stores shared by several isolates or processes (a
 * Durable Object, Redis, …) that answer asynchronously. `store` has `claim(key, ttlMs) →
 * Promise<boolean>` (the proof's nonce) and/or `spend(charges) → Promise<number>` (the budgets:
 * 0 when every counter had room and now counts one more call, else the 1-based index of the
 * first exhausted one, nothing counted — what `redisSpendScript()` answers). The core decides
 * everything but the single-use state (`authorizeBegin`) and the order (nonce, then budgets);
 * this only awaits the store, bounded by `storeOptions.timeoutMs` (default 2000), and converts
 * its answer. A rejection, a timeout or any other answer is the store failing:
 * `replay_store_unavailable`, fail closed — the core's rule. A call that needs a method the
 * store lacks is refused (`invalid_argument`) before anything is claimed.
 */
const STORE_OPTIONS = ['timeoutMs']
const STORE_SHAPE = 'store must be an object with claim(key, ttlMs) → Promise<boolean> and/or spend(charges) → Promise<number>'

function storeTimeout(storeOptions) {
  if (storeOptions === undefined || storeOptions === null) return 2000
  if (typeof storeOptions !== 'object') throw new MarqueError('invalid_argument', 'authorizeWithStore storeOptions must be an object')
  for (const k of Object.keys(storeOptions)) {
    if (!STORE_OPTIONS.includes(k)) throw new MarqueError('invalid_argument', `authorizeWithStore: unknown store option \`${k}\` (expected one of: ${STORE_OPTIONS.join(', ')})`)
  }
  const { timeoutMs = 2000 } = storeOptions
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0 && timeoutMs <= 60000)) {
    throw new MarqueError('invalid_argument', 'authorizeWithStore: timeoutMs is milliseconds in (0, 60000]')
  }
  return timeoutMs
}

/** `{ value }` when `call()` settles within `ms`, else `{ error }` naming what went wrong. */
async function answer(what, call, ms) {
  let timer
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ error: `the ${what} did not answer within ${ms} ms` }), ms)
  })
  try {
    const settled = Promise.resolve()
      .then(call)
      .then(
        (value) => ({ value }),
        (e) => ({ error: `the ${what} rejected: ${e instanceof Error ? e.name : typeof e}` }),
      )
    return await Promise.race([settled, late])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Claims and spends what a pending call `step` asks, in `store`, in the core's order (the
 * proof's nonce, then an approval's key, then the budgets): the decision, or the store's
 * failure (`replay_store_unavailable`). A call that needs a method the store lacks is refused
 * (`invalid_argument`) before anything is claimed.
 */
async function settle(step, store, ms) {
  const charges = step.charges
  // Refused before anything is claimed: nothing is used by a call that cannot complete.
  if (step.key != null && typeof store.claim !== 'function') {
    step.free?.()
    throw new MarqueError('invalid_argument', 'this call has a proof or an approval to claim: the store has no claim(key, ttlMs)')
  }
  if (charges.length > 0 && typeof store.spend !== 'function') {
    step.free?.()
    throw new MarqueError('invalid_argument', 'this token carries call budgets: the store has no spend(charges) (see redisSpendScript)')
  }
  // The proof's nonce, then a human approval's own key: each claimed once, in that order.
  while (step.key != null) {
    const { key, ttlMs } = step
    const got = await answer('replay store', () => store.claim(key, ttlMs), ms)
    if (got.error !== undefined) return step.fail(got.error)
    if (typeof got.value !== 'boolean') return step.fail(`the replay store answered ${typeof got.value}, not a boolean`)
    const decided = step.claimed(got.value)
    if (decided !== null) return decided
  }
  const spend = charges.map(({ key, limit, ttlMs }) => Object.freeze({ key, limit, ttlMs }))
  const got = await answer('counter store', () => store.spend(spend), ms)
  if (got.error !== undefined) return step.fail(got.error)
  if (!Number.isSafeInteger(got.value)) return step.fail(`the counter store answered ${typeof got.value === 'number' ? got.value : typeof got.value}, not a counter index`)
  return step.spent(got.value)
}

function checkStore(store) {
  if (store === null || typeof store !== 'object') throw new MarqueError('invalid_argument', STORE_SHAPE)
  if (typeof store.claim !== 'function' && typeof store.spend !== 'function') throw new MarqueError('invalid_argument', STORE_SHAPE)
}

export function installReplayStore(Verifier, PendingAuthorization) {
  Object.defineProperty(Verifier.prototype, 'authorizeWithStore', {
    value: async function authorizeWithStore(token, options, store, storeOptions) {
      checkStore(store)
      const ms = storeTimeout(storeOptions)
      const step = this.authorizeBegin(token, options)
      if (!(step instanceof PendingAuthorization)) return step
      return settle(step, store, ms)
    },
    writable: true,
    configurable: true,
  })
  // `authorizeMcp` with the call's single-use state in `store` (the core maps and decides the
  // message, `authorizeMcpBegin`): an `McpOutcome`, or `{ allowed, method, request, decision,
  // admission: null }` once the pending call is settled.
  if (typeof Verifier.prototype.authorizeMcpBegin === 'function') {
    Object.defineProperty(Verifier.prototype, 'authorizeMcpWithStore', {
      value: async function authorizeMcpWithStore(config, message, options, store, storeOptions) {
        checkStore(store)
        const ms = storeTimeout(storeOptions)
        const step = this.authorizeMcpBegin(config, message, options)
        if (!(step instanceof PendingAuthorization)) return step
        const method = step.mcpMethod
        const request = step.mcpRequest
        const decision = await settle(step, store, ms)
        return { allowed: decision.allowed, method, request, decision, admission: null }
      },
      writable: true,
      configurable: true,
    })
  }
}

/**
 * The class guard of both packages, for what the generated class glue does not let Rust refuse:
 * a class called without `new` (napi-rs's callback would wrap the global object), and `new` on a
 * class that has only static factories (napi-rs throws a plain `Error`; wasm-bindgen would make an
 * instance holding no value). Both throw `invalid_argument`. `api` is the module's exports; the
 * classes (capitalised functions) are replaced by proxies, everything else is kept. Instances
 * made in Rust, `instanceof`, static factories and methods are the native class's own.
 * `factoriesConstruct`: @marque/node, whose static factories go through `new` on the class.
 */
const CONSTRUCTIBLE = ['AuditFile', 'AuditLog', 'McpConfig', 'RevocationFeed', 'RevocationFeedState', 'Verifier']
export function guardClasses(api, { factoriesConstruct = false } = {}) {
  const out = { ...api }
  for (const [name, value] of Object.entries(api)) {
    if (typeof value !== 'function' || !/^[A-Z]/.test(name)) continue
    out[name] = new Proxy(value, {
      apply() {
        throw new MarqueError('invalid_argument', `Class constructor ${name} cannot be invoked without 'new'`)
      },
      construct(target, args) {
        if (CONSTRUCTIBLE.includes(name)) return Reflect.construct(target, args)
        // napi-rs's static factories construct through this same path: only a failure is answered.
        if (factoriesConstruct) {
          try {
            return Reflect.construct(target, args)
          } catch (e) {
            if (e instanceof MarqueError) throw e
          }
        }
        throw new MarqueError('invalid_argument', `${name} has no constructor: use its static factories`)
      },
    })
  }
  return out
}

/**
 * `installRevocationFeed(RevocationFeedState, Verifier)` → the `RevocationFeed` class of both
 * packages: polls the URL where the operator publishes its signed revocation list and keeps a
 * verifier current. Every decision is the core's `RevocationFeedState` (a new list loaded with
 * every list check, rollback refused; 304 keeps the list; anything else keeps it and backs off;
 * the staleness rule fails calls closed while the publisher is away); this only fetches:
 * `If-None-Match`, no redirects, a timeout, a body capped at 16 MiB.
 *
 *   const feed = new RevocationFeed(verifier, 'https://ops.example.com/revocations.json', { interval: 30 })
 *   feed.start()   // polls now, then on a timer (unref'd in Node); feed.stop()
 *
 * Options: `interval`, `maxBackoff`, `timeoutSeconds` (seconds), `stateFile` (Node: the last list
 * kept across restarts), `headers`, `fetch` (default `globalThis.fetch`).
 */
export function installRevocationFeed(RevocationFeedState, Verifier) {
  const MAX_BODY = 16 * 1024 * 1024
  const OPTIONS = ['interval', 'maxBackoff', 'timeoutSeconds', 'stateFile', 'headers', 'fetch']
  return class RevocationFeed {
    constructor(verifier, url, options = {}) {
      if (!(verifier instanceof Verifier)) throw new MarqueError('invalid_argument', 'RevocationFeed: verifier must be a marque Verifier')
      if (options === null || typeof options !== 'object') throw new MarqueError('invalid_argument', 'RevocationFeed options must be an object')
      for (const k of Object.keys(options)) {
        if (!OPTIONS.includes(k)) throw new MarqueError('invalid_argument', `RevocationFeed: unknown option \`${k}\` (expected one of: ${OPTIONS.join(', ')})`)
      }
      const { interval, maxBackoff, timeoutSeconds = 5, stateFile, headers = {}, fetch = globalThis.fetch } = options
      if (typeof timeoutSeconds !== 'number' || !(timeoutSeconds > 0 && timeoutSeconds <= 60)) {
        throw new MarqueError('invalid_argument', 'RevocationFeed: timeoutSeconds is seconds in (0, 60]')
      }
      if (typeof fetch !== 'function') throw new MarqueError('invalid_argument', 'RevocationFeed: no fetch function')
      this.verifier = verifier
      this.state = new RevocationFeedState(url, { ...(interval === undefined ? {} : { interval }), ...(maxBackoff === undefined ? {} : { maxBackoff }) })
      this.timeoutSeconds = timeoutSeconds
      this.headers = { ...headers }
      this.fetch = fetch
      if (stateFile !== undefined && typeof this.state.useStateFile !== 'function') {
        throw new MarqueError('invalid_argument', 'RevocationFeed: no stateFile at the edge (no file system): load the kept list with verifier.loadRevocationList')
      }
      this.restored = stateFile === undefined ? null : this.state.useStateFile(stateFile, verifier)
      this.polls = 0
      this.timer = null
      this.running = false
    }

    get url() {
      return this.state.url
    }

    /** Seconds since the list in force was issued (`null`: none loaded). */
    freshness() {
      return this.state.freshness(this.verifier)
    }

    /** One poll: `{ loaded, error, nextPollIn }`. */
    async pollOnce() {
      this.polls += 1
      const headers = { ...this.headers }
      const etag = this.state.etag
      if (etag) headers['If-None-Match'] = etag
      let response
      try {
        response = await this.fetch(this.state.url, { headers, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutSeconds * 1000) })
      } catch (e) {
        return this.state.failed(`${e?.name ?? 'Error'}: ${e?.message ?? e}`)
      }
      let body = new Uint8Array(0)
      if (response.status === 200) {
        try {
          const buf = await response.arrayBuffer()
          body = new Uint8Array(buf.byteLength > MAX_BODY ? buf.slice(0, MAX_BODY + 1) : buf)
        } catch (e) {
          return this.state.failed(`${e?.name ?? 'Error'} reading the body: ${e?.message ?? e}`)
        }
      } else {
        await response.body?.cancel?.().catch?.(() => {})
      }
      return this.state.apply(this.verifier, response.status, response.headers.get('etag'), body)
    }

    /** Polls now and then on a timer until `stop()`. */
    start() {
      if (this.running) throw new MarqueError('invalid_argument', 'the feed is already running')
      this.running = true
      const tick = async () => {
        if (!this.running) return
        const outcome = await this.pollOnce()
        if (!this.running) return
        this.timer = setTimeout(tick, outcome.nextPollIn * 1000)
        this.timer?.unref?.()
      }
      this.done = tick()
      return this
    }

    /** Stops polling (the list in force stays loaded). */
    async stop() {
      this.running = false
      if (this.timer !== null) clearTimeout(this.timer)
      this.timer = null
      await this.done
    }
  }
}
