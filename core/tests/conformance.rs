//! Conformance: the Biscuit specification samples and Google Wycheproof's Ed25519 vectors.
//!
//! * Every Biscuit sample token (tests/vectors/biscuit-samples, from biscuit-rust) is parsed with
//!   the sample root key and authorized with the sample's authorizer code through biscuit-auth —
//!   the engine marque's verifier runs — and the outcome (validity, error family, matched policy,
//!   revocation ids) must match the expected result. Each sample is also fed to marque's own
//!   `Verifier`, which must answer with a typed error (they are not marque-profile tokens), never
//!   a panic or an "allowed".
//! * Every Wycheproof Ed25519 case goes through `PublicKey::verify` (the one function proofs,
//!   audit envelopes and JWTs call) and through batch verification (`verify_many`): 100 %
//!   agreement with the expected result.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use biscuit_auth::builder::Term;
use biscuit_auth::datalog::ExternFunc;
use biscuit_auth::{AuthorizerBuilder, AuthorizerLimits, Biscuit};
use marque::keys::verify_many;
use marque::{PublicKey, Request, Signature, Verifier};
use serde_json::Value;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// "Format.Signature", "FailedLogic.Unauthorized", "Execution", … from an error's Debug form.
fn family_of_error(e: &biscuit_auth::error::Token) -> String {
    let dbg = format!("{e:?}");
    let mut parts = dbg.split(['(', ' ', '{']).filter(|p| !p.is_empty());
    let outer = parts.next().unwrap_or_default().to_string();
    match outer.as_str() {
        "Format" | "FailedLogic" => format!("{outer}.{}", parts.next().unwrap_or_default()),
        _ => outer,
    }
}

fn family_of_expected(result: &Value) -> Result<u64, String> {
    if let Some(n) = result.get("Ok") {
        return Ok(n.as_u64().unwrap());
    }
    let err = &result["Err"];
    let (outer, inner) = err.as_object().unwrap().iter().next().unwrap();
    Err(match outer.as_str() {
        "Format" | "FailedLogic" => {
            let inner_name = match inner {
                Value::Object(m) => m.keys().next().unwrap().clone(),
                Value::String(s) => s.clone(),
                _ => String::new(),
            };
            format!("{outer}.{inner_name}")
        }
        _ => outer.clone(),
    })
}

fn test_extern_funcs() -> HashMap<String, ExternFunc> {
    HashMap::from([(
        "test".to_string(),
        ExternFunc::new(Arc::new(|left, right| match (left, right) {
            (t, None) => Ok(t),
            (Term::Str(l), Some(Term::Str(r))) if l == r => Ok(Term::Str("equal strings".into())),
            (Term::Str(_), Some(Term::Str(_))) => Ok(Term::Str("different strings".into())),
            _ => Err("unsupported operands".into()),
        })),
    )])
}

#[test]
fn biscuit_specification_samples() {
    let dir = vectors().join("biscuit-samples");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("samples.json")).unwrap()).unwrap();
    let root = biscuit_auth::PublicKey::from_bytes_hex(doc["root_public_key"].as_str().unwrap(), biscuit_auth::Algorithm::Ed25519).unwrap();
    let marque_root = PublicKey::from_hex(doc["root_public_key"].as_str().unwrap()).unwrap();
    let marque_verifier = Verifier::new([marque_root]);
    let mut checked = 0;
    for case in doc["testcases"].as_array().unwrap() {
        let file = case["filename"].as_str().unwrap();
        let data = std::fs::read(dir.join(file)).unwrap();

        // marque's own verifier: typed error, never a panic, never allowed.
        match marque_verifier.authorize(&data, &Request::new("t", "o", "r"), None, Some(1_700_000_000)) {
            Ok(d) => panic!("{file}: a non-marque token was accepted: {d:?}"),
            Err(e) => assert!(
                ["invalid_token", "invalid_signature", "unknown_root_key", "limits_exceeded"].contains(&e.code()),
                "{file}: unexpected code {}",
                e.code()
            ),
        }

        for (name, validation) in case["validations"].as_object().unwrap() {
            let expected = family_of_expected(&validation["result"]);
            let got: Result<u64, String> = (|| {
                let token = Biscuit::from(&data[..], root).map_err(|e| family_of_error(&e))?;
                let ids: Vec<String> = token.revocation_identifiers().iter().map(|b| marque_hex(b)).collect();
                let want: Vec<&str> = validation["revocation_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
                assert_eq!(ids, want, "{file} {name}: revocation ids");
                let builder = AuthorizerBuilder::new()
                    .set_extern_funcs(if file == "test035_ffi.bc" { test_extern_funcs() } else { HashMap::new() })
                    .code(validation["authorizer_code"].as_str().unwrap())
                    .unwrap()
                    .set_limits(AuthorizerLimits { max_time: std::time::Duration::from_secs(5), ..Default::default() });
                let mut authorizer = builder.build(&token).map_err(|e| family_of_error(&e))?;
                authorizer.authorize().map(|n| n as u64).map_err(|e| family_of_error(&e))
            })();
            assert_eq!(got, expected, "{file} {name:?}");
            checked += 1;
        }
    }
    assert!(checked >= 50, "only {checked} validations ran");
}

fn marque_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn wycheproof_ed25519_single_and_batch() {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(vectors().join("wycheproof/ed25519_test.json")).unwrap(),
    )
    .unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        let pk_bytes = hex(group["publicKey"]["pk"].as_str().unwrap());
        let key = PublicKey::from_bytes(&pk_bytes);
        for t in group["tests"].as_array().unwrap() {
            let msg = hex(t["msg"].as_str().unwrap());
            let sig_bytes = hex(t["sig"].as_str().unwrap());
            let expect_valid = t["result"] == "valid";
            let single = match (&key, Signature::from_slice(&sig_bytes)) {
                (Ok(k), Ok(sig)) => k.verify(&msg, &sig).is_ok(),
                _ => false,
            };
            assert_eq!(single, expect_valid, "tcId {} ({}): single", t["tcId"], t["comment"]);
            if let (Ok(k), Ok(sig)) = (&key, Signature::from_slice(&sig_bytes)) {
                // Batch path, alone and mixed with a valid signature: same verdict.
                let good_key = marque::KeyPair::from_seed(&[7; 32]);
                let good_sig = good_key.sign(b"ok");
                let good_pk = good_key.public_key();
                let items = [(&good_pk, &b"ok"[..], &good_sig), (k, &msg[..], &sig)];
                assert_eq!(verify_many(&items).is_ok(), expect_valid, "tcId {}: batch", t["tcId"]);
            }
            if expect_valid { valid += 1 } else { invalid += 1 }
        }
    }
    assert!(valid > 80 && invalid > 60, "{valid} valid / {invalid} invalid cases");
}
