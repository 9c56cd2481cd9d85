//! Ed25519 keys (`KeyPair`, `PublicKey`, `Jwk`), mirroring `marque::keys`.

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use crate::convert::{Arg, BytesInput, KeyInput, RawBytes, Text};
use crate::errors::{OrThrow, Result};

/// An RFC 8037 JSON Web Key for Ed25519 (`kty: "OKP"`, `crv: "Ed25519"`). Only a private JWK
/// (from `KeyPair.toJwk()`) has `d`.
#[napi(object)]
#[derive(Clone)]
pub struct Jwk {
    /// Always `"OKP"`.
    pub kty: String,
    /// Always `"Ed25519"`.
    pub crv: String,
    /// The public key, base64url without padding.
    pub x: String,
    /// Key id (marque sets the fingerprint).
    pub kid: Option<String>,
    /// The private seed, base64url (private JWKs only: treat as a secret).
    pub d: Option<String>,
}

impl Jwk {
    pub(crate) fn into_core(self) -> marque::Jwk {
        marque::Jwk {
            kty: self.kty,
            crv: self.crv,
            x: self.x,
            kid: self.kid,
            d: self.d,
            extra: Default::default(),
        }
    }

    fn from_core(j: &marque::Jwk) -> Self {
        Jwk {
            kty: j.kty.clone(),
            crv: j.crv.clone(),
            x: j.x.clone(),
            kid: j.kid.clone(),
            d: j.d.clone(),
        }
    }
}

/// An Ed25519 public key: what verifiers trust and delegations name.
#[napi]
#[derive(Clone)]
pub struct PublicKey {
    pub(crate) inner: marque::PublicKey,
}

impl PublicKey {
    pub(crate) fn wrap(inner: marque::PublicKey) -> Self {
        PublicKey { inner }
    }
}

#[napi]
impl PublicKey {
    /// Parses 64 hex digits (an `ed25519/` prefix is accepted).
    #[napi(factory)]
    pub fn from_hex(#[napi(ts_arg_type = "string")] hex: Text) -> Result<Self> {
        let hex = hex.0;
        marque::PublicKey::from_hex(&hex).or_throw().map(Self::wrap)
    }

    /// Parses 32 raw bytes.
    #[napi(factory)]
    pub fn from_bytes(#[napi(ts_arg_type = "Uint8Array")] bytes: BytesInput) -> Result<Self> {
        marque::PublicKey::from_bytes(&bytes.into_vec())
            .or_throw()
            .map(Self::wrap)
    }

    /// Parses an SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    #[napi(factory)]
    pub fn from_pem(#[napi(ts_arg_type = "string")] pem: Text) -> Result<Self> {
        let pem = pem.0;
        marque::PublicKey::from_pem(&pem).or_throw().map(Self::wrap)
    }

    /// Parses an RFC 8037 JWK, given as an object or as JSON text. A private JWK is refused.
    #[napi(factory)]
    pub fn from_jwk(#[napi(ts_arg_type = "Jwk | string")] jwk: KeyInput) -> Result<Self> {
        match jwk {
            KeyInput::Jwk(_) | KeyInput::Text(_) => jwk.resolve().map(Self::wrap),
            _ => Err(crate::errors::invalid_argument(
                "fromJwk expects a JWK object or JSON text",
            )),
        }
    }

    /// Parses a `did:key:z6Mk…` identifier.
    #[napi(factory)]
    pub fn from_did(#[napi(ts_arg_type = "string")] did: Text) -> Result<Self> {
        let did = did.0;
        marque::PublicKey::from_did(&did).or_throw().map(Self::wrap)
    }

    /// Parses any supported text form: hex, `ed25519/hex`, PEM, JWK JSON or `did:key`.
    #[napi(factory)]
    pub fn parse(#[napi(ts_arg_type = "string")] text: Text) -> Result<Self> {
        let text = text.0;
        marque::PublicKey::parse(&text).or_throw().map(Self::wrap)
    }

    /// Lowercase hex of the 32 bytes.
    #[napi]
    pub fn to_hex(&self) -> String {
        self.inner.to_hex()
    }

    /// The 32 raw bytes.
    #[napi]
    pub fn to_bytes(&self) -> Buffer {
        self.inner.to_bytes().to_vec().into()
    }

    /// SPKI PEM.
    #[napi]
    pub fn to_pem(&self) -> String {
        self.inner.to_pem()
    }

    /// RFC 8037 JWK with `kid` set to the fingerprint.
    #[napi]
    pub fn to_jwk(&self) -> Jwk {
        Jwk::from_core(&self.inner.to_jwk())
    }

    /// `did:key:z6Mk…`.
    #[napi]
    pub fn to_did(&self) -> String {
        self.inner.to_did()
    }

