//! Audience binding (RFC 8707): a proof names the server it is for, and a verifier that knows
//! its own canonical URI accepts only proofs naming exactly it. A server that receives an
//! agent's token and proof (a malicious or compromised server A) cannot replay them to server B;
//! a proof that names no server is refused by an audience-bound verifier; a verifier that knows
//! no audience refuses a proof that names one (fail closed). Spellings of one URI are one
//! audience (scheme and host case, a default port, a trailing slash: the signer writes the
//! canonical form), and the verifier compares the canonical form byte for byte, so a
//! hand-signed proof with a non-canonical `aud` is refused.
//!
//! Every case requires proofs (audience binding protects nothing where a token alone passes).

use marque::audience::Audience;
use marque::policy::Request;
use marque::{KeyPair, Token};
use serde_json::{json, Value};

use crate::{allowed, denied, key, req, scenario, Book, NOW};

const A: &str = "https://a.example/mcp";
const B: &str = "https://b.example/mcp";

fn request(v: &Value) -> Request {
    Request::new(v["tool"].as_str().expect("tool"), v["operation"].as_str().expect("operation"), v["resource"].as_str().expect("resource"))
}

/// A proof for `request` bound to `aud` (as the agent's configuration spells it; None: unbound).
fn proof(token: &Token, holder: &KeyPair, request_v: &Value, aud: Option<&str>, nonce: u8) -> String {
    let aud = aud.map(|a| Audience::parse(a).expect("audience"));
    let r = request(request_v);
    let req = marque::proof::ProofRequest::new(&r.tool, &r.operation, &r.resource);
    let req = match &aud {
        Some(a) => req.audience(a),
        None => req,
    };
    marque::proof::sign_proof_with_nonce(holder, token.to_bytes(), &req, NOW, [nonce; 16]).expect("sign proof")
}

/// A proof signed by hand with a raw `aud` claim (what no marque signer writes).
fn raw_proof(token: &Token, holder: &KeyPair, request_v: &Value, aud: &str) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = json!({"v": 1, "th": marque::proof::token_hash(token.to_bytes()), "tool": request_v["tool"], "op": request_v["operation"],
        "res": request_v["resource"], "aud": aud, "iat": NOW, "nonce": b64.encode([9u8; 16])});
    let payload = b64.encode(claims.to_string());
    let sig = holder.sign(format!("marque-proof/1.{payload}").as_bytes());
    format!("{payload}.{}", sig.to_base64())
}

fn at(audience: Option<&str>) -> Value {
    match audience {
        Some(a) => json!({"require_proof": true, "audience": a}),
        None => json!({"require_proof": true}),
    }
}

pub fn cases(b: &mut Book) {
    let (_, ta) = scenario();
    let a = key("agent_a");
    let ta_name = b.token("audience: agent_a", &ta);
    let read = req("read_file", "read", "src/main.rs");
    let mut case = |name: &str, verifier: Value, proof: String, expect: Value| {
        b.case(json!({"name": name, "op": "authorize", "root": "root", "verifier": verifier, "token": ta_name,
            "request": read, "proof": proof, "now": NOW, "expect": expect}));
    };
    case("a proof for server A is accepted by A", at(Some(A)), proof(&ta, &a, &read, Some(A), 1), allowed());
    case("a proof for server A is refused by server B", at(Some(B)), proof(&ta, &a, &read, Some(A), 1), denied("invalid_proof"));
    case("a proof without an audience is refused by an audience-bound server", at(Some(B)), proof(&ta, &a, &read, None, 1), denied("invalid_proof"));
    case("a proof with an audience is refused by a verifier that knows none (fail closed)", at(None), proof(&ta, &a, &read, Some(A), 1),
        denied("invalid_proof"));
    case("a proof without an audience passes a verifier without one (version-1 proofs)", at(None), proof(&ta, &a, &read, None, 1), allowed());
    // Spellings: the signer canonicalizes, the verifier's audience is canonicalized when set.
    case("scheme and host case, default port and trailing slash are one audience", at(Some("https://A.EXAMPLE/mcp")),
        proof(&ta, &a, &read, Some("HTTPS://a.example:443/mcp/"), 2), allowed());
    case("the path is case-sensitive: /MCP is another server", at(Some(A)), proof(&ta, &a, &read, Some("https://a.example/MCP"), 3),
        denied("invalid_proof"));
    case("another port is another server", at(Some(A)), proof(&ta, &a, &read, Some("https://a.example:8443/mcp"), 4), denied("invalid_proof"));
    case("another path on the same host is another server", at(Some(A)), proof(&ta, &a, &read, Some("https://a.example/mcp/admin"), 5),
        denied("invalid_proof"));
    case("http is not https", at(Some(A)), proof(&ta, &a, &read, Some("http://a.example/mcp"), 6), denied("invalid_proof"));
    // Hand-signed, non-canonical aud claims: compared byte for byte, never re-parsed.
    for (what, aud) in [("an upper-case host", "https://A.EXAMPLE/mcp"), ("a trailing slash", "https://a.example/mcp/"),
        ("a fragment", "https://a.example/mcp#frag"), ("a default port", "https://a.example:443/mcp"), ("an empty string", "")]
    {
        case(&format!("a hand-signed aud with {what} is refused"), at(Some(A)), raw_proof(&ta, &a, &read, aud), denied("invalid_proof"));
    }
    // A misconfigured verifier audience is refused when the verifier is built (fragment, query).
    for (what, aud) in [("a fragment", "https://a.example/mcp#x"), ("a query", "https://a.example/mcp?x=1"), ("no scheme", "a.example/mcp")] {
        b.case(json!({"name": format!("a verifier audience with {what} is refused"), "op": "authorize", "root": "root",
            "verifier": {"require_proof": true, "audience": aud}, "token": ta_name, "request": read, "proof": proof(&ta, &a, &read, Some(A), 7),
            "now": NOW, "expect": crate::error("invalid_argument")}));
    }
    // Replay: A receives the agent's proof and forwards token + proof to B (refused), then the
    // agent's own call at A still passes once (the refusal at B burnt nothing at A).
    let p = proof(&ta, &a, &read, Some(A), 8);
    let call = |p: &str| json!({"token": ta_name, "request": read, "proof": p, "now": NOW});
    b.case(json!({"name": "a proof for A replayed to B is refused there, and B's refusal does not burn it", "op": "authorize_sequence",
        "root": "root", "verifier": at(Some(B)), "calls": [call(&p), call(&p)],
        "expect": {"sequence": [denied("invalid_proof"), denied("invalid_proof")]}}));
    b.case(json!({"name": "a proof for A is accepted once at A, then replayed_proof", "op": "authorize_sequence",
        "root": "root", "verifier": at(Some(A)), "calls": [call(&p), call(&p)],
        "expect": {"sequence": [allowed(), denied("replayed_proof")]}}));
}
