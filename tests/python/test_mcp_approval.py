"""An MCP call that needs a human approval: the guard's ``approval_required`` error carries what
to approve, an approver signs it, the client retries with ``_meta["marque/approval"]``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp.client import Client  # noqa: E402
from mcp.server.mcpserver import MCPServer  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402

import marque  # noqa: E402
from marque.mcp import META_APPROVAL, MarqueGuard, ToolSpec, call_meta, denial, mcp_config  # noqa: E402
from conftest import key  # noqa: E402

ROOT, AGENT, ALICE = key(1), key(2), key(7)
TOOLS = {"deploy": ToolSpec(operation="deploy", resource_arg="target")}
PROD = {"target": "production/web"}


def setup(**guard: Any) -> tuple[MCPServer, marque.Token]:
    token = marque.mint(ROOT, agent="agent:deployer", agent_key=AGENT, principal="user:bob", rights=["deploy:*:*"])
    verifier = marque.Verifier([ROOT.public_key], approvers={"user:alice": ALICE}, approval_rules=["deploy:*:production/"])
    server = MCPServer("ops", middleware=[MarqueGuard(verifier, tools=TOOLS, **guard)])

    @server.tool()
    def deploy(target: str) -> str:
        d = marque.current_decision()
        assert d is not None
        return f"deployed {target}, approved by {(d.approval or {}).get('approver')}"

    return server, token


def meta(token: marque.Token, approval: str | None = None, arguments: dict[str, str] = PROD) -> dict[str, str]:
    return call_meta(token, AGENT, name="deploy", arguments=arguments, tools=TOOLS, approval=approval)


def test_the_approval_flow_through_the_guard() -> None:
    server, token = setup()

    async def main() -> None:
        async with Client(server) as c:
            # Staging needs no approval.
            r = await c.call_tool("deploy", {"target": "staging/web"}, meta=meta(token, arguments={"target": "staging/web"}))
            assert r.content[0].text == "deployed staging/web, approved by None"
            # Production: a structured error saying what to approve and who may.
            with pytest.raises(MCPError) as e:
                await c.call_tool("deploy", PROD, meta=meta(token))
            d = denial(e.value)
            assert d is not None and d["code"] == "approval_required"
            asked = d["approval_request"]
            assert asked["approvers"] == ["user:alice"] and META_APPROVAL == "marque/approval"
            assert asked["digest"] == marque.request_digest(token, tool="deploy", operation="deploy", resource="production/web")
            # A human approves; the agent retries with the approval (and a fresh proof).
            approval = marque.approve(ALICE, approver="user:alice", digest=asked["digest"])
            r = await c.call_tool("deploy", PROD, meta=meta(token, approval))
            assert r.content[0].text == "deployed production/web, approved by user:alice"
            # Single use: the same approval again is refused, and says again what to approve.
            with pytest.raises(MCPError) as e:
                await c.call_tool("deploy", PROD, meta=meta(token, approval))
            d = denial(e.value)
            assert d is not None and d["code"] == "approval_required" and d["approval_request"]["digest"] == asked["digest"]
            # An approval of another call does not carry over.
            other = marque.approve(ALICE, approver="user:alice", digest=asked["digest"])
            with pytest.raises(MCPError) as e:
                await c.call_tool("deploy", {"target": "production/db"}, meta=meta(token, other, {"target": "production/db"}))
            assert denial(e.value)["code"] == "approval_required"  # type: ignore[index]
            # A non-string approval is a malformed message.
            bad = {**meta(token), META_APPROVAL: 7}
            with pytest.raises(MCPError) as e:
                await c.call_tool("deploy", PROD, meta=bad)
            assert denial(e.value)["code"] == "invalid_request"  # type: ignore[index]

    asyncio.run(main())


def test_deny_as_result_carries_the_approval_request() -> None:
    server, token = setup(deny_as="result")

    async def main() -> Any:
        async with Client(server) as c:
            return await c.call_tool("deploy", PROD, meta=meta(token))

    r = asyncio.run(main())
    assert r.is_error and r.content[0].text.startswith("marque: approval_required: ")
    asked = r.structured_content["marque"]["approval_request"]
    assert asked["approvers"] == ["user:alice"] and len(asked["digest"]) == 43


def test_the_mapping_reads_the_approval_from_meta() -> None:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": "deploy", "arguments": PROD, "_meta": {META_APPROVAL: "a.b"}}}
    assert mcp_config(TOOLS).map(message).approval == "a.b"
    message["params"]["_meta"] = {}  # type: ignore[index]
    assert mcp_config(TOOLS).map(message).approval is None


REGO = """package mcp.deploys
default allow = false
allow if { input.action == "deploy"; input.agent.role == "deployer" }
require_approval if { input.action == "deploy"; startswith(input.resource.id, "production/") }
"""


def test_a_rego_require_approval_reaches_the_client_as_approval_required() -> None:
    token = marque.mint(ROOT, agent="agent:deployer", agent_key=AGENT, principal="user:bob", rights=["deploy:*:*"])
    verifier = marque.Verifier([ROOT.public_key], approvers={"user:alice": ALICE},
                               rego=[{"name": "deploys", "version": "2", "source": REGO}], roles={"agent:deployer": "deployer"})
    server = MCPServer("ops", middleware=[MarqueGuard(verifier, tools=TOOLS)])

    @server.tool()
    def deploy(target: str) -> str:
        d = marque.current_decision()
        assert d is not None
        return f"deployed {target} ({d.policy})"

    async def main() -> None:
        async with Client(server) as c:
            r = await c.call_tool("deploy", {"target": "staging/web"}, meta=meta(token, arguments={"target": "staging/web"}))
            assert r.content[0].text == "deployed staging/web (deploys@2#allow)"
            with pytest.raises(MCPError) as e:
                await c.call_tool("deploy", PROD, meta=meta(token))
            d = denial(e.value)
            assert d is not None and d["code"] == "approval_required"
            asked = d["approval_request"]
            assert asked["approvers"] == ["user:alice"] and "rego policy deploys@2" in asked["reason"]
            approval = marque.approve(ALICE, approver="user:alice", digest=asked["digest"])
            r = await c.call_tool("deploy", PROD, meta=meta(token, approval))
            assert r.content[0].text == "deployed production/web (deploys@2#require_approval)"

    asyncio.run(main())
