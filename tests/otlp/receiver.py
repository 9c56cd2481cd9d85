"""An OTLP/HTTP (protobuf) receiver for tests in other languages: serves 127.0.0.1 on a free port,
prints ``port N`` first, then one JSON line per log record or span it decodes (from
``ExportLogsServiceRequest`` / ``ExportTraceServiceRequest``, with opentelemetry-proto), and
exits when its standard input closes.

    .venv/bin/python tests/otlp/receiver.py
"""

from __future__ import annotations

import http.server
import json
import sys
import threading
import zlib
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest, ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse

LOCK = threading.Lock()


def any_value(v: Any) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, kind) if kind else None


def attrs(kvs: Any) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in kvs}


def out(obj: dict[str, Any]) -> None:
    with LOCK:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def read_body(handler: http.server.BaseHTTPRequestHandler) -> bytes:
    """The request body, as a collector reads it: sized by Content-Length or chunked (the Node
    exporter streams its body: `Transfer-Encoding: chunked`, no length), gzip undone."""
    rfile = handler.rfile
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while (size := int(rfile.readline().split(b";")[0].strip(), 16)) > 0:
            chunks.append(rfile.read(size))
            rfile.readline()
        while rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailer fields
        body = b"".join(chunks)
    else:
        body = rfile.read(int(handler.headers["Content-Length"]))
    if handler.headers.get("Content-Encoding", "").lower() == "gzip":
        body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
    return body


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        body = read_body(self)
        if self.headers.get("Content-Type") != "application/x-protobuf":
            self.send_error(415)
            return
        if self.path == "/v1/logs":
            for rl in ExportLogsServiceRequest.FromString(body).resource_logs:
                for sl in rl.scope_logs:
                    for r in sl.log_records:
                        out({"kind": "log", "event_name": r.event_name, "time_unix_nano": r.time_unix_nano,
                             "severity_number": r.severity_number, "severity_text": r.severity_text,
                             "body": any_value(r.body), "attributes": attrs(r.attributes),
                             "trace_id": r.trace_id.hex(), "span_id": r.span_id.hex()})
            reply = ExportLogsServiceResponse().SerializeToString()
        elif self.path == "/v1/traces":
            for rs in ExportTraceServiceRequest.FromString(body).resource_spans:
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        out({"kind": "span", "name": s.name, "trace_id": s.trace_id.hex(), "span_id": s.span_id.hex(),
                             "parent_span_id": s.parent_span_id.hex(), "attributes": attrs(s.attributes)})
            reply = ExportTraceServiceResponse().SerializeToString()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: Any) -> None:
        pass


def main() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out({"kind": "port", "port": server.server_address[1]})
    sys.stdin.read()
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
