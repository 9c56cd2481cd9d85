//! A hop or authority block that carries more than the profile's Datalog (issue: CPU/memory denial of service): refused with invalid_token before any Datalog runs.
//!
//! Every hostile hop here is what a real holder can build: `agent_a` holds its token and its
//! own key, takes the exact Datalog an honest delegation to `agent_c` would write (profile 3:
//! the claims are read back from it), adds, drops or reorders something, and signs the block
//! with its real key (biscuit-auth's third-party
//! API). The controls rebuild the same blocks with nothing added and are accepted, so each
//! refusal is the added Datalog's. The authority case is signed by the root key itself (an
//! operator bug, or an insider forging with the root key): still refused.

use biscuit_auth::builder::{BlockBuilder, Scope};
use biscuit_auth::{BiscuitBuilder, UnverifiedBiscuit};
use marque::delegate::DelegateParams;
use marque::{KeyPair, Token};
use prost::Message as _;
use serde_json::json;

use crate::{allowed, error, key, req, scenario, Book, NOW};

/// The Datalog text of `token`'s block `index` (profile 3 blocks carry no context).
pub(crate) fn block_parts(token: &Token, index: usize) -> String {
    let raw = biscuit_auth::format::schema::Biscuit::decode(token.to_bytes()).expect("biscuit");
    let block = if index == 0 { &raw.authority.block } else { &raw.blocks[index - 1].block };
    assert_eq!(biscuit_auth::format::schema::Block::decode(&block[..]).expect("block").context, None);
    UnverifiedBiscuit::from(token.to_bytes()).expect("parse").print_block_source(index).expect("source")
}

/// The Datalog of the hop `holder` would honestly append to `parent`.
pub(crate) fn honest_hop(parent: &Token, holder: &KeyPair, params: &DelegateParams) -> String {
    let child = parent.delegate(holder, params).expect("delegate");
    block_parts(&child, child.chain().len() - 1)
}

/// `parent` with a third-party block built by `block`, signed by `signer` (base64url).
pub(crate) fn append(parent: &Token, signer: &KeyPair, block: BlockBuilder) -> String {
    let ub = UnverifiedBiscuit::from(parent.to_bytes()).expect("parse");
    let sk = biscuit_auth::PrivateKey::from_bytes(&signer.to_seed()[..], biscuit_auth::Algorithm::Ed25519).expect("key");
    let contents = ub.third_party_request().expect("request").create_block(&sk, block).expect("block");
    let bytes = ub.append_third_party(&contents.serialize().expect("serialize")).expect("append").to_vec().expect("bytes");
    base64_url(&bytes)
}

pub(crate) fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

pub(crate) fn code_block(code: &str) -> BlockBuilder {
    BlockBuilder::new().code(code).expect("datalog")
}

