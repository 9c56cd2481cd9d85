//! Measures the very first authorization in a fresh process (lazy initialisation included)
//! against the next ones, to check the default Datalog time limit leaves room for a cold start.
//!
//! `cargo run --release -p marque --example cold_start`

use std::time::Instant;

use marque::{DelegateParams, KeyPair, Limits, MintParams, Request, Right, Token, Verifier};

fn main() -> Result<(), marque::Error> {
    let now = 1_767_225_600;
    let (root, orch, a) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]));
    let token = Token::mint(&root, &MintParams::new("agent:o", orch.public_key(), "user:alice").right(Right::new("read_file", "read", "*")).now(now))?
        .delegate(&orch, &DelegateParams::new("agent:a", a.public_key()).resource_prefix("src/").now(now))?;
    let verifier = Verifier::new([root.public_key()]);
    let request = Request::new("read_file", "read", "src/main.rs");
    let start = Instant::now();
    let first = verifier.authorize(token.to_bytes(), &request, None, Some(now))?;
    let cold = start.elapsed();
    let start = Instant::now();
    for _ in 0..100 {
        verifier.authorize(token.to_bytes(), &request, None, Some(now))?;
    }
    let warm = start.elapsed() / 100;
    println!(
        "first authorize: {cold:?} (allowed: {}), then {warm:?} each; default Datalog time limit: {} µs",
        first.allowed,
        Limits::default().max_time_micros
    );
    Ok(())
}
