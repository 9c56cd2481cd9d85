//! The Rego vectors (`tests/vectors/rego.json`): the users' policy
//! (`tests/vectors/rego/agent_authz.rego`, verbatim) run by a verifier on signed tokens, with
//! the decision every runtime must reach — allowed or the denial code, and the `policy` that
//! decided (`name@version#rule`) — and policies that must be refused when they are loaded.
//! This test generates the cases with the core, replays them, compares them with the committed
//! file (token and approval bytes aside) and replays the committed file. Regenerate with
//! `MARQUE_REGEN_VECTORS=1 cargo test -p marque --features rego --test rego_vectors`. Python
//! (`tests/python/test_vectors_rego.py`) and both JS packages (`tests/js/vectors-rego.test.mjs`;
//! for Wasm, the Rego build) replay the same file through their bindings.
#![cfg(feature = "rego")]

use std::collections::BTreeMap;

use marque::approval::{request_digest, sign_approval_with_nonce};
use marque::rego::RegoPolicy;
use marque::{KeyPair, MintParams, Request, Right, Token, Verifier};
use serde_json::{json, Value};

const NOW: u64 = 1_767_225_600;
const POLICY_FILE: &str = "rego/agent_authz.rego";

fn vectors_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn seed(n: u8) -> [u8; 32] {
    [n; 32]
}

/// The agents: name → (agent id, seed). `stranger` has no role.
const AGENTS: [(&str, &str, u8); 3] = [("reviewer", "agent:reviewer", 2), ("deployer", "agent:deployer", 3), ("stranger", "agent:stranger", 4)];

fn token(agent: &str, n: u8) -> Token {
    let params = MintParams::new(agent, KeyPair::from_seed(&seed(n)).public_key(), "user:bob")
        .right(Right::new("*", "*", "*"))
        .ttl_seconds(3600)
        .now(NOW);
    Token::mint(&KeyPair::from_seed(&seed(1)), &params).expect("mint")
}

fn request_json(tool: &str, operation: &str, resource: &str, attributes: &[(&str, &str)]) -> Value {
    let attrs: BTreeMap<&str, &str> = attributes.iter().copied().collect();
    json!({"tool": tool, "operation": operation, "resource": resource, "attributes": attrs})
}

fn request(v: &Value) -> Request {
    let mut r = Request::new(v["tool"].as_str().unwrap(), v["operation"].as_str().unwrap(), v["resource"].as_str().unwrap());
    for (k, val) in v["attributes"].as_object().unwrap() {
        r = r.attribute(k.as_str(), val.as_str().unwrap());
    }
    r
}

fn verifier(doc: &Value) -> Verifier {
    let hex = |name: &str| KeyPair::from_hex(doc["keys"][name]["seed_hex"].as_str().unwrap()).unwrap().public_key();
    let p = &doc["policy"];
    let source = std::fs::read_to_string(vectors_dir().join(p["file"].as_str().unwrap())).unwrap();
    let mut v = Verifier::new([hex("root")]);
    v.add_rego_policy(RegoPolicy::new(p["name"].as_str().unwrap(), p["version"].as_str(), &source).unwrap());
    v.set_roles(serde_json::from_value(doc["roles"].clone()).unwrap());
    for (id, key) in doc["approvers"].as_object().unwrap() {
        v.add_approver(id, hex(key.as_str().unwrap())).unwrap();
    }
    v
}

/// The decision for one case, as the file states it.
fn decide(doc: &Value, case: &Value) -> Value {
    let t = Token::from_base64(doc["tokens"][case["token"].as_str().unwrap()].as_str().unwrap()).unwrap();
    let d = verifier(doc)
        .authorize_with_approval(t.to_bytes(), &request(&case["request"]), None, case["approval"].as_str(), Some(NOW))
        .unwrap();
    json!({"allowed": d.allowed, "code": d.code, "policy": d.policy})
}

fn case(name: &str, token: &str, request: Value, approval: Option<&str>) -> Value {
    json!({"name": name, "token": token, "request": request, "approval": approval, "now": NOW})
}

