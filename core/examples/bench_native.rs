//! The native core timing the same operations, on the same token content, as the Python and
//! Node benches (`bindings-python/bench/bench.py`, `bindings-node/bench/bench.mjs`), so their
//! tables can show the binding's overhead over the core measured on the same machine in the
//! same `scripts/bench.sh` run. Also measures the throughput of 1 vs 2 threads sharing one
//! `Verifier`.
//!
//! ```text
//! cargo run --release -p marque --example bench_native -- [--json PATH] [--iterations N]
//! ```
//!
//! Prints a markdown table; `--json` also writes `{"ops": {key: {"median_us", "p90_us"}},
//! "threads": {...}}` for the binding benches (`MARQUE_NATIVE_BENCH=PATH`).

use std::sync::Arc;
use std::time::Instant;

use marque::{AuditLog, DelegateParams, KeyPair, Limits, MintParams, Request, Right, Token, Verifier};

/// The shared workload (keep in step with the binding benches).
const NOW: u64 = 1_767_225_600;
const AUDIT_ENTRIES: usize = 1000;

fn keys() -> (KeyPair, KeyPair, KeyPair) {
    (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]))
}

fn mint_params(orch: &KeyPair) -> MintParams {
    MintParams::new("agent:orchestrator", orch.public_key(), "user:alice")
        .task("fix-issue-42")
        .right(Right::new("read_file", "read", "*"))
        .right(Right::new("write_file", "write", "src/"))
        .right(Right::new("run_tests", "*", "*"))
        .ttl_seconds(3600)
        .now(NOW)
}

fn delegate_params(child: &KeyPair) -> DelegateParams {
    DelegateParams::new("agent:agent_a", child.public_key()).tools(["read_file"]).resource_prefix("src/").now(NOW)
}

fn request() -> Request {
    Request::new("read_file", "read", "src/lib.rs")
}

#[derive(Clone, Copy)]
struct Stat {
    median: f64,
    p90: f64,
}

fn measure(iterations: usize, mut f: impl FnMut()) -> Stat {
    for _ in 0..iterations.min(50) {
        f();
    }
    let mut t: Vec<f64> = (0..iterations)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    Stat { median: t[t.len() / 2], p90: t[(t.len() * 9 / 10).min(t.len() - 1)] }
}

/// This thread's CPU time and run-queue wait so far, in ns (Linux schedstat; zeros elsewhere).
fn sched() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let mut it = s.split_whitespace().map(|v| v.parse::<u64>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// One throughput run: calls/s, and the cores' worth of CPU used and of run-queue wait (time
/// the threads were runnable but another process had the CPU) over the run's wall time. What
/// is left of `threads` cores is time the threads slept (lock contention would show there).
struct Run {
    per_second: f64,
    cpu: f64,
    queued: f64,
}

/// `threads` threads each running `per_thread` calls.
fn throughput(threads: usize, per_thread: usize, f: Arc<dyn Fn() + Send + Sync>) -> Run {
    let barrier = Arc::new(std::sync::Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (f, barrier) = (Arc::clone(&f), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let s0 = sched();
                for _ in 0..per_thread {
                    f();
                }
                let s1 = sched();
                (s1.0.saturating_sub(s0.0), s1.1.saturating_sub(s0.1))
            })
        })
        .collect();
    let start = Instant::now();
    barrier.wait();
    let (mut cpu, mut queued) = (0u64, 0u64);
    for h in handles {
        let (c, q) = h.join().expect("bench thread");
        cpu += c;
        queued += q;
    }
    let wall = start.elapsed().as_secs_f64();
    Run { per_second: (threads * per_thread) as f64 / wall, cpu: cpu as f64 / 1e9 / wall, queued: queued as f64 / 1e9 / wall }
}

/// The best (least disturbed) of three runs.
fn best_of_3(threads: usize, per_thread: usize, f: &Arc<dyn Fn() + Send + Sync>) -> Run {
    let mut runs: Vec<Run> = (0..3).map(|_| throughput(threads, per_thread, Arc::clone(f))).collect();
    runs.sort_by(|a, b| b.per_second.total_cmp(&a.per_second));
    runs.swap_remove(0)
}

