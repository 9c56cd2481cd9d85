//! Replay stores: where a verifier remembers which proofs of possession were already used.
//!
//! A proof's nonce may be used once. A [`ReplayStore`] answers one question atomically: *claim
//! this key until it expires* → [`Claim::Claimed`] (first use) or [`Claim::AlreadyUsed`], or an
//! error. The default store is the bounded in-process [`MemoryReplayStore`] (a [`ReplayCache`]
//! with a per-signing-key quota); a fleet of verifier processes shares one store (Redis/Valkey:
//! the `marque-redis` crate, or the bindings' store objects) so that a proof accepted by one
//! process is refused by every other. A store only ever sees a [`ReplayClaim::key`] —
//! `marque:replay:` followed by the hex SHA-256 of the signer's key and the nonce, no token
//! material — and a time to live: the proof window plus the future-skew allowance, so the key
//! outlives the proof at every verifier whose clock is within the skew. A store that errors or
//! times out makes the call an error with code `replay_store_unavailable` (fail closed, never an
//! allow); the next call tries the store again, so recovery needs nothing. The verifier claims
//! only for a call it would otherwise allow: a denied call never burns a nonce.
//!
//! ```
//! use marque::{KeyPair, replay::{Claim, MemoryReplayStore, ReplayClaim, ReplayStore}};
//! let signer = KeyPair::from_seed(&[1; 32]).public_key();
//! let store = MemoryReplayStore::new(1000, 100);
//! let claim = ReplayClaim::new(&signer, "nonce-1", 1_700_000_000, 1_700_000_001, 60, 5);
//! assert!(claim.key().starts_with("marque:replay:") && !claim.key().contains("nonce-1"));
//! assert_eq!(claim.ttl_ms(), 65_000);
//! assert_eq!(store.claim(&claim)?, Claim::Claimed);
//! assert_eq!(store.claim(&claim)?, Claim::AlreadyUsed);
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::borrow::Cow;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;

use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};
use crate::keys::PublicKey;

/// The namespace of every key given to a [`ReplayStore`].
pub const KEY_PREFIX: &str = "marque:replay:";

/// The answer of a [`ReplayStore`] to a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key was free: it is now held until it expires (the proof's first use).
    Claimed,
    /// The key is held: the proof was already used.
    AlreadyUsed,
}

/// One claim: the store key (namespaced, hashed) and how long to hold it. The signer, the
/// proof's expiry and the time are there for in-process stores (the per-key quota of
/// [`MemoryReplayStore`]); a shared store needs only [`key`](Self::key) and
/// [`ttl_ms`](Self::ttl_ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayClaim {
    key: String,
    ttl_ms: u64,
    signer: PublicKey,
    expires_at: u64,
    now: u64,
}

impl ReplayClaim {
    /// The claim for a proof by `signer` with `nonce`, signed at `iat` and checked at `now`,
    /// given the proof window and future skew (seconds): the proof is fresh until
    /// `iat + window`, and the store holds the key `window + skew` seconds.
    pub fn new(signer: &PublicKey, nonce: &str, iat: u64, now: u64, window: u64, skew: u64) -> Self {
        Self::with_domain(b"marque-replay/1\0", signer, nonce, iat, now, window, skew)
    }

    /// A claim like [`new`](Self::new) whose key is hashed under another domain tag, so that
    /// single-use objects of another kind (approvals) never share a key with proofs.
    pub fn with_domain(domain: &[u8], signer: &PublicKey, nonce: &str, iat: u64, now: u64, window: u64, skew: u64) -> Self {
        let mut h = Sha256::new();
        h.update(domain);
        h.update(signer.as_bytes());
        h.update(nonce.as_bytes());
        ReplayClaim {
            key: store_key(KEY_PREFIX, h.finalize().into()),
            ttl_ms: window.saturating_add(skew).max(1).saturating_mul(1000),
            signer: *signer,
            expires_at: iat.saturating_add(window),
            now,
        }
    }

    /// The store key: `marque:replay:` + 64 hex digits (SHA-256 of the signer key and nonce).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// How long the store must hold the key, in milliseconds (proof window + future skew).
    pub fn ttl_ms(&self) -> u64 {
        self.ttl_ms
    }

