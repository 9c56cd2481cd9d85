//! `AgentIdentity` records and agent assertions (mirrors the identity records of
//! `marque::identity`).


use pyo3::prelude::*;

use crate::convert::{self, py_str_repr, Str};
use crate::errors::{no_panic, Result};
use crate::keys::{KeyPair, PublicKey};
use crate::signer::Signer;

fn trusted(v: Option<&Bound<'_, PyAny>>) -> Result<Option<marque::PublicKey>> {
    match v {
        Some(k) if !k.is_none() => Ok(Some(convert::public_key(k)?)),
        _ => Ok(None),
    }
}

/// A registered agent's identity record: workspace, runtime id and private key (Codex-style
/// credentials), read from JSON or from a JWT.
///
/// `agent_id` is `agent:` + the runtime id; `keypair` is the agent's key (hex seed, PKCS#8 PEM,
/// base64(url) of the seed or of PKCS#8 DER, or a private JWK in the record). With
/// `trusted_key`, a JWT record must be EdDSA-signed by it (`InvalidJwt` otherwise) and plain
/// JSON is refused (`InvalidSignature`); without, a JWT is only decoded. The secret never
/// appears in `repr()`, and the object refuses to be pickled.
#[pyclass(module = "marque", frozen)]
pub struct AgentIdentity {
    inner: marque::AgentIdentity,
}

#[pymethods]
impl AgentIdentity {
    /// Parses a record: text starting with `{` is JSON, anything else a JWT.
    #[staticmethod]
    #[pyo3(signature = (text, trusted_key = None))]
    fn parse(text: Str, trusted_key: Option<&Bound<'_, PyAny>>) -> Result<Self> {
        Ok(AgentIdentity { inner: marque::AgentIdentity::parse(&text, trusted(trusted_key)?.as_ref())? })
    }
    /// From a JSON record (text or dict).
    #[staticmethod]
    fn from_json(record: &Bound<'_, PyAny>) -> Result<Self> {
        let text = convert::to_json_text(record)?;
        Ok(AgentIdentity { inner: marque::AgentIdentity::from_json(&text)? })
    }
    /// From a JWT record; with `trusted_key` the signature is verified (EdDSA only).
    #[staticmethod]
    #[pyo3(signature = (token, trusted_key = None))]
    fn from_jwt(token: Str, trusted_key: Option<&Bound<'_, PyAny>>) -> Result<Self> {
        Ok(AgentIdentity { inner: marque::AgentIdentity::from_jwt(&token, trusted(trusted_key)?.as_ref())? })
    }
    /// From a file holding the record (JSON or JWT), at most 64 KiB.
    #[staticmethod]
    #[pyo3(signature = (path, trusted_key = None))]
    fn from_file(py: Python<'_>, path: &Bound<'_, PyAny>, trusted_key: Option<&Bound<'_, PyAny>>) -> Result<Self> {
        let path = convert::path(path)?;
        let key = trusted(trusted_key)?;
        let inner = py.detach(move || no_panic(|| marque::AgentIdentity::from_file(&path, key.as_ref())))?;
        Ok(AgentIdentity { inner })
    }
    /// From the `MARQUE_AGENT_IDENTITY` environment variable: the record itself, or `@` and the
    /// path of a file holding it.
    #[staticmethod]
    #[pyo3(signature = (trusted_key = None))]
    fn from_env(trusted_key: Option<&Bound<'_, PyAny>>) -> Result<Self> {
        Ok(AgentIdentity { inner: marque::AgentIdentity::from_env(trusted(trusted_key)?.as_ref())? })
    }

