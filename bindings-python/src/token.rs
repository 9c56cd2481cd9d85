//! `Token`, `Hop` and `mint` (mirrors `marque::token`).

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{self, py_str_repr, TokenInput, Str};
use crate::errors::{no_panic, Result};
use crate::keys::PublicKey;
use crate::policy::Right;
use crate::signer::Signer;

/// One agent of a token's delegation chain: its id, its path in the spawn tree and its key.
#[pyclass(module = "marque", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Hop {
    pub inner: marque::Hop,
}

#[pymethods]
impl Hop {
    #[new]
    fn new(agent: Str, path: Str, key: &Bound<'_, PyAny>) -> Result<Self> {
        Ok(Hop { inner: marque::Hop { agent: agent.0, path: path.0, key: convert::public_key(key)? } })
    }
    /// Agent id, e.g. `agent:reviewer`.
    #[getter]
    fn agent(&self) -> &str {
        &self.inner.agent
    }
    /// Path in the spawn tree, e.g. `/root/agent_a`.
    #[getter]
    fn path(&self) -> &str {
        &self.inner.path
    }
    /// The agent's public key.
    #[getter]
    fn key(&self) -> PublicKey {
        PublicKey { inner: self.inner.key }
    }
    /// The key's fingerprint.
    #[getter]
    fn fingerprint(&self) -> String {
        self.inner.fingerprint()
    }
    fn __repr__(&self) -> String {
        format!(
            "Hop(agent={}, path={}, key={})",
            py_str_repr(&self.inner.agent),
            py_str_repr(&self.inner.path),
            py_str_repr(&self.inner.fingerprint())
        )
    }
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyAny>, (String, String, String)) {
        let h = &slf.get().inner;
        (slf.get_type().into_any(), (h.agent.clone(), h.path.clone(), h.key.to_hex()))
    }
}

/// A marque token (Biscuit v3): an agent's identity and authority, narrowed at every
/// delegation. A parsed `Token` is *not trusted*: it tells what the token claims so its holder
/// can delegate or present it; only a `Verifier` decides whether to believe it.
///
/// `str(token)` is its base64url text (ready for an `Authorization: Bearer` header);
/// tokens compare and hash by their bytes and pickle as bytes.
#[pyclass(module = "marque", frozen, eq, hash)]
#[derive(Clone)]
pub struct Token {
    pub inner: Arc<marque::Token>,
}

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        self.inner.to_bytes() == other.inner.to_bytes()
    }
}
impl std::hash::Hash for Token {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.to_bytes().hash(state)
    }
}

impl Token {
    pub fn new(inner: marque::Token) -> Self {
        Token { inner: Arc::new(inner) }
    }
}

#[pymethods]
impl Token {
    /// Parses base64url text (padded or not). Does not verify signatures against a root.
    #[staticmethod]
    fn from_base64(py: Python<'_>, text: Str) -> Result<Self> {
        let text = text.to_owned();
        Ok(Token { inner: py.detach(move || no_panic(|| TokenInput::Text(text.0).parse()))? })
    }

