// Types shared by @marque/node and @marque/wasm, written once: `node scripts/shared-types.mjs`
// copies them into bindings-node/types/header.d.ts and bindings-wasm/pkg/index.d.ts (between the
// "shared types" markers); tests/js/twins.test.mjs fails when a copy differs.

/** An audit event in its wire form (snake_case, `docs/AUDIT.md`), as read back from an `Envelope`. */
export interface AuditEvent {
  event_type: string
  agent_id: string
  agent_key_fingerprint: string
  chain: string[]
  principal: string
  task?: string
  action: string
  operation?: string
  resource: string
  decision: 'allow' | 'deny'
  policy_id: string
  policy_version?: string
  timestamp: number
  token_id?: string
  approval?: Record<string, unknown>
  attributes: Record<string, unknown>
  /** Tokens, model and cost attributed to the event (signed with it; `docs/AUDIT.md`). */
  usage?: AuditUsage
}

/**
 * Usage on an audit event: integers from 0 to 2^53 - 1, `model` 1 to 256 bytes, at least one
 * member; exported as `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`,
 * `gen_ai.request.model` and `marque.usage.cost_usd_micros` (millionths of a US dollar).
 */
export interface AuditUsage {
  input_tokens?: number
  output_tokens?: number
  model?: string
  cost_usd_micros?: number
}

/**
 * The OAuth `AuthInfo` of an admitted bearer token (`verifier.authInfo`), built by the core: what
 * the MCP SDKs' bearer auth records. `resource` is the verifier's audience (text here; the MCP
 * helpers hand the SDK a `URL`), absent when it has none.
 */
export interface AuthInfo {
  token: string
  clientId: string
  scopes: string[]
  expiresAt: number
  resource?: string
  extra: {
    marque: {
      agent: string
      path: string
      principal: string
      task: string | null
      workspace: string | null
      agentKeyFingerprint: string
      agentKey: string
      chain: string[]
      tokenId: string
      revocationIds: string[]
    }
  }
}

/** Options of `new RevocationFeed(verifier, url, options)`; times in seconds. */
export interface RevocationFeedOptions {
  /** Seconds between polls while the publisher answers (default 30; 1..=3600). */
  interval?: number
  /** The longest wait after consecutive failures (default 300). */
  maxBackoff?: number
  /** Per request (default 5; at most 60). */
  timeoutSeconds?: number
  /** Node only: keeps the last loaded list across restarts (loaded before the first poll). */
  stateFile?: string
  /** Sent with every poll (credentials go here, never in the URL). */
  headers?: Record<string, string>
  /** Default: `globalThis.fetch`. */
  fetch?: typeof fetch
}

/**
 * Polls `url` for the operator's signed revocation list and keeps `verifier` current; every
 * decision is the core's (`RevocationFeedState`): a new list is loaded with every list check
 * (rollback refused), a 304 keeps the list, anything else keeps it and backs off.
 */
export declare class RevocationFeed {
  constructor(verifier: Verifier, url: string, options?: RevocationFeedOptions)
  readonly verifier: Verifier
  readonly state: RevocationFeedState
  readonly timeoutSeconds: number
  readonly headers: Record<string, string>
  readonly fetch: typeof fetch
  /** The sequence of the list `stateFile` restored, or `null`. */
  readonly restored: number | null
  /** Polls made so far. */
  readonly polls: number
  /** Whether `start()` is polling. */
  readonly running: boolean
  readonly timer: unknown
  readonly done: Promise<void> | undefined
  get url(): string
  /** Seconds since the list in force was issued (`null`: none loaded). */
  freshness(): number | null
  /** One poll. */
  pollOnce(): Promise<FeedOutcome>
  /** Polls now, then on a timer until `stop()`. */
  start(): this
  /** Stops polling (the list in force stays loaded). */
  stop(): Promise<void>
}

/**
 * A replay store shared by several isolates or processes (Redis/Valkey, a Durable Object, …),
 * for `Verifier.authorizeWithStore`. `claim(key, ttlMs)` sets `key` only if it is absent, for
 * `ttlMs` milliseconds, atomically, and resolves `true` when it did, `false` when `key` was
 * already set. A rejection, a timeout or any other value fails the call closed
 * (`replay_store_unavailable`). `key` is `marque:replay:` + 64 hex digits (no token material);
 * `ttlMs` is the proof window plus the future skew.
 */
export interface ReplayStore {
  claim(key: string, ttlMs: number): Promise<boolean>
}

/** One budget counter a call spends: `key` is `marque:budget:` + 64 hex digits (no token material). */
export interface CounterCharge {
  readonly key: string
  /** Most calls the counter may count. */
  readonly limit: number
  /** How long the store keeps a new counter, in milliseconds. */
  readonly ttlMs: number
}

/**
 * A budget counter store shared by several isolates or processes, for
 * `Verifier.authorizeWithStore`. `spend(charges)` spends one call against every counter,
 * atomically and all or nothing: it resolves 0 when each had room (each now counts one more;
 * a new counter lives `ttlMs`), else the 1-based index of the first counter at its `limit`
 * (nothing counted). A rejection, a timeout or any other value fails the call closed
 * (`replay_store_unavailable`). Redis/Valkey: `EVAL redisSpendScript()` with the keys, then each
 * charge's limit and ttlMs.
 */
export interface CounterStore {
  spend(charges: readonly CounterCharge[]): Promise<number>
}

/** What `authorizeWithStore` uses: a replay store, a counter store, or one object that is both. */
export type AuthorizeStore = ReplayStore | CounterStore | (ReplayStore & CounterStore)

/** Options of `authorizeWithStore` (unknown keys are refused). */
export interface StoreOptions {
  /** How long each store answer may take, in milliseconds (default 2000, at most 60000); later is a failure (`replay_store_unavailable`). */
  timeoutMs?: number
}
