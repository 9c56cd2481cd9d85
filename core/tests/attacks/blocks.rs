//! A hop or authority block that carries more than the profile's Datalog (issue: CPU/memory denial of service): refused with invalid_token before any Datalog runs.
//!
//! Every hostile hop here is what a real holder can build: `agent_a` holds its token and its
//! own key, takes the exact descriptor and Datalog an honest delegation to `agent_c` would
//! write, adds something, and signs the block with its real key (biscuit-auth's third-party
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

/// The descriptor and Datalog text of `token`'s block `index`.
fn block_parts(token: &Token, index: usize) -> (String, String) {
    let raw = biscuit_auth::format::schema::Biscuit::decode(token.to_bytes()).expect("biscuit");
    let block = if index == 0 { &raw.authority.block } else { &raw.blocks[index - 1].block };
    let ctx = biscuit_auth::format::schema::Block::decode(&block[..]).expect("block").context.expect("descriptor");
    let code = UnverifiedBiscuit::from(token.to_bytes()).expect("parse").print_block_source(index).expect("source");
    (ctx, code)
}

/// The descriptor and Datalog of the hop `holder` would honestly append to `parent`.
fn honest_hop(parent: &Token, holder: &KeyPair, params: &DelegateParams) -> (String, String) {
    let child = parent.delegate(holder, params).expect("delegate");
    block_parts(&child, child.chain().len() - 1)
}

