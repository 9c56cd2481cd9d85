//! The verified-prefix cache (`marque::prefix_cache`): a fresh child of an already-verified
//! parent has only its new blocks checked, and nothing that was not verified byte for byte
//! under the same root key is ever skipped.
//!
//! Every verifier here has the verified-*token* cache off, so each call goes through
//! verification and only the prefix cache can save work. The counters are
//! `Verifier::prefix_cache_stats` (blocks whose signatures were checked / reused). Skipping
//! needs marque's biscuit-auth fork (`biscuit-fork`, on in every shipped build and in
//! `cargo test -p marque -p marque-cli`); the refusals are asserted in both builds.

use biscuit_auth::format::schema;
use marque::prefix_cache::PrefixCacheStats;
use marque::{DelegateParams, KeyPair, Limits, MintParams, Request, Right, Token, Verifier};
use prost::Message as _;

const NOW: u64 = 1_767_225_600;

fn key(n: u8) -> KeyPair {
    KeyPair::from_seed(&[n; 32])
}

/// The shared parent (minting and delegating draw fresh ephemeral keys, so it is made once:
/// siblings share its bytes only when they extend the same token).
fn parent() -> Token {
    static PARENT: std::sync::OnceLock<Token> = std::sync::OnceLock::new();
    PARENT.get_or_init(make_parent).clone()
}

fn make_parent() -> Token {
    Token::mint(
        &key(1),
        &MintParams::new("agent:orch", key(2).public_key(), "user:alice")
            .task("t")
            .right(Right::new("read_file", "read", "*"))
            .right(Right::new("write_file", "write", "src/"))
            .ttl_seconds(3600)
            .now(NOW),
    )
    .unwrap()
    .delegate(&key(2), &DelegateParams::new("agent:lead", key(3).public_key()).resource_prefix("src/").now(NOW))
    .unwrap()
}

/// A child of `parent()` for agent `name` with key seed `n`.
fn child(name: &str, n: u8) -> Token {
    parent().delegate(&key(3), &DelegateParams::new(name, key(n).public_key()).tools(["read_file"]).now(NOW)).unwrap()
}

fn verifier() -> Verifier {
    Verifier::new([key(1).public_key()]).with_limits(Limits { verified_cache_capacity: 0, ..Limits::default() })
}

fn read() -> Request {
    Request::new("read_file", "read", "src/lib.rs")
}

fn stats(v: &Verifier) -> (u64, u64) {
    let PrefixCacheStats { blocks_checked, blocks_reused, .. } = v.prefix_cache_stats();
    (blocks_checked, blocks_reused)
}

/// Decodes a token, lets `edit` change it, encodes it again.
fn edited(token: &Token, edit: impl FnOnce(&mut schema::Biscuit)) -> Vec<u8> {
    let mut raw = schema::Biscuit::decode(token.to_bytes()).unwrap();
    edit(&mut raw);
    raw.encode_to_vec()
}

/// Whether this build skips the signatures of cached prefixes.
const FORK: bool = cfg!(feature = "biscuit-fork");

