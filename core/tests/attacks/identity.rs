//! An agent id names one agent in a chain; revocation by key; revocation ids are whole ids.
//!
//! A child must not take the id — or the name, the path segment its path ends in — of an agent
//! already in the chain (else decisions, audit events and exchanged JWTs report the impersonated
//! agent): `delegate` refuses it (`invalid_argument`) and a verifier refuses a hand-built token
//! carrying it (`invalid_token`). A revoked key kills every token whose chain holds it, under
//! whatever id. A revocation id is the whole 128-digit id; a prefix is refused, not stored.

use biscuit_auth::builder::BlockBuilder;
use biscuit_auth::UnverifiedBiscuit;
use marque::delegate::DelegateParams;
use marque::Token;
use serde_json::json;

use crate::{allowed, denied, error, key, req, scenario, Book, NOW};

/// `token` plus one delegation block signed by `signer` (the holder's key), built by hand the
/// way an attacker would — `delegate` refuses these — with the profile's exact Datalog for a
/// hop naming `agent` (so only the identity rule can refuse it; the path, `_path`, is not
/// written in profile 3: the verifier derives it).
fn hand_built_hop(token: &Token, signer: &str, agent: &str, _path: &str, hop_key: &str) -> String {
    // The scenario's hop expiry (NOW + 1800 s) as a Datalog date.
    let exp_date = "2026-01-01T00:30:00Z";
    let child_key = key(hop_key).public_key().to_hex();
    let code = format!("hop(\"{agent}\", hex:{child_key});\ncheck if time($time), $time <= {exp_date};\n");
    let ub = UnverifiedBiscuit::from(token.to_bytes()).expect("parse");
    let sk = biscuit_auth::PrivateKey::from_bytes(&key(signer).to_seed()[..], biscuit_auth::Algorithm::Ed25519).expect("key");
    let block = ub
        .third_party_request()
        .expect("request")
        .create_block(&sk, BlockBuilder::new().code(code).expect("datalog"))
        .expect("block");
    let appended = ub.append_third_party(&block.serialize().expect("serialize")).expect("append");
    appended.to_base64().expect("base64")
}

fn delegate_case(b: &mut Book, name: &str, token: &str, holder: &str, to: &str, to_key: &str, expect: serde_json::Value) {
    b.case(json!({"name": name, "op": "delegate", "token": token, "holder": holder,
        "params": {"to": to, "to_key": to_key, "now": NOW}, "expect": expect}));
}

