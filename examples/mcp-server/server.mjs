#!/usr/bin/env node
// A small MCP file server guarded by marque, over stdio or Streamable HTTP.
//
//   MARQUE_ROOT_PUB=<root public key hex> node server.mjs --stdio
//   MARQUE_ROOT_PUB=<root public key hex> node server.mjs --http [--port 3000]
//
// Every tools/call is authorized from the caller's marque token: the `Authorization: Bearer`
// token on HTTP (checked first by the SDK's requireBearerAuth), or `_meta["marque/token"]` on
// stdio; the proof of possession comes in `_meta["marque/proof"]`. The files are an in-memory
// map: the example is about authorization, not I/O.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import express from 'express'
import { z } from 'zod'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AuditFile, KeyPair, Verifier } from '@marque/node'
import { guardTools, marqueTokenVerifier, protectedResourceMetadata, protectedResourceMetadataUrl, decisionOf } from '@marque/node/mcp'

const rootPub = process.env.MARQUE_ROOT_PUB
if (!rootPub) {
  console.error('set MARQUE_ROOT_PUB to the root public key (hex, PEM, JWK or did:key)')
  process.exit(2)
}
// One verifier for the whole process: its replay cache must see every proof.
const verifier = new Verifier({ rootKeys: [rootPub] })
const files = new Map([
  ['src/lib.rs', 'pub fn answer() -> u32 { 42 }\n'],
  ['src/main.rs', 'fn main() { println!("{}", demo::answer()); }\n'],
  ['.env', 'SECRET=hunter2\n'],
])

// Every decision is appended, signed and chained, to a durable audit log (JSONL, rotated past
// 64 MiB as FILE.1, FILE.2, …; only the chain head stays in memory). MARQUE_AUDIT_LOG names the
// file (default: one per signing key in the temp directory); with MARQUE_AUDIT_SEED fixed, a
// restarted server resumes the same chain. Verify with
// `marque audit verify FILE.1 … FILE --key <hex>`.
const auditKey = process.env.MARQUE_AUDIT_SEED ? KeyPair.fromHex(process.env.MARQUE_AUDIT_SEED) : KeyPair.generate()
const auditPath = process.env.MARQUE_AUDIT_LOG ?? join(tmpdir(), `marque-audit-${auditKey.publicKey.toHex().slice(0, 16)}.jsonl`)
const auditLog = new AuditFile(auditPath, [auditKey.publicKey])
if (auditLog.torn) console.error(`[marque] audit: a torn last line was set aside in ${auditLog.torn.sideFile}: ${auditLog.torn.reason}`)
console.error(`[marque] audit signer ${auditKey.publicKey.toHex()}, log ${auditPath} (next seq ${auditLog.nextSeq})`)

function buildServer() {
  const server = guardTools(new McpServer({ name: 'marque-example-files', version: '0.1.0' }), {
    verifier,
    tools: {
      read_file: { operation: 'read', resource: (args) => args.path },
      write_file: { operation: 'write', resource: (args) => args.path },
    },
    audit: { log: auditLog, signer: auditKey },
    onDecision: ({ tool, resource, decision, error }) => {
      console.error(`[marque] ${tool} ${resource}: ${error ? error.code : decision.allowed ? 'allowed' : decision.code}${decision ? ` (${decision.path})` : ''}`)
    },
  })
  server.registerTool('read_file', { description: 'Read a file', inputSchema: { path: z.string() } }, async ({ path }, extra) => {
    const content = files.get(path)
    if (content === undefined) return { isError: true, content: [{ type: 'text', text: `no such file: ${path}` }] }
    return { content: [{ type: 'text', text: content }], _meta: { 'marque/agent': decisionOf(extra)?.agent } }
  })
  server.registerTool('write_file', { description: 'Write a file', inputSchema: { path: z.string(), content: z.string() } }, async ({ path, content }) => {
    files.set(path, content)
    return { content: [{ type: 'text', text: `wrote ${content.length} bytes to ${path}` }] }
  })
  return server
}

const args = process.argv.slice(2)
if (args.includes('--stdio')) {
  await buildServer().connect(new StdioServerTransport())
} else {
  const portArg = args.indexOf('--port')
  const port = portArg >= 0 ? Number(args[portArg + 1]) : 3000
  const app = express()
  app.use(express.json())
  let base
  const metadataPath = () => new URL(protectedResourceMetadataUrl(new URL('/mcp', base))).pathname
  app.get('/.well-known/oauth-protected-resource{/*rest}', (req, res) => res.json(protectedResourceMetadata({ resource: new URL('/mcp', base), resourceName: 'marque example files' })))
  const auth = (req, res, next) =>
    requireBearerAuth({ verifier: marqueTokenVerifier(verifier), resourceMetadataUrl: new URL(metadataPath(), base).href })(req, res, next)
  // Stateless Streamable HTTP: a fresh server and transport per request, one shared verifier.
  app.post('/mcp', auth, async (req, res) => {
    const server = buildServer()
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => {
      transport.close()
      server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(req, res, req.body)
  })
  const listener = app.listen(port, '127.0.0.1', () => {
    base = `http://127.0.0.1:${listener.address().port}`
    console.log(`marque example MCP server on ${base}/mcp`)
  })
  process.on('SIGTERM', () => listener.close(() => process.exit(0)))
}
