//! Approvals: a human (or any signer the operator trusts) approves one exact call.
//!
//! Some calls need a person in the loop — a production deploy, a payment. The verifier answers
//! such a call with a denial coded `approval_required` that carries an [`ApprovalRequest`]: the
//! **digest** of the exact token and request ([`request_digest`]: SHA-256 over the token's bytes
//! and the tool, operation, resource and every attribute, length-prefixed so no two requests
//! share one) and the ids of the approvers who may approve it. An approver signs an approval
//! bound to that digest ([`sign_approval`]; `marque approve` on the CLI), with its id, a short
//! expiry (at most [`MAX_APPROVAL_TTL`]) and a random nonce. The agent retries the same call
//! with the approval; the verifier checks it ([`verify_approval`]): signed by the key the
//! operator trusts for that approver id, bound to this digest (another request, another token,
//! another attribute — refused), not expired, not from the future beyond the skew, and used
//! **once** (claimed in the [`ReplayStore`](crate::replay::ReplayStore) under its own
//! namespace, [`approval_claim`]). The allowed call's audit event records who approved it.
//!
//! Wire form, like proofs: `base64url(payload JSON) "." base64url(Ed25519 signature)`, the
//! signature over the ASCII bytes `marque-approval/1.` followed by the first part.
//!
//! ```
//! use marque::{KeyPair, Request};
//! use marque::approval::{request_digest, sign_approval_with_nonce, verify_approval, Approvers};
//! let alice = KeyPair::from_seed(&[7; 32]); // a human approver's key
//! let request = Request::new("deploy", "deploy", "svc/web").attribute("resource.env", "production");
//! let digest = request_digest(b"token bytes", &request);
//! let approval = sign_approval_with_nonce(&alice, "user:alice", &digest, 1_767_225_600, 300, [1; 16])?;
//!
//! let mut approvers = Approvers::new();
//! approvers.add("user:alice", alice.public_key())?;
//! let ok = verify_approval(&approval, &approvers, &digest, 1_767_225_660, 5)?;
//! assert_eq!(ok.approver, "user:alice");
//! // Bound to the exact request: the same approval for staging is refused.
//! let other = request_digest(b"token bytes", &Request::new("deploy", "deploy", "svc/web"));
//! assert_eq!(verify_approval(&approval, &approvers, &other, 1_767_225_660, 5).unwrap_err().code(), "approval_required");
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};
use crate::keys::{PublicKey, Signature};
use crate::policy::Request;
use crate::replay::ReplayClaim;
use crate::signer::Signer;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const DOMAIN: &[u8] = b"marque-approval/1.";
const DIGEST_DOMAIN: &[u8] = b"marque-approval-request/1\0";
/// Largest accepted approval string, in bytes.
pub const MAX_APPROVAL_BYTES: usize = 4 * 1024;
/// Longest an approval may live, in seconds (one day).
pub const MAX_APPROVAL_TTL: u64 = 24 * 60 * 60;
/// Most approvers one verifier trusts.
pub const MAX_APPROVERS: usize = 1024;

/// What a call that needs approval is missing: carried by an `approval_required` denial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    /// The digest an approval must be bound to ([`request_digest`]).
    pub digest: String,
    /// The approver ids whose approval the verifier accepts.
    pub approvers: Vec<String>,
    /// What asked for the approval: an operator rule, a delegation's rule, or a policy.
    pub reason: String,
}

/// The signed content of an approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalClaims {
    /// Format version (1).
    pub v: u32,
    /// The request digest approved.
    pub dig: String,
    /// The approver's id, e.g. `user:alice`.
    pub sub: String,
    /// Signing time, seconds since the Unix epoch.
    pub iat: u64,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Random nonce, base64url.
    pub nonce: String,
}

/// An approval that verified: who approved, with which key, when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedApproval {
    /// The approver's id.
    pub approver: String,
    /// Fingerprint of the approver's key.
    pub key_fingerprint: String,
    /// When it was signed.
    pub iat: u64,
    /// When it expires.
    pub exp: u64,
    /// Its single-use claim, to record in the replay store once the call is allowed.
    #[serde(skip)]
    pub claim: Option<ReplayClaim>,
    /// What a new approval of this call must cover, should this one turn out to be used
    /// already (the verifier's `approval_required` denial then carries it).
    #[serde(skip)]
    pub request: Option<ApprovalRequest>,
}

/// The approvers a verifier trusts: id → Ed25519 public key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Approvers {
    keys: BTreeMap<String, PublicKey>,
}

impl Approvers {
    /// No approver.
    pub fn new() -> Self {
        Approvers::default()
    }

