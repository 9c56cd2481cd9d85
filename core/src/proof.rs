//! Proof of possession: the presenting agent signs each invocation with its own key.
//!
//! A token alone is a bearer credential; a proof binds one use of it to the agent that holds it,
//! in the spirit of DPoP (RFC 9449). The acting agent signs `{token hash, tool, operation,
//! resource, time, nonce}`; the verifier checks the signature against the key the token's last
//! hop names, that the proof binds *this* token and *this* request, that it is fresh (default
//! window 60 s, small future skew) and that its nonce was not seen before (a bounded
//! [`ReplayCache`] with a per-key quota that fails closed when full; a verifier records a nonce
//! only for a call it allows). A stolen token without the agent's key is then useless.
//!
//! Wire form: `base64url(payload JSON) "." base64url(Ed25519 signature)`, where the signature is
//! over the ASCII bytes `marque-proof/1.` followed by the first part.
//!
//! ```
//! use marque::{KeyPair, proof::{sign_proof_with_nonce, verify_proof, ProofRequest}};
//! let agent = KeyPair::from_seed(&[9; 32]);
//! let token_bytes = b"token bytes";
//! let req = ProofRequest { tool: "read_file", operation: "read", resource: "src/a.rs" };
//! let proof = sign_proof_with_nonce(&agent, token_bytes, &req, 1_700_000_000, [1; 16])?;
//! let claims = verify_proof(&proof, &agent.public_key(), token_bytes, &req, 1_700_000_010, 60, 5)?;
//! assert_eq!(claims.iat, 1_700_000_000);
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};
use crate::keys::{PublicKey, Signature};
use crate::signer::Signer;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const DOMAIN: &[u8] = b"marque-proof/1.";
/// Largest accepted proof string, in bytes.
pub const MAX_PROOF_BYTES: usize = 8 * 1024;

/// The request a proof is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofRequest<'a> {
    /// Tool.
    pub tool: &'a str,
    /// Operation.
    pub operation: &'a str,
    /// Resource.
    pub resource: &'a str,
}

/// The signed content of a proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofClaims {
    /// Format version (1).
    pub v: u32,
    /// base64url SHA-256 of the token bytes.
    pub th: String,
    /// Tool.
    pub tool: String,
    /// Operation.
    pub op: String,
    /// Resource.
    pub res: String,
    /// Signing time, seconds since the Unix epoch.
    pub iat: u64,
    /// Random nonce, base64url.
    pub nonce: String,
}

/// base64url SHA-256 of a token's bytes, as bound by proofs.
pub fn token_hash(token_bytes: &[u8]) -> String {
    B64.encode(Sha256::digest(token_bytes))
}

/// Signs a proof with an explicit 16-byte nonce (use [`sign_proof`] to draw a random one).
pub fn sign_proof_with_nonce<S: Signer + ?Sized>(
    agent: &S,
    token_bytes: &[u8],
    request: &ProofRequest<'_>,
    now: u64,
    nonce: [u8; 16],
) -> Result<String> {
    crate::clock::check("now", now)?;
    let claims = ProofClaims {
        v: 1,
        th: token_hash(token_bytes),
        tool: request.tool.into(),
        op: request.operation.into(),
        res: request.resource.into(),
        iat: now,
        nonce: B64.encode(nonce),
    };
    // Serializing a struct of strings and integers cannot fail.
    let payload = B64.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let mut msg = Vec::with_capacity(DOMAIN.len() + payload.len());
    msg.extend_from_slice(DOMAIN);
    msg.extend_from_slice(payload.as_bytes());
    let sig = crate::signer::sign_checked(agent, &msg)?;
    Ok(format!("{payload}.{}", sig.to_base64()))
}

/// Signs a proof with a random nonce from the platform CSPRNG.
#[cfg(feature = "std")]
pub fn sign_proof<S: Signer + ?Sized>(agent: &S, token_bytes: &[u8], request: &ProofRequest<'_>, now: u64) -> Result<String> {
    sign_proof_with_nonce(agent, token_bytes, request, now, crate::random_bytes::<16>()?)
}

fn bad(msg: impl Into<alloc::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::InvalidProof, msg)
}

