//! `KeyPair` and `PublicKey` (the core's `keys` module): Ed25519 keys in hex, PEM, JWK and
//! `did:key` form. Secrets stay in Rust memory (zeroized on drop) and only leave it through the
//! explicit `toHex` / `toPem` / `toJwk` exports.

use std::rc::Rc;

use marque::keys::Jwk;
use wasm_bindgen::prelude::*;

use crate::convert::{bytes, bytes_or_text, instance, string, to_js};
use crate::errors::{JsError, JsResult};

/// An Ed25519 key pair.
#[wasm_bindgen]
pub struct KeyPair {
    pub(crate) inner: Rc<marque::KeyPair>,
}

/// An Ed25519 public key.
#[wasm_bindgen]
#[derive(Clone)]
pub struct PublicKey {
    pub(crate) inner: marque::PublicKey,
}

fn jwk_from(v: &JsValue, what: &str) -> JsResult<Jwk> {
    // An object goes through JSON.stringify (which catches throwing getters and Proxy traps),
    // so objects and JSON text are read by the same parser.
    let text = match v.as_string() {
        Some(text) => text,
        None if v.is_object() => js_sys::JSON::stringify(v)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| {
                JsError::argument(format!("{what} is not a JSON-serializable object"))
            })?,
        None => {
            return Err(JsError::argument(format!(
                "{what} must be a JWK object or JSON text"
            )))
        }
    };
    serde_json::from_str(&text).map_err(|_| {
        JsError::new(
            marque::ErrorKind::InvalidKey,
            "not an RFC 8037 JWK (kty, crv and x are strings)",
        )
    })
}

#[wasm_bindgen]
impl KeyPair {
    /// A fresh key pair from the host's CSPRNG (`crypto.getRandomValues`).
    #[cfg(feature = "full")]
    pub fn generate() -> JsResult<KeyPair> {
        Ok(KeyPair {
            inner: Rc::new(marque::KeyPair::generate()?),
        })
    }

    /// Parses the 32-byte seed as 64 hex digits.
    #[wasm_bindgen(js_name = fromHex)]
    pub fn from_hex(hex: JsValue) -> JsResult<KeyPair> {
        let hex = zeroize_string(string(&hex, "hex")?);
        Ok(KeyPair {
            inner: Rc::new(marque::KeyPair::from_hex(&hex)?),
        })
    }

    /// Builds a key pair from its 32-byte seed.
    #[wasm_bindgen(js_name = fromSeed)]
    pub fn from_seed(seed: JsValue) -> JsResult<KeyPair> {
        let seed = zeroize_bytes(bytes(&seed, "seed")?);
        Ok(KeyPair {
            inner: Rc::new(marque::KeyPair::from_bytes(&seed)?),
        })
    }

    /// Parses a PKCS#8 PEM private key.
    #[wasm_bindgen(js_name = fromPem)]
    pub fn from_pem(pem: JsValue) -> JsResult<KeyPair> {
        let pem = zeroize_string(string(&pem, "pem")?);
        Ok(KeyPair {
            inner: Rc::new(marque::KeyPair::from_pem(&pem)?),
        })
    }

    /// Parses a private RFC 8037 JWK (with `d`), as an object or JSON text.
    #[wasm_bindgen(js_name = fromJwk)]
    pub fn from_jwk(jwk: JsValue) -> JsResult<KeyPair> {
        let jwk = jwk_from(&jwk, "jwk")?;
        Ok(KeyPair {
            inner: Rc::new(marque::KeyPair::from_jwk(&jwk)?),
        })
    }

    /// The 32-byte seed as hex (a secret).
    #[wasm_bindgen(js_name = toHex)]
    pub fn to_hex(&self) -> String {
        self.inner.to_hex().as_str().to_owned()
    }

    /// PKCS#8 PEM (a secret).
    #[wasm_bindgen(js_name = toPem)]
    pub fn to_pem(&self) -> JsResult<String> {
        Ok(self.inner.to_pem()?.as_str().to_owned())
    }

    /// The private JWK, with `d` (a secret).
    #[wasm_bindgen(js_name = toJwk)]
    pub fn to_jwk(&self) -> JsResult<JsValue> {
        to_js(&self.inner.to_jwk())
    }

    /// The public half.
    #[wasm_bindgen(getter, js_name = publicKey)]
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            inner: self.inner.public_key(),
        }
    }

    /// Signs a message (deterministic Ed25519); strings are signed as UTF-8. 64 bytes.
    pub fn sign(&self, message: JsValue) -> JsResult<Vec<u8>> {
        let msg = bytes_or_text(&message, "message")?;
        Ok(self.inner.sign(&msg).to_bytes().to_vec())
    }

    /// Never shows the secret.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        format!("KeyPair({})", self.inner.public_key().fingerprint())
    }

    /// `JSON.stringify(keyPair)` shows only the public key.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> JsResult<JsValue> {
        #[derive(serde::Serialize)]
        struct Public {
            #[serde(rename = "publicKey")]
            public_key: String,
        }
        to_js(&Public {
            public_key: self.inner.public_key().to_hex(),
        })
    }

    /// Internal: a second handle on the same key (see `convert::instance`).
    #[wasm_bindgen(js_name = "__clone")]
    pub fn clone_handle(&self) -> KeyPair {
        KeyPair {
            inner: Rc::clone(&self.inner),
        }
    }
}

