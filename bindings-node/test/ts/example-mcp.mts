// Type-checked: a guarded MCP server and a client attaching token and proof.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import type { CallToolRequest } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { KeyPair, Verifier, signProof, mint, type Decision } from '@marque/node'
import { guardTools, marqueTokenVerifier, callMeta, decisionOf, bearerChallenge, protectedResourceMetadata, type MarqueAuthInfo } from '@marque/node/mcp'

const root = KeyPair.generate()
const verifier = new Verifier({ rootKeys: [root.publicKey] })
const server = guardTools(new McpServer({ name: 'x', version: '1' }), {
  verifier,
  tools: { read_file: { operation: 'read', resource: (args: { path: string }) => args.path } },
  onDecision: (e) => console.error(e.tool, e.decision?.allowed, e.error?.code),
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
export { middleware, info, challenge, meta, call }
