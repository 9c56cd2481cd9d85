//! The one place where marque errors become Python exceptions.
//!
//! `marque.MarqueError(Exception)` is the base; every core [`ErrorKind`] has its own subclass
//! (`marque.Expired`, `marque.InvalidToken`, …) and every raised exception carries the stable
//! `.code` of the core (`"expired"`, …) and the core's `.message`. Binding functions return
//! [`Result`], whose error is either a core error or an already-built Python exception (a wrong
//! argument type), so `?` works on both.

use marque::ErrorKind;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::{create_exception, PyTypeInfo};

create_exception!(
    marque,
    MarqueError,
    PyException,
    "Base class of every marque error. `.code` is the stable machine code (see `ERROR_CODES`); `.message` the human text."
);

macro_rules! kinds {
    ($( $kind:ident => $class:ident, $doc:literal; )*) => {
        $( create_exception!(marque, $class, MarqueError, $doc); )*

        /// The Python class of a core error kind.
        fn class_of(py: Python<'_>, kind: ErrorKind) -> Bound<'_, pyo3::types::PyType> {
            match kind {
                $( ErrorKind::$kind => $class::type_object(py), )*
                _ => MarqueError::type_object(py),
            }
        }

        /// Adds `MarqueError`, every subclass and `ERROR_CODES` to the module, and sets the
        /// class attribute `code` on each subclass.
        pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
            let py = m.py();
            m.add("MarqueError", MarqueError::type_object(py))?;
            $(
                let class = $class::type_object(py);
                class.setattr("code", ErrorKind::$kind.code())?;
                m.add(stringify!($class), class)?;
            )*
            // `…Error` spellings of the newest classes (same class objects).
            for (alias, kind) in ALIASES {
                m.add(*alias, class_of(py, *kind))?;
            }
            let codes: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
            m.add("ERROR_CODES", PyTuple::new(py, codes)?)?;
            Ok(())
        }

        #[cfg(test)]
        const MAPPED: &[ErrorKind] = &[$( ErrorKind::$kind ),*];
    };
}

kinds! {
    // BEGIN generated error codes: pyo3-classes (core/tests/error_codes.rs)
    InvalidToken => InvalidToken, "The token could not be parsed, or does not follow the marque profile. Code: `invalid_token`.";
    InvalidSignature => InvalidSignature, "A signature (token block, hop, envelope) did not verify. Code: `invalid_signature`.";
    UnknownRootKey => UnknownRootKey, "The token names a root key the verifier does not trust. Code: `unknown_root_key`.";
    Expired => Expired, "The token, proof or JWT is past its expiry. Code: `expired`.";
    Revoked => Revoked, "The token (or one of its hops, agents, principals or tasks) is revoked. Code: `revoked`.";
    NotAuthorized => NotAuthorized, "Authorization was denied (only raised by `authorize_or_raise`-style calls). Code: `not_authorized`.";
    InvalidProof => InvalidProof, "The proof of possession is malformed, signed by the wrong key, bound to another token or request, or outside the freshness window. Code: `invalid_proof`.";
    ReplayedProof => ReplayedProof, "The proof of possession was already used. Code: `replayed_proof`.";
    DepthExceeded => DepthExceeded, "The delegation would exceed the token's maximum depth. Code: `depth_exceeded`.";
    AttenuationWidens => AttenuationWidens, "A delegation asked for more than the holder has. Code: `attenuation_widens`.";
    LimitsExceeded => LimitsExceeded, "A configured limit (size, block count, Datalog run limits, replay cache) was hit. Code: `limits_exceeded`.";
    InvalidKey => InvalidKey, "A key could not be parsed or is not an Ed25519 key. Code: `invalid_key`.";
    InvalidJwt => InvalidJwt, "A compact JWT is malformed, uses a forbidden header, or fails a claim check. Code: `invalid_jwt`.";
    AuditChainBroken => AuditChainBroken, "An audit log failed verification. Code: `audit_chain_broken`.";
    WrongHolderKey => WrongHolderKey, "The key given to delegate or sign is not the key of the agent holding the token. Code: `wrong_holder_key`.";
    Sealed => Sealed, "The token is sealed and cannot be delegated further. Code: `sealed`.";
    InvalidArgument => InvalidArgument, "An argument is malformed (agent id, right, policy source, JSON, …). Code: `invalid_argument`.";
    RevocationListStale => RevocationListStale, "A signed revocation list is older than the verifier accepts (or none was loaded while a maximum staleness is configured): the verifier fails closed. Code: `revocation_list_stale`.";
    RevocationListInvalid => RevocationListInvalid, "A signed revocation list is malformed, or signed by a key the verifier does not trust. Code: `revocation_list_invalid`.";
    RevocationListRollback => RevocationListRollback, "A signed revocation list goes backwards: its sequence number is lower than (or equal to, with different content) the list the verifier already holds. Code: `revocation_list_rollback`.";
    SignerFailed => SignerFailed, "A `Signer` failed, or returned a signature that does not verify under its own public key. Code: `signer_failed`.";
    InvalidRequest => InvalidRequest, "A request is malformed or ambiguous: a resource with `.`/`..` or empty segments, backslashes, percent-escaped separators or control characters; an MCP message that cannot be mapped to one marque request. Refused before any policy runs. Code: `invalid_request`.";
    ReplayStoreUnavailable => ReplayStoreUnavailable, "The replay store (shared by a fleet of verifiers, e.g. Redis) could not answer — refused, timed out, or replied unexpectedly — so a proof's single use could not be ensured: the call fails closed. Transient: the next call asks the store again. Code: `replay_store_unavailable`.";
    ApprovalRequired => ApprovalRequired, "The call needs a human approval (an operator rule, a delegation's rule or a policy asks for one) and none was given, or the one given does not verify, is bound to another request, expired or was already used. The denial carries what to approve. Code: `approval_required`.";
    BudgetExhausted => BudgetExhausted, "The call budget of a delegation on the token's chain is spent (its lifetime `max_calls` or its rate for the current window); the denial names the delegation. Code: `budget_exhausted`.";
    Internal => InternalError, "An invariant inside marque failed; please report it. Code: `internal`.";
    // END generated error codes
}

