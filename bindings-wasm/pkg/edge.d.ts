// Types of @marque/wasm/edge.
import type { Decision, Token } from './index.js'

export declare const PROOF_HEADER: 'Marque-Proof'
export declare const MCP_METHOD_HEADER: 'Mcp-Method'
export declare const MCP_NAME_HEADER: 'Mcp-Name'

/** The MCP call of a request (from the `Mcp-Method` / `Mcp-Name` headers or the JSON-RPC body). */
export interface McpCall {
  method: string
  name: string | null
  id?: unknown
  arguments?: unknown
}

/** What to authorize: `null` means "not a tool call: a verified token is enough". */
export type Target = { tool: string; operation?: string; resource: string } | null

export interface GuardOptions {
  /**
   * With `maxRevocationStaleness` set, a missing or stale signed revocation list is answered 503
   * `{"error":"revocation_list_stale"}` (fail closed), for tool calls and other requests alike.
   */
  verifier: {
    authorize(token: string, options: object): Decision
    verify(token: string): Token
    revocationReason?(token: Token): string | null
    readonly maxRevocationStaleness?: number | null
    readonly revocationList?: { readonly issuedAt: number } | null
  }
  /** Maps a request to what is authorized (default: `defaultTarget`). */
  toolFromRequest?: (request: Request, mcp: McpCall | null) => Target | Promise<Target>
  /** Default `Marque-Proof`. */
  proofHeader?: string
  /** `WWW-Authenticate` realm (default `marque`). */
  realm?: string
  now?: number | Date
  /** Read a JSON body even when the MCP headers are present, and refuse a mismatch (default true). */
  checkBody?: boolean
}

export interface Allowed {
  /** `null` for MCP methods that are not tool calls (the token was verified). */
  decision: Decision | null
  /** The original request, body unread: forward it. */
  request: Request
  token: string | Token
  mcp: McpCall | null
}

/** Resolves to `Allowed`, or to a ready `Response` (401 / 403 / 400 / 503 / 500). */
export declare function guard(request: Request, options: GuardOptions): Promise<Allowed | Response>
export declare function mcpCall(request: Request, options?: { checkBody?: boolean }): Promise<McpCall | null>
export declare function defaultTarget(request: Request, mcp: McpCall | null): Target
