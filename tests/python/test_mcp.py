"""marque.mcp with the real `mcp` SDK: in-process, over stdio (subprocess), over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp.client import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402
from mcp.server.mcpserver import MCPServer  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402

import marque  # noqa: E402
from marque.mcp import (  # noqa: E402
    DENIED_ERROR_CODE,
    META_PROOF,
    META_TOKEN,
    MarqueGuard,
    MarqueTokenVerifier,
    ToolSpec,
    bearer_headers,
    call_meta,
    denial,
    protected_resource_metadata,
    request_for,
    resource_metadata_url,
    www_authenticate,
)
from conftest import key  # noqa: E402

HERE = Path(__file__).resolve().parent
SERVER = HERE / "mcp_server.py"
TOOLS = {
    "read_file": ToolSpec(operation="read", resource_arg="path"),
    "write_file": ToolSpec(operation="write", resource_arg="path"),
}


class Agents:
    """Tokens minted on the real clock (the servers use it): orchestrator → agent_a (read src/)."""

    def __init__(self) -> None:
        self.root, self.orch, self.a = key(1), key(2), key(3)
        self.root_token = marque.mint(self.root, agent="agent:orchestrator", agent_key=self.orch,
                                      principal="user:alice", rights=["read_file:read:*", "write_file:write:*"])
        self.a_token = self.root_token.delegate(self.orch, to="agent:agent_a", to_key=self.a, tools=["read_file"],
                                                resource_prefix="src/")

    def meta(self, path: str, token: marque.Token | None = None, signer: marque.KeyPair | None = None,
             tool: str = "read_file") -> dict[str, str]:
        return call_meta(token or self.a_token, signer or self.a, name=tool, arguments={"path": path}, tools=TOOLS)


@pytest.fixture(scope="module")
def agents() -> Agents:
    return Agents()


def text(result: Any) -> str:
    assert not result.is_error, result
    return str(result.content[0].text)


def tampered(token: marque.Token) -> str:
    raw = bytearray(token.to_bytes())
    at = bytes(raw).find(bytes.fromhex(token.revocation_ids[0]))
    raw[at + 3] ^= 0x10
    return marque.Token.from_bytes(bytes(raw)).to_base64()


# ---------------------------------------------------------------------------------------------
# helpers

def test_request_mapping_and_meta(agents: Agents) -> None:
    assert request_for("read_file", {"path": "src/a"}, TOOLS) == ("read_file", "read", "src/a")
    assert request_for("other", {"x": 1}, TOOLS) == ("other", "*", "*")
    assert request_for("t", {}, {"t": ToolSpec(tool="alias", resource=lambda a: "fixed")}) == ("alias", "*", "fixed")
    with pytest.raises(marque.InvalidRequest):
        request_for("read_file", {"path": 3}, TOOLS)
    # An undeclared tool: the one resource-like argument, else "*"; two of them are refused, not guessed.
    assert request_for("other", {"path": "src/a"}) == ("other", "*", "src/a")
    with pytest.raises(marque.InvalidRequest):
        request_for("other", {"path": "src/a", "uri": "file:///etc/passwd"})
    assert request_for("other", {"path": "src/a", "uri": "x"}, {"other": ToolSpec(resource_arg="uri")}) == ("other", "*", "x")
    meta = agents.meta("src/a")
    assert set(meta) == {META_TOKEN, META_PROOF} == {"marque/token", "marque/proof"}
    assert meta[META_TOKEN] == agents.a_token.to_base64()
    v = marque.Verifier([agents.root.public_key])
    assert v.authorize(meta[META_TOKEN], tool="read_file", operation="read", resource="src/a",
                       proof=meta[META_PROOF]).proof_verified
    assert call_meta(agents.a_token, name="t", include_token=False) == {}
    assert bearer_headers(agents.a_token) == {"Authorization": f"Bearer {agents.a_token.to_base64()}"}


def test_www_authenticate_and_metadata(agents: Agents) -> None:
    from mcp.server.auth.routes import build_resource_metadata_url

    for url in ("https://h.example/mcp", "https://h.example", "http://127.0.0.1:8000/a/b"):
        assert resource_metadata_url(url) == str(build_resource_metadata_url(url))  # type: ignore[arg-type]
    assert www_authenticate() == "Bearer"
    # The core's one quoting rule: nothing can leave its quotes.
    assert www_authenticate(error="invalid_token", error_description='bad "sig"\n',
                            resource_metadata="https://h/.well-known/oauth-protected-resource/mcp") == (
        'Bearer error="invalid_token", error_description="bad \'sig\' ", '
        'resource_metadata="https://h/.well-known/oauth-protected-resource/mcp"'
    )
    with pytest.raises(marque.InvalidArgument):
        www_authenticate(error="bogus")  # type: ignore[arg-type]
    doc = protected_resource_metadata("https://h/mcp", root_keys=[agents.root.public_key], resource_name="files")
    assert doc["resource"] == "https://h/mcp" and doc["bearer_methods_supported"] == ["header"]
    assert doc["marque_root_keys"] == [agents.root.public_key.to_jwk()]
    assert doc["marque_meta_keys"] == {"token": "marque/token", "proof": "marque/proof"}
    assert marque.PublicKey.from_jwk(doc["marque_root_keys"][0]) == agents.root.public_key
    json.dumps(doc)


def test_token_verifier(agents: Agents) -> None:
    tv = MarqueTokenVerifier(marque.Verifier([agents.root.public_key], audience="https://h/mcp"), resource="https://h/mcp")
    at = asyncio.run(tv.verify_token(agents.a_token.to_base64()))
    assert at is not None
    assert at.client_id == "agent:agent_a" and at.subject == "user:alice" and at.resource == "https://h/mcp"
    assert at.expires_at == agents.a_token.expires_at
    # The sub-agent's effective rights, never the root's ("read_file:read:*", "write_file:write:*").
    assert at.scopes == ["read_file:read:src/"]
    assert at.claims is not None
    assert at.claims["path"] == "/root/agent_a"
    assert at.claims["chain"] == ["agent:orchestrator", "agent:agent_a"]
    assert at.claims["agent_key_fingerprint"] == agents.a.fingerprint
    assert at.claims["token_id"] == agents.a_token.revocation_ids[-1]
    assert asyncio.run(tv.verify_token(tampered(agents.a_token))) is None
    assert asyncio.run(tv.verify_token("garbage")) is None
    assert asyncio.run(MarqueTokenVerifier(marque.Verifier([key(9)])).verify_token(agents.a_token.to_base64())) is None
    late = MarqueTokenVerifier(marque.Verifier([agents.root.public_key]), clock=lambda: agents.a_token.expires_at + 1)
    assert asyncio.run(late.verify_token(agents.a_token.to_base64())) is None


def test_token_verifier_checks_revocation_and_staleness(agents: Agents) -> None:
    """Regression: verify_token checked signature and expiry only; it now goes through the
    core's admission (revocation, and the revocation-list staleness rule, failing closed)."""
    v = marque.Verifier([agents.root.public_key])
    tv = MarqueTokenVerifier(v)
    assert asyncio.run(tv.verify_token(agents.a_token.to_base64())) is not None
    v.revoke_agent("agent:agent_a")
    assert asyncio.run(tv.verify_token(agents.a_token.to_base64())) is None
    assert asyncio.run(tv.verify_token(agents.root_token.to_base64())) is not None  # the parent is not revoked
    operator = key(7)
    fleet = marque.Verifier([agents.root.public_key], operator_keys=[operator.public_key], max_revocation_staleness=60)
    tv = MarqueTokenVerifier(fleet)
    assert asyncio.run(tv.verify_token(agents.a_token.to_base64())) is None  # no signed list yet: fail closed
    fleet.load_revocation_list(marque.RevocationList.sign(marque.RevocationSet(), sequence=1, signer=operator))
    assert asyncio.run(tv.verify_token(agents.a_token.to_base64())) is not None
    stale = MarqueTokenVerifier(fleet, clock=lambda: time.time() + 120)
    assert asyncio.run(stale.verify_token(agents.a_token.to_base64())) is None


