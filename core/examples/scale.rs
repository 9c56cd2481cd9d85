//! Scale curves for docs/BENCH.md (issue 19 §2 and §4): how a verifier's authorize cost grows
//! with the delegation depth, the number of rights, the size of the revocation set, and how its
//! throughput grows with threads — cold (every signature and block checked), a fresh child of an
//! already-seen parent (verified-prefix cache), and a repeated token (verified-token cache).
//!
//! ```text
//! cargo run --release -p marque --features biscuit-fork --example scale -- [--runs N] [--iterations N]
//! ```
//!
//! Prints markdown tables: each cell is the median over `--runs` (default 3) of the per-run
//! median of `--iterations` (default 300) calls, in µs. Build with `biscuit-fork` (what every
//! shipped build does): without it the prefix cache is off and the "child" column is cold.

#[path = "../benches/shapes/mod.rs"]
mod shapes;

use std::sync::Arc;
use std::time::Instant;

use shapes::median;

use marque::{DelegateParams, KeyPair, MintParams, Request, Right, RevocationSet, Token, Verifier};

const NOW: u64 = 1_767_225_600;

fn key(n: u32) -> KeyPair {
    let mut seed = [7u8; 32];
    seed[..4].copy_from_slice(&n.to_be_bytes());
    KeyPair::from_seed(&seed)
}

/// The benches' authority block (two rights and a task) with `extra` more rights.
fn mint(extra: usize) -> Token {
    let mut p = MintParams::new("agent:orchestrator", key(0).public_key(), "user:alice")
        .task("fix-issue-42")
        .right(Right::new("read_file", "read", "*"))
        .right(Right::new("write_file", "write", "src/"))
        .ttl_seconds(3600)
        .max_depth(8)
        .now(NOW);
    for i in 0..extra {
        p = p.right(Right::new(format!("tool_{i}"), "run", format!("area_{i}/")));
    }
    Token::mint(&key(u32::MAX), &p).expect("mint")
}

/// `token` (held by agent `depth`, key `depth`) delegated once more, to agent `depth + 1`,
/// named `name`.
fn hop(token: &Token, depth: u32, name: &str) -> Token {
    token
        .delegate(&key(depth), &DelegateParams::new(name, key(depth + 1).public_key()).tools(["read_file"]).resource_prefix("src/").now(NOW))
        .expect("delegate")
}

/// A chain of `depth` hops on `root`.
fn chain(root: &Token, depth: u32) -> Token {
    (0..depth).fold(root.clone(), |t, d| hop(&t, d, &format!("agent:a{}", d + 1)))
}

fn request() -> Request {
    Request::new("read_file", "read", "src/lib.rs")
}

fn verifier(token_cache: bool, prefix_cache: bool) -> Verifier {
    shapes::verifier(key(u32::MAX).public_key(), token_cache, prefix_cache)
}

/// Median µs of `f` over `n` calls (after a short warm-up). The warm-up calls get the indices
/// `n..n + 20`, the timed calls `0..n`: a closure picking a new token by index never times one
/// the warm-up has already put in the verified-token cache.
fn time(n: usize, mut f: impl FnMut(usize)) -> f64 {
    for i in 0..n.min(20) {
        f(n + i);
    }
    shapes::time_us(n, f)
}

struct Cfg {
    runs: usize,
    iterations: usize,
}

/// Cold, child-of-seen-parent and cached medians for `token` (whose parent is `parent`).
/// Children of `parent` are made beforehand, one per call, so each is new to the verifier.
fn three(cfg: &Cfg, parent: Option<&Token>, token: &Token, depth: u32, revocations: &RevocationSet) -> (f64, Option<f64>, f64) {
    let bytes = token.to_bytes().to_vec();
    let req = request();
    let with_revs = |v: Verifier| {
        if !revocations.is_empty() {
            v.merge_revocations(revocations).expect("revocations");
        }
        v
    };
    let mut cold = Vec::new();
    let mut child = Vec::new();
    let mut cached = Vec::new();
    for _ in 0..cfg.runs {
        let v = with_revs(verifier(false, false));
        cold.push(time(cfg.iterations, |_| assert!(v.authorize(&bytes, &req, None, Some(NOW)).expect("authorize").allowed)));
        if let Some(parent) = parent {
            let v = with_revs(verifier(true, true));
            assert!(v.authorize(parent.to_bytes(), &req, None, Some(NOW)).expect("parent").allowed);
            let n = cfg.iterations + 20;
            let children: Vec<Vec<u8>> =
                (0..n).map(|i| hop(parent, depth - 1, &format!("agent:c{i}")).to_bytes().to_vec()).collect();
            child.push(time(cfg.iterations, |i| {
                assert!(v.authorize(&children[i], &req, None, Some(NOW)).expect("authorize").allowed)
            }));
        }
        let v = with_revs(verifier(true, true));
        cached.push(time(cfg.iterations, |_| assert!(v.authorize(&bytes, &req, None, Some(NOW)).expect("authorize").allowed)));
    }
    (median(cold), parent.map(|_| median(child)), median(cached))
}

