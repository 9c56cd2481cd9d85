// @marque/node/otel over real OTLP/HTTP (protobuf): guardTools on an MCP server (SDK client, in
// memory) records every decision in a signed log and exports it as a `marque.audit` log record,
// in the trace the caller carried in `_meta.traceparent`. The receiver is tests/otlp/receiver.py
// (opentelemetry-proto, from the project's .venv), started here on a free 127.0.0.1 port.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs'
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { z } from 'zod'
import { guardTools, callMeta } from '@marque/node/mcp'
import { OtelAuditSink, EVENT_NAME } from '@marque/node/otel'
import { marque, keys, scenario, verifier } from './helpers.mjs'

const PYTHON = fileURLToPath(new URL('../../.venv/bin/python', import.meta.url))
const RECEIVER = fileURLToPath(new URL('../../tests/otlp/receiver.py', import.meta.url))
const TRACE_1 = '4bf92f3577b34da6a3ce929d0e0e4736'
const TRACE_2 = '0af7651916cd43dd8448eb211c80319c'

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())

/** Starts the receiver; `stop()` closes its stdin and resolves with every decoded item. */
async function receiver() {
  const child = spawn(PYTHON, [RECEIVER], { stdio: ['pipe', 'pipe', 'inherit'] })
  const items = []
  const lines = createInterface({ input: child.stdout })
  const port = await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the OTLP receiver exited (${code})`)))
    lines.on('line', (line) => {
      const item = JSON.parse(line)
      if (item.kind === 'port') resolve(item.port)
      else items.push(item)
    })
  })
  const stop = () => new Promise((resolve) => {
    child.removeAllListeners('exit')
    child.once('exit', () => resolve(items))
    child.stdin.end()
  })
  return { url: `http://127.0.0.1:${port}`, stop }
}

// A batch processor: its forceFlush() waits until the exporter has sent every record (a simple
// processor's does not wait for exports in flight; sdk-logs SimpleLogRecordProcessor.forceFlush).
const otlpLogs = (url) => new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${url}/v1/logs` }) })] })

const skip = !existsSync(PYTHON) && !process.env.CI ? 'no .venv (scripts/install.sh)' : false

test('guardTools with an OtelAuditSink: every decision exported, in the caller\'s trace', { skip }, async () => {
  const rx = await receiver()
  const loggerProvider = otlpLogs(rx.url)
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${rx.url}/v1/traces` }))] })
  const log = new marque.AuditLog()
  const sink = new OtelAuditSink(log, { loggerProvider, tracerProvider })
  const { c } = scenario(Math.floor(Date.now() / 1000))
  const server = new McpServer({ name: 'files', version: '0' })
  server.registerTool('read_file', { inputSchema: { path: z.string() } }, async ({ path }) => ({ content: [{ type: 'text', text: path }] }))
  guardTools(server, { verifier: verifier(), tools: { read_file: { operation: 'read', resource_arg: 'path' } }, audit: { log: sink, signer: keys.other } })
  const [a, b] = InMemoryTransport.createLinkedPair()
  await server.connect(a)
  const client = new Client({ name: 'c', version: '0' })
  await client.connect(b)
  const call = (path, trace) => client.callTool({ name: 'read_file', arguments: { path }, _meta: {
    ...callMeta({ token: c }), ...(trace ? { traceparent: `00-${trace}-00f067aa0ba902b7-01`, tracestate: 'vendor=x' } : {}),
  } })
  let received
  try {
    assert.equal((await call('src/lib.rs', TRACE_1)).content[0].text, 'src/lib.rs')
    assert.equal((await call('src/main.rs', TRACE_2)).isError, true) // agent_c may read src/lib.rs only
    assert.equal((await call('src/lib.rs', null)).isError, undefined)
    await loggerProvider.forceFlush()
    await tracerProvider.forceFlush()
  } finally {
    await client.close()
    received = await rx.stop()
  }
  const records = received.filter((i) => i.kind === 'log')
  const spans = received.filter((i) => i.kind === 'span' && i.name === 'execute_tool read_file')
  const envelopes = log.envelopes()
  const report = log.verify([keys.other.publicKey])
  assert.equal(report.ok, true)
  assert.equal(report.entries, 3)
  assert.equal(envelopes.length, 3)
  assert.equal(records.length, 3)
  envelopes.forEach((env, i) => {
    const r = records[i]
    assert.deepEqual(r.attributes, env.otelAttributes())
    assert.equal(r.event_name, EVENT_NAME)
    assert.equal(r.time_unix_nano, env.event.timestamp * 1e9)
    assert.equal(r.severity_number, env.otelSeverityNumber())
    assert.equal(r.body, env.toJson())
    marque.Envelope.fromJson(r.body).verify([keys.other.publicKey])
  })
  assert.deepEqual(records.map((r) => r.severity_text), ['INFO', 'WARN', 'INFO'])
  assert.deepEqual(records.slice(0, 2).map((r) => r.trace_id), [TRACE_1, TRACE_2])
  assert.ok(![TRACE_1, TRACE_2, '', '0'.repeat(32)].includes(records[2].trace_id))
  assert.equal(spans.length, 3)
  const first = spans.find((s) => s.trace_id === TRACE_1)
  assert.equal(first.parent_span_id, '00f067aa0ba902b7')
  assert.equal(first.span_id, records[0].span_id)
  assert.equal(first.attributes['gen_ai.agent.id'], 'agent:agent_c')
  assert.equal(first.attributes['enduser.id'], 'user:alice')
  assert.deepEqual(first.attributes['marque.delegation.chain'], ['agent:orchestrator', 'agent:agent_a', 'agent:agent_c'])
  assert.equal(spans.find((s) => s.trace_id === TRACE_2).attributes['marque.decision'], 'deny')
})