pub fn cases(b: &mut Book) {
    let (t0, ta) = scenario();
    let orch = b.token("identity: orchestrator", &t0);
    let a = b.token("identity: agent_a", &ta);

    // ---- a child names one new agent: delegate refuses a clash ----
    let clash = error("invalid_argument");
    delegate_case(b, "identity: a child cannot take the root agent's id", &a, "agent_a", "agent:orchestrator", "mallory", clash.clone());
    delegate_case(b, "identity: a child cannot take its parent's id", &a, "agent_a", "agent:agent_a", "mallory", clash.clone());
    delegate_case(b, "identity: the root agent cannot delegate to its own id", &orch, "orchestrator", "agent:orchestrator", "agent_a", clash.clone());
    delegate_case(b, "identity: another id with the root agent's name is refused", &a, "agent_a", "team:orchestrator", "mallory", clash.clone());
    delegate_case(b, "identity: another id with the parent's name (path segment) is refused", &a, "agent_a", "team:agent_a", "mallory", clash.clone());
    delegate_case(b, "identity: a child named root (the root's path segment) is refused", &a, "agent_a", "agent:root", "mallory", clash.clone());
    delegate_case(b, "identity: a fresh id and name is a new agent", &a, "agent_a", "agent:reviewer", "agent_c",
        json!({"ok": true, "path": "/root/agent_a/reviewer"}));

    // ---- the verifier refuses a hand-built token whose hop repeats an id or a name ----
    let repeated_root = b.token_b64("identity: hand-built hop naming the root agent",
        hand_built_hop(&ta, "agent_a", "agent:orchestrator", "/root/agent_a/orchestrator", "mallory"));
    b.authorize("identity: a hop repeating the root agent's id is invalid_token", &repeated_root,
        req("read_file", "read", "src/main.rs"), error("invalid_token"));
    let repeated_parent = b.token_b64("identity: hand-built hop naming its parent",
        hand_built_hop(&ta, "agent_a", "agent:agent_a", "/root/agent_a/agent_a", "mallory"));
    b.authorize("identity: a hop repeating its parent's id is invalid_token", &repeated_parent,
        req("read_file", "read", "src/main.rs"), error("invalid_token"));
    let repeated_name = b.token_b64("identity: hand-built hop reusing a name",
        hand_built_hop(&ta, "agent_a", "team:orchestrator", "/root/agent_a/orchestrator", "mallory"));
    b.authorize("identity: a hop reusing the root agent's name under another id is invalid_token", &repeated_name,
        req("read_file", "read", "src/main.rs"), error("invalid_token"));
    // The same hand-built shape with a new id verifies: the refusals above are the identity rule.
    let fresh = b.token_b64("identity: hand-built hop with a fresh id",
        hand_built_hop(&ta, "agent_a", "agent:reviewer", "/root/agent_a/reviewer", "mallory"));
    b.authorize("identity: a hand-built hop with a fresh id is accepted", &fresh,
        req("read_file", "read", "src/main.rs"), allowed());

    // ---- revocation by key: one entry kills the key under every id ----
    let reissued = t0
        .delegate(&key("orchestrator"), &DelegateParams::new("agent:fresh_name", key("agent_a").public_key()).now(NOW))
        .expect("delegate");
    let reissued = b.token("identity: agent_a's key under a fresh id", &reissued);
    let revoke_keys = |names: &[&str]| {
        json!({"keys": names.iter().map(|n| key(n).public_key().to_hex()).collect::<Vec<_>>()})
    };
    for (name, token, keys, expect) in [
        ("identity: a revoked key is refused", &a, revoke_keys(&["agent_a"]), denied("revoked")),
        ("identity: a revoked key is refused under a fresh agent id", &reissued, revoke_keys(&["agent_a"]), denied("revoked")),
        ("identity: the root agent's revoked key kills every token below it", &a, revoke_keys(&["orchestrator"]), denied("revoked")),
        ("identity: another key's revocation leaves the token alone", &a, revoke_keys(&["mallory"]), allowed()),
        ("identity: a revoked key given in uppercase hex is the same key", &a,
            json!({"keys": [key("agent_a").public_key().to_hex().to_ascii_uppercase()]}), denied("revoked")),
        ("identity: a revocation set with a malformed key is refused", &a, json!({"keys": ["00ff"]}), error("invalid_argument")),
        ("identity: a revocation set with a truncated id is refused", &a,
            json!({"ids": ["0123abcd0123abcd"]}), error("invalid_argument")),
    ] {
        b.case(json!({"name": name, "op": "authorize", "root": "root", "token": token,
            "request": req("read_file", "read", "src/main.rs"), "proof": null,
            "verifier": {"require_proof": false, "revocations": keys}, "now": NOW, "expect": expect}));
    }

    // ---- revocation ids are validated ----
    assert_eq!(ta.revocation_ids()[1].len(), 128, "a Biscuit revocation id is a 64-byte Ed25519 signature");
    // A fixed id of that shape (token ids are random: a vector must not change on regeneration).
    let full = "0123456789abcdef".repeat(8);
    for (name, id, expect) in [
        ("identity: revoking a short id is refused", "0123abcd".to_string(), error("invalid_argument")),
        ("identity: revoking the 16-digit prefix a reason shows is refused", full[..16].to_string(), error("invalid_argument")),
        ("identity: revoking 127 hex digits is refused", full[..127].to_string(), error("invalid_argument")),
        ("identity: revoking 129 hex digits is refused", format!("{full}0"), error("invalid_argument")),
        ("identity: revoking non-hex is refused", "g".repeat(128), error("invalid_argument")),
        ("identity: revoking an empty id is refused", String::new(), error("invalid_argument")),
        ("identity: revoking a whole id works", full.clone(), json!({"ok": true})),
        ("identity: revoking a whole id in uppercase works (normalized)", full.to_ascii_uppercase(), json!({"ok": true})),
    ] {
        b.case(json!({"name": name, "op": "revoke", "id": id, "expect": expect}));
    }
}
