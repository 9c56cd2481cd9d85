// One Node MCP server of the loopback fleet (tests/fleet/run.sh starts three): the MCP SDK's
// stateless Streamable HTTP, guarded by marque with everything a fleet member needs, all through
// public APIs — the proofs' nonces claimed in the shared Redis (node-redis), the operator's
// signed revocation list polled from a static server (RevocationFeed), every decision signed
// into a durable audit file and exported over OTLP/HTTP (OtelAuditSink). Configured by the
// environment (FLEET_*), it prints one JSON line `{"ready":…}` on stdout once it listens.
import { createServer } from 'node:http'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs'
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto'
import { createClient } from 'redis'
import { z } from 'zod'
import { AuditFile, KeyPair, RevocationFeed, Verifier } from '@marque/node'
import { guardTools } from '@marque/node/mcp'
import { OtelAuditSink } from '@marque/node/otel'

const env = (k) => process.env[k] ?? (() => { throw new Error(`${k} is not set`) })()
const name = env('FLEET_NAME')
const verifier = new Verifier({
  rootKeys: [env('FLEET_ROOT_PUB')],
  requireProof: true,
  operatorKeys: [env('FLEET_OPERATOR_PUB')],
  maxRevocationStaleness: Number(env('FLEET_STALENESS')),
})
const feed = new RevocationFeed(verifier, env('FLEET_FEED_URL'), { interval: Number(env('FLEET_POLL')) }).start()

// Offline queue off: while Redis is down a claim is refused at once (not parked until it returns).
const redis = createClient({ url: env('FLEET_REDIS_URL'), disableOfflineQueue: true, socket: { connectTimeout: 500, reconnectStrategy: () => 100 } })
redis.on('error', () => {}) // reconnects by itself; each refused claim is the guard's answer
await redis.connect()
const store = { claim: async (key, ttlMs) => (await redis.set(key, '1', { NX: true, PX: ttlMs })) === 'OK' }

// As the OpenTelemetry Node SDK does: the context follows awaits, so each decision's record is
// emitted in the request's span, a child of the caller's `_meta.traceparent`.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
const auditKey = KeyPair.generate()
const loggerProvider = new LoggerProvider({
  processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: env('FLEET_OTLP_URL') }), scheduledDelayMillis: 200 })],
})
const audit = { log: new OtelAuditSink(new AuditFile(env('FLEET_AUDIT_LOG'), [auditKey.publicKey]), { loggerProvider }), signer: auditKey }

function mcpServer() {
  const server = guardTools(new McpServer({ name: `fleet-${name}`, version: '0' }), {
    verifier, audit, store, storeOptions: { timeoutMs: 500 },
    tools: { read_file: { operation: 'read', resource_arg: 'path' } },
  })
  server.registerTool('read_file', { inputSchema: { path: z.string() } }, async ({ path }) => ({ content: [{ type: 'text', text: `${name}:${path}` }] }))
  return server
}

const http = createServer(async (req, res) => {
  if (req.method !== 'POST' || req.url !== '/mcp') return res.writeHead(404).end()
  const chunks = []
  for await (const c of req) chunks.push(c)
  const server = mcpServer()
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
  res.on('close', () => { transport.close(); server.close() })
  await server.connect(transport)
  await transport.handleRequest(req, res, JSON.parse(Buffer.concat(chunks).toString('utf8')))
})
http.listen(Number(env('FLEET_PORT')), '127.0.0.1', () => {
  console.log(JSON.stringify({ ready: name, port: http.address().port, auditKey: auditKey.publicKey.toHex(), pid: process.pid }))
})
const stop = async () => {
  http.close()
  await feed.stop()
  await loggerProvider.shutdown() // sends what is batched
  await redis.destroy?.()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
