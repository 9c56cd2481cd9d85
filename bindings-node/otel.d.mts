// Types of @marque/node/otel (see otel.mjs).
import type { AuditEventInit, AuditFile, AuditLog, Decision, Envelope, KeyPair, Signer } from './index.js'

/** EventName of every audit log record. */
export declare const EVENT_NAME: 'marque.audit'
/** Attributes also set on the active span. */
export declare const SPAN_ATTRIBUTES: readonly string[]
/** `_meta` keys carrying W3C trace context on an MCP request. */
export declare const TRACE_META_KEYS: readonly ['traceparent', 'tracestate']

/** An audit log that also emits every appended entry as an OpenTelemetry `marque.audit` log record. */
export declare class OtelAuditSink {
  constructor(log: AuditFile | AuditLog, options?: { loggerProvider?: unknown; tracerProvider?: unknown })
  readonly log: AuditFile | AuditLog
  append(signer: KeyPair | Signer, event: AuditEventInit | string): Envelope
  appendDecision(signer: KeyPair | Signer, decision: Decision, eventType?: string): Envelope
  emit(envelope: Envelope): void
  traceMessage<T>(message: { method?: string; params?: Record<string, unknown> }, fn: () => T | Promise<T>): Promise<T>
  get head(): string
}

/** `sink.traceMessage` when `log` is a sink, else `fn()`. */
export declare function traceMessage<T>(log: unknown, message: unknown, fn: () => T | Promise<T>): T | Promise<T>