    /// The proof's signer (the acting agent's key).
    pub fn signer(&self) -> &PublicKey {
        &self.signer
    }

    /// When the proof stops being fresh (seconds since the epoch).
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// The verifier's time for this call (seconds since the epoch).
    pub fn now(&self) -> u64 {
        self.now
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A store key: `prefix` followed by the 64 hex digits of `digest` (replay claims, budget
/// counters: no token material, one shape).
pub(crate) fn store_key(prefix: &str, digest: [u8; 32]) -> String {
    let mut key = String::with_capacity(prefix.len() + 64);
    key.push_str(prefix);
    for b in digest {
        key.push(char::from(HEX[usize::from(b >> 4)]));
        key.push(char::from(HEX[usize::from(b & 15)]));
    }
    key
}

/// Where used proofs are remembered. Implementations must be atomic: of two concurrent claims of
/// one key, exactly one is [`Claim::Claimed`]. An implementation that cannot answer (connection
/// refused, timeout, unexpected reply) returns an error — by convention
/// [`unavailable`] (`replay_store_unavailable`); the verifier turns any error other than
/// `limits_exceeded` into that code, so a failing store never lets a call through.
pub trait ReplayStore: Send + Sync {
    /// Claims `claim.key()` for `claim.ttl_ms()` milliseconds, if nobody holds it.
    fn claim(&self, claim: &ReplayClaim) -> Result<Claim>;

    /// Whether the key is held, without claiming it: a cheap early refusal before the Datalog
    /// runs. The default says "not held" (a shared store then answers at the claim, one round
    /// trip per allowed call); an in-process store answers for real.
    fn seen(&self, _claim: &ReplayClaim) -> Result<bool> {
        Ok(false)
    }
}

/// The error of a store that could not answer: code `replay_store_unavailable`.
pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::ReplayStoreUnavailable, message)
}

/// The default store: a bounded [`ReplayCache`] in this process (with its per-key quota), behind
/// a lock. It protects one process only; see the module doc for a fleet.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct MemoryReplayStore {
    cache: std::sync::Mutex<ReplayCache>,
}

#[cfg(feature = "std")]
impl MemoryReplayStore {
    /// A store of at most `capacity` unexpired proofs, at most `per_key` of them by one signer.
    pub fn new(capacity: usize, per_key: usize) -> Self {
        MemoryReplayStore { cache: std::sync::Mutex::new(ReplayCache::with_key_quota(capacity, per_key)) }
    }

    /// Number of remembered proofs.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ReplayCache> {
        // A panic while holding the lock cannot leave the cache inconsistent in a way that
        // weakens replay protection (entries are only added after all checks), so recover.
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(feature = "std")]
impl ReplayStore for MemoryReplayStore {
    fn claim(&self, c: &ReplayClaim) -> Result<Claim> {
        match self.lock().check_and_insert(&c.signer, &c.key, c.expires_at, c.now) {
            Ok(()) => Ok(Claim::Claimed),
            Err(e) if e.kind() == ErrorKind::ReplayedProof => Ok(Claim::AlreadyUsed),
            Err(e) => Err(e),
        }
    }

    fn seen(&self, c: &ReplayClaim) -> Result<bool> {
        Ok(self.lock().check(&c.signer, &c.key, c.now).is_err())
    }
}

/// A bounded memory of recently seen proofs (by signer and nonce), each kept until its
/// freshness window ends. When full of unexpired entries it refuses new proofs
/// (`limits_exceeded`) instead of forgetting: replay protection never silently weakens. One
/// signing key may hold at most `per_key` unexpired entries (its quota), so a single key cannot
/// take the whole cache: a key at its quota gets `limits_exceeded`, every other key keeps working.
///
/// A verifier [checks](ReplayCache::check) a proof's nonce before it decides and
/// [records](ReplayCache::check_and_insert) it only once the call is allowed, so proofs of
/// refused calls never occupy the cache.
///
/// ```
/// use marque::{KeyPair, proof::ReplayCache};
/// let (a, b) = (KeyPair::from_seed(&[1; 32]).public_key(), KeyPair::from_seed(&[2; 32]).public_key());
/// let mut cache = ReplayCache::with_key_quota(10, 2);
/// cache.check_and_insert(&a, "n1", 160, 100)?;
/// assert_eq!(cache.check(&a, "n1", 101).unwrap_err().code(), "replayed_proof");
/// cache.check_and_insert(&a, "n2", 160, 100)?;
/// // `a` is at its quota; `b` is not affected.
/// assert_eq!(cache.check_and_insert(&a, "n3", 160, 100).unwrap_err().code(), "limits_exceeded");
/// cache.check_and_insert(&b, "n3", 160, 100)?;
/// assert_eq!(cache.len(), 3);
/// # Ok::<(), marque::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ReplayCache {
    capacity: usize,
    per_key: usize,
    /// Entry id (SHA-256 of signer and nonce) → (expiry, signer key bytes).
    seen: BTreeMap<[u8; 32], (u64, [u8; 32])>,
    by_expiry: BTreeSet<(u64, [u8; 32])>,
    /// Unexpired entries per signer key.
    per_signer: BTreeMap<[u8; 32], usize>,
}

