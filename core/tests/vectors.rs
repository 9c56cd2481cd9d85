//! Shared test vectors: `tests/vectors/tokens.json`, checked here and by every binding.
//!
//! Regenerate with `MARQUE_REGEN_VECTORS=1 cargo test -p marque --test vectors`. Tokens carry
//! random ephemeral keys (Biscuit's attenuation keys) and proofs random nonces, so regenerating
//! changes bytes; what must never change is the *meaning*: this test re-checks every committed
//! case against the core, and every binding checks the same bytes.

use marque::delegate::DelegateParams;
use marque::policy::{Request, Right};
use marque::token::MintParams;
use marque::{KeyPair, RevocationSet, Token, Verifier};
use serde_json::{json, Value};

const NOW: u64 = 1_767_225_600;

fn path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/tokens.json")
}

fn key(seed: u8) -> KeyPair {
    KeyPair::from_seed(&[seed; 32])
}

fn generate() -> Value {
    let names = [("root", 1u8), ("orchestrator", 2), ("agent_a", 3), ("agent_c", 4), ("other_root", 9)];
    let k = |n: &str| key(names.iter().find(|(m, _)| *m == n).map(|(_, s)| *s).unwrap_or(0));
    let t0 = Token::mint(
        &k("root"),
        &MintParams::new("agent:orchestrator", k("orchestrator").public_key(), "user:alice")
            .task("fix-issue-42")
            .workspace("acme/web")
            .right(Right::new("read_file", "read", "*"))
            .right(Right::new("write_file", "write", "*"))
            .ttl_seconds(3600)
            .now(NOW),
    )
    .unwrap();
    let ta = t0
        .delegate(
            &k("orchestrator"),
            &DelegateParams::new("agent:agent_a", k("agent_a").public_key())
                .tools(["read_file"])
                .operations(["read"])
                .resource_prefix("src/")
                .ttl_seconds(1800)
                .now(NOW),
        )
        .unwrap();
    let tc = ta
        .delegate(&k("agent_a"), &DelegateParams::new("agent:agent_c", k("agent_c").public_key()).resource_prefix("src/main.rs").now(NOW))
        .unwrap();
    let foreign = Token::mint(
        &k("other_root"),
        &MintParams::new("agent:orchestrator", k("orchestrator").public_key(), "user:alice").right(Right::new("*", "*", "*")).now(NOW),
    )
    .unwrap();
    // A hop by agent_c that is valid in every respect except that its next block key is P-256:
    // marque tokens are Ed25519 only, in every runtime (the bindings' biscuit-auth has no P-256).
    let p256_hop = {
        use biscuit_auth::{builder::BlockBuilder, UnverifiedBiscuit};
        let ub = UnverifiedBiscuit::from(tc.to_bytes()).unwrap();
        let code = format!(
            "hop(\"agent:d\", hex:{});\ncheck if time($time), $time <= 2026-01-01T00:10:00Z;",
            k("other_root").public_key().to_hex()
        );
        let holder = biscuit_auth::PrivateKey::from_bytes(&k("agent_c").to_seed()[..], biscuit_auth::Algorithm::Ed25519).unwrap();
        let block = ub.third_party_request().unwrap().create_block(&holder, BlockBuilder::new().code(&code).unwrap()).unwrap();
        let next = biscuit_auth::KeyPair::new_with_algorithm(biscuit_auth::Algorithm::Secp256r1);
        base64_url(&ub.append_third_party_with_keypair(&block.serialize().unwrap(), next).unwrap().to_vec().unwrap())
    };
    // One bit of a delegation block's signature flipped.
    let tampered = {
        use prost::Message as _;
        let mut raw = biscuit_auth::format::schema::Biscuit::decode(tc.to_bytes()).unwrap();
        raw.blocks[0].signature[10] ^= 0x20;
        base64_url(&raw.encode_to_vec())
    };
    let read_main = Request::new("read_file", "read", "src/main.rs");
    let proof_ok = tc.sign_proof(&k("agent_c"), &read_main, Some(NOW)).unwrap();
    let proof_by_a = marque::proof::sign_proof(
        &k("agent_a"),
        tc.to_bytes(),
        &marque::proof::ProofRequest::new("read_file", "read", "src/main.rs"),
        NOW,
    )
    .unwrap();
    let mut revoke_hop1 = RevocationSet::new();
    revoke_hop1.revoke(&tc.revocation_ids()[1]).unwrap();
    let mut revoke_agent = RevocationSet::new();
    revoke_agent.revoke_agent("agent:agent_c").unwrap();

    let case = |name: &str, token: &str, tool: &str, op: &str, res: &str, now: u64, proof: Option<&str>, rev: Option<&RevocationSet>| {
        json!({
            "name": name, "token": token, "root": "root",
            "request": {"tool": tool, "operation": op, "resource": res},
            "now": now, "proof": proof,
            "revocations": rev.map(|r| serde_json::from_str::<Value>(&r.to_json()).unwrap()),
        })
    };
    let mut cases = vec![
        case("agent_c reads its file", "agent_c", "read_file", "read", "src/main.rs", NOW + 10, None, None),
        case("agent_c reads another file", "agent_c", "read_file", "read", "src/lib.rs", NOW + 10, None, None),
        case("agent_a reads under src/", "agent_a", "read_file", "read", "src/lib.rs", NOW + 10, None, None),
        case("agent_a cannot write", "agent_a", "write_file", "write", "src/lib.rs", NOW + 10, None, None),
        case("orchestrator writes", "root_token", "write_file", "write", "docs/x.md", NOW + 10, None, None),
        case("no right covers deploy", "root_token", "deploy", "run", "prod/web", NOW + 10, None, None),
        case("agent_c after its expiry", "agent_c", "read_file", "read", "src/main.rs", NOW + 1801, None, None),
        case("hop 1 revoked", "agent_c", "read_file", "read", "src/main.rs", NOW + 10, None, Some(&revoke_hop1)),
        case("agent_c revoked", "agent_c", "read_file", "read", "src/main.rs", NOW + 10, None, Some(&revoke_agent)),
        case("proof by the holder", "agent_c", "read_file", "read", "src/main.rs", NOW + 5, Some(&proof_ok), None),
        case("proof for another resource", "agent_c", "read_file", "read", "src/lib.rs", NOW + 5, Some(&proof_ok), None),
        case("proof signed by another agent", "agent_c", "read_file", "read", "src/main.rs", NOW + 5, Some(&proof_by_a), None),
        case("stale proof", "agent_c", "read_file", "read", "src/main.rs", NOW + 120, Some(&proof_ok), None),
        case("foreign root", "foreign", "read_file", "read", "src/main.rs", NOW + 10, None, None),
        case("tampered token", "tampered", "read_file", "read", "src/main.rs", NOW + 10, None, None),
        case("a P-256 key in a hop", "p256_hop", "read_file", "read", "src/main.rs", NOW + 10, None, None),
    ];
    let tokens = json!({
        "root_token": t0.to_base64(), "agent_a": ta.to_base64(), "agent_c": tc.to_base64(),
        "foreign": foreign.to_base64(), "tampered": tampered, "p256_hop": p256_hop,
    });
    // Expected results come from running the core on the fresh inputs.
    let doc = json!({"version": 1, "now": NOW, "tokens": tokens, "cases": []});
    for c in cases.iter_mut() {
        let expect = run_case(&doc, c, &|n| k(n));
        c["expect"] = expect;
    }
    json!({
        "version": 1,
        "description": "marque token vectors: every runtime must reach the same decision or error code for each case",
        "now": NOW,
        "root": {"seed_hex": *k("root").to_hex(), "public_hex": k("root").public_key().to_hex()},
        "keys": names.iter().map(|(n, s)| (n.to_string(), json!({"seed_hex": *key(*s).to_hex(), "public_hex": key(*s).public_key().to_hex()}))).collect::<serde_json::Map<_, _>>(),
        "tokens": tokens,
        "cases": cases,
    })
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

/// Runs one case through the core and returns its `expect` object.
fn run_case(doc: &Value, case: &Value, key_of: &dyn Fn(&str) -> KeyPair) -> Value {
    let token = doc["tokens"][case["token"].as_str().unwrap()].as_str().unwrap();
    let verifier = Verifier::new([key_of(case["root"].as_str().unwrap()).public_key()]);
    if let Some(rev) = case.get("revocations").filter(|r| !r.is_null()) {
        verifier.merge_revocations(&RevocationSet::from_json(&rev.to_string()).unwrap()).unwrap();
    }
    let r = &case["request"];
    let request = Request::new(r["tool"].as_str().unwrap(), r["operation"].as_str().unwrap(), r["resource"].as_str().unwrap());
    match verifier.authorize_base64(token, &request, case["proof"].as_str(), case["now"].as_u64()) {
        Ok(d) => json!({
            "allowed": d.allowed, "code": d.code, "agent": d.agent, "path": d.path,
            "chain": d.chain, "policy": d.policy,
        }),
        Err(e) => json!({"error": e.code()}),
    }
}

#[test]
fn committed_vectors_hold() {
    if std::env::var_os("MARQUE_REGEN_VECTORS").is_some() {
        let doc = generate();
        std::fs::create_dir_all(path().parent().unwrap()).unwrap();
        std::fs::write(path(), serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    }
    let text = std::fs::read_to_string(path()).expect("tests/vectors/tokens.json (regenerate with MARQUE_REGEN_VECTORS=1)");
    let doc: Value = serde_json::from_str(&text).unwrap();
    let keys = doc["keys"].clone();
    let key_of = move |n: &str| KeyPair::from_hex(keys[n]["seed_hex"].as_str().unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    let mut codes = std::collections::BTreeSet::new();
    for case in cases {
        let got = run_case(&doc, case, &key_of);
        assert_eq!(got, case["expect"], "case {:?}", case["name"]);
        codes.insert(got.get("code").and_then(Value::as_str).or(got.get("error").and_then(Value::as_str)).unwrap_or("allowed").to_string());
    }
    // The vectors exercise every outcome the bindings must reproduce.
    for c in ["allowed", "not_authorized", "expired", "revoked", "invalid_proof", "unknown_root_key", "invalid_signature"] {
        assert!(codes.contains(c), "vectors lack an outcome {c}: {codes:?}");
    }
}
