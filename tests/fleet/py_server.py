"""The Python MCP server of the loopback fleet (tests/fleet/run.sh): the official ``mcp`` SDK's
stateless Streamable HTTP, guarded by marque with what every fleet member has, through public
APIs only — proofs' nonces claimed in the shared Redis (``Verifier(replay_store=redis.Redis)``),
the operator's signed revocation list polled from a static server (``RevocationFeed``), every
decision signed into a durable audit file and exported over OTLP/HTTP (``OtelAuditSink``).
Configured by the environment (``FLEET_*``); prints one JSON line ``{"ready": …}`` on stdout
once it listens.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time

import marque
import redis
from marque.mcp import MarqueGuard, ToolSpec
from marque.otel import OtelAuditSink
from mcp.server.mcpserver import MCPServer
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

env = os.environ
name, port = env["FLEET_NAME"], int(env["FLEET_PORT"])
store = redis.Redis.from_url(env["FLEET_REDIS_URL"], socket_timeout=0.5, socket_connect_timeout=0.5)
verifier = marque.Verifier(
    [marque.PublicKey.from_hex(env["FLEET_ROOT_PUB"])],
    require_proof=True,
    operator_keys=[env["FLEET_OPERATOR_PUB"]],
    max_revocation_staleness=int(env["FLEET_STALENESS"]),
    replay_store=store,
)
feed = marque.RevocationFeed(verifier, env["FLEET_FEED_URL"], interval=int(env["FLEET_POLL"])).start()

audit_key = marque.KeyPair.generate()
logger_provider = LoggerProvider()
logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=env["FLEET_OTLP_URL"]), schedule_delay_millis=200))
sink = OtelAuditSink(marque.AuditFile(env["FLEET_AUDIT_LOG"], [audit_key.public_key]), logger_provider=logger_provider)

tools = {"read_file": ToolSpec(operation="read", resource_arg="path")}
server = MCPServer(f"fleet-{name}", log_level="WARNING", middleware=[MarqueGuard(verifier, tools=tools, deny_as="result", audit_log=sink, audit_signer=audit_key)])


@server.tool()
def read_file(path: str) -> str:
    """Reads a file (its name, tagged with this node's)."""
    return f"{name}:{path}"


def announce() -> None:
    """Prints the ready line once the port accepts connections."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    print(json.dumps({"ready": name, "port": port, "auditKey": audit_key.public_key.to_hex(), "pid": os.getpid()}), flush=True)


threading.Thread(target=announce, daemon=True).start()
try:
    server.run("streamable-http", host="127.0.0.1", port=port, stateless_http=True)
finally:
    feed.stop()
    logger_provider.shutdown()
    sys.stdout.flush()
