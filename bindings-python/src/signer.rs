//! Signers (mirrors `marque::signer`): a Python object becomes a core [`marque::Signer`].
//!
//! Everywhere marque signs (mint, delegate, proofs, audit envelopes, JWTs, revocation lists) the
//! binding takes a `KeyPair` (the core's native, in-process signer) or any object with a
//! `public_key` (attribute or zero-argument method) and `sign(message: bytes) -> bytes` — a KMS
//! or HSM client, another process — or a `marque.Signer(public_key, sign)` wrapping a callable.
//! The core checks every signature such a signer returns before using it (`signer_failed`
//! otherwise); this module only calls the Python function (re-acquiring the GIL, since the core
//! runs with it released) and remembers an exception it raised, so that it becomes the
//! `__cause__` of the `SignerFailed` error instead of being lost.

use std::sync::Mutex;

use marque::ErrorKind;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{self, py_str_repr, type_name};
use crate::errors::{type_error, Error, Result};
use crate::keys::{KeyPair, PublicKey};

/// A signer wrapping a function: `Signer(public_key, sign)` where `sign(message: bytes) -> bytes`
/// returns the 64-byte Ed25519 signature of `message` under `public_key` (e.g. a KMS `Sign`
/// call). Accepted wherever a `KeyPair` signs; marque verifies every signature it returns
/// (`SignerFailed` otherwise).
#[pyclass(module = "marque", name = "Signer", frozen)]
pub struct CallableSigner {
    public: marque::PublicKey,
    sign: Py<PyAny>,
}

#[pymethods]
impl CallableSigner {
    #[new]
    fn new(public_key: &Bound<'_, PyAny>, sign: Bound<'_, PyAny>) -> Result<Self> {
        let public = convert::public_key(public_key)?;
        if !sign.is_callable() {
            return Err(type_error(format!("sign must be callable (bytes -> bytes), got {}", type_name(&sign))));
        }
        Ok(CallableSigner { public, sign: sign.unbind() })
    }

    /// The public key the signatures verify under.
    #[getter]
    fn public_key(&self) -> PublicKey {
        PublicKey { inner: self.public }
    }

    /// Calls the wrapped function on `message` and returns its result unchanged.
    fn sign<'py>(&self, py: Python<'py>, message: &Bound<'py, PyAny>) -> Result<Bound<'py, PyAny>> {
        let msg = convert::message(message)?;
        Ok(self.sign.bind(py).call1((PyBytes::new(py, &msg),))?)
    }

    fn __repr__(&self) -> String {
        format!("Signer(public_key={})", py_str_repr(&self.public.fingerprint()))
    }
}

/// A Python signing function as a core signer.
pub struct PySigner {
    public: marque::PublicKey,
    sign: Py<PyAny>,
    /// The exception the function raised, kept for the `__cause__` of the error.
    raised: Mutex<Option<PyErr>>,
}

fn signer_failed(message: String) -> marque::Error {
    marque::Error::new(ErrorKind::SignerFailed, message)
}

impl PySigner {
    fn remember(&self, e: PyErr) {
        match self.raised.lock() {
            Ok(mut slot) => *slot = Some(e),
            Err(p) => *p.into_inner() = Some(e),
        }
    }
}

impl marque::Signer for PySigner {
    fn public_key(&self) -> marque::PublicKey {
        self.public
    }

    fn sign(&self, message: &[u8]) -> marque::Result<marque::Signature> {
        Python::attach(|py| {
            let out = match self.sign.bind(py).call1((PyBytes::new(py, message),)) {
                Ok(out) => out,
                Err(e) => {
                    let what = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "an exception".into());
                    self.remember(e);
                    return Err(signer_failed(format!("the signer raised {what}")));
                }
            };
            let raw = match convert::bytes_like(&out) {
                Ok(Some(raw)) => raw,
                Ok(None) => {
                    return Err(signer_failed(format!("the signer returned {}, not bytes", type_name(&out))))
                }
                Err(Error::Py(e)) => {
                    self.remember(e);
                    return Err(signer_failed("the signer's result could not be read as bytes".into()));
                }
                Err(Error::Core(e)) => return Err(e),
            };
            marque::Signature::from_slice(&raw).map_err(|_| {
                signer_failed(format!("the signer returned {} bytes; an Ed25519 signature is 64", raw.len()))
            })
        })
    }
}

/// A signer argument: a `KeyPair` (signs natively, in process) or a Python signer.
pub enum Signer {
    Key(marque::KeyPair),
    Py(PySigner),
}

impl Signer {
    /// From a `KeyPair`, a `marque.Signer`, or any object with `public_key` and `sign`.
    pub fn extract(what: &str, v: &Bound<'_, PyAny>) -> Result<Signer> {
        if let Ok(k) = v.cast::<KeyPair>() {
            return Ok(Signer::Key(k.get().inner.clone()));
        }
        if let Ok(s) = v.cast::<CallableSigner>() {
            let s = s.get();
            return Ok(Signer::Py(PySigner {
                public: s.public,
                sign: s.sign.clone_ref(v.py()),
                raised: Mutex::new(None),
            }));
        }
        let not_a_signer = || {
            type_error(format!(
                "{what} must be a marque.KeyPair or a signer (an object with public_key and sign(bytes) -> bytes), got {}",
                type_name(v)
            ))
        };
        let (Ok(public), Ok(sign)) = (v.getattr("public_key"), v.getattr("sign")) else {
            return Err(not_a_signer());
        };
        if !sign.is_callable() {
            return Err(not_a_signer());
        }
        // `public_key` is an attribute (or property), or a method taking no argument.
        let public = if public.is_callable() { public.call0()? } else { public };
        let public = convert::public_key(&public)?;
        Ok(Signer::Py(PySigner { public, sign: sign.unbind(), raised: Mutex::new(None) }))
    }

    /// The core signer (a `KeyPair` keeps the core's native path).
    pub fn core(&self) -> &dyn marque::Signer {
        match self {
            Signer::Key(k) => k,
            Signer::Py(s) => s,
        }
    }

    /// A core result as a binding result: when the Python signer raised, its exception is the
    /// `__cause__` of the `SignerFailed` error (an exception that is not an `Exception`, such
    /// as `KeyboardInterrupt`, propagates unchanged).
    pub fn finish<T>(&self, r: marque::Result<T>) -> Result<T> {
        let e = match r {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let raised = match self {
            Signer::Key(_) => None,
            Signer::Py(s) => match s.raised.lock() {
                Ok(mut slot) => slot.take(),
                Err(p) => p.into_inner().take(),
            },
        };
        let Some(cause) = raised else { return Err(Error::Core(e)) };
        Python::attach(|py| {
            if !cause.is_instance_of::<pyo3::exceptions::PyException>(py) {
                return Err(Error::Py(cause));
            }
            let err = PyErr::from(Error::Core(e));
            err.set_cause(py, Some(cause));
            Err(Error::Py(err))
        })
    }
}
