//! Ed25519 keys: generation, import/export and fingerprints.
//!
//! A [`KeyPair`] is an agent's or a root's signing identity; a [`PublicKey`] is what others trust.
//! Keys round-trip through raw hex (the 32-byte seed or key), PEM (PKCS#8 private, SPKI public),
//! JWK (RFC 8037 `OKP`/`Ed25519`) and `did:key`. The [`fingerprint`](PublicKey::fingerprint) is a
//! short stable id (`ed25519:` + 16 hex digits of SHA-256 of the key). Secret material lives in
//! `ed25519-dalek`'s `SigningKey`, which is zeroized on drop; exports of secrets are returned in
//! [`Zeroizing`] buffers, and `Debug` never prints a secret. Signature checks use
//! `verify_strict` (no malleable or small-order-key signatures).
//!
//! ```
//! use marque::{KeyPair, PublicKey};
//! let kp = KeyPair::from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")?;
//! let pk = kp.public_key();
//! assert_eq!(pk.to_hex(), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
//! assert_eq!(PublicKey::from_did(&pk.to_did())?, pk);
//! let sig = kp.sign(b"hello");
//! pk.verify(b"hello", &sig)?;
//! assert!(format!("{kp:?}").contains("redacted"));
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};

/// Length of an Ed25519 public key, seed and signature half.
pub const KEY_LENGTH: usize = 32;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LENGTH: usize = 64;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// multicodec prefix of an Ed25519 public key (0xed, varint-encoded).
const MULTICODEC_ED25519: [u8; 2] = [0xed, 0x01];

/// An Ed25519 signature (64 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; SIGNATURE_LENGTH]);

impl Signature {
    /// Parses a 64-byte signature.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; SIGNATURE_LENGTH] = bytes.try_into().map_err(|_| {
            Error::new(
                ErrorKind::InvalidSignature,
                format!("an Ed25519 signature is 64 bytes, got {}", bytes.len()),
            )
        })?;
        Ok(Signature(arr))
    }
    /// The raw bytes.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LENGTH] {
        self.0
    }
    /// base64url without padding.
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }
    /// Parses base64url (no padding).
    pub fn from_base64(s: &str) -> Result<Self> {
        let raw = B64
            .decode(s)
            .map_err(|_| Error::new(ErrorKind::InvalidSignature, "signature is not base64url"))?;
        Signature::from_slice(&raw)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex_encode(&self.0))
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey {
    key: VerifyingKey,
}

