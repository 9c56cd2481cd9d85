"""An MCP file server guarded by marque, run as a subprocess by test_mcp.py.

    python mcp_server.py stdio
    python mcp_server.py http PORT

The trusted root public key comes from MARQUE_ROOT_PUB (hex).
"""

from __future__ import annotations

import os
import sys

import marque
from marque.mcp import MarqueGuard, MarqueTokenVerifier, ToolSpec, auth_settings
from mcp.server.mcpserver import MCPServer

TOOLS = {
    "read_file": ToolSpec(operation="read", resource_arg="path"),
    "write_file": ToolSpec(operation="write", resource_arg="path"),
}
FILES = {"src/main.rs": "fn main() {}", "src/lib.rs": "pub fn lib() {}", "README.md": "# demo"}


def build(http_port: int | None = None) -> MCPServer:
    # Over HTTP every authorized call must carry a proof (stdio tests cover calls without one).
    verifier = marque.Verifier([marque.PublicKey.from_hex(os.environ["MARQUE_ROOT_PUB"])], require_proof=http_port is not None)
    kwargs: dict[str, object] = {}
    if http_port is not None:
        kwargs = {
            "token_verifier": MarqueTokenVerifier(verifier),
            "auth": auth_settings(f"http://127.0.0.1:{http_port}/mcp"),
        }
    server = MCPServer("marque-files", middleware=[MarqueGuard(verifier, tools=TOOLS)], **kwargs)  # type: ignore[arg-type]

    @server.tool()
    def read_file(path: str) -> str:
        """Reads a file."""
        d = marque.current_decision()
        assert d is not None and d.allowed
        return f"{FILES.get(path, '')} [{d.agent} at {d.path} for {d.principal}]"

    @server.tool()
    def write_file(path: str, content: str) -> str:
        """Writes a file."""
        FILES[path] = content
        return "ok"

    return server


if __name__ == "__main__":
    if sys.argv[1] == "stdio":
        build().run("stdio")
    else:
        port = int(sys.argv[2])
        build(port).run("streamable-http", host="127.0.0.1", port=port)
