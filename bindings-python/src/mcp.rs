//! The door of an HTTP or MCP server (mirrors `marque::admission`, `marque::bearer` and
//! `marque::mcp`): `Admission`, `McpConfig` and its mapping, `McpOutcome`, and the Bearer
//! helpers (`www_authenticate`, `bearer_token`, `http_refusal`, `resource_metadata_url`,
//! `protected_resource_metadata`). Conversion only: every rule is the core's.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::convert::{self, opt, py_str_repr, Str, TokenInput};
use crate::errors::{invalid_argument, no_panic, type_error, Result};
use crate::verify::Decision;

/// An admitted token (`Verifier.admit`): who holds it, until when, and its effective rights.
///
/// `scopes` are the authority block's rights narrowed by every hop, as `tool:operation:resource`
/// strings (never the root's rights for a narrowed sub-agent).
#[pyclass(module = "marque", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Admission {
    pub inner: marque::Admission,
}

#[pymethods]
impl Admission {
    /// The acting agent (the last hop).
    #[getter]
    fn agent(&self) -> &str {
        &self.inner.agent
    }
    /// Its path in the spawn tree.
    #[getter]
    fn path(&self) -> &str {
        &self.inner.path
    }
    /// The acting agent's key fingerprint.
    #[getter]
    fn agent_key_fingerprint(&self) -> &str {
        &self.inner.agent_key_fingerprint
    }
    /// The acting agent's public key (hex).
    #[getter]
    fn agent_key(&self) -> &str {
        &self.inner.agent_key
    }
    /// On whose behalf.
    #[getter]
    fn principal(&self) -> &str {
        &self.inner.principal
    }
    /// The task, if any.
    #[getter]
    fn task(&self) -> Option<&str> {
        self.inner.task.as_deref()
    }
    /// The workspace, if any.
    #[getter]
    fn workspace(&self) -> Option<&str> {
        self.inner.workspace.as_deref()
    }
    /// Agent ids of the delegation chain, root first.
    #[getter]
    fn chain(&self) -> Vec<String> {
        self.inner.chain.clone()
    }
    /// When the authority block was issued (seconds).
    #[getter]
    fn issued_at(&self) -> u64 {
        self.inner.issued_at
    }
    /// The token's effective expiry (seconds).
    #[getter]
    fn expires_at(&self) -> u64 {
        self.inner.expires_at
    }
    /// The root key id the token names, if any.
    #[getter]
    fn root_key_id(&self) -> Option<u32> {
        self.inner.root_key_id
    }
    /// The token id (the last block's revocation id).
    #[getter]
    fn token_id(&self) -> &str {
        &self.inner.token_id
    }
    /// Revocation ids of every block, authority first.
    #[getter]
    fn revocation_ids(&self) -> Vec<String> {
        self.inner.revocation_ids.clone()
    }
    /// The effective rights as `tool:operation:resource` scope strings (at most 256).
    #[getter]
    fn scopes(&self) -> Vec<String> {
        self.inner.scopes.clone()
    }
    /// The time of the admission.
    #[getter]
    fn time(&self) -> u64 {
        self.inner.time
    }
    /// JSON form (snake_case field names).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// The JSON form as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        convert::json_to_py(py, &self.inner.to_json())
    }
    fn __repr__(&self) -> String {
        format!("Admission(agent={}, path={}, scopes={:?})", py_str_repr(&self.inner.agent), py_str_repr(&self.inner.path), self.inner.scopes)
    }
}

/// How an MCP server maps messages to marque requests: the allow-list (methods admitted
/// without a rights check) and each tool's mapping.
///
/// `McpConfig()` is the default (allow-list `DEFAULT_ALLOW`, no tool mappings);
/// `McpConfig({"allow": [...], "tools": {"read_file": {"operation": "read", "resource_arg":
/// "path"}}})` (a dict or JSON text) the general form. Unknown keys, an allow-list entry covering
/// a method marque always authorizes, or a tool with both `resource_arg` and `resource` raise
/// `InvalidArgument`.
#[pyclass(module = "marque", frozen)]
pub struct McpConfig {
    pub inner: Arc<marque::McpConfig>,
}

