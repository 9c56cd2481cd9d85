//! The one error type of marque.
//!
//! Every fallible operation in the core returns [`Error`], which carries an [`ErrorKind`] with a
//! stable machine code (`invalid_token`, `expired`, …) and a human message that says what went
//! wrong and, where it helps, what to do. The codes are a public contract: every binding (Python,
//! Node, Wasm) exposes the same strings, tests compare codes and never messages, and a code is
//! never renamed once released. A *policy denial* is not an error: it is a
//! [`Decision`](crate::verify::Decision) with `allowed == false`.
//!
//! This module is the only place codes are written by hand. To add one: add the variant (with a
//! doc comment: it becomes the Python exception's docstring), its place in [`ErrorKind::ALL`]
//! and its [`code`](ErrorKind::code), then run
//! `MARQUE_REGEN_VECTORS=1 cargo test -p marque --test error_codes`, which rewrites every
//! binding's generated code list (Python classes and stubs, the JS `ERROR_CODES` and the
//! TypeScript `ErrorCode` unions); that test fails on any list that disagrees with `ALL`, or an
//! `ALL` that misses a variant. Then rebuild the bindings.
//!
//! ```
//! use marque::{Error, ErrorKind};
//! let err = Error::new(ErrorKind::InvalidKey, "expected 32 bytes");
//! assert_eq!(err.code(), "invalid_key");
//! assert_eq!(ErrorKind::from_code("invalid_key"), Some(ErrorKind::InvalidKey));
//! ```

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

/// The family of an [`Error`]; each kind has a stable string [`code`](ErrorKind::code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The token could not be parsed, or does not follow the marque profile.
    InvalidToken,
    /// A signature (token block, hop, envelope) did not verify.
    InvalidSignature,
    /// The token names a root key the verifier does not trust.
    UnknownRootKey,
    /// The token, proof or JWT is past its expiry.
    Expired,
    /// The token (or one of its hops, agents, principals or tasks) is revoked.
    Revoked,
    /// Authorization was denied (only raised by `authorize_or_raise`-style calls).
    NotAuthorized,
    /// The proof of possession is malformed, signed by the wrong key, bound to another token or
    /// request, or outside the freshness window.
    InvalidProof,
    /// The proof of possession was already used.
    ReplayedProof,
    /// The delegation would exceed the token's maximum depth.
    DepthExceeded,
    /// A delegation asked for more than the holder has.
    AttenuationWidens,
    /// A configured limit (size, block count, Datalog run limits, replay cache) was hit.
    LimitsExceeded,
    /// A key could not be parsed or is not an Ed25519 key.
    InvalidKey,
    /// A compact JWT is malformed, uses a forbidden header, or fails a claim check.
    InvalidJwt,
    /// An audit log failed verification.
    AuditChainBroken,
    /// The key given to delegate or sign is not the key of the agent holding the token.
    WrongHolderKey,
    /// The token is sealed and cannot be delegated further.
    Sealed,
    /// An argument is malformed (agent id, right, policy source, JSON, …).
    InvalidArgument,
    /// A signed revocation list is older than the verifier accepts (or none was loaded while a
    /// maximum staleness is configured): the verifier fails closed.
    RevocationListStale,
    /// A signed revocation list is malformed, or signed by a key the verifier does not trust.
    RevocationListInvalid,
    /// A signed revocation list goes backwards: its sequence number is lower than (or equal to,
    /// with different content) the list the verifier already holds.
    RevocationListRollback,
    /// A [`Signer`](crate::signer::Signer) failed, or returned a signature that does not verify
    /// under its own public key.
    SignerFailed,
    /// A request is malformed or ambiguous: a resource with `.`/`..` or empty segments,
    /// backslashes, percent-escaped separators or control characters; an MCP message that cannot
    /// be mapped to one marque request. Refused before any policy runs.
    InvalidRequest,
    /// The replay store (shared by a fleet of verifiers, e.g. Redis) could not answer — refused,
    /// timed out, or replied unexpectedly — so a proof's single use could not be ensured: the call
    /// fails closed. Transient: the next call asks the store again.
    ReplayStoreUnavailable,
    /// The call needs a human approval (an operator rule, a delegation's rule or a policy asks
    /// for one) and none was given, or the one given does not verify, is bound to another
    /// request, expired or was already used. The denial carries what to approve.
    ApprovalRequired,
    /// The call budget of a delegation on the token's chain is spent (its lifetime `max_calls`
    /// or its rate for the current window); the denial names the delegation.
    BudgetExhausted,
    /// An invariant inside marque failed; please report it.
    Internal,
}