    /// `agent:` + the runtime id.
    #[getter]
    fn agent_id(&self) -> String {
        self.inner.agent_id()
    }
    /// The workspace.
    #[getter]
    fn workspace_id(&self) -> &str {
        self.inner.workspace_id()
    }
    /// The runtime id.
    #[getter]
    fn agent_runtime_id(&self) -> &str {
        self.inner.agent_runtime_id()
    }
    /// The agent's key pair (a secret).
    #[getter]
    fn keypair(&self) -> KeyPair {
        KeyPair { inner: self.inner.keypair().clone() }
    }
    /// The agent's public key.
    #[getter]
    fn public_key(&self) -> PublicKey {
        PublicKey { inner: self.inner.public_key() }
    }
    /// The ChatGPT user the agent was registered by, if recorded.
    #[getter]
    fn chatgpt_user_id(&self) -> Option<&str> {
        self.inner.chatgpt_user_id()
    }
    /// When the agent was registered, as given (text or number), if recorded.
    #[getter]
    fn registered_at<'py>(&self, py: Python<'py>) -> Result<Option<Bound<'py, PyAny>>> {
        self.inner.registered_at().map(|v| convert::value_to_py(py, v)).transpose()
    }
    /// Other members of the record.
    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        convert::value_to_py(py, &serde_json::Value::Object(self.inner.extra().clone()))
    }
    /// An `Authorization` header value (`AgentAssertion …`) proving this agent works on
    /// `task_id` at `now` (default: the clock).
    #[pyo3(signature = (task_id, now = None))]
    fn sign_assertion(&self, task_id: Str, now: Option<&Bound<'_, PyAny>>) -> Result<String> {
        Ok(self.inner.sign_assertion(&task_id, convert::now_or_clock(now)?)?)
    }

    fn __repr__(&self) -> String {
        format!(
            "AgentIdentity(agent_id={}, workspace_id={}, public={}, secret=<redacted>)",
            py_str_repr(&self.inner.agent_id()),
            py_str_repr(self.inner.workspace_id()),
            py_str_repr(&self.inner.public_key().fingerprint())
        )
    }
    fn __reduce__(&self) -> Result<()> {
        Err(crate::errors::type_error(
            "a marque.AgentIdentity holds a private key and is not picklable",
        ))
    }
}

/// A verified agent assertion: which agent (runtime id), for which task, signed when.
#[pyclass(module = "marque", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct AgentAssertion {
    inner: marque::identity::AgentAssertion,
}

#[pymethods]
impl AgentAssertion {
    /// The agent's runtime id.
    #[getter]
    fn agent_runtime_id(&self) -> &str {
        &self.inner.agent_runtime_id
    }
    /// `agent:` + the runtime id.
    #[getter]
    fn agent_id(&self) -> String {
        format!("agent:{}", self.inner.agent_runtime_id)
    }
    /// The task it works on.
    #[getter]
    fn task_id(&self) -> &str {
        &self.inner.task_id
    }
    /// When it signed, in seconds since the epoch.
    #[getter]
    fn timestamp(&self) -> u64 {
        self.inner.timestamp
    }
    fn __repr__(&self) -> String {
        format!(
            "AgentAssertion(agent_runtime_id={}, task_id={}, timestamp={})",
            py_str_repr(&self.inner.agent_runtime_id),
            py_str_repr(&self.inner.task_id),
            self.inner.timestamp
        )
    }
}

/// Verifies an agent assertion (an `Authorization` header value, with or without the
/// `AgentAssertion` scheme) signed by `key`, at `now` (default: the clock), accepting
/// timestamps within `window_seconds` (default 60) either side. Raises `InvalidProof`
/// (malformed, wrong signer, from the future) or `Expired` (too old). Remembers nothing: the
/// same header verifies again within its window; use an `AssertionVerifier` to refuse replays.
#[pyfunction]
#[pyo3(signature = (header, key, *, now = None, window_seconds = None))]
pub fn verify_agent_assertion(
    header: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
    now: Option<&Bound<'_, PyAny>>,
    window_seconds: Option<&Bound<'_, PyAny>>,
) -> Result<AgentAssertion> {
    let header = convert::str_arg("header", header)?;
    let key = convert::public_key(key)?;
    let mut options = marque::identity::AssertionOptions::new(convert::now_or_clock(now)?);
    if let Some(w) = convert::opt_seconds("window_seconds", window_seconds)? {
        options.window_seconds = w;
    }
    let inner = marque::identity::verify_agent_assertion(&header, &key, &options)?;
    Ok(AgentAssertion { inner })
}