/// What one MCP message is (`McpConfig.map`): the marque `request` to authorize as
/// `(tool, operation, resource)`, or `None` when the message is admitted without a rights check.
#[pyclass(module = "marque", frozen)]
pub struct McpMapped {
    inner: marque::mcp::Mapped,
}

/// What `Verifier.authorize_mcp` decided for one MCP message.
///
/// `allowed`: may the message reach the server. `request` (`(tool, operation, resource)`) and
/// `decision` are set when the message was authorized; `admission` when it was admitted without
/// a rights check and carried a token.
#[pyclass(module = "marque", frozen)]
pub struct McpOutcome {
    inner: marque::McpOutcome,
}

fn triple(r: &Option<marque::Request>) -> Option<(String, String, String)> {
    r.as_ref().map(|r| (r.tool.clone(), r.operation.clone(), r.resource.clone()))
}

/// The message as JSON text: a `str` as is, anything else through `json.dumps`.
fn message_text(message: &Bound<'_, PyAny>) -> Result<String> {
    if message.is_instance_of::<PyString>() || message.is_instance_of::<pyo3::types::PyDict>() {
        return convert::to_json_text(message);
    }
    if message.hasattr("keys")? {
        return convert::dumps(&message.py().import("builtins")?.getattr("dict")?.call1((message,))?);
    }
    Err(type_error(format!("an MCP message is a dict or JSON text, got {}", convert::type_name(message))))
}

/// A token given to the MCP helpers, as base64url text.
fn token_text(token: Option<&Bound<'_, PyAny>>) -> Result<Option<String>> {
    let Some(t) = token.filter(|t| !t.is_none()) else { return Ok(None) };
    Ok(Some(match TokenInput::extract(t)? {
        TokenInput::Text(s) => s,
        TokenInput::Parsed(t) => t.to_base64(),
        TokenInput::Bytes(b) => no_panic(|| marque::Token::from_bytes(&b))?.to_base64(),
    }))
}

/// Owned fields of a `marque::McpCall`.
pub struct CallArgs {
    message: String,
    mcp_method: Option<String>,
    mcp_name: Option<String>,
    token: Option<String>,
    proof: Option<String>,
    resource: Option<String>,
}

impl CallArgs {
    pub fn new(
        message: &Bound<'_, PyAny>,
        token: Option<&Bound<'_, PyAny>>,
        proof: Option<Str>,
        mcp_method: Option<Str>,
        mcp_name: Option<Str>,
        resource: Option<Str>,
    ) -> Result<Self> {
        Ok(CallArgs {
            message: message_text(message)?,
            mcp_method: opt(mcp_method),
            mcp_name: opt(mcp_name),
            token: token_text(token)?,
            proof: opt(proof),
            resource: opt(resource),
        })
    }

    fn call(&self) -> marque::McpCall<'_> {
        marque::McpCall {
            message: &self.message,
            mcp_method: self.mcp_method.as_deref(),
            mcp_name: self.mcp_name.as_deref(),
            token: self.token.as_deref(),
            proof: self.proof.as_deref(),
            // The approval travels in the message's `_meta["marque/approval"]` (read by the core).
            approval: None,
            resource: self.resource.as_deref(),
        }
    }
}

/// `Verifier.admit`, without the GIL.
pub fn admit(py: Python<'_>, verifier: &Arc<std::sync::RwLock<marque::Verifier>>, token: TokenInput, now: Option<u64>) -> Result<Admission> {
    let inner = verifier.clone();
    let admitted = py.detach(move || {
        no_panic(|| {
            let v = inner.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            match &token {
                TokenInput::Text(s) => v.admit_base64(s, now),
                TokenInput::Bytes(b) => v.admit(b, now),
                TokenInput::Parsed(t) => v.admit(t.to_bytes(), now),
            }
        })
    })?;
    Ok(Admission { inner: admitted })
}