# ---------------------------------------------------------------------------------------------
# in-process: the SDK's own Client against an MCPServer instance

AS_READ = ToolSpec(tool="read_file", operation="read", resource_arg="path")
INPROC_TOOLS = {**TOOLS, "read_twice": AS_READ, "read_then_write": AS_READ}


def inproc_server(agents: Agents, **guard: Any) -> tuple[MCPServer, list[marque.Decision]]:
    audit: list[marque.Decision] = []
    server = MCPServer("files", middleware=[MarqueGuard(marque.Verifier([agents.root.public_key]), tools=INPROC_TOOLS,
                                                        audit=audit.append, **guard)])

    @server.tool()
    def read_file(path: str) -> str:
        d = marque.current_decision()
        assert d is not None
        return f"{path} by {d.agent}"

    @server.tool()
    @marque.requires(tool="read_file", operation="read", resource=lambda path: path)  # reuses the guard's decision
    def read_twice(path: str) -> str:
        assert marque.current_decision() is not None
        return path

    @server.tool()
    @marque.requires(tool="write_file", operation="write", resource=lambda path: path)  # another request
    def read_then_write(path: str) -> str:
        return path

    return server, audit


def test_inprocess_allow_deny_replay_tamper(agents: Agents) -> None:
    server, audit = inproc_server(agents)

    async def main() -> None:
        async with Client(server) as c:
            assert {t.name for t in (await c.list_tools()).tools} == {"read_file", "read_twice", "read_then_write"}  # no token needed
            meta = agents.meta("src/main.rs")
            assert text(await c.call_tool("read_file", {"path": "src/main.rs"}, meta=meta)) == "src/main.rs by agent:agent_a"
            with pytest.raises(MCPError) as e:  # same proof again
                await c.call_tool("read_file", {"path": "src/main.rs"}, meta=meta)
            assert e.value.code == DENIED_ERROR_CODE and denial(e.value)["code"] == "replayed_proof"  # type: ignore[index]
            with pytest.raises(MCPError) as e:
                await c.call_tool("read_file", {"path": "README.md"}, meta=agents.meta("README.md"))
            d = denial(e.value)
            assert d is not None and d["code"] == "not_authorized" and d["path"] == "/root/agent_a"
            assert d["resource"] == "README.md" and 'starts_with("src/")' in d["reasons"][0]
            with pytest.raises(MCPError) as e:
                await c.call_tool("write_file", {"path": "src/x", "content": ""},
                                  meta=agents.meta("src/x", tool="write_file"))
            assert denial(e.value)["code"] == "not_authorized"  # type: ignore[index]
            bad = {META_TOKEN: tampered(agents.a_token), META_PROOF: agents.meta("src/main.rs")[META_PROOF]}
            with pytest.raises(MCPError) as e:
                await c.call_tool("read_file", {"path": "src/main.rs"}, meta=bad)
            assert denial(e.value)["code"] == "invalid_signature"  # type: ignore[index]
            with pytest.raises(MCPError) as e:
                await c.call_tool("read_file", {"path": "src/main.rs"})
            assert denial(e.value)["code"] == "not_authorized" and "no marque token" in e.value.message  # type: ignore[index]
            # A proof signed by another agent (the orchestrator) for agent_a's token cannot be made…
            with pytest.raises(marque.WrongHolderKey):
                agents.meta("src/main.rs", signer=agents.orch)
            # A guard inside the tool reuses the decision for the same request (the proof is spent)…
            args = {"path": "src/lib.rs"}
            meta = call_meta(agents.a_token, agents.a, name="read_twice", arguments=args, tools=INPROC_TOOLS)
            assert text(await c.call_tool("read_twice", args, meta=meta)) == "src/lib.rs"
            # …and authorizes any other request on the token alone: agent_a may not write, so the
            # tool raises NotAuthorized, which the SDK reports as a (message-less) tool error.
            meta = call_meta(agents.a_token, agents.a, name="read_then_write", arguments=args, tools=INPROC_TOOLS)
            r = await c.call_tool("read_then_write", args, meta=meta)
            assert r.is_error and "read_then_write" in r.content[0].text

    asyncio.run(main())
    # The guard's audit: the tampered and token-less calls raised before any decision existed.
    assert [d.allowed for d in audit] == [True, False, False, False, True, True]
    assert [d.code for d in audit] == [None, "replayed_proof", "not_authorized", "not_authorized", None, None]