    /// Trusts `key` for approver `id` (1–256 bytes, no control characters, `"` or `\`). One key
    /// per id; adding an id again replaces its key.
    pub fn add(&mut self, id: &str, key: PublicKey) -> Result<()> {
        crate::identity::validate_name("approver id", id)?;
        if !self.keys.contains_key(id) && self.keys.len() >= MAX_APPROVERS {
            return Err(Error::new(ErrorKind::LimitsExceeded, format!("at most {MAX_APPROVERS} approvers")));
        }
        self.keys.insert(id.to_string(), key);
        Ok(())
    }

    /// The trusted ids, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.keys.keys().cloned().collect()
    }

    /// The key trusted for `id`.
    pub fn key(&self, id: &str) -> Option<&PublicKey> {
        self.keys.get(id)
    }

    /// Whether none is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn put(h: &mut Sha256, bytes: &[u8]) {
    // Lengths are bounded far below 4 GiB by the request limits; saturate rather than wrap.
    h.update(u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    h.update(bytes);
}

/// The digest an approval binds: base64url SHA-256 over a domain tag, the SHA-256 of the token
/// bytes, then the tool, operation, resource and each attribute (sorted by key), each
/// length-prefixed.
pub fn request_digest(token_bytes: &[u8], request: &Request) -> String {
    let mut h = Sha256::new();
    h.update(DIGEST_DOMAIN);
    h.update(Sha256::digest(token_bytes));
    put(&mut h, request.tool.as_bytes());
    put(&mut h, request.operation.as_bytes());
    put(&mut h, request.resource.as_bytes());
    h.update(u32::try_from(request.attributes.len()).unwrap_or(u32::MAX).to_be_bytes());
    for (k, v) in &request.attributes {
        put(&mut h, k.as_bytes());
        put(&mut h, v.as_bytes());
    }
    B64.encode(h.finalize())
}

fn check_digest(digest: &str) -> Result<()> {
    match B64.decode(digest) {
        Ok(raw) if raw.len() == 32 => Ok(()),
        _ => Err(Error::new(ErrorKind::InvalidArgument, "an approval digest is 32 bytes, base64url without padding")),
    }
}

/// Signs an approval of `digest` as approver `approver_id`, valid `ttl` seconds from `now`
/// (1 ..= [`MAX_APPROVAL_TTL`]), with an explicit nonce (use [`sign_approval`] for a random one).
pub fn sign_approval_with_nonce<S: Signer + ?Sized>(
    approver: &S,
    approver_id: &str,
    digest: &str,
    now: u64,
    ttl: u64,
    nonce: [u8; 16],
) -> Result<String> {
    crate::clock::check("now", now)?;
    crate::identity::validate_name("approver id", approver_id)?;
    check_digest(digest)?;
    if ttl == 0 || ttl > MAX_APPROVAL_TTL {
        return Err(Error::new(ErrorKind::InvalidArgument, format!("approval ttl must be 1..={MAX_APPROVAL_TTL} seconds")));
    }
    let claims = ApprovalClaims {
        v: 1,
        dig: digest.to_string(),
        sub: approver_id.to_string(),
        iat: now,
        exp: now.saturating_add(ttl),
        nonce: B64.encode(nonce),
    };
    let payload = B64.encode(serde_json::to_vec(&claims).map_err(|_| Error::internal("approval encoding"))?);
    let sig = crate::signer::sign_checked(approver, &signing_input(&payload))?;
    Ok(format!("{payload}.{}", sig.to_base64()))
}

/// Signs an approval with a random nonce from the platform CSPRNG.
#[cfg(feature = "std")]
pub fn sign_approval<S: Signer + ?Sized>(approver: &S, approver_id: &str, digest: &str, now: u64, ttl: u64) -> Result<String> {
    sign_approval_with_nonce(approver, approver_id, digest, now, ttl, crate::random_bytes::<16>()?)
}

fn refused(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::ApprovalRequired, format!("approval refused: {}", msg.into()))
}

/// Reads an approval's claims without checking anything (to show an approver what they sign,
/// or to log what was presented). Never decide on these.
pub fn decode_approval_unverified(approval: &str) -> Result<ApprovalClaims> {
    parts(approval).map(|(_, _, claims)| claims)
}

