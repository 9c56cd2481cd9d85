"""Exporting the audit trail to OpenTelemetry: every signed audit entry as an OTel log record.

:class:`OtelAuditSink` wraps an audit log (:class:`marque.AuditFile` or :class:`marque.AuditLog`)
and is passed where the log would be (``MarqueGuard(..., audit_log=OtelAuditSink(log),
audit_signer=key)``, ``requires(..., audit_log=...)``). Each ``append`` signs the entry into the
log first, then emits it as a log record: ``EventName`` ``marque.audit``, severity INFO (allowed)
or WARN (denied), ``Timestamp`` the event's time, the body the envelope's canonical JSON (a
collector can re-verify it), and the attributes the core maps (``Envelope.otel_attributes``:
``gen_ai.agent.id``, ``gen_ai.tool.name``, ``enduser.id``, ``gen_ai.usage.*``, ``marque.*``,
``marque.audit.seq`` / ``.signer`` / ``.digest``). The agent identity attributes are also set on
the active span (:data:`SPAN_ATTRIBUTES`).

Trace context: with the sink, the MCP guards (:class:`marque.mcp.MarqueGuard`,
:class:`marque.fastmcp.MarqueMiddleware`) read W3C ``traceparent`` / ``tracestate`` from the
request's ``params._meta`` and run the decision and the handler in a span (``execute_tool
NAME`` for a tool call) that is a child of the caller's, so the decision's log record and span
land in the caller's trace. A malformed ``traceparent`` is ignored (a new trace starts), as the
W3C propagator does.

OpenTelemetry is optional: ``opentelemetry-api`` (and an SDK to export) is imported only when
an :class:`OtelAuditSink` is made; ``marque`` itself installs and imports without it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from marque._native import AuditFile, AuditLog, Envelope

if TYPE_CHECKING:
    from marque._native import _EventLike, _SignerLike

#: The ``EventName`` of every audit log record (the core's ``OTEL_EVENT_NAME``).
EVENT_NAME = "marque.audit"
#: The attributes also set on the active span: who acted, for whom, on what, and the verdict.
SPAN_ATTRIBUTES = (
    "gen_ai.agent.id",
    "gen_ai.agent.name",
    "gen_ai.tool.name",
    "enduser.id",
    "marque.agent.key_fingerprint",
    "marque.delegation.chain",
    "marque.task",
    "marque.decision",
)
#: The ``_meta`` keys carrying W3C trace context on an MCP request.
TRACE_META_KEYS = ("traceparent", "tracestate")


class OtelAuditSink:
    """An audit log that also emits every entry it appends as an OpenTelemetry log record.

    ``audit_log`` is the durable or in-memory log the entries are signed into (the source of
    truth: a record is emitted only after the append succeeded). ``logger_provider`` and
    ``tracer_provider`` default to the global ones (``opentelemetry._logs`` / ``trace``)."""

    def __init__(
        self,
        audit_log: AuditFile | AuditLog,
        *,
        logger_provider: Any = None,
        tracer_provider: Any = None,
    ):
        if not isinstance(audit_log, (AuditFile, AuditLog)):
            raise TypeError(f"audit_log must be a marque.AuditFile or a marque.AuditLog, got {type(audit_log).__name__}")
        try:
            from opentelemetry import _logs, trace
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("marque.otel needs the opentelemetry-api package (pip install opentelemetry-sdk)") from e
        self.audit_log = audit_log
        self._logger = (logger_provider or _logs.get_logger_provider()).get_logger("marque")
        self._tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("marque")

    def append(self, signer: _SignerLike, event: _EventLike) -> Envelope:
        """Signs ``event`` into the wrapped log, then emits the entry (see :meth:`emit`)."""
        envelope = self.audit_log.append(signer, event)
        self.emit(envelope)
        return envelope

    def emit(self, envelope: Envelope) -> None:
        """Emits one envelope as a ``marque.audit`` log record in the current context, and sets
        :data:`SPAN_ATTRIBUTES` on the current span."""
        from opentelemetry import context, trace
        from opentelemetry._logs import SeverityNumber

        event = envelope.audit_event
        attributes = {k: v for k, v in envelope.otel_attributes().items() if v is not None}
        severity = SeverityNumber(event.otel_severity_number())
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attributes({k: attributes[k] for k in SPAN_ATTRIBUTES if k in attributes})
        self._logger.emit(
            timestamp=event.otel_time_unix_nano(),
            observed_timestamp=time.time_ns(),
            context=context.get_current(),
            severity_number=severity,
            severity_text="INFO" if event.decision == "allow" else "WARN",
            body=envelope.to_json(),
            attributes=attributes,
            event_name=EVENT_NAME,
        )

    @contextlib.contextmanager
    def trace_message(self, message: Mapping[str, Any]) -> Iterator[None]:
        """Runs the block in a span for one MCP request, a child of the trace context carried in
        ``params._meta`` (``traceparent``, ``tracestate``) when there is one."""
        from opentelemetry import trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        params = message.get("params")
        meta = params.get("_meta") if isinstance(params, Mapping) else None
        carrier = {k: meta[k] for k in TRACE_META_KEYS if isinstance(meta, Mapping) and isinstance(meta.get(k), str)}
        parent = TraceContextTextMapPropagator().extract(carrier) if carrier else None
        method = str(message.get("method"))
        name = params.get("name") if isinstance(params, Mapping) else None
        span_name = f"execute_tool {name}" if method == "tools/call" and isinstance(name, str) else method
        attributes = {"rpc.system": "mcp", "mcp.method.name": method}
        if span_name.startswith("execute_tool "):
            attributes["gen_ai.operation.name"] = "execute_tool"
        with self._tracer.start_as_current_span(
            span_name, context=parent, kind=trace.SpanKind.SERVER, attributes=attributes
        ):
            yield

    def __getattr__(self, name: str) -> Any:
        # head, verify, envelopes, … of the wrapped log.
        inner = self.__dict__.get("audit_log")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)


def trace_message(audit_log: object, message: Mapping[str, Any]) -> contextlib.AbstractContextManager[None]:
    """The guards' hook: :meth:`OtelAuditSink.trace_message` when ``audit_log`` is a sink, else
    nothing (no OpenTelemetry import)."""
    if isinstance(audit_log, OtelAuditSink):
        return audit_log.trace_message(message)
    return contextlib.nullcontext()


__all__ = ["EVENT_NAME", "SPAN_ATTRIBUTES", "TRACE_META_KEYS", "OtelAuditSink"]