impl PublicKey {
    /// Parses 32 raw bytes. Rejects encodings that are not a valid curve point and
    /// small-order (weak) keys, which no honest signer produces.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; KEY_LENGTH] = bytes.try_into().map_err(|_| {
            Error::invalid_key(format!("an Ed25519 public key is 32 bytes, got {}", bytes.len()))
        })?;
        let key = VerifyingKey::from_bytes(&arr)
            .map_err(|_| Error::invalid_key("not a valid Ed25519 public key (bad point encoding)"))?;
        if key.is_weak() {
            return Err(Error::invalid_key("refusing a small-order (weak) Ed25519 public key"));
        }
        Ok(PublicKey { key })
    }

    /// The 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; KEY_LENGTH] {
        self.key.to_bytes()
    }

    /// The raw bytes as a borrowed array.
    pub fn as_bytes(&self) -> &[u8; KEY_LENGTH] {
        self.key.as_bytes()
    }

    /// Parses 64 lowercase or uppercase hex digits (an optional `ed25519/` prefix is accepted).
    pub fn from_hex(s: &str) -> Result<Self> {
        let s = s.trim();
        let s = s.strip_prefix("ed25519/").unwrap_or(s);
        let raw = hex_decode(s).ok_or_else(|| Error::invalid_key("public key is not hex"))?;
        PublicKey::from_bytes(&raw)
    }

    /// Lowercase hex of the 32 bytes.
    pub fn to_hex(&self) -> String {
        hex_encode(self.key.as_bytes())
    }

    /// Parses an SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self> {
        let not = || Error::invalid_key("not an Ed25519 SPKI PEM public key");
        let der = pem_decode(pem, "PUBLIC KEY").ok_or_else(not)?;
        let key = der.strip_prefix(&SPKI_PREFIX[..]).filter(|k| k.len() == KEY_LENGTH).ok_or_else(not)?;
        PublicKey::from_bytes(key)
    }

    /// SPKI PEM.
    pub fn to_pem(&self) -> String {
        let mut der = Vec::with_capacity(SPKI_PREFIX.len() + KEY_LENGTH);
        der.extend_from_slice(&SPKI_PREFIX);
        der.extend_from_slice(self.key.as_bytes());
        pem_encode("PUBLIC KEY", &der)
    }

    /// RFC 8037 JWK (`{"kty":"OKP","crv":"Ed25519","x":…}`), with `kid` set to the fingerprint.
    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: B64.encode(self.key.as_bytes()),
            kid: Some(self.fingerprint()),
            d: None,
            extra: Default::default(),
        }
    }

    /// The JWK as a JSON string.
    pub fn to_jwk_json(&self) -> String {
        serde_json::to_string(&self.to_jwk()).unwrap_or_default()
    }

    /// Parses an RFC 8037 OKP/Ed25519 JWK. A JWK that carries a private part (`d`) is refused:
    /// a public-key slot must never receive a secret.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self> {
        if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
            return Err(Error::invalid_key("JWK must have kty \"OKP\" and crv \"Ed25519\""));
        }
        if jwk.d.is_some() {
            return Err(Error::invalid_key("refusing a private JWK where a public key is expected"));
        }
        let raw = B64
            .decode(jwk.x.as_bytes())
            .map_err(|_| Error::invalid_key("JWK \"x\" is not base64url without padding"))?;
        PublicKey::from_bytes(&raw)
    }

    /// Parses a JWK given as JSON text.
    pub fn from_jwk_json(json: &str) -> Result<Self> {
        let jwk: Jwk =
            serde_json::from_str(json).map_err(|_| Error::invalid_key("JWK is not valid JSON"))?;
        PublicKey::from_jwk(&jwk)
    }

    /// `did:key:z6Mk…` (multibase base58btc of the multicodec-prefixed key).
    pub fn to_did(&self) -> String {
        let mut buf = Vec::with_capacity(34);
        buf.extend_from_slice(&MULTICODEC_ED25519);
        buf.extend_from_slice(self.key.as_bytes());
        format!("did:key:z{}", bs58::encode(buf).into_string())
    }

    /// Parses a `did:key` Ed25519 identifier.
    pub fn from_did(did: &str) -> Result<Self> {
        let rest = did
            .strip_prefix("did:key:z")
            .ok_or_else(|| Error::invalid_key("a did:key must start with \"did:key:z\""))?;
        let rest = rest.split('#').next().unwrap_or(rest);
        if rest.len() > 64 {
            return Err(Error::invalid_key("did:key is too long for an Ed25519 key"));
        }
        let raw = bs58::decode(rest)
            .into_vec()
            .map_err(|_| Error::invalid_key("did:key is not base58btc"))?;
        if raw.len() != 34 || raw[..2] != MULTICODEC_ED25519 {
            return Err(Error::invalid_key("did:key does not hold an Ed25519 public key"));
        }
        PublicKey::from_bytes(&raw[2..])
    }

    /// Parses any of the supported text forms: hex, `ed25519/hex`, PEM, JWK JSON or `did:key`.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        if t.starts_with("-----BEGIN") {
            PublicKey::from_pem(t)
        } else if t.starts_with('{') {
            PublicKey::from_jwk_json(t)
        } else if t.starts_with("did:key:") {
            PublicKey::from_did(t)
        } else {
            PublicKey::from_hex(t)
        }
    }

    /// Short stable identifier: `ed25519:` + the first 16 hex digits of SHA-256 of the key.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.key.as_bytes());
        format!("ed25519:{}", hex_encode(&digest[..8]))
    }

    /// Verifies `signature` over `message` with strict rules (`verify_strict`: canonical `s`,
    /// no small-order `R` or key).
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<()> {
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.key
            .verify_strict(message, &sig)
            .map_err(|_| Error::new(ErrorKind::InvalidSignature, "Ed25519 signature does not verify"))
    }

    /// The underlying `ed25519-dalek` key.
    pub fn as_dalek(&self) -> &VerifyingKey {
        &self.key
    }

    #[cfg(feature = "biscuit")]
    pub(crate) fn to_biscuit(self) -> Result<biscuit_auth::PublicKey> {
        biscuit_auth::PublicKey::from_bytes(self.key.as_bytes(), biscuit_auth::Algorithm::Ed25519)
            .map_err(|_| Error::internal("biscuit-auth refused a valid Ed25519 public key"))
    }

    #[cfg(feature = "biscuit")]
    pub(crate) fn from_biscuit(key: &biscuit_auth::PublicKey) -> Result<Self> {
        if key.algorithm() != biscuit_auth::format::schema::public_key::Algorithm::Ed25519 {
            return Err(Error::invalid_token("marque tokens use Ed25519 keys only"));
        }
        PublicKey::from_bytes(&key.to_bytes())
            .map_err(|_| Error::invalid_token("the token carries an invalid Ed25519 key"))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An RFC 8037 JSON Web Key for Ed25519. Unknown members are kept in `extra`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Always `"OKP"`.
    pub kty: String,
    /// Always `"Ed25519"`.
    pub crv: String,
    /// The public key, base64url without padding.
    pub x: String,
    /// Key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The private seed (only in private JWKs), base64url without padding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    /// Other members (`use`, `alg`, …).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("crv", &self.crv)
            .field("x", &self.x)
            .field("kid", &self.kid)
            .field("d", &self.d.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Drop for Jwk {
    fn drop(&mut self) {
        if let Some(d) = self.d.as_mut() {
            zeroize::Zeroize::zeroize(d);
        }
    }
}

/// An Ed25519 key pair. The secret is zeroized on drop and never printed.
pub struct KeyPair {
    signing: SigningKey,
    /// biscuit-auth's form of the same key, made on first use (minting): building it derives
    /// the public key again (≈ 18 µs), which a long-lived root key pays once, not per token.
    /// Its `SigningKey` is zeroized on drop like ours. Shared by clones (the bindings clone a
    /// key pair into each call).
    #[cfg(feature = "biscuit")]
    biscuit: std::sync::Arc<std::sync::OnceLock<biscuit_auth::KeyPair>>,
}

impl Clone for KeyPair {
    fn clone(&self) -> Self {
        KeyPair {
            signing: self.signing.clone(),
            #[cfg(feature = "biscuit")]
            biscuit: std::sync::Arc::clone(&self.biscuit),
        }
    }
}

impl KeyPair {
    /// Generates a fresh key pair from the operating system's (or the JS host's) CSPRNG.
    #[cfg(feature = "std")]
    pub fn generate() -> Result<Self> {
        let seed = Zeroizing::new(crate::random_bytes::<KEY_LENGTH>()?);
        Ok(KeyPair::from_seed(&seed))
    }

    /// Builds a key pair from a 32-byte seed (the RFC 8032 private key).
    pub fn from_seed(seed: &[u8; KEY_LENGTH]) -> Self {
        KeyPair::from_signing(SigningKey::from_bytes(seed))
    }

    /// Builds a key pair from a 32-byte seed given as a slice.
    pub fn from_bytes(seed: &[u8]) -> Result<Self> {
        let seed: Zeroizing<[u8; KEY_LENGTH]> = Zeroizing::new(seed.try_into().map_err(|_| {
            Error::invalid_key(format!("an Ed25519 seed is 32 bytes, got {}", seed.len()))
        })?);
        Ok(KeyPair::from_seed(&seed))
    }

    /// Parses the 32-byte seed as 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Self> {
        let raw = Zeroizing::new(
            hex_decode(s.trim()).ok_or_else(|| Error::invalid_key("private key is not hex"))?,
        );
        KeyPair::from_bytes(&raw)
    }

    /// The 32-byte seed as hex, in a buffer zeroized on drop.
    pub fn to_hex(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(self.signing.to_bytes());
        Zeroizing::new(hex_encode(&seed[..]))
    }

    /// The 32-byte seed, in a buffer zeroized on drop.
    pub fn to_seed(&self) -> Zeroizing<[u8; KEY_LENGTH]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// Parses a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self> {
        let der = pem_decode(pem, "PRIVATE KEY").ok_or_else(|| Error::invalid_key("not an Ed25519 PKCS#8 PEM private key"))?;
        KeyPair::from_pkcs8_der(&der).map_err(|_| Error::invalid_key("not an Ed25519 PKCS#8 PEM private key"))
    }

    /// Parses a DER PKCS#8 private key (RFC 8410): version 1 (the seed) or version 2 (the seed
    /// and the public key, which must match it). Anything else is `invalid_key`.
    ///
    /// ```
    /// use marque::KeyPair;
    /// // `openssl genpkey -algorithm ed25519 -outform DER` (version 1): a fixed 16-byte prefix, then the seed.
    /// let mut der = vec![0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
    /// der.extend_from_slice(&[7; 32]);
    /// assert_eq!(KeyPair::from_pkcs8_der(&der)?, KeyPair::from_seed(&[7; 32]));
    /// assert_eq!(KeyPair::from_pkcs8_der(&der[..40]).unwrap_err().code(), "invalid_key");
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let not = || Error::invalid_key("not an Ed25519 PKCS#8 private key");
        let (version, rest) = match der {
            [0x30, 0x2e, rest @ ..] if rest.len() == 0x2e => (0, rest),
            [0x30, 0x51, rest @ ..] if rest.len() == 0x51 => (1, rest),
            _ => return Err(not()),
        };
        let rest = rest.strip_prefix(&[0x02, 0x01, version][..]).ok_or_else(not)?;
        let rest = rest.strip_prefix(&PKCS8_ALGORITHM_AND_SEED[..]).ok_or_else(not)?;
        let (seed, public) = rest.split_at_checked(KEY_LENGTH).ok_or_else(not)?;
        let kp = KeyPair::from_bytes(seed)?;
        match (version, public) {
            (0, []) => Ok(kp),
            (1, [0x81, 0x21, 0x00, key @ ..]) if key == kp.public_key().as_bytes() => Ok(kp),
            (1, [0x81, 0x21, 0x00, _key @ ..]) => Err(Error::invalid_key("the PKCS#8 public key does not match its private key")),
            _ => Err(not()),
        }
    }

    /// PKCS#8 PEM (version 2: seed and public key), in a buffer zeroized on drop.
    pub fn to_pem(&self) -> Result<Zeroizing<String>> {
        let mut der = Zeroizing::new(Vec::with_capacity(0x53));
        der.extend_from_slice(&[0x30, 0x51, 0x02, 0x01, 0x01]);
        der.extend_from_slice(&PKCS8_ALGORITHM_AND_SEED);
        der.extend_from_slice(&*self.to_seed());
        der.extend_from_slice(&[0x81, 0x21, 0x00]);
        der.extend_from_slice(self.public_key().as_bytes());
        Ok(Zeroizing::new(pem_encode("PRIVATE KEY", &der)))
    }

    /// Parses a private RFC 8037 JWK (with `d`). The `x` member, when present, must match.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self> {
        if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
            return Err(Error::invalid_key("JWK must have kty \"OKP\" and crv \"Ed25519\""));
        }
        let d = jwk.d.as_ref().ok_or_else(|| Error::invalid_key("JWK has no private part \"d\""))?;
        let raw = Zeroizing::new(
            B64.decode(d.as_bytes())
                .map_err(|_| Error::invalid_key("JWK \"d\" is not base64url without padding"))?,
        );
        let kp = KeyPair::from_bytes(&raw)?;
        if B64.encode(kp.public_key().as_bytes()) != jwk.x {
            return Err(Error::invalid_key("JWK \"x\" does not match its private part"));
        }
        Ok(kp)
    }

    /// The private JWK (with `d`); treat it as a secret.
    pub fn to_jwk(&self) -> Jwk {
        let mut jwk = self.public_key().to_jwk();
        let seed = Zeroizing::new(self.signing.to_bytes());
        jwk.d = Some(B64.encode(&seed[..]));
        jwk
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey { key: self.signing.verifying_key() }
    }

    /// Signs `message` (deterministic Ed25519, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing.sign(message).to_bytes())
    }

    #[cfg(feature = "biscuit")]
    pub(crate) fn to_biscuit_private(&self) -> Result<biscuit_auth::PrivateKey> {
        let seed = Zeroizing::new(self.signing.to_bytes());
        biscuit_auth::PrivateKey::from_bytes(&seed[..], biscuit_auth::Algorithm::Ed25519)
            .map_err(|_| Error::internal("biscuit-auth refused a valid Ed25519 seed"))
    }

    #[cfg(feature = "biscuit")]
    pub(crate) fn to_biscuit(&self) -> Result<biscuit_auth::KeyPair> {
        Ok(biscuit_auth::KeyPair::from(&self.to_biscuit_private()?))
    }

    /// biscuit-auth's key pair for this key, built once and kept.
    #[cfg(feature = "biscuit")]
    pub(crate) fn biscuit_key_pair(&self) -> Result<&biscuit_auth::KeyPair> {
        if let Some(k) = self.biscuit.get() {
            return Ok(k);
        }
        let _ = self.biscuit.set(self.to_biscuit()?);
        self.biscuit.get().ok_or_else(|| Error::internal("biscuit key pair cache"))
    }

    fn from_signing(signing: SigningKey) -> Self {
        KeyPair {
            signing,
            #[cfg(feature = "biscuit")]
            biscuit: Default::default(),
        }
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPair {{ public: {}, secret: <redacted> }}", self.public_key().fingerprint())
    }
}