pub fn cases(b: &mut Book) {
    let (t0, ta) = scenario();
    let agent_a = key("agent_a");
    let to_c = || DelegateParams::new("agent:agent_c", key("agent_c").public_key()).now(NOW);
    let code = honest_hop(&ta, &agent_a, &to_c());
    let read = || req("read_file", "read", "src/main.rs");

    // Control: the hop rebuilt from the honest Datalog is the profile's block.
    let control = b.token_b64("blocks/hop rebuilt as the profile's block", append(&ta, &agent_a, code_block(&code)));
    b.authorize("blocks: control, a hop rebuilt from the profile's Datalog", &control, read(), allowed());

    // A canonical hop whose time check's `exp` is past the parent's (what `delegate` never
    // writes: it clamps to the parent): the block is the profile's own, so it is read, and the
    // parent's expiry still binds (found by the hop_block_datalog fuzz target's oracle).
    let (t0_long, _) = scenario();
    let ta_long = t0_long
        .delegate(
            &key("orchestrator"),
            &DelegateParams::new("agent:agent_a", agent_a.public_key()).tools(["read_file"]).operations(["read"]).resource_prefix("src/").now(NOW),
        )
        .expect("delegate");
    let late_code = honest_hop(&ta_long, &agent_a, &to_c());
    assert!(late_code != code, "the long-lived hop differs");
    let late = b.token_b64("blocks/hop claiming an exp past its parent's", append(&ta, &agent_a, code_block(&late_code)));
    b.authorize("blocks: a canonical hop claiming a later exp than its parent is read (allowed while the parent lives)", &late, read(), allowed());
    b.case(json!({"name": "blocks: a canonical hop claiming a later exp than its parent expires with the parent", "op": "authorize",
        "root": "root", "token": late, "request": read(), "proof": null, "now": NOW + 1801, "expect": crate::denied("expired")}));

    let hostile: Vec<(&str, String)> = vec![
        ("an extra fact", format!("{code}\nextra(1);")),
        ("an extra check", format!("{code}\ncheck if tool(\"read_file\");")),
        (
            "an extra rule (a four-way join deriving 2.56 million facts)",
            format!(
                "{code}\n{} g($a, $b, $c, $d) <- f($a), f($b), f($c), f($d);",
                (0..40).map(|i| format!("f({i});")).collect::<String>()
            ),
        ),
        (
            "an extra heavy check (a five-way join over 20 facts)",
            format!(
                "{code}\n{} check if f($a), f($b), f($c), f($d), f($e), $a + $b + $c + $d + $e == -1;",
                (0..20).map(|i| format!("f({i});")).collect::<String>()
            ),
        ),
        (
            "a check trusting another key",
            format!("{code}\ncheck if right($t, $o, $r) trusting ed25519/{};", key("mallory").public_key().to_hex()),
        ),
    ];
    for (what, datalog) in hostile {
        let name = b.token_b64(&format!("blocks/hop with {what}"), append(&ta, &agent_a, code_block(&datalog)));
        b.authorize(&format!("blocks: a hop block signed by its holder with {what}"), &name, read(), error("invalid_token"));
    }

    // Approval rules are written sorted and without repeats (docs/PROFILE.md): any other order
    // or a repeat is refused, though rebuilding the block from its own facts would reproduce it
    // byte for byte (found by the hop_block_datalog fuzz target's oracle).
    let rules = honest_hop(
        &ta,
        &agent_a,
        &to_c().require_approval(marque::Right::new("read_file", "read", "src/secret/")).require_approval(marque::Right::new("read_file", "read", "src/a/")),
    );
    let lines: Vec<&str> = rules.lines().filter(|l| !l.trim().is_empty()).collect();
    let at: Vec<usize> = lines.iter().enumerate().filter(|(_, l)| l.starts_with("needs_approval(")).map(|(i, _)| i).collect();
    assert_eq!(at.len(), 2, "{rules}");
    let sorted = b.token_b64("blocks/hop with two approval rules", append(&ta, &agent_a, code_block(&lines.join("\n"))));
    b.authorize("blocks: control, a hop with two approval rules in the profile's order", &sorted, read(), allowed());
    let mut swapped = lines.clone();
    swapped.swap(at[0], at[1]);
    let mut repeated = lines.clone();
    repeated.insert(at[1], lines[at[0]]);
    for (what, datalog) in [("its approval rules out of order", swapped.join("\n")), ("an approval rule repeated", repeated.join("\n"))] {
        let name = b.token_b64(&format!("blocks/hop with {what}"), append(&ta, &agent_a, code_block(&datalog)));
        b.authorize(&format!("blocks: a hop block signed by its holder with {what}"), &name, read(), error("invalid_token"));
    }

    // A block-level scope (`trusting previous`) and nothing else added.
    let scoped = b.token_b64("blocks/hop with a block scope", append(&ta, &agent_a, code_block(&code).scope(Scope::Previous)));
    b.authorize("blocks: a hop block with a scope (trusting previous)", &scoped, read(), error("invalid_token"));

    // Profile 3 reads the claims back from the Datalog: every other shape of the same claims
    // is refused — a check missing (the time bound), repeated, reordered or written another way.
    let narrow = honest_hop(&ta, &agent_a, &to_c().tools(["read_file"]).operations(["read"]).max_depth(3));
    let lines: Vec<&str> = narrow.lines().filter(|l| !l.trim().is_empty()).collect();
    let (hop_fact, time, tool, op, depth) = (lines[0], lines[1], lines[2], lines[3], lines[4]);
    assert!(hop_fact.starts_with("hop(") && time.contains("time(") && tool.contains("tool(") && op.contains("operation(") && depth.contains("depth("), "{narrow}");
    let narrow_ok = b.token_b64("blocks/hop narrowing tools, operations and depth", append(&ta, &agent_a, code_block(&narrow)));
    b.authorize("blocks: control, a hop narrowing tools, operations and depth", &narrow_ok, read(), allowed());
    let reshaped: Vec<(&str, String)> = vec![
        ("no time check", [hop_fact, tool, op, depth].join("\n")),
        ("its time check twice", [hop_fact, time, time, tool, op, depth].join("\n")),
        ("its tool and operation checks reordered", [hop_fact, time, op, tool, depth].join("\n")),
        ("its time check after the others", [hop_fact, tool, op, depth, time].join("\n")),
        ("the tool check written as an equality", [hop_fact, time, "check if tool($tool), $tool == \"read_file\";", op, depth].join("\n")),
        ("a check on a predicate the profile does not narrow", [hop_fact, time, "check if actor($actor), $actor == \"agent:agent_c\";"].join("\n")),
        ("two checks in one (or)", [hop_fact, &format!("{} or tool($tool), {{\"read_file\"}}.contains($tool);", time.trim_end_matches(';'))].join("\n")),
        ("no hop fact", [time].join("\n")),
        ("two hop facts", [hop_fact, hop_fact.replace("agent:agent_c", "agent:agent_d").as_str(), time].join("\n")),
        (
            "a profile-2 hop fact (depth and path written in)",
            [hop_fact.replacen("hop(\"agent:agent_c\"", "hop(2, \"agent:agent_c\", \"/root/agent_a/agent_c\"", 1).as_str(), time].join("\n"),
        ),
        ("a hop fact with an integer for the key", [hop_fact.split(", hex:").next().map(|h| format!("{h}, 42);")).unwrap_or_default().as_str(), time].join("\n")),
    ];
    for (what, datalog) in reshaped {
        let name = b.token_b64(&format!("blocks/hop with {what}"), append(&ta, &agent_a, code_block(&datalog)));
        b.authorize(&format!("blocks: a hop block signed by its holder with {what}"), &name, read(), error("invalid_token"));
    }
    // A context string (profile 2 wrote its descriptor there) beside the profile's Datalog.
    let with_context = b.token_b64("blocks/hop with a context string", append(&ta, &agent_a, code_block(&code).context("{}".into())));
    b.authorize("blocks: a hop block with a context string", &with_context, read(), error("invalid_token"));

    // The verified-prefix cache (issue 19 §2): one verifier, calls in order, its verified-token
    // cache off so every call is verified again. The honest control is verified first, so the
    // two blocks every sibling repeats are a cached prefix; a hostile sibling (an extra fact,
    // signed by its real holder) is still refused, twice (a token that fails a check is never
    // remembered); a sibling whose last block signature has one bit flipped is refused; the
    // control is still allowed.
    // The hostile sibling is read as the profile's hop (a `src/lib/` prefix) but its resource
    // check always passes (`… || true`): only the canonical-block check refuses it, so were a
    // refused token's prefixes remembered, its second call would be allowed on `src/main.rs`.
    let lib_code = honest_hop(&ta, &agent_a, &to_c().resource_prefix("src/lib/"));
    let neutered: Vec<String> = lib_code
        .lines()
        .map(|l| if l.contains("resource(") { format!("{} || true;", l.trim_end().trim_end_matches(';')) } else { l.to_string() })
        .collect();
    assert!(neutered.iter().any(|l| l.contains("|| true")), "{lib_code}");
    let neutered = b.token_b64("blocks/sibling whose resource check always passes", append(&ta, &agent_a, code_block(&neutered.join("\n"))));
    let control_b64 = append(&ta, &agent_a, code_block(&code));
    let hostile_sibling = b.token_b64(
        "blocks/sibling of the control with an extra fact",
        append(&ta, &agent_a, code_block(&format!("{code}\nextra(1);"))),
    );
    let forged_sibling = {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE.decode(&control_b64).expect("base64");
        let mut raw = biscuit_auth::format::schema::Biscuit::decode(&bytes[..]).expect("biscuit");
        raw.blocks.last_mut().expect("hop").signature[0] ^= 1;
        b.token_b64("blocks/sibling of the control with its hop signature flipped", base64_url(&raw.encode_to_vec()))
    };
    let call = |token: &str| json!({"token": token, "request": read(), "proof": null, "now": NOW});
    b.case(json!({"name": "blocks: after an honest sibling, a hostile sibling sharing its verified prefix is refused, again, and a forged one too",
        "op": "authorize_sequence", "root": "root", "verifier": {"limits": {"verified_cache_capacity": 0}},
        "calls": [call(&control), call(&hostile_sibling), call(&hostile_sibling), call(&forged_sibling), call(&control)],
        "expect": {"sequence": [allowed(), error("invalid_token"), error("invalid_token"), error("invalid_signature"), allowed()]}}));
    b.case(json!({"name": "blocks: a hostile hop refused first is refused again, and its honest sibling still allowed",
        "op": "authorize_sequence", "root": "root", "verifier": {"limits": {"verified_cache_capacity": 0}},
        "calls": [call(&hostile_sibling), call(&hostile_sibling), call(&neutered), call(&neutered), call(&control)],
        "expect": {"sequence": [error("invalid_token"), error("invalid_token"), error("invalid_token"), error("invalid_token"), allowed()]}}));

    // Nobody delegates on top of a hostile block: parsing it is already refused.
    let heavy = b.token_b64(
        "blocks/hop with an extra fact, to delegate from",
        append(&ta, &agent_a, code_block(&format!("{code}\nextra(1);"))),
    );
    b.case(json!({"name": "blocks: delegating on top of a hostile hop block", "op": "delegate", "token": heavy, "holder": "agent_c",
        "params": {"to": "agent:agent_d", "to_key": "mallory", "now": NOW},
        "expect": error("invalid_token")}));

    // The authority block, signed by the root key: the profile's block (control), then the
    // same with one extra fact granting every right.
    let auth_code = block_parts(&t0, 0);
    let root = biscuit_auth::KeyPair::from(
        &biscuit_auth::PrivateKey::from_bytes(&key("root").to_seed()[..], biscuit_auth::Algorithm::Ed25519).expect("root"),
    );
    let root_id = marque::verify::derived_key_id(&key("root").public_key());
    let authority_with = |context: Option<String>, code: String| {
        let mut builder = BiscuitBuilder::new().root_key_id(root_id).code(code).expect("datalog");
        if let Some(c) = context {
            builder = builder.context(c);
        }
        let token = builder.build(&root).expect("build");
        base64_url(&token.to_vec().expect("bytes"))
    };
    let authority = |code: String| authority_with(None, code);
    let rebuilt = b.token_b64("blocks/authority rebuilt as the profile's block", authority(auth_code.clone()));
    b.authorize("blocks: control, an authority block rebuilt from the profile's Datalog", &rebuilt, req("read_file", "read", "secrets/key"), allowed());
    // (An extra `right` fact signed by the root is a right: profile 3 reads the claims from the
    // Datalog, so it is what the root granted. What the profile never writes is refused.)
    let widened = b.token_b64("blocks/authority with an extra rule", authority(format!("{auth_code}\nright($t, $o, \"*\") <- tool($t), operation($o);")));
    b.authorize("blocks: a root-signed authority block with an extra rule deriving rights", &widened, req("deploy", "run", "prod"), error("invalid_token"));
    let unknown = b.token_b64("blocks/authority with an extra fact", authority(format!("{auth_code}\nadmin(true);")));
    b.authorize("blocks: a root-signed authority block with a fact the profile does not write", &unknown, req("deploy", "run", "prod"), error("invalid_token"));
    // The profile version is read from the authority block: another number is refused, and
    // a profile-2 token (descriptor in the context, `marque_profile(2)`) is told to re-mint.
    let v2_code = auth_code.replace("marque_profile(3)", "marque_profile(2)");
    assert_ne!(v2_code, auth_code);
    let v2 = b.token_b64("blocks/authority saying marque_profile(2)", authority_with(None, v2_code.clone()));
    b.authorize("blocks: an authority block saying marque_profile(2) (profile 2 token: re-mint)", &v2, read(), error("invalid_token"));
    let v4 = b.token_b64("blocks/authority saying marque_profile(4)", authority_with(None, auth_code.replace("marque_profile(3)", "marque_profile(4)")));
    b.authorize("blocks: an authority block saying marque_profile(4)", &v4, read(), error("invalid_token"));
    let descriptor = format!(
        r#"{{"marque":2,"agent":"agent:orchestrator","key":"{}","principal":"user:alice","rights":[],"iat":{NOW},"exp":{},"max_depth":4}}"#,
        key("orchestrator").public_key().to_hex(),
        NOW + 3600
    );
    let p2 = b.token_b64("blocks/a profile-2 token (descriptor and marque_profile(2))", authority_with(Some(descriptor), v2_code));
    b.authorize("blocks: a profile-2 token (descriptor in the context) is refused: re-mint", &p2, read(), error("invalid_token"));
    let no_version = b.token_b64("blocks/authority without marque_profile", authority_with(None, auth_code.replace("marque_profile(3);", "")));
    b.authorize("blocks: an authority block without marque_profile", &no_version, read(), error("invalid_token"));
    let twice = b.token_b64("blocks/authority with two agent facts", authority_with(None, format!("{auth_code}\nagent(\"agent:other\");")));
    b.authorize("blocks: an authority block with two agent facts", &twice, read(), error("invalid_token"));
}