def test_inprocess_guard_appends_to_an_audit_log(agents: Agents) -> None:
    server_key = key(9)
    log = marque.AuditLog()
    server, _ = inproc_server(agents, audit_log=log, audit_signer=server_key)

    async def main() -> None:
        async with Client(server) as c:
            assert text(await c.call_tool("read_file", {"path": "src/a.rs"}, meta=agents.meta("src/a.rs")))
            with pytest.raises(MCPError):
                await c.call_tool("read_file", {"path": "README.md"}, meta=agents.meta("README.md"))
            with pytest.raises(MCPError):  # no token: no decision, no entry
                await c.call_tool("read_file", {"path": "src/a.rs"})
            # A guard inside the tool reuses the guard's decision and records nothing more.
            args = {"path": "src/b.rs"}
            meta = call_meta(agents.a_token, agents.a, name="read_twice", arguments=args, tools=INPROC_TOOLS)
            assert text(await c.call_tool("read_twice", args, meta=meta)) == "src/b.rs"

    asyncio.run(main())
    report = log.verify([server_key.public_key], log.head)
    assert report.ok and report.entries == 3
    events = [e.event for e in log.envelopes()]
    assert [(e["decision"], e["resource"]) for e in events] == [
        ("allow", "src/a.rs"), ("deny", "README.md"), ("allow", "src/b.rs")]
    assert all(e["agent_id"] == "agent:agent_a" and e["event_type"] == "authorization" for e in events)
    assert events[1]["attributes"]["denial_code"] == "not_authorized"
    # Someone edits the log afterwards: verification names the entry.
    tampered = log.to_jsonl().replace("README.md", "docs.md")
    bad = marque.AuditLog.from_jsonl(tampered).verify([server_key.public_key], log.head)
    assert bad.problem is not None and (bad.problem.index, bad.problem.kind) == (1, "edited_entry")