fn generate() -> Value {
    let mut keys = serde_json::Map::new();
    let mut tokens = serde_json::Map::new();
    let mut pair = |name: &str, n: u8| {
        let k = KeyPair::from_seed(&seed(n));
        keys.insert(name.into(), json!({"seed_hex": k.to_hex().as_str(), "public_hex": k.public_key().to_hex()}));
    };
    pair("root", 1);
    pair("alice", 7);
    for (name, agent, n) in AGENTS {
        pair(name, n);
        tokens.insert(name.into(), json!(token(agent, n).to_base64()));
    }
    let comment_pr = request_json("github", "comment", "acme/web/pull/7", &[("resource.type", "pull_request")]);
    let deploy = |env: &str| request_json("deploy", "deploy", "svc/web", &[("resource.env", env)]);
    let prod = deploy("production");
    let prod_token = Token::from_base64(tokens["deployer"].as_str().unwrap()).unwrap();
    let digest = request_digest(prod_token.to_bytes(), &request(&prod));
    let approval = sign_approval_with_nonce(&KeyPair::from_seed(&seed(7)), "user:alice", &digest, NOW, 300, [5; 16]).unwrap();
    let forged_role = request_json("github", "comment", "acme/web/pull/7", &[("resource.type", "pull_request"), ("agent.role", "reviewer")]);
    let mut doc = json!({
        "version": 1,
        "description": "Rego operator policies: the users' policy (rego/agent_authz.rego, verbatim) on signed tokens, the decision and the policy rule that decided; policies refused at load. Generated by core/tests/rego_vectors.rs; replayed by every runtime.",
        "now": NOW,
        "keys": keys,
        "tokens": tokens,
        "policy": {"name": "authz", "version": "1", "file": POLICY_FILE},
        "roles": {"agent:reviewer": "reviewer", "agent:deployer": "deployer"},
        "approvers": {"user:alice": "alice"},
        "cases": [
            case("allow: a reviewer comments on a pull request", "reviewer", comment_pr.clone(), None),
            case("deny: a reviewer deploys (its role is not deployer)", "reviewer", deploy("staging"), None),
            case("allow: a deployer deploys to staging", "deployer", deploy("staging"), None),
            case("approval_required: a deployer deploys to production", "deployer", prod.clone(), None),
            case("allow: the production deploy with a valid approval of that call", "deployer", prod, Some(approval.as_str())),
            case("deny: an agent without a role comments on a pull request", "stranger", comment_pr, None),
            case("deny: a role claimed in the request's attributes is not the agent's role", "stranger", forged_role, None),
        ],
        "bad_policies": [
            {"name": "a policy that does not parse", "policy": {"name": "broken", "source": "package p\nallow if {"}, "code": "invalid_argument"},
            {"name": "a policy without an allow rule", "policy": {"name": "noallow", "source": "package p\ndeny if { true }\n"}, "code": "invalid_argument"},
            {"name": "a policy name outside [A-Za-z0-9-_.:/]", "policy": {"name": "bad name", "source": "package p\nallow := true\n"}, "code": "invalid_argument"},
        ],
    });
    let expects: Vec<Value> = doc["cases"].as_array().unwrap().iter().map(|c| decide(&doc, c)).collect();
    for (c, e) in doc["cases"].as_array_mut().unwrap().iter_mut().zip(expects) {
        c["expect"] = e;
    }
    doc
}

fn replay(doc: &Value, what: &str) {
    for c in doc["cases"].as_array().unwrap() {
        assert_eq!(decide(doc, c), c["expect"], "{what}: {}", c["name"]);
    }
    for b in doc["bad_policies"].as_array().unwrap() {
        let p = &b["policy"];
        let e = RegoPolicy::new(p["name"].as_str().unwrap(), p["version"].as_str(), p["source"].as_str().unwrap()).unwrap_err();
        assert_eq!(e.code(), b["code"], "{what}: {}", b["name"]);
    }
}

/// The file without the bytes that change with every generation (tokens, approvals).
fn shape(doc: &Value) -> Value {
    let mut d = doc.clone();
    d["tokens"] = Value::Null;
    for c in d["cases"].as_array_mut().unwrap() {
        if !c["approval"].is_null() {
            c["approval"] = json!("<approval>");
        }
    }
    d
}

#[test]
fn rego_vectors_hold_in_the_core_and_match_the_committed_file() {
    let fresh = generate();
    let expected = [
        (true, None, Some("authz@1#allow")),
        (false, Some("not_authorized"), Some("authz@1#default")),
        (true, None, Some("authz@1#allow")),
        (false, Some("approval_required"), Some("authz@1#require_approval")),
        (true, None, Some("authz@1#require_approval")),
        (false, Some("not_authorized"), Some("authz@1#default")),
        (false, Some("not_authorized"), Some("authz@1#default")),
    ];
    let got: Vec<_> = fresh["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["expect"]["allowed"].as_bool().unwrap(), c["expect"]["code"].as_str(), c["expect"]["policy"].as_str()))
        .collect();
    assert_eq!(got, expected, "the users' policy decides as its authors meant");
    replay(&fresh, "generated cases");
    let path = vectors_dir().join("rego.json");
    if std::env::var_os("MARQUE_REGEN_VECTORS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&fresh).unwrap() + "\n").unwrap();
    }
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("tests/vectors/rego.json is missing: MARQUE_REGEN_VECTORS=1")).unwrap();
    replay(&committed, "committed tests/vectors/rego.json");
    assert_eq!(shape(&fresh), shape(&committed), "rego.json is stale: regenerate with MARQUE_REGEN_VECTORS=1");
}