/// Verifies a proof's signature by `key`, its binding to `token_bytes` and `request`, and its
/// freshness (`window` seconds old at most, `skew` seconds in the future at most). Replay is
/// checked separately with a [`ReplayCache`].
pub fn verify_proof(
    proof: &str,
    key: &PublicKey,
    token_bytes: &[u8],
    request: &ProofRequest<'_>,
    now: u64,
    window: u64,
    skew: u64,
) -> Result<ProofClaims> {
    crate::clock::check("now", now)?;
    if proof.len() > MAX_PROOF_BYTES {
        return Err(Error::new(ErrorKind::LimitsExceeded, "proof is larger than 8 KiB"));
    }
    let (payload, sig) = proof.split_once('.').ok_or_else(|| bad("proof must be `payload.signature`"))?;
    let sig = Signature::from_base64(sig).map_err(|_| bad("proof signature is not 64 base64url bytes"))?;
    let mut msg = Vec::with_capacity(DOMAIN.len() + payload.len());
    msg.extend_from_slice(DOMAIN);
    msg.extend_from_slice(payload.as_bytes());
    key.verify(&msg, &sig)
        .map_err(|_| bad("proof signature does not verify with the acting agent's key"))?;
    let raw = B64.decode(payload).map_err(|_| bad("proof payload is not base64url"))?;
    let claims: ProofClaims =
        serde_json::from_slice(&raw).map_err(|_| bad("proof payload is not the expected JSON"))?;
    if claims.v != 1 {
        return Err(bad(format!("unsupported proof version {}", claims.v)));
    }
    if claims.th != token_hash(token_bytes) {
        return Err(bad("proof is bound to another token"));
    }
    if claims.tool != request.tool || claims.op != request.operation || claims.res != request.resource {
        return Err(bad("proof is bound to another request (tool, operation or resource differ)"));
    }
    if claims.iat > now.saturating_add(skew) {
        return Err(bad(format!("proof time {} is in the future (now {now})", claims.iat)));
    }
    if now.saturating_sub(claims.iat) > window {
        return Err(Error::new(
            ErrorKind::InvalidProof,
            format!("proof is stale: signed at {}, older than {window} s", claims.iat),
        ));
    }
    Ok(claims)
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

fn replayed() -> Error {
    Error::new(ErrorKind::ReplayedProof, "this proof was already used")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;

    fn req() -> ProofRequest<'static> {
        ProofRequest { tool: "t", operation: "o", resource: "r" }
    }

    #[test]
    fn binding_and_freshness() {
        const T: u64 = 1_767_225_600;
        let kp = KeyPair::from_seed(&[3; 32]);
        let other = KeyPair::from_seed(&[4; 32]);
        let p = sign_proof_with_nonce(&kp, b"tok", &req(), T, [0; 16]).unwrap();
        assert!(verify_proof(&p, &kp.public_key(), b"tok", &req(), T, 60, 5).is_ok());
        let code = |r: Result<ProofClaims>| r.unwrap_err().code();
        assert_eq!(code(verify_proof(&p, &other.public_key(), b"tok", &req(), T, 60, 5)), "invalid_proof");
        assert_eq!(code(verify_proof(&p, &kp.public_key(), b"tok2", &req(), T, 60, 5)), "invalid_proof");
        let r2 = ProofRequest { resource: "r2", ..req() };
        assert_eq!(code(verify_proof(&p, &kp.public_key(), b"tok", &r2, T, 60, 5)), "invalid_proof");
        assert_eq!(code(verify_proof(&p, &kp.public_key(), b"tok", &req(), T + 61, 60, 5)), "invalid_proof");
        assert_eq!(code(verify_proof(&p, &kp.public_key(), b"tok", &req(), T - 6, 60, 5)), "invalid_proof");
        assert!(verify_proof(&p, &kp.public_key(), b"tok", &req(), T - 5, 60, 5).is_ok());
        assert_eq!(code(verify_proof("x.y", &kp.public_key(), b"tok", &req(), T, 60, 5)), "invalid_proof");
        let mut tampered = p.clone().into_bytes();
        tampered[3] ^= 1;
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(code(verify_proof(&tampered, &kp.public_key(), b"tok", &req(), T, 60, 5)), "invalid_proof");
        // Times are seconds: a millisecond now is refused, signing or verifying.
        assert_eq!(code(verify_proof(&p, &kp.public_key(), b"tok", &req(), T * 1000, 60, 5)), "invalid_argument");
        assert_eq!(sign_proof_with_nonce(&kp, b"tok", &req(), T * 1000, [0; 16]).unwrap_err().code(), "invalid_argument");
    }

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
}