def test_inprocess_guard_appends_to_a_durable_audit_file(agents: Agents, tmp_path: Any) -> None:
    server_key = key(9)
    path = tmp_path / "audit.jsonl"
    log = marque.AuditFile(path, server_key.public_key, fsync="never", max_bytes=1500)
    server, _ = inproc_server(agents, audit_log=log, audit_signer=server_key)

    async def main() -> None:
        async with Client(server) as c:
            for name in ("src/a.rs", "src/b.rs", "src/c.rs"):
                assert text(await c.call_tool("read_file", {"path": name}, meta=agents.meta(name)))
            with pytest.raises(MCPError):
                await c.call_tool("read_file", {"path": "README.md"}, meta=agents.meta("README.md"))

    asyncio.run(main())
    head, files = log.head, log.files()
    assert log.next_seq == 4 and len(files) > 1  # rotated, one chain across the files
    log.close()
    report = marque.verify_audit_file(files, [server_key.public_key], head)
    assert report.ok and report.entries == 4
    # A restart resumes the chain.
    reopened = marque.AuditFile(path, [server_key.public_key])
    assert (reopened.next_seq, reopened.head, reopened.torn) == (4, head, None)
    reopened.close()


def test_inprocess_guard_fails_closed_on_a_broken_log(agents: Agents) -> None:
    ran: list[str] = []
    broken = marque.AuditLog.from_jsonl("{damaged\n")
    server = MCPServer("files", middleware=[MarqueGuard(marque.Verifier([agents.root.public_key]), tools=TOOLS,
                                                        audit_log=broken, audit_signer=key(9))])

    @server.tool()
    def read_file(path: str) -> str:
        ran.append(path)
        return path

    async def main() -> None:
        async with Client(server) as c:
            with pytest.raises(MCPError) as e:
                await c.call_tool("read_file", {"path": "src/a"}, meta=agents.meta("src/a"))
            assert denial(e.value)["code"] == "audit_chain_broken"  # type: ignore[index]

    asyncio.run(main())
    assert ran == []
    with pytest.raises(marque.InvalidArgument):
        MarqueGuard(marque.Verifier([agents.root.public_key]), audit_signer=key(9))


def test_inprocess_deny_as_result(agents: Agents) -> None:
    server, _ = inproc_server(agents, deny_as="result")

    async def main() -> Any:
        async with Client(server) as c:
            return await c.call_tool("read_file", {"path": "README.md"}, meta=agents.meta("README.md"))

    r = asyncio.run(main())
    assert r.is_error and r.content[0].text.startswith("marque: not_authorized: ")
    assert r.structured_content["marque"]["code"] == "not_authorized"


