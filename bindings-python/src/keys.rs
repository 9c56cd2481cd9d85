//! `KeyPair` and `PublicKey` (mirrors `marque::keys`).

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{self, py_str_repr, Str};
use crate::errors::Result;

/// An Ed25519 key pair: an agent's or a root's signing identity.
///
/// The secret never appears in `repr()`, is zeroized when the object is freed, and a
/// `KeyPair` refuses to be pickled (export it deliberately with `to_pem()` / `to_hex()`).
/// Two key pairs are equal when their public keys are.
#[pyclass(module = "marque", frozen, eq, hash)]
#[derive(Clone)]
pub struct KeyPair {
    pub inner: marque::KeyPair,
}

impl PartialEq for KeyPair {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}
impl std::hash::Hash for KeyPair {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.public_key().hash(state)
    }
}

#[pymethods]
impl KeyPair {
    /// A fresh key pair from the operating system's CSPRNG.
    #[staticmethod]
    fn generate() -> Result<Self> {
        Ok(KeyPair { inner: marque::KeyPair::generate()? })
    }

    /// From the 32-byte seed as 64 hex digits.
    #[staticmethod]
    fn from_hex(hex: Str) -> Result<Self> {
        Ok(KeyPair { inner: marque::KeyPair::from_hex(&hex)? })
    }

    /// From the 32-byte seed (the RFC 8032 private key).
    #[staticmethod]
    fn from_seed(seed: &Bound<'_, PyAny>) -> Result<Self> {
        let raw = convert::bytes_like(seed)?.ok_or_else(|| crate::errors::type_error("seed must be bytes"))?;
        Ok(KeyPair { inner: marque::KeyPair::from_bytes(&raw)? })
    }

    /// From a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    #[staticmethod]
    fn from_pem(pem: Str) -> Result<Self> {
        Ok(KeyPair { inner: marque::KeyPair::from_pem(&pem)? })
    }

    /// From a private RFC 8037 JWK (dict or JSON text, with `d`).
    #[staticmethod]
    fn from_jwk(jwk: &Bound<'_, PyAny>) -> Result<Self> {
        let text = convert::to_json_text(jwk)?;
        let jwk: marque::Jwk = serde_json::from_str(&text)
            .map_err(|_| marque::Error::new(marque::ErrorKind::InvalidKey, "JWK is not valid JSON"))?;
        Ok(KeyPair { inner: marque::KeyPair::from_jwk(&jwk)? })
    }

    /// The 32-byte seed as hex. Treat it as a secret.
    fn to_hex(&self) -> String {
        self.inner.to_hex().to_string()
    }

    /// The 32-byte seed. Treat it as a secret.
    fn to_seed<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_seed()[..])
    }

    /// PKCS#8 PEM. Treat it as a secret.
    fn to_pem(&self) -> Result<String> {
        Ok(self.inner.to_pem()?.to_string())
    }

    /// The private JWK (a dict with `d`). Treat it as a secret.
    fn to_jwk<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        let text = serde_json::to_string(&self.inner.to_jwk())
            .map_err(|_| marque::Error::new(marque::ErrorKind::Internal, "JWK encoding"))?;
        convert::json_to_py(py, &text)
    }

    /// The public half.
    #[getter]
    fn public_key(&self) -> PublicKey {
        PublicKey { inner: self.inner.public_key() }
    }

    /// The public key's fingerprint (`ed25519:` + 16 hex digits).
    #[getter]
    fn fingerprint(&self) -> String {
        self.inner.public_key().fingerprint()
    }

    /// Signs `message` (bytes, or str as UTF-8); returns the 64-byte signature.
    fn sign<'py>(&self, py: Python<'py>, message: &Bound<'py, PyAny>) -> Result<Bound<'py, PyBytes>> {
        let msg = convert::message(message)?;
        Ok(PyBytes::new(py, &self.inner.sign(&msg).to_bytes()))
    }

    fn __repr__(&self) -> String {
        format!("KeyPair(public={}, secret=<redacted>)", py_str_repr(&self.inner.public_key().fingerprint()))
    }

    fn __reduce__(&self) -> Result<()> {
        Err(crate::errors::type_error(
            "a marque.KeyPair holds a secret and is not picklable; export it deliberately with to_pem()",
        ))
    }
}

