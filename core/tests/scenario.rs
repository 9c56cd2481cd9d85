//! The seed scenario and every way it can go wrong, end to end through the public API.

use biscuit_auth::builder::BlockBuilder;
use biscuit_auth::UnverifiedBiscuit;
use marque::delegate::DelegateParams;
use marque::policy::{Limits, Policy, Request, Right};
use marque::token::MintParams;
use marque::{KeyPair, Token, Verifier};

const NOW: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

struct World {
    root: KeyPair,
    orch: KeyPair,
    a: KeyPair,
    c: KeyPair,
    t0: Token,
    ta: Token,
    tc: Token,
}

fn kp(n: u8) -> KeyPair {
    KeyPair::from_seed(&[n; 32])
}

/// user:alice → /root (orchestrator: read+write anything) → /root/agent_a (read-only src/)
/// → /root/agent_a/agent_c (read src/main.rs only).
fn world() -> World {
    let (root, orch, a, c) = (kp(1), kp(2), kp(3), kp(4));
    let t0 = Token::mint(
        &root,
        &MintParams::new("agent:orchestrator", orch.public_key(), "user:alice")
            .task("fix-issue-42")
            .workspace("acme/web")
            .right(Right::new("read_file", "read", "*"))
            .right(Right::new("write_file", "write", "*"))
            .right(Right::new("deploy", "*", "prod/"))
            .ttl_seconds(3600)
            .now(NOW),
    )
    .unwrap();
    let ta = t0
        .delegate(
            &orch,
            &DelegateParams::new("agent:agent_a", a.public_key())
                .tools(["read_file"])
                .operations(["read"])
                .resource_prefix("src/")
                .ttl_seconds(1800)
                .now(NOW),
        )
        .unwrap();
    let tc = ta
        .delegate(&a, &DelegateParams::new("agent:agent_c", c.public_key()).resource_prefix("src/main.rs").now(NOW))
        .unwrap();
    World { root, orch, a, c, t0, ta, tc }
}

fn req(tool: &str, op: &str, res: &str) -> Request {
    Request::new(tool, op, res)
}

fn verifier(w: &World) -> Verifier {
    Verifier::new([w.root.public_key()])
}

#[test]
fn seed_scenario_allows_and_denies() {
    let w = world();
    let v = verifier(&w);
    assert_eq!(w.tc.path(), "/root/agent_a/agent_c");
    assert_eq!(w.tc.chain().iter().map(|h| h.agent.as_str()).collect::<Vec<_>>(), ["agent:orchestrator", "agent:agent_a", "agent:agent_c"]);
    assert_eq!(w.tc.revocation_ids().len(), 3);

    let d = v.authorize(w.tc.to_bytes(), &req("read_file", "read", "src/main.rs"), None, Some(NOW + 10)).unwrap();
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.agent, "agent:agent_c");
    assert_eq!(d.path, "/root/agent_a/agent_c");
    assert_eq!(d.principal, "user:alice");
    assert_eq!(d.task.as_deref(), Some("fix-issue-42"));
    assert_eq!(d.chain, ["agent:orchestrator", "agent:agent_a", "agent:agent_c"]);
    assert_eq!(d.policy.as_deref(), Some("marque:rights"));
    assert_eq!(d.expires_at, NOW + 1800);

    // agent_c: other file in src/ → denied by its own hop.
    let d = v.authorize(w.tc.to_bytes(), &req("read_file", "read", "src/lib.rs"), None, Some(NOW)).unwrap();
    assert!(!d.allowed);
    assert_eq!(d.code.as_deref(), Some("not_authorized"));
    assert!(d.reasons.iter().any(|r| r.contains("delegation 2") && r.contains("src/main.rs")), "{:?}", d.reasons);

    // agent_a: writing is outside its delegation even though the root token allows it.
    let d = v.authorize(w.ta.to_bytes(), &req("write_file", "write", "src/lib.rs"), None, Some(NOW)).unwrap();
    assert!(!d.allowed);
    assert!(d.reasons.iter().any(|r| r.contains("delegation 1")), "{:?}", d.reasons);
    // The orchestrator itself may write.
    assert!(v.authorize(w.t0.to_bytes(), &req("write_file", "write", "src/lib.rs"), None, Some(NOW)).unwrap().allowed);
    // No right covers this at all.
    let d = v.authorize(w.t0.to_bytes(), &req("deploy", "run", "staging/x"), None, Some(NOW)).unwrap();
    assert!(!d.allowed);
    assert!(d.reasons.iter().any(|r| r.contains("no policy allows")), "{:?}", d.reasons);
    assert!(v.authorize(w.t0.to_bytes(), &req("deploy", "run", "prod/web"), None, Some(NOW)).unwrap().allowed);
}

