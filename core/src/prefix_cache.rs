//! The verified-prefix cache: each signature of a delegation chain is verified once per
//! verifier, not once per token.
//!
//! Sibling tokens share a prefix: an orchestrator delegates its token to six sub-agents, and
//! each sub-agent's token repeats the orchestrator's blocks byte for byte. When a token passes
//! every structural check of verification (all signatures under a trusted root key, then the
//! profile's checks on each block: canonical Datalog, signer of each hop), the verifier
//! remembers every prefix of its blocks by a digest; a later token whose first blocks have one
//! of those digests, under the same root key, has only its new blocks' signatures checked and
//! only its new blocks rebuilt for the canonical-block check.
//!
//! What a digest covers, block after block, chained from a domain tag and the root key
//! (algorithm and bytes): the block's version, its serialized Datalog, its next key, its
//! signature, and its third-party signer key and signature when it has one — every byte that
//! block's signatures cover and every signature byte, each length-prefixed. Two prefixes with
//! one digest are the same bytes verified under the same root, so the Ed25519 checks (which are
//! deterministic functions of key, message and signature) and the canonical-block check (a
//! function of the block's bytes and its position) would give the same answers again. Nothing
//! else is in the cache: no claim, no time, no decision. Expiry, revocation, audience, the
//! proof of possession, the Datalog and the operator's constraints are decided on every call;
//! the proof that closes the token (its next secret, or its seal) is checked on every call; a
//! token that extends a cached prefix with a forged block is refused exactly as before, since
//! that block's signatures are checked. A token that fails any check inserts nothing.
//!
//! Bounded: at most [`Limits::prefix_cache_capacity`](crate::Limits::prefix_cache_capacity)
//! digests (default 4096, about 50 bytes each; 0 disables it), evicted by the CLOCK algorithm
//! (a second chance for each digest used since the hand last passed). Thread-safe: a lookup
//! takes the shared lock only. It is forgotten when the trusted root keys or the limits change.
//!
//! Skipping signature checks needs marque's biscuit-auth fork (cargo feature `biscuit-fork`,
//! every build this repository ships); against crates.io's biscuit-auth (`cargo add marque`)
//! the cache stays empty and every signature is checked on every cold verification.
//!
//! ```
//! use marque::{DelegateParams, KeyPair, MintParams, Request, Right, Token, Verifier};
//! let keys: Vec<KeyPair> = (1..=4).map(|i| KeyPair::from_seed(&[i; 32])).collect();
//! let now = 1_767_225_600;
//! let parent = Token::mint(&keys[0], &MintParams::new("agent:orch", keys[1].public_key(), "user:u")
//!     .right(Right::new("read_file", "read", "*")).now(now))?;
//! let a = parent.delegate(&keys[1], &DelegateParams::new("agent:a", keys[2].public_key()).now(now))?;
//! let b = parent.delegate(&keys[1], &DelegateParams::new("agent:b", keys[3].public_key()).now(now))?;
//! let verifier = Verifier::new([keys[0].public_key()]);
//! let request = Request::new("read_file", "read", "src/lib.rs");
//! assert!(verifier.authorize(a.to_bytes(), &request, None, Some(now))?.allowed);
//! assert!(verifier.authorize(b.to_bytes(), &request, None, Some(now))?.allowed);
//! let stats = verifier.prefix_cache_stats();
//! if cfg!(feature = "biscuit-fork") {
//!     // b's authority block was verified with a; only b's own hop block was checked.
//!     assert_eq!((stats.blocks_checked, stats.blocks_reused), (2 + 1, 1));
//! }
//! # Ok::<(), marque::Error>(())
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A digest naming a prefix of verified blocks under one root key.
pub(crate) type PrefixDigest = [u8; 32];

/// Given a token's prefix digests, how many of its leading blocks were verified before.
pub(crate) type PrefixLookup<'a> = &'a dyn Fn(&[PrefixDigest]) -> usize;

/// Counters of a verifier's verified-prefix cache ([`Verifier::prefix_cache_stats`](crate::Verifier::prefix_cache_stats)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrefixCacheStats {
    /// Prefix digests held now.
    pub entries: usize,
    /// The most it holds.
    pub capacity: usize,
    /// Blocks whose signatures were checked, counted when all of a token's checked out (every
    /// block of a cold token; only the new ones of a token extending a cached prefix).
    pub blocks_checked: u64,
    /// Blocks whose signatures and canonical form were not checked again, because a token
    /// verified before under the same root key had them, byte for byte, as its prefix
    /// (counted when found, even if the token's new blocks then fail).
    pub blocks_reused: u64,
}