impl PartialEq for KeyPair {
    fn eq(&self, other: &Self) -> bool {
        // Comparing public halves is enough (one seed per public key) and is constant-time safe.
        self.public_key() == other.public_key()
    }
}
impl Eq for KeyPair {}

/// Verifies many signatures at once with Ed25519 batch verification; on failure, returns the
/// index of the first bad signature (found with strict single verification).
///
/// Batch verification is only used as a fast path: any item it would accept that strict
/// verification rejects (weak keys are already refused at parse time, non-canonical `s` is
/// rejected by both) is re-checked, so the result always equals strict verification.
pub fn verify_many(items: &[(&PublicKey, &[u8], &Signature)]) -> core::result::Result<(), usize> {
    if items.is_empty() {
        return Ok(());
    }
    let messages: Vec<&[u8]> = items.iter().map(|(_, m, _)| *m).collect();
    let sigs: Vec<ed25519_dalek::Signature> =
        items.iter().map(|(_, _, s)| ed25519_dalek::Signature::from_bytes(&s.0)).collect();
    let keys: Vec<VerifyingKey> = items.iter().map(|(k, _, _)| k.key).collect();
    let strict_ok = |i: usize| items[i].0.verify(items[i].1, items[i].2).is_ok();
    // Strictness that batch verification does not enforce: small-order R.
    let has_small_order_r = items.iter().any(|(_, _, s)| r_is_small_order(&s.0));
    if !has_small_order_r && ed25519_dalek::verify_batch(&messages, &sigs, &keys).is_ok() {
        return Ok(());
    }
    match (0..items.len()).find(|&i| !strict_ok(i)) {
        Some(i) => Err(i),
        None => Ok(()),
    }
}