#[cfg(not(feature = "biscuit-fork"))]
#[test]
fn without_the_fork_nothing_is_cached() {
    let v = verifier();
    for _ in 0..2 {
        assert!(v.authorize(child("agent:a", 4).to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
    }
    assert_eq!(stats(&v), (6, 0));
    assert_eq!(v.prefix_cache_stats().entries, 0);
}

#[cfg(feature = "biscuit-fork")]
#[test]
fn sibling_tokens_check_only_their_new_blocks() {
    let v = verifier();
    let (a, b, c) = (child("agent:a", 4), child("agent:b", 5), child("agent:c", 6));
    let da = v.authorize(a.to_bytes(), &read(), None, Some(NOW)).unwrap();
    assert!(da.allowed);
    assert_eq!(stats(&v), (3, 0), "cold: authority, lead's hop and a's hop");
    let db = v.authorize(b.to_bytes(), &read(), None, Some(NOW)).unwrap();
    assert!(db.allowed);
    assert_eq!(stats(&v), (3 + 1, 2), "b shares a's first two blocks: only its own hop is checked");
    assert!(v.authorize(c.to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
    assert_eq!(stats(&v), (3 + 1 + 1, 2 + 2));
    // The same token again: every block is a cached prefix; nothing else is skipped.
    assert!(v.authorize(a.to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
    assert_eq!(stats(&v), (5, 4 + 3));
    // Decisions are those of a verifier that checks everything.
    let fresh = Verifier::new([key(1).public_key()]).with_limits(Limits { prefix_cache_capacity: 0, verified_cache_capacity: 0, ..Limits::default() });
    assert_eq!(fresh.authorize(b.to_bytes(), &read(), None, Some(NOW)).unwrap(), db);
    assert_eq!(stats(&fresh), (3, 0), "capacity 0: every block checked");
    assert_eq!(fresh.prefix_cache_stats().entries, 0);
    // The parent itself is a prefix: all its blocks are reused.
    assert!(v.authorize(parent().to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
    assert_eq!(stats(&v), (5, 7 + 2));
}

#[test]
fn time_dependent_checks_still_run_on_a_cached_prefix() {
    let v = verifier();
    let a = child("agent:a", 4);
    assert!(v.authorize(a.to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
    let b = child("agent:b", 5);
    // Expired, revoked, out of scope: decided per call, whatever the cache holds.
    let late = v.authorize(b.to_bytes(), &read(), None, Some(NOW + 7200)).unwrap();
    assert_eq!(late.code.as_deref(), Some("expired"));
    let outside = v.authorize(b.to_bytes(), &Request::new("read_file", "read", ".env"), None, Some(NOW)).unwrap();
    assert_eq!(outside.code.as_deref(), Some("not_authorized"));
    v.revoke_agent("agent:lead").unwrap();
    assert_eq!(v.authorize(b.to_bytes(), &read(), None, Some(NOW)).unwrap().code.as_deref(), Some("revoked"));
}

#[test]
fn a_forged_block_after_a_cached_prefix_is_refused_as_before() {
    let b = child("agent:b", 5);
    let forgeries: Vec<(&str, Vec<u8>)> = vec![
        ("last block signature", edited(&b, |t| t.blocks[1].signature[0] ^= 1)),
        ("last block third-party signature", edited(&b, |t| t.blocks[1].external_signature.as_mut().unwrap().signature[0] ^= 1)),
        ("last block payload", edited(&b, |t| t.blocks[1].block[10] ^= 1)),
        ("last block next key", edited(&b, |t| t.blocks[1].next_key.key[0] ^= 1)),
        ("next secret", edited(&b, |t| t.proof.content = Some(schema::proof::Content::NextSecret(vec![9; 32])))),
    ];
    for (what, bytes) in forgeries {
        let cold = verifier().authorize(&bytes, &read(), None, Some(NOW)).unwrap_err();
        let v = verifier();
        assert!(v.authorize(child("agent:a", 4).to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
        let warm = v.authorize(&bytes, &read(), None, Some(NOW)).unwrap_err();
        assert_eq!((warm.code(), warm.message()), (cold.code(), cold.message()), "{what}");
        assert!(matches!(warm.code(), "invalid_signature" | "invalid_token"), "{what}: {warm}");
        if FORK && (what.contains("signature") || what == "next secret") {
            assert_eq!(stats(&v).1, 2, "{what}: the prefix was reused, the forged part checked");
        }
    }
}

#[test]
fn a_prefix_with_one_flipped_signature_bit_is_not_reused() {
    let b = child("agent:b", 5);
    for (what, bytes) in [
        ("authority signature", edited(&b, |t| t.authority.signature[0] ^= 1)),
        ("the lead's hop signature", edited(&b, |t| t.blocks[0].signature[0] ^= 1)),
        ("the lead's third-party signature", edited(&b, |t| t.blocks[0].external_signature.as_mut().unwrap().signature[0] ^= 1)),
    ] {
        let v = verifier();
        assert!(v.authorize(child("agent:a", 4).to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
        let before = stats(&v);
        let e = v.authorize(&bytes, &read(), None, Some(NOW)).unwrap_err();
        assert_eq!(e.code(), "invalid_signature", "{what}: {e}");
        assert!(stats(&v).1 - before.1 < 2, "{what}: the flipped prefix was not reused");
        assert!(!FORK || stats(&v).1 - before.1 >= 1 || what.contains("authority"), "{what}: the blocks before the flip may be");
    }
}

#[cfg(feature = "biscuit-fork")]
#[test]
fn another_root_key_does_not_reuse_a_prefix() {
    // Two trusted roots, tried in order for a token whose key id names neither: the prefix
    // verified under the minting root is not reused when the other root is tried.
    let other = key(9);
    let t = Token::mint(
        &key(1),
        &MintParams::new("agent:orch", key(2).public_key(), "user:alice").right(Right::new("read_file", "read", "*")).root_key_id(77).now(NOW),
    )
    .unwrap();
    let sib = |n: u8| t.delegate(&key(2), &DelegateParams::new(format!("agent:s{n}"), key(n).public_key()).now(NOW)).unwrap();
    let v = Verifier::with_key_ids([(1, other.public_key()), (2, key(1).public_key())])
        .with_limits(Limits { verified_cache_capacity: 0, ..Limits::default() });
    assert!(v.authorize(sib(4).to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
    assert!(v.authorize(sib(5).to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
    // Under `other` nothing is cached (its authority check fails and counts nothing); under
    // the minting root the authority block is reused.
    assert_eq!(stats(&v), (2 + 1, 1));
    // A verifier trusting only the other root refuses, whatever another verifier cached.
    let only_other = Verifier::new([other.public_key()]);
    assert!(only_other.authorize(sib(5).to_bytes(), &read(), None, Some(NOW)).is_err());
}

#[test]
fn a_token_refused_after_its_signatures_verified_caches_nothing() {
    // Valid signatures, but a hop block that is not the profile's, signed by its real holder:
    // refused, and refused again — its prefixes were never remembered, so the canonical-block
    // check runs on every call.
    let p = parent();
    let honest = p.delegate(&key(3), &DelegateParams::new("agent:c", key(6).public_key()).resource_prefix("src/lib/").now(NOW)).unwrap();
    // Its resource check always passes (`… || true`): the claims read back say `src/lib/`, the
    // Datalog does not enforce it, and only the canonical-block check sees the difference.
    let code: String = biscuit_auth::UnverifiedBiscuit::from(honest.to_bytes())
        .unwrap()
        .print_block_source(2)
        .unwrap()
        .lines()
        .map(|l| if l.contains("resource(") { format!("{} || true;\n", l.trim_end().trim_end_matches(';')) } else { format!("{l}\n") })
        .collect();
    assert!(code.contains("|| true"), "{code}");
    let ub = biscuit_auth::UnverifiedBiscuit::from(p.to_bytes()).unwrap();
    let signer = biscuit_auth::PrivateKey::from_bytes(&key(3).to_seed()[..], biscuit_auth::Algorithm::Ed25519).unwrap();
    let block = ub
        .third_party_request()
        .unwrap()
        .create_block(&signer, biscuit_auth::builder::BlockBuilder::new().code(&code).unwrap())
        .unwrap();
    let hostile = ub.append_third_party(&block.serialize().unwrap()).unwrap().to_vec().unwrap();
    let v = verifier();
    let outside = Request::new("read_file", "read", "src/main.rs");
    assert!(!v.authorize(honest.to_bytes(), &outside, None, Some(NOW)).unwrap().allowed, "the honest hop narrows");
    let before = stats(&v);
    for _ in 0..2 {
        assert_eq!(v.authorize(&hostile, &outside, None, Some(NOW)).map(|d| d.allowed).unwrap_err().code(), "invalid_token");
    }
    // Only the honest token's three prefixes are held; the hostile block is checked each time.
    assert_eq!(v.prefix_cache_stats().entries, if FORK { 3 } else { 0 });
    assert_eq!(stats(&v).0 - before.0, if FORK { 2 } else { 6 }, "the hostile block's signatures checked on both calls");
}

#[cfg(feature = "biscuit-fork")]
#[test]
fn bounded_and_reset_when_trust_changes() {
    let mut v = Verifier::new([key(1).public_key()])
        .with_limits(Limits { verified_cache_capacity: 0, prefix_cache_capacity: 4, ..Limits::default() });
    for n in 10..20 {
        assert!(v.authorize(child(&format!("agent:x{n}"), n).to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
        assert!(v.prefix_cache_stats().entries <= 4);
    }
    assert_eq!(v.prefix_cache_stats().capacity, 4);
    v.add_root_key(None, key(9).public_key());
    assert_eq!(v.prefix_cache_stats().entries, 0, "new roots: the cache starts empty");
}
