//! # marque — cryptographic identity and delegated authority for AI agents
//!
//! (crate docs with the full mint → delegate → authorize → audit tutorial are below the module
//! list once every module has landed.)
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

extern crate alloc;

pub mod audit;
pub mod error;
pub mod identity;
pub mod jcs;
pub mod jwt;
pub mod keys;

pub use error::{Error, ErrorKind, Result};
pub use keys::{Jwk, KeyPair, PublicKey, Signature};

pub use audit::{AuditDecision, AuditEvent, AuditLog, Envelope, ProblemKind, VerifyReport};
pub use identity::AgentIdentity;
pub use jwt::{jwt_issue, jwt_verify, Claims, JwtKeys, JwtOptions};

/// Fills an array from the platform CSPRNG (the OS, or `crypto.getRandomValues` on wasm).
#[cfg(feature = "std")]
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf)
        .map_err(|e| Error::internal(alloc::format!("no randomness available: {e}")))?;
    Ok(buf)
}

/// Seconds since the Unix epoch from the system clock (not available on wasm32, where the
/// bindings pass the host's `Date.now()`).
#[cfg(all(feature = "std", not(target_arch = "wasm32")))]
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
