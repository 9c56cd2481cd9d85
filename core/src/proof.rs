//! Proof of possession: the presenting agent signs each invocation with its own key.
//!
//! A token alone is a bearer credential; a proof binds one use of it to the agent that holds it,
//! in the spirit of DPoP (RFC 9449). The acting agent signs `{token hash, tool, operation,
//! resource, audience, time, nonce}`; the verifier checks the signature against the key the token's last
//! hop names, that the proof binds *this* token and *this* request, that it is for *this* server
//! (the audience, below), that it is fresh (default
//! window 60 s, small future skew) and that its nonce was not seen before (a
//! [`ReplayStore`](crate::replay::ReplayStore): by default the bounded in-process
//! [`ReplayCache`] with a per-key quota that fails closed when full, or a store shared by a
//! fleet; a verifier claims a nonce only for a call it allows). A stolen token without the agent's key is then useless.
//!
//! Audience (RFC 8707): a proof may name the resource server it is for (`aud`, the server's
//! canonical URI, an [`Audience`]). A verifier that knows its own audience accepts only proofs
//! naming it — a proof without `aud`, or for another server, is `invalid_proof` — so a server
//! that receives an agent's token and proof cannot replay them elsewhere. A verifier without an
//! audience refuses a proof that names one (fail closed: it cannot tell whether it is the server
//! the agent meant). Proofs without `aud` are byte for byte the version-1 proofs they always were.
//!
//! Wire form: `base64url(payload JSON) "." base64url(Ed25519 signature)`, where the signature is
//! over the ASCII bytes `marque-proof/1.` followed by the first part.
//!
//! ```
//! use marque::{KeyPair, audience::Audience, proof::{sign_proof_with_nonce, verify_proof, ProofRequest}};
//! let agent = KeyPair::from_seed(&[9; 32]);
//! let token_bytes = b"token bytes";
//! let req = ProofRequest::new("read_file", "read", "src/a.rs");
//! let proof = sign_proof_with_nonce(&agent, token_bytes, &req, 1_700_000_000, [1; 16])?;
//! let claims = verify_proof(&proof, &agent.public_key(), token_bytes, &req, 1_700_000_010, 60, 5)?;
//! assert_eq!(claims.iat, 1_700_000_000);
//!
//! // Bound to server A: accepted by A, refused by B and by a verifier that knows no audience.
//! let (a, b) = (Audience::parse("https://a.example/mcp")?, Audience::parse("https://b.example/mcp")?);
//! let for_a = sign_proof_with_nonce(&agent, token_bytes, &req.audience(&a), 1_700_000_000, [2; 16])?;
//! assert!(verify_proof(&for_a, &agent.public_key(), token_bytes, &req.audience(&a), 1_700_000_010, 60, 5).is_ok());
//! let at_b = verify_proof(&for_a, &agent.public_key(), token_bytes, &req.audience(&b), 1_700_000_010, 60, 5);
//! assert_eq!(at_b.unwrap_err().code(), "invalid_proof");
//! assert!(verify_proof(&for_a, &agent.public_key(), token_bytes, &req, 1_700_000_010, 60, 5).is_err());
//! // B refuses a proof that names no audience, too.
//! assert!(verify_proof(&proof, &agent.public_key(), token_bytes, &req.audience(&b), 1_700_000_010, 60, 5).is_err());
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::audience::Audience;
use crate::error::{sanitize, Error, ErrorKind, Result};
use crate::keys::{PublicKey, Signature};
use crate::signer::Signer;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const DOMAIN: &[u8] = b"marque-proof/1.";
/// Largest accepted proof string, in bytes.
pub const MAX_PROOF_BYTES: usize = 8 * 1024;

