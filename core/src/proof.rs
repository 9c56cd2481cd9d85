//! Proof of possession: the presenting agent signs each invocation with its own key.
//!
//! A token alone is a bearer credential; a proof binds one use of it to the agent that holds it,
//! in the spirit of DPoP (RFC 9449). The acting agent signs `{token hash, tool, operation,
//! resource, time, nonce}`; the verifier checks the signature against the key the token's last
//! hop names, that the proof binds *this* token and *this* request, that it is fresh (default
//! window 60 s, small future skew) and that its nonce was not seen before (a
//! [`ReplayStore`](crate::replay::ReplayStore): by default the bounded in-process
//! [`ReplayCache`] with a per-key quota that fails closed when full, or a store shared by a
//! fleet; a verifier claims a nonce only for a call it allows). A stolen token without the agent's key is then useless.
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

/// The bounded in-process replay memory; it lives in [`crate::replay`] with the
/// [`ReplayStore`](crate::replay::ReplayStore) contract (re-exported here for compatibility).
pub use crate::replay::ReplayCache;

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
}
