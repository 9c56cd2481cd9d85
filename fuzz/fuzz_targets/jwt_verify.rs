//! Compact JWTs and agent assertions from attacker-controlled text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use marque::jwt::{jwt_decode, jwt_verify, JwtKeys, JwtOptions};
use marque::KeyPair;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let key = KeyPair::from_seed(&[1; 32]).public_key();
    let keys = JwtKeys::new().with_key(key);
    let _ = jwt_verify(text, &keys, &JwtOptions::new(1_700_000_000));
    let _ = jwt_verify(text, &keys, &JwtOptions::new(1_700_000_000).audience("https://tools.example"));
    let _ = jwt_decode(text);
    let _ = marque::identity::AgentIdentity::parse(text, Some(&key));
    let _ = marque::identity::verify_agent_assertion(text, &key, &marque::identity::AssertionOptions::new(1_700_000_000));
});
