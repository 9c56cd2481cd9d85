"""marque.fastmcp with the standalone fastmcp package (4.x): the core decides every message of a
FastMCP server (in process, fastmcp's own client), and the auth hook admits bearer tokens."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

fastmcp = pytest.importorskip("fastmcp")

import marque  # noqa: E402
from marque.mcp import DENIED_ERROR_CODE, ToolSpec, call_meta, denial  # noqa: E402

from conftest import key  # noqa: E402

TOOLS = {"read_file": ToolSpec(operation="read", resource_arg="path")}


def server(verifier: marque.Verifier, **audit: Any) -> Any:
    from marque.fastmcp import MarqueMiddleware

    app = fastmcp.FastMCP("files", middleware=[MarqueMiddleware(verifier, tools=TOOLS, **audit)])

    @app.tool
    def read_file(path: str) -> str:
        return f"contents of {path}"

    @app.resource("file:///etc/secrets")
    def secrets() -> str:
        return "secret"

    return app


def test_every_message_goes_through_the_core() -> None:
    root, orch, reader = key(1), key(2), key(3)
    token = marque.mint(root, agent="agent:orchestrator", agent_key=orch, principal="user:alice",
                        rights=["read_file:read:*", "resources/read:read:file:///docs/"])
    sub = token.delegate(orch, to="agent:reader", to_key=reader, tools=["read_file"], resource_prefix="src/")
    verifier = marque.Verifier([root.public_key], require_proof=True)
    meta = lambda path: call_meta(sub, reader, name="read_file", arguments={"path": path}, tools=TOOLS)  # noqa: E731

    async def main() -> list[str]:
        out = []
        async with fastmcp.Client(server(verifier)) as c:
            ok = await c.call_tool("read_file", {"path": "src/a.py"}, meta=meta("src/a.py"))
            out.append(ok.content[0].text)
            for args, m in [({"path": ".env"}, meta(".env")), ({"path": "src/a.py"}, call_meta(sub, name="read_file")),
                            ({"path": "src/a.py"}, None)]:
                try:
                    await c.call_tool("read_file", args, meta=m)
                    out.append("allowed")
                except Exception as e:  # fastmcp's ToolError or the SDK's MCPError
                    out.append(_code(e))
            try:
                proof = marque.sign_proof(reader, sub, tool="resources/read", operation="read", resource="file:///etc/secrets")
                await c.read_resource("file:///etc/secrets", meta={"marque/token": sub.to_base64(), "marque/proof": proof})
                out.append("allowed")
            except Exception as e:
                out.append(_code(e))
        return out

    assert asyncio.run(main()) == ["contents of src/a.py", "not_authorized", "invalid_proof", "not_authorized",
                                   "not_authorized"]


def test_every_decision_goes_to_the_durable_audit_file(tmp_path: Any) -> None:
    root, reader, server_key = key(1), key(3), key(9)
    token = marque.mint(root, agent="agent:reader", agent_key=reader, principal="user:alice", rights=["read_file:read:src/"])
    verifier = marque.Verifier([root.public_key], require_proof=True)
    log = marque.AuditFile(tmp_path / "audit.jsonl", server_key.public_key)
    meta = lambda path: call_meta(token, reader, name="read_file", arguments={"path": path}, tools=TOOLS)  # noqa: E731

    async def main() -> None:
        async with fastmcp.Client(server(verifier, audit_log=log, audit_signer=server_key)) as c:
            await c.call_tool("read_file", {"path": "src/a.py"}, meta=meta("src/a.py"))
            with pytest.raises(Exception):
                await c.call_tool("read_file", {"path": ".env"}, meta=meta(".env"))

    asyncio.run(main())
    report = marque.verify_audit_file(log.files(), server_key.public_key, log.head)
    assert report.ok, report
    events = [json.loads(line)["event"] for line in log.path.read_text().splitlines()]
    assert [(e["decision"], e["resource"]) for e in events if e["action"] == "read_file"] == [("allow", "src/a.py"), ("deny", ".env")]
    with pytest.raises(marque.InvalidArgument, match="go together"):
        server(verifier, audit_log=log)


def _code(e: BaseException) -> str:
    """The marque code of a refusal as the fastmcp client raises it (the SDK's MCPError)."""
    d = denial(e)
    return str(d["code"]) if d is not None else f"{type(e).__name__}: {e}"


def test_token_verifier_admits_through_the_core() -> None:
    from marque.fastmcp import MarqueTokenVerifier

    root, orch = key(1), key(2)
    token = marque.mint(root, agent="agent:orchestrator", agent_key=orch, principal="user:alice",
                        rights=["read_file:read:src/"], ttl_seconds=600)
    v = MarqueTokenVerifier(marque.Verifier([root.public_key]), base_url="http://127.0.0.1:1/")
    access = asyncio.run(v.verify_token(token.to_base64()))
    assert access is not None and access.client_id == "agent:orchestrator" and access.scopes == ["read_file:read:src/"]
    assert asyncio.run(v.verify_token("not-a-token")) is None
    assert asyncio.run(MarqueTokenVerifier(marque.Verifier([orch.public_key])).verify_token(token.to_base64())) is None
    assert DENIED_ERROR_CODE == -32010


def test_middleware_records_decisions_and_opens_the_current_decision() -> None:
    """The fastmcp middleware shares MarqueGuard's code path (marque._gate): every decision goes to
    ``audit`` and the signed ``audit_log`` before the handler runs, and inside the handler
    ``marque.current_decision()`` is the allowing decision and a call context holds the token."""
    from marque.fastmcp import MarqueMiddleware

    root, orch, reader, server_key = key(1), key(2), key(3), key(9)
    token = marque.mint(root, agent="agent:orchestrator", agent_key=orch, principal="user:alice",
                        rights=["read_file:read:*"])
    sub = token.delegate(orch, to="agent:reader", to_key=reader, tools=["read_file"], resource_prefix="src/")
    verifier = marque.Verifier([root.public_key], require_proof=True)
    seen: list[marque.Decision] = []
    log = marque.AuditLog()
    inside: list[tuple[str, str | None, bool]] = []
    app = fastmcp.FastMCP("files", middleware=[MarqueMiddleware(verifier, tools=TOOLS, audit=seen.append, audit_log=log,
                                                                audit_signer=server_key)])

    @app.tool
    def read_file(path: str) -> str:
        d = marque.current_decision()
        call = marque.current_call()
        inside.append((path, d.agent if d is not None else None, call is not None and call.token is not None))
        return path

    meta = lambda path: call_meta(sub, reader, name="read_file", arguments={"path": path}, tools=TOOLS)  # noqa: E731

    async def main() -> list[str]:
        out = []
        async with fastmcp.Client(app) as c:
            out.append((await c.call_tool("read_file", {"path": "src/a.py"}, meta=meta("src/a.py"))).content[0].text)
            for args, m in [({"path": ".env"}, meta(".env")), ({"path": "src/a.py"}, None)]:
                try:
                    await c.call_tool("read_file", args, meta=m)
                    out.append("allowed")
                except Exception as e:
                    out.append(_code(e))
        return out

    assert asyncio.run(main()) == ["src/a.py", "not_authorized", "not_authorized"]
    assert inside == [("src/a.py", "agent:reader", True)]
    # The token-less call was refused before any decision existed: no audit, no entry.
    assert [(d.allowed, d.resource) for d in seen] == [(True, "src/a.py"), (False, ".env")]
    report = log.verify([server_key.public_key], log.head)
    assert report.ok and report.entries == 2
    assert [e.event["decision"] for e in log.envelopes()] == ["allow", "deny"]


def test_middleware_fails_closed_on_a_broken_audit_log() -> None:
    from marque.fastmcp import MarqueMiddleware

    root, orch = key(1), key(2)
    token = marque.mint(root, agent="agent:orchestrator", agent_key=orch, principal="user:alice", rights=["read_file:read:*"])
    ran: list[str] = []
    broken = marque.AuditLog.from_jsonl("{damaged\n")
    app = fastmcp.FastMCP("files", middleware=[MarqueMiddleware(marque.Verifier([root.public_key]), tools=TOOLS,
                                                                audit_log=broken, audit_signer=key(9))])

    @app.tool
    def read_file(path: str) -> str:
        ran.append(path)
        return path

    async def main() -> str:
        async with fastmcp.Client(app) as c:
            try:
                await c.call_tool("read_file", {"path": "src/a"}, meta=call_meta(token, name="read_file"))
                return "allowed"
            except Exception as e:
                return _code(e)

    assert asyncio.run(main()) == "audit_chain_broken"
    assert ran == []
    with pytest.raises(marque.InvalidArgument):
        MarqueMiddleware(marque.Verifier([root.public_key]), audit_signer=key(9))


def test_an_approval_required_call_is_approved_through_fastmcp() -> None:
    """The refusal carries what to approve; the retry's _meta["marque/approval"] reaches the core."""
    root, agent, alice = key(1), key(2), key(7)
    token = marque.mint(root, agent="agent:deployer", agent_key=agent, principal="user:bob", rights=["read_file:read:*"])
    verifier = marque.Verifier([root.public_key], approvers={"user:alice": alice}, approval_rules=["read_file:*:secrets/"])
    args = {"path": "secrets/key"}

    async def main() -> str:
        async with fastmcp.Client(server(verifier)) as c:
            try:
                await c.call_tool("read_file", args, meta=call_meta(token, agent, name="read_file", arguments=args, tools=TOOLS))
                raise AssertionError("allowed without an approval")
            except Exception as e:  # the SDK's MCPError
                d = denial(e)
                assert d is not None and d["code"] == "approval_required", e
                asked = d["approval_request"]
            approval = marque.approve(alice, approver=asked["approvers"][0], digest=asked["digest"])
            meta = call_meta(token, agent, name="read_file", arguments=args, tools=TOOLS, approval=approval)
            return str((await c.call_tool("read_file", args, meta=meta)).content[0].text)

    assert asyncio.run(main()) == "contents of secrets/key"