    /// Parses raw bytes. Does not verify signatures against a root.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &Bound<'_, PyAny>) -> Result<Self> {
        let raw = convert::bytes_like(data)?.ok_or_else(|| crate::errors::type_error("data must be bytes"))?;
        Ok(Token { inner: py.detach(move || no_panic(|| TokenInput::Bytes(raw).parse()))? })
    }

    /// base64url text with padding.
    fn to_base64(&self) -> String {
        self.inner.to_base64()
    }

    /// The raw bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.to_bytes())
    }

    fn __bytes__<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.to_bytes(py)
    }

    fn __str__(&self) -> String {
        self.inner.to_base64()
    }

    fn __len__(&self) -> usize {
        self.inner.to_bytes().len()
    }

    /// The agent holding the token (the last hop).
    #[getter]
    fn agent(&self) -> &str {
        self.inner.agent()
    }
    /// The holder's path, e.g. `/root/agent_a`.
    #[getter]
    fn path(&self) -> &str {
        self.inner.path()
    }
    /// The holder's public key (it signs proofs and the next delegation).
    #[getter]
    fn holder_key(&self) -> PublicKey {
        PublicKey { inner: *self.inner.holder_key() }
    }
    /// On whose behalf, e.g. `user:alice`.
    #[getter]
    fn principal(&self) -> &str {
        self.inner.principal()
    }
    /// The task, if any.
    #[getter]
    fn task(&self) -> Option<&str> {
        self.inner.task()
    }
    /// The workspace, if any.
    #[getter]
    fn workspace(&self) -> Option<&str> {
        self.inner.workspace()
    }
    /// Rights of the authority block (delegations narrow them further).
    #[getter]
    fn rights(&self) -> Vec<Right> {
        self.inner.rights().iter().map(|r| Right { inner: r.clone() }).collect()
    }
    /// Issue time of the authority block (seconds since the epoch).
    #[getter]
    fn issued_at(&self) -> u64 {
        self.inner.issued_at()
    }
    /// The effective expiry: the earliest of every block's.
    #[getter]
    fn expires_at(&self) -> u64 {
        self.inner.expires_at()
    }
    /// Number of delegation hops so far.
    #[getter]
    fn depth(&self) -> u32 {
        self.inner.depth()
    }
    /// The effective maximum depth (smallest of every block's).
    #[getter]
    fn max_depth(&self) -> u32 {
        self.inner.max_depth()
    }
    /// The delegation chain, root first.
    #[getter]
    fn chain(&self) -> Vec<Hop> {
        self.inner.chain().iter().map(|h| Hop { inner: h.clone() }).collect()
    }
    /// Revocation ids (hex), one per block, authority first.
    #[getter]
    fn revocation_ids(&self) -> Vec<String> {
        self.inner.revocation_ids().to_vec()
    }
    /// Whether the token is sealed (no further delegation possible).
    #[getter]
    fn sealed(&self) -> bool {
        self.inner.is_sealed()
    }
    /// The root key id written at mint time, if any.
    #[getter]
    fn root_key_id(&self) -> Option<u32> {
        self.inner.root_key_id()
    }
    /// The servers the token is bound to (RFC 8707), canonical; empty: any server.
    #[getter]
    fn audience(&self) -> Vec<String> {
        self.inner.audience().iter().map(|a| a.as_str().to_string()).collect()
    }

    /// Readable Datalog source of every block.
    fn to_datalog(&self) -> String {
        self.inner.to_datalog()
    }

    /// What the token claims, as a dict (the `marque inspect` JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        convert::json_to_py(py, &self.inner.to_json().to_string())
    }

    /// What the token claims, as JSON text (the `marque inspect` JSON).
    fn to_json(&self) -> String {
        self.inner.to_json().to_string()
    }

    /// Delegates to a child agent: see `marque.Token.delegate` in the stubs / API.md.
    ///
    /// `parent_keypair` must be the key of the agent holding the token; the child is
    /// `to` (an agent id) with public key `to_key`, at `<path>/<child name>`. `None` on an
    /// axis means no further narrowing; asking for more than held raises `AttenuationWidens`.
    /// `max_calls` (int) and `rate` (`{"calls": int, "window_seconds": int}`) give the child's
    /// subtree a call budget, no wider than the chain's (`AttenuationWidens`); `require_approval`
    /// (rights such as `"deploy:*:production/"`) makes its matching calls need a human approval.
    #[pyo3(signature = (parent_keypair, *, to, to_key, tools = None, operations = None,
                        resource_prefix = None, ttl_seconds = None, max_depth = None, now = None,
                        max_calls = None, rate = None, require_approval = None))]
    #[allow(clippy::too_many_arguments)]
    fn delegate(
        &self,
        py: Python<'_>,
        parent_keypair: &Bound<'_, PyAny>,
        to: Str,
        to_key: &Bound<'_, PyAny>,
        tools: Option<&Bound<'_, PyAny>>,
        operations: Option<&Bound<'_, PyAny>>,
        resource_prefix: Option<Str>,
        ttl_seconds: Option<&Bound<'_, PyAny>>,
        max_depth: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
        max_calls: Option<&Bound<'_, PyAny>>,
        rate: Option<&Bound<'_, PyAny>>,
        require_approval: Option<&Bound<'_, PyAny>>,
    ) -> Result<Token> {
        let constraints = crate::delegate::DelegateConstraints { max_calls, rate, require_approval };
        let params = crate::delegate::params(to.0, to_key, tools, operations, convert::opt(resource_prefix), ttl_seconds, max_depth, now, constraints)?;
        let parent = Signer::extract("parent_keypair", parent_keypair)?;
        let token = self.inner.clone();
        let child = py.detach(|| parent.finish(no_panic(|| token.delegate(parent.core(), &params))))?;
        Ok(Token::new(child))
    }

    /// Signs a proof of possession for using this token on one request (see `sign_proof`).
    #[pyo3(signature = (agent_keypair, *, tool, resource, operation = Str::from("*"), now = None, audience = None),
        text_signature = "($self, agent_keypair, *, tool, resource, operation='*', now=None, audience=None)")]
    #[allow(clippy::too_many_arguments)]
    fn sign_proof(
        &self,
        py: Python<'_>,
        agent_keypair: &Bound<'_, PyAny>,
        tool: Str,
        resource: Str,
        operation: Str,
        now: Option<&Bound<'_, PyAny>>,
        audience: Option<Str>,
    ) -> Result<String> {
        crate::proof::sign(py, agent_keypair, TokenInput::Parsed(self.inner.clone()), tool.0, resource.0, operation.0, now, audience)
    }

    /// A sealed copy: nobody can delegate it further.
    fn seal(&self, py: Python<'_>) -> Result<Token> {
        let token = self.inner.clone();
        Ok(Token::new(py.detach(move || no_panic(|| token.seal()))?))
    }

    fn __repr__(&self) -> String {
        format!(
            "Token(agent={}, path={}, principal={}, depth={}, expires_at={}{})",
            py_str_repr(self.inner.agent()),
            py_str_repr(self.inner.path()),
            py_str_repr(self.inner.principal()),
            self.inner.depth(),
            self.inner.expires_at(),
            if self.inner.is_sealed() { ", sealed=True" } else { "" }
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let py = slf.py();
        Ok((slf.get_type().getattr("from_bytes")?, (PyBytes::new(py, slf.get().inner.to_bytes()),)))
    }
}