/// Whether the `R` half of a signature decodes to a point of small order, without decoding it:
/// the batch equation decompresses `R` itself, so decompressing it here as well would double
/// the cost (a field exponentiation per signature).
///
/// Exactly eight points have small order, with five distinct y-coordinates (0, 1, −1 and the
/// pair ±y₈ of the order-8 points). An encoding is the y-coordinate (255 bits, read mod p, so
/// y < 19 also has the non-canonical form y + p) plus the sign bit of x, which decompression
/// accepts either way. Hence the 14 encodings: these seven y-values with either sign bit (the
/// list libsodium uses; the tests rebuild it from the torsion points). Any other 32 bytes either
/// decode to a point that is not of small order or do not decode at all (and then batch and
/// strict verification both reject).
fn r_is_small_order(sig: &[u8; SIGNATURE_LENGTH]) -> bool {
    let mut y = [0u8; 32];
    y.copy_from_slice(&sig[..32]);
    y[31] &= 0x7f;
    SMALL_ORDER_Y.contains(&y)
}

/// The y-encodings (sign bit clear) of the small-order points; see [`r_is_small_order`].
const SMALL_ORDER_Y: [[u8; 32]; 7] = {
    const fn ff(first: u8) -> [u8; 32] {
        let mut b = [0xff; 32];
        b[0] = first;
        b[31] = 0x7f;
        b
    }
    let mut one = [0u8; 32];
    one[0] = 1;
    [
        // y = 0 (order 4), y = 1 (the identity).
        [0u8; 32],
        one,
        // ±y₈ (order 8).
        [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac,
            0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
        ],
        [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53,
            0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
        ],
        // y = p − 1 (order 2); p and p + 1, the non-canonical forms of 0 and 1.
        ff(0xec),
        ff(0xed),
        ff(0xee),
    ]
};

pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    let val = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    b.chunks(2).map(|p| Some(val(p[0])? << 4 | val(p[1])?)).collect()
}

// ---- DER and PEM (RFC 8410, RFC 7468) ------------------------------------------------------
// Ed25519 keys have exactly one DER form each, so they are matched byte for byte rather than
// parsed by a general ASN.1 decoder.

/// `SubjectPublicKeyInfo` of an Ed25519 key up to the 32 key bytes: SEQUENCE { SEQUENCE { OID
/// 1.3.101.112 }, BIT STRING (0 unused bits) }.
const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
/// In a PKCS#8 `OneAsymmetricKey`, after the version: the algorithm (OID 1.3.101.112) and the
/// private key, an OCTET STRING holding the 32-byte seed as an OCTET STRING.
const PKCS8_ALGORITHM_AND_SEED: [u8; 11] = [0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// The DER inside a PEM block labelled `label`: whitespace around the block and line endings
/// (LF or CRLF) are accepted, headers and any other text are not.
fn pem_decode(pem: &str, label: &str) -> Option<Zeroizing<Vec<u8>>> {
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN ")?
        .strip_prefix(label)?
        .strip_prefix("-----")?
        .strip_suffix("-----")?
        .strip_suffix(label)?
        .strip_suffix("-----END ")?;
    let mut b64 = Zeroizing::new(String::with_capacity(body.len()));
    for line in body.lines() {
        b64.push_str(line.trim_matches(|c| c == ' ' || c == '\t' || c == '\r'));
    }
    base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()).ok().map(Zeroizing::new)
}