#[wasm_bindgen]
impl PublicKey {
    /// Parses 64 hex digits (an `ed25519/` prefix is accepted).
    #[wasm_bindgen(js_name = fromHex)]
    pub fn from_hex(hex: JsValue) -> JsResult<PublicKey> {
        Ok(PublicKey {
            inner: marque::PublicKey::from_hex(&string(&hex, "hex")?)?,
        })
    }

    /// Parses 32 raw bytes.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(raw: JsValue) -> JsResult<PublicKey> {
        Ok(PublicKey {
            inner: marque::PublicKey::from_bytes(&bytes(&raw, "bytes")?)?,
        })
    }

    /// Parses an SPKI PEM.
    #[wasm_bindgen(js_name = fromPem)]
    pub fn from_pem(pem: JsValue) -> JsResult<PublicKey> {
        Ok(PublicKey {
            inner: marque::PublicKey::from_pem(&string(&pem, "pem")?)?,
        })
    }

    /// Parses an RFC 8037 JWK (object or JSON text). A private JWK is refused.
    #[wasm_bindgen(js_name = fromJwk)]
    pub fn from_jwk(jwk: JsValue) -> JsResult<PublicKey> {
        Ok(PublicKey {
            inner: marque::PublicKey::from_jwk(&jwk_from(&jwk, "jwk")?)?,
        })
    }

    /// Parses a `did:key:z6Mk…` identifier.
    #[wasm_bindgen(js_name = fromDid)]
    pub fn from_did(did: JsValue) -> JsResult<PublicKey> {
        Ok(PublicKey {
            inner: marque::PublicKey::from_did(&string(&did, "did")?)?,
        })
    }

    /// Parses any text form: hex, `ed25519/hex`, PEM, JWK JSON or `did:key`.
    pub fn parse(text: JsValue) -> JsResult<PublicKey> {
        Ok(PublicKey {
            inner: marque::PublicKey::parse(&string(&text, "text")?)?,
        })
    }

    /// Lowercase hex.
    #[wasm_bindgen(js_name = toHex)]
    pub fn to_hex(&self) -> String {
        self.inner.to_hex()
    }

    /// The 32 raw bytes.
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes().to_vec()
    }

    /// SPKI PEM.
    #[wasm_bindgen(js_name = toPem)]
    pub fn to_pem(&self) -> String {
        self.inner.to_pem()
    }

    /// RFC 8037 JWK with `kid` = the fingerprint.
    #[wasm_bindgen(js_name = toJwk)]
    pub fn to_jwk(&self) -> JsResult<JsValue> {
        to_js(&self.inner.to_jwk())
    }

    /// `did:key:z6Mk…`.
    #[wasm_bindgen(js_name = toDid)]
    pub fn to_did(&self) -> String {
        self.inner.to_did()
    }

    /// `ed25519:` + 16 hex digits of SHA-256 of the key.
    #[wasm_bindgen(getter)]
    pub fn fingerprint(&self) -> String {
        self.inner.fingerprint()
    }

    /// Whether `other` (any key input) is the same key; what is not a key throws
    /// `invalid_argument` / `invalid_key` (never a silent `false`).
    pub fn equals(&self, other: JsValue) -> JsResult<bool> {
        Ok(public_key(&other, "other")? == self.inner)
    }

    /// Verifies an Ed25519 signature (strict); throws `invalid_signature` when it does not verify.
    pub fn verify(&self, message: JsValue, signature: JsValue) -> JsResult<()> {
        let msg = bytes_or_text(&message, "message")?;
        let sig = marque::Signature::from_slice(&bytes(&signature, "signature")?)?;
        Ok(self.inner.verify(&msg, &sig)?)
    }

    /// The hex form.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        self.inner.to_hex()
    }

    /// `JSON.stringify(key)` gives the hex form.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> String {
        self.inner.to_hex()
    }

    /// Internal: a second handle on the same key (see `convert::instance`).
    #[wasm_bindgen(js_name = "__clone")]
    pub fn clone_handle(&self) -> PublicKey {
        self.clone()
    }
}

/// A public key from any input: a `PublicKey`, key text (hex, PEM, JWK JSON, `did:key`),
/// 32 raw bytes or a JWK object.
pub fn public_key(v: &JsValue, what: &str) -> JsResult<marque::PublicKey> {
    if let Some(text) = v.as_string() {
        return Ok(marque::PublicKey::parse(&text)?);
    }
    if let Some(k) = instance::<PublicKey>(v) {
        return Ok(k.inner);
    }
    if v.is_instance_of::<js_sys::Uint8Array>() {
        return Ok(marque::PublicKey::from_bytes(&bytes(v, what)?)?);
    }
    // An object is a JWK when `kty`, `crv` and `x` are strings (then the core judges the key:
    // `invalid_key`); any other object is the wrong argument, as in @marque/node.
    let member = |k: &str| js_sys::Reflect::get(v, &JsValue::from_str(k)).ok().is_some_and(|m| m.is_string());
    if v.is_object() && !crate::convert::is_array(v) && ["kty", "crv", "x"].into_iter().all(member) {
        return Ok(marque::PublicKey::from_jwk(&jwk_from(v, what)?)?);
    }
    Err(JsError::argument(format!(
        "{what} must be a PublicKey, key text (hex, PEM, JWK JSON, did:key), 32 bytes or a JWK object"
    )))
}

fn zeroize_string(s: String) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(s)
}

fn zeroize_bytes(b: Vec<u8>) -> zeroize::Zeroizing<Vec<u8>> {
    zeroize::Zeroizing::new(b)
}
