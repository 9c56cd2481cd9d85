//! Proofs of possession from attacker-controlled text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use marque::proof::{verify_proof, ProofRequest, ReplayCache};
use marque::KeyPair;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let key = KeyPair::from_seed(&[4; 32]).public_key();
    let req = ProofRequest::new("read_file", "read", "src/main.rs");
    if let Ok(claims) = verify_proof(text, &key, b"token", &req, 1_767_225_600, 60, 5) {
        let mut cache = ReplayCache::new(4);
        let _ = cache.check_and_insert(&key, &claims.nonce, claims.iat + 60, 1_767_225_600);
    }
});