/// An Ed25519 public key: what others trust.
///
/// Round-trips through hex, PEM (SPKI), JWK (RFC 8037) and `did:key`; `fingerprint` is a
/// short stable id. Hashable, comparable and picklable.
#[pyclass(module = "marque", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey {
    pub inner: marque::PublicKey,
}

#[pymethods]
impl PublicKey {
    /// From 64 hex digits (an `ed25519/` prefix is accepted).
    #[staticmethod]
    fn from_hex(hex: Str) -> Result<Self> {
        Ok(PublicKey { inner: marque::PublicKey::from_hex(&hex)? })
    }

    /// From 32 raw bytes.
    #[staticmethod]
    fn from_bytes(data: &Bound<'_, PyAny>) -> Result<Self> {
        let raw = convert::bytes_like(data)?.ok_or_else(|| crate::errors::type_error("data must be bytes"))?;
        Ok(PublicKey { inner: marque::PublicKey::from_bytes(&raw)? })
    }

    /// From an SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    #[staticmethod]
    fn from_pem(pem: Str) -> Result<Self> {
        Ok(PublicKey { inner: marque::PublicKey::from_pem(&pem)? })
    }

    /// From an RFC 8037 OKP/Ed25519 JWK (dict or JSON text); a private JWK is refused.
    #[staticmethod]
    fn from_jwk(jwk: &Bound<'_, PyAny>) -> Result<Self> {
        Ok(PublicKey { inner: marque::PublicKey::from_jwk_json(&convert::to_json_text(jwk)?)? })
    }

    /// From a `did:key:z6Mk…` identifier.
    #[staticmethod]
    fn from_did(did: Str) -> Result<Self> {
        Ok(PublicKey { inner: marque::PublicKey::from_did(&did)? })
    }

    /// From any text form: hex, `ed25519/hex`, PEM, JWK JSON or `did:key`.
    #[staticmethod]
    fn parse(text: Str) -> Result<Self> {
        Ok(PublicKey { inner: marque::PublicKey::parse(&text)? })
    }

    /// Lowercase hex of the 32 bytes.
    fn to_hex(&self) -> String {
        self.inner.to_hex()
    }

    /// The 32 raw bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.as_bytes())
    }

    fn __bytes__<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.to_bytes(py)
    }

    /// SPKI PEM.
    fn to_pem(&self) -> String {
        self.inner.to_pem()
    }

    /// RFC 8037 JWK as a dict (`kty`, `crv`, `x`, `kid` = fingerprint).
    fn to_jwk<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        convert::json_to_py(py, &self.inner.to_jwk_json())
    }

    /// `did:key:z6Mk…`.
    fn to_did(&self) -> String {
        self.inner.to_did()
    }

    /// `ed25519:` + the first 16 hex digits of SHA-256 of the key.
    #[getter]
    fn fingerprint(&self) -> String {
        self.inner.fingerprint()
    }

    /// Verifies an Ed25519 signature (strict rules); raises `InvalidSignature` if it does not verify.
    fn verify(&self, message: &Bound<'_, PyAny>, signature: &Bound<'_, PyAny>) -> Result<()> {
        let msg = convert::message(message)?;
        let sig = convert::bytes_like(signature)?
            .ok_or_else(|| crate::errors::type_error("signature must be bytes"))?;
        let sig = marque::Signature::from_slice(&sig)?;
        Ok(self.inner.verify(&msg, &sig)?)
    }

    fn __repr__(&self) -> String {
        format!("PublicKey({})", py_str_repr(&self.inner.to_hex()))
    }

    fn __str__(&self) -> String {
        self.inner.to_hex()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let from_hex = slf.get_type().getattr("from_hex")?;
        Ok((from_hex, (slf.get().inner.to_hex(),)))
    }
}