def test_inprocess_require_proof(agents: Agents) -> None:
    server = MCPServer("files", middleware=[MarqueGuard(
        marque.Verifier([agents.root.public_key], require_proof=True), tools=TOOLS)])

    @server.tool()
    def read_file(path: str) -> str:
        return path

    async def main() -> None:
        async with Client(server) as c:
            with pytest.raises(MCPError) as e:
                await c.call_tool("read_file", {"path": "src/a"}, meta={META_TOKEN: agents.a_token.to_base64()})
            assert denial(e.value)["code"] == "invalid_proof"  # type: ignore[index]
            assert text(await c.call_tool("read_file", {"path": "src/a"}, meta=agents.meta("src/a"))) == "src/a"

    asyncio.run(main())


def test_inprocess_audience_binds_proofs_to_the_server(agents: Agents) -> None:
    """RFC 8707: the guard's verifier knows its server URI; a proof for another server, or for
    none, is refused; ``call_meta(resource=…)`` and ``MarqueAuth(resource=…)`` sign for it."""
    uri = "https://files.example/mcp"
    verifier = marque.Verifier([agents.root.public_key], require_proof=True, audience="HTTPS://Files.example:443/mcp/")
    assert verifier.audience == uri
    server = MCPServer("files", middleware=[MarqueGuard(verifier, tools=TOOLS, resource=uri)])

    @server.tool()
    def read_file(path: str) -> str:
        return path

    def meta(resource: str | None) -> dict[str, str]:
        return call_meta(agents.a_token, agents.a, name="read_file", arguments={"path": "src/a"}, tools=TOOLS,
                         resource=resource)

    async def main() -> None:
        async with Client(server) as c:
            assert text(await c.call_tool("read_file", {"path": "src/a"}, meta=meta(uri))) == "src/a"
            for other in ("https://other.example/mcp", "https://files.example/MCP", None):
                with pytest.raises(MCPError) as e:
                    await c.call_tool("read_file", {"path": "src/a"}, meta=meta(other))
                assert denial(e.value)["code"] == "invalid_proof", other  # type: ignore[index]

    asyncio.run(main())
    # The client side: MarqueAuth's proofs name the server it was given.
    from marque.mcp import MarqueAuth

    auth = MarqueAuth(agents.a_token, agents.a, tools=TOOLS, resource=uri)
    assert auth.config.resource == uri
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "read_file", "arguments": {"path": "src/a"}}}
    h = auth.headers(message)
    outcome = verifier.authorize_mcp(json.dumps(message), config=auth.config, token=h["Authorization"][7:],
                                     proof=h["Marque-Proof"])
    assert outcome.allowed
    # A guard naming another server than its verifier's audience, or a verifier without one: refused up front.
    with pytest.raises(marque.InvalidArgument):
        MarqueGuard(verifier, tools=TOOLS, resource="https://other.example/mcp")
    with pytest.raises(marque.InvalidArgument):
        MarqueTokenVerifier(marque.Verifier([agents.root.public_key]), resource=uri)
    assert MarqueTokenVerifier(verifier).resource == uri
    with pytest.raises(marque.InvalidArgument):
        marque.Verifier([agents.root.public_key], audience="https://files.example/mcp#frag")
    with pytest.raises(marque.InvalidArgument):
        marque.sign_proof(agents.a, agents.a_token, tool="read_file", resource="src/a", audience="files.example")


def test_inprocess_a_token_minted_for_another_server_is_refused(agents: Agents) -> None:
    """RFC 8707 for tokens: a bearer token minted for server B, presented at server A (whose
    verifier's audience is A), is refused with invalid_token — by the guard and at the HTTP door
    (MarqueTokenVerifier: no AccessToken, i.e. 401) — while a token minted for A passes."""
    uri = "https://files.example/mcp"
    verifier = marque.Verifier([agents.root.public_key], audience=uri)
    server = MCPServer("files", middleware=[MarqueGuard(verifier, tools=TOOLS, resource=uri)])

    @server.tool()
    def read_file(path: str) -> str:
        return path

    def minted(aud: str) -> marque.Token:
        return marque.mint(agents.root, agent="agent:a", agent_key=agents.a, principal="user:alice",
                           rights=["read_file:read:src/"], audience=[aud])

    mine, theirs = minted("HTTPS://Files.example/mcp/"), minted("https://other.example/mcp")
    assert mine.audience == [uri] and theirs.audience == ["https://other.example/mcp"]

    def meta(token: marque.Token) -> dict[str, str]:
        return call_meta(token, agents.a, name="read_file", arguments={"path": "src/a"}, tools=TOOLS, resource=uri)

    async def main() -> None:
        async with Client(server) as c:
            assert text(await c.call_tool("read_file", {"path": "src/a"}, meta=meta(mine))) == "src/a"
            with pytest.raises(MCPError) as e:
                await c.call_tool("read_file", {"path": "src/a"}, meta=meta(theirs))
            assert denial(e.value)["code"] == "invalid_token"  # type: ignore[index]

    asyncio.run(main())
    tv = MarqueTokenVerifier(verifier, resource=uri)
    assert asyncio.run(tv.verify_token(mine.to_base64())) is not None
    assert asyncio.run(tv.verify_token(theirs.to_base64())) is None
    with pytest.raises(marque.InvalidToken):
        verifier.verify(theirs.to_bytes())