/// Splits an approval into its signed payload, its signature text and the decoded claims.
fn parts(approval: &str) -> Result<(&str, &str, ApprovalClaims)> {
    if approval.len() > MAX_APPROVAL_BYTES {
        return Err(refused(format!("larger than {MAX_APPROVAL_BYTES} bytes")));
    }
    let (payload, sig) = approval.split_once('.').ok_or_else(|| refused("not `payload.signature`"))?;
    let raw = B64.decode(payload).map_err(|_| refused("payload is not base64url"))?;
    let claims: ApprovalClaims = serde_json::from_slice(&raw).map_err(|_| refused("payload is not the expected JSON"))?;
    if claims.v != 1 {
        return Err(refused(format!("unsupported version {}", claims.v)));
    }
    Ok((payload, sig, claims))
}

/// What an approver signs: the domain tag, then the payload text.
fn signing_input(payload: &str) -> Vec<u8> {
    let mut msg = Vec::with_capacity(DOMAIN.len() + payload.len());
    msg.extend_from_slice(DOMAIN);
    msg.extend_from_slice(payload.as_bytes());
    msg
}

/// Verifies an approval: version, signature by the key `approvers` trusts for its `sub`, bound
/// to `digest`, `iat <= now + skew`, `now < exp`, lifetime at most [`MAX_APPROVAL_TTL`]. Every
/// refusal has the code `approval_required` (the call still needs a valid approval) and says
/// why. The returned [`VerifiedApproval::claim`] must be claimed in the replay store before the
/// call is allowed (single use); the verifier does that.
pub fn verify_approval(approval: &str, approvers: &Approvers, digest: &str, now: u64, skew: u64) -> Result<VerifiedApproval> {
    crate::clock::check("now", now)?;
    let (payload, sig, claims) = parts(approval)?;
    let key = approvers.key(&claims.sub).ok_or_else(|| refused(format!("`{}` is not a trusted approver", crate::error::sanitize(&claims.sub))))?;
    let sig = Signature::from_base64(sig).map_err(|_| refused("signature is not 64 base64url bytes"))?;
    key.verify(&signing_input(payload), &sig).map_err(|_| refused("signature does not verify with the approver's key"))?;
    if claims.dig != digest {
        return Err(refused("it approves another request or token"));
    }
    if claims.exp <= claims.iat || claims.exp - claims.iat > MAX_APPROVAL_TTL {
        return Err(refused(format!("its lifetime must be 1..={MAX_APPROVAL_TTL} seconds")));
    }
    if claims.iat > now.saturating_add(skew) {
        return Err(refused(format!("signed in the future ({} > now {now})", claims.iat)));
    }
    if now >= claims.exp {
        return Err(refused(format!("expired at {}", claims.exp)));
    }
    Ok(VerifiedApproval {
        approver: claims.sub.clone(),
        key_fingerprint: key.fingerprint(),
        iat: claims.iat,
        exp: claims.exp,
        claim: Some(approval_claim(key, &claims.nonce, claims.iat, claims.exp, now, skew)),
        request: None,
    })
}

