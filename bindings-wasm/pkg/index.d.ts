// Types of @marque/wasm (hand-written; the same API as @marque/node where both exist).

/** Stable error codes of marque (the core's `ErrorKind::ALL`). */
export type ErrorCode =
  // BEGIN generated error codes: ts-union (core/tests/error_codes.rs)
  | 'invalid_token'
  | 'invalid_signature'
  | 'unknown_root_key'
  | 'expired'
  | 'revoked'
  | 'not_authorized'
  | 'invalid_proof'
  | 'replayed_proof'
  | 'depth_exceeded'
  | 'attenuation_widens'
  | 'limits_exceeded'
  | 'invalid_key'
  | 'invalid_jwt'
  | 'audit_chain_broken'
  | 'wrong_holder_key'
  | 'sealed'
  | 'invalid_argument'
  | 'revocation_list_stale'
  | 'revocation_list_invalid'
  | 'revocation_list_rollback'
  | 'signer_failed'
  | 'invalid_request'
  | 'replay_store_unavailable'
  | 'approval_required'
  | 'budget_exhausted'
  | 'internal'
  // END generated error codes

/** Every error code, in the core's stable order. */
export declare const ERROR_CODES: readonly ErrorCode[]
/** The same list, read from the module. */
export declare function errorCodes(): ErrorCode[]
/** The package version. */
export declare function version(): string

/**
 * The one error type: a real `Error` with a stable `code`. Thrown for malformed input, bad
 * signatures, unknown root keys, hit limits, widening delegations… — never for a policy denial
 * (that is a `Decision` with `allowed === false`, unless you call `authorizeOrThrow`).
 */
export declare class MarqueError extends Error {
  readonly name: 'MarqueError'
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: ErrorOptions)
}