/// The digests of every prefix of `container`'s blocks under `root`: element `i` names blocks
/// `0..=i` (the authority block is block 0).
#[cfg(feature = "biscuit-fork")]
pub(crate) fn prefix_digests(root: &biscuit_auth::PublicKey, container: &biscuit_auth::format::SerializedBiscuit) -> Vec<PrefixDigest> {
    use sha2::{Digest, Sha256};
    fn field(h: &mut Sha256, bytes: &[u8]) {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    }
    fn key(h: &mut Sha256, key: &biscuit_auth::PublicKey) {
        h.update((key.algorithm() as i32).to_be_bytes());
        field(h, &key.to_bytes());
    }
    let mut h = Sha256::new();
    h.update(b"marque verified prefix v1\0");
    key(&mut h, root);
    let mut previous: Option<PrefixDigest> = None;
    let mut out = Vec::with_capacity(container.blocks.len() + 1);
    for block in std::iter::once(&container.authority).chain(container.blocks.iter()) {
        if let Some(p) = previous {
            h = Sha256::new();
            h.update(b"marque verified prefix v1 next\0");
            h.update(p);
        }
        h.update(block.version.to_be_bytes());
        field(&mut h, block.data());
        key(&mut h, block.next_key());
        field(&mut h, block.signature.to_bytes());
        match &block.external_signature {
            Some(ext) => {
                h.update([1]);
                key(&mut h, ext.public_key());
                field(&mut h, ext.signature().to_bytes());
            }
            None => h.update([0]),
        }
        let digest: PrefixDigest = std::mem::take(&mut h).finalize().into();
        out.push(digest);
        previous = Some(digest);
    }
    out
}

struct Slot {
    digest: PrefixDigest,
    used: AtomicBool,
}

/// The bounded set of verified-prefix digests (CLOCK eviction).
pub(crate) struct PrefixCache {
    capacity: usize,
    slots: Vec<Slot>,
    index: HashMap<PrefixDigest, usize>,
    hand: usize,
    checked: AtomicU64,
    reused: AtomicU64,
}

impl PrefixCache {
    pub(crate) fn new(capacity: usize) -> Self {
        PrefixCache {
            capacity,
            slots: Vec::new(),
            index: HashMap::new(),
            hand: 0,
            checked: AtomicU64::new(0),
            reused: AtomicU64::new(0),
        }
    }

    /// How many leading blocks of a token with these prefix digests were verified before:
    /// the length of the longest cached prefix (0 when none is).
    pub(crate) fn verified_blocks(&self, digests: &[PrefixDigest]) -> usize {
        for (i, d) in digests.iter().enumerate().rev() {
            if let Some(&slot) = self.index.get(d) {
                if let Some(s) = self.slots.get(slot) {
                    s.used.store(true, Ordering::Relaxed);
                }
                return i + 1;
            }
        }
        0
    }

    /// Counts `checked` blocks whose signatures were checked (by a verification that passed)
    /// and `reused` blocks found in the cache (whatever the rest of the token turned out).
    pub(crate) fn record(&self, checked: usize, reused: usize) {
        self.checked.fetch_add(checked as u64, Ordering::Relaxed);
        self.reused.fetch_add(reused as u64, Ordering::Relaxed);
    }

    /// Remembers the prefixes of a token that passed every structural check.
    pub(crate) fn insert(&mut self, digests: &[PrefixDigest]) {
        if self.capacity == 0 {
            return;
        }
        for d in digests {
            if let Some(&slot) = self.index.get(d) {
                if let Some(s) = self.slots.get(slot) {
                    s.used.store(true, Ordering::Relaxed);
                }
                continue;
            }
            if self.slots.len() < self.capacity {
                self.index.insert(*d, self.slots.len());
                self.slots.push(Slot { digest: *d, used: AtomicBool::new(false) });
                continue;
            }
            // CLOCK: clear the second-chance bits until a slot without one comes up (at most
            // one full turn, then the first slot cleared is taken).
            loop {
                let hand = self.hand % self.slots.len();
                self.hand = (hand + 1) % self.slots.len();
                let slot = &self.slots[hand];
                if slot.used.swap(false, Ordering::Relaxed) {
                    continue;
                }
                self.index.remove(&slot.digest);
                self.slots[hand] = Slot { digest: *d, used: AtomicBool::new(false) };
                self.index.insert(*d, hand);
                break;
            }
        }
    }

