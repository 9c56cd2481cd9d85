//! Token size by delegation depth (docs/BENCH.md, "Token size by depth"): a marque token, a plain
//! biscuit-auth token with the same facts and checks (Biscuit attenuation blocks instead of
//! third-party hops), and an EdDSA JWT carrying the chain as a nested RFC 8693 `act` claim.
//! Also prints the byte breakdown of one marque hop block.
//!
//! `cargo run --release -p marque --example sizes`

use base64::Engine as _;
use biscuit_auth::builder::{BiscuitBuilder, BlockBuilder};
use marque::{jwt_issue, Claims, DelegateParams, KeyPair, MintParams, Right, Token};
use prost::Message as _;

const NOW: u64 = 1_767_225_600;
const DEPTHS: [usize; 5] = [0, 1, 2, 4, 8];

fn key(seed: u8) -> KeyPair {
    KeyPair::from_seed(&[seed; 32])
}

/// The measured shape: two rights and a task; every hop narrows tools, operations, resource
/// prefix, lifetime and depth (the largest hop the profile writes).
fn marque_token(depth: usize) -> Result<Token, marque::Error> {
    let mut token = Token::mint(
        &key(1),
        &MintParams::new("agent:orchestrator", key(2).public_key(), "user:alice")
            .task("fix-issue-42")
            .right(Right::new("read_file", "read", "*"))
            .right(Right::new("write_file", "write", "src/"))
            .max_depth(8)
            .now(NOW),
    )?;
    for i in 0..depth {
        let seed = 3 + i as u8;
        token = token.delegate(
            &key(seed - 1),
            &DelegateParams::new(format!("agent:worker_{i}"), key(seed).public_key())
                .tools(["read_file"])
                .operations(["read"])
                .resource_prefix("src/")
                .max_depth(8)
                .ttl_seconds(1800)
                .now(NOW),
        )?;
    }
    Ok(token)
}

/// The same facts and checks as a plain Biscuit: one authority block, one attenuation block
/// per hop (signed by the ephemeral key Biscuit carries, not by the delegating agent).
fn biscuit_token(depth: usize) -> Vec<u8> {
    let agent_key = hex(&key(2).public_key().to_bytes());
    let authority = format!(
        r#"agent("agent:orchestrator"); agent_key(hex:{agent_key}); principal("user:alice");
        issued_at({iat}); expires_at({exp}); max_depth(8); task("fix-issue-42");
        right("read_file", "read", "*"); right("write_file", "write", "src/");
        check if time($time), $time <= {exp}; check if depth($depth), $depth <= 8;"#,
        iat = date(NOW),
        exp = date(NOW + 3600),
    );
    let root = biscuit_auth::KeyPair::from(&biscuit_auth::PrivateKey::from_bytes(&[1; 32], biscuit_auth::Algorithm::Ed25519).unwrap());
    let mut token = BiscuitBuilder::new().code(&authority).unwrap().build(&root).unwrap();
    for i in 0..depth {
        let child = hex(&key(3 + i as u8).public_key().to_bytes());
        let code = format!(
            r#"hop("agent:worker_{i}", hex:{child});
            check if time($time), $time <= {exp};
            check if tool($tool), {{"read_file"}}.contains($tool);
            check if operation($operation), {{"read"}}.contains($operation);
            check if resource($resource), ($resource + "/").starts_with("src/");
            check if depth($depth), $depth <= 8;"#,
            exp = date(NOW + 1800),
        );
        token = token.append(BlockBuilder::new().code(&code).unwrap()).unwrap();
    }
    token.to_vec().unwrap()
}

/// An EdDSA JWT for the holder at `depth`, the chain as nested `act` claims.
fn jwt(depth: usize) -> Result<String, marque::Error> {
    let mut chain = vec!["agent:orchestrator".to_string()];
    chain.extend((0..depth).map(|i| format!("agent:worker_{i}")));
    let holder = key(2 + depth as u8).public_key();
    let claims = Claims::new()
        .issuer("marque:root")
        .subject(chain[chain.len() - 1].clone())
        .audience("https://tools.example")
        .valid_for(NOW, 1800)
        .principal("user:alice")
        .task("fix-issue-42")
        .scope("read_file:read:src/")
        .confirmation_key(&holder)
        .actor_chain(&chain);
    jwt_issue(&key(1), &claims, Some("root"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn date(t: u64) -> String {
    // RFC 3339 in UTC, from the fixed epoch seconds above (2026-01-01T00:00:00Z = NOW).
    let secs = t - NOW;
    format!("2026-01-01T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

fn b64_len(raw: usize) -> usize {
    raw.div_ceil(3) * 4
}

fn main() -> Result<(), marque::Error> {
    println!("| depth | marque raw | marque base64 | biscuit-auth raw | biscuit-auth base64 | JWT (`act` chain) |");
    println!("|---|---|---|---|---|---|");
    for depth in DEPTHS {
        let m = marque_token(depth)?.to_bytes().len();
        let b = biscuit_token(depth).len();
        let j = jwt(depth)?.len();
        println!("| {depth} | {m} | {} | {b} | {} | {j} |", b64_len(m), b64_len(b));
    }
    let token = marque_token(2)?;
    let raw = biscuit_auth::format::schema::Biscuit::decode(token.to_bytes()).unwrap();
    let authority = &raw.authority;
    println!(
        "\nauthority: {} bytes in the token (block {}, signature {}, next key {})",
        authority.encoded_len(),
        authority.block.len(),
        authority.signature.len(),
        authority.next_key.key.len()
    );
    let hop = &raw.blocks[1];
    let block = biscuit_auth::format::schema::Block::decode(&hop.block[..]).unwrap();
    let external = hop.external_signature.as_ref().map(|e| e.encoded_len()).unwrap_or(0);
    println!(
        "hop 2: {} bytes in the token = block {} (symbols {} in {} strings, facts {}, checks {}, context {}, public keys {}) \
         + signature {} + next key {} + external signature {} + framing",
        hop.encoded_len() + 2,
        hop.block.len(),
        block.symbols.iter().map(|s| s.len() + 2).sum::<usize>(),
        block.symbols.len(),
        block.facts.iter().map(|f| f.encoded_len() + 2).sum::<usize>(),
        block.checks.iter().map(|c| c.encoded_len() + 2).sum::<usize>(),
        block.context.as_ref().map(|c| c.len() + 2).unwrap_or(0),
        block.public_keys.iter().map(|k| k.encoded_len() + 2).sum::<usize>(),
        hop.signature.len(),
        hop.next_key.key.len(),
        external,
    );
    println!("symbols: {:?}", block.symbols);
    let _ = base64::engine::general_purpose::URL_SAFE.encode(token.to_bytes());
    Ok(())
}
