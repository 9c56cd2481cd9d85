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
//! [`policy`], [`proof`], [`revocation`], [`error`]. The wire contract is `docs/PROFILE.md`.
//!
//! Features: `std` (default: OS randomness, clock, thread-safe verifier), `biscuit` (default:
//! tokens; needs std), `wasm` (JS randomness and clock for wasm32 hosts). Without default
//! features the crate is `no_std` + `alloc` and keeps keys, proofs and revocation sets.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

extern crate alloc;

pub mod audit;
pub mod error;
pub mod identity;
pub mod jcs;
pub mod jwt;
pub mod keys;
pub mod policy;
pub mod proof;
pub mod revocation;
pub mod signer;

#[cfg(feature = "biscuit")]
pub mod delegate;
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

/// `now`, or the system clock when `None` (an error where there is no clock: wasm32, no_std).
pub(crate) fn resolve_now(now: Option<u64>) -> Result<u64> {
    match now {
        Some(n) => Ok(n),
        #[cfg(all(feature = "std", not(target_arch = "wasm32")))]
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .map_err(|_| Error::internal("the system clock is before 1970")),
        #[cfg(not(all(feature = "std", not(target_arch = "wasm32"))))]
        None => Err(Error::invalid_argument("no clock on this platform: pass `now`")),
    }
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