/// `Verifier.authorize_mcp`, without the GIL.
pub fn authorize_mcp(
    py: Python<'_>,
    verifier: &Arc<std::sync::RwLock<marque::Verifier>>,
    config: Option<PyRef<'_, McpConfig>>,
    args: CallArgs,
    now: Option<u64>,
) -> Result<McpOutcome> {
    let config = config.map(|c| c.inner.clone()).unwrap_or_default();
    let inner = verifier.clone();
    let outcome = py.detach(move || {
        no_panic(|| {
            let v = inner.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            v.authorize_mcp(&config, &args.call(), now)
        })
    })?;
    Ok(McpOutcome { inner: outcome })
}

#[pymethods]
impl McpConfig {
    #[new]
    #[pyo3(signature = (config = None))]
    fn new(config: Option<&Bound<'_, PyAny>>) -> Result<Self> {
        let inner = match config.filter(|c| !c.is_none()) {
            None => marque::McpConfig::default(),
            Some(c) => {
                let text = convert::to_json_text(c)?;
                no_panic(|| marque::McpConfig::from_json(&text))?
            }
        };
        Ok(McpConfig { inner: Arc::new(inner) })
    }

    /// Maps one MCP message (a dict or JSON text) with the transport's extras: the bearer
    /// `token`, the `Marque-Proof` header `proof`, the `Mcp-Method` / `Mcp-Name` headers, and
    /// `resource` (for a `tools/call` whose tool declares none: the application's own resource).
    /// Raises `InvalidRequest` for a message marque refuses.
    #[pyo3(signature = (message, *, token = None, proof = None, mcp_method = None, mcp_name = None, resource = None))]
    fn map(
        &self,
        message: &Bound<'_, PyAny>,
        token: Option<&Bound<'_, PyAny>>,
        proof: Option<Str>,
        mcp_method: Option<Str>,
        mcp_name: Option<Str>,
        resource: Option<Str>,
    ) -> Result<McpMapped> {
        let args = CallArgs::new(message, token, proof, mcp_method, mcp_name, resource)?;
        Ok(McpMapped { inner: no_panic(|| self.inner.map(&args.call()))? })
    }

    /// The agent's side of `map`: the HTTP headers to send with `message` (a dict or JSON text)
    /// as the holder of `token` whose key is `agent_keypair` (a `KeyPair` or signer) —
    /// `Authorization`, `Marque-Proof` (a fresh proof bound to the exact request a server with
    /// this configuration maps the message to; absent for an allow-listed method), `Mcp-Method`
    /// and `Mcp-Name`. A message the server would refuse raises `InvalidRequest` here.
    #[pyo3(signature = (message, token, agent_keypair, *, now = None))]
    fn client_headers(
        &self,
        py: Python<'_>,
        message: &Bound<'_, PyAny>,
        token: &Bound<'_, PyAny>,
        agent_keypair: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> Result<std::collections::BTreeMap<&'static str, String>> {
        let message = message_text(message)?;
        let token = TokenInput::extract(token)?;
        let agent = crate::signer::Signer::extract("agent_keypair", agent_keypair)?;
        let now = convert::now(now)?;
        let config = self.inner.clone();
        let h = py.detach(|| agent.finish(no_panic(|| config.client_headers(&message, &*token.parse()?, agent.core(), now))))?;
        Ok(h.http().into_iter().map(|(name, value)| (name, value.to_string())).collect())
    }

    /// Whether `method` is admitted without a rights check.
    fn is_allowed(&self, method: Str) -> bool {
        self.inner.is_allowed(&method)
    }

    /// The allow-list.
    #[getter]
    fn allow(&self) -> Vec<String> {
        self.inner.allow.clone()
    }

    /// The server's canonical URI (the audience agents' proofs are bound to), or `None`.
    #[getter]
    fn resource(&self) -> Option<String> {
        self.inner.resource.as_ref().map(|a| a.as_str().to_string())
    }

    /// The JSON form.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The JSON form as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        convert::json_to_py(py, &self.inner.to_json())
    }

    fn __repr__(&self) -> String {
        format!("McpConfig({})", self.inner.to_json())
    }
}