test('usage on an event appended through the sink is signed and exported; bad usage refused', { skip }, async () => {
  const rx = await receiver()
  const loggerProvider = otlpLogs(rx.url)
  const sink = new OtelAuditSink(new marque.AuditLog(), { loggerProvider })
  const event = { event_type: 'tool_call', agent_id: 'agent:a', agent_key_fingerprint: '', principal: 'user:alice', action: 'search', resource: 'q', decision: 'allow', policy_id: '', timestamp: 1_700_000_000, usage: { input_tokens: 1200, output_tokens: 310, model: 'gpt-x', cost_usd_micros: 4210 } }
  let received
  try {
    const env = sink.append(keys.other, event)
    assert.deepEqual(env.event.usage, event.usage)
    for (const usage of [{ input_tokens: -1 }, { input_tokens: 1.5 }, { tokens: 1 }, {}]) {
      assert.throws(() => sink.append(keys.other, { ...event, usage }), (e) => e.code === 'invalid_argument', JSON.stringify(usage))
    }
    assert.throws(() => sink.append(keys.other, { ...event, usage: undefined, attributes: { 'gen_ai.usage.input_tokens': 3 } }), (e) => e.code === 'invalid_argument')
    await loggerProvider.forceFlush()
  } finally {
    received = await rx.stop()
  }
  const records = received.filter((i) => i.kind === 'log')
  assert.equal(records.length, 1)
  assert.equal(records[0].attributes['gen_ai.usage.input_tokens'], 1200)
  assert.equal(records[0].attributes['gen_ai.request.model'], 'gpt-x')
  assert.equal(records[0].attributes['marque.usage.cost_usd_micros'], 4210)
})

test('the README example runs', { skip }, async () => {
  const { readFileSync, writeFileSync, rmSync } = await import('node:fs')
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const section = readme.split('## Exporting the audit trail to OpenTelemetry')[1]
  const code = /```js\n([\s\S]*?)```/.exec(section)[1]
  // Run from inside the package, so that `@marque/node` and the OpenTelemetry packages resolve.
  const file = new URL(`./readme-otel-${process.pid}.mjs`, import.meta.url)
  writeFileSync(file, code)
  try {
    const { execFileSync } = await import('node:child_process')
    assert.equal(execFileSync(process.execPath, [fileURLToPath(file)], { encoding: 'utf8' }).trim(), '1200')
  } finally {
    rmSync(file)
  }
})
