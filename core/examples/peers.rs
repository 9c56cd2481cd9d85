//! marque beside plain biscuit-auth, **interleaved**: issue 19's native ratios measured so that
//! a noisy machine (a shared VM, other builds) hits every row alike. criterion (`benches/token.rs`)
//! runs one row after the other, so on such a machine its rows can drift apart by ±30 %; here each
//! round times every operation once (`--iterations` calls each) and a ratio is taken **within the
//! round**, then the median of the rounds' ratios is printed.
//!
//! ```text
//! cargo run --release -p marque --features biscuit-fork --example peers -- [--rounds N] [--iterations N]
//! ```
//!
//! Shapes (`benches/shapes`): marque's 3-block token (authority block with two rights and a task,
//! two hops) and the plain biscuit-auth token with the same facts and checks, authorized with the
//! equivalent policy. Rows: biscuit-auth's full 3-block authorize (the reference), marque cold
//! (both caches off), a fresh child of an already-seen parent (verified-prefix cache), the
//! repeated token (verified-token cache), biscuit-auth on marque's own bytes, cold 2 and 4 blocks
//! (cost per hop), and mint / delegate beside biscuit-auth's mint and third-party append.

#[path = "../benches/shapes/mod.rs"]
mod shapes;

use biscuit_auth::builder::BlockBuilder;
use marque::{DelegateParams, Token, Verifier};
use shapes::{kp, median, mint_params, time_us as time, NOW};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
    };
    let rounds = arg("--rounds", 15).max(1);
    let n = arg("--iterations", 100).max(1);

    let req = shapes::request();
    let parent = shapes::two_block_token();
    let token = shapes::third_block(&parent, "agent:c");
    let three = token.to_bytes().to_vec();
    let two = parent.to_bytes().to_vec();
    let four = token.delegate(&kp(4), &DelegateParams::new("agent:d", kp(5).public_key()).now(NOW)).unwrap().to_bytes().to_vec();
    let broot = shapes::biscuit_root();
    let plain = shapes::biscuit_three_blocks(&broot);
    let bt0 = shapes::biscuit_mint(&broot);
    let bagent = shapes::biscuit_agent();
    let bagent_pub = biscuit_auth::KeyPair::from(&bagent).public();
    // Keys made once, as a long-lived signer holds them (deriving a key pair from a seed is a
    // base-point multiplication, which biscuit-auth's rows do not pay either).
    let (root, orch, next) = (kp(1), kp(2), kp(3).public_key());
    let params = mint_params();
    let t0 = Token::mint(&root, &params).unwrap();
    let allowed = |v: &Verifier, bytes: &[u8]| assert!(v.authorize(bytes, &req, None, Some(NOW)).expect("authorize").allowed);

    const ROWS: [&str; 11] = [
        "biscuit-auth: authorize, 3 blocks (parse + 3 signatures + authorizer)",
        "marque: authorize cold, 3 blocks (both caches off)",
        "marque: fresh child of an already-seen parent (3 blocks, 1 new)",
        "marque: repeated token (verified-token cache)",
        "biscuit-auth alone on marque's 3-block bytes",
        "marque: authorize cold, 2 blocks",
        "marque: authorize cold, 4 blocks",
        "biscuit-auth: mint",
        "marque: mint",
        "biscuit-auth: third-party append (a hop signed by the agent)",
        "marque: delegate (one hop)",
    ];
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); ROWS.len()];
    for _ in 0..rounds {
        let verifier = |token_cache, prefix_cache| shapes::verifier(kp(1).public_key(), token_cache, prefix_cache);
        let cold = verifier(false, false);
        let cached = verifier(true, true);
        allowed(&cached, &three);
        let seen = verifier(true, true);
        allowed(&seen, &two);
        // One new child per call, made before the timing.
        let children: Vec<Vec<u8>> = (0..n).map(|i| shapes::third_block(&parent, &format!("agent:c{i}")).to_bytes().to_vec()).collect();
        let row = [
            time(n, |_| {
                shapes::biscuit_authorize(&broot, &plain);
            }),
            time(n, |_| allowed(&cold, &three)),
            time(n, |i| allowed(&seen, &children[i])),
            time(n, |_| allowed(&cached, &three)),
            time(n, |_| {
                shapes::biscuit_authorize(&broot, &three);
            }),
            time(n, |_| allowed(&cold, &two)),
            time(n, |_| allowed(&cold, &four)),
            time(n, |_| drop(shapes::biscuit_mint(&broot))),
            time(n, |_| drop(Token::mint(&root, &params).unwrap())),
            time(n, |_| {
                let r = bt0.third_party_request().unwrap();
                let block = r.create_block(&bagent, BlockBuilder::new().code(shapes::BLOCK1).unwrap()).unwrap();
                drop(bt0.append_third_party(bagent_pub, block).unwrap());
            }),
            time(n, |_| {
                drop(t0.delegate(&orch, &DelegateParams::new("agent:a", next).tools(["read_file"]).resource_prefix("src/").now(NOW)).unwrap())
            }),
        ];
        for (s, v) in samples.iter_mut().zip(row) {
            s.push(v);
        }
    }
    let ratio = |a: usize, b: usize| median(samples[a].iter().zip(&samples[b]).map(|(x, y)| x / y).collect());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "marque core (release{}) beside biscuit-auth 6.0.0, {} CPUs, load average {}; {rounds} rounds of {n} calls per row, interleaved",
        if cfg!(feature = "biscuit-fork") { ", biscuit-fork" } else { ", crates.io biscuit-auth: no prefix cache" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    );
    println!();
    println!("| row | median of the round medians (µs) | ratio to its peer, median of the rounds |");
    println!("|---|---:|---:|");
    let peer = [None, Some(0), Some(0), Some(0), Some(0), None, None, None, Some(7), None, Some(9)];
    for (i, name) in ROWS.iter().enumerate() {
        let r = peer[i].map(|p| format!("{:.2}×", ratio(i, p))).unwrap_or_default();
        println!("| {name} | {:.1} | {r} |", median(samples[i].clone()));
    }
    let per_hop: Vec<f64> = samples[6].iter().zip(&samples[5]).map(|(four, two)| (four - two) / 2.0).collect();
    println!();
    println!("Cold cost per extra hop (4 blocks − 2 blocks, ÷ 2, within each round): {:.1} µs.", median(per_hop));
    println!(
        "marque cold / biscuit-auth alone on the identical bytes (marque's own checks on top of the same signatures and Datalog): {:.2}×.",
        ratio(1, 4)
    );
    println!("Ratios of rows 2–5 are to biscuit-auth's 3-block authorize; mint and delegate to biscuit-auth's mint and third-party append.");
}
