// Type-checked: a guarded MCP server and a client attaching token and proof.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import type { CallToolRequest } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { AuditLog, KeyPair, Verifier, signProof, mint, jwtIssue, jwtVerify, type Decision, type AuditReport, type JwtClaims, type AuditEvent } from '@marque/node'
import { guardTools, marqueTokenVerifier, callMeta, decisionOf, bearerChallenge, protectedResourceMetadata, type MarqueAuthInfo } from '@marque/node/mcp'
import { OtelAuditSink } from '@marque/node/otel'

const root = KeyPair.generate()
const verifier = new Verifier({ rootKeys: [root.publicKey] })
const server = guardTools(new McpServer({ name: 'x', version: '1' }), {
  verifier,
  tools: { read_file: { operation: 'read', resource: (args: { path: string }) => args.path } },
  onDecision: (e) => console.error(e.tool, e.decision?.allowed, e.error?.code, e.entry?.seq),
  audit: { log: new AuditLog(), signer: root },
})
server.registerTool('read_file', { inputSchema: { path: z.string() } }, async ({ path }, extra) => {
  const d: Decision | undefined = decisionOf(extra)
  return { content: [{ type: 'text', text: `${path} for ${d?.agent}` }] }
})
const middleware = requireBearerAuth({ verifier: marqueTokenVerifier(verifier), resourceMetadataUrl: 'https://x/.well-known/oauth-protected-resource' })
async function info(token: string): Promise<string> {
  const i: MarqueAuthInfo = await marqueTokenVerifier(verifier).verifyAccessToken(token)
  return i.extra.marque.path
}
const challenge: string = bearerChallenge({ error: 'invalid_token', resourceMetadataUrl: 'https://x/.well-known/oauth-protected-resource' })
const meta = protectedResourceMetadata({ resource: 'https://x/mcp' })

const agent = KeyPair.generate()
const token = mint(root, { agent: 'agent:a', agentKey: agent.publicKey, principal: 'user:a', rights: ['read_file:read:src/'], ttlSeconds: 60 })
const call: CallToolRequest['params'] = {
  name: 'read_file',
  arguments: { path: 'src/a' },
  _meta: callMeta({ token, proof: signProof(agent, token, { tool: 'read_file', operation: 'read', resource: 'src/a' }) }),
}
const log = new AuditLog()
log.append(root, { event_type: 'tool_call', agent_id: 'agent:a', agent_key_fingerprint: '', principal: 'p', action: 'x', resource: 'r', decision: 'allow', policy_id: '', timestamp: 1 })
const report: AuditReport = log.verify([root.publicKey], { expectedHead: log.head })
const ev: AuditEvent = log.envelopes()[0].event
const jwt: string = jwtIssue(root, { sub: 'agent:a', exp: 2_000_000_000, aud: 'https://x' }, { kid: 'k1' })
const jc: JwtClaims = jwtVerify(jwt, { k1: root.publicKey }, { audience: 'https://x', leewaySeconds: 5 })
export { middleware, info, challenge, meta, call, report, ev, jc }
// The OpenTelemetry audit sink stands where the log would.
const sink = new OtelAuditSink(new AuditLog())
guardTools(new McpServer({ name: 'y', version: '1' }), { verifier, audit: { log: sink, signer: root } })
const exported: number = sink.append(root, ev).otelSeverityNumber() + sink.head.length