/// The replay-store claim that makes an approval single-use: namespace `marque:replay:` with
/// its own domain tag (an approval nonce never collides with a proof nonce), held until the
/// approval expires plus the skew.
pub fn approval_claim(approver: &PublicKey, nonce: &str, iat: u64, exp: u64, now: u64, skew: u64) -> ReplayClaim {
    ReplayClaim::with_domain(b"marque-approval/1\0", approver, nonce, iat, now, exp.saturating_sub(iat), skew)
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::keys::KeyPair;
    use crate::replay::{Claim, MemoryReplayStore, ReplayStore};

    const T: u64 = 1_767_225_600;

    fn setup() -> (KeyPair, Approvers, Request, String) {
        let alice = KeyPair::from_seed(&[7; 32]);
        let mut approvers = Approvers::new();
        approvers.add("user:alice", alice.public_key()).unwrap();
        let request = Request::new("deploy", "deploy", "svc/web").attribute("resource.env", "production");
        let digest = request_digest(b"tok", &request);
        (alice, approvers, request, digest)
    }

    #[test]
    fn digest_binds_every_part_of_the_request() {
        let base = Request::new("t", "o", "r").attribute("k", "v");
        let d = request_digest(b"tok", &base);
        assert_eq!(d.len(), 43);
        let variants = [
            request_digest(b"tok2", &base),
            request_digest(b"tok", &Request::new("t2", "o", "r").attribute("k", "v")),
            request_digest(b"tok", &Request::new("t", "o2", "r").attribute("k", "v")),
            request_digest(b"tok", &Request::new("t", "o", "r2").attribute("k", "v")),
            request_digest(b"tok", &Request::new("t", "o", "r").attribute("k", "v2")),
            request_digest(b"tok", &Request::new("t", "o", "r")),
            // Length prefixes: moving bytes between fields changes the digest.
            request_digest(b"tok", &Request::new("to", "", "r").attribute("k", "v")),
            request_digest(b"tok", &Request::new("t", "o", "r").attribute("kv", "")),
        ];
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(v, &d, "variant {i}");
        }
        assert_eq!(request_digest(b"tok", &base), d, "deterministic");
    }

    #[test]
    fn approval_checks() {
        let (alice, approvers, _, digest) = setup();
        let a = sign_approval_with_nonce(&alice, "user:alice", &digest, T, 300, [1; 16]).unwrap();
        let ok = verify_approval(&a, &approvers, &digest, T + 10, 5).unwrap();
        assert_eq!((ok.approver.as_str(), ok.iat, ok.exp), ("user:alice", T, T + 300));
        assert_eq!(ok.key_fingerprint, alice.public_key().fingerprint());
        let code = |r: Result<VerifiedApproval>| r.unwrap_err().code();
        // Expired, exactly at exp and after.
        assert_eq!(code(verify_approval(&a, &approvers, &digest, T + 300, 5)), "approval_required");
        // From the future beyond the skew.
        assert_eq!(code(verify_approval(&a, &approvers, &digest, T - 6, 5)), "approval_required");
        assert!(verify_approval(&a, &approvers, &digest, T - 5, 5).is_ok());
        // Signed by a key not trusted for that id.
        let mallory = KeyPair::from_seed(&[8; 32]);
        let forged = sign_approval_with_nonce(&mallory, "user:alice", &digest, T, 300, [1; 16]).unwrap();
        assert_eq!(code(verify_approval(&forged, &approvers, &digest, T, 5)), "approval_required");
        let unknown = sign_approval_with_nonce(&mallory, "user:mallory", &digest, T, 300, [1; 16]).unwrap();
        let e = verify_approval(&unknown, &approvers, &digest, T, 5).unwrap_err();
        assert!(e.message().contains("not a trusted approver"), "{}", e.message());
        // Tampered payload.
        let mut t = a.clone().into_bytes();
        t[5] ^= 1;
        assert_eq!(code(verify_approval(&String::from_utf8(t).unwrap(), &approvers, &digest, T, 5)), "approval_required");
        // Garbage and oversize.
        assert_eq!(code(verify_approval("x", &approvers, &digest, T, 5)), "approval_required");
        assert_eq!(code(verify_approval(&"a".repeat(MAX_APPROVAL_BYTES + 1), &approvers, &digest, T, 5)), "approval_required");
        // Milliseconds are refused.
        assert_eq!(code(verify_approval(&a, &approvers, &digest, T * 1000, 5)), "invalid_argument");
    }

    #[test]
    fn signing_refuses_bad_arguments() {
        let (alice, _, _, digest) = setup();
        let code = |r: Result<String>| r.unwrap_err().code();
        assert_eq!(code(sign_approval_with_nonce(&alice, "user:alice", &digest, T, 0, [0; 16])), "invalid_argument");
        assert_eq!(code(sign_approval_with_nonce(&alice, "user:alice", &digest, T, MAX_APPROVAL_TTL + 1, [0; 16])), "invalid_argument");
        assert_eq!(code(sign_approval_with_nonce(&alice, "user:alice", "not-a-digest", T, 60, [0; 16])), "invalid_argument");
        assert_eq!(code(sign_approval_with_nonce(&alice, "", &digest, T, 60, [0; 16])), "invalid_argument");
        assert_eq!(code(sign_approval_with_nonce(&alice, "user:alice", &digest, T * 1000, 60, [0; 16])), "invalid_argument");
    }

    #[test]
    fn an_approval_is_single_use_and_apart_from_proofs() {
        let (alice, approvers, _, digest) = setup();
        let a = sign_approval_with_nonce(&alice, "user:alice", &digest, T, 300, [1; 16]).unwrap();
        let ok = verify_approval(&a, &approvers, &digest, T + 1, 5).unwrap();
        let claim = ok.claim.unwrap();
        assert_eq!(claim.ttl_ms(), 305_000);
        let store = MemoryReplayStore::new(100, 10);
        assert_eq!(store.claim(&claim).unwrap(), Claim::Claimed);
        assert_eq!(store.claim(&claim).unwrap(), Claim::AlreadyUsed);
        // A proof by the same key with the same nonce is another store key.
        let proof = ReplayClaim::new(&alice.public_key(), &B64.encode([1u8; 16]), T, T + 1, 300, 5);
        assert_ne!(proof.key(), claim.key());
        assert!(claim.key().starts_with(crate::replay::KEY_PREFIX));
    }
}
