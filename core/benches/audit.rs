//! Audit-log and compact-JWT throughput: `cargo bench -p marque --bench audit`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use marque::audit::AuditDecision;
#[cfg(feature = "std")]
use marque::audit::{verify_jsonl_reader, VerifyOptions};
use marque::{jwt_issue, jwt_verify, AuditEvent, AuditLog, Claims, JwtKeys, JwtOptions, KeyPair};
#[cfg(feature = "std")]
use std::io::Cursor;

fn event(i: u64) -> AuditEvent {
    AuditEvent::new(
        "tool_call",
        "agent:reviewer",
        "read_file",
        format!("src/module_{i}.rs"),
        AuditDecision::Allow,
        1_700_000_000 + i,
    )
    .agent_key(&KeyPair::from_seed(&[3; 32]).public_key())
    .principal("user:alice")
    .chain(["agent:orchestrator", "agent:reviewer"])
    .task("fix-issue-42")
    .operation("read")
    .policy("default", Some("3"))
    .token_id(format!("{:064x}", i))
    .attribute("mcp.session.id", "s-1")
}

fn log_of(n: u64) -> AuditLog {
    let kp = KeyPair::from_seed(&[1; 32]);
    let mut log = AuditLog::new();
    for i in 0..n {
        log.append(&kp, event(i)).ok();
    }
    log
}

fn audit(c: &mut Criterion) {
    let trusted = [KeyPair::from_seed(&[1; 32]).public_key()];
    let mut g = c.benchmark_group("audit_verify");
    g.sample_size(10);
    for n in [1_000u64, 10_000] {
        let log = log_of(n);
        g.throughput(Throughput::Elements(n));
        g.bench_function(format!("in_memory/{n}"), |b| {
            b.iter(|| assert!(black_box(log.verify(&trusted, None)).ok))
        });
        #[cfg(feature = "std")]
        {
            let text = log.to_jsonl();
            g.bench_function(format!("streamed/{n}"), |b| {
                b.iter(|| {
                    let r = verify_jsonl_reader(
                        Cursor::new(text.as_bytes()),
                        &trusted,
                        None,
                        &VerifyOptions::default(),
                    );
                    assert!(black_box(r).map(|r| r.ok).unwrap_or(false))
                })
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("audit_append");
    g.throughput(Throughput::Elements(1));
    let kp = KeyPair::from_seed(&[1; 32]);
    g.bench_function("append", |b| {
        b.iter_batched_ref(
            || (log_of(10), event(10)),
            |(log, ev)| black_box(log.append(&kp, ev.clone())).ok(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn jwt(c: &mut Criterion) {
    let kp = KeyPair::from_seed(&[1; 32]);
    let claims = Claims::new()
        .issuer("https://orchestrator.example")
        .subject("agent:reviewer")
        .audience("https://tools.example")
        .valid_for(1_700_000_000, 300)
        .scope("read_file search")
        .actor_chain(&["agent:orchestrator", "agent:reviewer"]);
    let token = jwt_issue(&kp, &claims, Some("k1")).unwrap_or_default();
    let keys = JwtKeys::new().with("k1", kp.public_key());
    let options = JwtOptions::new(1_700_000_100).audience("https://tools.example");
    let mut g = c.benchmark_group("jwt");
    g.throughput(Throughput::Elements(1));
    g.bench_function("issue", |b| b.iter(|| black_box(jwt_issue(&kp, &claims, Some("k1")))));
    g.bench_function("verify", |b| {
        b.iter(|| assert!(black_box(jwt_verify(&token, &keys, &options)).is_ok()))
    });
    g.finish();
}

criterion_group!(benches, audit, jwt);
criterion_main!(benches);
