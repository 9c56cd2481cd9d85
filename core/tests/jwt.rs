//! Compact-mode JWT tests: the attack matrix, round trips, agent identity records, agent
//! assertions, and the cross-language vectors in `tests/vectors/jwt.json`.

use std::path::PathBuf;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use marque::identity::{
    sign_agent_assertion, verify_agent_assertion, verify_agent_assertion_with, AgentIdentity,
    AssertionOptions,
};
use marque::jwt::{act_to_chain, chain_to_act, jwt_decode, OneOrMany};
use marque::{jwt_issue, jwt_verify, Claims, JwtKeys, JwtOptions, KeyPair, PublicKey};
use serde_json::{json, Value};
use sha2::Sha256;

const NOW: u64 = 1_700_000_000;

fn issuer() -> KeyPair {
    KeyPair::from_seed(&[1; 32])
}
fn other_issuer() -> KeyPair {
    KeyPair::from_seed(&[2; 32])
}
fn attacker() -> KeyPair {
    KeyPair::from_seed(&[9; 32])
}

fn keys() -> JwtKeys {
    JwtKeys::new().with("k1", issuer().public_key()).with("k2", other_issuer().public_key())
}

fn options() -> JwtOptions {
    JwtOptions::new(NOW).audience("https://tools.example")
}

fn claims_json() -> Value {
    json!({
        "iss": "https://orchestrator.example",
        "sub": "agent:reviewer",
        "aud": "https://tools.example",
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "exp": NOW + 300,
        "jti": "t-1",
        "scope": "read_file search",
    })
}

/// A token with exactly this header and payload text, signed (EdDSA) by `signer`: the header
/// and payload rules are then the only thing that can reject it.
fn forge(header: &str, payload: &str, signer: &KeyPair) -> String {
    let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    let sig = signer.sign(input.as_bytes());
    format!("{input}.{}", B64.encode(sig.to_bytes()))
}

fn hs256(header: &str, payload: &str, secret: &[u8]) -> String {
    let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", B64.encode(mac.finalize().into_bytes()))
}

fn payload() -> String {
    claims_json().to_string()
}

fn code(token: &str, opts: &JwtOptions) -> &'static str {
    match jwt_verify(token, &keys(), opts) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

const H_OK: &str = r#"{"alg":"EdDSA","typ":"JWT","kid":"k1"}"#;

// ---------------------------------------------------------------------------------------------
// The attack matrix
// ---------------------------------------------------------------------------------------------

