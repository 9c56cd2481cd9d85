"""KeyPair / PublicKey: formats, fingerprints, signatures, equality, pickling, secrecy."""

from __future__ import annotations

import copy
import pickle

import pytest

import marque

# RFC 8032, test 1.
SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
PUB = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
SIG_EMPTY = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
    "d25bf5f0595bbe24655141438e7a100b"
)


def test_rfc8032_vector() -> None:
    kp = marque.KeyPair.from_hex(SEED)
    assert kp.public_key.to_hex() == PUB
    assert kp.to_hex() == SEED
    assert kp.sign(b"").hex() == SIG_EMPTY
    kp.public_key.verify(b"", bytes.fromhex(SIG_EMPTY))
    with pytest.raises(marque.InvalidSignature) as e:
        kp.public_key.verify(b"x", bytes.fromhex(SIG_EMPTY))
    assert e.value.code == "invalid_signature"


def test_formats_round_trip() -> None:
    kp = marque.KeyPair.from_hex(SEED)
    pk = kp.public_key
    assert marque.KeyPair.from_pem(kp.to_pem()) == kp
    assert kp.to_pem().startswith("-----BEGIN PRIVATE KEY-----")
    assert marque.KeyPair.from_seed(kp.to_seed()) == kp
    assert marque.KeyPair.from_jwk(kp.to_jwk()) == kp
    assert marque.PublicKey.from_pem(pk.to_pem()) == pk
    assert pk.to_pem().startswith("-----BEGIN PUBLIC KEY-----")
    jwk = pk.to_jwk()
    assert jwk == {"kty": "OKP", "crv": "Ed25519", "x": jwk["x"], "kid": pk.fingerprint}
    assert marque.PublicKey.from_jwk(jwk) == pk
    assert pk.to_did().startswith("did:key:z6Mk")
    assert marque.PublicKey.from_did(pk.to_did()) == pk
    assert marque.PublicKey.from_bytes(pk.to_bytes()) == pk
    assert bytes(pk) == bytes.fromhex(PUB)
    for text in (pk.to_hex(), pk.to_pem(), pk.to_did(), f"ed25519/{PUB}"):
        assert marque.PublicKey.parse(text) == pk
    assert str(pk) == PUB


def test_fingerprint_is_sha256_prefix() -> None:
    import hashlib

    pk = marque.PublicKey.from_hex(PUB)
    assert pk.fingerprint == "ed25519:" + hashlib.sha256(bytes.fromhex(PUB)).hexdigest()[:16]
    assert marque.KeyPair.from_hex(SEED).fingerprint == pk.fingerprint


def test_private_jwk_refused_as_public() -> None:
    kp = marque.KeyPair.from_hex(SEED)
    with pytest.raises(marque.InvalidKey):
        marque.PublicKey.from_jwk(kp.to_jwk())


def test_sign_accepts_str_and_bytes_like() -> None:
    kp = marque.KeyPair.from_hex(SEED)
    sig = kp.sign("héllo")
    assert sig == kp.sign("héllo".encode()) == kp.sign(bytearray("héllo".encode()))
    kp.public_key.verify(memoryview("héllo".encode()), sig)
    with pytest.raises(TypeError):
        kp.sign(42)  # type: ignore[arg-type]


def test_generate_is_random() -> None:
    a, b = marque.KeyPair.generate(), marque.KeyPair.generate()
    assert a != b and a.public_key != b.public_key


def test_equality_and_hash() -> None:
    a1, a2 = marque.KeyPair.from_hex(SEED), marque.KeyPair.from_hex(SEED)
    assert a1 == a2 and hash(a1) == hash(a2)
    assert a1.public_key == a2.public_key and hash(a1.public_key) == hash(a2.public_key)
    assert len({a1.public_key, a2.public_key, marque.KeyPair.generate().public_key}) == 2
    assert a1.public_key != PUB  # no cross-type equality


def test_public_key_pickles_keypair_does_not() -> None:
    kp = marque.KeyPair.from_hex(SEED)
    assert pickle.loads(pickle.dumps(kp.public_key)) == kp.public_key
    assert copy.deepcopy(kp.public_key) == kp.public_key
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(kp)


def test_repr_never_contains_secrets() -> None:
    kp = marque.KeyPair.from_hex(SEED)
    for text in (repr(kp), str(kp), repr(kp.public_key), repr([kp])):
        assert SEED not in text
        assert SEED.upper() not in text
        assert kp.to_jwk()["d"] not in text
    assert "redacted" in repr(kp)
    assert kp.public_key.fingerprint in repr(kp)
    assert repr(kp.public_key) == f"PublicKey('{PUB}')"


@pytest.mark.parametrize(
    "bad", ["", "zz", "abcd", "00" * 33, "did:key:zzzz", "{", "-----BEGIN PUBLIC KEY-----", "01" + "00" * 31]
)
def test_bad_public_keys_are_invalid_key(bad: str) -> None:
    with pytest.raises(marque.InvalidKey) as e:
        marque.PublicKey.parse(bad)
    assert e.value.code == "invalid_key"


def test_bad_private_keys_are_invalid_key() -> None:
    for call in (
        lambda: marque.KeyPair.from_hex("12"),
        lambda: marque.KeyPair.from_pem("nope"),
        lambda: marque.KeyPair.from_seed(b"short"),
        lambda: marque.KeyPair.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": "AA"}),
    ):
        with pytest.raises(marque.InvalidKey):
            call()
