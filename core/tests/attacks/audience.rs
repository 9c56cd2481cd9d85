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

use crate::{allowed, denied, error, key, req, scenario, Book, NOW};

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
            "now": NOW, "expect": error("invalid_argument")}));
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

/// Audience binding of *tokens* (RFC 8707): a token minted for server A (`token_audience`
/// facts and the check `check if audience($audience), token_audience($audience)` in its
/// authority block) is refused by server B — without any proof — and by a verifier that knows
/// no audience, with `invalid_token` before any Datalog runs. A token minted without audience
/// passes everywhere. The authority block is rebuilt byte for byte (a root-signed block with a
/// non-canonical audience, a missing or altered check, is refused) and no hop can add one.
pub fn token_cases(b: &mut Book) {
    use crate::blocks::{append, base64_url, block_parts, code_block, honest_hop};
    use marque::{DelegateParams, MintParams, Right};

    let (_, ta) = scenario();
    let orchestrator = key("orchestrator");
    let mint = |auds: &[&str]| {
        let mut p = MintParams::new("agent:orchestrator", orchestrator.public_key(), "user:alice")
            .right(Right::new("read_file", "read", "*"))
            .ttl_seconds(3600)
            .now(NOW);
        for a in auds {
            p = p.audience(Audience::parse(a).expect("audience"));
        }
        Token::mint(&key("root"), &p).expect("mint")
    };
    let for_a = mint(&[A]);
    let for_ab = mint(&[A, B]);
    let to_a = DelegateParams::new("agent:agent_a", key("agent_a").public_key()).tools(["read_file"]).now(NOW);
    let for_a_hop = for_a.delegate(&orchestrator, &to_a).expect("delegate");
    let n_a = b.token("audience: a token for A", &for_a);
    let n_ab = b.token("audience: a token for A and B", &for_ab);
    let n_hop = b.token("audience: a token for A, delegated to agent_a", &for_a_hop);
    let n_none = b.token("audience: agent_a, no audience (tokens)", &ta);
    let read = req("read_file", "read", "src/main.rs");
    let mut case = |name: &str, verifier: Value, token: &str, expect: Value| {
        b.case(json!({"name": name, "op": "authorize", "root": "root", "verifier": verifier, "token": token,
            "request": read, "proof": null, "now": NOW, "expect": expect}));
    };
    let server = |a: Option<&str>| match a {
        Some(a) => json!({"audience": a}),
        None => json!({}),
    };
    case("token audience: a token for A is accepted by A", server(Some(A)), &n_a, allowed());
    case("token audience: another spelling of A is A", server(Some("HTTPS://A.EXAMPLE:443/mcp/")), &n_a, allowed());
    case("token audience: a token for A is refused by B (no proof needed)", server(Some(B)), &n_a, error("invalid_token"));
    case("token audience: a token for A is refused by a verifier with no audience (fail closed)", server(None), &n_a, error("invalid_token"));
    case("token audience: a token for A is refused by A's other path", server(Some("https://a.example/mcp/admin")), &n_a, error("invalid_token"));
    case("token audience: a token for A and B is accepted by B", server(Some(B)), &n_ab, allowed());
    case("token audience: a token for A and B is refused by C", server(Some("https://c.example/mcp")), &n_ab, error("invalid_token"));
    case("token audience: a token without audience is accepted by an audience-bound verifier", server(Some(A)), &n_none, allowed());
    case("token audience: delegation keeps the audience (accepted by A)", server(Some(A)), &n_hop, allowed());
    case("token audience: delegation keeps the audience (refused by B)", server(Some(B)), &n_hop, error("invalid_token"));

    // Root-signed authority blocks (an operator bug or an insider with the root key): the
    // profile's block rebuilt (control), then with the audience written otherwise.
    let auth_code = block_parts(&for_a, 0);
    assert!(auth_code.contains("token_audience(\"https://a.example/mcp\")"), "{auth_code}");
    let check = "check if audience($audience), token_audience($audience);";
    assert!(auth_code.contains(check), "{auth_code}");
    let root = biscuit_auth::KeyPair::from(
        &biscuit_auth::PrivateKey::from_bytes(&key("root").to_seed()[..], biscuit_auth::Algorithm::Ed25519).expect("root"),
    );
    let root_id = marque::verify::derived_key_id(&key("root").public_key());
    let authority = |code: String| {
        let token = biscuit_auth::BiscuitBuilder::new().root_key_id(root_id).code(code).expect("datalog").build(&root).expect("build");
        base64_url(&token.to_vec().expect("bytes"))
    };
    let mut forged = |name: &str, code: String, expect: Value| {
        let t = b.token_b64(&format!("audience/{name}"), authority(code));
        b.case(json!({"name": format!("token audience: {name}"), "op": "authorize", "root": "root", "verifier": server(Some(A)), "token": t,
            "request": read, "proof": null, "now": NOW, "expect": expect}));
    };
    forged("control, the authority block rebuilt from the profile's Datalog", auth_code.clone(), allowed());
    forged("a root-signed audience fact not in canonical form (HTTPS://A/)",
        auth_code.replace("\"https://a.example/mcp\"", "\"HTTPS://a.example/mcp/\""), error("invalid_token"));
    forged("a root-signed audience fact that is not a URI", auth_code.replace("\"https://a.example/mcp\"", "\"a.example\""), error("invalid_token"));
    forged("a root-signed authority block with the audience twice",
        auth_code.replace(check, &format!("token_audience(\"{A}\");\n{check}")), error("invalid_token"));
    forged("a root-signed authority block with the audience check removed", auth_code.replace(check, ""), error("invalid_token"));
    forged("a root-signed authority block with the audience check altered",
        auth_code.replace(check, "check if token_audience($audience);"), error("invalid_token"));
    forged("a root-signed authority block with the check but no audience fact",
        auth_code.replace(&format!("token_audience(\"{A}\");"), ""), error("invalid_token"));
    let ta_code = block_parts(&ta, 0);
    forged("a root-signed audience check added to a token without audience",
        ta_code.replace("check if depth", &format!("{check}\ncheck if depth")), error("invalid_token"));

    // A hop cannot add, widen or satisfy an audience: its block is the profile's hop or refused.
    let a_key = key("agent_a");
    let to_c = || DelegateParams::new("agent:agent_c", key("agent_c").public_key()).now(NOW);
    let hop = honest_hop(&ta, &a_key, &to_c());
    let hop_a = honest_hop(&for_a_hop, &a_key, &to_c());
    let control = b.token_b64("audience/hop rebuilt as the profile's block", append(&for_a_hop, &a_key, code_block(&hop_a)));
    b.case(json!({"name": "token audience: control, a hop rebuilt as the profile's block", "op": "authorize", "root": "root",
        "verifier": server(Some(A)), "token": control, "request": read, "proof": null, "now": NOW, "expect": allowed()}));
    let mut via_hop = |name: &str, token: String, verifier: Value, expect: Value| {
        let t = b.token_b64(&format!("audience/{name}"), token);
        b.case(json!({"name": format!("token audience: {name}"), "op": "authorize", "root": "root", "verifier": verifier, "token": t,
            "request": read, "proof": null, "now": NOW, "expect": expect}));
    };
    via_hop("a hop adding token_audience(B) to a token for A", append(&for_a_hop, &a_key, code_block(&format!("{hop_a}\ntoken_audience(\"{B}\");"))),
        server(Some(B)), error("invalid_token"));
    via_hop("a hop adding audience(A) to a token for A, at a verifier with none", append(&for_a_hop, &a_key, code_block(&format!("{hop_a}\naudience(\"{A}\");"))),
        server(None), error("invalid_token"));
    via_hop("a hop adding an audience check to a token without audience",
        append(&ta, &a_key, code_block(&format!("{hop}\n{check}"))), server(Some(A)), error("invalid_token"));
}