/// The largest token within the default limits with `hops` delegations after a root token that
/// allows every tool: each hop lists as many tools (16-byte names, the same list at every hop so
/// each one narrows nothing) as fits the size limit evenly.
fn largest_token(root: &KeyPair, hops: usize) -> Token {
    let keys: Vec<KeyPair> = (0..=hops).map(|i| KeyPair::from_seed(&[40 + i as u8; 32])).collect();
    let minted = Token::mint(
        root,
        &MintParams::new("agent:orchestrator", keys[0].public_key(), "user:alice")
            .right(Right::new("*", "*", "*"))
            .max_depth(marque::token::MAX_DEPTH_CAP)
            .ttl_seconds(3600)
            .now(NOW),
    )
    .expect("mint");
    let build = |tools: usize| -> Option<Token> {
        let names: Vec<String> = (0..tools).map(|i| format!("tool_{i:011}")).collect();
        let mut t = minted.clone();
        for h in 0..hops {
            let mut params = DelegateParams::new(format!("agent:a{h}"), keys[h + 1].public_key()).resource_prefix("src/").now(NOW);
            if tools > 0 {
                params = params.tools(names.iter().cloned().chain(["read_file".to_string()]));
            }
            t = t.delegate(&keys[h], &params).ok()?;
        }
        Some(t)
    };
    let (mut lo, mut hi) = (0usize, 2048usize);
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if build(mid).is_some() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    build(lo).expect("a token within the limits")
}

