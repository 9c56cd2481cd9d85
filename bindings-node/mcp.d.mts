// Types of @marque/node/mcp (hand-written; the module is plain JavaScript over the native API).
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js'
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js'
import type { AuditFile, AuditLog, AuthorizeStore, StoreOptions, AuthInfo as CoreAuthInfo, Decision, Envelope, DecisionJson, KeyInput, KeyPair, MarqueError, McpConfig, McpConfigJson, McpOutcome, ProtectedResourceMetadata, Signer, TimeInput, Token, Verifier, DelegateOptions } from './index.js'

export type { ProtectedResourceMetadata } from './index.js'

/** `_meta` key carrying the token on transports without HTTP headers (stdio). */
export declare const TOKEN_META_KEY: 'marque/token'
/** `_meta` key carrying the proof of possession for this call. */
export declare const PROOF_META_KEY: 'marque/proof'
/** `_meta` key under which a denied call's result carries the decision JSON. */
export declare const DECISION_META_KEY: 'marque/decision'
/** HTTP header carrying the proof of possession (alternative to `_meta`). */
export declare const PROOF_HEADER: 'marque-proof'
/** `_meta` key carrying a human approval of this call (`approve`), beside the proof. */
export declare const APPROVAL_META_KEY: 'marque/approval'
/** HTTP header carrying a human approval of this call (alternative to `_meta`). */
export declare const APPROVAL_HEADER: 'marque-approval'
/** `_meta` key under which an `approval_required` tool error carries `{ digest, approvers, reason }`. */
export declare const APPROVAL_REQUEST_META_KEY: 'marque/approval_request'
/** JSON-RPC error code of a marque refusal (methods other than `tools/call`): -32010. */
export declare const DENIED_ERROR_CODE: number

/** The agent identity `marqueTokenVerifier` puts in `AuthInfo.extra.marque` (core-built: `verifier.authInfo`). */
export type MarqueAuthExtra = CoreAuthInfo['extra']['marque']

/** `AuthInfo` as returned by `marqueTokenVerifier` (`clientId` is the agent id, `scopes` the token's effective, narrowed rights as `tool:operation:resource`). */
export interface MarqueAuthInfo extends AuthInfo {
  expiresAt: number
  extra: { marque: MarqueAuthExtra }
}

/** An `OAuthTokenVerifier` for the SDK's `requireBearerAuth`: the bearer token is a marque token. */
export declare function marqueTokenVerifier(
  verifier: Verifier,
  options?: { /** The server's URI: must be the verifier's `audience` (default: that audience). */ resource?: string | URL; /** Which SDK line's `requireBearerAuth` this serves (default: 1 when installed, else 2). */ sdk?: 1 | 2 },
): MarqueTokenVerifier

/** An `OAuthTokenVerifier` whose `AuthInfo` always has `expiresAt` and `extra.marque`. */
export interface MarqueTokenVerifier extends OAuthTokenVerifier {
  verifyAccessToken(token: string): Promise<MarqueAuthInfo>
}

/** The RFC 9728 metadata URL of an MCP server URL. */
export declare function protectedResourceMetadataUrl(serverUrl: string | URL): string

export declare function protectedResourceMetadata(options: {
  resource: string | URL
  authorizationServers?: Array<string | URL>
  scopesSupported?: string[]
  resourceName?: string
  resourceDocumentation?: string | URL
  /** Trusted root keys to publish as JWKs (`marque_root_keys`). */
  rootKeys?: KeyInput[]
}): ProtectedResourceMetadata

/** A `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3 with RFC 9728's `resource_metadata`). */
export declare function bearerChallenge(options?: {
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | (string & {})
  description?: string
  scope?: string | string[]
  resourceMetadataUrl?: string
  realm?: string
}): string

/** The core's resource of an undeclared tool's call: the one argument among `resource`, `path`, `file`, `uri`, `url` (two or more: throws `invalid_request`), else `*`. */
export declare function defaultResource(args: unknown): string

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>

/** What `onDecision` receives for each guarded call (`error` when the message or token was refused outright). */
export interface DecisionEvent {
  /** The MCP method (guardTools). */
  method?: string
  tool: string
  operation: string
  resource: string
  decision: Decision | null
  error: MarqueError | null
  /** The audit entry appended for this decision, when an `audit` sink is configured. */
  entry: Envelope | null
}

/** Where guarded calls record their decisions: a signed entry per decision (`AuditLog.appendDecision`). */
export interface AuditSink {
  log: AuditLog | AuditFile | import('./otel.mjs').OtelAuditSink
  signer: KeyPair | Signer
  /** Default `"tool_call"`. */
  eventType?: string
}

/** How one tool maps its arguments to a marque request (guardTool). */
export interface ToolSpec<Args = any> {
  /** The operation (default `"*"`), or a function of the arguments. */
  operation?: string | ((args: Args) => string)
  /** The resource (default `defaultResource(args)`), or a function of the arguments. */
  resource?: string | ((args: Args) => string)
}

