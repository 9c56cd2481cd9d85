//! Token work, marque beside plain biscuit-auth on the equivalent token (same machine, same run).
//!
//! `cargo bench -p marque --bench token` — scripts/bench.sh turns the results into a table.

use std::time::Duration;

use biscuit_auth::builder::BlockBuilder;
use biscuit_auth::{AuthorizerBuilder, AuthorizerLimits, Biscuit, KeyPair as BKeyPair, PrivateKey};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use marque::proof::{sign_proof_with_nonce, ProofRequest};
use marque::{DelegateParams, KeyPair, MintParams, Request, Right, Token, Verifier};

const NOW: u64 = 1_767_225_600;

fn kp(n: u8) -> KeyPair {
    KeyPair::from_seed(&[n; 32])
}

fn mint_params() -> MintParams {
    MintParams::new("agent:orchestrator", kp(2).public_key(), "user:alice")
        .task("fix-issue-42")
        .right(Right::new("read_file", "read", "*"))
        .right(Right::new("write_file", "write", "src/"))
        .ttl_seconds(3600)
        .now(NOW)
}

fn three_block_token() -> Token {
    Token::mint(&kp(1), &mint_params())
        .unwrap()
        .delegate(&kp(2), &DelegateParams::new("agent:a", kp(3).public_key()).tools(["read_file"]).resource_prefix("src/").now(NOW))
        .unwrap()
        .delegate(&kp(3), &DelegateParams::new("agent:c", kp(4).public_key()).resource_prefix("src/main.rs").now(NOW))
        .unwrap()
}

fn marque_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("marque");
    let root = kp(1);
    g.bench_function("mint", |b| b.iter(|| Token::mint(&root, &mint_params()).unwrap()));
    let t0 = Token::mint(&root, &mint_params()).unwrap();
    let orch = kp(2);
    g.bench_function("delegate", |b| {
        b.iter(|| t0.delegate(&orch, &DelegateParams::new("agent:a", kp(3).public_key()).tools(["read_file"]).now(NOW)).unwrap())
    });
    let token = three_block_token();
    let bytes = token.to_bytes().to_vec();
    let request = Request::new("read_file", "read", "src/main.rs");
    let verifier = Verifier::new([root.public_key()]);
    g.bench_function("authorize_3_blocks", |b| {
        b.iter(|| assert!(verifier.authorize(&bytes, &request, None, Some(NOW)).unwrap().allowed))
    });
    // Without the verified-token and verified-prefix caches: parse + every signature + claims +
    // Datalog each time.
    let uncached = Verifier::new([root.public_key()])
        .with_limits(marque::Limits { verified_cache_capacity: 0, prefix_cache_capacity: 0, ..marque::Limits::default() });
    g.bench_function("authorize_3_blocks_cold", |b| {
        b.iter(|| assert!(uncached.authorize(&bytes, &request, None, Some(NOW)).unwrap().allowed))
    });
    // A fresh child of an already-seen parent (issue 19 §2): the default verifier has verified
    // the 2-block parent; each call authorizes a 3-block child it has never seen (made in the
    // untimed setup), so only the child's own block is checked (verified-prefix cache).
    let parent = Token::mint(&root, &mint_params())
        .unwrap()
        .delegate(&kp(2), &DelegateParams::new("agent:a", kp(3).public_key()).tools(["read_file"]).resource_prefix("src/").now(NOW))
        .unwrap();
    let seen = Verifier::new([root.public_key()]);
    assert!(seen.authorize(parent.to_bytes(), &request, None, Some(NOW)).unwrap().allowed);
    let fresh_child = || {
        parent.delegate(&kp(3), &DelegateParams::new("agent:c", kp(4).public_key()).resource_prefix("src/main.rs").now(NOW)).unwrap().to_bytes().to_vec()
    };
    g.bench_function("authorize_3_blocks_child_of_seen_parent", |b| {
        b.iter_batched(fresh_child, |child| assert!(seen.authorize(&child, &request, None, Some(NOW)).unwrap().allowed), BatchSize::SmallInput)
    });
    // Cold cost per extra hop: the same cold verifier on 2 and 4 blocks (3 blocks above).
    let two = parent.to_bytes().to_vec();
    g.bench_function("authorize_2_blocks_cold", |b| {
        b.iter(|| assert!(uncached.authorize(&two, &request, None, Some(NOW)).unwrap().allowed))
    });
    let four = token.delegate(&kp(4), &DelegateParams::new("agent:d", kp(5).public_key()).now(NOW)).unwrap().to_bytes().to_vec();
    g.bench_function("authorize_4_blocks_cold", |b| {
        b.iter(|| assert!(uncached.authorize(&four, &request, None, Some(NOW)).unwrap().allowed))
    });
    g.bench_function("parse_token", |b| b.iter(|| Token::from_bytes(&bytes).unwrap()));
    let agent = kp(4);
    let preq = ProofRequest::new("read_file", "read", "src/main.rs");
    g.bench_function("proof_sign", |b| b.iter(|| sign_proof_with_nonce(&agent, &bytes, &preq, NOW, [7; 16]).unwrap_or_default()));
    let proof = sign_proof_with_nonce(&agent, &bytes, &preq, NOW, [7; 16]).unwrap_or_default();
    let pk = agent.public_key();
    g.bench_function("proof_verify", |b| {
        b.iter(|| marque::proof::verify_proof(&proof, &pk, &bytes, &preq, NOW, 60, 5).unwrap())
    });
    g.finish();
}

