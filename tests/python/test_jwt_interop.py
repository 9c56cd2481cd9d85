"""Compact-mode interop: tokens issued by `marque jwt issue` verify with PyJWT, and EdDSA tokens
issued by PyJWT verify with `marque jwt verify` (while PyJWT's HS256 confusion token does not).

Drives the CLI binary: `target/debug/marque` by default, or the path in MARQUE_BIN.
Needs `pip install 'PyJWT[crypto]' pytest`.
"""

import json
import os
import pathlib
import subprocess
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("MARQUE_BIN", str(ROOT / "target" / "debug" / "marque"))
AUD = "https://tools.example"


def marque(*args, stdin=None):
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module", autouse=True)
def binary_exists():
    if not os.path.exists(BIN):
        pytest.fail(f"marque binary not found at {BIN}: run `cargo build -p marque-cli` or set MARQUE_BIN")


@pytest.fixture()
def keypair(tmp_path):
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(pem)
    public_raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return private, key_file, public_raw


def test_marque_token_verifies_with_pyjwt(keypair):
    private, key_file, _ = keypair
    now = int(time.time())
    claims = {
        "iss": "https://orchestrator.example",
        "sub": "agent:reviewer",
        "aud": AUD,
        "iat": now,
        "exp": now + 300,
        "scope": "read_file search",
        "act": {"sub": "agent:reviewer", "act": {"sub": "agent:orchestrator"}},
    }
    out = marque("jwt", "issue", "--key", str(key_file), "--claims", json.dumps(claims), "--kid", "k1")
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": "k1", "typ": "JWT"}
    decoded = jwt.decode(token, private.public_key(), algorithms=["EdDSA"], audience=AUD)
    assert decoded == claims
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, Ed25519PrivateKey.generate().public_key(), algorithms=["EdDSA"], audience=AUD)


def test_pyjwt_token_verifies_with_marque(keypair):
    private, _, public_raw = keypair
    now = int(time.time())
    claims = {"sub": "agent:reviewer", "aud": AUD, "iat": now, "nbf": now, "exp": now + 300, "jti": "t-1"}
    token = jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": "k1"})
    out = marque("jwt", "verify", token, "--key", f"k1={public_raw.hex()}", "--aud", AUD)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == claims
    # From stdin, with a bare key.
    out = marque("jwt", "verify", "-", "--key", public_raw.hex(), "--aud", AUD, stdin=token + "\n")
    assert out.returncode == 0, out.stderr
    # Wrong audience, wrong key, expired: rejected with exit 1 and a code.
    out = marque("jwt", "verify", token, "--key", public_raw.hex(), "--aud", "https://other.example")
    assert out.returncode == 1 and out.stderr.startswith("invalid_jwt:")
    other = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    out = marque("jwt", "verify", token, "--key", other.hex(), "--aud", AUD)
    assert out.returncode == 1 and out.stderr.startswith("invalid_jwt:")
    expired = jwt.encode({**claims, "exp": now - 120}, private, algorithm="EdDSA")
    out = marque("jwt", "verify", expired, "--key", public_raw.hex(), "--aud", AUD)
    assert out.returncode == 1 and out.stderr.startswith("expired:")


def test_algorithm_confusion_is_refused(keypair):
    _, _, public_raw = keypair
    now = int(time.time())
    claims = {"sub": "agent:admin", "aud": AUD, "exp": now + 300}
    # The classic attack: HS256 keyed with the verifier's public key.
    forged = jwt.encode(claims, public_raw, algorithm="HS256")
    out = marque("jwt", "verify", forged, "--key", public_raw.hex(), "--aud", AUD)
    assert out.returncode == 1 and out.stderr.startswith("invalid_jwt:"), out.stderr
    unsigned = jwt.encode(claims, None, algorithm="none")
    out = marque("jwt", "verify", unsigned, "--key", public_raw.hex(), "--aud", AUD)
    assert out.returncode == 1 and out.stderr.startswith("invalid_jwt:"), out.stderr