fn row(label: String, (cold, child, cached): (f64, Option<f64>, f64)) {
    let child = child.map(|c| format!("{c:.1}")).unwrap_or_else(|| "–".into());
    println!("| {label} | {cold:.1} | {child} | {cached:.1} |");
}

fn header(what: &str) {
    println!("| {what} | cold (µs) | fresh child of a seen parent (µs) | repeated token (µs) |");
    println!("|---:|---:|---:|---:|");
}

/// Calls per second of `threads` threads sharing one verifier for `millis`.
fn throughput(threads: usize, millis: u64, v: Arc<Verifier>, tokens: Arc<Vec<Vec<u8>>>) -> f64 {
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (v, tokens) = (Arc::clone(&v), Arc::clone(&tokens));
            std::thread::spawn(move || {
                let req = request();
                let mut n = 0usize;
                while start.elapsed().as_millis() < u128::from(millis) {
                    // Threads take disjoint tokens; past the end they wrap (the throughput
                    // table says when: it would then measure repeated children).
                    assert!(tokens.len() == 1 || n * threads + t < tokens.len(), "too few children for this run");
                    let bytes = &tokens[(n * threads + t) % tokens.len()];
                    assert!(v.authorize(bytes, &req, None, Some(NOW)).expect("authorize").allowed);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let calls: usize = handles.into_iter().map(|h| h.join().expect("thread")).sum();
    calls as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
    };
    let cfg = Cfg { runs: arg("--runs", 3), iterations: arg("--iterations", 300) };
    let none = RevocationSet::new();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "marque core (release{}), {} CPUs, load average {}; median of {} runs of the median of {} calls",
        if cfg!(feature = "biscuit-fork") { ", biscuit-fork" } else { ", crates.io biscuit-auth: no prefix cache" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        cfg.runs,
        cfg.iterations
    );

    println!("\n**By delegation depth** (authority block with two rights and a task; each hop narrows tools and prefix):\n");
    header("depth");
    let root = mint(0);
    let mut parent: Option<Token> = None;
    let mut token = root.clone();
    for depth in 0..=8u32 {
        if depth > 0 {
            parent = Some(token.clone());
            token = hop(&token, depth - 1, &format!("agent:a{depth}"));
        }
        row(depth.to_string(), three(&cfg, parent.as_ref(), &token, depth, &none));
    }

    println!("\n**By number of rights** in the authority block (depth 1):\n");
    header("rights");
    for rights in [1usize, 2, 4, 8, 16, 32, 64] {
        let root = mint(rights.saturating_sub(2));
        let root = if rights == 1 {
            Token::mint(
                &key(u32::MAX),
                &MintParams::new("agent:orchestrator", key(0).public_key(), "user:alice")
                    .task("fix-issue-42")
                    .right(Right::new("read_file", "read", "*"))
                    .ttl_seconds(3600)
                    .now(NOW),
            )
            .expect("mint")
        } else {
            root
        };
        let token = chain(&root, 1);
        row(rights.to_string(), three(&cfg, Some(&root), &token, 1, &none));
    }

    println!("\n**By revocation-set size** (revoked token ids, none of them this token's; depth 2):\n");
    header("revoked ids");
    let parent = chain(&root, 1);
    let token = hop(&parent, 1, "agent:a2");
    for size in [0usize, 1_000, 100_000, 1_000_000] {
        let mut set = RevocationSet::new();
        for i in 0..size {
            set.revoke(&format!("{i:0128x}")).expect("revoke");
        }
        row(format!("{size}"), three(&cfg, Some(&parent), &token, 2, &set));
    }

    println!("\n**Throughput vs threads** (one shared verifier, depth 2, calls/s; 1 s per cell, median of the runs; every child is new to each run's verifier):\n");
    println!("| path | 1 thread | 2 threads | speed-up |");
    println!("|---|---:|---:|---:|");
    let tokens = Arc::new(vec![token.to_bytes().to_vec()]);
    let children = Arc::new((0..30_000).map(|i| hop(&parent, 1, &format!("agent:t{i}")).to_bytes().to_vec()).collect::<Vec<_>>());
    for (label, token_cache, prefix_cache, set) in [
        ("cold", false, false, &tokens),
        ("fresh children of a seen parent", false, true, &children),
        ("repeated token", true, true, &tokens),
    ] {
        let per = |threads: usize| {
            median(
                (0..cfg.runs)
                    .map(|_| {
                        let v = Arc::new(verifier(token_cache, prefix_cache));
                        // The parent is seen (the children's shared prefix); each child is new the first time.
                        assert!(v.authorize(parent.to_bytes(), &request(), None, Some(NOW)).expect("parent").allowed);
                        throughput(threads, 1000, v, Arc::clone(set))
                    })
                    .collect(),
            )
        };
        let (one, two) = (per(1), per(2));
        println!("| {label} | {one:.0} | {two:.0} | {:.2}× |", two / one);
    }
}
