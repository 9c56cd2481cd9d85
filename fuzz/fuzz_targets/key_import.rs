//! Key import in every format (hex, PEM, JWK, did:key) and the operator documents built on keys:
//! JWKS root key sets and signed revocation lists.
#![no_main]
use libfuzzer_sys::fuzz_target;
use marque::verify::{parse_jwks, to_jwks};
use marque::{KeyPair, PublicKey, RevocationList};

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
    if let Ok(keys) = parse_jwks(text) {
        assert_eq!(parse_jwks(&to_jwks(&keys)).ok(), Some(keys));
    }
    if let Ok(list) = RevocationList::from_json(text) {
        // A list that parses has a valid signature and re-serializes to a list equal to itself.
        assert_eq!(RevocationList::from_json(&list.to_json()).ok(), Some(list));
    }
});