# ---------------------------------------------------------------------------------------------
# stdio: the server as a subprocess, the SDK's client over its stdin/stdout

def test_stdio_end_to_end(agents: Agents) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=[str(SERVER), "stdio"], cwd=str(HERE),
        env={"MARQUE_ROOT_PUB": agents.root.public_key.to_hex(), "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
    )

    async def main() -> None:
        async with Client(params) as c:
            ok = await c.call_tool("read_file", {"path": "src/main.rs"}, meta=agents.meta("src/main.rs"))
            assert text(ok) == "fn main() {} [agent:agent_a at /root/agent_a for user:alice]"

            with pytest.raises(MCPError) as e:  # outside the delegation (README.md is not under src/)
                await c.call_tool("read_file", {"path": "README.md"}, meta=agents.meta("README.md"))
            assert e.value.code == DENIED_ERROR_CODE
            assert denial(e.value) is not None and denial(e.value)["code"] == "not_authorized"  # type: ignore[index]

            with pytest.raises(MCPError) as e:  # tampered token
                meta = agents.meta("src/main.rs")
                meta[META_TOKEN] = tampered(agents.a_token)
                await c.call_tool("read_file", {"path": "src/main.rs"}, meta=meta)
            assert denial(e.value)["code"] == "invalid_signature"  # type: ignore[index]

            replay = agents.meta("src/lib.rs")
            assert "fn lib" in text(await c.call_tool("read_file", {"path": "src/lib.rs"}, meta=replay))
            with pytest.raises(MCPError) as e:  # replayed proof
                await c.call_tool("read_file", {"path": "src/lib.rs"}, meta=replay)
            assert denial(e.value)["code"] == "replayed_proof"  # type: ignore[index]

            # The orchestrator may write; its sub-agent may not.
            w = call_meta(agents.root_token, agents.orch, name="write_file", arguments={"path": "src/new.rs"}, tools=TOOLS)
            assert text(await c.call_tool("write_file", {"path": "src/new.rs", "content": "x"}, meta=w)) == "ok"

    asyncio.run(main())


# ---------------------------------------------------------------------------------------------
# Streamable HTTP on loopback: Authorization: Bearer, 401 + RFC 9728 challenge, metadata

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def http_server(agents: Agents) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ, MARQUE_ROOT_PUB=agents.root.public_key.to_hex())
    proc = subprocess.Popen([sys.executable, str(SERVER), "http", str(port)], cwd=HERE, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def post(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}).encode()
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "content-type": "application/json", "accept": "application/json, text/event-stream", **headers})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_http_challenge_and_metadata(agents: Agents, http_server: str) -> None:
    status, headers, _ = post(http_server, {})
    assert status == 401
    challenge = headers.get("www-authenticate") or headers.get("WWW-Authenticate") or ""
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    assert f'resource_metadata="{resource_metadata_url(http_server)}"' in challenge
    assert post(http_server, {"Authorization": f"Bearer {tampered(agents.a_token)}"})[0] == 401
    with urllib.request.urlopen(resource_metadata_url(http_server), timeout=10) as r:
        meta = json.loads(r.read())
    assert meta["resource"] == http_server
    assert meta["bearer_methods_supported"] == ["header"]