impl ReplayCache {
    /// A cache remembering at most `capacity` proofs, without a per-key quota.
    pub fn new(capacity: usize) -> Self {
        ReplayCache::with_key_quota(capacity, capacity)
    }

    /// A cache remembering at most `capacity` proofs, at most `per_key` of them by one signer.
    pub fn with_key_quota(capacity: usize, per_key: usize) -> Self {
        ReplayCache {
            capacity,
            per_key,
            seen: BTreeMap::new(),
            by_expiry: BTreeSet::new(),
            per_signer: BTreeMap::new(),
        }
    }

    /// Number of remembered proofs.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    fn id(signer: &PublicKey, nonce: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(signer.as_bytes());
        h.update(nonce.as_bytes());
        h.finalize().into()
    }

    /// `replayed_proof` if a proof by `signer` with `nonce` is remembered and unexpired at `now`;
    /// records nothing.
    pub fn check(&self, signer: &PublicKey, nonce: &str, now: u64) -> Result<()> {
        match self.seen.get(&Self::id(signer, nonce)) {
            Some(&(expires_at, _)) if expires_at >= now => Err(replayed()),
            _ => Ok(()),
        }
    }

    /// Records a proof by `signer` with `nonce`, remembered until `expires_at`. Errors with
    /// `replayed_proof` if it was seen, `limits_exceeded` if the cache is full or `signer`
    /// holds its quota of unexpired proofs.
    pub fn check_and_insert(&mut self, signer: &PublicKey, nonce: &str, expires_at: u64, now: u64) -> Result<()> {
        self.expire(now);
        let id = Self::id(signer, nonce);
        if self.seen.contains_key(&id) {
            return Err(replayed());
        }
        if self.seen.len() >= self.capacity {
            return Err(Error::new(
                ErrorKind::LimitsExceeded,
                "replay cache is full of unexpired proofs; refusing new proofs until some expire",
            ));
        }
        let key = *signer.as_bytes();
        let held = self.per_signer.get(&key).copied().unwrap_or(0);
        if held >= self.per_key {
            return Err(Error::new(
                ErrorKind::LimitsExceeded,
                format!(
                    "key {} holds {held} unexpired proofs in the replay cache, its quota; refusing its new proofs until some expire",
                    signer.fingerprint()
                ),
            ));
        }
        self.per_signer.insert(key, held + 1);
        self.seen.insert(id, (expires_at, key));
        self.by_expiry.insert((expires_at, id));
        Ok(())
    }

    /// Forgets every entry that expired before `now`.
    fn expire(&mut self, now: u64) {
        while let Some(&(exp, id)) = self.by_expiry.first() {
            if exp >= now {
                break;
            }
            self.by_expiry.remove(&(exp, id));
            if let Some((_, key)) = self.seen.remove(&id) {
                match self.per_signer.get_mut(&key) {
                    Some(n) if *n > 1 => *n -= 1,
                    _ => {
                        self.per_signer.remove(&key);
                    }
                }
            }
        }
    }
}