#[pymethods]
impl McpMapped {
    /// The JSON-RPC method (`None` for a response).
    #[getter]
    fn method(&self) -> Option<&str> {
        self.inner.method.as_deref()
    }
    /// `(tool, operation, resource)` to authorize, or `None` (admitted without a rights check).
    #[getter]
    fn request(&self) -> Option<(String, String, String)> {
        triple(&self.inner.request)
    }
    /// The request attributes the tool's mapping gave (`attribute_args`, `attributes`); empty
    /// when none.
    #[getter]
    fn attributes(&self) -> std::collections::BTreeMap<String, String> {
        self.inner.request.as_ref().map(|r| r.attributes.clone()).unwrap_or_default()
    }
    /// The token: the transport's, else `_meta["marque/token"]`.
    #[getter]
    fn token(&self) -> Option<&str> {
        self.inner.token.as_deref()
    }
    /// The proof: the transport's, else `_meta["marque/proof"]`.
    #[getter]
    fn proof(&self) -> Option<&str> {
        self.inner.proof.as_deref()
    }
    /// A human approval of the call: `_meta["marque/approval"]`.
    #[getter]
    fn approval(&self) -> Option<&str> {
        self.inner.approval.as_deref()
    }
    fn __repr__(&self) -> String {
        format!("McpMapped(method={:?}, request={:?})", self.inner.method, triple(&self.inner.request))
    }
}

#[pymethods]
impl McpOutcome {
    /// Whether the message may reach the server.
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.allowed
    }
    /// The JSON-RPC method (`None` for a response).
    #[getter]
    fn method(&self) -> Option<&str> {
        self.inner.method.as_deref()
    }
    /// `(tool, operation, resource)` decided, or `None` (admitted without a rights check).
    #[getter]
    fn request(&self) -> Option<(String, String, String)> {
        triple(&self.inner.request)
    }
    /// The request attributes the tool's mapping gave (`attribute_args`, `attributes`); empty
    /// when none.
    #[getter]
    fn attributes(&self) -> std::collections::BTreeMap<String, String> {
        self.inner.request.as_ref().map(|r| r.attributes.clone()).unwrap_or_default()
    }
    /// The decision on `request`, if one was taken.
    #[getter]
    fn decision(&self) -> Option<Decision> {
        self.inner.decision.clone().map(|inner| Decision { inner })
    }
    /// The admission of the token of a message admitted without a rights check, if it had one.
    #[getter]
    fn admission(&self) -> Option<Admission> {
        self.inner.admission.clone().map(|inner| Admission { inner })
    }
    fn __bool__(&self) -> bool {
        self.inner.allowed
    }
    fn __repr__(&self) -> String {
        format!(
            "McpOutcome(allowed={}, method={:?}, request={:?}, code={:?})",
            if self.inner.allowed { "True" } else { "False" },
            self.inner.method,
            triple(&self.inner.request),
            self.inner.decision.as_ref().and_then(|d| d.code.clone())
        )
    }
}

/// A `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3, `resource_metadata` from RFC 9728):
/// every value passes one quoting rule (`"` → `'`, `\` → `/`, control characters → space,
/// non-ASCII → `?`, cut at 256 characters), so none can break out of its quotes. `error` is
/// `invalid_request`, `invalid_token` or `insufficient_scope`; `scope` a str or a list of str.
#[pyfunction]
#[pyo3(signature = (*, realm = None, error = None, error_description = None, scope = None, resource_metadata = None))]
pub fn www_authenticate(
    realm: Option<Str>,
    error: Option<Str>,
    error_description: Option<Str>,
    scope: Option<&Bound<'_, PyAny>>,
    resource_metadata: Option<Str>,
) -> Result<String> {
    let (realm, error_description, resource_metadata) = (opt(realm), opt(error_description), opt(resource_metadata));
    let error = match error.as_deref() {
        None => None,
        Some(e) => Some(marque::bearer::BearerError::from_code(e).ok_or_else(|| {
            invalid_argument(format!("error must be invalid_request, invalid_token or insufficient_scope, not {}", py_str_repr(e)))
        })?),
    };
    let scope = match scope.filter(|s| !s.is_none()) {
        None => Vec::new(),
        Some(s) if s.is_instance_of::<PyString>() => s.extract::<Str>()?.split(' ').filter(|p| !p.is_empty()).map(String::from).collect(),
        Some(s) => convert::names("scope", Some(s))?.unwrap_or_default(),
    };
    Ok(marque::bearer::Challenge { realm, error, error_description, scope, resource_metadata }.to_header())
}

