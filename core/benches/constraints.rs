//! The cost of the constraints layer, each beside its peer in the same run: verifying an
//! approval (beside a proof of possession), spending a budget in memory (Redis: the
//! `marque-redis` bench), and a Rego policy (regorus) beside the same policy in Datalog
//! (biscuit-auth's authorizer on the same facts).
//!
//! `cargo bench -p marque --features rego --bench constraints`

use std::time::Duration;

use biscuit_auth::macros::authorizer;
use biscuit_auth::AuthorizerLimits;
use criterion::{criterion_group, criterion_main, Criterion};
use marque::approval::{request_digest, sign_approval_with_nonce, verify_approval, Approvers};
use marque::budget::{charges, Budget, CounterStore, MemoryCounterStore, Rate};
use marque::proof::{sign_proof_with_nonce, verify_proof, ProofRequest};
use marque::rego::{RegoInput, RegoPolicy};
use marque::{KeyPair, Request};

const NOW: u64 = 1_767_225_600;

/// The users' policy, verbatim.
const REGO: &str = include_str!("../../tests/vectors/rego/agent_authz.rego");

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("constraints");
    let alice = KeyPair::from_seed(&[7; 32]);
    let request = Request::new("deploy", "deploy", "svc/web").attribute("resource.env", "production");
    let digest = request_digest(b"token bytes of a typical size, roughly", &request);
    let approval = sign_approval_with_nonce(&alice, "user:alice", &digest, NOW, 300, [1; 16]).unwrap();
    let mut approvers = Approvers::new();
    approvers.add("user:alice", alice.public_key()).unwrap();
    g.bench_function("approval_verify", |b| b.iter(|| verify_approval(&approval, &approvers, &digest, NOW + 1, 5).unwrap()));
    let preq = ProofRequest::new("deploy", "deploy", "svc/web");
    let proof = sign_proof_with_nonce(&alice, b"tok", &preq, NOW, [1; 16]).unwrap();
    g.bench_function("proof_verify (peer)", |b| b.iter(|| verify_proof(&proof, &alice.public_key(), b"tok", &preq, NOW, 60, 5).unwrap()));
    g.bench_function("request_digest", |b| b.iter(|| request_digest(b"token bytes of a typical size, roughly", &request)));

    // A 3-hop chain, two budgets (a lifetime and a rate): charges + one spend.
    let store = MemoryCounterStore::new(1_000_000);
    let parent = Budget::max_calls(1_000_000_000);
    let child = Budget::rate(Rate::new(1_000_000_000, 60).unwrap());
    g.bench_function("budget_spend_memory_2_hops", |b| {
        b.iter(|| store.spend(&charges([("rev-parent", &parent), ("rev-child", &child)], NOW, NOW + 3600).unwrap()).unwrap())
    });

    let policy = RegoPolicy::new("authz", Some("1"), REGO).unwrap();
    let mut input = RegoInput::for_request("deploy", "deploy", "svc/web", NOW);
    input.agent.role = Some("deployer".into());
    input.resource_attribute("env", "staging");
    g.bench_function("rego_policy", |b| b.iter(|| policy.evaluate(&input).unwrap()));
    // The same decision in Datalog, on the same facts.
    g.bench_function("datalog_policy (peer)", |b| {
        b.iter(|| {
            let mut a = authorizer!(
                r#"role("deployer"); operation("deploy"); attribute("resource.env", "staging");
                   allow if role("reviewer"), operation("comment"), attribute("resource.type", "pull_request");
                   allow if role("deployer"), operation("deploy"), attribute("resource.env", "staging");"#
            )
            .set_limits(AuthorizerLimits { max_time: Duration::from_millis(50), ..Default::default() })
            .build_unauthenticated()
            .unwrap();
            a.authorize().unwrap()
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default().sample_size(30).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2))
}

criterion_group! { name = group; config = config(); targets = benches }
criterion_main!(group);
