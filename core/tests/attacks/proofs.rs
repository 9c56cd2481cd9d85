//! Proofs of possession and the replay cache: a holder cannot fill the cache with proofs of calls
//! that are not allowed, one key cannot take the whole cache, and a call that is denied does not
//! burn the nonce of the proof it carried.
//!
//! Proofs are single-use, so every call carries a proof signed for it alone (or, where the case is
//! about reuse, the same proof on purpose). The replayers build a fresh verifier per case; the
//! calls of one `authorize_sequence` share it (and its replay cache).

use marque::policy::{Request, Right};
use marque::proof::{sign_proof_with_nonce, ProofRequest};
use marque::token::MintParams;
use marque::{KeyPair, Token};
use serde_json::{json, Value};

use crate::{allowed, denied, error, key, req, scenario, Book, NOW};

/// A proof for `token` held by `holder`, signed at `at` for `(tool, operation, resource)`.
fn proof(token: &Token, holder: &KeyPair, request: &Value, at: u64) -> String {
    let r = Request::new(
        request["tool"].as_str().expect("tool"),
        request["operation"].as_str().expect("operation"),
        request["resource"].as_str().expect("resource"),
    );
    token.sign_proof(holder, &r, Some(at)).expect("sign proof")
}

/// One call of a sequence.
fn call(token: &str, request: &Value, proof: &str, now: u64) -> Value {
    json!({"token": token, "request": request, "proof": proof, "now": now})
}

/// A request with one attribute.
fn with_attribute(request: &Value, k: &str, v: &str) -> Value {
    let mut r = request.clone();
    r["attributes"] = json!({ k: v });
    r
}