#[test]
fn delegation_refuses_widening_with_a_readable_diff() {
    let w = world();
    let e = w.ta.delegate(&w.a, &DelegateParams::new("agent:x", w.c.public_key()).tools(["write_file"]).now(NOW)).unwrap_err();
    assert_eq!(e.code(), "attenuation_widens");
    assert!(e.message().contains("write_file") && e.message().contains("read_file"), "{e}");
    let e = w.ta.delegate(&w.a, &DelegateParams::new("agent:x", w.c.public_key()).operations(["write"]).now(NOW)).unwrap_err();
    assert_eq!(e.code(), "attenuation_widens");
    let e = w.ta.delegate(&w.a, &DelegateParams::new("agent:x", w.c.public_key()).resource_prefix("docs/").now(NOW)).unwrap_err();
    assert_eq!(e.code(), "attenuation_widens");
    assert!(e.message().contains("docs/") && e.message().contains("src/"), "{e}");
    let e = w.t0.delegate(&w.orch, &DelegateParams::new("agent:x", w.c.public_key()).resource_prefix("staging/").tools(["deploy"]).now(NOW));
    assert!(e.is_ok(), "prefix held by another right of the orchestrator is not widening");
    // "*" means unchanged, never a literal tool named "*": the child keeps the parent's tools.
    let same = w.ta.delegate(&w.a, &DelegateParams::new("agent:x", w.c.public_key()).tools(["*"]).operations(["*"]).resource_prefix("*").now(NOW)).unwrap();
    let v = verifier(&w);
    assert!(v.authorize(same.to_bytes(), &req("read_file", "read", "src/a.rs"), None, Some(NOW)).unwrap().allowed);
    assert!(!v.authorize(same.to_bytes(), &req("read_file", "read", "docs/a.md"), None, Some(NOW)).unwrap().allowed, "the parent's prefix still holds");
    assert!(!v.authorize(same.to_bytes(), &req("write_file", "write", "src/a.rs"), None, Some(NOW)).unwrap().allowed, "the parent's tools still hold");
    let e = w.t0.delegate(&w.orch, &DelegateParams::new("agent:x", w.c.public_key()).tools(["*", "deploy"]).now(NOW)).unwrap_err();
    assert_eq!(e.code(), "invalid_argument");
    let e = w.t0.delegate(&w.orch, &DelegateParams::new("agent:x", w.c.public_key()).max_depth(9).now(NOW)).unwrap_err();
    assert_eq!(e.code(), "attenuation_widens");
    // A longer ttl than the parent's is clamped, never extended.
    let long = w.ta.delegate(&w.a, &DelegateParams::new("agent:x", w.c.public_key()).ttl_seconds(99_999).now(NOW)).unwrap();
    assert_eq!(long.expires_at(), w.ta.expires_at());
}

#[test]
fn only_the_holder_can_delegate_or_sign_proofs() {
    let w = world();
    let e = w.ta.delegate(&w.orch, &DelegateParams::new("agent:x", w.c.public_key()).now(NOW)).unwrap_err();
    assert_eq!(e.code(), "wrong_holder_key");
    let e = w.tc.sign_proof(&w.a, &req("read_file", "read", "src/main.rs"), Some(NOW)).unwrap_err();
    assert_eq!(e.code(), "wrong_holder_key");
}

/// Appends a third-party block signed by `signer` with arbitrary Datalog (and a Biscuit
/// `context` string when given), bypassing marque's delegation checks (what a malicious agent
/// could do).
fn forge_hop(token: &Token, signer: &KeyPair, context: Option<String>, code: &str) -> Vec<u8> {
    let ub = UnverifiedBiscuit::from(token.to_bytes()).unwrap();
    let req = ub.third_party_request().unwrap();
    let sk = biscuit_auth::PrivateKey::from_bytes(&signer.to_seed()[..], biscuit_auth::Algorithm::Ed25519).unwrap();
    let mut block = BlockBuilder::new().code(code).unwrap();
    if let Some(c) = context {
        block = block.context(c);
    }
    let signed = req.create_block(&sk, block).unwrap();
    ub.append_third_party(&signed.serialize().unwrap()).unwrap().to_vec().unwrap()
}

/// The Datalog an honest delegation writes in `token`'s last block.
fn last_block_code(token: &Token) -> String {
    use prost::Message as _;
    let raw = biscuit_auth::format::schema::Biscuit::decode(token.to_bytes()).unwrap();
    UnverifiedBiscuit::from(token.to_bytes()).unwrap().print_block_source(raw.blocks.len()).unwrap()
}

