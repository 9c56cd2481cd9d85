// @marque/node/otel — exporting the audit trail to OpenTelemetry.
//
// `OtelAuditSink` wraps an `AuditFile` or `AuditLog` and is passed where the log would be
// (`guardTools(server, { audit: { log: new OtelAuditSink(file), signer } })`). Each append signs
// the entry into the log first, then emits it as a log record: EventName `marque.audit`, severity
// INFO (allowed) / WARN (denied), Timestamp the event's time, the body the envelope's canonical
// JSON, and the attributes the core maps (`Envelope.otelAttributes()`). The agent identity
// attributes are also set on the active span. With a sink, `guardTools` runs each request in a
// span (`execute_tool NAME` for a tool call) continuing the caller's W3C trace context from
// `params._meta.traceparent` / `tracestate`, so the decision's record and span land in the
// caller's trace (spans nest under async handlers once a context manager is registered, as the
// OpenTelemetry Node SDK does).
//
// OpenTelemetry is optional: `@opentelemetry/api`, `@opentelemetry/api-logs` and
// `@opentelemetry/core` are loaded only when a sink is made.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { AuditFile, AuditLog } = require('./index.js')

/** EventName of every audit log record (the core's `OTEL_EVENT_NAME`). */
export const EVENT_NAME = 'marque.audit'
/** Attributes also set on the active span: who acted, for whom, on what, and the verdict. */
export const SPAN_ATTRIBUTES = Object.freeze([
  'gen_ai.agent.id', 'gen_ai.agent.name', 'gen_ai.tool.name', 'enduser.id',
  'marque.agent.key_fingerprint', 'marque.delegation.chain', 'marque.task', 'marque.decision',
])
/** `_meta` keys carrying W3C trace context on an MCP request. */
export const TRACE_META_KEYS = Object.freeze(['traceparent', 'tracestate'])

function load(name) {
  try {
    return require(name)
  } catch (e) {
    throw new Error(`@marque/node/otel needs ${name} (npm install @opentelemetry/api @opentelemetry/api-logs @opentelemetry/core)`, { cause: e })
  }
}

export class OtelAuditSink {
  #api
  #core
  #logger
  #tracer

  /**
   * `log` is the `AuditFile` or `AuditLog` the entries are signed into (the source of truth: a
   * record is emitted only after the append succeeded); `loggerProvider` and `tracerProvider`
   * default to the global ones.
   */
  constructor(log, { loggerProvider, tracerProvider } = {}) {
    if (!(log instanceof AuditFile || log instanceof AuditLog)) {
      throw new TypeError('OtelAuditSink wraps an AuditFile or an AuditLog')
    }
    this.#api = load('@opentelemetry/api')
    this.#core = load('@opentelemetry/core')
    const logsApi = load('@opentelemetry/api-logs')
    this.log = log
    this.#logger = (loggerProvider ?? logsApi.logs.getLoggerProvider()).getLogger('marque')
    this.#tracer = (tracerProvider ?? this.#api.trace.getTracerProvider()).getTracer('marque')
  }

  /** Signs `event` into the log, then emits the entry. */
  append(signer, event) {
    const envelope = this.log.append(signer, event)
    this.emit(envelope)
    return envelope
  }

  /** Signs `decision`'s audit event into the log, then emits the entry. */
  appendDecision(signer, decision, eventType) {
    const envelope = this.log.appendDecision(signer, decision, eventType)
    this.emit(envelope)
    return envelope
  }

  /** Emits one envelope as a `marque.audit` log record in the active context, and sets the identity attributes on the active span. */
  emit(envelope) {
    const api = this.#api
    const attributes = Object.fromEntries(Object.entries(envelope.otelAttributes()).filter(([, v]) => v !== null && v !== undefined))
    const span = api.trace.getActiveSpan()
    if (span?.isRecording()) {
      span.setAttributes(Object.fromEntries(SPAN_ATTRIBUTES.filter((k) => k in attributes).map((k) => [k, attributes[k]])))
    }
    const severityNumber = envelope.otelSeverityNumber()
    this.#logger.emit({
      eventName: EVENT_NAME,
      timestamp: envelope.otelTimeMillis(),
      observedTimestamp: Date.now(),
      severityNumber,
      severityText: severityNumber === 9 ? 'INFO' : 'WARN',
      body: envelope.toJson(),
      attributes,
      context: api.context.active(),
    })
  }

  /** Runs `fn` in a span for one MCP request, a child of the trace context in `params._meta`. */
  traceMessage(message, fn) {
    const api = this.#api
    const meta = message?.params?._meta
    const carrier = {}
    for (const k of TRACE_META_KEYS) if (typeof meta?.[k] === 'string') carrier[k] = meta[k]
    const parent = Object.keys(carrier).length > 0
      ? new this.#core.W3CTraceContextPropagator().extract(api.ROOT_CONTEXT, carrier, api.defaultTextMapGetter)
      : api.context.active()
    const method = String(message?.method)
    const name = message?.params?.name
    const isTool = method === 'tools/call' && typeof name === 'string'
    const attributes = { 'rpc.system': 'mcp', 'mcp.method.name': method, ...(isTool ? { 'gen_ai.operation.name': 'execute_tool' } : {}) }
    return this.#tracer.startActiveSpan(isTool ? `execute_tool ${name}` : method, { kind: api.SpanKind.SERVER, attributes }, parent, async (span) => {
      try {
        return await fn()
      } finally {
        span.end()
      }
    })
  }

  /** The wrapped log's head. */
  get head() {
    return this.log.head
  }
}

/** The guards' hook: `sink.traceMessage` when `log` is a sink, else `fn()` (no OpenTelemetry load). */
export function traceMessage(log, message, fn) {
  return log instanceof OtelAuditSink ? log.traceMessage(message, fn) : fn()
}