/** Instantiates the module (browsers, Deno, workers). Not needed in Node (sync at import). */
export default function init(input?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>
export declare function init(input?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>
/** Instantiates the module synchronously from its bytes or a compiled `WebAssembly.Module`. */
export declare function initSync(input: BufferSource | WebAssembly.Module): void

/** A public key: a `PublicKey`, key text (hex, `ed25519/hex`, SPKI PEM, JWK JSON, `did:key`), 32 bytes or a JWK object. */
export type KeyInput = PublicKey | string | Uint8Array | Jwk
/** A time: seconds since the Unix epoch (fractions are floored) or a `Date`. Omitted: the host clock. Milliseconds (`Date.now()`) are refused: `invalid_argument`. */
export type TimeInput = number | Date
/** A token: a `Token`, its base64url text or its raw bytes. */
export type TokenInput = Token | string | Uint8Array
/** Bytes, or a string signed as UTF-8. */
export type BytesInput = Uint8Array | string

/** An RFC 8037 JWK for Ed25519. Only a private JWK (from `KeyPair.toJwk()`) has `d`. */
export interface Jwk {
  kty: string
  crv: string
  x: string
  kid?: string
  d?: string
  [member: string]: unknown
}

/** An Ed25519 key pair. The secret stays in wasm memory (zeroized on drop). */
export declare class KeyPair {
  private constructor()
  /** A fresh key pair from `crypto.getRandomValues` (absent from the verifier-only build). */
  static generate(): KeyPair
  static fromHex(hex: string): KeyPair
  static fromSeed(seed: Uint8Array): KeyPair
  static fromPem(pem: string): KeyPair
  static fromJwk(jwk: Jwk | string): KeyPair
  /** The 32-byte seed as hex (a secret). */
  toHex(): string
  /** PKCS#8 PEM (a secret). */
  toPem(): string
  /** The private JWK, with `d` (a secret). */
  toJwk(): Jwk
  get publicKey(): PublicKey
  /** Deterministic Ed25519; strings are signed as UTF-8. 64 bytes. */
  sign(message: BytesInput): Uint8Array
  /** `KeyPair(ed25519:…)`: never the secret. */
  toString(): string
  toJSON(): { publicKey: string }
  /** Releases the wasm memory now (otherwise done when garbage-collected). */
  free(): void
}

/** An Ed25519 public key. */
export declare class PublicKey {
  private constructor()
  static fromHex(hex: string): PublicKey
  static fromBytes(bytes: Uint8Array): PublicKey
  static fromPem(pem: string): PublicKey
  /** An object or JSON text; a private JWK is refused. */
  static fromJwk(jwk: Jwk | string): PublicKey
  static fromDid(did: string): PublicKey
  /** Any text form: hex, `ed25519/hex`, PEM, JWK JSON or `did:key`. */
  static parse(text: string): PublicKey
  toHex(): string
  toBytes(): Uint8Array
  toPem(): string
  /** RFC 8037 JWK, `kid` = the fingerprint. */
  toJwk(): Jwk
  /** `did:key:z6Mk…` */
  toDid(): string
  /** `ed25519:` + 16 hex digits of SHA-256 of the key. */
  get fingerprint(): string
  equals(other: KeyInput): boolean
  /** Throws `invalid_signature` when the signature does not verify (strict rules). */
  verify(message: BytesInput, signature: Uint8Array): void
  toString(): string
  toJSON(): string
  free(): void
}

/**
 * A key kept elsewhere (a KMS, an HSM, another process): its public key and a synchronous
 * `sign`. Every signature it returns is verified under `publicKey` before use: a wrong key,
 * garbage, a wrong length, a throwing `sign` or a result that is not a `Uint8Array` is
 * `signer_failed` (what `sign` threw is quoted in the message and is the error's `cause`).
 * Synchronous only: wasm runs on the JavaScript thread, so an async KMS client belongs to
 * `@marque/node`'s `*Async` variants (a returned Promise is `signer_failed`).
 */
export interface Signer {
  publicKey: KeyInput
  sign(message: Uint8Array): Uint8Array
}
/** Whatever signs: an in-memory `KeyPair` or a `Signer` object. */
export type SignerInput = KeyPair | Signer

/** One agent of a token's delegation chain. */
export interface Hop {
  agent: string
  path: string
  /** Public key, hex. */
  key: string
  fingerprint: string
}

/** A right: a tool, an operation and a resource prefix matched on segment boundaries (`"*"` = any). */
export interface Right {
  tool: string
  operation: string
  resource: string
}
/** A right as given to `mint`: objects or `"TOOL[:OPERATION[:RESOURCE]]"`; omitted parts are `"*"`. */
export type RightInit = { tool: string; operation?: string; resource?: string } | string

/** A marque token (Biscuit v3). Parsed, not trusted: only a `Verifier` decides. */
export declare class Token {
  private constructor()
  static fromBase64(text: string): Token
  static fromBytes(bytes: Uint8Array): Token
  /** base64url with padding. */
  toBase64(): string
  toBytes(): Uint8Array
  toJSON(): string
  toString(): string
  /** Readable Datalog of every block. */
  toDatalog(): string
  /** What the token claims, as the CLI's `marque inspect` JSON. */
  inspect(): Record<string, unknown>
  /**
   * Delegates to a child agent; `parent` must sign with the holder's key (`wrong_holder_key`),
   * asking for more than the holder has is `attenuation_widens` (absent from the verifier-only build).
   */
  delegate(parent: SignerInput, options: DelegateOptions): Token
  /** Seals the token: nobody can delegate it further (absent from the verifier-only build). */
  seal(): Token
  get agent(): string
  get path(): string
  get holderKey(): PublicKey
  get principal(): string
  get task(): string | null
  get workspace(): string | null
  get rights(): Right[]
  get issuedAt(): number
  get expiresAt(): number
  get depth(): number
  get maxDepth(): number
  get sealed(): boolean
  get rootKeyId(): number | null
  /** The servers the token is bound to (RFC 8707), canonical; empty: any server. */
  get audience(): string[]
  /** Root first. */
  get chain(): Hop[]
  /** Hex, one per block, authority first. */
  get revocationIds(): string[]
  free(): void
}

export interface MintOptions {
  /** The agent the token is for (at `/root`), e.g. `agent:orchestrator`. */
  agent: string
  agentKey: KeyInput
  /** On whose behalf, e.g. `user:alice`. */
  principal: string
  task?: string
  workspace?: string
  rights: RightInit[]
  ttlSeconds: number
  /** Default 4. */
  maxDepth?: number
  now?: TimeInput
  rootKeyId?: number
  /** The server(s) the token is for (RFC 8707 URIs, at most 16); a verifier with another audience, or none, refuses it. */
  audience?: string | string[]
}
/** Mints a token signed by the root key (absent from the verifier-only build). */
export declare function mint(root: SignerInput, options: MintOptions): Token

/** An omitted axis means "no further narrowing". Unknown keys are refused. */
export interface DelegateOptions {
  to: string
  toKey: KeyInput
  /** Only these tools (`["*"]`: unchanged). */
  tools?: string[]
  /** Only these operations (`["*"]`: unchanged). */
  operations?: string[]
  /** Only the resources this prefix covers, on segment boundaries (`src` and `src/` cover `src` and `src/…`, never `src2`; `repo:` and `channel#` are namespaces; `"*"`: unchanged). */
  resourcePrefix?: string
  /** Clamped to the parent's expiry. */
  ttlSeconds?: number
  maxDepth?: number
  now?: TimeInput
  /** Lifetime call budget of the child's subtree (a positive integer; no more than the chain above allows). */
  maxCalls?: number
  /** Rate budget of the child's subtree: at most `calls` calls per window of `windowSeconds` (integers). */
  rate?: { calls: number; windowSeconds: number }
  /** Calls of the child's subtree that need a human approval: `tool:operation:resourcePrefix` each. */
  requireApproval?: string[]
}

export interface ApproveOptions {
  /** The approver id the verifier trusts the key under (its `approvers` option), e.g. `user:alice`. */
  approver: string
  /** The digest to approve: `decision.approvalRequest.digest` of the denied call. */
  digest: string
  /** Lifetime in seconds (default 300; at most one day). */
  ttlSeconds?: number
  now?: TimeInput
}
/** Signs an approval of one exact call (absent from the verifier-only build); retry the call with `approval`. */
export declare function approve(approver: SignerInput, options: ApproveOptions): string
/** The digest an approval of this call with this token is bound to (what `approvalRequest.digest` carries). */
export declare function requestDigest(
  token: TokenInput,
  options: { tool: string; operation?: string; resource: string; attributes?: Record<string, string> },
): string

export interface ProofOptions {
  tool: string
  resource: string
  /** Default `"*"`. */
  operation?: string
  now?: TimeInput
  /** The URI of the server the proof is for (RFC 8707); a verifier with another audience, or none, refuses it. */
  audience?: string
}
/** Signs a proof of possession; `agent` must sign with the holder's key (absent from the verifier-only build). */
export declare function signProof(agent: SignerInput, token: TokenInput, options: ProofOptions): string

export interface Policy {
  id: string
  /** Datalog `allow if` / `deny if` / `check if` lines. */
  source: string
}
export interface Limits {
  maxTokenBytes: number
  maxBlocks: number
  maxFacts: number
  maxIterations: number
  maxTimeMicros: number
  proofWindowSeconds: number
  proofFutureSkewSeconds: number
  replayCacheCapacity: number
  /** How many unexpired proofs one signing key may hold in the replay cache (its quota). */
  replayCachePerKey: number
  maxResourceBytes: number
  /** How many verified tokens (signatures checked) are remembered; 0 turns the cache off. */
  verifiedCacheCapacity: number
  /** How many verified block prefixes are remembered (a token extending one, byte for byte, under the same root key has only its new blocks checked); 0 turns it off. */
  prefixCacheCapacity: number
}
export interface VerifierOptions {
  /** A list (derived key ids) or a map from root key id (u32, as a string) to key. */
  rootKeys: KeyInput[] | Record<string, KeyInput>
  policies?: Policy[]
  limits?: Partial<Limits>
  requireProof?: boolean
  /** This server's canonical URI (RFC 8707): proofs must name it; without it, a proof naming any server is refused. */
  audience?: string
  /** Keys whose signed revocation lists this verifier loads (none: no list is trusted). */
  operatorKeys?: KeyInput[]
  /**
   * Fail closed: `authorize` throws `revocation_list_stale` when no signed list is loaded or the
   * loaded one was issued more than this many seconds ago.
   */
  maxRevocationStaleness?: number
  /** Approvers trusted to approve calls: approver id (e.g. `user:alice`) → public key. */
  approvers?: Record<string, KeyInput>
  /** Calls needing a human approval (`approval_required` until approved): `tool:operation:resourcePrefix` each, e.g. `deploy:*:production/`. */
  approvalRules?: string[]
  /**
   * Operator policies in Rego (OPA). Only the Rego build (`scripts/build-wasm.sh --rego`,
   * `pkg-rego`) runs them; the default module refuses this option (`invalid_argument`).
   * `decision.policy` names `name@version#rule`.
   */
  rego?: RegoPolicy[]
  /** Roles for the Rego policies' `input.agent.role`: agent path or id → role (a path wins). */
  roles?: Record<string, string>
}
/** An operator policy in Rego (OPA v1 syntax): a package with an `allow` rule and optionally `require_approval`. */
export interface RegoPolicy {
  /** Names the policy in decisions: 1–128 of `[A-Za-z0-9-_.:/]`. */
  name: string
  /** Its version, likewise. */
  version?: string
  /** The Rego module text (at most 64 KiB). */
  source: string
  /** Operator data the policy reads as `data.…` (a JSON object, or its text). */
  data?: Record<string, unknown> | string
}
/** `new Verifier` options without `rootKeys` (they come from the JWKS document). */
export type JwksVerifierOptions = Omit<VerifierOptions, 'rootKeys'>
export interface AuthorizeOptions {
  tool: string
  /** Default `"*"`. */
  operation?: string
  resource: string
  proof?: string
  /** An approval of this exact call (`approve`); used once (with `authorizeWithStore`, claimed in its store after the proof's nonce). */
  approval?: string
  now?: TimeInput
  /** Offered to policies as `attribute(key, value)` facts. */
  attributes?: Record<string, string>
}
export interface Revocations {
  /** Block revocation ids: 128 lowercase hex digits each. */
  ids: string[]
  agents: string[]
  principals: string[]
  tasks: string[]
  /** Revoked agent public keys (lowercase hex); present when keys are revoked. */
  keys?: string[]
}

/**
 * A decision: a plain object with exactly the fields of the core's `Decision` JSON (so
 * `JSON.stringify(decision)` is the core's), plus non-enumerable camelCase aliases.
 */
export interface Decision {
  allowed: boolean
  /** When denied: `not_authorized`, `expired`, `revoked`, `depth_exceeded`, `invalid_proof`, `replayed_proof`. */
  code: ErrorCode | null
  agent: string
  path: string
  agent_key_fingerprint: string
  /** The acting agent's public key (hex). */
  agent_key: string
  principal: string
  task: string | null
  workspace: string | null
  /** Agent ids, root first. */
  chain: string[]
  /** Key fingerprints of the chain, root first (one per agent of `chain`). */
  chain_key_fingerprints: string[]
  policy: string | null
  reasons: string[]
  revocation_ids: string[]
  request: { tool: string; operation: string; resource: string; attributes?: Record<string, string> }
  time: number
  expires_at: number
  proof_verified: boolean
  /** The approval this allowed call used (enumerable only when present), else `null`. */
  readonly approval: Approval | null
  /** When denied `approval_required`: what to approve (non-enumerable; the JSON field is `approval_request`). */
  readonly approvalRequest: ApprovalRequest | null
  approval_request?: ApprovalRequest
  readonly agentKeyFingerprint: string
  readonly agentKey: string
  readonly chainKeyFingerprints: string[]
  readonly revocationIds: string[]
  readonly expiresAt: number
  readonly proofVerified: boolean
  /** The revocation id of the last block. */
  readonly tokenId: string | null
  /**
   * Token exchange: a short-lived EdDSA JWT for one downstream service (`sub` = the agent, `act`
   * = the chain, `scope` = `tool:operation`, `cnf.jkt`, `kid` = the issuer's fingerprint, `exp`
   * never past the token's). A denial is `not_authorized`. Absent from the verifier-only build.
   */
  toCompactJwt(issuer: SignerInput, options: { issuerName: string; audience: string; ttlSeconds: number }): string
}

/** The approval an allowed call used: who approved, with which key, when (seconds since the epoch). */
export interface Approval {
  approver: string
  key_fingerprint: string
  /** Non-enumerable camelCase alias of `key_fingerprint`. */
  readonly keyFingerprint: string
  iat: number
  exp: number
}
/** What an `approval_required` denial asks for. */
export interface ApprovalRequest {
  /** The digest of this exact call and token an approval must be bound to. */
  digest: string
  /** The approver ids whose approval the verifier accepts. */
  approvers: string[]
  /** What asked for the approval: an operator rule, a delegation's rule, or a policy. */
  reason: string
}

/** A JWKS document of root keys: `kid` is the key's fingerprint or a decimal root key id. */
export interface Jwks {
  keys: Jwk[]
}
/** The root keys of a JWKS document by root key id (usable as `rootKeys`); malformed: `invalid_key`. */
export declare function parseJwks(doc: Jwks | string): Record<string, PublicKey>
/** The JWKS document (JSON text) publishing root keys given as `rootKeys` are. */
export declare function toJwks(keys: KeyInput[] | Record<string, KeyInput>): string

export interface RevocationListSignOptions {
  /** Grows with every list the operator publishes (verifiers refuse to go back). */
  sequence: number
  /** The operator key. */
  signer: SignerInput
  /** Default: now. */
  issuedAt?: TimeInput
}
/**
 * A revocation set signed by an operator key, with an issue time and a sequence number (JSON:
 * `{"type":"marque-revocation-list","v":1,…}`). Verifiers load it only from their `operatorKeys`
 * and only forward; with `maxRevocationStaleness` they fail closed when it gets old.
 */
export declare class RevocationList {
  private constructor()
  /** Absent from the verifier-only build. */
  static sign(revocations: Partial<Revocations> | string, options: RevocationListSignOptions): RevocationList
  /** Checks the signature against the issuer it names: `invalid_signature`, `revocation_list_invalid`. */
  static fromJson(json: string | object): RevocationList
  /** RFC 8785 canonical JSON (what to publish). */
  toJson(): string
  toJSON(): Record<string, unknown>
  get issuer(): PublicKey
  get issuedAt(): number
  get sequence(): number
  get revoked(): Revocations
  free(): void
}

/** What one poll did: a newly loaded list's sequence, why it failed, seconds to the next poll. */
export interface FeedOutcome {
  loaded: number | null
  error: string | null
  nextPollIn: number
}

/**
 * What a revocation poller knows between polls (the core's `feed::FeedState`): the URL
 * (http/https, no user info), the `ETag` to send back, consecutive failures. No state file at
 * the edge: keep the last list in the platform's storage and load it with
 * `verifier.loadRevocationList` before the first poll.
 */
export declare class RevocationFeedState {
  constructor(url: string, options?: { interval?: number; maxBackoff?: number })
  get url(): string
  get etag(): string | undefined
  get failures(): number
  get lastSuccess(): number | undefined
  get lastError(): string | undefined
  freshness(verifier: Verifier, options?: { now?: TimeInput }): number | undefined
  apply(verifier: Verifier, status: number, etag: string | null, body: Uint8Array, options?: { now?: TimeInput }): FeedOutcome
  failed(why: string): FeedOutcome
  free(): void
}




/**
 * An otherwise-allowed call waiting for its single-use state (`authorizeBegin`): the proof's
 * nonce to claim, then the budget charges to spend (`authorizeWithStore` does both).
 */
export declare class PendingAuthorization {
  private constructor()
  /** The next key to claim (the proof's nonce, then an approval's): `marque:replay:` + 64 hex digits; `null` when none is (left) to claim. */
  readonly key: string | null
  /** For `authorizeMcpBegin`: the message's JSON-RPC method (else `null`). */
  readonly mcpMethod: string | null
  /** For `authorizeMcpBegin`: the request the message maps to (else `null`). */
  readonly mcpRequest: McpRequest | null
  /** How long the store must hold the key, in milliseconds. */
  readonly ttlMs: number | null
  /** The budget counters to spend, in hop order, all or nothing (empty: no budget). */
  readonly charges: CounterCharge[]
  /** The replay store's answer for `key`: `false` → `replayed_proof` (the nonce) or `approval_required` (a used approval); `true` → allowed, or `null` when still pending. */
  claimed(claimed: boolean): Decision | null
  /** The counter store's answer: 0 → allowed; `i` → `budget_exhausted` (the `i`-th charge); else throws `replay_store_unavailable`. */
  spent(reply: number): Decision
  /** A call without budgets: `true` → allowed; `false` → denied `replayed_proof`. Once. */
  finish(claimed: boolean): Decision
  /** Throws `replay_store_unavailable` with `reason`. */
  fail(reason: string): Decision
  free(): void
}

/** The Lua script of a Redis/Valkey `CounterStore` (the core's `REDIS_SPEND_SCRIPT`). */
export declare function redisSpendScript(): string

export declare class Verifier {
  constructor(options: VerifierOptions)
  /** Trusts the root keys of a JWKS document (`invalid_key` when malformed). */
  static fromJwks(doc: Jwks | string, options?: JwksVerifierOptions | null): Verifier
  /** Rotation: replaces every root key with the document's; a malformed one changes nothing. */
  setRootKeysFromJwks(doc: Jwks | string): void
  /**
   * Loads a signed list (replacing the previous one): `revocation_list_invalid` unless an
   * operator key signed it, `revocation_list_rollback` unless it moves forward (higher sequence,
   * not older). `false` when it is the list already loaded.
   */
  loadRevocationList(list: RevocationList | string | object, options?: { now?: TimeInput } | null): boolean
  get revocationList(): RevocationList | null
  get maxRevocationStaleness(): number | null
  /** This verifier's audience (its canonical URI), or `null`. */
  get audience(): string | null
  /** Throws for bad signatures, unknown roots, malformed tokens and hit limits; a refusal is a `Decision`. */
  authorize(token: TokenInput, options: AuthorizeOptions): Decision
  /** A denial throws a `MarqueError` whose code is the denial code. */
  authorizeOrThrow(token: TokenInput, options: AuthorizeOptions): Decision
  /**
   * `authorize` with the call's single-use state in shared stores (awaited) instead of this
   * isolate's memory: the proof's nonce claimed by `store.claim` (a proof accepted by one
   * process is `replayed_proof` at all), then the budgets of every hop spent by `store.spend`
   * (a fleet shares each delegation's `max_calls` / `rate`; exhausted → `budget_exhausted`
   * naming the hop). Only for an otherwise-allowed call; a store that rejects, times out
   * (`storeOptions.timeoutMs`, default 2000) or answers anything else rejects with
   * `replay_store_unavailable` (never an allow); a call needing a method the store lacks is
   * `invalid_argument`, refused before anything is claimed.
   * (`authorize` keeps the in-memory stores.)
   */
  authorizeWithStore(token: TokenInput, options: AuthorizeOptions, store: AuthorizeStore, storeOptions?: StoreOptions): Promise<Decision>
  /** The first half of `authorize` (see `authorizeWithStore`): a decision, or a pending claim. */
  authorizeBegin(token: TokenInput, options: AuthorizeOptions): Decision | PendingAuthorization
  /** Signatures and structure only. */
  verify(token: TokenInput): Token
  /** Why `token` is revoked under this verifier's revocation set, or `null`. */
  revocationReason(token: Token): string | null
  /**
   * Throws `revocation_list_stale` when `maxRevocationStaleness` is set and the signed list is
   * missing or older than that at `now` (default: the host clock): the check `authorize` makes
   * first, for requests admitted without a tool call.
   */
  checkRevocationListFresh(options?: { now?: number | Date }): void
  /**
   * Admits a token at the door: revocation-list staleness, signatures, expiry, revocation and
   * depth, failing closed with the matching `MarqueError`; returns the holder and its effective
   * (narrowed) rights as `scopes`.
   */
  admit(token: TokenInput, options?: { now?: TimeInput } | null): Admission
  /** Admits the bearer text `token` like `admit` and returns its OAuth `AuthInfo` (core-built). */
  authInfo(token: string, options?: { now?: TimeInput } | null): AuthInfo
  /**
   * Maps one MCP message with `config` and decides it (`invalid_request` for a message marque
   * refuses, `not_authorized` for a mapped message without a token).
   */
  authorizeMcp(config: McpConfig | McpConfigJson | null | undefined, message: object | string, options?: McpCallOptions | null): McpOutcome
  /** `authorizeMcp` up to the call's single-use state (see `authorizeMcpWithStore`): the outcome, or a pending claim naming the message. */
  authorizeMcpBegin(config: McpConfig | McpConfigJson | null | undefined, message: object | string, options?: McpCallOptions | null): McpOutcome | PendingAuthorization
  /**
   * `authorizeMcp` with the call's single-use state (a proof's nonce, an approval, the budgets)
   * in `store`, shared by a fleet — the edge's counterpart of `@marque/node`'s `guardTools({ store })`. The core maps and decides
   * the message (`authorizeMcpBegin`); the store is asked as by `authorizeWithStore`.
   */
  authorizeMcpWithStore(config: McpConfig | McpConfigJson | null | undefined, message: object | string, options: McpCallOptions | null | undefined, store: AuthorizeStore, storeOptions?: StoreOptions): Promise<McpOutcome>
  /** Revokes a block revocation id (the 128 hex digits of `token.revocationIds`); a malformed id throws `invalid_argument`. */
  revoke(revocationId: string): void
  /** Throws `invalid_argument` unless `agentId` is an agent id. */
  revokeAgent(agentId: string): void
  /** Revokes every token whose chain holds this public key, under whatever agent id. */
  revokeKey(key: KeyInput): void
  revokePrincipal(principal: string): void
  revokeTask(task: string): void
  get revocations(): Revocations
  mergeRevocations(set: Partial<Revocations> | string): void
  get limits(): Limits
  free(): void
}


/** An admitted token (`verifier.admit`). */
export interface Admission {
  agent: string
  path: string
  agentKeyFingerprint: string
  agentKey: string
  principal: string
  task: string | null
  workspace: string | null
  /** Agent ids of the delegation chain, root first. */
  chain: string[]
  issuedAt: number
  expiresAt: number
  rootKeyId: number | null
  tokenId: string
  revocationIds: string[]
  /** The effective rights (narrowed by every hop) as `tool:operation:resource`, at most 256. */
  scopes: string[]
  time: number
}

/** One tool's mapping in an MCP configuration (the core's JSON form, snake_case). */
export interface McpToolConfigJson {
  tool?: string
  operation?: string
  resource_arg?: string
  resource?: string
  /** Request attributes from string arguments, by attribute name (`{ 'resource.env': 'env' }`); missing or not a string is refused. */
  attribute_args?: Record<string, string>
  /** Fixed request attributes of every call of this tool. */
  attributes?: Record<string, string>
}

/** An MCP configuration in the core's JSON form; unknown keys are refused. */
export interface McpConfigJson {
  allow?: string[]
  tools?: Record<string, McpToolConfigJson>
  /** The server's canonical URI (RFC 8707): agents bind their proofs to it; a server's verifier must have it as its `audience`. */
  resource?: string
}

/** A marque request an MCP message maps to. */
export interface McpRequest {
  tool: string
  operation: string
  resource: string
  /** The request attributes the tool's mapping gives (`attribute_args`, `attributes`); absent when none. */
  attributes?: Record<string, string>
}

/** What travels beside an MCP message. */
export interface McpCallOptions {
  /** The transport's token (the bearer token). */
  token?: TokenInput
  /** The transport's proof (the `Marque-Proof` header). */
  proof?: string
  /** The transport's approval of the call (the `Marque-Approval` header); else `_meta["marque/approval"]`. */
  approval?: string
  /** The `Mcp-Method` header (must match the body). */
  mcpMethod?: string
  /** The `Mcp-Name` header (must match the body; `=?base64?…?=` is decoded). */
  mcpName?: string
  /** For a `tools/call` whose tool declares no resource: the application's resource. */
  resource?: string
  now?: TimeInput
}

/** How an MCP server maps messages to marque requests. */
export declare class McpConfig {
  constructor(config?: McpConfigJson | string | null)
  /** Maps one message; throws `invalid_request` for a message marque refuses. */
  map(message: object | string, options?: Omit<McpCallOptions, 'now'> | null): { method: string | null; request: McpRequest | null; token: string | null; proof: string | null; approval?: string }
  /**
   * The agent's side of `map`: the HTTP headers to send with `message` as the holder of `token`
   * (`Authorization`, `Marque-Proof` for a message the server authorizes, `Mcp-Method`,
   * `Mcp-Name`); throws `invalid_request` for a message the server would refuse. Not in the
   * verifier-only build.
   */
  clientHeaders(message: object | string, token: TokenInput, agent: SignerInput, options?: { now?: TimeInput } | null): Record<string, string>
  isAllowed(method: string): boolean
  get allow(): string[]
  /** The server's canonical URI (the audience of agents' proofs), or `null`. */
  get resource(): string | null
  toJSON(): McpConfigJson
  free(): void
}

/** What `verifier.authorizeMcp` decided. */
export interface McpOutcome {
  allowed: boolean
  method: string | null
  request: McpRequest | null
  decision: Decision | null
  admission: Admission | null
}

/** RFC 9728 protected-resource metadata (plus `marque_*` extension members). */
export interface ProtectedResourceMetadata {
  resource: string
  bearer_methods_supported: string[]
  authorization_servers?: string[]
  scopes_supported?: string[]
  resource_name?: string
  resource_documentation?: string
  marque_token_format: 'biscuit-v3'
  marque_proof_header: string
  marque_meta_keys: { token: string; proof: string }
  marque_root_keys?: Jwk[]
}

/** A `WWW-Authenticate: Bearer …` header value (the core's one quoting rule for every value). */
export declare function wwwAuthenticate(options?: {
  realm?: string
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope'
  errorDescription?: string
  scope?: string[]
  resourceMetadata?: string
} | null): string
/** The text of a challenge value after the core's quoting rule. */
export declare function challengeValue(text: string): string
/** The token of an `Authorization: Bearer <token>` header value, else `null`. */
export declare function bearerToken(authorization: string): string | null
/** The HTTP status and RFC 6750 error for a marque code (`null`: no credentials). */
export declare function httpRefusal(code: string | null): { status: number; error: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | null }
/** The RFC 9728 §3.1 metadata URL of a protected resource. */
export declare function resourceMetadataUrl(resource: string): string
/** RFC 9728 protected-resource metadata for a marque-guarded server. */
export declare function protectedResourceMetadata(options: {
  resource: string
  authorizationServers?: string[]
  scopesSupported?: string[]
  resourceName?: string
  resourceDocumentation?: string
  rootKeys?: KeyInput[]
}): ProtectedResourceMetadata
/** The default allow-list of `McpConfig`. */
export declare function mcpDefaultAllow(): string[]

/** An audit event to append: `chain` defaults to `[]` and `attributes` to `{}`. */
export type AuditEventInit = Omit<AuditEvent, 'chain' | 'attributes'> & { chain?: string[]; attributes?: Record<string, unknown> }

export type AuditProblemKind = string
export interface AuditProblem {
  /** 0-based index of the first bad entry. */
  index: number
  kind: AuditProblemKind
  message: string
}
/** A broken log is a report, not an exception (use `verifyOrThrow` for `audit_chain_broken`). */
export interface AuditReport {
  ok: boolean
  entries: number
  /** Digest (hex) of the last verified entry: pass it as `expectedHead` next time. */
  head: string
  problem: AuditProblem | null
}

/** One signed audit entry (RFC 8785 canonical JSON, Ed25519, hash-chained by `prev`). */
export declare class Envelope {
  private constructor()
  static fromJson(json: string): Envelope
  toJson(): string
  get event(): AuditEvent
  get seq(): number
  get prev(): string
  get digest(): string
  get signer(): PublicKey
  get signerFingerprint(): string
  get signature(): string
  verify(trustedKeys: KeyInput[]): void
  otelAttributes(): Record<string, unknown>
  free(): void
}

/** An append-only, hash-chained audit log in memory (JSONL). */
export declare class AuditLog {
  constructor()
  /** Never fails: a damaged log can still be verified, and the damage reported. */
  static fromJsonl(text: string): AuditLog
  toJsonl(): string
  append(signer: SignerInput, event: AuditEventInit | string): Envelope
  /** Records a `Decision` with the core's mapping; event type `"authorization"` unless given. */
  appendDecision(signer: SignerInput, decision: Decision, eventType?: string | null): Envelope
  get length(): number
  get head(): string
  envelopes(): Envelope[]
  verify(trustedKeys: KeyInput[], options?: { expectedHead?: string } | null): AuditReport
  verifyOrThrow(trustedKeys: KeyInput[], options?: { expectedHead?: string } | null): AuditReport
  free(): void
}

/** JWT claims (RFC 7519 + RFC 8693 `act`, `cnf`), unregistered claims kept. */
export type JwtClaims = Record<string, unknown> & { exp: number; iss?: string; sub?: string; aud?: string | string[]; nbf?: number; iat?: number; jti?: string }
/** Issues a compact JWT (`alg: EdDSA`); `claims` must include a numeric `exp`. */
export declare function jwtIssue(signer: SignerInput, claims: JwtClaims | string, options?: { kid?: string } | null): string
export interface JwtVerifyOptions {
  /** `aud` must be (or contain) this. Unset: a token with an `aud` is refused. */
  audience?: string
  issuer?: string
  /** Default 30. */
  leewaySeconds?: number
  /** Default 8 KiB. */
  maxSize?: number
  require?: string[]
  now?: TimeInput
}
/** Verifies strictly (EdDSA only, key by `kid`, `exp` required): `invalid_jwt`, `expired`, `limits_exceeded`. */
export declare function jwtVerify(token: string, keys: KeyInput[] | Record<string, KeyInput>, options?: JwtVerifyOptions | null): JwtClaims

// BEGIN shared types (types/shared.d.ts; node scripts/shared-types.mjs)
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
// END shared types