/// The request a proof is bound to: signing binds it, verifying expects it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofRequest<'a> {
    /// Tool.
    pub tool: &'a str,
    /// Operation.
    pub operation: &'a str,
    /// Resource.
    pub resource: &'a str,
    /// The resource server (RFC 8707): signing, the server the proof is for (`aud`; None: no
    /// `aud` claim); verifying, this verifier's own audience (None: it knows none, and refuses a
    /// proof that names one).
    pub audience: Option<&'a Audience>,
}

impl<'a> ProofRequest<'a> {
    /// A request without an audience.
    pub const fn new(tool: &'a str, operation: &'a str, resource: &'a str) -> Self {
        ProofRequest { tool, operation, resource, audience: None }
    }

    /// The same request bound to `audience`.
    pub const fn audience(self, audience: &'a Audience) -> Self {
        ProofRequest { audience: Some(audience), ..self }
    }
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
    /// The resource server the proof is for: its canonical URI ([`Audience`]); absent when
    /// the proof is bound to no server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
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
        aud: request.audience.map(|a| a.as_str().into()),
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
    check_audience(claims.aud.as_deref(), request.audience)?;
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

/// The audience rule: a verifier with an audience accepts only a proof naming exactly its
/// canonical URI; a verifier without one accepts only a proof naming none.
fn check_audience(aud: Option<&str>, expected: Option<&Audience>) -> Result<()> {
    let shown = |a: &str| -> String { sanitize(a).chars().take(100).collect() };
    match (aud, expected) {
        (None, None) => Ok(()),
        (Some(got), Some(want)) if got == want.as_str() => Ok(()),
        (Some(got), Some(want)) => {
            Err(bad(format!("proof audience {:?} is another server, not this one ({want})", shown(got))))
        }
        (None, Some(want)) => Err(bad(format!("proof names no audience; this server ({want}) accepts only proofs bound to it"))),
        (Some(got), None) => Err(bad(format!(
            "proof audience {:?} cannot be checked: this verifier has no audience (configure its canonical URI)",
            shown(got)
        ))),
    }
}

/// The bounded in-process replay memory; it lives in [`crate::replay`] with the
/// [`ReplayStore`](crate::replay::ReplayStore) contract (re-exported here for compatibility).
pub use crate::replay::ReplayCache;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;

    fn req() -> ProofRequest<'static> {
        ProofRequest::new("t", "o", "r")
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
        // Audience: exact canonical equality, and no audience on one side only.
        let a = Audience::parse("https://a.example/mcp").unwrap();
        let a2 = Audience::parse("HTTPS://A.example:443/mcp/").unwrap();
        let b = Audience::parse("https://b.example/mcp").unwrap();
        let pa = sign_proof_with_nonce(&kp, b"tok", &req().audience(&a2), T, [1; 16]).unwrap();
        assert!(verify_proof(&pa, &kp.public_key(), b"tok", &req().audience(&a), T, 60, 5).is_ok());
        assert_eq!(verify_proof(&pa, &kp.public_key(), b"tok", &req().audience(&b), T, 60, 5).unwrap_err().code(), "invalid_proof");
        let none = verify_proof(&pa, &kp.public_key(), b"tok", &req(), T, 60, 5).unwrap_err();
        assert!(none.message().contains("no audience"), "{none}");
        let missing = verify_proof(&p, &kp.public_key(), b"tok", &req().audience(&a), T, 60, 5).unwrap_err();
        assert!(missing.message().contains("names no audience"), "{missing}");
        // A proof without an audience is the version-1 payload, byte for byte: no `aud` member.
        let payload = B64.decode(p.split('.').next().unwrap()).unwrap();
        assert!(!String::from_utf8(payload).unwrap().contains("aud"));
        // Times are seconds: a millisecond now is refused, signing or verifying.
        assert_eq!(code(verify_proof(&p, &kp.public_key(), b"tok", &req(), T * 1000, 60, 5)), "invalid_argument");
        assert_eq!(sign_proof_with_nonce(&kp, b"tok", &req(), T * 1000, [0; 16]).unwrap_err().code(), "invalid_argument");
    }
}