/// Every attack, as (name, token, expected code), generated deterministically.
fn attacks() -> Vec<(&'static str, String, &'static str)> {
    let kp = issuer();
    let p = payload();
    let pk = kp.public_key();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = claims_json();
        f(&mut v);
        v.to_string()
    };
    let good = forge(H_OK, &p, &kp);
    let huge_header =
        format!(r#"{{"alg":"EdDSA","typ":"JWT","kid":"k1","x":"{}"}}"#, "A".repeat(9000));
    vec![
        ("control_well_formed", good.clone(), "ok"),
        (
            "alg_none_unsigned",
            format!("{}.{}.", B64.encode(r#"{"alg":"none"}"#), B64.encode(&p)),
            "invalid_jwt",
        ),
        ("alg_none_signed", forge(r#"{"alg":"none","kid":"k1"}"#, &p, &kp), "invalid_jwt"),
        ("alg_None_case", forge(r#"{"alg":"None","kid":"k1"}"#, &p, &kp), "invalid_jwt"),
        (
            "alg_hs256_public_key_as_secret",
            hs256(r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#, &p, pk.as_bytes()),
            "invalid_jwt",
        ),
        (
            "alg_hs256_hex_key_as_secret",
            hs256(r#"{"alg":"HS256","typ":"JWT"}"#, &p, pk.to_hex().as_bytes()),
            "invalid_jwt",
        ),
        (
            "alg_hs256_pem_key_as_secret",
            hs256(r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#, &p, pk.to_pem().as_bytes()),
            "invalid_jwt",
        ),
        (
            "alg_hs256_with_eddsa_signature",
            forge(r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#, &p, &kp),
            "invalid_jwt",
        ),
        ("alg_rs256", forge(r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#, &p, &kp), "invalid_jwt"),
        ("alg_es256", forge(r#"{"alg":"ES256","typ":"JWT","kid":"k1"}"#, &p, &kp), "invalid_jwt"),
        (
            "alg_eddsa_lowercase",
            forge(r#"{"alg":"eddsa","typ":"JWT","kid":"k1"}"#, &p, &kp),
            "invalid_jwt",
        ),
        ("alg_missing", forge(r#"{"typ":"JWT","kid":"k1"}"#, &p, &kp), "invalid_jwt"),
        ("alg_not_a_string", forge(r#"{"alg":["EdDSA"],"kid":"k1"}"#, &p, &kp), "invalid_jwt"),
        (
            "embedded_jwk_trusted_signer",
            forge(&format!(r#"{{"alg":"EdDSA","kid":"k1","jwk":{}}}"#, pk.to_jwk_json()), &p, &kp),
            "invalid_jwt",
        ),
        (
            "embedded_jwk_attacker",
            forge(
                &format!(r#"{{"alg":"EdDSA","jwk":{}}}"#, attacker().public_key().to_jwk_json()),
                &p,
                &attacker(),
            ),
            "invalid_jwt",
        ),
        (
            "jku",
            forge(r#"{"alg":"EdDSA","kid":"k1","jku":"https://evil.example/jwks"}"#, &p, &kp),
            "invalid_jwt",
        ),
        (
            "x5u",
            forge(r#"{"alg":"EdDSA","kid":"k1","x5u":"https://evil.example/cert"}"#, &p, &kp),
            "invalid_jwt",
        ),
        ("x5c", forge(r#"{"alg":"EdDSA","kid":"k1","x5c":["MIIB"]}"#, &p, &kp), "invalid_jwt"),
        ("crit", forge(r#"{"alg":"EdDSA","kid":"k1","crit":["exp"]}"#, &p, &kp), "invalid_jwt"),
        (
            "crit_b64",
            forge(r#"{"alg":"EdDSA","kid":"k1","b64":false,"crit":["b64"]}"#, &p, &kp),
            "invalid_jwt",
        ),
        (
            "unknown_header",
            forge(r#"{"alg":"EdDSA","kid":"k1","zip":"DEF"}"#, &p, &kp),
            "invalid_jwt",
        ),
        ("typ_wrong", forge(r#"{"alg":"EdDSA","kid":"k1","typ":"JWE"}"#, &p, &kp), "invalid_jwt"),
        ("huge_header", forge(&huge_header, &p, &kp), "limits_exceeded"),
        (
            "duplicate_header_member",
            forge(r#"{"alg":"EdDSA","kid":"k1","alg":"EdDSA"}"#, &p, &kp),
            "invalid_jwt",
        ),
        (
            "duplicate_claim",
            forge(
                H_OK,
                &p.replacen(
                    "\"sub\":\"agent:reviewer\"",
                    "\"sub\":\"agent:reviewer\",\"sub\":\"agent:admin\"",
                    1,
                ),
                &kp,
            ),
            "invalid_jwt",
        ),
        ("duplicate_exp", forge(H_OK, &format!("{{\"exp\":1,{}", &p[1..]), &kp), "invalid_jwt"),
        (
            "exp_string",
            forge(H_OK, &with(&|v| v["exp"] = json!((NOW + 300).to_string())), &kp),
            "invalid_jwt",
        ),
        ("exp_bool", forge(H_OK, &with(&|v| v["exp"] = json!(true)), &kp), "invalid_jwt"),
        ("exp_null", forge(H_OK, &with(&|v| v["exp"] = Value::Null), &kp), "invalid_jwt"),
        ("exp_negative", forge(H_OK, &with(&|v| v["exp"] = json!(-1)), &kp), "invalid_jwt"),
        (
            "exp_missing",
            forge(
                H_OK,
                &with(&|v| {
                    v.as_object_mut().unwrap().remove("exp");
                }),
                &kp,
            ),
            "invalid_jwt",
        ),
        ("nbf_string", forge(H_OK, &with(&|v| v["nbf"] = json!("0")), &kp), "invalid_jwt"),
        ("iat_string", forge(H_OK, &with(&|v| v["iat"] = json!("0")), &kp), "invalid_jwt"),
        ("expired", forge(H_OK, &with(&|v| v["exp"] = json!(NOW - 31)), &kp), "expired"),
        (
            "expired_at_leeway_edge",
            forge(H_OK, &with(&|v| v["exp"] = json!(NOW - 30)), &kp),
            "expired",
        ),
        ("expired_within_leeway", forge(H_OK, &with(&|v| v["exp"] = json!(NOW - 29)), &kp), "ok"),
        ("nbf_in_future", forge(H_OK, &with(&|v| v["nbf"] = json!(NOW + 31)), &kp), "invalid_jwt"),
        ("nbf_within_leeway", forge(H_OK, &with(&|v| v["nbf"] = json!(NOW + 30)), &kp), "ok"),
        ("iat_in_future", forge(H_OK, &with(&|v| v["iat"] = json!(NOW + 31)), &kp), "invalid_jwt"),
        (
            "aud_wrong",
            forge(H_OK, &with(&|v| v["aud"] = json!("https://other.example")), &kp),
            "invalid_jwt",
        ),
        (
            "aud_array_containing",
            forge(
                H_OK,
                &with(&|v| v["aud"] = json!(["https://x.example", "https://tools.example"])),
                &kp,
            ),
            "ok",
        ),
        (
            "aud_array_not_containing",
            forge(H_OK, &with(&|v| v["aud"] = json!(["https://x.example"])), &kp),
            "invalid_jwt",
        ),
        (
            "aud_missing",
            forge(
                H_OK,
                &with(&|v| {
                    v.as_object_mut().unwrap().remove("aud");
                }),
                &kp,
            ),
            "invalid_jwt",
        ),
        ("aud_number", forge(H_OK, &with(&|v| v["aud"] = json!(5)), &kp), "invalid_jwt"),
        ("unknown_kid", forge(r#"{"alg":"EdDSA","typ":"JWT","kid":"k9"}"#, &p, &kp), "invalid_jwt"),
        ("no_kid_two_keys", forge(r#"{"alg":"EdDSA","typ":"JWT"}"#, &p, &kp), "invalid_jwt"),
        (
            "kid_of_other_key",
            forge(r#"{"alg":"EdDSA","typ":"JWT","kid":"k2"}"#, &p, &kp),
            "invalid_jwt",
        ),
        ("signed_by_attacker", forge(H_OK, &p, &attacker()), "invalid_jwt"),
        (
            "payload_swapped",
            {
                let other = forge(H_OK, &with(&|v| v["sub"] = json!("agent:admin")), &attacker());
                let mut parts: Vec<&str> = good.split('.').collect();
                parts[1] = other.split('.').nth(1).unwrap();
                parts.join(".")
            },
            "invalid_jwt",
        ),
        (
            "padding",
            {
                let mut parts: Vec<String> = good.split('.').map(String::from).collect();
                parts[2].push_str("==");
                parts.join(".")
            },
            "invalid_jwt",
        ),
        (
            "padding_in_payload",
            {
                let h = B64.encode(H_OK);
                // Trailing spaces keep the JSON valid and make the length need padding.
                let spaced =
                    if (p.len() + 1) % 3 == 0 { format!("{p}  ") } else { format!("{p} ") };
                let body = base64::engine::general_purpose::URL_SAFE.encode(spaced);
                assert!(body.ends_with('='));
                let input = format!("{h}.{body}");
                format!("{input}.{}", B64.encode(kp.sign(input.as_bytes()).to_bytes()))
            },
            "invalid_jwt",
        ),
        (
            "standard_alphabet",
            {
                let h = B64.encode(H_OK);
                let mut body = STANDARD.encode(&p).trim_end_matches('=').to_string();
                if !body.contains(['+', '/']) {
                    body.push('+');
                }
                let input = format!("{h}.{body}");
                format!("{input}.{}", B64.encode(kp.sign(input.as_bytes()).to_bytes()))
            },
            "invalid_jwt",
        ),
        (
            "non_canonical_base64",
            {
                // The signature's last character carries 4 unused bits: set one of them.
                let mut t = good.clone();
                let last = t.pop().unwrap();
                let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                let idx = alphabet.find(last).unwrap();
                t.push(alphabet.as_bytes()[(idx & !0xf) | ((idx + 1) & 0xf)] as char);
                t
            },
            "invalid_jwt",
        ),
        ("trailing_dot", format!("{good}."), "invalid_jwt"),
        ("trailing_segment", format!("{good}.e30"), "invalid_jwt"),
        ("leading_space", format!(" {good}"), "invalid_jwt"),
        ("two_segments", good.rsplit_once('.').unwrap().0.to_string(), "invalid_jwt"),
        ("jwe_five_segments", format!("{good}.e30.e30"), "invalid_jwt"),
        ("empty_signature", format!("{}.", good.rsplit_once('.').unwrap().0), "invalid_jwt"),
        ("short_signature", format!("{}.AAAA", good.rsplit_once('.').unwrap().0), "invalid_jwt"),
        ("header_not_object", forge("[\"EdDSA\"]", &p, &kp), "invalid_jwt"),
        ("payload_not_object", forge(H_OK, "[1,2]", &kp), "invalid_jwt"),
        ("payload_not_json", forge(H_OK, "{\"exp\":", &kp), "invalid_jwt"),
        ("payload_trailing_data", forge(H_OK, &format!("{p} x"), &kp), "invalid_jwt"),
        (
            "cnf_private_jwk",
            forge(
                H_OK,
                &with(&|v| {
                    v["cnf"] = json!({"jwk": serde_json::to_value(attacker().to_jwk()).unwrap()})
                }),
                &kp,
            ),
            "invalid_jwt",
        ),
        (
            "act_without_sub",
            forge(H_OK, &with(&|v| v["act"] = json!({"act": {"sub": "x"}})), &kp),
            "invalid_jwt",
        ),
        ("sub_number", forge(H_OK, &with(&|v| v["sub"] = json!(5)), &kp), "invalid_jwt"),
        (
            "alg_ed25519_fully_specified",
            forge(r#"{"alg":"Ed25519","typ":"JWT","kid":"k1"}"#, &p, &kp),
            "ok",
        ),
        ("typ_aip", forge(r#"{"alg":"EdDSA","typ":"aip+jwt","kid":"k1"}"#, &p, &kp), "ok"),
        ("typ_absent", forge(r#"{"alg":"EdDSA","kid":"k1"}"#, &p, &kp), "ok"),
    ]
}

#[test]
fn attack_matrix() {
    let opts = options();
    for (name, token, want) in attacks() {
        assert_eq!(code(&token, &opts), want, "{name}");
    }
}

#[test]
fn each_rejection_is_due_to_its_rule() {
    // The size cap is the only thing wrong with the huge header: lift it and the unknown header
    // parameter is what is left.
    let (_, huge, _) = attacks().into_iter().find(|a| a.0 == "huge_header").unwrap();
    assert_eq!(code(&huge, &options().max_size(64 * 1024)), "invalid_jwt");
    // Wrong audience passes when the verifier wants that audience.
    let (_, wrong_aud, _) = attacks().into_iter().find(|a| a.0 == "aud_wrong").unwrap();
    assert_eq!(code(&wrong_aud, &JwtOptions::new(NOW).audience("https://other.example")), "ok");
    // Expired passes a little earlier; the future nbf passes a minute later.
    let (_, expired, _) = attacks().into_iter().find(|a| a.0 == "expired").unwrap();
    assert_eq!(code(&expired, &JwtOptions::new(NOW - 35).audience("https://tools.example")), "ok");
    let (_, nbf, _) = attacks().into_iter().find(|a| a.0 == "nbf_in_future").unwrap();
    assert_eq!(code(&nbf, &JwtOptions::new(NOW + 60).audience("https://tools.example")), "ok");
    // No kid with a single trusted key is fine.
    let (_, no_kid, _) = attacks().into_iter().find(|a| a.0 == "no_kid_two_keys").unwrap();
    assert!(jwt_verify(&no_kid, &JwtKeys::from(issuer().public_key()), &options()).is_ok());
    // Leeway is configurable.
    let (_, within, _) = attacks().into_iter().find(|a| a.0 == "expired_within_leeway").unwrap();
    assert_eq!(code(&within, &options().leeway_seconds(0)), "expired");
}

#[test]
fn audience_issuer_and_required_claims() {
    let token = jwt_issue(&issuer(), &claims_json(), Some("k1")).unwrap();
    // A token with an audience is refused by a verifier that expects none.
    assert_eq!(code(&token, &JwtOptions::new(NOW)), "invalid_jwt");
    assert_eq!(code(&token, &options().issuer("https://orchestrator.example")), "ok");
    assert_eq!(code(&token, &options().issuer("https://other.example")), "invalid_jwt");
    assert_eq!(code(&token, &options().require("jti").require("scope")), "ok");
    assert_eq!(code(&token, &options().require("task")), "invalid_jwt");
    let no_aud = Claims::new().subject("agent:a").valid_for(NOW, 60);
    let token = jwt_issue(&issuer(), &no_aud, None).unwrap();
    assert!(
        jwt_verify(&token, &JwtKeys::from(issuer().public_key()), &JwtOptions::new(NOW)).is_ok()
    );
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

#[test]
fn issue_and_verify_round_trip() {
    let holder = KeyPair::from_seed(&[5; 32]).public_key();
    let claims = Claims::new()
        .issuer("https://orchestrator.example")
        .subject("agent:reviewer")
        .audiences(["https://tools.example", "https://other.example"])
        .valid_for(NOW, 300)
        .not_before(NOW)
        .jwt_id("t-42")
        .scope("read_file search")
        .actor_chain(&["agent:orchestrator", "agent:planner", "agent:reviewer"])
        .confirmation_key(&holder)
        .task("fix-issue-42")
        .workspace("ws-1")
        .principal("user:alice")
        .claim("role", "reviewer")
        .unwrap();
    let token = jwt_issue(&issuer(), &claims, Some("k1")).unwrap();
    assert_eq!(
        jwt_issue(&issuer(), &claims, Some("k1")).unwrap(),
        token,
        "issuing is deterministic"
    );
    let back = jwt_verify(&token, &keys(), &options()).unwrap();
    assert_eq!(back, claims);
    assert_eq!(back.scopes(), ["read_file", "search"]);
    assert_eq!(back.audiences_list(), ["https://tools.example", "https://other.example"]);
    assert_eq!(back.delegation_chain(), ["agent:orchestrator", "agent:planner", "agent:reviewer"]);
    assert!(back.confirmation_matches(&holder));
    assert!(!back.confirmation_matches(&attacker().public_key()));
    // The header is canonical and carries the kid.
    let parts = jwt_decode(&token).unwrap();
    assert_eq!(Value::Object(parts.header), json!({"alg":"EdDSA","kid":"k1","typ":"JWT"}));
    assert_eq!(
        B64.decode(token.split('.').next().unwrap()).unwrap(),
        br#"{"alg":"EdDSA","kid":"k1","typ":"JWT"}"#
    );
    // Claims from a plain JSON map work too; scope may be an array.
    let map = json!({"sub": "agent:x", "exp": NOW + 5, "scope": ["a", "b"], "n": 1.5});
    let back = jwt_verify(
        &jwt_issue(&issuer(), &map, None).unwrap(),
        &JwtKeys::from(issuer().public_key()),
        &JwtOptions::new(NOW),
    )
    .unwrap();
    assert_eq!(back.scope, Some(OneOrMany::Many(vec!["a".into(), "b".into()])));
    assert_eq!(back.extra["n"], json!(1.5));
    // Fractional NumericDates are accepted.
    let frac = json!({"exp": NOW as f64 + 0.5});
    let t = jwt_issue(&issuer(), &frac, None).unwrap();
    let c =
        jwt_verify(&t, &JwtKeys::from(issuer().public_key()), &JwtOptions::new(NOW - 100)).unwrap();
    assert_eq!(c.exp, Some(NOW));
}

#[test]
fn issuing_refuses_what_verifying_would() {
    let kp = issuer();
    for (claims, why) in [
        (json!({"sub": "a"}), "no exp"),
        (json!({"exp": "soon"}), "exp not a number"),
        (json!({"exp": -5}), "negative exp"),
        (json!([1]), "not an object"),
        (json!({"exp": 5, "aud": 7}), "aud not a string"),
        (json!({"exp": 5, "act": {"x": 1}}), "act without sub"),
    ] {
        assert_eq!(jwt_issue(&kp, &claims, None).unwrap_err().code(), "invalid_argument", "{why}");
    }
    assert_eq!(
        jwt_issue(&kp, &json!({"exp": 5}), Some("bad\nkid")).unwrap_err().code(),
        "invalid_argument"
    );
    assert_eq!(
        jwt_issue(&kp, &json!({"exp": f64::NAN}), None).unwrap_err().code(),
        "invalid_argument"
    );
    let mut c = Claims::new().valid_for(NOW, 5);
    c.extra.insert("exp".into(), json!(1));
    assert_eq!(
        jwt_issue(&kp, &c, None).unwrap_err().code(),
        "invalid_argument",
        "duplicate exp via extra"
    );
}

#[test]
fn act_chains() {
    let chain = vec!["agent:root".to_string(), "agent:a".into(), "agent:b".into()];
    let act = chain_to_act(&chain).unwrap();
    assert_eq!(
        serde_json::to_value(&act).unwrap(),
        json!({"sub":"agent:b","act":{"sub":"agent:a","act":{"sub":"agent:root"}}})
    );
    assert_eq!(act_to_chain(&act), chain);
    assert_eq!(Claims::new().actor_chain(&["agent:solo"]).delegation_chain(), ["agent:solo"]);
    assert!(Claims::new().delegation_chain().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Agent identity records
// ---------------------------------------------------------------------------------------------

const SEED: [u8; 32] = [7; 32];

fn agent_key() -> KeyPair {
    KeyPair::from_seed(&SEED)
}

fn record(key: Value) -> Value {
    json!({
        "workspace_id": "ws_123",
        "agent_runtime_id": "rt_abc",
        "agent_private_key": key,
        "chatgpt_user_id": "user-xyz",
        "registered_at": "2025-11-01T12:00:00Z",
        "label": "ci runner",
    })
}

fn pkcs8_der_base64() -> String {
    let pem = agent_key().to_pem().unwrap();
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

fn key_encodings() -> Vec<(&'static str, Value)> {
    let kp = agent_key();
    vec![
        ("hex_seed", json!(&*kp.to_hex())),
        ("pkcs8_pem", json!(&*kp.to_pem().unwrap())),
        ("base64_seed", json!(STANDARD.encode(SEED))),
        ("base64url_seed_unpadded", json!(B64.encode(SEED))),
        ("base64_pkcs8_der", json!(pkcs8_der_base64())),
        ("private_jwk", serde_json::to_value(kp.to_jwk()).unwrap()),
    ]
}

#[test]
fn identity_records_from_json_in_every_key_encoding() {
    for (name, key) in key_encodings() {
        let id = AgentIdentity::from_json(&record(key).to_string())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(id.public_key(), agent_key().public_key(), "{name}");
        assert_eq!(id.agent_id(), "agent:rt_abc");
        assert_eq!(id.workspace_id(), "ws_123");
        assert_eq!(id.agent_runtime_id(), "rt_abc");
        assert_eq!(id.chatgpt_user_id(), Some("user-xyz"));
        assert_eq!(id.registered_at(), Some(&json!("2025-11-01T12:00:00Z")));
        assert_eq!(id.extra()["label"], "ci runner");
        assert!(!id.extra().contains_key("agent_private_key"));
        let dbg = format!("{id:?}");
        assert!(dbg.contains("redacted"), "{name}");
        for secret in [
            agent_key().to_hex().to_string(),
            STANDARD.encode(SEED),
            B64.encode(SEED),
            pkcs8_der_base64(),
        ] {
            assert!(!dbg.contains(&secret), "{name}: Debug leaks the key");
        }
    }
}

#[test]
fn identity_records_refuse_bad_input() {
    let good = record(json!(&*agent_key().to_hex()));
    for field in ["workspace_id", "agent_runtime_id", "agent_private_key"] {
        let mut r = good.clone();
        r.as_object_mut().unwrap().remove(field);
        let err = AgentIdentity::from_json(&r.to_string()).unwrap_err();
        assert_eq!(err.code(), "invalid_argument", "{field}");
        assert!(err.message().contains(field), "the error names {field}: {}", err.message());
    }
    let mut r = good.clone();
    r["workspace_id"] = json!(5);
    assert_eq!(AgentIdentity::from_json(&r.to_string()).unwrap_err().code(), "invalid_argument");
    let mut r = good.clone();
    r["agent_runtime_id"] = json!("a/b");
    assert_eq!(AgentIdentity::from_json(&r.to_string()).unwrap_err().code(), "invalid_argument");
    for bad_key in [json!("not a key"), json!("00"), json!(5), json!(B64.encode([1u8; 31]))] {
        let mut r = good.clone();
        r["agent_private_key"] = bad_key.clone();
        let err = AgentIdentity::from_json(&r.to_string()).unwrap_err();
        assert_eq!(err.code(), "invalid_key", "{bad_key}");
    }
    assert_eq!(AgentIdentity::from_json("[1]").unwrap_err().code(), "invalid_argument");
    let dup = good.to_string().replacen("{", "{\"workspace_id\":\"other\",", 1);
    assert_eq!(AgentIdentity::from_json(&dup).unwrap_err().code(), "invalid_argument");
    let huge = format!("{{\"x\":\"{}\"}}", "a".repeat(70 * 1024));
    assert_eq!(AgentIdentity::from_json(&huge).unwrap_err().code(), "limits_exceeded");
}

fn record_jwts() -> (String, String, String) {
    let payload = record(json!(&*agent_key().to_hex())).to_string();
    let unsigned =
        format!("{}.{}.", B64.encode(r#"{"alg":"none","typ":"JWT"}"#), B64.encode(&payload));
    let unsigned = format!("{unsigned}{}", B64.encode(b"x"));
    let signed = forge(r#"{"alg":"EdDSA","typ":"JWT"}"#, &payload, &issuer());
    let hmac = hs256(r#"{"alg":"HS256","typ":"JWT"}"#, &payload, issuer().public_key().as_bytes());
    (unsigned, signed, hmac)
}

#[test]
fn identity_records_from_jwts() {
    let (unsigned, signed, hmac) = record_jwts();
    let trusted = issuer().public_key();
    // Without a key: decoded only, whatever the algorithm.
    for token in [&unsigned, &signed, &hmac] {
        let id = AgentIdentity::from_jwt(token, None).unwrap();
        assert_eq!(id.public_key(), agent_key().public_key());
        assert_eq!(AgentIdentity::parse(token, None).unwrap().agent_id(), "agent:rt_abc");
    }
    // With a key: verified strictly.
    assert_eq!(AgentIdentity::from_jwt(&signed, Some(&trusted)).unwrap().workspace_id(), "ws_123");
    assert_eq!(
        AgentIdentity::parse(&format!("  {signed}\n"), Some(&trusted)).unwrap().workspace_id(),
        "ws_123"
    );
    for (name, token) in [("unsigned", &unsigned), ("hmac", &hmac)] {
        assert_eq!(
            AgentIdentity::from_jwt(token, Some(&trusted)).unwrap_err().code(),
            "invalid_jwt",
            "{name}"
        );
    }
    let wrong = attacker().public_key();
    assert_eq!(AgentIdentity::from_jwt(&signed, Some(&wrong)).unwrap_err().code(), "invalid_jwt");
    // A key cannot be honoured for plain JSON.
    let json = record(json!(&*agent_key().to_hex())).to_string();
    assert_eq!(
        AgentIdentity::parse(&json, Some(&trusted)).unwrap_err().code(),
        "invalid_signature"
    );
    assert!(AgentIdentity::parse(&json, None).is_ok());
    assert_eq!(AgentIdentity::parse("garbage", None).unwrap_err().code(), "invalid_jwt");
}

#[cfg(feature = "std")]
#[test]
fn identity_records_from_files_and_the_environment() {
    let dir = std::env::temp_dir().join(format!("marque-identity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_, signed, _) = record_jwts();
    let json_path = dir.join("identity.json");
    let jwt_path = dir.join("identity.jwt");
    std::fs::write(&json_path, record(json!(pkcs8_der_base64())).to_string()).unwrap();
    std::fs::write(&jwt_path, format!("{signed}\n")).unwrap();
    let trusted = issuer().public_key();

    assert_eq!(
        AgentIdentity::from_file(&json_path, None).unwrap().public_key(),
        agent_key().public_key()
    );
    assert_eq!(
        AgentIdentity::from_file(&jwt_path, Some(&trusted)).unwrap().agent_id(),
        "agent:rt_abc"
    );
    assert_eq!(
        AgentIdentity::from_file(&jwt_path, Some(&attacker().public_key())).unwrap_err().code(),
        "invalid_jwt"
    );
    assert_eq!(
        AgentIdentity::from_file(dir.join("missing"), None).unwrap_err().code(),
        "invalid_argument"
    );

    // The only test in this binary that touches MARQUE_AGENT_IDENTITY.
    std::env::set_var("MARQUE_AGENT_IDENTITY", record(json!(B64.encode(SEED))).to_string());
    assert_eq!(AgentIdentity::from_env(None).unwrap().public_key(), agent_key().public_key());
    std::env::set_var("MARQUE_AGENT_IDENTITY", &signed);
    assert_eq!(AgentIdentity::from_env(Some(&trusted)).unwrap().workspace_id(), "ws_123");
    assert_eq!(
        AgentIdentity::from_env(Some(&attacker().public_key())).unwrap_err().code(),
        "invalid_jwt"
    );
    std::env::set_var("MARQUE_AGENT_IDENTITY", format!("@{}", jwt_path.display()));
    assert_eq!(AgentIdentity::from_env(Some(&trusted)).unwrap().agent_id(), "agent:rt_abc");
    std::env::remove_var("MARQUE_AGENT_IDENTITY");
    assert_eq!(AgentIdentity::from_env(None).unwrap_err().code(), "invalid_argument");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Agent assertions (Codex-style `Authorization: AgentAssertion …`)
// ---------------------------------------------------------------------------------------------

/// Builds an assertion the way the Go reference builds it: `json.Marshal` of a string map
/// (sorted keys), standard base64 signature, unpadded base64url envelope.
fn go_style_assertion(kp: &KeyPair, runtime: &str, task: &str, timestamp: &str) -> String {
    let sig =
        STANDARD.encode(kp.sign(format!("{runtime}:{task}:{timestamp}").as_bytes()).to_bytes());
    let body = format!(
        r#"{{"agent_runtime_id":"{runtime}","signature":"{sig}","task_id":"{task}","timestamp":"{timestamp}"}}"#
    );
    format!("AgentAssertion {}", B64.encode(body))
}

#[test]
fn agent_assertions() {
    let kp = agent_key();
    let pk = kp.public_key();
    let opts = AssertionOptions::new(NOW);
    let header = sign_agent_assertion(&kp, "rt_abc", "task_1", NOW).unwrap();
    let ok = verify_agent_assertion(&header, &pk, &opts).unwrap();
    assert_eq!(
        (ok.agent_runtime_id.as_str(), ok.task_id.as_str(), ok.timestamp),
        ("rt_abc", "task_1", NOW)
    );
    // The Go wire format, with an RFC 3339 timestamp.
    let go = go_style_assertion(&kp, "rt_abc", "task_1", "2023-11-14T22:13:20Z");
    assert_eq!(verify_agent_assertion(&go, &pk, &opts).unwrap().timestamp, NOW);
    assert_eq!(go, header, "our encoder produces the same bytes as the Go reference");
    // Bare payload (no scheme), padded base64, a numeric timestamp.
    let bare = header.strip_prefix("AgentAssertion ").unwrap();
    assert!(verify_agent_assertion(bare, &pk, &opts).is_ok());
    let raw = B64.decode(bare).unwrap();
    assert!(verify_agent_assertion(
        &base64::engine::general_purpose::URL_SAFE.encode(&raw),
        &pk,
        &opts
    )
    .is_ok());
    let sig = STANDARD.encode(kp.sign(format!("rt_abc:task_1:{NOW}").as_bytes()).to_bytes());
    let numeric = B64.encode(
        json!({"agent_runtime_id":"rt_abc","task_id":"task_1","timestamp":NOW,"signature":sig})
            .to_string(),
    );
    assert_eq!(verify_agent_assertion(&numeric, &pk, &opts).unwrap().timestamp, NOW);
    // Freshness: 60 s either way by default.
    assert!(verify_agent_assertion(&header, &pk, &AssertionOptions::new(NOW + 60)).is_ok());
    assert_eq!(
        verify_agent_assertion(&header, &pk, &AssertionOptions::new(NOW + 61)).unwrap_err().code(),
        "expired"
    );
    assert_eq!(
        verify_agent_assertion(&header, &pk, &AssertionOptions::new(NOW - 61)).unwrap_err().code(),
        "invalid_proof"
    );
    assert!(verify_agent_assertion(
        &header,
        &pk,
        &AssertionOptions::new(NOW + 100).window_seconds(120)
    )
    .is_ok());
    // Wrong key, tampered fields, wrong scheme, junk, extra members, oversize.
    assert_eq!(
        verify_agent_assertion(&header, &attacker().public_key(), &opts).unwrap_err().code(),
        "invalid_proof"
    );
    let forged_task = {
        let mut v: Value = serde_json::from_slice(&raw).unwrap();
        v["task_id"] = json!("task_2");
        format!("AgentAssertion {}", B64.encode(v.to_string()))
    };
    assert_eq!(
        verify_agent_assertion(&forged_task, &pk, &opts).unwrap_err().code(),
        "invalid_proof"
    );
    assert_eq!(
        verify_agent_assertion(&format!("Bearer {bare}"), &pk, &opts).unwrap_err().code(),
        "invalid_proof"
    );
    assert_eq!(
        verify_agent_assertion("AgentAssertion !!!", &pk, &opts).unwrap_err().code(),
        "invalid_proof"
    );
    let mut extra: Value = serde_json::from_slice(&raw).unwrap();
    extra["admin"] = json!(true);
    assert_eq!(
        verify_agent_assertion(&B64.encode(extra.to_string()), &pk, &opts).unwrap_err().code(),
        "invalid_proof"
    );
    assert_eq!(
        verify_agent_assertion(&"A".repeat(9000), &pk, &opts).unwrap_err().code(),
        "limits_exceeded"
    );
    // Key lookup by runtime id.
    let lookup = |id: &str| (id == "rt_abc").then_some(pk);
    assert!(verify_agent_assertion_with(&header, lookup, &opts).is_ok());
    let other = sign_agent_assertion(&kp, "rt_zzz", "task_1", NOW).unwrap();
    assert_eq!(
        verify_agent_assertion_with(&other, lookup, &opts).unwrap_err().code(),
        "invalid_proof"
    );
    // From an identity record.
    let id = AgentIdentity::from_json(&record(json!(&*kp.to_hex())).to_string()).unwrap();
    assert_eq!(id.sign_assertion("task_1", NOW).unwrap(), header);
}

// ---------------------------------------------------------------------------------------------
// Cross-language vectors
// ---------------------------------------------------------------------------------------------

fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn key_json(kid: Option<&str>, pk: &PublicKey) -> Value {
    json!({"kid": kid, "public_hex": pk.to_hex()})
}

fn vectors() -> Value {
    let issue_claims = vec![
        (Some("k1"), claims_json()),
        (
            None,
            serde_json::to_value(
                Claims::new()
                    .subject("agent:reviewer")
                    .audience("https://tools.example")
                    .valid_for(NOW, 60)
                    .actor_chain(&["agent:orchestrator", "agent:reviewer"])
                    .confirmation_thumbprint(&agent_key().public_key())
                    .principal("user:alice")
                    .task("fix-issue-42")
                    .workspace("ws_123"),
            )
            .unwrap(),
        ),
    ];
    let issue: Vec<Value> = issue_claims
        .into_iter()
        .map(|(kid, claims)| {
            json!({
                "signer_seed_hex": &*issuer().to_hex(),
                "kid": kid,
                "claims": claims,
                "token": jwt_issue(&issuer(), &claims, kid).unwrap(),
            })
        })
        .collect();
    let trusted = vec![
        key_json(Some("k1"), &issuer().public_key()),
        key_json(Some("k2"), &other_issuer().public_key()),
    ];
    let opts = options();
    let verify: Vec<Value> = attacks()
        .into_iter()
        .map(|(name, token, want)| {
            let expected = match jwt_verify(&token, &keys(), &opts) {
                Ok(c) => json!({"claims": c}),
                Err(e) => json!({"error": e.code()}),
            };
            assert_eq!(
                expected.get("error").and_then(Value::as_str).unwrap_or("ok"),
                want,
                "{name}"
            );
            json!({"name": name, "token": token, "expected": expected})
        })
        .collect();
    let (unsigned, signed, hmac) = record_jwts();
    let mut identity: Vec<Value> = key_encodings()
        .into_iter()
        .map(|(name, key)| json!({"name": name, "record": record(key).to_string(), "trusted_public_hex": null,
            "expected": {"agent_id": "agent:rt_abc", "workspace_id": "ws_123", "public_hex": agent_key().public_key().to_hex()}}))
        .collect();
    let issuer_hex = issuer().public_key().to_hex();
    for (name, text, key, want) in [
        ("jwt_signed_verified", signed.clone(), Some(issuer_hex.clone()), None),
        ("jwt_signed_decoded", signed.clone(), None, None),
        ("jwt_unsigned_decoded", unsigned.clone(), None, None),
        ("jwt_unsigned_with_key", unsigned, Some(issuer_hex.clone()), Some("invalid_jwt")),
        ("jwt_hs256_with_key", hmac, Some(issuer_hex.clone()), Some("invalid_jwt")),
        ("jwt_wrong_key", signed, Some(attacker().public_key().to_hex()), Some("invalid_jwt")),
        (
            "json_with_key",
            record(json!(&*agent_key().to_hex())).to_string(),
            Some(issuer_hex.clone()),
            Some("invalid_signature"),
        ),
        (
            "missing_workspace_id",
            json!({"agent_runtime_id": "rt", "agent_private_key": &*agent_key().to_hex()})
                .to_string(),
            None,
            Some("invalid_argument"),
        ),
        ("bad_private_key", record(json!("nope")).to_string(), None, Some("invalid_key")),
    ] {
        let trusted = key.as_deref().map(|h| PublicKey::from_hex(h).unwrap());
        let got = AgentIdentity::parse(&text, trusted.as_ref());
        let expected = match (&got, want) {
            (Ok(id), None) => {
                json!({"agent_id": id.agent_id(), "workspace_id": id.workspace_id(), "public_hex": id.public_key().to_hex()})
            }
            (Err(e), Some(code)) if e.code() == code => json!({"error": code}),
            _ => panic!("identity vector {name}: {got:?}"),
        };
        identity.push(
            json!({"name": name, "record": text, "trusted_public_hex": key, "expected": expected}),
        );
    }
    let kp = agent_key();
    let header = sign_agent_assertion(&kp, "rt_abc", "task_1", NOW).unwrap();
    let assertions: Vec<Value> = [
        ("fresh", header.clone(), NOW, None),
        ("at_window_edge", header.clone(), NOW + 60, None),
        ("stale", header.clone(), NOW + 61, Some("expired")),
        ("from_the_future", header.clone(), NOW - 61, Some("invalid_proof")),
        ("go_reference_format", go_style_assertion(&kp, "rt_abc", "task_9", "2023-11-14T22:13:30Z"), NOW, None),
        ("wrong_signer", sign_agent_assertion(&attacker(), "rt_abc", "task_1", NOW).unwrap(), NOW, Some("invalid_proof")),
    ]
    .into_iter()
    .map(|(name, header, now, want)| {
        let got = verify_agent_assertion(&header, &kp.public_key(), &AssertionOptions::new(now));
        let expected = match (&got, want) {
            (Ok(a), None) => json!({"agent_runtime_id": a.agent_runtime_id, "task_id": a.task_id, "timestamp": a.timestamp}),
            (Err(e), Some(code)) if e.code() == code => json!({"error": code}),
            _ => panic!("assertion vector {name}: {got:?}"),
        };
        json!({"name": name, "header": header, "now": now, "window_seconds": 60, "expected": expected})
    })
    .collect();
    let act: Vec<Value> = [vec!["agent:solo"], vec!["agent:root", "agent:a", "agent:b"]]
        .iter()
        .map(|chain| json!({"chain": chain, "act": chain_to_act(chain)}))
        .collect();
    json!({
        "description": "Compact-mode JWTs, agent identity records and agent assertions. Generated by \
            core/tests/jwt.rs (MARQUE_REGEN_VECTORS=1 cargo test -p marque --test jwt); expected \
            errors are codes.",
        "issue": issue,
        "verify_keys": trusted,
        "verify_options": {"now": NOW, "audience": "https://tools.example", "leeway_seconds": 30, "max_size": 8192},
        "verify": verify,
        "act": act,
        "identity_records": identity,
        "agent_assertion_key_hex": kp.public_key().to_hex(),
        "agent_assertions": assertions,
    })
}

#[test]
fn cross_language_vectors_are_up_to_date() {
    let path = repo_path("tests/vectors/jwt.json");
    let text = format!("{}\n", serde_json::to_string_pretty(&vectors()).unwrap());
    if std::env::var_os("MARQUE_REGEN_VECTORS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!("{} is missing: run with MARQUE_REGEN_VECTORS=1", path.display())
    });
    assert!(
        on_disk == text,
        "{} is stale: run MARQUE_REGEN_VECTORS=1 cargo test -p marque --test jwt",
        path.display()
    );
    // Issued tokens in the file verify with the listed keys.
    let v: Value = serde_json::from_str(&on_disk).unwrap();
    for case in v["issue"].as_array().unwrap() {
        let token = case["token"].as_str().unwrap();
        let claims = jwt_verify(token, &JwtKeys::from(issuer().public_key()), &options()).unwrap();
        assert_eq!(serde_json::to_value(claims).unwrap(), case["claims"]);
    }
}

/// Times are seconds (marque::clock): a millisecond `exp` is refused at issue (it would be valid
/// for millennia) and when received, a millisecond verification time is refused, and agent
/// assertions refuse a millisecond `now` on both sides.
#[test]
fn millisecond_times_are_refused() {
    let ms = NOW * 1000;
    let code = |r: marque::Result<String>| r.unwrap_err().code();
    for name in ["exp", "nbf", "iat"] {
        let mut c = claims_json();
        c[name] = json!(ms);
        assert_eq!(code(jwt_issue(&issuer(), &c, Some("k1"))), "invalid_argument", "{name}");
        // Received from another issuer that used milliseconds: refused, never read as "forever".
        let token = forge(r#"{"alg":"EdDSA","kid":"k1"}"#, &c.to_string(), &issuer());
        let e = jwt_verify(&token, &keys(), &options()).unwrap_err();
        assert!(e.code() == "invalid_jwt" && e.message().contains("milliseconds"), "{name}: {e}");
    }
    let token = jwt_issue(&issuer(), &claims_json(), Some("k1")).unwrap();
    let e = jwt_verify(&token, &keys(), &JwtOptions::new(ms).audience("https://tools.example")).unwrap_err();
    assert!(e.code() == "invalid_argument" && e.message().contains("milliseconds"), "{e}");

    let key = issuer();
    assert_eq!(code(sign_agent_assertion(&key, "agent:a", "task", ms)), "invalid_argument");
    let header = sign_agent_assertion(&key, "agent:a", "task", NOW).unwrap();
    let e = verify_agent_assertion(&header, &key.public_key(), &AssertionOptions::new(ms)).unwrap_err();
    assert_eq!(e.code(), "invalid_argument");
}
