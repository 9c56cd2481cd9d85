//! Key import in every format: hex, PEM, JWK, did:key.
#![no_main]
use libfuzzer_sys::fuzz_target;
use marque::{KeyPair, PublicKey};

fuzz_target!(|data: &[u8]| {
    let _ = PublicKey::from_bytes(data);
    let _ = KeyPair::from_bytes(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(k) = PublicKey::parse(text) {
        // Whatever parses must round-trip through every export.
        assert_eq!(PublicKey::from_pem(&k.to_pem()).ok(), Some(k));
        assert_eq!(PublicKey::from_did(&k.to_did()).ok(), Some(k));
        assert_eq!(PublicKey::from_jwk_json(&k.to_jwk_json()).ok(), Some(k));
    }
    let _ = KeyPair::from_pem(text);
    let _ = KeyPair::from_hex(text);
    let _ = PublicKey::from_did(text);
    let _ = PublicKey::from_jwk_json(text);
});