def test_http_end_to_end(agents: Agents, http_server: str) -> None:
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    async def main() -> None:
        http = create_mcp_http_client(headers=bearer_headers(agents.a_token))
        async with http, Client(streamable_http_client(http_server, http_client=http)) as c:
            proof = call_meta(agents.a_token, agents.a, name="read_file", arguments={"path": "src/main.rs"},
                              tools=TOOLS, include_token=False)
            assert META_TOKEN not in proof
            ok = await c.call_tool("read_file", {"path": "src/main.rs"}, meta=proof)
            assert text(ok) == "fn main() {} [agent:agent_a at /root/agent_a for user:alice]"
            with pytest.raises(MCPError) as e:
                await c.call_tool("read_file", {"path": "src/main.rs"}, meta=proof)
            assert denial(e.value)["code"] == "replayed_proof"  # type: ignore[index]
            with pytest.raises(MCPError) as e:
                await c.call_tool("read_file", {"path": "README.md"},
                                  meta=call_meta(agents.a_token, agents.a, name="read_file",
                                                 arguments={"path": "README.md"}, tools=TOOLS, include_token=False))
            assert denial(e.value)["code"] == "not_authorized"  # type: ignore[index]

    asyncio.run(main())


def test_http_client_side_agent_auth(agents: Agents, http_server: str) -> None:
    """The agent side in one object: ``Agent(...).auth`` on the SDK's HTTP client adds the bearer
    token and a fresh proof per authorized message (no ``_meta``); ``delegate`` hands a
    sub-agent a narrowed token in one call, and the server holds it to the narrowing."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    from marque.mcp import Agent, MarqueAuth

    me = Agent(agents.root_token, agents.orch, tools=TOOLS)
    reader = me.delegate("agent:reader", tools=["read_file"], resource_prefix="src/", ttl_seconds=300)
    assert [h.agent for h in reader.token.chain] == ["agent:orchestrator", "agent:reader"]

    async def calls(auth: MarqueAuth) -> list[str]:
        out = []
        async with httpx2.AsyncClient(auth=auth) as http, Client(streamable_http_client(http_server, http_client=http)) as c:
            for tool, args in [("read_file", {"path": "src/lib.rs"}), ("read_file", {"path": "README.md"}),
                               ("write_file", {"path": "src/lib.rs", "content": "x"})]:
                try:
                    out.append(text(await c.call_tool(tool, args)))
                except MCPError as e:
                    out.append(f"denied {denial(e)['code']}")  # type: ignore[index]
        return out

    got = asyncio.run(calls(reader.auth))
    assert got[0] == "pub fn lib() {} [agent:reader at /root/reader for user:alice]"
    assert got[1:] == ["denied not_authorized", "denied not_authorized"]
    # The orchestrator itself may write; each call's proof is fresh, so nothing is a replay.
    assert asyncio.run(calls(me.auth))[2] == "ok"
    # The server requires proofs over HTTP: the same client without MarqueAuth's proof is refused.
    async def bare() -> str:
        http = httpx2.AsyncClient(headers=bearer_headers(reader.token))
        async with http, Client(streamable_http_client(http_server, http_client=http)) as c:
            try:
                return text(await c.call_tool("read_file", {"path": "src/lib.rs"}))
            except MCPError as e:
                return f"denied {denial(e)['code']}"  # type: ignore[index]

    assert asyncio.run(bare()) == "denied invalid_proof"
    # A wrong key signs nothing.
    with pytest.raises(marque.WrongHolderKey):
        MarqueAuth(reader.token, agents.orch, tools=TOOLS).headers(
            {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "read_file", "arguments": {"path": "src/a"}}})


# ---------------------------------------------------------------------------------------------
# MarqueGuard on raw messages: every method goes through the core mapping

class _Request:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = {k.lower(): v for k, v in headers.items()}


def guard_call(guard: MarqueGuard, method: str, params: dict[str, Any] | None = None, *, request_id: Any = 1,
               headers: dict[str, str] | None = None) -> tuple[bool, str | None]:
    """Runs one message through the guard: (reached the handler, marque code of a refusal)."""
    from types import SimpleNamespace

    ctx = SimpleNamespace(method=method, params=params, request_id=request_id, meta=None,
                          request=_Request(headers) if headers is not None else None)
    reached: list[bool] = []

    async def call_next(_ctx: Any) -> str:
        reached.append(True)
        return "ok"

    try:
        asyncio.run(guard(ctx, call_next))  # type: ignore[arg-type]
    except MCPError as e:
        d = denial(e)
        assert not reached
        return False, d["code"] if d else None
    return bool(reached), None


def test_guard_refuses_malformed_tool_calls(agents: Agents) -> None:
    """Regression: MarqueGuard passed malformed tools/call messages, and ones without an id, to
    the next handler."""
    g = MarqueGuard(marque.Verifier([agents.root.public_key]), tools=TOOLS)
    meta = {"_meta": {META_TOKEN: agents.a_token.to_base64()}}
    ok = {"name": "read_file", "arguments": {"path": "src/a"}, **meta}
    assert guard_call(g, "tools/call", ok) == (True, None)
    assert guard_call(g, "tools/call", ok, request_id=None) == (False, "invalid_request")
    assert guard_call(g, "tools/call", {"arguments": {"path": "src/a"}, **meta}) == (False, "invalid_request")
    assert guard_call(g, "tools/call", {"name": 3, **meta}) == (False, "invalid_request")
    assert guard_call(g, "tools/call", {"name": "read_file", "arguments": ["src/a"], **meta}) == (False, "invalid_request")
    assert guard_call(g, "tools/call", {"name": "read_file", "arguments": "src/a", **meta}) == (False, "invalid_request")


def test_guard_authorizes_every_method(agents: Agents) -> None:
    """resources/read, prompts/get, completion/complete need a right like tools/call; unknown
    methods are refused; the allow-list passes; headers must agree with the body."""
    g = MarqueGuard(marque.Verifier([agents.root.public_key]), tools=TOOLS)
    bearer = {"Authorization": f"Bearer {agents.a_token.to_base64()}"}
    assert guard_call(g, "resources/read", {"uri": "file:///etc/passwd"}, headers=bearer) == (False, "not_authorized")
    assert guard_call(g, "prompts/get", {"name": "p"}, headers=bearer) == (False, "not_authorized")
    assert guard_call(g, "completion/complete", {"ref": {"type": "ref/prompt", "name": "p"}, "argument": {"name": "a", "value": ""}},
                      headers=bearer) == (False, "not_authorized")
    assert guard_call(g, "logging/setLevel", {"level": "debug"}, headers=bearer) == (False, "invalid_request")
    assert guard_call(g, "tools/list", {}, headers=bearer) == (True, None)
    assert guard_call(g, "tools/list", {}) == (True, None)  # stdio handshake: no token needed
    assert guard_call(g, "notifications/initialized", None, request_id=None) == (True, None)
    call = {"name": "read_file", "arguments": {"path": "src/a"}}
    assert guard_call(g, "tools/call", call, headers={**bearer, "Mcp-Method": "tools/call", "Mcp-Name": "read_file"}) == (True, None)
    assert guard_call(g, "tools/call", call, headers={**bearer, "Mcp-Name": "write_file"}) == (False, "invalid_request")
    # An expired token gets no free pass on allow-listed methods either.
    late = MarqueGuard(marque.Verifier([agents.root.public_key]), clock=lambda: agents.a_token.expires_at + 1)
    assert guard_call(late, "tools/list", {}, headers=bearer) == (False, "expired")
    # A proof is required: the Marque-Proof header or _meta, and nothing else.
    strict = MarqueGuard(marque.Verifier([agents.root.public_key], require_proof=True), tools=TOOLS)
    assert guard_call(strict, "tools/call", call, headers=bearer) == (False, "invalid_proof")
    proof = marque.sign_proof(agents.a, agents.a_token, tool="read_file", operation="read", resource="src/a")
    assert guard_call(strict, "tools/call", call, headers={**bearer, "Marque-Proof": proof}) == (True, None)


def test_guard_tool_resource_is_never_guessed(agents: Agents) -> None:
    g = MarqueGuard(marque.Verifier([agents.root.public_key]))  # no ToolSpec: the core's rule
    meta = {"_meta": {META_TOKEN: agents.a_token.to_base64()}}
    two = {"name": "read_file", "arguments": {"path": "src/a", "uri": "file:///etc/passwd"}, **meta}
    assert guard_call(g, "tools/call", two) == (False, "invalid_request")
    declared = MarqueGuard(marque.Verifier([agents.root.public_key]), tools=TOOLS)
    assert guard_call(declared, "tools/call", two) == (True, None)