/// A PEM block: base64 in lines of 64 characters, LF line endings, a final newline.
fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(der));
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 32);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // base64 output is ASCII.
        out.push_str(core::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    // RFC 8032 test 1.
    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUB: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const SIG: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

    #[test]
    fn rfc8032_vector() {
        let kp = KeyPair::from_hex(SEED).unwrap();
        assert_eq!(kp.public_key().to_hex(), PUB);
        let sig = kp.sign(b"");
        assert_eq!(hex_encode(&sig.0), SIG);
        kp.public_key().verify(b"", &sig).unwrap();
        assert_eq!(kp.public_key().verify(b"x", &sig).unwrap_err().code(), "invalid_signature");
    }

    /// The DER and PEM written by hand match ed25519-dalek's (RustCrypto `pkcs8`/`spki`)
    /// encoders byte for byte, and what they write reads back here; OpenSSL's version-1 PKCS#8
    /// reads too; anything else is `invalid_key`.
    #[test]
    fn pem_and_der_match_the_reference_encoders() {
        use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
        use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
        for seed in [[0u8; 32], [7; 32], [0xff; 32], *KeyPair::from_hex(SEED).unwrap().to_seed()] {
            let kp = KeyPair::from_seed(&seed);
            let reference = SigningKey::from_bytes(&seed);
            assert_eq!(kp.to_pem().unwrap().as_str(), reference.to_pkcs8_pem(LineEnding::LF).unwrap().as_str());
            assert_eq!(kp.public_key().to_pem(), reference.verifying_key().to_public_key_pem(LineEnding::LF).unwrap());
            assert_eq!(SigningKey::from_pkcs8_pem(&kp.to_pem().unwrap()).unwrap().to_bytes(), seed);
            assert_eq!(VerifyingKey::from_public_key_pem(&kp.public_key().to_pem()).unwrap(), reference.verifying_key());
            assert_eq!(KeyPair::from_pkcs8_der(reference.to_pkcs8_der().unwrap().as_bytes()).unwrap(), kp);
            let crlf = kp.to_pem().unwrap().replace('\n', "\r\n");
            assert_eq!(KeyPair::from_pem(&format!("  \n{crlf}\n")).unwrap(), kp);
        }
        // `openssl genpkey -algorithm ed25519` (PKCS#8 version 1, no public key) and `openssl pkey -pubout`.
        let openssl = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIZUScOoCPawQljh/aqSrbnNZxVEGbkEg72pam56zmr0\n-----END PRIVATE KEY-----\n";
        let openssl_pub = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAWB2PKHx/aESxjWHBJuveidy3XbyLXl2ujHZjUAcZeo8=\n-----END PUBLIC KEY-----\n";
        let kp = KeyPair::from_pem(openssl).unwrap();
        assert_eq!(&*kp.to_hex(), "865449c3a808f6b04258e1fdaa92adb9cd67154419b90483bda96a6e7ace6af4");
        assert_eq!(kp.public_key(), PublicKey::from_pem(openssl_pub).unwrap());
        assert_eq!(kp.public_key().to_pem(), openssl_pub);

        let good = KeyPair::from_seed(&[7; 32]).to_pem().unwrap().to_string();
        let other_pub = KeyPair::from_seed(&[8; 32]).public_key();
        let mut mismatched = SigningKey::from_bytes(&[7; 32]).to_pkcs8_der().unwrap().as_bytes().to_vec();
        let n = mismatched.len();
        mismatched[n - 32..].copy_from_slice(other_pub.as_bytes());
        assert!(KeyPair::from_pkcs8_der(&mismatched).unwrap_err().message().contains("does not match"));
        let bad_pems = [
            good.replace("PRIVATE KEY", "PUBLIC KEY"),
            good.replace("BEGIN PRIVATE KEY", "BEGIN EC PRIVATE KEY"),
            good.replacen("M", "m", 1),
            good.replace("-----END PRIVATE KEY-----\n", ""),
            format!("Proc-Type: 4,ENCRYPTED\n{good}"),
            good.replace("\n-----END", "AAAA\n-----END"),
            "-----BEGIN PRIVATE KEY----------END PRIVATE KEY-----".to_string(),
            KeyPair::from_seed(&[7; 32]).public_key().to_pem(),
        ];
        for bad in &bad_pems {
            assert_eq!(KeyPair::from_pem(bad).unwrap_err().code(), "invalid_key", "{bad}");
        }
        for bad in [openssl.to_string(), openssl_pub.replace("MCow", "MCox"), openssl_pub.replace("K2Vw", "K2Vx"), String::new()] {
            assert_eq!(PublicKey::from_pem(&bad).unwrap_err().code(), "invalid_key", "{bad}");
        }
        // Truncated and extended DER.
        let der = SigningKey::from_bytes(&[7; 32]).to_pkcs8_der().unwrap().as_bytes().to_vec();
        for cut in 0..der.len() {
            assert!(KeyPair::from_pkcs8_der(&der[..cut]).is_err(), "cut {cut}");
        }
        let mut longer = der.clone();
        longer.push(0);
        assert!(KeyPair::from_pkcs8_der(&longer).is_err());
    }

    #[test]
    fn formats_round_trip() {
        let kp = KeyPair::from_hex(SEED).unwrap();
        let pk = kp.public_key();
        assert_eq!(KeyPair::from_pem(&kp.to_pem().unwrap()).unwrap(), kp);
        assert_eq!(&*kp.to_hex(), SEED);
        assert_eq!(PublicKey::from_pem(&pk.to_pem()).unwrap(), pk);
        assert_eq!(PublicKey::from_jwk(&pk.to_jwk()).unwrap(), pk);
        assert_eq!(PublicKey::from_jwk_json(&pk.to_jwk_json()).unwrap(), pk);
        assert_eq!(KeyPair::from_jwk(&kp.to_jwk()).unwrap(), kp);
        assert!(pk.to_did().starts_with("did:key:z6Mk"));
        assert_eq!(PublicKey::from_did(&pk.to_did()).unwrap(), pk);
        for text in [pk.to_hex(), pk.to_pem(), pk.to_jwk_json(), pk.to_did(), format!("ed25519/{PUB}")]
        {
            assert_eq!(PublicKey::parse(&text).unwrap(), pk);
        }
        assert_eq!(pk.fingerprint().len(), "ed25519:".len() + 16);
    }

    #[test]
    fn private_jwk_refused_as_public() {
        let kp = KeyPair::from_hex(SEED).unwrap();
        assert_eq!(PublicKey::from_jwk(&kp.to_jwk()).unwrap_err().code(), "invalid_key");
        let mut jwk = kp.to_jwk();
        jwk.x = KeyPair::from_seed(&[7; 32]).public_key().to_jwk().x.clone();
        assert_eq!(KeyPair::from_jwk(&jwk).unwrap_err().code(), "invalid_key");
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        for bad in ["", "zz", "abcd", &"00".repeat(33), "did:key:zzzz", "{", "-----BEGIN PUBLIC KEY-----"] {
            assert_eq!(PublicKey::parse(bad).unwrap_err().code(), "invalid_key", "{bad}");
        }
        assert_eq!(KeyPair::from_hex("12").unwrap_err().code(), "invalid_key");
        assert_eq!(KeyPair::from_pem("nope").unwrap_err().code(), "invalid_key");
        // The identity point is a small-order key.
        let mut ident = [0u8; 32];
        ident[0] = 1;
        assert_eq!(PublicKey::from_bytes(&ident).unwrap_err().code(), "invalid_key");
    }

    #[test]
    fn debug_never_prints_secrets() {
        let kp = KeyPair::from_hex(SEED).unwrap();
        let dbg = format!("{kp:?} {:?}", kp.to_jwk());
        assert!(!dbg.contains(SEED));
        assert!(!dbg.contains(&kp.to_jwk().d.clone().unwrap()));
        assert!(dbg.contains("redacted"));
    }

    /// The decompressing check `r_is_small_order` replaces: `Some(small order)` when it decodes.
    fn curve25519_point(bytes: &[u8; 32]) -> Option<bool> {
        VerifyingKey::from_bytes(bytes).ok().map(|p| p.is_weak())
    }

    #[test]
    fn small_order_table_is_exactly_the_torsion_encodings() {
        use alloc::collections::BTreeSet;
        // Rebuild the list: the multiples of an order-8 point are the eight small-order points.
        let t = VerifyingKey::from_bytes(&SMALL_ORDER_Y[2]).unwrap().to_edwards();
        let mut p = t;
        let mut ys = BTreeSet::new();
        for _ in 0..8 {
            let mut y = p.compress().to_bytes();
            y[31] &= 0x7f;
            ys.insert(y);
            // y + p for y < 19 (only 0 and 1 here) is a second encoding of the same y.
            if y[1..].iter().all(|b| *b == 0) && y[0] < 19 {
                let mut alt = [0xffu8; 32];
                alt[0] = 0xed + y[0];
                alt[31] = 0x7f;
                ys.insert(alt);
            }
            p += t;
        }
        assert_eq!(ys, SMALL_ORDER_Y.iter().copied().collect::<BTreeSet<_>>());
        // Every listed encoding, with either sign bit, decodes to a small-order point, as the
        // decompressing check said.
        for y in SMALL_ORDER_Y {
            for sign in [0u8, 0x80] {
                let mut r = y;
                r[31] |= sign;
                assert_eq!(curve25519_point(&r), Some(true), "{}", hex_encode(&r));
                let mut sig = [0u8; SIGNATURE_LENGTH];
                sig[..32].copy_from_slice(&r);
                assert!(r_is_small_order(&sig));
            }
        }
        // Honest signatures' R are never small order.
        for i in 0..64u8 {
            let sig = KeyPair::from_seed(&[i; 32]).sign(&[i; 3]);
            assert!(!r_is_small_order(&sig.0));
            assert_eq!(curve25519_point(&sig.0[..32].try_into().unwrap()), Some(false));
        }
    }

    #[test]
    fn batch_matches_strict() {
        let kps: Vec<KeyPair> = (0..5u8).map(|i| KeyPair::from_seed(&[i + 1; 32])).collect();
        let msgs: Vec<Vec<u8>> = (0..5u8).map(|i| alloc::vec![i; 10]).collect();
        let sigs: Vec<Signature> = kps.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        let pks: Vec<PublicKey> = kps.iter().map(|k| k.public_key()).collect();
        let items: Vec<(&PublicKey, &[u8], &Signature)> =
            (0..5).map(|i| (&pks[i], msgs[i].as_slice(), &sigs[i])).collect();
        assert_eq!(verify_many(&items), Ok(()));
        let mut bad = sigs.clone();
        bad[3].0[5] ^= 1;
        let items: Vec<(&PublicKey, &[u8], &Signature)> =
            (0..5).map(|i| (&pks[i], msgs[i].as_slice(), &bad[i])).collect();
        assert_eq!(verify_many(&items), Err(3));
    }
}