/// `parent` with a third-party block built by `block`, signed by `signer` (base64url).
fn append(parent: &Token, signer: &KeyPair, block: BlockBuilder) -> String {
    let ub = UnverifiedBiscuit::from(parent.to_bytes()).expect("parse");
    let sk = biscuit_auth::PrivateKey::from_bytes(&signer.to_seed()[..], biscuit_auth::Algorithm::Ed25519).expect("key");
    let contents = ub.third_party_request().expect("request").create_block(&sk, block).expect("block");
    let bytes = ub.append_third_party(&contents.serialize().expect("serialize")).expect("append").to_vec().expect("bytes");
    base64_url(&bytes)
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

fn code_block(ctx: &str, code: &str) -> BlockBuilder {
    BlockBuilder::new().context(ctx.to_string()).code(code).expect("datalog")
}

pub fn cases(b: &mut Book) {
    let (t0, ta) = scenario();
    let agent_a = key("agent_a");
    let to_c = || DelegateParams::new("agent:agent_c", key("agent_c").public_key()).now(NOW);
    let (ctx, code) = honest_hop(&ta, &agent_a, &to_c());
    let read = || req("read_file", "read", "src/main.rs");

    // Control: the hop rebuilt from the honest descriptor and Datalog is the profile's block.
    let control = b.token_b64("blocks/hop rebuilt as the profile's block", append(&ta, &agent_a, code_block(&ctx, &code)));
    b.authorize("blocks: control, a hop rebuilt from its descriptor and the profile's Datalog", &control, read(), allowed());

    // A canonical hop for a descriptor whose `exp` is past the parent's (what `delegate` never
    // writes: it clamps to the parent): the block is the profile's own, so it is read, and the
    // parent's expiry still binds (found by the hop_block_datalog fuzz target's oracle).
    let (t0_long, _) = scenario();
    let ta_long = t0_long
        .delegate(
            &key("orchestrator"),
            &DelegateParams::new("agent:agent_a", agent_a.public_key()).tools(["read_file"]).operations(["read"]).resource_prefix("src/").now(NOW),
        )
        .expect("delegate");
    let (late_ctx, late_code) = honest_hop(&ta_long, &agent_a, &to_c());
    assert!(late_ctx != ctx, "the long-lived descriptor differs");
    let late = b.token_b64("blocks/hop claiming an exp past its parent's", append(&ta, &agent_a, code_block(&late_ctx, &late_code)));
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
        let name = b.token_b64(&format!("blocks/hop with {what}"), append(&ta, &agent_a, code_block(&ctx, &datalog)));
        b.authorize(&format!("blocks: a hop block signed by its holder with {what}"), &name, read(), error("invalid_token"));
    }

    // A block-level scope (`trusting previous`) and nothing else added.
    let scoped = b.token_b64("blocks/hop with a block scope", append(&ta, &agent_a, code_block(&ctx, &code).scope(Scope::Previous)));
    b.authorize("blocks: a hop block with a scope (trusting previous)", &scoped, read(), error("invalid_token"));

    // The descriptor narrows to src/lib/ but the Datalog is a hop without the prefix check:
    // the claims (and a decision's reasons) would say src/lib/ while src/main.rs is allowed.
    let narrow = to_c().resource_prefix("src/lib/");
    let (narrow_ctx, _) = honest_hop(&ta, &agent_a, &narrow);
    let mismatch = b.token_b64("blocks/hop whose Datalog is wider than its descriptor", append(&ta, &agent_a, code_block(&narrow_ctx, &code)));
    b.authorize("blocks: a hop descriptor narrowing to src/lib/ over Datalog that does not", &mismatch, read(), error("invalid_token"));

    // The same descriptor fields, as JSON that is not the canonical serialization (a space).
    let spaced = ctx.replacen("{\"marque\"", "{ \"marque\"", 1);
    assert_ne!(spaced, ctx);
    let spaced = b.token_b64("blocks/hop whose descriptor JSON is not canonical", append(&ta, &agent_a, code_block(&spaced, &code)));
    b.authorize("blocks: a hop descriptor with the same fields in non-canonical JSON", &spaced, read(), error("invalid_token"));

    // The hop fact names another key than the descriptor does.
    let (_, mallory_code) = honest_hop(&ta, &agent_a, &DelegateParams::new("agent:agent_c", key("mallory").public_key()).now(NOW));
    let other_key = b.token_b64("blocks/hop whose hop fact names another key", append(&ta, &agent_a, code_block(&ctx, &mallory_code)));
    b.authorize("blocks: a hop fact naming another key than its descriptor", &other_key, read(), error("invalid_token"));

    // Nobody delegates on top of a hostile block: parsing it is already refused.
    let heavy = b.token_b64(
        "blocks/hop with an extra fact, to delegate from",
        append(&ta, &agent_a, code_block(&ctx, &format!("{code}\nextra(1);"))),
    );
    b.case(json!({"name": "blocks: delegating on top of a hostile hop block", "op": "delegate", "token": heavy, "holder": "agent_c",
        "params": {"to": "agent:agent_d", "to_key": "mallory", "now": NOW},
        "expect": error("invalid_token")}));

    // The authority block, signed by the root key: the profile's block (control), then the
    // same with one extra fact granting every right.
    let (auth_ctx, auth_code) = block_parts(&t0, 0);
    let root = biscuit_auth::KeyPair::from(
        &biscuit_auth::PrivateKey::from_bytes(&key("root").to_seed()[..], biscuit_auth::Algorithm::Ed25519).expect("root"),
    );
    let root_id = marque::verify::derived_key_id(&key("root").public_key());
    let authority = |code: String| {
        let token = BiscuitBuilder::new().context(auth_ctx.clone()).root_key_id(root_id).code(code).expect("datalog").build(&root).expect("build");
        base64_url(&token.to_vec().expect("bytes"))
    };
    let rebuilt = b.token_b64("blocks/authority rebuilt as the profile's block", authority(auth_code.clone()));
    b.authorize("blocks: control, an authority block rebuilt from its descriptor", &rebuilt, req("read_file", "read", "secrets/key"), allowed());
    let widened = b.token_b64("blocks/authority with an extra fact", authority(format!("{auth_code}\nright(\"*\", \"*\", \"*\");")));
    b.authorize("blocks: a root-signed authority block with an extra fact (right *:*:*)", &widened, req("deploy", "run", "prod"), error("invalid_token"));
}