/// `child_token` plus a hop block carrying the profile's Datalog and a five-way join check over
/// 20 facts (seconds of CPU before the canonical-block rule), signed by the real holder, as
/// base64url (no `Token` holds it: parsing refuses it).
fn hostile_join_token(child_token: &Token, child: &KeyPair) -> String {
    use base64::Engine as _;
    use prost::Message as _;
    let next = KeyPair::from_seed(&[60; 32]);
    let honest = child_token.delegate(child, &DelegateParams::new("agent:c", next.public_key()).now(NOW)).expect("delegate");
    let raw = biscuit_auth::format::schema::Biscuit::decode(honest.to_bytes()).expect("biscuit");
    let last = &raw.blocks.last().expect("hop").block;
    // Profile 3 blocks carry no JSON descriptor; a context, if any, is copied as it is.
    let context = biscuit_auth::format::schema::Block::decode(&last[..]).expect("block").context;
    let source = biscuit_auth::UnverifiedBiscuit::from(honest.to_bytes()).expect("parse").print_block_source(raw.blocks.len()).expect("source");
    let facts: String = (0..20).map(|i| format!("f({i});")).collect();
    let code = format!("{source}\n{facts} check if f($a), f($b), f($c), f($d), f($e), $a + $b + $c + $d + $e == -1;");
    let signer = biscuit_auth::PrivateKey::from_bytes(&child.to_seed()[..], biscuit_auth::Algorithm::Ed25519).expect("key");
    let block = match context {
        Some(context) => biscuit_auth::BlockBuilder::new().context(context),
        None => biscuit_auth::BlockBuilder::new(),
    };
    let block = block.code(code).expect("datalog");
    let parent = biscuit_auth::UnverifiedBiscuit::from(child_token.to_bytes()).expect("parse");
    let contents = parent.third_party_request().expect("request").create_block(&signer, block).expect("block");
    let bytes = parent.append_third_party(&contents.serialize().expect("serialize")).expect("append").to_vec().expect("bytes");
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut json_path = None;
    let mut n = 2000usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--json" => json_path = args.next(),
            "--iterations" => n = args.next().and_then(|v| v.parse().ok()).unwrap_or(n),
            "--quick" => n = 200,
            _ => {
                eprintln!("usage: bench_native [--json PATH] [--iterations N] [--quick]");
                std::process::exit(2);
            }
        }
    }
    let (root, orch, child) = keys();
    let token = Token::mint(&root, &mint_params(&orch)).expect("mint");
    let child_token = token.delegate(&orch, &delegate_params(&child)).expect("delegate");
    let text = child_token.to_base64();
    let req = request();
    let now = Some(NOW + 1);
    let warm = Arc::new(Verifier::new([root.public_key()]).with_limits(Limits { replay_cache_capacity: 10_000_000, replay_cache_per_key: 10_000_000, ..Limits::default() }));
    let cold = Arc::new(Verifier::new([root.public_key()]).with_limits(Limits { verified_cache_capacity: 0, prefix_cache_capacity: 0, ..Limits::default() }));

    let mut ops: Vec<(&str, &str, Stat)> = Vec::new();
    ops.push(("mint", "mint (authority block)", measure(n, || drop(Token::mint(&root, &mint_params(&orch)).expect("mint")))));
    ops.push((
        "delegate",
        "delegate (1 hop, third-party block)",
        measure(n, || drop(token.delegate(&orch, &delegate_params(&child)).expect("delegate"))),
    ));
    ops.push((
        "authorize_cold",
        "authorize, no cache (base64 text, 2 blocks)",
        measure(n, || assert!(cold.authorize_base64(&text, &req, None, now).expect("authorize").allowed)),
    ));
    let node_limits = Limits { replay_cache_capacity: 10_000_000, replay_cache_per_key: 10_000_000, max_time_micros: 1_000_000, ..Limits::default() };
    ops.push((
        "authorize_fresh_verifier",
        "authorize, fresh verifier (construct + parse base64 + verify + Datalog)",
        measure(n, || {
            let v = Verifier::new([root.public_key()]).with_limits(node_limits.clone());
            assert!(v.authorize_base64(&text, &req, None, now).expect("authorize").allowed)
        }),
    ));
    // The worst tokens a holder can build within the limits. Every block must be the profile's
    // block for its descriptor (docs/PROFILE.md), so a holder's only levers are the size of
    // what a hop lists and the number of hops: a 2-block token filled to the size limit, and a
    // token with the most blocks (16), filled to the size limit too. And a hop block carrying a
    // heavy Datalog join (refused: time to the refusal).
    let worst_two = largest_token(&root, 1).to_base64();
    let worst_all = largest_token(&root, Limits::default().max_blocks - 1).to_base64();
    let hostile = hostile_join_token(&child_token, &child);
    ops.push((
        "authorize_cold_worst_2_blocks",
        "authorize, no cache: largest 2-block token (one hop listing tools up to 16 KiB)",
        measure(n, || drop(cold.authorize_base64(&worst_two, &req, None, now).expect("authorize"))),
    ));
    ops.push((
        "authorize_cold_worst_16_blocks",
        "authorize, no cache: largest token within the limits (16 blocks, 16 KiB)",
        measure(n, || drop(cold.authorize_base64(&worst_all, &req, None, now).expect("authorize"))),
    ));
    ops.push((
        "authorize_cold_hostile_join",
        "authorize, no cache: hop block with a five-way join check (refused as non-canonical)",
        measure(n, || assert_eq!(cold.authorize_base64(&hostile, &req, None, now).unwrap_err().code(), "invalid_token")),
    ));
    ops.push((
        "authorize_warm",
        "authorize, repeated token (verified cache)",
        measure(n, || assert!(warm.authorize_base64(&text, &req, None, now).expect("authorize").allowed)),
    ));
    ops.push((
        "proof_sign",
        "proof: sign",
        measure(n, || drop(child_token.sign_proof(&child, &req, now).expect("sign"))),
    ));
    let proofs: Vec<String> = (0..n + 50).map(|_| child_token.sign_proof(&child, &req, now).expect("sign")).collect();
    let mut next = 0;
    ops.push((
        "authorize_proof",
        "authorize + proof verify (verified cache)",
        measure(n, || {
            let p = &proofs[next % proofs.len()];
            next += 1;
            assert!(warm.authorize_base64(&text, &req, Some(p), now).expect("authorize").allowed);
        }),
    ));
    let server = KeyPair::from_seed(&[9; 32]);
    let event = cold.authorize_base64(&text, &req, None, now).expect("authorize").to_audit_event();
    let mut log = AuditLog::new();
    ops.push(("audit_append", "audit: append (sign + chain)", measure(n, || drop(log.append(&server, event.clone()).expect("append")))));
    let mut full = AuditLog::new();
    for _ in 0..AUDIT_ENTRIES {
        full.append(&server, event.clone()).expect("append");
    }
    let trusted = [server.public_key()];
    let audit = measure((n / 10).max(10), || assert!(full.verify(&trusted, None).ok));
    ops.push(("audit_verify_1000", "audit: verify 1,000-entry log (in memory)", audit));
    let claims = marque::Claims::new()
        .issuer("https://gateway.example")
        .subject("agent:agent_a")
        .audience("mcp")
        .valid_for(NOW, 3600)
        .scope("read_file")
        .actor_chain(&["agent:orchestrator", "agent:agent_a"]);
    let jwt = marque::jwt_issue(&server, &claims, Some("k1")).expect("jwt");
    let jwt_keys = marque::JwtKeys::new().with("k1", server.public_key());
    let jwt_opts = marque::JwtOptions::new(NOW + 1).audience("mcp");
    ops.push(("jwt_issue", "jwt: issue (EdDSA)", measure(n, || drop(marque::jwt_issue(&server, &claims, Some("k1")).expect("jwt")))));
    ops.push(("jwt_verify", "jwt: verify (EdDSA)", measure(n, || drop(marque::jwt_verify(&jwt, &jwt_keys, &jwt_opts).expect("jwt")))));

    // 1 vs 2 threads sharing one verifier.
    let per = (n / 2).max(100);
    let mut threads = Vec::new();
    for (key, v, iters) in [("authorize_cold", Arc::clone(&cold), per), ("authorize_warm", Arc::clone(&warm), per * 4)] {
        let (text, req) = (text.clone(), req.clone());
        let f: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            assert!(v.authorize_base64(&text, &req, None, now).expect("authorize").allowed);
        });
        throughput(1, iters / 10, Arc::clone(&f)); // warm-up
        let one = best_of_3(1, iters, &f);
        let two = best_of_3(2, iters, &f);
        threads.push((key, one, two));
    }

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    println!(
        "marque core (native, release), {} CPUs, load average {load}; {n} iterations (audit verification: {}); µs per operation\n",
        std::thread::available_parallelism().map(|p| p.get()).unwrap_or(1),
        (n / 10).max(10)
    );
    println!("| operation | median | p90 |");
    println!("|---|---:|---:|");
    for (_, label, s) in &ops {
        println!("| {label} | {:.1} | {:.1} |", s.median, s.p90);
    }
    let median = |key: &str| ops.iter().find(|(k, _, _)| *k == key).map(|(_, _, s)| s.median).unwrap_or(f64::NAN);
    let cold_median = median("authorize_cold");
    println!(
        "\nWorst tokens a holder can build, against a normal cold authorization ({cold_median:.1} µs, 2 blocks): \
         largest 2-block token {:.2}×, largest token within the limits (16 blocks) {:.2}×, \
         hop block with a five-way join (refused) {:.2}×.",
        median("authorize_cold_worst_2_blocks") / cold_median,
        median("authorize_cold_worst_16_blocks") / cold_median,
        median("authorize_cold_hostile_join") / cold_median,
    );
    println!(
        "\nAudit log verification: {:.0} entries/s (median of a {AUDIT_ENTRIES}-entry log, one core).",
        AUDIT_ENTRIES as f64 / audit.median * 1e6
    );
    println!("\n| threads sharing one Verifier | 1 thread (ops/s) | 2 threads (ops/s) | speed-up | 2 threads: CPU used / run-queue wait / asleep (cores) |");
    println!("|---|---:|---:|---:|---|");
    for (key, one, two) in &threads {
        println!(
            "| {key} | {:.0} | {:.0} | {:.2}× | {:.2} / {:.2} / {:.2} |",
            one.per_second,
            two.per_second,
            two.per_second / one.per_second,
            two.cpu,
            two.queued,
            (2.0 - two.cpu - two.queued).max(0.0)
        );
    }

    if let Some(path) = json_path {
        let ops_json: serde_json::Map<String, serde_json::Value> = ops
            .iter()
            .map(|(k, _, s)| (k.to_string(), serde_json::json!({"median_us": s.median, "p90_us": s.p90})))
            .collect();
        let threads_json: serde_json::Map<String, serde_json::Value> = threads
            .iter()
            .map(|(k, one, two)| {
                let ratio = two.per_second / one.per_second;
                (k.to_string(), serde_json::json!({"one": one.per_second, "two": two.per_second, "ratio": ratio, "two_cpu": two.cpu, "two_queued": two.queued}))
            })
            .collect();
        let doc = serde_json::json!({"ops": ops_json, "threads": threads_json, "load": load});
        std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("json")).expect("write --json");
    }
}
