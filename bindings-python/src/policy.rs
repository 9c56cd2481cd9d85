//! `Right`, `Policy` and `Limits` (mirrors `marque::policy`).

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{py_str_repr, Str};
use crate::errors::Result;

/// One right granted by a token: a tool, an operation and a resource prefix (`"*"` = any).
///
/// Anywhere marque takes rights it also accepts the text form `"tool:operation:resource"`
/// (missing parts are `"*"`) and dicts `{"tool": …, "operation": …, "resource": …}`.
#[pyclass(module = "marque", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Right {
    pub inner: marque::Right,
}

#[pymethods]
impl Right {
    #[new]
    #[pyo3(signature = (tool, operation = Str::from("*"), resource = Str::from("*")),
        text_signature = "(tool, operation='*', resource='*')")]
    fn new(tool: Str, operation: Str, resource: Str) -> Result<Self> {
        let inner = marque::Right::new(tool, operation, resource);
        inner.validate()?;
        Ok(Right { inner })
    }

    /// Parses `TOOL[:OPERATION[:RESOURCE]]`; missing parts are `"*"`.
    #[staticmethod]
    fn parse(text: Str) -> Result<Self> {
        Ok(Right { inner: marque::Right::parse(&text)? })
    }

    /// The tool, or `"*"`.
    #[getter]
    fn tool(&self) -> &str {
        &self.inner.tool
    }
    /// The operation, or `"*"`.
    #[getter]
    fn operation(&self) -> &str {
        &self.inner.operation
    }
    /// The resource prefix, or `"*"`.
    #[getter]
    fn resource(&self) -> &str {
        &self.inner.resource
    }

    /// Whether this right covers the request (same rule as the verifier's default policy).
    #[pyo3(signature = (*, tool, resource, operation = Str::from("*")),
        text_signature = "($self, *, tool, resource, operation='*')")]
    fn covers(&self, tool: Str, resource: Str, operation: Str) -> bool {
        self.inner.covers(&marque::Request::new(tool, operation, resource))
    }

    /// `{"tool": …, "operation": …, "resource": …}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("tool", &self.inner.tool)?;
        d.set_item("operation", &self.inner.operation)?;
        d.set_item("resource", &self.inner.resource)?;
        Ok(d)
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "Right({}, {}, {})",
            py_str_repr(&self.inner.tool),
            py_str_repr(&self.inner.operation),
            py_str_repr(&self.inner.resource)
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyAny>, (String, String, String)) {
        let r = &slf.get().inner;
        (slf.get_type().into_any(), (r.tool.clone(), r.operation.clone(), r.resource.clone()))
    }
}

/// A verifier policy: an id and Datalog source of `allow if` / `deny if` / `check if` lines.
/// User policies run before marque's default rights policy (`"marque:rights"`).
#[pyclass(module = "marque", frozen, eq)]
#[derive(Clone, PartialEq, Eq)]
pub struct Policy {
    pub inner: marque::Policy,
}

#[pymethods]
impl Policy {
    #[new]
    fn new(id: Str, source: Str) -> Self {
        Policy { inner: marque::Policy::new(id, source) }
    }
    /// Stable id reported in decisions (`Decision.policy`).
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    /// Datalog source.
    #[getter]
    fn source(&self) -> &str {
        &self.inner.source
    }
    fn __repr__(&self) -> String {
        format!("Policy({}, {})", py_str_repr(&self.inner.id), py_str_repr(&self.inner.source))
    }
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyAny>, (String, String)) {
        let p = &slf.get().inner;
        (slf.get_type().into_any(), (p.id.clone(), p.source.clone()))
    }
}

macro_rules! limits {
    ($( $field:ident : $ty:ty, $doc:literal; )*) => {
        /// Everything a verifier bounds. Every field has a safe default; pass only what you
        /// change, e.g. `Limits(proof_window_seconds=30)`. Hitting a limit is `LimitsExceeded`
        /// (or a denial with code `invalid_proof` / `replayed_proof` for proof windows).
        #[pyclass(module = "marque", frozen, eq)]
        #[derive(Clone, PartialEq)]
        pub struct Limits {
            pub inner: marque::Limits,
        }

        #[pymethods]
        impl Limits {
            #[new]
            #[pyo3(signature = (*, $( $field = None ),*))]
            #[allow(clippy::too_many_arguments)]
            fn new($( $field: Option<&Bound<'_, PyAny>> ),*) -> Result<Self> {
                let mut inner = marque::Limits::default();
                $( if let Some(v) = crate::convert::opt_uint::<$ty>(stringify!($field), $field)? { inner.$field = v; } )*
                Ok(Limits { inner })
            }

            $(
                #[doc = $doc]
                #[getter]
                fn $field(&self) -> $ty {
                    self.inner.$field
                }
            )*

            /// Every limit as a dict.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let d = PyDict::new(py);
                $( d.set_item(stringify!($field), self.inner.$field)?; )*
                Ok(d)
            }

            fn __repr__(&self) -> String {
                let parts: Vec<String> = vec![$( format!("{}={}", stringify!($field), self.inner.$field) ),*];
                format!("Limits({})", parts.join(", "))
            }

            /// Builds limits from a dict such as `to_dict()` returns (unknown keys are refused).
            #[staticmethod]
            fn from_dict(d: &Bound<'_, PyDict>) -> Result<Self> {
                let mut inner = marque::Limits::default();
                for (k, v) in d.iter() {
                    let key = crate::convert::str_arg("a limit name", &k)?;
                    match key.as_str() {
                        $( stringify!($field) => {
                            inner.$field = crate::convert::uint::<$ty>(&key, &v)?;
                        } )*
                        other => return Err(marque::options::unknown_key("limits", other, &[$(stringify!($field)),*]).into()),
                    }
                }
                Ok(Limits { inner })
            }

            fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyDict>,))> {
                Ok((slf.get_type().getattr("from_dict")?, (slf.get().to_dict(slf.py())?,)))
            }
        }
    };
}

limits! {
    max_token_bytes: usize, "Largest accepted token, in bytes (after base64 decoding).";
    max_blocks: usize, "Largest accepted number of blocks (authority + delegations).";
    max_facts: u64, "Datalog: most facts the world may hold.";
    max_iterations: u64, "Datalog: most rule-application iterations.";
    max_time_micros: u64, "Datalog: longest run, in microseconds.";
    proof_window_seconds: u64, "Proofs: how old (in seconds) a proof may be.";
    proof_future_skew_seconds: u64, "Proofs: how far in the future (clock skew, seconds) a proof's time may be.";
    replay_cache_capacity: usize, "Proofs: how many recent proofs the replay cache remembers (fails closed when full).";
    replay_cache_per_key: usize, "Proofs: how many unexpired proofs one signing key may hold in the replay cache (its quota: a key at its quota gets LimitsExceeded, other keys are unaffected).";
    max_resource_bytes: usize, "Longest accepted request resource, in bytes.";
    verified_cache_capacity: usize, "How many verified tokens the verifier remembers (0 disables the cache); a remembered token skips parsing and signature checks, while revocation, time, request and proof are checked on every call.";
    prefix_cache_capacity: usize, "How many verified block prefixes the verifier remembers (0 disables it): a token extending, byte for byte, a prefix verified before under the same root key has only its new blocks' signatures checked; everything else is checked on every call.";
}