/// The token of an `Authorization` header value `Bearer <token>`, else `None`.
#[pyfunction]
pub fn bearer_token(authorization: Str) -> Option<String> {
    marque::bearer::bearer_token(&authorization).map(String::from)
}

/// `(status, error)`: how an HTTP layer answers a marque code (`None`: no credentials were
/// presented) — e.g. `("expired")` → `(401, "invalid_token")`, `("not_authorized")` →
/// `(403, "insufficient_scope")`, `("revocation_list_stale")` → `(503, None)`.
#[pyfunction]
#[pyo3(signature = (code))]
pub fn http_refusal(code: Option<Str>) -> (u16, Option<&'static str>) {
    let r = marque::bearer::refusal(code.as_deref());
    (r.status, r.error.map(|e| e.code()))
}

/// The RFC 9728 §3.1 metadata URL of a protected resource
/// (`https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`).
#[pyfunction]
pub fn resource_metadata_url(resource: Str) -> Result<String> {
    Ok(marque::bearer::resource_metadata_url(&resource)?)
}

/// RFC 9728 protected-resource metadata for a marque-guarded server: the standard members set,
/// plus `marque_token_format`, `marque_proof_header`, `marque_meta_keys` and, with `root_keys`,
/// `marque_root_keys` (JWKs).
#[pyfunction]
#[pyo3(signature = (resource, *, root_keys = None, authorization_servers = None, scopes_supported = None, resource_name = None,
                    resource_documentation = None))]
pub fn protected_resource_metadata<'py>(
    py: Python<'py>,
    resource: Str,
    root_keys: Option<&Bound<'py, PyAny>>,
    authorization_servers: Option<&Bound<'py, PyAny>>,
    scopes_supported: Option<&Bound<'py, PyAny>>,
    resource_name: Option<Str>,
    resource_documentation: Option<Str>,
) -> Result<Bound<'py, PyAny>> {
    let (resource, resource_name, resource_documentation) = (String::from(resource), opt(resource_name), opt(resource_documentation));
    let strings = |what: &str, v: Option<&Bound<'py, PyAny>>| -> Result<Vec<String>> {
        match v.filter(|v| !v.is_none()) {
            None => Ok(Vec::new()),
            Some(v) if v.is_instance_of::<PyString>() => Err(type_error(format!("{what} must be a list of str, not a str"))),
            Some(v) => v.try_iter()?.map(|s| Ok(s?.extract::<Str>()?.into())).collect(),
        }
    };
    let doc = marque::bearer::ProtectedResource {
        resource,
        authorization_servers: strings("authorization_servers", authorization_servers)?,
        scopes_supported: strings("scopes_supported", scopes_supported)?,
        resource_name,
        resource_documentation,
        root_keys: match root_keys.filter(|k| !k.is_none()) {
            None => Vec::new(),
            Some(k) => convert::public_keys("root_keys", k)?,
        },
    };
    convert::value_to_py(py, &doc.to_json()?)
}

/// Adds the classes and functions of this module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Admission>()?;
    m.add_class::<McpConfig>()?;
    m.add_class::<McpMapped>()?;
    m.add_class::<McpOutcome>()?;
    m.add_function(wrap_pyfunction!(www_authenticate, m)?)?;
    m.add_function(wrap_pyfunction!(bearer_token, m)?)?;
    m.add_function(wrap_pyfunction!(http_refusal, m)?)?;
    m.add_function(wrap_pyfunction!(resource_metadata_url, m)?)?;
    m.add_function(wrap_pyfunction!(protected_resource_metadata, m)?)?;
    m.add("MCP_DEFAULT_ALLOW", marque::mcp::DEFAULT_ALLOW.to_vec())?;
    m.add("MCP_DENIED_ERROR_CODE", marque::mcp::DENIED_ERROR_CODE)?;
    m.add("MCP_APPROVAL_META_KEY", marque::bearer::APPROVAL_META_KEY)?;
    Ok(())
}