/// Other names of some classes: `SignerFailedError` is `SignerFailed`, and so on.
const ALIASES: &[(&str, ErrorKind)] = &[
    ("SignerFailedError", ErrorKind::SignerFailed),
    ("RevocationListInvalidError", ErrorKind::RevocationListInvalid),
    ("RevocationListRollbackError", ErrorKind::RevocationListRollback),
    ("RevocationListStaleError", ErrorKind::RevocationListStale),
];

/// A binding error: a core error (converted to its marque exception) or a ready Python exception.
#[derive(Debug)]
pub enum Error {
    /// From the core.
    Core(marque::Error),
    /// Already a Python exception (TypeError for a wrong argument type, …).
    Py(PyErr),
}

/// `Result` of binding functions.
pub type Result<T> = std::result::Result<T, Error>;

impl From<marque::Error> for Error {
    fn from(e: marque::Error) -> Self {
        Error::Core(e)
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Error::Py(e)
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        match e {
            Error::Py(e) => e,
            Error::Core(e) => Python::attach(|py| {
                let class = class_of(py, e.kind());
                let err = PyErr::from_type(class, e.message().to_string());
                let value = err.value(py);
                // Setting attributes on a fresh exception instance cannot fail in practice; if it
                // did, the exception is still raised, only without the attribute.
                let _ = value.setattr("code", e.code());
                let _ = value.setattr("message", e.message());
                err
            }),
        }
    }
}

/// An `invalid_argument` core error.
pub fn invalid_argument(message: impl Into<String>) -> Error {
    Error::Core(marque::Error::new(ErrorKind::InvalidArgument, message.into()))
}

/// A Python `TypeError`.
pub fn type_error(message: impl Into<String>) -> Error {
    Error::Py(pyo3::exceptions::PyTypeError::new_err(message.into()))
}

/// Runs `f` and turns a panic (a bug) into an `internal` marque error instead of letting
/// `PanicException` reach Python.
pub fn no_panic<T>(f: impl FnOnce() -> marque::Result<T>) -> marque::Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(marque::Error::new(
                ErrorKind::Internal,
                format!("marque panicked ({what}); please report this bug"),
            ))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_core_kind_has_a_class() {
        assert_eq!(MAPPED, ErrorKind::ALL);
    }

    #[test]
    fn panics_become_internal_errors() {
        #[allow(clippy::panic)]
        let r: marque::Result<()> = no_panic(|| panic!("boom"));
        let e = r.unwrap_err();
        assert_eq!(e.code(), "internal");
        assert!(e.message().contains("boom"));
    }
}