pub(crate) fn replayed() -> Error {
    Error::new(ErrorKind::ReplayedProof, "this proof was already used")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;

    #[test]
    fn replay_cache_is_bounded_and_fails_closed() {
        let kp = KeyPair::from_seed(&[3; 32]).public_key();
        let mut c = ReplayCache::new(2);
        c.check_and_insert(&kp, "a", 10, 0).unwrap();
        assert_eq!(c.check_and_insert(&kp, "a", 10, 0).unwrap_err().code(), "replayed_proof");
        c.check_and_insert(&kp, "b", 20, 0).unwrap();
        assert_eq!(c.check_and_insert(&kp, "c", 20, 0).unwrap_err().code(), "limits_exceeded");
        // Once "a" expires its slot frees up.
        c.check_and_insert(&kp, "c", 30, 11).unwrap();
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn check_records_nothing_and_forgets_expired_entries() {
        let kp = KeyPair::from_seed(&[3; 32]).public_key();
        let mut c = ReplayCache::new(4);
        c.check(&kp, "a", 0).unwrap();
        assert!(c.is_empty());
        c.check_and_insert(&kp, "a", 10, 0).unwrap();
        assert_eq!(c.check(&kp, "a", 10).unwrap_err().code(), "replayed_proof");
        // Past its expiry an entry no longer counts (the proof itself is stale by then).
        c.check(&kp, "a", 11).unwrap();
    }

    #[test]
    fn one_key_at_its_quota_does_not_block_another() {
        let a = KeyPair::from_seed(&[3; 32]).public_key();
        let b = KeyPair::from_seed(&[4; 32]).public_key();
        let mut c = ReplayCache::with_key_quota(10, 3);
        for n in ["1", "2", "3"] {
            c.check_and_insert(&a, n, 50, 0).unwrap();
        }
        let e = c.check_and_insert(&a, "4", 50, 0).unwrap_err();
        assert_eq!(e.code(), "limits_exceeded");
        assert!(e.message().contains(&a.fingerprint()), "{e}");
        for n in ["1", "2", "3"] {
            c.check_and_insert(&b, n, 60, 0).unwrap();
        }
        // The quota counts unexpired entries only: once a's expire, a may record again.
        c.check_and_insert(&a, "4", 100, 51).unwrap();
        assert_eq!(c.len(), 4);
        c.check_and_insert(&a, "5", 100, 51).unwrap();
        c.check_and_insert(&a, "6", 100, 51).unwrap();
        assert_eq!(c.check_and_insert(&a, "7", 100, 51).unwrap_err().code(), "limits_exceeded");
    }

    #[test]
    fn claim_keys_are_namespaced_hashed_and_distinct() {
        let a = KeyPair::from_seed(&[3; 32]).public_key();
        let b = KeyPair::from_seed(&[4; 32]).public_key();
        let k = ReplayClaim::new(&a, "n", 100, 100, 60, 5);
        assert_eq!(k.key().len(), KEY_PREFIX.len() + 64);
        assert!(k.key()[KEY_PREFIX.len()..].bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!(!k.key().contains(&a.to_hex()));
        assert_ne!(k.key(), ReplayClaim::new(&b, "n", 100, 100, 60, 5).key());
        assert_ne!(k.key(), ReplayClaim::new(&a, "m", 100, 100, 60, 5).key());
        // The key does not depend on time; the TTL is the window plus the skew.
        assert_eq!(k.key(), ReplayClaim::new(&a, "n", 200, 210, 30, 0).key());
        assert_eq!(k.ttl_ms(), 65_000);
        assert_eq!(k.expires_at(), 160);
    }

    #[cfg(feature = "std")]
    #[test]
    fn memory_store_keeps_the_quota() {
        let a = KeyPair::from_seed(&[3; 32]).public_key();
        let b = KeyPair::from_seed(&[4; 32]).public_key();
        let s = MemoryReplayStore::new(10, 1);
        let c = |k: &PublicKey, n: &str| ReplayClaim::new(k, n, 100, 100, 60, 5);
        assert!(!s.seen(&c(&a, "1")).unwrap());
        assert_eq!(s.claim(&c(&a, "1")).unwrap(), Claim::Claimed);
        assert!(s.seen(&c(&a, "1")).unwrap());
        assert_eq!(s.claim(&c(&a, "1")).unwrap(), Claim::AlreadyUsed);
        assert_eq!(s.claim(&c(&a, "2")).unwrap_err().code(), "limits_exceeded");
        assert_eq!(s.claim(&c(&b, "2")).unwrap(), Claim::Claimed);
        assert_eq!(s.len(), 2);
    }
}
