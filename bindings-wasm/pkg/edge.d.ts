// Types of @marque/wasm/edge.
import type { Admission, AuthInfo, Decision, McpConfig, McpConfigJson, McpRequest, Verifier } from './index.js'

export declare const PROOF_HEADER: 'Marque-Proof'
export declare const MCP_METHOD_HEADER: 'Mcp-Method'
export declare const MCP_NAME_HEADER: 'Mcp-Name'

/** What a plain HTTP request (not MCP traffic) is authorized as; `null` refuses it. */
export type Target = { tool: string; operation?: string; resource: string } | null

export interface GuardOptions {
  /**
   * The verifier. With `maxRevocationStaleness` set, a missing or stale signed revocation list
   * is answered 503 `{"error":"revocation_list_stale"}` (fail closed), for every request.
   */
  verifier: Verifier
  /** How MCP messages map to marque requests: an `McpConfig` or its JSON form (default `new McpConfig()`). */
  mcp?: McpConfig | McpConfigJson
  /** Plain HTTP only: what to authorize (default `{tool: "http", operation: METHOD, resource: path}`). */
  toolFromRequest?: (request: Request) => Target | Promise<Target>
  /** Default `Marque-Proof`. */
  proofHeader?: string
  /** `WWW-Authenticate` realm (default `marque`). */
  realm?: string
  /** The RFC 9728 metadata URL named in challenges (`resource_metadata`). */
  resourceMetadata?: string
  now?: number | Date
}

export interface Allowed {
  /** The decision of an authorized request; `null` for an allow-listed MCP method. */
  decision: Decision | null
  /** For an allow-listed MCP method: the admission of the bearer token. */
  admission: Admission | null
  /** The original request, body unread: forward it. */
  request: Request
  /** The bearer token. */
  token: string
  /** The MCP message decided (`null` for plain HTTP). */
  mcp: { method: string | null; request: McpRequest | null } | null
}

/** Resolves to `Allowed`, or to a ready `Response` (400 / 401 / 403 / 500 / 503). */
/** Header carrying a human approval of the call (`approve` output). */
export declare const APPROVAL_HEADER: 'Marque-Approval'
export declare function guard(request: Request, options: GuardOptions): Promise<Allowed | Response>
/** The MCP message of a request as JSON text, or `null` when it is not MCP traffic. */
export declare function mcpMessage(request: Request): Promise<string | null>

/** What `tokenVerifier` returns: the core-built `AuthInfo` (`verifier.authInfo`) with `resource` as a `URL`. */
export type MarqueAuthInfo = Omit<AuthInfo, 'resource'> & {
  /** The verifier's audience (this server), when set. */
  resource?: URL
}

/**
 * An `OAuthTokenVerifier` for the MCP TypeScript SDK 2.x's runtime-neutral bearer auth
 * (`requireBearerAuth` of `@modelcontextprotocol/server`): the token is admitted by the core; a
 * refusal is the SDK's `OAuthError`. `sdk` is the SDK module (its `OAuthError`, `OAuthErrorCode`).
 */
export declare function tokenVerifier(
  verifier: Verifier,
  options: { sdk: { OAuthError: new (code: any, message: string) => Error; OAuthErrorCode: Record<string, string> }; now?: number | Date },
): { verifyAccessToken(token: string): Promise<MarqueAuthInfo> }
