//! Token bytes (raw and as base64 text) through parsing, verification and authorization.
#![no_main]
use libfuzzer_sys::fuzz_target;
use marque::{KeyPair, Request, Token, Verifier};

fuzz_target!(|data: &[u8]| {
    // The vectors' root (seed 01…): seeds from tests/vectors verify and reach the Datalog.
    let root = KeyPair::from_seed(&[1; 32]).public_key();
    let verifier = Verifier::new([root]);
    let request = Request::new("read_file", "read", "src/main.rs");
    let _ = verifier.authorize(data, &request, None, Some(1_767_225_610));
    let _ = Token::from_bytes(data).map(|t| (t.to_datalog(), t.to_json()));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = verifier.authorize_base64(text, &request, Some(text), Some(1_767_225_610));
        let _ = Token::from_base64(text);
    }
});
