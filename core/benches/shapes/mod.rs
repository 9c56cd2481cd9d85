//! The benchmark token shapes, shared by `benches/token.rs` (criterion) and
//! `examples/peers.rs` (interleaved ratios): marque's 3-block token (an authority block with two
//! rights and a task, two delegation hops) and the plain biscuit-auth token carrying the same
//! facts and checks (one attenuation block per hop), with the equivalent authorizer; and the
//! timing helpers of the examples (`examples/peers.rs`, `examples/scale.rs`).
#![allow(dead_code)] // each user takes what it needs

use std::time::{Duration, Instant};

use biscuit_auth::builder::BlockBuilder;
use biscuit_auth::{AuthorizerBuilder, AuthorizerLimits, Biscuit, KeyPair as BKeyPair, PrivateKey};
use marque::{DelegateParams, KeyPair, Limits, MintParams, PublicKey, Request, Right, Token, Verifier};

pub const NOW: u64 = 1_767_225_600;

pub fn kp(n: u8) -> KeyPair {
    KeyPair::from_seed(&[n; 32])
}

pub fn mint_params() -> MintParams {
    MintParams::new("agent:orchestrator", kp(2).public_key(), "user:alice")
        .task("fix-issue-42")
        .right(Right::new("read_file", "read", "*"))
        .right(Right::new("write_file", "write", "src/"))
        .ttl_seconds(3600)
        .now(NOW)
}

/// The 2-block parent: the authority block and the orchestrator's hop to `agent:a` (key 3).
pub fn two_block_token() -> Token {
    Token::mint(&kp(1), &mint_params())
        .unwrap()
        .delegate(&kp(2), &DelegateParams::new("agent:a", kp(3).public_key()).tools(["read_file"]).resource_prefix("src/").now(NOW))
        .unwrap()
}

/// A 3-block child of `parent` (held by key 3), delegated to `name` (key 4).
pub fn third_block(parent: &Token, name: &str) -> Token {
    parent.delegate(&kp(3), &DelegateParams::new(name, kp(4).public_key()).resource_prefix("src/main.rs").now(NOW)).unwrap()
}

pub fn three_block_token() -> Token {
    third_block(&two_block_token(), "agent:c")
}

pub fn request() -> Request {
    Request::new("read_file", "read", "src/main.rs")
}

pub const AUTHORITY: &str = r#"agent("agent:orchestrator"); principal("user:alice"); task("fix-issue-42");
    right("read_file", "read", "*"); right("write_file", "write", "src/");
    check if time($time), $time <= 2026-01-01T01:00:00Z;"#;
pub const BLOCK1: &str = r#"check if tool($tool), {"read_file"}.contains($tool); check if resource($res), ($res + "/").starts_with("src/");"#;
pub const BLOCK2: &str = r#"check if resource($res), ($res + "/").starts_with("src/main.rs/");"#;
const POLICY: &str = r##"allow if tool($tool), operation($op), resource($res), right($rt, $ro, $rr), ($rt == "*" || $rt == $tool), ($ro == "*" || $ro == $op), ($rr == "*" || ($res + "/").starts_with($rr));"##;

pub fn biscuit_root() -> BKeyPair {
    BKeyPair::from(&PrivateKey::from_bytes(&[1; 32], biscuit_auth::Algorithm::Ed25519).unwrap())
}

pub fn biscuit_agent() -> PrivateKey {
    PrivateKey::from_bytes(&[2; 32], biscuit_auth::Algorithm::Ed25519).unwrap()
}

pub fn biscuit_mint(root: &BKeyPair) -> Biscuit {
    Biscuit::builder().code(AUTHORITY).unwrap().build(root).unwrap()
}

/// The plain 3-block biscuit-auth token: the authority block and two attenuation blocks.
pub fn biscuit_three_blocks(root: &BKeyPair) -> Vec<u8> {
    biscuit_mint(root)
        .append(BlockBuilder::new().code(BLOCK1).unwrap())
        .unwrap()
        .append(BlockBuilder::new().code(BLOCK2).unwrap())
        .unwrap()
        .to_vec()
        .unwrap()
}

/// Parses `bytes` with the root key (every signature) and runs the equivalent authorizer.
pub fn biscuit_authorize(root: &BKeyPair, bytes: &[u8]) -> usize {
    let token = Biscuit::from(bytes, root.public()).unwrap();
    let mut a = AuthorizerBuilder::new()
        .code(format!(r#"time(2026-01-01T00:00:00Z); tool("read_file"); operation("read"); resource("src/main.rs"); depth(2); {POLICY}"#))
        .unwrap()
        // marque's default time limit; biscuit-auth's 1 ms default times out under load.
        .set_limits(AuthorizerLimits { max_time: Duration::from_millis(20), ..Default::default() })
        .build(&token)
        .unwrap();
    a.authorize().unwrap()
}

/// A verifier for `root` with the verified-token and verified-prefix caches on or off, and no
/// time limit a loaded machine could turn a slow call into an error with.
pub fn verifier(root: PublicKey, token_cache: bool, prefix_cache: bool) -> Verifier {
    Verifier::new([root]).with_limits(Limits {
        verified_cache_capacity: if token_cache { 1024 } else { 0 },
        prefix_cache_capacity: if prefix_cache { 4096 } else { 0 },
        max_time_micros: 5_000_000,
        ..Limits::default()
    })
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Median µs of `f` over `n` calls (`f` gets the call's index).
pub fn time_us(n: usize, mut f: impl FnMut(usize)) -> f64 {
    median(
        (0..n)
            .map(|i| {
                let s = Instant::now();
                f(i);
                s.elapsed().as_secs_f64() * 1e6
            })
            .collect(),
    )
}