/// biscuit-auth alone: the same content as marque's 3-block token, with plain attenuation blocks
/// and with third-party blocks, authorized by an equivalent policy.
fn biscuit_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("biscuit_auth");
    let root = BKeyPair::from(&PrivateKey::from_bytes(&[1; 32], biscuit_auth::Algorithm::Ed25519).unwrap());
    let authority = r#"agent("agent:orchestrator"); principal("user:alice"); task("fix-issue-42");
        right("read_file", "read", "*"); right("write_file", "write", "src/");
        check if time($time), $time <= 2026-01-01T01:00:00Z;"#;
    let block1 = r#"check if tool($tool), {"read_file"}.contains($tool); check if resource($res), ($res + "/").starts_with("src/");"#;
    let block2 = r#"check if resource($res), ($res + "/").starts_with("src/main.rs/");"#;
    let mint = || Biscuit::builder().code(authority).unwrap().build(&root).unwrap();
    g.bench_function("mint", |b| b.iter(mint));
    let t0 = mint();
    g.bench_function("attenuate", |b| b.iter(|| t0.append(BlockBuilder::new().code(block1).unwrap()).unwrap()));
    let agent = PrivateKey::from_bytes(&[2; 32], biscuit_auth::Algorithm::Ed25519).unwrap();
    let agent_pub = BKeyPair::from(&agent).public();
    g.bench_function("third_party_append", |b| {
        b.iter(|| {
            let req = t0.third_party_request().unwrap();
            let block = req.create_block(&agent, BlockBuilder::new().code(block1).unwrap()).unwrap();
            t0.append_third_party(agent_pub, block).unwrap()
        })
    });
    let plain = t0
        .append(BlockBuilder::new().code(block1).unwrap())
        .unwrap()
        .append(BlockBuilder::new().code(block2).unwrap())
        .unwrap()
        .to_vec()
        .unwrap();
    let policy = r##"allow if tool($tool), operation($op), resource($res), right($rt, $ro, $rr), ($rt == "*" || $rt == $tool), ($ro == "*" || $ro == $op), ($rr == "*" || ($res + "/").starts_with($rr));"##;
    let authorize = |bytes: &[u8]| {
        let token = Biscuit::from(bytes, root.public()).unwrap();
        let mut a = AuthorizerBuilder::new()
            .code(format!(r#"time(2026-01-01T00:00:00Z); tool("read_file"); operation("read"); resource("src/main.rs"); depth(2); {policy}"#))
            .unwrap()
            // marque's default time limit; biscuit-auth's 1 ms default times out under load.
            .set_limits(AuthorizerLimits { max_time: Duration::from_millis(20), ..Default::default() })
            .build(&token)
            .unwrap();
        a.authorize().unwrap()
    };
    g.bench_function("parse_verify_3_blocks", |b| b.iter(|| Biscuit::from(&plain[..], root.public()).unwrap()));
    g.bench_function("authorize_3_blocks", |b| b.iter(|| authorize(&plain)));
    // The identical bytes marque produces (third-party hops), authorized by biscuit-auth alone.
    let marque_bytes = three_block_token().to_bytes().to_vec();
    g.bench_function("authorize_marque_token_bytes", |b| b.iter(|| authorize(&marque_bytes)));
    g.finish();
}

fn config() -> Criterion {
    Criterion::default().sample_size(30).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = marque_benches, biscuit_benches }
criterion_main!(benches);