/// Verifies agent assertions and refuses a second use of one within its window: the replay
/// rule the Codex wire format (no nonce, no audience) leaves to the verifier.
///
/// Keeps the freshness window (`window_seconds`, default 60, either side of `now`) and a
/// bounded set of the assertions it accepted (`capacity`, default 100 000), keyed by agent key
/// and signature, each remembered until its timestamp plus the window. A second use raises
/// `ReplayedProof`; when the set is full of unexpired assertions, new ones raise
/// `LimitsExceeded` (fail closed) rather than older ones being forgotten. Thread-safe; the set
/// belongs to this object (one process).
#[pyclass(module = "marque", frozen)]
pub struct AssertionVerifier {
    inner: std::sync::Mutex<marque::identity::AssertionVerifier>,
}

#[pymethods]
impl AssertionVerifier {
    #[new]
    #[pyo3(signature = (*, window_seconds = None, capacity = None))]
    fn new(window_seconds: Option<&Bound<'_, PyAny>>, capacity: Option<&Bound<'_, PyAny>>) -> Result<Self> {
        let capacity = convert::opt_uint::<usize>("capacity", capacity)?
            .unwrap_or(marque::identity::DEFAULT_ASSERTION_CACHE_CAPACITY);
        let mut v = marque::identity::AssertionVerifier::with_capacity(capacity);
        if let Some(w) = convert::opt_seconds("window_seconds", window_seconds)? {
            v = v.window_seconds(w);
        }
        Ok(AssertionVerifier { inner: std::sync::Mutex::new(v) })
    }
    /// Verifies `header` (with or without the `AgentAssertion` scheme) signed by `key` at `now`
    /// (default: the clock) and records it. Raises `InvalidProof` (malformed, wrong signer, from
    /// the future), `Expired` (too old), `ReplayedProof` (already used) or `LimitsExceeded`
    /// (the set is full).
    #[pyo3(signature = (header, key, *, now = None))]
    fn verify(
        &self,
        header: &Bound<'_, PyAny>,
        key: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> Result<AgentAssertion> {
        let header = convert::str_arg("header", header)?;
        let key = convert::public_key(key)?;
        let now = convert::now_or_clock(now)?;
        let mut v = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let inner = no_panic(|| v.verify(&header, &key, now))?;
        Ok(AgentAssertion { inner })
    }
    /// The freshness window, in seconds either side of `now`.
    #[getter]
    fn window_seconds(&self) -> u64 {
        self.with(|v| v.window())
    }
    /// Most unexpired assertions remembered.
    #[getter]
    fn capacity(&self) -> usize {
        self.with(|v| v.capacity())
    }
    /// How many assertions are remembered.
    fn __len__(&self) -> usize {
        self.with(|v| v.len())
    }
    fn __repr__(&self) -> String {
        self.with(|v| format!("AssertionVerifier(window_seconds={}, capacity={}, remembered={})", v.window(), v.capacity(), v.len()))
    }
}

impl AssertionVerifier {
    fn with<T>(&self, f: impl FnOnce(&marque::identity::AssertionVerifier) -> T) -> T {
        match self.inner.lock() {
            Ok(g) => f(&g),
            Err(p) => f(&p.into_inner()),
        }
    }
}

/// Signs an agent assertion header (`AgentAssertion <base64url JSON>`) for `agent_runtime_id`
/// working on `task_id` at `now` (default: the clock).
#[pyfunction]
#[pyo3(signature = (keypair, agent_runtime_id, task_id, now = None))]
pub fn sign_agent_assertion(
    keypair: &Bound<'_, PyAny>,
    agent_runtime_id: Str,
    task_id: Str,
    now: Option<&Bound<'_, PyAny>>,
) -> Result<String> {
    let signer = Signer::extract("keypair", keypair)?;
    let now = convert::now_or_clock(now)?;
    signer.finish(marque::identity::sign_agent_assertion(signer.core(), &agent_runtime_id, &task_id, now))
}

/// Adds the identity classes, functions and constants to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AgentIdentity>()?;
    m.add_class::<AgentAssertion>()?;
    m.add_class::<AssertionVerifier>()?;
    m.add_function(wrap_pyfunction!(verify_agent_assertion, m)?)?;
    m.add_function(wrap_pyfunction!(sign_agent_assertion, m)?)?;
    m.add("IDENTITY_ENV_VAR", marque::identity::IDENTITY_ENV_VAR)?;
    Ok(())
}
