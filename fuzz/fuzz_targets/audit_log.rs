//! Audit logs (JSON Lines) parsed, verified in memory and streamed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use marque::audit::{verify_jsonl_reader, AuditLog, Envelope, VerifyOptions};
use marque::KeyPair;

fuzz_target!(|data: &[u8]| {
    let key = KeyPair::from_seed(&[1; 32]).public_key();
    let _ = verify_jsonl_reader(data, &[key], None, &VerifyOptions::default());
    if let Ok(text) = std::str::from_utf8(data) {
        let log = AuditLog::from_jsonl(text);
        let _ = log.verify(&[key], Some("00"));
        let _ = Envelope::from_json(text).map(|e| e.verify(&[key]));
        let _ = marque::jcs::canonicalize_str(text);
    }
});
