"""marque.requires / marque.call_context: guarding tool functions from a per-call context."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

import marque
from conftest import NOW, Scenario


def guarded(v: marque.Verifier, audit: list[marque.Decision] | None = None):  # type: ignore[no-untyped-def]
    @marque.requires(v, tool="read_file", operation="read", resource=lambda path: path,
                     audit=audit.append if audit is not None else None)
    def read_file(path: str, encoding: str = "utf-8") -> str:
        d = marque.current_decision()
        assert d is not None and d.allowed and d.resource == path
        return f"contents of {path} ({encoding})"

    return read_file


def test_allowed_and_denied(s: Scenario) -> None:
    audit: list[marque.Decision] = []
    read_file = guarded(s.verifier, audit)
    with marque.call_context(token=s.c_token, now=NOW):
        assert read_file("src/main.rs") == "contents of src/main.rs (utf-8)"
        with pytest.raises(marque.NotAuthorized) as e:
            read_file("src/lib.rs")
        assert e.value.code == "not_authorized"
    assert [d.allowed for d in audit] == [True, False]
    assert [d.resource for d in audit] == ["src/main.rs", "src/lib.rs"]
    assert marque.current_decision() is None


def test_no_context_is_not_authorized(s: Scenario) -> None:
    read_file = guarded(s.verifier)
    with pytest.raises(marque.NotAuthorized) as e:
        read_file("src/main.rs")
    assert e.value.code == "not_authorized" and "no call context" in e.value.message
    with marque.call_context(token=None), pytest.raises(marque.NotAuthorized):
        read_file("src/main.rs")


def test_denial_codes_become_their_exceptions(s: Scenario) -> None:
    read_file = guarded(s.verifier)
    with marque.call_context(token=s.c_token, now=NOW + 10**6), pytest.raises(marque.Expired):
        read_file("src/main.rs")
    with marque.call_context(token="AAAA", now=NOW), pytest.raises(marque.InvalidToken):
        read_file("src/main.rs")
    p = s.c_token.sign_proof(s.c, tool="read_file", operation="read", resource="src/main.rs", now=NOW)
    with marque.call_context(token=s.c_token.to_base64(), proof=p, now=NOW):
        read_file("src/main.rs")
        with pytest.raises(marque.ReplayedProof):
            read_file("src/main.rs")
    with marque.call_context(token=s.c_token, proof=p, now=NOW), pytest.raises(marque.InvalidProof):
        read_file("src/other.rs")  # also not in the delegation, but the proof is checked first


def test_static_resource_and_verifier_from_context(s: Scenario) -> None:
    @marque.requires(tool="run_tests", resource="ci")
    def run_tests() -> str:
        return "ok"

    with marque.call_context(token=s.root_token, now=NOW, verifier=s.verifier):
        assert run_tests() == "ok"
    with marque.call_context(token=s.root_token, now=NOW), pytest.raises(marque.InvalidArgument):
        run_tests()


def test_attributes_reach_policies(s: Scenario) -> None:
    v = marque.Verifier([s.root.public_key], policies=[("freeze", 'deny if attribute("env", "prod")')])

    @marque.requires(v, tool="run_tests", resource="ci")
    def run_tests() -> str:
        return "ok"

    with marque.call_context(token=s.root_token, now=NOW, attributes={"env": "dev"}):
        assert run_tests() == "ok"
    with marque.call_context(token=s.root_token, now=NOW, attributes={"env": "prod"}):
        with pytest.raises(marque.NotAuthorized):
            run_tests()


def test_resource_callable_sees_bound_arguments(s: Scenario) -> None:
    seen: list[dict[str, object]] = []

    def resource(**kw: object) -> str:
        seen.append(kw)
        return f"src/{kw['name']}"

    @marque.requires(s.verifier, tool="read_file", operation="read", resource=resource)
    def read(name: str, mode: str = "r") -> str:
        return name

    with marque.call_context(token=s.c_token, now=NOW):
        assert read("main.rs") == "main.rs"
    assert seen == [{"name": "main.rs", "mode": "r"}]

    @marque.requires(s.verifier, tool="read_file", resource=lambda name: 42)  # type: ignore[arg-type,return-value]
    def bad(name: str) -> str:
        return name

    with marque.call_context(token=s.c_token, now=NOW), pytest.raises(TypeError):
        bad("x")


def test_async_functions(s: Scenario) -> None:
    @marque.requires(s.verifier, tool="read_file", operation="read", resource=lambda path: path)
    async def read_file(path: str) -> str:
        await asyncio.sleep(0)
        return path

    async def main() -> tuple[str, str]:
        with marque.call_context(token=s.c_token, now=NOW):
            ok = await read_file("src/main.rs")
            try:
                await read_file("src/lib.rs")
                denied = "allowed?!"
            except marque.NotAuthorized as e:
                denied = e.code
        return ok, denied

    assert asyncio.run(main()) == ("src/main.rs", "not_authorized")


def test_contexts_are_isolated_between_tasks_and_threads(s: Scenario) -> None:
    read_file = guarded(s.verifier)

    async def as_agent(token: marque.Token, path: str) -> str:
        with marque.call_context(token=token, now=NOW):
            await asyncio.sleep(0.01)  # interleave with the other task
            try:
                return read_file(path)
            except marque.NotAuthorized:
                return "denied"

    async def main() -> list[str]:
        return list(await asyncio.gather(as_agent(s.c_token, "src/lib.rs"), as_agent(s.a_token, "src/lib.rs")))

    assert asyncio.run(main()) == ["denied", "contents of src/lib.rs (utf-8)"]

    # A plain thread does not inherit the context; one started in a copied context does.
    results: list[str] = []

    def worker() -> None:
        try:
            results.append(read_file("src/main.rs"))
        except marque.NotAuthorized:
            results.append("denied")

    with marque.call_context(token=s.c_token, now=NOW):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        ctx = contextvars.copy_context()
        t = threading.Thread(target=ctx.run, args=(worker,))
        t.start()
        t.join()
    assert results == ["denied", "contents of src/main.rs (utf-8)"]


def test_nested_contexts(s: Scenario) -> None:
    with marque.call_context(token=s.a_token, now=NOW) as outer:
        assert marque.current_call() is outer
        with marque.call_context(token=s.c_token, now=NOW) as inner:
            assert marque.current_call() is inner and inner.token is s.c_token
        assert marque.current_call() is outer
    assert marque.current_call() is None