/** How one tool's calls map to a marque request (guardTools): the core's tool mapping, with `resource` also allowed to be a function of the arguments. */
export interface McpToolSpec<Args = any> {
  /** The marque tool name (default: the MCP tool name). */
  tool?: string
  /** The operation (default `"*"`). */
  operation?: string
  /** The string argument holding the resource. */
  resource_arg?: string
  /** A fixed resource, or the application's function of the arguments. */
  resource?: string | ((args: Args) => string)
  /** Request attributes from string arguments, by attribute name (`{ 'resource.env': 'env' }`): read by operator policies (Datalog `attribute(k, v)`, Rego `input.resource.env`); missing or not a string is refused. */
  attribute_args?: Record<string, string>
  /** Fixed request attributes of every call (`{ 'resource.type': 'service' }`). */
  attributes?: Record<string, string>
}

/** The core `McpConfig` of `guardTools` options. */
export declare function mcpConfig(options?: { tools?: Record<string, McpToolSpec>; allow?: string[]; /** The server's URI (RFC 8707 audience of agents' proofs). */ resource?: string }): McpConfig

/** A refused MCP message. */
export interface McpRefusal {
  code: string
  message: string
  details: Record<string, unknown>
  decision: Decision | null
}

/** Decides one MCP message with the core: `{ outcome }` when it may reach its handler, else `{ refusal }`. */
export declare function authorizeMcpRequest(
  verifier: Verifier,
  message: object,
  extra: Partial<ToolExtra> | undefined,
  options?: { config?: McpConfig; tools?: Record<string, McpToolSpec>; now?: TimeInput; onDecision?: (event: DecisionEvent) => void; audit?: AuditSink; store?: AuthorizeStore; storeOptions?: StoreOptions },
): Promise<{ outcome: McpOutcome; refusal?: undefined } | { refusal: McpRefusal; outcome?: undefined }>

/** The allowed `Decision` of the current call, inside a guarded tool handler. */
export declare function decisionOf(extra: ToolExtra | undefined): Decision | undefined

/** Authorizes one tool call: `{ decision }` when allowed, else `{ result }`, a tool error result naming the reason. */
export declare function authorizeToolCall(
  verifier: Verifier,
  call: { tool: string; operation?: string; resource?: string; extra?: ToolExtra; now?: TimeInput; onDecision?: (event: DecisionEvent) => void; audit?: AuditSink },
): Promise<{ decision: Decision; result?: undefined } | { result: CallToolResult & { _meta?: { 'marque/decision'?: DecisionJson } }; decision?: undefined }>

/** Wraps one tool handler so it runs only when marque allows the call. */
export declare function guardTool<H extends (...args: any[]) => CallToolResult | Promise<CallToolResult>>(
  verifier: Verifier,
  spec: ToolSpec<Parameters<H>[0]> & { name: string; hasArgs?: boolean; onDecision?: (event: DecisionEvent) => void; now?: TimeInput; audit?: AuditSink },
  handler: H,
): (...args: Parameters<H>) => Promise<CallToolResult>

/** Guards every request and notification `server` handles (whenever registered) with the core's MCP mapping. */
export declare function guardTools<S extends McpServer | object>(
  server: S,
  options: { verifier: Verifier; tools?: Record<string, McpToolSpec>; allow?: string[]; /** The server's URI: must be the verifier's `audience`. */ resource?: string; onDecision?: (event: DecisionEvent) => void; now?: TimeInput; audit?: AuditSink
    /** A replay (and counter) store shared by every process serving this MCP server (`authorizeWithStore`): a proof is accepted once across all of them; a store that fails or is slower than `storeOptions.timeoutMs` refuses the call (`replay_store_unavailable`). Without it, proofs are claimed in this process's memory. */
    store?: AuthorizeStore; storeOptions?: StoreOptions },
): S

/** Client side: the `_meta` of a `tools/call` (the token on stdio, the proof on any transport). */
export declare function callMeta(options?: { token?: Token | string; proof?: string; approval?: string }): Record<string, string>

/** Options of `marqueFetch`. */
export interface MarqueFetchOptions {
  /** The agent's token. */
  token: Token | string
  /** The key pair (or `Signer`) holding the token. */
  agent: KeyPair | Signer
  /** The server's tool declarations (as for `guardTools`) or its `McpConfig`. */
  mcp?: McpConfig | { tools?: Record<string, McpToolSpec>; allow?: string[]; resource?: string }
  /** The server's URI (RFC 8707): every proof is bound to it (with `mcp` as an object). */
  resource?: string
  /** The underlying fetch (default `globalThis.fetch`). */
  fetch?: typeof fetch
}

/**
 * Client side: a `fetch` for the SDK's HTTP client transports that adds the bearer token and,
 * to each POSTed JSON-RPC message, the core's `clientHeaders` (a fresh `Marque-Proof` bound to
 * the request the server maps it to, `Mcp-Method`, `Mcp-Name`).
 */
export declare function marqueFetch(options: MarqueFetchOptions): (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/** The agent side in one object; `delegate` hands a sub-agent a narrowed token under a fresh key. */
export declare class McpAgent {
  constructor(options: { token: Token | string; key: KeyPair | Signer; mcp?: MarqueFetchOptions['mcp']; resource?: string })
  readonly token: Token
  readonly key: KeyPair | Signer
  readonly config: McpConfig
  readonly fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
  headers(message: object | string): Record<string, string>
  delegate(to: string, options?: Omit<DelegateOptions, 'to' | 'toKey'>): McpAgent
}
