"""marque.otel over real OTLP/HTTP (protobuf): the MCP guard on an in-process MCP server records
every decision in a signed log and exports it as a ``marque.audit`` log record, in the trace the
caller carried in ``_meta.traceparent``. The receiver is a loopback HTTP server started here that
decodes ``ExportLogsServiceRequest`` / ``ExportTraceServiceRequest`` with opentelemetry-proto."""

from __future__ import annotations

import asyncio
import http.server
import pathlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("mcp")
pytest.importorskip("opentelemetry.sdk")
pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
pytest.importorskip("opentelemetry.proto")

from mcp.client import Client  # noqa: E402
from mcp.server.mcpserver import MCPServer  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (  # noqa: E402
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk._logs import LoggerProvider  # noqa: E402
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402

import marque  # noqa: E402
from marque.mcp import MarqueGuard, ToolSpec, call_meta, denial  # noqa: E402
from marque.otel import EVENT_NAME, OtelAuditSink  # noqa: E402
from conftest import key  # noqa: E402

# The OTLP decoding of tests/otlp/receiver.py (the receiver the Node tests and the fleet run).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "otlp"))
from receiver import any_value, read_body  # noqa: E402

TOOLS = {"read_file": ToolSpec(operation="read", resource_arg="path")}
TRACE_1 = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_2 = "0af7651916cd43dd8448eb211c80319c"


class Receiver:
    """An OTLP/HTTP receiver on a free 127.0.0.1 port: decoded log records and spans."""

    def __init__(self) -> None:
        self.logs: list[Any] = []
        self.spans: list[Any] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = read_body(self)
                assert self.headers["Content-Type"] == "application/x-protobuf"
                if self.path == "/v1/logs":
                    req = ExportLogsServiceRequest.FromString(body)
                    for rl in req.resource_logs:
                        for sl in rl.scope_logs:
                            receiver.logs.extend(sl.log_records)
                    out = ExportLogsServiceResponse().SerializeToString()
                elif self.path == "/v1/traces":
                    treq = ExportTraceServiceRequest.FromString(body)
                    for rs in treq.resource_spans:
                        for ss in rs.scope_spans:
                            receiver.spans.extend(ss.spans)
                    out = ExportTraceServiceResponse().SerializeToString()
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def providers(receiver: Receiver) -> tuple[LoggerProvider, TracerProvider]:
    lp = LoggerProvider()
    lp.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{receiver.url}/v1/logs")))
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{receiver.url}/v1/traces")))
    return lp, tp


def test_guard_exports_every_decision_in_the_callers_trace(receiver: Receiver) -> None:
    root, orch, a, server_key = key(1), key(2), key(3), key(9)
    token = marque.mint(root, agent="agent:orchestrator", agent_key=orch, principal="user:alice",
                        rights=["read_file:read:*"]).delegate(orch, to="agent:agent_a", to_key=a,
                                                               tools=["read_file"], resource_prefix="src/")
    lp, tp = providers(receiver)
    log = marque.AuditLog()
    sink = OtelAuditSink(log, logger_provider=lp, tracer_provider=tp)
    server = MCPServer("files", middleware=[MarqueGuard(marque.Verifier([root.public_key]), tools=TOOLS,
                                                        audit_log=sink, audit_signer=server_key)])

    @server.tool()
    def read_file(path: str) -> str:
        return path

    def meta(path: str, trace: str | None) -> dict[str, str]:
        m = call_meta(token, a, name="read_file", arguments={"path": path}, tools=TOOLS)
        if trace is not None:
            m["traceparent"] = f"00-{trace}-00f067aa0ba902b7-01"
            m["tracestate"] = "vendor=x"
        return m

    async def main() -> None:
        async with Client(server) as c:
            await c.call_tool("read_file", {"path": "src/a.rs"}, meta=meta("src/a.rs", TRACE_1))
            with pytest.raises(MCPError) as e:
                await c.call_tool("read_file", {"path": "README.md"}, meta=meta("README.md", TRACE_2))
            assert denial(e.value)["code"] == "not_authorized"  # type: ignore[index]
            await c.call_tool("read_file", {"path": "src/b.rs"}, meta=meta("src/b.rs", None))
            # A malformed traceparent is ignored (a new trace), never an error.
            bad = meta("src/c.rs", None) | {"traceparent": "00-zz-00-01"}
            await c.call_tool("read_file", {"path": "src/c.rs"}, meta=bad)

    asyncio.run(main())
    lp.force_flush()
    tp.force_flush()
    report = log.verify([server_key.public_key], log.head)
    envelopes = list(log.envelopes())
    assert report.ok and report.entries == len(envelopes) == len(receiver.logs) == 4
    for env, rec in zip(envelopes, receiver.logs):
        attrs = {kv.key: any_value(kv.value) for kv in rec.attributes}
        assert attrs == env.otel_attributes()
        assert rec.event_name == EVENT_NAME
        assert rec.time_unix_nano == env.audit_event.otel_time_unix_nano()
        assert rec.severity_number == env.audit_event.otel_severity_number()
        assert rec.body.string_value == env.to_json()
        marque.Envelope.from_json(rec.body.string_value).verify([server_key.public_key])
    assert [r.severity_text for r in receiver.logs] == ["INFO", "WARN", "INFO", "INFO"]
    assert [r.trace_id.hex() for r in receiver.logs[:2]] == [TRACE_1, TRACE_2]
    assert receiver.logs[2].trace_id.hex() not in ("", "0" * 32, TRACE_1, TRACE_2)
    assert receiver.logs[3].trace_id.hex() not in ("", "0" * 32, TRACE_1, TRACE_2)
    # One server span per call, a child of the caller's span, with the agent identity set.
    calls = [s for s in receiver.spans if s.name == "execute_tool read_file"]
    assert len(calls) == 4
    first = next(s for s in calls if s.trace_id.hex() == TRACE_1)
    assert first.parent_span_id.hex() == "00f067aa0ba902b7"
    assert first.span_id == receiver.logs[0].span_id
    span_attrs = {kv.key: any_value(kv.value) for kv in first.attributes}
    assert span_attrs["gen_ai.agent.id"] == "agent:agent_a" and span_attrs["enduser.id"] == "user:alice"
    assert span_attrs["marque.delegation.chain"] == ["agent:orchestrator", "agent:agent_a"]
    assert span_attrs["marque.decision"] == "allow"
    denied = next(s for s in calls if s.trace_id.hex() == TRACE_2)
    assert {kv.key: any_value(kv.value) for kv in denied.attributes}["marque.decision"] == "deny"


def test_usage_is_signed_and_exported(receiver: Receiver, tmp_path: Any) -> None:
    lp, tp = providers(receiver)
    signer = key(9)
    sink = OtelAuditSink(marque.AuditFile(tmp_path / "audit.jsonl", [signer.public_key]), logger_provider=lp,
                         tracer_provider=tp)
    usage = {"input_tokens": 1200, "output_tokens": 310, "model": "gpt-x", "cost_usd_micros": 4210}
    event = marque.AuditEvent(event_type="tool_call", agent_id="agent:a", action="search", resource="q",
                              decision="allow", timestamp=1_700_000_000, usage=usage)
    assert event.usage == usage
    env = sink.append(signer, event)
    sink.append(signer, {**event.to_dict(), "timestamp": 1_700_000_001})
    for bad in ({"input_tokens": -1}, {"input_tokens": 1.5}, {"tokens": 3}, {}, {"model": "x" * 257}):
        with pytest.raises(marque.InvalidArgument):
            marque.AuditEvent(event_type="t", agent_id="agent:a", action="a", resource="r", decision="allow",
                              usage=bad)
    with pytest.raises(marque.InvalidArgument, match="reserved for usage"):
        sink.append(signer, {**event.to_dict(), "usage": None, "attributes": {"gen_ai.usage.input_tokens": 5}})
    lp.force_flush()
    assert len(receiver.logs) == 2 == sink.next_seq
    attrs = {kv.key: any_value(kv.value) for kv in receiver.logs[0].attributes}
    assert attrs["gen_ai.usage.input_tokens"] == 1200 and attrs["gen_ai.usage.output_tokens"] == 310
    assert attrs["gen_ai.request.model"] == "gpt-x" and attrs["marque.usage.cost_usd_micros"] == 4210
    assert attrs == env.otel_attributes()
    report = marque.verify_audit_file(tmp_path / "audit.jsonl", [signer.public_key])
    assert report.ok and report.entries == 2


def test_marque_imports_and_guards_without_opentelemetry() -> None:
    code = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import marque, marque.mcp, marque.otel
marque.mcp.MarqueGuard(marque.Verifier([marque.KeyPair.generate().public_key]),
                       audit_log=marque.AuditLog(), audit_signer=marque.KeyPair.generate())
assert not any(m.startswith("opentelemetry") for m in sys.modules)
try:
    marque.otel.OtelAuditSink(marque.AuditLog())
except ImportError as e:
    print("refused:", e)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "refused: marque.otel needs the opentelemetry-api package" in out.stdout, out


def test_readme_example_runs() -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "bindings-python" / "README.md").read_text()
    section = readme.split("## Exporting the audit trail to OpenTelemetry", 1)[1]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    exec(compile(code, "README.md", "exec"), {})
