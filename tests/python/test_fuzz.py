"""Hostile input: random and mutated bytes/str into every public entry point.

Only marque errors (never ``InternalError``), or ``TypeError`` / ``ValueError`` for a wrong
Python type, may come out; in particular no ``pyo3_runtime.PanicException`` (a BaseException).
Seeded, so failures reproduce; scale with ``MARQUE_FUZZ_ITERATIONS`` (default 300 per target).
"""

from __future__ import annotations

import base64
import json
import os
import random
import string
from typing import Any, Callable

import pytest

import marque
from conftest import NOW, build_scenario, key

N = int(os.environ.get("MARQUE_FUZZ_ITERATIONS", "300"))
SCENARIO = build_scenario()
VALID_TOKENS = [SCENARIO.root_token, SCENARIO.a_token, SCENARIO.c_token]
VALID_PROOF = SCENARIO.c_token.sign_proof(SCENARIO.c, tool="read_file", operation="read", resource="src/main.rs", now=NOW)


def call(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except marque.InternalError as e:  # a core invariant broke: a bug
        raise AssertionError(f"InternalError: {e}") from e
    except (marque.MarqueError, TypeError, ValueError):
        pass
    except BaseException as e:  # PanicException derives from BaseException
        raise AssertionError(f"unexpected {type(e).__module__}.{type(e).__name__}: {e}") from e


def rand_text(r: random.Random) -> str:
    kind = r.randrange(6)
    n = r.choice([0, 1, 2, 5, 16, 64, 300, 5000])
    if kind == 0:
        return "".join(r.choice(string.printable) for _ in range(n))
    if kind == 1:
        return "".join(r.choice(string.ascii_letters + string.digits + "-_=") for _ in range(n))
    if kind == 2:
        return "".join(chr(r.randrange(0, 0x11000)) for _ in range(n)).encode("utf-8", "replace").decode()
    if kind == 3:
        return r.choice(["", "*", ":", "::", "a:b:c:d", "-----BEGIN PUBLIC KEY-----\n\n-----END PUBLIC KEY-----",
                         "did:key:z6Mk", "{}", '{"kty":"OKP"}', "null", "[]", '"', "\\", "\x00", "\n", "ed25519/"])
    if kind == 4:
        return base64.urlsafe_b64encode(r.randbytes(n)).decode()
    return json.dumps({"k": r.random(), "tool": rand_ascii(r), "x": [1, None]})


def rand_ascii(r: random.Random) -> str:
    return "".join(r.choice(string.ascii_lowercase + ":/_*") for _ in range(r.randrange(0, 12)))


def mutate(r: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(r.randrange(1, 6)):
        op = r.randrange(5)
        if op == 0 and b:
            i = r.randrange(len(b))
            b[i] ^= 1 << r.randrange(8)
        elif op == 1 and b:
            del b[r.randrange(len(b)):]
        elif op == 2:
            i = r.randrange(len(b) + 1)
            b[i:i] = r.randbytes(r.randrange(1, 16))
        elif op == 3 and b:
            i = r.randrange(len(b))
            b[i] = r.choice([0x00, 0xFF, 0x7F, 0x80])
        else:  # splice a chunk of another token in
            other = r.choice(VALID_TOKENS).to_bytes()
            i, j = sorted(r.randrange(len(other)) for _ in range(2))
            k = r.randrange(len(b) + 1)
            b[k:k] = other[i:j]
    return bytes(b)


def rand_token(r: random.Random) -> object:
    t = r.choice(VALID_TOKENS)
    kind = r.randrange(5)
    if kind == 0:
        return mutate(r, t.to_bytes())
    if kind == 1:
        return base64.urlsafe_b64encode(mutate(r, t.to_bytes())).decode()
    if kind == 2:
        return r.randbytes(r.choice([0, 1, 10, 100, 1000]))
    if kind == 3:
        return rand_text(r)
    return t


def rand_proof(r: random.Random) -> str | None:
    kind = r.randrange(4)
    if kind == 0:
        return None
    if kind == 1:
        return rand_text(r)
    if kind == 2:
        p = bytearray(VALID_PROOF.encode())
        p[r.randrange(len(p))] = ord(r.choice(string.printable))
        return p.decode("ascii", "replace")
    payload = base64.urlsafe_b64encode(json.dumps({"v": r.choice([1, 2, -1, 2**70]), "th": rand_text(r)[:40],
                                                   "iat": r.choice([0, NOW, -5, 2**64]), "nonce": ""}).encode())
    return payload.decode().rstrip("=") + "." + base64.urlsafe_b64encode(r.randbytes(64)).decode().rstrip("=")


def test_token_parsing() -> None:
    r = random.Random(1)
    for _ in range(N):
        t = rand_token(r)
        if isinstance(t, str):
            call(lambda: marque.Token.from_base64(t))
        elif isinstance(t, bytes):
            call(lambda: marque.Token.from_bytes(t))
            call(lambda: marque.Token.from_base64(t.decode("latin-1")))


def test_authorize_and_verify() -> None:
    r = random.Random(2)
    v = marque.Verifier([SCENARIO.root.public_key], policies=[("p", 'deny if tool("deploy")')])
    for _ in range(N):
        t = rand_token(r)
        tool, res, op = (rand_text(r)[:50] if r.random() < 0.3 else rand_ascii(r) for _ in range(3))
        proof = rand_proof(r)
        attrs = {rand_ascii(r): rand_text(r)[:20] for _ in range(r.randrange(3))}
        now = r.choice([None, NOW, NOW + 0.5, 0, 2**63, 2**64 - 1])
        call(lambda: v.authorize(t, tool=tool, resource=res, operation=op, proof=proof, now=now, attributes=attrs))
        call(lambda: v.authorize_or_raise(t, tool="read_file", resource="src/main.rs", operation="read", proof=proof, now=NOW))
        call(lambda: v.verify(t))


def test_sign_proof_mint_delegate() -> None:
    r = random.Random(3)
    c, root = SCENARIO.c, SCENARIO.root
    for _ in range(N):
        t = rand_token(r)
        call(lambda: marque.sign_proof(c, t, tool=rand_text(r), resource=rand_text(r), operation=rand_ascii(r),
                                       now=r.choice([None, NOW, 2**64 - 1])))
        call(lambda: marque.mint(root, agent=rand_text(r), agent_key=rand_text(r) if r.random() < 0.3 else c,
                                 principal=rand_text(r), task=r.choice([None, rand_text(r)]),
                                 workspace=r.choice([None, rand_text(r)]),
                                 rights=[rand_text(r) for _ in range(r.randrange(3))],
                                 ttl_seconds=r.choice([None, 0, 1, 2**63, 2**64 - 1, 1.5]),
                                 max_depth=r.choice([None, 0, 64, 65, 2**31]), now=r.choice([None, NOW, 2**64 - 1]),
                                 root_key_id=r.choice([None, 0, 2**32 - 1])))
        tok = r.choice(VALID_TOKENS)
        holder = {SCENARIO.root_token: SCENARIO.orch, SCENARIO.a_token: SCENARIO.a, SCENARIO.c_token: SCENARIO.c}[tok]
        call(lambda: tok.delegate(holder, to=rand_text(r), to_key=key(7),
                                  tools=r.choice([None, [rand_ascii(r)], rand_text(r)]),
                                  operations=r.choice([None, [rand_ascii(r), "*"]]),
                                  resource_prefix=r.choice([None, rand_text(r), "src/", "*"]),
                                  ttl_seconds=r.choice([None, 0, 5, 2**64 - 1]),
                                  max_depth=r.choice([None, 0, 1, 3, 5, 2**32 - 1]),
                                  now=r.choice([None, NOW, NOW + 10**7, 0])))


def test_key_and_record_parsers() -> None:
    r = random.Random(4)
    text_parsers: list[Callable[[str], object]] = [
        marque.PublicKey.parse, marque.PublicKey.from_hex, marque.PublicKey.from_pem, marque.PublicKey.from_did,
        marque.PublicKey.from_jwk, marque.KeyPair.from_hex, marque.KeyPair.from_pem, marque.KeyPair.from_jwk,
        marque.Right.parse, marque.RevocationSet.from_json, marque.Decision.from_json, marque.Token.from_base64,
    ]
    for _ in range(N):
        text = rand_text(r)
        for parse in text_parsers:
            call(lambda: parse(text))
        raw = r.randbytes(r.choice([0, 31, 32, 33, 64]))
        call(lambda: marque.PublicKey.from_bytes(raw))
        call(lambda: marque.KeyPair.from_seed(raw))
        call(lambda: SCENARIO.c.public_key.verify(raw, raw))
        call(lambda: marque.Right(rand_text(r), rand_text(r), rand_text(r)))
        call(lambda: marque.Limits.from_dict({rand_ascii(r): r.choice([0, -1, 2**70, "x"])}))
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": rand_text(r)[:60], "d": r.choice([None, rand_text(r)[:60]])}
        call(lambda: marque.PublicKey.from_jwk(jwk))
        call(lambda: marque.KeyPair.from_jwk(jwk))


def test_policy_sources() -> None:
    r = random.Random(5)
    fragments = ["allow if", "deny if", "check if", "tool($t)", ",", "$t", '"x"', ".starts_with(", ")", "(", "||",
                 "&&", "==", "1", "true", "[", "]", "{", "}", ";", "right", "time($t)", "$t <= 2024-01-01T00:00:00Z",
                 "trusting", "ed25519/" + "00" * 32, "!", ".length()", "\u00e9", "reject if", "check all"]
    v = marque.Verifier([SCENARIO.root.public_key])
    for _ in range(N):
        src = " ".join(r.choice(fragments) for _ in range(r.randrange(1, 12)))
        call(lambda: v.add_policy(rand_ascii(r) or "p", src))
        call(lambda: marque.Verifier([SCENARIO.root.public_key], policies=[("p", src)]))
    # Whatever policies got in, authorizing still only yields decisions or marque errors.
    call(lambda: v.authorize(SCENARIO.c_token, tool="read_file", operation="read", resource="src/main.rs", now=NOW))


WRONG_TYPES: list[object] = [None, 0, 1.5, [], {}, object(), b"\xff", "x", ["a", 1], {"a": object()}]


@pytest.mark.parametrize("value", WRONG_TYPES, ids=lambda v: type(v).__name__)
def test_wrong_python_types(value: object) -> None:
    s, v = SCENARIO, SCENARIO.verifier
    targets: list[Callable[[], object]] = [
        lambda: v.authorize(value, tool="t", resource="r"),  # type: ignore[arg-type]
        lambda: v.authorize(s.c_token, tool="t", resource="r", now=value),  # type: ignore[arg-type]
        lambda: v.authorize(s.c_token, tool="t", resource="r", attributes=value),  # type: ignore[arg-type]
        lambda: marque.mint(value, agent="agent:a", agent_key=s.c, principal="u"),  # type: ignore[arg-type]
        lambda: marque.mint(s.root, agent="agent:a", agent_key=value, principal="u"),  # type: ignore[arg-type]
        lambda: marque.mint(s.root, agent="agent:a", agent_key=s.c, principal="u", rights=value),  # type: ignore[arg-type]
        lambda: marque.mint(s.root, agent="agent:a", agent_key=s.c, principal="u", ttl_seconds=value),  # type: ignore[arg-type]
        lambda: marque.mint(s.root, agent="agent:a", agent_key=s.c, principal="u", max_depth=value),  # type: ignore[arg-type]
        lambda: s.c_token.delegate(value, to="agent:x", to_key=s.c),  # type: ignore[arg-type]
        lambda: s.c_token.delegate(s.c, to="agent:x", to_key=s.c, tools=value),  # type: ignore[arg-type]
        lambda: marque.sign_proof(s.c, value, tool="t", resource="r"),  # type: ignore[arg-type]
        lambda: marque.Verifier(value),  # type: ignore[arg-type]
        lambda: marque.Verifier([value]),  # type: ignore[list-item]
        lambda: marque.Verifier([s.root.public_key], policies=value),  # type: ignore[arg-type]
        lambda: marque.Token.from_bytes(value),  # type: ignore[arg-type]
        lambda: marque.PublicKey.from_jwk(value),  # type: ignore[arg-type]
        lambda: marque.KeyPair.from_seed(value),  # type: ignore[arg-type]
        lambda: s.c.sign(value),  # type: ignore[arg-type]
        lambda: marque.Limits(max_blocks=value),  # type: ignore[arg-type]
        lambda: marque.RevocationSet(ids=value),  # type: ignore[arg-type]
        lambda: marque.Hop("agent:a", "/root", value),  # type: ignore[arg-type]
    ]
    for target in targets:
        call(target)
