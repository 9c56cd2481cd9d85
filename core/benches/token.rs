//! Token work, marque beside plain biscuit-auth on the equivalent token (same machine, same run).
//!
//! `cargo bench -p marque --bench token` — scripts/bench.sh turns the results into a table.
//! `examples/peers.rs` measures the same shapes interleaved, for ratios on a noisy machine.

mod shapes;

use std::time::Duration;

use biscuit_auth::builder::BlockBuilder;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use marque::proof::{sign_proof_with_nonce, ProofRequest};
use marque::{DelegateParams, Token, Verifier};
use shapes::{kp, mint_params, three_block_token, NOW};

fn marque_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("marque");
    let root = kp(1);
    // The parameters made once (they hold the agent's public key, whose derivation from a seed
    // is a base-point multiplication biscuit-auth's mint row does not pay).
    let params = mint_params();
    g.bench_function("mint", |b| b.iter(|| Token::mint(&root, &params).unwrap()));
    let t0 = Token::mint(&root, &params).unwrap();
    let orch = kp(2);
    let next = kp(3).public_key(); // made once: deriving it is a base-point multiplication
    g.bench_function("delegate", |b| {
        b.iter(|| t0.delegate(&orch, &DelegateParams::new("agent:a", next).tools(["read_file"]).now(NOW)).unwrap())
    });
    let token = three_block_token();
    let bytes = token.to_bytes().to_vec();
    let request = shapes::request();
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
    let parent = shapes::two_block_token();
    let seen = Verifier::new([root.public_key()]);
    assert!(seen.authorize(parent.to_bytes(), &request, None, Some(NOW)).unwrap().allowed);
    let fresh_child = || shapes::third_block(&parent, "agent:c").to_bytes().to_vec();
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
/// and with third-party blocks, authorized by an equivalent policy (`shapes`).
fn biscuit_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("biscuit_auth");
    let root = shapes::biscuit_root();
    g.bench_function("mint", |b| b.iter(|| shapes::biscuit_mint(&root)));
    let t0 = shapes::biscuit_mint(&root);
    g.bench_function("attenuate", |b| b.iter(|| t0.append(BlockBuilder::new().code(shapes::BLOCK1).unwrap()).unwrap()));
    let agent = shapes::biscuit_agent();
    let agent_pub = biscuit_auth::KeyPair::from(&agent).public();
    g.bench_function("third_party_append", |b| {
        b.iter(|| {
            let req = t0.third_party_request().unwrap();
            let block = req.create_block(&agent, BlockBuilder::new().code(shapes::BLOCK1).unwrap()).unwrap();
            t0.append_third_party(agent_pub, block).unwrap()
        })
    });
    let plain = shapes::biscuit_three_blocks(&root);
    g.bench_function("parse_verify_3_blocks", |b| b.iter(|| biscuit_auth::Biscuit::from(&plain[..], root.public()).unwrap()));
    g.bench_function("authorize_3_blocks", |b| b.iter(|| shapes::biscuit_authorize(&root, &plain)));
    // The identical bytes marque produces (third-party hops), authorized by biscuit-auth alone.
    let marque_bytes = three_block_token().to_bytes().to_vec();
    g.bench_function("authorize_marque_token_bytes", |b| b.iter(|| shapes::biscuit_authorize(&root, &marque_bytes)));
    g.finish();
}

fn config() -> Criterion {
    Criterion::default().sample_size(30).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = marque_benches, biscuit_benches }
criterion_main!(benches);