impl ErrorKind {
    /// Every kind, in a stable order (bindings export this list).
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::InvalidToken,
        ErrorKind::InvalidSignature,
        ErrorKind::UnknownRootKey,
        ErrorKind::Expired,
        ErrorKind::Revoked,
        ErrorKind::NotAuthorized,
        ErrorKind::InvalidProof,
        ErrorKind::ReplayedProof,
        ErrorKind::DepthExceeded,
        ErrorKind::AttenuationWidens,
        ErrorKind::LimitsExceeded,
        ErrorKind::InvalidKey,
        ErrorKind::InvalidJwt,
        ErrorKind::AuditChainBroken,
        ErrorKind::WrongHolderKey,
        ErrorKind::Sealed,
        ErrorKind::InvalidArgument,
        ErrorKind::RevocationListStale,
        ErrorKind::RevocationListInvalid,
        ErrorKind::RevocationListRollback,
        ErrorKind::SignerFailed,
        ErrorKind::InvalidRequest,
        ErrorKind::ReplayStoreUnavailable,
        ErrorKind::ApprovalRequired,
        ErrorKind::BudgetExhausted,
        ErrorKind::Internal,
    ];

    /// The stable machine code of this kind.
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidToken => "invalid_token",
            ErrorKind::InvalidSignature => "invalid_signature",
            ErrorKind::UnknownRootKey => "unknown_root_key",
            ErrorKind::Expired => "expired",
            ErrorKind::Revoked => "revoked",
            ErrorKind::NotAuthorized => "not_authorized",
            ErrorKind::InvalidProof => "invalid_proof",
            ErrorKind::ReplayedProof => "replayed_proof",
            ErrorKind::DepthExceeded => "depth_exceeded",
            ErrorKind::AttenuationWidens => "attenuation_widens",
            ErrorKind::LimitsExceeded => "limits_exceeded",
            ErrorKind::InvalidKey => "invalid_key",
            ErrorKind::InvalidJwt => "invalid_jwt",
            ErrorKind::AuditChainBroken => "audit_chain_broken",
            ErrorKind::WrongHolderKey => "wrong_holder_key",
            ErrorKind::Sealed => "sealed",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::RevocationListStale => "revocation_list_stale",
            ErrorKind::RevocationListInvalid => "revocation_list_invalid",
            ErrorKind::RevocationListRollback => "revocation_list_rollback",
            ErrorKind::SignerFailed => "signer_failed",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::ReplayStoreUnavailable => "replay_store_unavailable",
            ErrorKind::ApprovalRequired => "approval_required",
            ErrorKind::BudgetExhausted => "budget_exhausted",
            ErrorKind::Internal => "internal",
        }
    }

    /// The kind with this code, if any.
    pub fn from_code(code: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.iter().copied().find(|k| k.code() == code)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A marque error: a stable [`ErrorKind`] plus a message for humans.
///
/// Messages never contain secret key material.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
}

impl Error {
    /// Builds an error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error { kind, message: message.into() }
    }

    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The stable machine code, e.g. `"expired"`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The human-readable message (without the code).
    pub fn message(&self) -> &str {
        &self.message
    }

    #[cfg_attr(not(feature = "biscuit"), allow(dead_code))]
    pub(crate) fn invalid_token(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::InvalidToken, message)
    }
    pub(crate) fn invalid_key(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::InvalidKey, message)
    }
    pub(crate) fn invalid_argument(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }
    pub(crate) fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error").field("code", &self.code()).field("message", &self.message).finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// `Result` with marque's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(feature = "biscuit")]
impl From<biscuit_auth::error::Token> for Error {
    fn from(e: biscuit_auth::error::Token) -> Self {
        use biscuit_auth::error::{Format, RunLimit, Token};
        match e {
            Token::Format(Format::UnknownPublicKey) => Error::new(
                ErrorKind::UnknownRootKey,
                "the token was not issued by a trusted root key",
            ),
            Token::Format(Format::Signature(_)) | Token::Format(Format::SealedSignature) => {
                Error::new(ErrorKind::InvalidSignature, "a token block signature does not verify")
            }
            Token::Format(Format::InvalidKey(_))
            | Token::Format(Format::InvalidKeySize(_))
            | Token::Format(Format::UnknownExternalKey) => {
                Error::new(ErrorKind::InvalidToken, "the token carries an invalid public key")
            }
            Token::Format(f) => Error::new(
                ErrorKind::InvalidToken,
                alloc::format!("malformed token: {}", sanitize(&f.to_string())),
            ),
            Token::Base64(_) => Error::invalid_token("the token is not valid base64url"),
            Token::AppendOnSealed | Token::AlreadySealed => {
                Error::new(ErrorKind::Sealed, "the token is sealed and cannot be delegated further")
            }
            Token::RunLimit(RunLimit::TooManyFacts) => {
                Error::new(ErrorKind::LimitsExceeded, "Datalog run limit hit: too many facts")
            }
            Token::RunLimit(RunLimit::TooManyIterations) => {
                Error::new(ErrorKind::LimitsExceeded, "Datalog run limit hit: too many iterations")
            }
            Token::RunLimit(RunLimit::Timeout) => {
                Error::new(ErrorKind::LimitsExceeded, "Datalog run limit hit: time limit exceeded")
            }
            Token::RunLimit(r) => {
                Error::new(ErrorKind::LimitsExceeded, alloc::format!("Datalog run limit hit: {r}"))
            }
            Token::Language(l) => Error::invalid_argument(alloc::format!(
                "Datalog does not parse: {}",
                sanitize(&alloc::format!("{l:?}"))
            )),
            Token::Execution(x) => Error::invalid_token(alloc::format!(
                "Datalog evaluation error: {}",
                sanitize(&x.to_string())
            )),
            other => Error::invalid_token(alloc::format!(
                "token error: {}",
                sanitize(&other.to_string())
            )),
        }
    }
}

/// Keeps messages short and on one line (they may echo attacker-controlled input).
pub(crate) fn sanitize(s: &str) -> String {
    let mut out: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).take(300).collect();
    if s.chars().count() > 300 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for (i, a) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(ErrorKind::from_code(a.code()), Some(*a));
            for b in &ErrorKind::ALL[i + 1..] {
                assert_ne!(a.code(), b.code());
            }
        }
        assert_eq!(ErrorKind::from_code("nope"), None);
    }

    #[test]
    fn display_has_code_and_message() {
        let e = Error::new(ErrorKind::Expired, "token expired at 10");
        assert_eq!(alloc::format!("{e}"), "expired: token expired at 10");
        assert_eq!(e.message(), "token expired at 10");
    }
}