    /// Short stable id: `ed25519:` + 16 hex digits of SHA-256 of the key.
    #[napi(getter)]
    pub fn fingerprint(&self) -> String {
        self.inner.fingerprint()
    }

    /// Whether `other` (any key input) is the same key; what is not a key throws
    /// `invalid_argument` / `invalid_key` (never a silent `false`).
    #[napi]
    pub fn equals(&self, other: KeyInput) -> Result<bool> {
        Ok(other.resolve()? == self.inner)
    }

    /// Verifies an Ed25519 signature (strict rules); throws `invalid_signature` if it does not
    /// verify. Strings are signed as UTF-8.
    #[napi]
    pub fn verify(
        &self,
        message: BytesInput,
        #[napi(ts_arg_type = "Uint8Array")] signature: BytesInput,
    ) -> Result<()> {
        let sig = marque::Signature::from_slice(&signature.into_vec()).or_throw()?;
        self.inner.verify(&message.into_vec(), &sig).or_throw()
    }

    /// The hex form (so `String(key)` and template strings show the key).
    #[napi(js_name = "toString")]
    pub fn to_string_js(&self) -> String {
        self.inner.to_hex()
    }

    /// `JSON.stringify(key)` gives the hex form.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> String {
        self.inner.to_hex()
    }
}

/// An Ed25519 key pair. The secret stays in Rust (zeroized on drop) and is only exported by the
/// explicit `toHex`/`toPem`/`toJwk` calls.
#[napi]
pub struct KeyPair {
    pub(crate) inner: marque::KeyPair,
}

impl KeyPair {
    fn wrap(inner: marque::KeyPair) -> Self {
        KeyPair { inner }
    }
}

#[napi]
impl KeyPair {
    /// A fresh key pair from the operating system's CSPRNG.
    #[napi(factory)]
    pub fn generate() -> Result<Self> {
        marque::KeyPair::generate().or_throw().map(Self::wrap)
    }

    /// Parses the 32-byte seed as 64 hex digits.
    #[napi(factory)]
    pub fn from_hex(#[napi(ts_arg_type = "string")] hex: Text) -> Result<Self> {
        let hex = hex.0;
        marque::KeyPair::from_hex(&hex).or_throw().map(Self::wrap)
    }

    /// Builds a key pair from its 32-byte seed.
    #[napi(factory)]
    pub fn from_seed(#[napi(ts_arg_type = "Uint8Array")] seed: RawBytes) -> Result<Self> {
        marque::KeyPair::from_bytes(&zeroize_vec(seed.0))
            .or_throw()
            .map(Self::wrap)
    }

    /// Parses a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    #[napi(factory)]
    pub fn from_pem(#[napi(ts_arg_type = "string")] pem: Text) -> Result<Self> {
        let pem = pem.0;
        marque::KeyPair::from_pem(&pem).or_throw().map(Self::wrap)
    }

    /// Parses a private RFC 8037 JWK (with `d`).
    #[napi(factory)]
    pub fn from_jwk(#[napi(ts_arg_type = "Jwk")] jwk: Arg<Jwk>) -> Result<Self> {
        marque::KeyPair::from_jwk(&jwk.0.into_core())
            .or_throw()
            .map(Self::wrap)
    }

    /// The 32-byte seed as hex (a secret).
    #[napi]
    pub fn to_hex(&self) -> String {
        self.inner.to_hex().to_string()
    }

    /// PKCS#8 PEM (a secret).
    #[napi]
    pub fn to_pem(&self) -> Result<String> {
        self.inner.to_pem().or_throw().map(|p| p.to_string())
    }

    /// The private JWK, with `d` (a secret).
    #[napi]
    pub fn to_jwk(&self) -> Jwk {
        Jwk::from_core(&self.inner.to_jwk())
    }

    /// The public half.
    #[napi(getter)]
    pub fn public_key(&self) -> PublicKey {
        PublicKey::wrap(self.inner.public_key())
    }

    /// Signs a message (deterministic Ed25519); strings are signed as UTF-8. Returns 64 bytes.
    #[napi]
    pub fn sign(&self, message: BytesInput) -> Buffer {
        self.inner
            .sign(&message.into_vec())
            .to_bytes()
            .to_vec()
            .into()
    }

    /// Never prints the secret.
    #[napi(js_name = "toString")]
    pub fn to_string_js(&self) -> String {
        format!("KeyPair({})", self.inner.public_key().fingerprint())
    }

    /// `JSON.stringify(keyPair)` shows only the public key (never the secret).
    #[napi(js_name = "toJSON", ts_return_type = "{ publicKey: string }")]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "publicKey": self.inner.public_key().to_hex() })
    }
}

/// Wipes the caller's copy of a seed once the core has its own.
fn zeroize_vec(v: Vec<u8>) -> zeroize::Zeroizing<Vec<u8>> {
    zeroize::Zeroizing::new(v)
}
