//! # marque — cryptographic identity and delegated authority for AI agents
//!
//! When an agent calls a tool, the receiving side must know which agent it is, on whose behalf,
//! for which task, allowed what, until when, delegated by whom — and be able to revoke it and
//! prove afterwards what happened. marque gives every agent an Ed25519 identity and a Biscuit v3
//! token that a parent agent attenuates **offline** for a child (permissions only narrow, each hop
//! signed by the delegating agent), that any verifier checks **offline** with the root public key,
//! and that a policy authorizes per request, optionally bound to a proof of possession.
//!
//! ```
//! use marque::{KeyPair, Token, Verifier, MintParams, DelegateParams, Request, Right};
//!
//! let now = 1_767_225_600; // time is always a parameter (the std build can read the clock)
//! let root = KeyPair::from_seed(&[1; 32]);          // the operator's root key
//! let orchestrator = KeyPair::from_seed(&[2; 32]);  // each agent has its own key
//! let reviewer = KeyPair::from_seed(&[3; 32]);
//!
//! // 1. Mint: the root grants the orchestrator, on behalf of user:alice.
//! let token = Token::mint(&root, &MintParams::new("agent:orchestrator", orchestrator.public_key(), "user:alice")
//!     .task("fix-issue-42")
//!     .right(Right::new("read_file", "read", "*"))
//!     .right(Right::new("write_file", "write", "src/"))
//!     .now(now))?;
//!
//! // 2. Attenuate, offline: the orchestrator hands a read-only view of src/ to a sub-agent.
//! let child = token.delegate(&orchestrator, &DelegateParams::new("agent:reviewer", reviewer.public_key())
//!     .tools(["read_file"]).resource_prefix("src/").ttl_seconds(600).now(now))?;
//! assert_eq!(child.path(), "/root/reviewer");
//!
//! // 3. Authorize, offline: a tool server trusting only the root public key.
//! let verifier = Verifier::new([root.public_key()]).with_require_proof(true);
//! let request = Request::new("read_file", "read", "src/main.rs");
//! let proof = child.sign_proof(&reviewer, &request, Some(now))?; // proof of possession
//! let decision = verifier.authorize(child.to_bytes(), &request, Some(&proof), Some(now))?;
//! assert!(decision.allowed);
//! assert_eq!(decision.chain, ["agent:orchestrator", "agent:reviewer"]);
//!
//! // A denial is data, with a stable code and readable reasons.
//! let write = Request::new("write_file", "write", "src/main.rs");
//! let proof = child.sign_proof(&reviewer, &write, Some(now))?;
//! let denied = verifier.authorize(child.to_bytes(), &write, Some(&proof), Some(now))?;
//! assert_eq!(denied.code.as_deref(), Some("not_authorized"));
//! # Ok::<(), marque::Error>(())
//! ```
//!
//! Modules, by concept: [`keys`], [`identity`], [`token`] (mint), [`delegate`], [`verify`],
//! [`policy`], [`resource`] (what a request may name, what a prefix covers), [`clock`] (times
//! are seconds), [`proof`] (and [`audience`]: the server a proof is for), [`revocation`] (and [`feed`]: polling a published list), [`options`] (option keys are checked), [`error`]; at
//! the door of an HTTP or MCP server, [`admission`] (token admission), [`bearer`]
//! (`Authorization`, `WWW-Authenticate`, RFC 9728 metadata) and [`mcp`] (every MCP message
//! mapped to a marque request). Constraints beyond rights: [`approval`] (a human approves one
//! exact call), [`budget`] (call budgets per delegation) and, with the `rego` feature, `rego`
//! (operator policies in Rego). The wire contract is `docs/PROFILE.md`.
//!
//! Features: `std` (default: OS randomness, clock, thread-safe verifier), `biscuit` (default:
//! tokens; needs std), `wasm` (JS randomness and clock for wasm32 hosts), `rego` (Rego
//! policies, by regorus). Without default
//! features the crate is `no_std` + `alloc` and keeps keys, proofs and revocation sets.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

extern crate alloc;

pub mod approval;
pub mod audience;
pub mod audit;
#[cfg(feature = "std")]
pub mod audit_file;
pub mod audit_report;
pub mod audit_usage;
pub mod bearer;
pub mod budget;
pub mod clock;
pub mod error;
pub mod identity;
pub mod jcs;
pub mod jwt;
pub mod keys;
pub mod mcp;
pub mod options;
pub mod policy;
pub mod proof;
pub mod replay;
pub mod resource;
pub mod revocation;
pub mod signer;

#[cfg(feature = "biscuit")]
pub mod admission;
#[cfg(feature = "biscuit")]
mod canonical;
#[cfg(feature = "biscuit")]
mod compat;
#[cfg(feature = "biscuit")]
pub mod constraints;
#[cfg(feature = "biscuit")]
pub mod delegate;
#[cfg(feature = "biscuit")]
pub mod feed;
#[cfg(feature = "biscuit")]
pub mod pending;
#[cfg(feature = "biscuit")]
pub mod prefix_cache;
#[cfg(feature = "rego")]
pub mod rego;
#[cfg(feature = "biscuit")]
pub mod token;
#[cfg(feature = "biscuit")]
pub mod verify;