/// The profile's Datalog for a hop naming `agent` (key `key`) that narrows nothing but the
/// expiry `exp` (within the day of `NOW`, 2026-01-01T00:00:00Z).
fn hop_datalog(agent: &str, key: &KeyPair, exp: u64) -> String {
    let s = exp - NOW;
    format!(
        "hop(\"{agent}\", hex:{});\ncheck if time($time), $time <= 2026-01-01T{:02}:{:02}:{:02}Z;\n",
        key.public_key().to_hex(),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[test]
fn a_child_block_granting_more_is_still_bounded_by_its_parent() {
    let w = world();
    let v = verifier(&w);
    // agent_a (legitimately holding ta) forges a hop that "grants" write access and new rights:
    // a block carrying Datalog beyond the profile's is refused outright.
    let code = hop_datalog("agent:evil", &w.c, NOW + 100) + "check if tool($tool), {\"write_file\"}.contains($tool);\n";
    let bytes = forge_hop(&w.ta, &w.a, None, &(code + "right(\"write_file\", \"write\", \"*\");\ncheck if true;"));
    let e = v.authorize(&bytes, &req("write_file", "write", "src/a.rs"), None, Some(NOW)).unwrap_err();
    assert_eq!(e.code(), "invalid_token");

    // Behind that rule, the rights policy still reads `right` facts from the authority block
    // only: a third-party block's `right` facts grant nothing (checked on biscuit-auth directly,
    // since marque no longer lets such a block reach the authorizer).
    let root = biscuit_auth::KeyPair::new();
    let token = biscuit_auth::Biscuit::builder().code("right(\"read_file\", \"read\", \"*\");").unwrap().build(&root).unwrap();
    let signer = biscuit_auth::KeyPair::new();
    let block = token
        .third_party_request()
        .unwrap()
        .create_block(&signer.private(), BlockBuilder::new().code("right(\"write_file\", \"write\", \"*\");").unwrap())
        .unwrap();
    let token = token.append_third_party(signer.public(), block).unwrap();
    let decide = |tool: &str, op: &str| {
        biscuit_auth::AuthorizerBuilder::new()
            .code(format!("tool(\"{tool}\"); operation(\"{op}\"); resource(\"src/a.rs\"); {};", marque::policy::RIGHTS_POLICY))
            .unwrap()
            .build(&token)
            .unwrap()
            .authorize()
            .is_ok()
    };
    assert!(!decide("write_file", "write"), "a delegation block can never add rights");
    assert!(decide("read_file", "read"), "what the authority allows still passes");
}

/// Prefixes are written in canonical form (`src/`, never `src`): a hop whose check names a
/// non-canonical prefix (or "*") is not a marque hop.
#[test]
fn a_hop_with_a_non_canonical_prefix_is_refused() {
    let w = world();
    let v = verifier(&w);
    for prefix in ["src/lib", "*"] {
        let code = hop_datalog("agent:x", &w.c, NOW + 100)
            + &format!("check if resource($resource), ($resource + \"/\").starts_with(\"{prefix}\");");
        let bytes = forge_hop(&w.ta, &w.a, None, &code);
        let e = v.authorize(&bytes, &req("read_file", "read", "src/lib/a.rs"), None, Some(NOW)).unwrap_err();
        assert_eq!(e.code(), "invalid_token", "{prefix}: {e}");
    }
    // The control: the same narrowing written by `delegate` (canonical prefix `src/lib/`) is allowed.
    let honest = w.ta.delegate(&w.a, &DelegateParams::new("agent:x", w.c.public_key()).resource_prefix("src/lib").ttl_seconds(100).now(NOW)).unwrap();
    assert!(v.authorize(honest.to_bytes(), &req("read_file", "read", "src/lib/a.rs"), None, Some(NOW)).unwrap().allowed);
}

#[test]
fn every_hop_must_be_signed_by_the_key_the_previous_hop_named() {
    let w = world();
    let v = verifier(&w);
    // A thief holding ta but not agent_a's key signs the next hop with its own key.
    let thief = kp(66);
    let bytes = forge_hop(&w.ta, &thief, None, &hop_datalog("agent:x", &thief, NOW + 100));
    let e = v.authorize(&bytes, &req("read_file", "read", "src/a.rs"), None, Some(NOW)).unwrap_err();
    assert_eq!(e.code(), "invalid_signature");
    assert_eq!(Token::from_bytes(&bytes).unwrap_err().code(), "invalid_signature");

    // A first-party block (anyone holding the token can append one) is not a hop.
    let ub = UnverifiedBiscuit::from(w.ta.to_bytes()).unwrap();
    let plain = ub
        .append(BlockBuilder::new().code(hop_datalog("agent:x", &thief, NOW)).unwrap())
        .unwrap()
        .to_vec()
        .unwrap();
    assert_eq!(v.authorize(&plain, &req("read_file", "read", "src/a.rs"), None, Some(NOW)).unwrap_err().code(), "invalid_signature");

    // The honest hop's Datalog, signed by the holder, is accepted: the refusals below are the shape.
    let honest = forge_hop(&w.ta, &w.a, None, &hop_datalog("agent:x", &thief, NOW + 100));
    assert!(v.authorize(&honest, &req("read_file", "read", "src/a.rs"), None, Some(NOW)).unwrap().allowed);
    // A profile-2 hop fact (depth and path written in) is not a profile-3 hop.
    let code = format!("hop(2, \"agent:x\", \"/root/agent_a/x\", hex:{});\n", thief.public_key().to_hex());
    let bytes = forge_hop(&w.ta, &w.a, None, &(code + hop_datalog("agent:x", &thief, NOW + 100).split_once('\n').unwrap().1));
    assert_eq!(v.authorize(&bytes, &req("read_file", "read", "src/a.rs"), None, Some(NOW)).unwrap_err().code(), "invalid_token");
    // A block carrying a context string (profile 2's descriptor, or anything else).
    let bytes = forge_hop(&w.ta, &w.a, Some("hello".into()), &hop_datalog("agent:x", &thief, NOW + 100));
    assert_eq!(v.authorize(&bytes, &req("read_file", "read", "src/a.rs"), None, Some(NOW)).unwrap_err().code(), "invalid_token");
}

#[test]
fn tampering_with_any_byte_is_an_error() {
    let w = world();
    let v = verifier(&w);
    let good = w.tc.to_bytes().to_vec();
    let r = req("read_file", "read", "src/main.rs");
    let original = v.authorize(&good, &r, None, Some(NOW)).unwrap();
    let mut errors = std::collections::BTreeMap::<&str, usize>::new();
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        match v.authorize(&bad, &r, None, Some(NOW)) {
            Err(e) => *errors.entry(e.code()).or_default() += 1,
            // The only unsigned bytes are the root key id hint (field 1, a varint right at the
            // start): changing it makes the verifier try every trusted root, and the signatures
            // still decide. Anything else must fail.
            Ok(d) => {
                assert!(i < 6, "flipping byte {i} (inside a signed block) still verified");
                assert_eq!(d, original);
            }
        }
    }
    assert!(errors.keys().all(|c| ["invalid_signature", "invalid_token", "unknown_root_key", "limits_exceeded"].contains(c)), "{errors:?}");
}

#[test]
fn wrong_root_key_and_key_rotation() {
    let w = world();
    let other = Verifier::new([kp(99).public_key()]);
    let r = req("read_file", "read", "src/main.rs");
    assert_eq!(other.authorize(w.tc.to_bytes(), &r, None, Some(NOW)).unwrap_err().code(), "unknown_root_key");
    let empty = Verifier::new([]);
    assert_eq!(empty.authorize(w.tc.to_bytes(), &r, None, Some(NOW)).unwrap_err().code(), "unknown_root_key");
    // Rotation: old and new roots side by side; both token generations verify.
    let rotated = Verifier::new([kp(99).public_key(), w.root.public_key()]);
    assert!(rotated.authorize(w.tc.to_bytes(), &r, None, Some(NOW)).unwrap().allowed);
    // Explicit key ids.
    let t = Token::mint(&kp(99), &MintParams::new("agent:o", w.orch.public_key(), "user:b").right(Right::new("*", "*", "*")).root_key_id(7).now(NOW)).unwrap();
    let by_id = Verifier::with_key_ids([(7, kp(99).public_key()), (8, w.root.public_key())]);
    assert!(by_id.authorize(t.to_bytes(), &r, None, Some(NOW)).unwrap().allowed);
    assert!(by_id.authorize(w.tc.to_bytes(), &r, None, Some(NOW)).unwrap().allowed, "unknown kid falls back to trying every root");
}

#[test]
fn expiry_is_always_checked() {
    let w = world();
    let v = verifier(&w);
    let r = req("read_file", "read", "src/main.rs");
    assert!(v.authorize(w.tc.to_bytes(), &r, None, Some(NOW + 1800)).unwrap().allowed);
    let d = v.authorize(w.tc.to_bytes(), &r, None, Some(NOW + 1801)).unwrap();
    assert!(!d.allowed);
    assert_eq!(d.code.as_deref(), Some("expired"));
    // The orchestrator's own token lives longer.
    assert!(v.authorize(w.t0.to_bytes(), &r, None, Some(NOW + 3000)).unwrap().allowed);
    assert_eq!(v.authorize_or_raise(w.tc.to_bytes(), &r, None, Some(NOW + 4000)).unwrap_err().code(), "expired");
}

#[test]
fn revoking_a_hop_kills_it_and_below_not_its_siblings() {
    let w = world();
    let r = req("read_file", "read", "src/main.rs");
    let sibling = w.t0.delegate(&w.orch, &DelegateParams::new("agent:agent_b", kp(5).public_key()).now(NOW)).unwrap();
    for k in 0..3 {
        let v = verifier(&w);
        v.revoke(&w.tc.revocation_ids()[k]).unwrap();
        let d = v.authorize(w.tc.to_bytes(), &r, None, Some(NOW)).unwrap();
        assert_eq!(d.code.as_deref(), Some("revoked"), "revoking block {k}");
        assert!(d.reasons[0].contains(&format!("block {k}")));
        // tc's ancestors below k are unaffected; the sibling only dies with the authority block.
        assert_eq!(v.authorize(w.ta.to_bytes(), &r, None, Some(NOW)).unwrap().code.as_deref() == Some("revoked"), k <= 1);
        assert_eq!(v.authorize(sibling.to_bytes(), &r, None, Some(NOW)).unwrap().code.as_deref() == Some("revoked"), k == 0);
    }
    let v = verifier(&w);
    v.revoke_agent("agent:agent_a").unwrap();
    assert_eq!(v.authorize(w.tc.to_bytes(), &r, None, Some(NOW)).unwrap().code.as_deref(), Some("revoked"));
    assert!(v.authorize(sibling.to_bytes(), &r, None, Some(NOW)).unwrap().allowed);
    let v = verifier(&w);
    v.revoke_principal("user:alice").unwrap();
    assert_eq!(v.authorize(sibling.to_bytes(), &r, None, Some(NOW)).unwrap().code.as_deref(), Some("revoked"));
    let v = verifier(&w);
    v.revoke_task("fix-issue-42").unwrap();
    assert_eq!(v.authorize(w.t0.to_bytes(), &r, None, Some(NOW)).unwrap().code.as_deref(), Some("revoked"));
    assert_eq!(marque::RevocationSet::from_json(&v.revocations().to_json()).unwrap(), v.revocations());
}

#[test]
fn depth_is_enforced_at_delegation_and_at_verification() {
    let w = world();
    let t = Token::mint(&w.root, &MintParams::new("agent:o", w.orch.public_key(), "user:a").right(Right::new("*", "*", "*")).max_depth(1).now(NOW)).unwrap();
    let t1 = t.delegate(&w.orch, &DelegateParams::new("agent:a", w.a.public_key()).now(NOW)).unwrap();
    let e = t1.delegate(&w.a, &DelegateParams::new("agent:c", w.c.public_key()).now(NOW)).unwrap_err();
    assert_eq!(e.code(), "depth_exceeded");
    // A hop forged past the limit (bypassing marque's check) is denied by the token's Datalog.
    // Its block is the profile's own (what an honest delegation under a deeper limit writes),
    // signed by the real holder.
    let deeper = Token::mint(&w.root, &MintParams::new("agent:o", w.orch.public_key(), "user:a").right(Right::new("*", "*", "*")).max_depth(2).now(NOW))
        .unwrap()
        .delegate(&w.orch, &DelegateParams::new("agent:a", w.a.public_key()).now(NOW))
        .unwrap()
        .delegate(&w.a, &DelegateParams::new("agent:c", w.c.public_key()).now(NOW))
        .unwrap();
    let bytes = forge_hop(&t1, &w.a, None, &last_block_code(&deeper));
    let d = verifier(&w).authorize(&bytes, &req("x", "y", "z"), None, Some(NOW)).unwrap();
    assert!(!d.allowed);
    assert_eq!(d.code.as_deref(), Some("depth_exceeded"));
}

#[test]
fn proofs_of_possession() {
    let w = world();
    let v = verifier(&w).with_require_proof(true);
    let r = req("read_file", "read", "src/main.rs");
    let deny_code = |proof: Option<&str>, now: u64| {
        let d = v.authorize(w.tc.to_bytes(), &r, proof, Some(now)).unwrap();
        if d.allowed { None } else { d.code }
    };
    // Missing.
    assert_eq!(deny_code(None, NOW).as_deref(), Some("invalid_proof"));
    // Good, then replayed.
    let p = w.tc.sign_proof(&w.c, &r, Some(NOW)).unwrap();
    let d = v.authorize(w.tc.to_bytes(), &r, Some(&p), Some(NOW + 1)).unwrap();
    assert!(d.allowed && d.proof_verified);
    assert_eq!(deny_code(Some(&p), NOW + 2).as_deref(), Some("replayed_proof"));
    // Signed by another agent of the chain (a stolen token plus the wrong key).
    let forged = marque::proof::sign_proof(&w.a, w.tc.to_bytes(), &marque::proof::ProofRequest::new("read_file", "read", "src/main.rs"), NOW).unwrap();
    assert_eq!(deny_code(Some(&forged), NOW).as_deref(), Some("invalid_proof"));
    // Stale and future.
    let old = w.tc.sign_proof(&w.c, &r, Some(NOW - 61)).unwrap();
    assert_eq!(deny_code(Some(&old), NOW).as_deref(), Some("invalid_proof"));
    let future = w.tc.sign_proof(&w.c, &r, Some(NOW + 600)).unwrap();
    assert_eq!(deny_code(Some(&future), NOW).as_deref(), Some("invalid_proof"));
    // Bound to another request and to another token.
    let other_req = w.tc.sign_proof(&w.c, &req("read_file", "read", "src/other.rs"), Some(NOW)).unwrap();
    assert_eq!(deny_code(Some(&other_req), NOW).as_deref(), Some("invalid_proof"));
    let other_tok = w.ta.sign_proof(&w.a, &r, Some(NOW)).unwrap();
    assert_eq!(deny_code(Some(&other_tok), NOW).as_deref(), Some("invalid_proof"));
    // Garbage.
    assert_eq!(deny_code(Some("not a proof"), NOW).as_deref(), Some("invalid_proof"));
}

#[test]
fn replay_cache_flood_stays_bounded_and_fails_closed() {
    let w = world();
    let limits = Limits { replay_cache_capacity: 8, ..Limits::default() };
    let v = verifier(&w).with_limits(limits);
    let r = req("read_file", "read", "src/main.rs");
    for i in 0..8 {
        let p = w.tc.sign_proof(&w.c, &r, Some(NOW)).unwrap();
        assert!(v.authorize(w.tc.to_bytes(), &r, Some(&p), Some(NOW + i)).unwrap().allowed);
    }
    let p = w.tc.sign_proof(&w.c, &r, Some(NOW)).unwrap();
    assert_eq!(v.authorize(w.tc.to_bytes(), &r, Some(&p), Some(NOW + 9)).unwrap_err().code(), "limits_exceeded");
    // Once the window has passed, the cache frees itself.
    let p = w.tc.sign_proof(&w.c, &r, Some(NOW + 100)).unwrap();
    assert!(v.authorize(w.tc.to_bytes(), &r, Some(&p), Some(NOW + 100)).unwrap().allowed);
}

/// The replay cache holds proofs of allowed calls only: an expired token's proofs, a token
/// without the right's proofs and a revoked token's proofs never take a slot, however many.
#[test]
fn proofs_of_refused_calls_never_enter_the_replay_cache() {
    let w = world();
    let v = verifier(&w).with_limits(Limits { replay_cache_capacity: 4, replay_cache_per_key: 4, ..Limits::default() });
    let r = req("read_file", "read", "src/main.rs");
    // tc expires at NOW + 1800 (agent_a's hop); its holder signs perfectly good proofs after that.
    let late = NOW + 1801;
    // A token whose only right is of another tool, held by mallory.
    let mallory = kp(5);
    let zero = Token::mint(
        &w.root,
        &MintParams::new("agent:mallory", mallory.public_key(), "user:mallory").right(Right::new("ping", "*", "*")).now(NOW),
    )
    .unwrap();
    for i in 0..50 {
        let p = w.tc.sign_proof(&w.c, &r, Some(late)).unwrap();
        let d = v.authorize(w.tc.to_bytes(), &r, Some(&p), Some(late)).unwrap();
        assert_eq!(d.code.as_deref(), Some("expired"), "call {i}: {d:?}");
        let p = zero.sign_proof(&mallory, &r, Some(NOW)).unwrap();
        let d = v.authorize(zero.to_bytes(), &r, Some(&p), Some(NOW)).unwrap();
        assert_eq!(d.code.as_deref(), Some("not_authorized"), "call {i}: {d:?}");
    }
    // The cache is still empty: four legitimate proofs fit, the fifth finds it full.
    for i in 0..4 {
        let p = w.tc.sign_proof(&w.c, &r, Some(NOW)).unwrap();
        assert!(v.authorize(w.tc.to_bytes(), &r, Some(&p), Some(NOW)).unwrap().allowed, "proof {i}");
    }
    let p = w.tc.sign_proof(&w.c, &r, Some(NOW)).unwrap();
    assert_eq!(v.authorize(w.tc.to_bytes(), &r, Some(&p), Some(NOW)).unwrap_err().code(), "limits_exceeded");
}

/// A per-key quota: one key at its quota gets `limits_exceeded`, another key's proofs still pass.
#[test]
fn one_key_at_its_replay_quota_does_not_block_another() {
    let w = world();
    let v = verifier(&w).with_limits(Limits { replay_cache_capacity: 100, replay_cache_per_key: 3, ..Limits::default() });
    let r = req("read_file", "read", "src/main.rs");
    for _ in 0..3 {
        let p = w.tc.sign_proof(&w.c, &r, Some(NOW)).unwrap();
        assert!(v.authorize(w.tc.to_bytes(), &r, Some(&p), Some(NOW)).unwrap().allowed);
    }
    let p = w.tc.sign_proof(&w.c, &r, Some(NOW)).unwrap();
    let e = v.authorize(w.tc.to_bytes(), &r, Some(&p), Some(NOW)).unwrap_err();
    assert_eq!(e.code(), "limits_exceeded");
    assert!(e.message().contains(&w.c.public_key().fingerprint()), "{e}");
    // agent_a's key (another token, another holder) is not affected.
    for _ in 0..3 {
        let p = w.ta.sign_proof(&w.a, &r, Some(NOW)).unwrap();
        assert!(v.authorize(w.ta.to_bytes(), &r, Some(&p), Some(NOW)).unwrap().allowed);
    }
    // Once agent_c's proofs leave their window, its quota frees up.
    let p = w.tc.sign_proof(&w.c, &r, Some(NOW + 61)).unwrap();
    assert!(v.authorize(w.tc.to_bytes(), &r, Some(&p), Some(NOW + 61)).unwrap().allowed);
}

/// Someone who captured a token and its proof in flight presents them first in a call the
/// verifier denies (a request attribute a policy refuses): the nonce is not burnt, so the agent's
/// own call with that proof still passes, once; a replay is `replayed_proof` whether the
/// replayed call would be allowed or denied.
#[test]
fn a_denied_call_does_not_burn_the_nonce_of_a_captured_proof() {
    let w = world();
    let mut v = verifier(&w);
    v.add_policy(Policy::new("no-relay", "deny if attribute(\"via\", \"relay\");")).unwrap();
    let r = req("read_file", "read", "src/main.rs");
    let relayed = r.clone().attribute("via", "relay");
    let p = w.tc.sign_proof(&w.c, &r, Some(NOW)).unwrap();
    for _ in 0..3 {
        let d = v.authorize(w.tc.to_bytes(), &relayed, Some(&p), Some(NOW)).unwrap();
        assert_eq!((d.allowed, d.code.as_deref(), d.policy.as_deref()), (false, Some("not_authorized"), Some("no-relay")));
    }
    let d = v.authorize(w.tc.to_bytes(), &r, Some(&p), Some(NOW + 1)).unwrap();
    assert!(d.allowed && d.proof_verified, "{d:?}");
    for request in [&r, &relayed] {
        let d = v.authorize(w.tc.to_bytes(), request, Some(&p), Some(NOW + 2)).unwrap();
        assert_eq!((d.allowed, d.code.as_deref(), d.proof_verified), (false, Some("replayed_proof"), false), "{request:?}");
    }
}

#[test]
fn limits_are_typed_errors() {
    let w = world();
    let r = req("read_file", "read", "src/main.rs");
    let tiny = verifier(&w).with_limits(Limits { max_token_bytes: 200, ..Limits::default() });
    assert_eq!(tiny.authorize(w.tc.to_bytes(), &r, None, Some(NOW)).unwrap_err().code(), "limits_exceeded");
    let few = verifier(&w).with_limits(Limits { max_blocks: 2, ..Limits::default() });
    assert_eq!(few.authorize(w.tc.to_bytes(), &r, None, Some(NOW)).unwrap_err().code(), "limits_exceeded");
    assert!(few.authorize(w.ta.to_bytes(), &r, None, Some(NOW)).is_ok());

    // A hop whose Datalog would explode (a rule deriving 10,000 facts) is refused before it
    // runs: its block is not the profile's.
    let facts: String = (0..100).map(|i| format!("a({i});\n")).collect();
    let code = hop_datalog("agent:x", &w.c, NOW + 100);
    let bomb = forge_hop(&w.ta, &w.a, None, &format!("{code}{facts}p($x, $y) <- a($x), a($y);\ncheck if true;"));
    let e = verifier(&w).authorize(&bomb, &r, None, Some(NOW)).unwrap_err();
    assert_eq!(e.code(), "invalid_token");
    // Requests are bounded too.
    let long = req("read_file", "read", &"a".repeat(5000));
    assert_eq!(verifier(&w).authorize(w.tc.to_bytes(), &long, None, Some(NOW)).unwrap_err().code(), "limits_exceeded");
}

#[test]
fn user_policies_run_first_and_cannot_inject_rights() {
    let w = world();
    let mut v = verifier(&w);
    v.add_policy(Policy::new("no-secrets", "deny if resource($r), $r.starts_with(\"src/secrets/\");")).unwrap();
    let d = v.authorize(w.ta.to_bytes(), &req("read_file", "read", "src/secrets/k"), None, Some(NOW)).unwrap();
    assert!(!d.allowed);
    assert_eq!(d.policy.as_deref(), Some("no-secrets"));
    assert!(d.reasons[0].contains("no-secrets"));
    let d = v.authorize(w.ta.to_bytes(), &req("read_file", "read", "src/ok"), None, Some(NOW)).unwrap();
    assert_eq!(d.policy.as_deref(), Some("marque:rights"));
    let e = v.add_policy(Policy::new("inject", "right(\"*\", \"*\", \"*\");")).unwrap_err();
    assert_eq!(e.code(), "invalid_argument");
    let e = v.add_policy(Policy::new("bad", "allow if ((")).unwrap_err();
    assert_eq!(e.code(), "invalid_argument");
    // Policies may use the actor facts the verifier adds.
    let mut v = verifier(&w);
    v.add_policy(Policy::new("only-orch-deploys", "deny if tool(\"deploy\"), actor($a), $a != \"agent:orchestrator\";")).unwrap();
    assert!(v.authorize(w.t0.to_bytes(), &req("deploy", "run", "prod/x"), None, Some(NOW)).unwrap().allowed);
}

#[test]
fn sealed_tokens_cannot_be_delegated() {
    let w = world();
    let sealed = w.ta.seal().unwrap();
    assert!(sealed.is_sealed());
    let e = sealed.delegate(&w.a, &DelegateParams::new("agent:x", w.c.public_key()).now(NOW)).unwrap_err();
    assert_eq!(e.code(), "sealed");
    assert!(verifier(&w).authorize(sealed.to_bytes(), &req("read_file", "read", "src/x"), None, Some(NOW)).unwrap().allowed);
}

#[test]
fn first_authorization_after_start_is_not_a_cold_start_timeout() {
    // Run in a fresh process-like state: a new verifier, first call.
    let w = world();
    let v = verifier(&w);
    let d = v.authorize(w.tc.to_bytes(), &req("read_file", "read", "src/main.rs"), None, Some(NOW)).unwrap();
    assert!(d.allowed);
}

#[test]
fn decision_json_is_stable() {
    let w = world();
    let d = verifier(&w).authorize(w.tc.to_bytes(), &req("read_file", "read", "src/main.rs"), None, Some(NOW)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    for key in ["allowed", "code", "agent", "path", "principal", "task", "chain", "policy", "reasons", "revocation_ids", "request", "time", "expires_at"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["chain"][2], "agent:agent_c");
}

#[test]
fn verified_token_cache_skips_only_what_it_may() {
    let w = world();
    let v = verifier(&w);
    let r = req("read_file", "read", "src/main.rs");
    assert_eq!(v.verified_cache_len(), 0);
    let first = v.authorize(w.tc.to_bytes(), &r, None, Some(NOW)).unwrap();
    assert_eq!(v.verified_cache_len(), 1);
    let again = v.authorize(w.tc.to_bytes(), &r, None, Some(NOW)).unwrap();
    assert_eq!(first, again);
    assert_eq!(v.verified_cache_len(), 1, "a repeated token is served from the cache");
    // Still checked on a cached token: the request, the time, revocation and proofs.
    assert!(!v.authorize(w.tc.to_bytes(), &req("read_file", "read", "src/lib.rs"), None, Some(NOW)).unwrap().allowed);
    assert_eq!(v.authorize(w.tc.to_bytes(), &r, None, Some(NOW + 4000)).unwrap().code.as_deref(), Some("expired"));
    v.revoke(&w.tc.revocation_ids()[2]).unwrap();
    assert_eq!(v.authorize(w.tc.to_bytes(), &r, None, Some(NOW)).unwrap().code.as_deref(), Some("revoked"));
    // A tampered copy is a different key: verified from scratch, and refused.
    let mut bad = w.tc.to_bytes().to_vec();
    let n = bad.len() - 10;
    bad[n] ^= 1;
    assert!(v.authorize(&bad, &r, None, Some(NOW)).is_err());
    // Bounded: capacity 2 keeps 2.
    let small = verifier(&w).with_limits(Limits { verified_cache_capacity: 2, ..Limits::default() });
    for t in [&w.t0, &w.ta, &w.tc, &w.t0] {
        small.authorize(t.to_bytes(), &r, None, Some(NOW)).unwrap();
    }
    assert_eq!(small.verified_cache_len(), 2);
    // Rotating trust forgets everything verified before.
    let mut rotating = verifier(&w);
    rotating.authorize(w.tc.to_bytes(), &r, None, Some(NOW)).unwrap();
    rotating.add_root_key(None, kp(77).public_key());
    assert_eq!(rotating.verified_cache_len(), 0);
    // Disabled.
    let off = verifier(&w).with_limits(Limits { verified_cache_capacity: 0, ..Limits::default() });
    off.authorize(w.tc.to_bytes(), &r, None, Some(NOW)).unwrap();
    assert_eq!(off.verified_cache_len(), 0);
}

#[test]
fn decisions_become_audit_events_and_compact_jwts() {
    use marque::audit::AuditLog;
    use marque::jwt::{jwt_verify, JwtKeys, JwtOptions};
    let w = world();
    let v = verifier(&w);
    let server = kp(50);
    let mut log = AuditLog::new();
    let allowed = v.authorize(w.tc.to_bytes(), &req("read_file", "read", "src/main.rs"), None, Some(NOW)).unwrap();
    let denied = v.authorize(w.tc.to_bytes(), &req("read_file", "read", "src/lib.rs"), None, Some(NOW)).unwrap();
    log.append(&server, allowed.to_audit_event()).unwrap();
    log.append(&server, denied.to_audit_event()).unwrap();
    let report = log.verify(&[server.public_key()], None);
    assert!(report.ok, "{report:?}");
    let e = log.envelopes().nth(1).unwrap().unwrap();
    let json: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
    let event = &json["event"];
    assert_eq!(event["agent_id"], "agent:agent_c");
    assert_eq!(event["decision"], "deny");
    assert_eq!(event["chain"][1], "agent:agent_a");
    assert_eq!(event["attributes"]["denial_code"], "not_authorized");
    assert_eq!(event["token_id"], w.tc.revocation_ids()[2].as_str());
    let fingerprints = [w.orch.public_key().fingerprint(), w.a.public_key().fingerprint(), w.c.public_key().fingerprint()];
    assert_eq!(event["attributes"]["chain_key_fingerprints"], serde_json::json!(fingerprints));

    // Exchange an allowed decision for a compact JWT; a denied one is refused.
    let jwt = allowed.to_compact_jwt(&server, "https://gw.example", "https://tools.example", 60).unwrap();
    let claims = jwt_verify(&jwt, &JwtKeys::new().with_key(server.public_key()), &JwtOptions::new(NOW).audience("https://tools.example")).unwrap();
    assert_eq!(claims.sub.as_deref(), Some("agent:agent_c"));
    assert_eq!(claims.delegation_chain(), ["agent:orchestrator", "agent:agent_a", "agent:agent_c"]);
    assert!(claims.confirmation_matches(&w.c.public_key()));
    // The JWT names the one resource that was decided (with scope tool:operation).
    assert_eq!(claims.resource.as_deref(), Some(allowed.request.resource.as_str()));
    assert_eq!(claims.scopes(), [format!("{}:{}", allowed.request.tool, allowed.request.operation)]);
    assert_eq!(denied.to_compact_jwt(&server, "gw", "aud", 60).unwrap_err().code(), "not_authorized");
}

#[test]
fn revocation_can_be_checked_without_a_request() {
    let w = world();
    let v = verifier(&w);
    assert_eq!(v.revocation_reason(&w.tc), None);
    v.revoke_agent("agent:agent_a").unwrap();
    assert!(v.revocation_reason(&w.tc).unwrap().contains("agent:agent_a"));
    assert_eq!(v.revocation_reason(&w.t0), None);
}

/// Decisions carry the key fingerprints of the whole chain, and policies can key on the acting
/// agent's key through the verifier-added fact `actor_key(hex:…)`.
#[test]
fn decisions_carry_the_chain_keys_and_policies_see_the_actor_key() {
    let w = world();
    let d = verifier(&w).authorize(w.tc.to_bytes(), &req("read_file", "read", "src/main.rs"), None, Some(NOW)).unwrap();
    let keys = [&w.orch, &w.a, &w.c].map(|k| k.public_key().fingerprint());
    assert_eq!(d.chain_key_fingerprints, keys);
    assert_eq!(d.agent_key_fingerprint, keys[2]);
    let json: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
    assert_eq!(json["chain_key_fingerprints"], serde_json::json!(keys));
    // A record written before the field existed still reads back (empty).
    let mut old = json.clone();
    old.as_object_mut().unwrap().remove("chain_key_fingerprints");
    assert!(marque::Decision::from_json(&old.to_string()).unwrap().chain_key_fingerprints.is_empty());

    // An operator policy denying one key: agent_c's key is refused whoever holds the token.
    let mut v = verifier(&w);
    let c_key = w.c.public_key().to_hex();
    v.add_policy(Policy::new("no-c-key", format!("deny if actor_key(hex:{c_key});"))).unwrap();
    let denied = v.authorize(w.tc.to_bytes(), &req("read_file", "read", "src/main.rs"), None, Some(NOW)).unwrap();
    assert_eq!((denied.allowed, denied.policy.as_deref()), (false, Some("no-c-key")));
    let other = v.authorize(w.ta.to_bytes(), &req("read_file", "read", "src/main.rs"), None, Some(NOW)).unwrap();
    assert!(other.allowed, "{other:?}");
}

/// The identity rule at delegation: an id or a name already in the chain is refused, naming it.
#[test]
fn a_child_cannot_take_an_id_or_name_of_its_chain() {
    let w = world();
    for (to, what) in [
        ("agent:orchestrator", "agent:orchestrator"),
        ("agent:agent_a", "agent:agent_a"),
        ("agent:agent_c", "agent:agent_c"),
        ("x:orchestrator", "orchestrator"),
        ("x:agent_a", "agent_a"),
        ("x:root", "root"),
    ] {
        let e = w.tc.delegate(&w.c, &DelegateParams::new(to, kp(9).public_key()).now(NOW)).unwrap_err();
        assert_eq!(e.code(), "invalid_argument", "{to}");
        assert!(e.message().contains(what), "{to}: {e}");
    }
    let ok = w.tc.delegate(&w.c, &DelegateParams::new("agent:agent_d", kp(9).public_key()).now(NOW)).unwrap();
    assert_eq!(ok.path(), "/root/agent_a/agent_c/agent_d");
}