/// Mints a token for `agent`, signed by the root key pair. See the stubs / API.md.
#[pyfunction]
#[pyo3(signature = (root_keypair, *, agent, agent_key, principal, task = None, workspace = None,
                    rights = None, ttl_seconds = None, max_depth = None, now = None, root_key_id = None, audience = None))]
#[allow(clippy::too_many_arguments)]
pub fn mint(
    py: Python<'_>,
    root_keypair: &Bound<'_, PyAny>,
    agent: Str,
    agent_key: &Bound<'_, PyAny>,
    principal: Str,
    task: Option<Str>,
    workspace: Option<Str>,
    rights: Option<&Bound<'_, PyAny>>,
    ttl_seconds: Option<&Bound<'_, PyAny>>,
    max_depth: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
    root_key_id: Option<&Bound<'_, PyAny>>,
    audience: Option<&Bound<'_, PyAny>>,
) -> Result<Token> {
    let root = Signer::extract("root_keypair", root_keypair)?;
    let mut params = marque::MintParams::new(agent, convert::public_key(agent_key)?, principal);
    params.task = convert::opt(task);
    params.workspace = convert::opt(workspace);
    params.rights = convert::rights(rights)?;
    if let Some(ttl) = convert::opt_seconds("ttl_seconds", ttl_seconds)? {
        params.ttl_seconds = ttl;
    }
    if let Some(d) = convert::opt_uint("max_depth", max_depth)? {
        params.max_depth = d;
    }
    params.now = convert::now(now)?;
    params.root_key_id = convert::opt_uint("root_key_id", root_key_id)?;
    for uri in convert::names("audience", audience)?.unwrap_or_default() {
        params.audiences.push(marque::audience::Audience::parse(&uri)?);
    }
    let token = py.detach(|| root.finish(no_panic(|| marque::Token::mint(root.core(), &params))))?;
    Ok(Token::new(token))
}