pub use error::{Error, ErrorKind, Result};
pub use keys::{Jwk, KeyPair, PublicKey, Signature};
pub use policy::{Limits, Policy, Request, Right};
pub use revocation::{RevocationList, RevocationSet};
pub use signer::{FnSigner, Signer};
#[cfg(feature = "biscuit")]
pub use delegate::DelegateParams;
#[cfg(feature = "biscuit")]
pub use token::{Hop, MintParams, Token};
#[cfg(feature = "biscuit")]
pub use verify::{Decision, Verifier};
#[cfg(feature = "biscuit")]
pub use admission::{Admission, AuthInfo};
#[cfg(feature = "biscuit")]
pub use mcp::{McpAuthorization, McpOutcome, McpPending};
pub use mcp::{McpCall, McpConfig};

pub use audit::{AuditDecision, AuditEvent, AuditLog, Envelope, ProblemKind, VerifyReport};
pub use identity::AgentIdentity;
pub use jwt::{jwt_issue, jwt_verify, Claims, JwtKeys, JwtOptions};

/// Fills an array from the platform CSPRNG (the OS, or `crypto.getRandomValues` on wasm).
///
/// On wasm32 each getrandom call is a call into JavaScript that costs more than the 32 bytes a
/// key needs, so small requests are served from a [`random_pool`] filled 256 bytes at a time.
#[cfg(feature = "std")]
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    #[cfg(target_arch = "wasm32")]
    if N <= random_pool::SIZE {
        return random_pool::take::<N>();
    }
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).map_err(no_randomness)?;
    Ok(buf)
}

#[cfg(feature = "std")]
fn no_randomness(e: getrandom::Error) -> Error {
    Error::internal(alloc::format!("no randomness available: {e}"))
}

/// Bytes from getrandom, drawn [`SIZE`](random_pool::SIZE) at a time and handed out once each:
/// the bytes given out are zeroed in the pool, a failed refill leaves it empty (the next call
/// retries), and the lock makes two takes never share a byte. Used on wasm32 only (see
/// [`random_bytes`]); compiled everywhere so that its tests run natively.
#[cfg(feature = "std")]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod random_pool {
    use std::sync::Mutex;
    use zeroize::Zeroize as _;

    use crate::error::{Error, Result};

    pub(crate) const SIZE: usize = 256;

    pub(crate) struct Pool {
        bytes: [u8; SIZE],
        used: usize,
    }

    static POOL: Mutex<Pool> = Mutex::new(Pool { bytes: [0; SIZE], used: SIZE });

    pub(crate) fn take<const N: usize>() -> Result<[u8; N]> {
        take_from::<N>(&mut POOL.lock().unwrap_or_else(|e| e.into_inner()), getrandom::getrandom)
    }

    pub(crate) fn take_from<const N: usize>(
        pool: &mut Pool,
        fill: impl FnOnce(&mut [u8]) -> core::result::Result<(), getrandom::Error>,
    ) -> Result<[u8; N]> {
        if N > SIZE {
            return Err(Error::internal("random pool request too large"));
        }
        if SIZE - pool.used < N {
            pool.bytes.zeroize();
            pool.used = SIZE;
            fill(&mut pool.bytes).map_err(super::no_randomness)?;
            pool.used = 0;
        }
        let mut out = [0u8; N];
        let taken = &mut pool.bytes[pool.used..pool.used + N];
        out.copy_from_slice(taken);
        taken.zeroize();
        pool.used += N;
        Ok(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn every_byte_is_handed_out_once_and_zeroed_in_the_pool() {
            let mut pool = Pool { bytes: [0; SIZE], used: SIZE };
            let mut fills = 0u8;
            let mut taken = alloc::vec::Vec::new();
            for _ in 0..20 {
                let t = take_from::<32>(&mut pool, |buf| {
                    fills += 1;
                    for (i, b) in buf.iter_mut().enumerate() {
                        *b = (i as u8) ^ fills.wrapping_mul(97);
                    }
                    Ok(())
                })
                .unwrap();
                assert!(pool.bytes[..pool.used].iter().all(|b| *b == 0), "handed-out bytes are zeroed");
                taken.push(t);
            }
            assert_eq!(fills, 3, "256 bytes serve eight 32-byte takes");
            for (i, a) in taken.iter().enumerate() {
                for b in &taken[i + 1..] {
                    assert_ne!(a, b);
                }
            }
            // A failed refill is an error and leaves the pool empty; the next take refills.
            let e = take_from::<32>(&mut Pool { bytes: [7; SIZE], used: SIZE - 8 }, |_| Err(getrandom::Error::UNSUPPORTED)).unwrap_err();
            assert_eq!(e.code(), "internal");
            let mut p = Pool { bytes: [7; SIZE], used: SIZE - 8 };
            assert!(take_from::<32>(&mut p, |_| Err(getrandom::Error::UNSUPPORTED)).is_err());
            assert_eq!((p.used, p.bytes), (SIZE, [0; SIZE]));
            assert!(take_from::<32>(&mut p, |buf| {
                buf.fill(1);
                Ok(())
            })
            .is_ok());
            assert!(take::<16>().is_ok() && take::<16>().unwrap() != take::<16>().unwrap());
        }
    }
}

/// `now`, or the system clock when `None` (an error where there is no clock: wasm32, no_std);
/// either way a plausible time in seconds ([`clock::check`]: a millisecond `now` is refused).
pub(crate) fn resolve_now(now: Option<u64>) -> Result<u64> {
    let now = match now {
        Some(n) => n,
        #[cfg(all(feature = "std", not(target_arch = "wasm32")))]
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .map_err(|_| Error::internal("the system clock is before 1970"))?,
        #[cfg(not(all(feature = "std", not(target_arch = "wasm32"))))]
        None => return Err(Error::invalid_argument("no clock on this platform: pass `now`")),
    };
    clock::check("now", now)
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

/// The README's Rust examples, compiled and run as doctests (`tests/readme/` runs the others).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