    pub(crate) fn stats(&self) -> PrefixCacheStats {
        PrefixCacheStats {
            entries: self.slots.len(),
            capacity: self.capacity,
            blocks_checked: self.checked.load(Ordering::Relaxed),
            blocks_reused: self.reused.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(i: u8) -> PrefixDigest {
        [i; 32]
    }

    /// Every digest depends on the root key and on every byte of every block before it,
    /// signatures included.
    #[cfg(feature = "biscuit-fork")]
    #[test]
    fn digests_cover_the_root_and_every_signature_byte() {
        use crate::{DelegateParams, KeyPair, MintParams, Right, Token};
        use biscuit_auth::format::schema;
        use prost::Message as _;
        let k = |n: u8| KeyPair::from_seed(&[n; 32]);
        let token = Token::mint(&k(1), &MintParams::new("agent:a", k(2).public_key(), "user:u").right(Right::new("t", "*", "*")).now(1_767_225_600))
            .unwrap()
            .delegate(&k(2), &DelegateParams::new("agent:b", k(3).public_key()).now(1_767_225_600))
            .unwrap();
        // The digests as the verifier computes them (nothing verified: skip every block).
        let digests = |bytes: &[u8], root: u8| {
            let root = k(root).public_key().to_biscuit().unwrap();
            let mut out = Vec::new();
            biscuit_auth::Biscuit::from_with_verified_prefix(bytes, &root, |c| {
                out = prefix_digests(&root, c);
                usize::MAX
            })
            .unwrap();
            out
        };
        let base = digests(token.to_bytes(), 1);
        assert_eq!(base.len(), 2);
        assert_eq!(base, digests(token.to_bytes(), 1), "deterministic");
        // Another root: no digest in common.
        assert!(digests(token.to_bytes(), 9).iter().all(|d| !base.contains(d)));
        // One bit of a signature (the authority's, the hop's, the hop's third-party one): that
        // prefix and every longer one differ, shorter ones do not.
        let flipped = |block: usize, edit: fn(&mut schema::Biscuit)| {
            let mut raw = schema::Biscuit::decode(token.to_bytes()).unwrap();
            edit(&mut raw);
            let d = digests(&raw.encode_to_vec(), 1);
            assert_eq!(d[..block], base[..block], "block {block}");
            assert!(d[block..].iter().zip(&base[block..]).all(|(a, b)| a != b), "block {block}");
        };
        flipped(0, |t| t.authority.signature[63] ^= 0x80);
        flipped(1, |t| t.blocks[0].signature[0] ^= 1);
        flipped(1, |t| t.blocks[0].external_signature.as_mut().unwrap().signature[5] ^= 4);
        flipped(1, |t| {
            t.blocks[0].external_signature.as_mut().unwrap().public_key.key = KeyPair::from_seed(&[5; 32]).public_key().to_bytes().to_vec()
        });
    }

    #[test]
    fn longest_cached_prefix_is_found() {
        let mut c = PrefixCache::new(8);
        c.insert(&[d(1), d(2)]);
        assert_eq!(c.verified_blocks(&[d(1), d(2), d(3)]), 2);
        assert_eq!(c.verified_blocks(&[d(1), d(9), d(3)]), 1);
        assert_eq!(c.verified_blocks(&[d(9), d(2)]), 2, "a digest names the whole prefix, so the longest hit counts");
        assert_eq!(c.verified_blocks(&[d(7)]), 0);
    }

    #[test]
    fn bounded_with_second_chance() {
        let mut c = PrefixCache::new(3);
        c.insert(&[d(1), d(2), d(3)]);
        // d(1) used since: it survives the next eviction, d(2) goes.
        assert_eq!(c.verified_blocks(&[d(1)]), 1);
        c.insert(&[d(4)]);
        assert_eq!(c.stats().entries, 3);
        assert_eq!(c.verified_blocks(&[d(1)]), 1);
        assert_eq!(c.verified_blocks(&[d(2)]), 0);
        assert_eq!(c.verified_blocks(&[d(3)]), 1);
        assert_eq!(c.verified_blocks(&[d(4)]), 1);
        for i in 10..100 {
            c.insert(&[d(i)]);
            assert!(c.stats().entries <= 3);
        }
        let mut off = PrefixCache::new(0);
        off.insert(&[d(1)]);
        assert_eq!((off.verified_blocks(&[d(1)]), off.stats().entries), (0, 0));
    }
}