pub fn cases(b: &mut Book) {
    let (t0, ta) = scenario();
    // A token whose one right is of another tool: mallory holds it, and its key, legitimately.
    let zero = Token::mint(
        &key("root"),
        &MintParams::new("agent:mallory", key("mallory").public_key(), "user:mallory")
            .right(Right::new("ping", "*", "*"))
            .ttl_seconds(3600)
            .now(NOW),
    )
    .expect("mint");
    let (a, o, m) = (key("agent_a"), key("orchestrator"), key("mallory"));
    let ta_name = b.token("proofs: agent_a", &ta);
    let t0_name = b.token("proofs: orchestrator", &t0);
    let zero_name = b.token("proofs: mallory, no right to read", &zero);
    let read = req("read_file", "read", "src/main.rs");
    // agent_a's hop expires at NOW + 1800; its holder can still sign good proofs after that.
    let late = NOW + 1801;
    let tiny = |capacity: u64, per_key: u64| json!({"limits": {"replay_cache_capacity": capacity, "replay_cache_per_key": per_key}});

    // Single calls: the proof's own checks pass, the call is still refused for what it is.
    b.case(json!({"name": "a good proof on an expired token is denied expired", "op": "authorize", "root": "root",
        "token": ta_name, "request": read, "proof": proof(&ta, &a, &read, late), "now": late, "expect": denied("expired")}));
    b.case(json!({"name": "a good proof on a token without the right is denied not_authorized", "op": "authorize", "root": "root",
        "token": zero_name, "request": read, "proof": proof(&zero, &m, &read, NOW), "now": NOW, "expect": denied("not_authorized")}));
    b.case(json!({"name": "a required proof that is missing is invalid_proof", "op": "authorize", "root": "root",
        "verifier": {"require_proof": true}, "token": ta_name, "request": read, "proof": null, "now": NOW,
        "expect": denied("invalid_proof")}));

    // Refused calls leave the cache empty: with room for two proofs, a flood of proofs on an
    // expired token or on a token without the right is refused call by call, and then two
    // legitimate proofs still fit (the third finds the cache full).
    let mut calls = Vec::new();
    let mut expect = Vec::new();
    for _ in 0..4 {
        calls.push(call(&ta_name, &read, &proof(&ta, &a, &read, late), late));
        expect.push(denied("expired"));
        calls.push(call(&zero_name, &read, &proof(&zero, &m, &read, NOW), NOW));
        expect.push(denied("not_authorized"));
    }
    for _ in 0..2 {
        calls.push(call(&ta_name, &read, &proof(&ta, &a, &read, NOW), NOW));
        expect.push(allowed());
    }
    calls.push(call(&ta_name, &read, &proof(&ta, &a, &read, NOW), NOW));
    expect.push(error("limits_exceeded"));
    b.case(json!({"name": "proofs of refused calls (expired token, no right) never enter the replay cache",
        "op": "authorize_sequence", "root": "root", "verifier": tiny(2, 2), "calls": calls,
        "expect": {"sequence": expect}}));

    // A per-key quota: agent_a at its quota gets limits_exceeded; the orchestrator's key does not.
    let mut calls = Vec::new();
    let mut expect = Vec::new();
    for _ in 0..2 {
        calls.push(call(&ta_name, &read, &proof(&ta, &a, &read, NOW), NOW));
        expect.push(allowed());
    }
    calls.push(call(&ta_name, &read, &proof(&ta, &a, &read, NOW), NOW));
    expect.push(error("limits_exceeded"));
    for _ in 0..2 {
        calls.push(call(&t0_name, &read, &proof(&t0, &o, &read, NOW), NOW));
        expect.push(allowed());
    }
    b.case(json!({"name": "one key at its replay quota does not block another key's proofs",
        "op": "authorize_sequence", "root": "root", "verifier": tiny(100, 2), "calls": calls,
        "expect": {"sequence": expect}}));

    // A captured proof presented first in a call the verifier denies (an attribute a policy
    // refuses) is not burnt: the agent's own call with it passes, once; after that the proof is
    // replayed_proof whether the replayed call would be allowed or denied.
    let p = proof(&ta, &a, &read, NOW);
    let relayed = with_attribute(&read, "via", "relay");
    b.case(json!({"name": "a denied call does not burn the nonce; the same proof then authorizes an allowed call once",
        "op": "authorize_sequence", "root": "root",
        "verifier": {"policies": [{"id": "no-relay", "source": "deny if attribute(\"via\", \"relay\");"}]},
        "calls": [call(&ta_name, &relayed, &p, NOW), call(&ta_name, &relayed, &p, NOW), call(&ta_name, &read, &p, NOW + 1),
                  call(&ta_name, &read, &p, NOW + 2), call(&ta_name, &relayed, &p, NOW + 2)],
        "expect": {"sequence": [denied("not_authorized"), denied("not_authorized"), allowed(),
                                denied("replayed_proof"), denied("replayed_proof")]}}));

    // Entries are per signer: mallory reusing the nonce of agent_a's proof — in a proof by her key
    // on agent_a's token (invalid_proof, never recorded) or in an allowed call of her own
    // (recorded under her key) — does not consume agent_a's proof.
    let nonce = [7; 16];
    let signed = |token: &Token, holder: &KeyPair, request: &Value| {
        let r = Request::new(
            request["tool"].as_str().expect("tool"),
            request["operation"].as_str().expect("operation"),
            request["resource"].as_str().expect("resource"),
        );
        let req = ProofRequest::new(&r.tool, &r.operation, &r.resource);
        sign_proof_with_nonce(holder, token.to_bytes(), &req, NOW, nonce).expect("sign")
    };
    let ping = req("ping", "call", "health");
    b.case(json!({"name": "the same nonce under another key does not consume the holder's proof",
        "op": "authorize_sequence", "root": "root", "verifier": tiny(10, 10),
        "calls": [call(&ta_name, &read, &signed(&ta, &m, &read), NOW), call(&zero_name, &ping, &signed(&zero, &m, &ping), NOW),
                  call(&ta_name, &read, &signed(&ta, &a, &read), NOW), call(&ta_name, &read, &signed(&ta, &a, &read), NOW)],
        "expect": {"sequence": [denied("invalid_proof"), allowed(), allowed(), denied("replayed_proof")]}}));
}
