//! The door of an HTTP or MCP server, mirroring `marque::admission`, `marque::bearer` and
//! `marque::mcp`: `verifier.admit`, `verifier.authorizeMcp`, `McpConfig`, and the Bearer helpers
//! (`wwwAuthenticate`, `bearerToken`, `httpRefusal`, `resourceMetadataUrl`,
//! `protectedResourceMetadata`). Conversion only: every rule is the core's.

use marque_node_derive::Options;
use std::sync::{Arc, PoisonError};

use napi::bindgen_prelude::{AsyncTask, Either, Env, Object, Task};
use napi_derive::napi;

use crate::convert::{opt_now, JsonInput, KeyInput, Ref, Text, TimeInput, TokenInput};
use crate::errors::{invalid_argument, no_panic, no_panic_core, reject_with, OrThrow, Result};
use crate::verify::{Decision, Verifier};

/// An admitted token (`verifier.admit`): the holder's identity and effective rights.
#[napi(object, object_from_js = false)]
pub struct Admission {
    /// The acting agent (the last hop).
    pub agent: String,
    /// Its path in the spawn tree.
    pub path: String,
    /// The acting agent's key fingerprint.
    pub agent_key_fingerprint: String,
    /// The acting agent's public key (hex).
    pub agent_key: String,
    /// On whose behalf.
    pub principal: String,
    /// The task, if any.
    pub task: Option<String>,
    /// The workspace, if any.
    pub workspace: Option<String>,
    /// Agent ids of the delegation chain, root first.
    pub chain: Vec<String>,
    /// When the authority block was issued (seconds since the epoch).
    pub issued_at: f64,
    /// The token's effective expiry (seconds since the epoch).
    pub expires_at: f64,
    /// The root key id the token names, if any.
    pub root_key_id: Option<u32>,
    /// The token id (the last block's revocation id).
    pub token_id: String,
    /// Revocation ids of every block, authority first.
    pub revocation_ids: Vec<String>,
    /// The effective rights (the authority block's, narrowed by every hop) as
    /// `tool:operation:resource` scope strings, at most 256.
    pub scopes: Vec<String>,
    /// The time of the admission.
    pub time: f64,
}

impl Admission {
    fn from_core(a: marque::Admission) -> Self {
        Admission {
            agent: a.agent,
            path: a.path,
            agent_key_fingerprint: a.agent_key_fingerprint,
            agent_key: a.agent_key,
            principal: a.principal,
            task: a.task,
            workspace: a.workspace,
            chain: a.chain,
            issued_at: a.issued_at as f64,
            expires_at: a.expires_at as f64,
            root_key_id: a.root_key_id,
            token_id: a.token_id,
            revocation_ids: a.revocation_ids,
            scopes: a.scopes,
            time: a.time as f64,
        }
    }
}

/// Options of `verifier.admit`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct AdmitOptions {
    /// Current time: seconds since the epoch or a `Date` (default: now).
    pub now: Option<TimeInput>,
}

/// What travels beside an MCP message (`McpConfig.map`, `verifier.authorizeMcp`).
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct McpCallOptions {
    /// The transport's token (the bearer token).
    pub token: Option<TokenInput>,
    /// The transport's proof (the `Marque-Proof` header).
    pub proof: Option<String>,
    /// The transport's human approval of the call (the `Marque-Approval` header).
    pub approval: Option<String>,
    /// The `Mcp-Method` header, if sent (it must match the body).
    pub mcp_method: Option<String>,
    /// The `Mcp-Name` header, if sent (it must match the body; `=?base64?…?=` is decoded).
    pub mcp_name: Option<String>,
    /// For a `tools/call` whose tool declares no resource: the application's resource.
    pub resource: Option<String>,
    /// Decision time: seconds since the epoch or a `Date` (default: now).
    pub now: Option<TimeInput>,
}

/// Owned fields of a `marque::McpCall`.
struct CallArgs {
    message: String,
    mcp_method: Option<String>,
    mcp_name: Option<String>,
    token: Option<String>,
    proof: Option<String>,
    approval: Option<String>,
    resource: Option<String>,
    now: Option<u64>,
}

impl CallArgs {
    fn new(message: JsonInput, options: Option<McpCallOptions>) -> Result<Self> {
        let o = options.unwrap_or(McpCallOptions { token: None, proof: None, approval: None, mcp_method: None, mcp_name: None, resource: None, now: None });
        let token = match o.token {
            None => None,
            Some(TokenInput::Text(s)) => Some(s),
            Some(other) => Some(other.token()?.to_base64()),
        };
        Ok(CallArgs {
            message: message.0,
            mcp_method: o.mcp_method,
            mcp_name: o.mcp_name,
            token,
            proof: o.proof,
            approval: o.approval,
            resource: o.resource,
            now: opt_now(o.now)?,
        })
    }

    fn call(&self) -> marque::McpCall<'_> {
        marque::McpCall {
            message: &self.message,
            mcp_method: self.mcp_method.as_deref(),
            mcp_name: self.mcp_name.as_deref(),
            token: self.token.as_deref(),
            proof: self.proof.as_deref(),
            approval: self.approval.as_deref(),
            resource: self.resource.as_deref(),
        }
    }
}

/// How an MCP server maps messages to marque requests: the allow-list and each tool's mapping.
/// `new McpConfig()` is the default (allow-list `MCP_DEFAULT_ALLOW`, no tool mappings); `new
/// McpConfig({ allow, tools: { read_file: { operation: 'read', resource_arg: 'path' } } })` (an
/// object or JSON text, in the core's JSON form) the general one. Unknown keys, an allow-list
/// entry covering a method marque always authorizes, or a tool with both `resource_arg` and
/// `resource` throw `invalid_argument`.
#[napi]
pub struct McpConfig {
    inner: Arc<marque::McpConfig>,
}

/// What one MCP message is (`McpConfig.map`).
#[napi(object, object_from_js = false)]
pub struct McpMapped {
    /// The JSON-RPC method (`null` for a response).
    pub method: Option<String>,
    /// The marque request to authorize, or `null` (admitted without a rights check).
    pub request: Option<McpRequest>,
    /// The token: the transport's, else `_meta["marque/token"]`.
    pub token: Option<String>,
    /// The proof: the transport's, else `_meta["marque/proof"]`.
    pub proof: Option<String>,
    /// The approval: the transport's, else `_meta["marque/approval"]`.
    pub approval: Option<String>,
}

/// A marque request an MCP message maps to.
#[napi(object, object_from_js = false)]
pub struct McpRequest {
    /// Tool.
    pub tool: String,
    /// Operation.
    pub operation: String,
    /// Resource.
    pub resource: String,
    /// The request attributes the tool's mapping gives (`attribute_args`, `attributes`); absent
    /// when none, as in the core's JSON form.
    pub attributes: Option<std::collections::HashMap<String, String>>,
}

pub(crate) fn request_of(r: Option<&marque::Request>) -> Option<McpRequest> {
    r.map(|r| McpRequest {
        tool: r.tool.clone(),
        operation: r.operation.clone(),
        resource: r.resource.clone(),
        attributes: (!r.attributes.is_empty()).then(|| r.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
    })
}

#[napi]
impl McpConfig {
    /// A configuration (default: the default allow-list and no tool mappings).
    #[napi(constructor)]
    pub fn new(#[napi(ts_arg_type = "McpConfigJson | string")] config: Option<JsonInput>) -> Result<Self> {
        let inner = match config {
            None => marque::McpConfig::default(),
            Some(c) => no_panic(|| marque::McpConfig::from_json(&c.0).or_throw())?,
        };
        Ok(McpConfig { inner: Arc::new(inner) })
    }

    /// Maps one MCP message (an object or JSON text) with the transport's extras; throws
    /// `invalid_request` for a message marque refuses.
    #[napi]
    pub fn map(&self, #[napi(ts_arg_type = "object | string")] message: JsonInput, options: Option<McpCallOptions>) -> Result<McpMapped> {
        let args = CallArgs::new(message, options)?;
        let m = no_panic(|| self.inner.map(&args.call()).or_throw())?;
        Ok(McpMapped { method: m.method, request: request_of(m.request.as_ref()), token: m.token, proof: m.proof, approval: m.approval })
    }

    /// The agent's side of `map`: the HTTP headers to send with `message` (an object or JSON
    /// text) as the holder of `token` whose key pair (or `Signer`) is `agent` —
    /// `Authorization`, `Marque-Proof` (a fresh proof bound to the exact request a server with
    /// this configuration maps the message to; absent for an allow-listed method),
    /// `Mcp-Method` and `Mcp-Name`. A message the server would refuse throws `invalid_request`.
    #[napi(ts_return_type = "Record<string, string>")]
    pub fn client_headers(
        &self,
        #[napi(ts_arg_type = "object | string")] message: JsonInput,
        token: TokenInput,
        agent: crate::signer::SignerInput,
        options: Option<AdmitOptions>,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let token = token.token()?;
        let now = opt_now(options.and_then(|o| o.now))?;
        let h = agent.with(|s| self.inner.client_headers(&message.0, &token, s, now))?;
        Ok(h.http().into_iter().map(|(name, value)| (name.to_string(), value.into())).collect())
    }

    /// Whether `method` is admitted without a rights check.
    #[napi]
    pub fn is_allowed(&self, #[napi(ts_arg_type = "string")] method: Text) -> bool {
        let method = method.0;
        self.inner.is_allowed(&method)
    }

    /// The allow-list.
    #[napi(getter)]
    pub fn allow(&self) -> Vec<String> {
        self.inner.allow.clone()
    }

    /// The server's canonical URI (the audience agents' proofs are bound to), or `null`.
    #[napi(getter)]
    pub fn resource(&self) -> Option<String> {
        self.inner.resource.as_ref().map(|a| a.as_str().to_string())
    }

    /// The JSON form.
    #[napi(js_name = "toJSON", ts_return_type = "McpConfigJson")]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.inner.to_json()).unwrap_or_default()
    }
}

/// What `verifier.authorizeMcp` decided for one MCP message: `allowed` (may it reach the
/// server); `request` and `decision` when it was authorized; `admission` when it was admitted
/// without a rights check and carried a token.
#[napi]
pub struct McpOutcome {
    inner: marque::McpOutcome,
}

#[napi]
impl McpOutcome {
    /// Whether the message may reach the server.
    #[napi(getter)]
    pub fn allowed(&self) -> bool {
        self.inner.allowed
    }
    /// The JSON-RPC method (`null` for a response).
    #[napi(getter)]
    pub fn method(&self) -> Option<String> {
        self.inner.method.clone()
    }
    /// The marque request decided, or `null` (admitted without a rights check).
    #[napi(getter)]
    pub fn request(&self) -> Option<McpRequest> {
        request_of(self.inner.request.as_ref())
    }
    /// The decision on `request`, if one was taken.
    #[napi(getter)]
    pub fn decision(&self) -> Option<Decision> {
        self.inner.decision.clone().map(Decision::wrap)
    }
    /// The admission of the token of a message admitted without a rights check, if it had one.
    #[napi(getter)]
    pub fn admission(&self) -> Option<Admission> {
        self.inner.admission.clone().map(Admission::from_core)
    }
}

fn admit_core(v: &marque::Verifier, token: &TokenInput, now: Option<u64>) -> marque::Result<marque::Admission> {
    match token {
        TokenInput::Text(s) => v.admit_base64(s, now),
        TokenInput::Bytes(b) => v.admit(b, now),
        TokenInput::Parsed(t) => v.admit(t.to_bytes(), now),
    }
}

#[napi]
impl Verifier {
    /// Admits `token` at the door: the revocation-list staleness rule, signatures, expiry,
    /// revocation and depth, failing closed with the matching `MarqueError`
    /// (`revocation_list_stale`, `invalid_token`, `expired`, `revoked`, …). Returns the holder's
    /// identity and effective (narrowed) rights as `scopes`.
    #[napi]
    pub fn admit(&self, token: TokenInput, options: Option<AdmitOptions>) -> Result<Admission> {
        let now = opt_now(options.and_then(|o| o.now))?;
        let v = self.shared().read().unwrap_or_else(PoisonError::into_inner);
        no_panic(|| admit_core(&v, &token, now).or_throw()).map(Admission::from_core)
    }

    /// Admits the bearer text `token` like `admit` and returns the OAuth `AuthInfo` the MCP
    /// SDKs' bearer auth records (built by the core: `clientId` = the agent, `scopes` = the
    /// effective rights, `expiresAt`, `resource` = this verifier's audience as text, `extra.marque`
    /// = the agent identity). `marqueTokenVerifier` returns it, `resource` as a `URL`.
    #[napi(ts_return_type = "AuthInfo")]
    pub fn auth_info(&self, token: String, options: Option<AdmitOptions>) -> Result<serde_json::Value> {
        let now = opt_now(options.and_then(|o| o.now))?;
        let v = self.shared().read().unwrap_or_else(PoisonError::into_inner);
        let info = no_panic(|| v.auth_info(&token, now).or_throw())?;
        serde_json::to_value(&info).map_err(|e| marque::Error::new(marque::ErrorKind::Internal, e.to_string())).or_throw()
    }

    /// Maps one MCP message (an object or JSON text) with `config` and decides it: a
    /// `tools/call`, `resources/read`, `prompts/get`, `completion/complete` … is authorized with
    /// the token and proof (the transport's, else `_meta["marque/token"]` /
    /// `_meta["marque/proof"]`); an allow-listed method is admitted (its token, if any, through
    /// `admit`). Throws `invalid_request` for a message marque refuses, `not_authorized` for a
    /// mapped message without a token.
    #[napi]
    pub fn authorize_mcp(
        &self,
        #[napi(ts_arg_type = "McpConfig")] config: Ref<McpConfig>,
        #[napi(ts_arg_type = "object | string")] message: JsonInput, options: Option<McpCallOptions>) -> Result<McpOutcome> {
        let config = config.0;
        let args = CallArgs::new(message, options)?;
        let v = self.shared().read().unwrap_or_else(PoisonError::into_inner);
        let inner = no_panic(|| v.authorize_mcp(&config.inner, &args.call(), args.now).or_throw())?;
        Ok(McpOutcome { inner })
    }

    /// `authorizeMcp` up to the call's single-use state, for stores shared by a fleet (use
    /// `authorizeMcpWithStore`, which calls this): an `McpOutcome` when the message is decided
    /// without one (admitted, denied, nothing to claim), else a `PendingAuthorization` whose
    /// `mcpMethod` / `mcpRequest` name the message.
    #[napi(ts_return_type = "McpOutcome | PendingAuthorization")]
    pub fn authorize_mcp_begin(
        &self,
        #[napi(ts_arg_type = "McpConfig")] config: Ref<McpConfig>,
        #[napi(ts_arg_type = "object | string")] message: JsonInput,
        options: Option<McpCallOptions>,
    ) -> Result<Either<McpOutcome, crate::verify::PendingAuthorization>> {
        let config = config.0;
        let args = CallArgs::new(message, options)?;
        let v = self.shared().read().unwrap_or_else(PoisonError::into_inner);
        let step = no_panic(|| v.authorize_mcp_begin(&config.inner, &args.call(), args.now).or_throw())?;
        Ok(match step {
            marque::McpAuthorization::Decided(inner) => Either::A(McpOutcome { inner }),
            marque::McpAuthorization::Pending(p) => Either::B(crate::verify::PendingAuthorization::for_mcp(p)),
        })
    }

    /// `authorizeMcp` on the libuv thread pool; resolves to an `McpOutcome`.
    #[napi(strict, ts_return_type = "Promise<McpOutcome>")]
    pub fn authorize_mcp_async<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "McpConfig")] config: Ref<McpConfig>,
        #[napi(ts_arg_type = "object | string")] message: JsonInput,
        options: Option<McpCallOptions>,
    ) -> Result<Either<AsyncTask<AuthorizeMcpTask>, Object<'env>>> {
        let config = config.0;
        let args = match CallArgs::new(message, options) {
            Ok(a) => a,
            Err(e) => return crate::errors::rejected(env, e).map(Either::B),
        };
        Ok(Either::A(AsyncTask::new(AuthorizeMcpTask {
            verifier: Arc::clone(self.shared()),
            config: Arc::clone(&config.inner),
            args: Some(args),
        })))
    }
}

/// The work of `authorizeMcpAsync`.
pub struct AuthorizeMcpTask {
    verifier: Arc<std::sync::RwLock<marque::Verifier>>,
    config: Arc<marque::McpConfig>,
    args: Option<CallArgs>,
}

impl Task for AuthorizeMcpTask {
    type Output = marque::Result<marque::McpOutcome>;
    type JsValue = McpOutcome;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let Some(args) = self.args.take() else {
            return Ok(Err(marque::Error::new(marque::ErrorKind::Internal, "authorizeMcp task ran twice")));
        };
        let v = self.verifier.read().unwrap_or_else(PoisonError::into_inner);
        Ok(no_panic_core(|| v.authorize_mcp(&self.config, &args.call(), args.now)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<McpOutcome> {
        output.map(|inner| McpOutcome { inner }).map_err(|e| reject_with(env, e))
    }
}

/// Options of `wwwAuthenticate` (RFC 6750 §3 parameters; `resourceMetadata` from RFC 9728).
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct ChallengeOptions {
    /// `realm`.
    pub realm: Option<String>,
    /// `error`: `invalid_request`, `invalid_token` or `insufficient_scope`.
    #[napi(ts_type = "'invalid_request' | 'invalid_token' | 'insufficient_scope'")]
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
    /// `scope`: scope tokens.
    pub scope: Option<Vec<String>>,
    /// `resource_metadata`: the RFC 9728 metadata URL.
    pub resource_metadata: Option<String>,
}

/// A `WWW-Authenticate: Bearer …` header value. Every value passes the core's one quoting rule
/// (`"` → `'`, `\` → `/`, control characters → space, non-ASCII → `?`, cut at 256 characters),
/// so none can break out of its quotes.
#[napi]
pub fn www_authenticate(options: Option<ChallengeOptions>) -> Result<String> {
    let Some(o) = options else { return Ok(marque::bearer::Challenge::default().to_header()) };
    let error = match o.error.as_deref() {
        None => None,
        Some(e) => Some(marque::bearer::BearerError::from_code(e).ok_or_else(|| {
            invalid_argument(format!("error must be invalid_request, invalid_token or insufficient_scope, not {e:?}"))
        })?),
    };
    Ok(marque::bearer::Challenge {
        realm: o.realm,
        error,
        error_description: o.error_description,
        scope: o.scope.unwrap_or_default(),
        resource_metadata: o.resource_metadata,
    }
    .to_header())
}

/// The text of a challenge value after the core's quoting rule (what a header built elsewhere,
/// such as the MCP SDK's, should carry between its quotes).
#[napi]
pub fn challenge_value(#[napi(ts_arg_type = "string")] text: Text) -> String {
        let text = text.0;
    marque::bearer::challenge_value(&text)
}

/// The token of an `Authorization` header value `Bearer <token>`, else `null`.
#[napi]
pub fn bearer_token(#[napi(ts_arg_type = "string")] authorization: Text) -> Option<String> {
        let authorization = authorization.0;
    marque::bearer::bearer_token(&authorization).map(String::from)
}

/// How an HTTP layer answers a marque code.
#[napi(object, object_from_js = false)]
pub struct HttpRefusal {
    /// HTTP status (400, 401, 403, 500, 503).
    pub status: u32,
    /// The challenge's RFC 6750 `error`, or `null`.
    #[napi(ts_type = "'invalid_request' | 'invalid_token' | 'insufficient_scope' | null")]
    pub error: Option<String>,
}

/// The HTTP status and RFC 6750 error for a marque code (`null`: no credentials were
/// presented): `expired` → 401 `invalid_token`, `not_authorized` → 403 `insufficient_scope`,
/// `invalid_request` → 400, `revocation_list_stale` → 503, …
#[napi]
pub fn http_refusal(#[napi(ts_arg_type = "string | undefined | null")] code: Option<Text>) -> HttpRefusal {
        let code = code.map(|t| t.0);
    let r = marque::bearer::refusal(code.as_deref());
    HttpRefusal { status: u32::from(r.status), error: r.error.map(|e| e.code().to_string()) }
}

/// The RFC 9728 §3.1 metadata URL of a protected resource
/// (`https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`).
#[napi]
pub fn resource_metadata_url(#[napi(ts_arg_type = "string")] resource: Text) -> Result<String> {
        let resource = resource.0;
    marque::bearer::resource_metadata_url(&resource).or_throw()
}

/// Options of `protectedResourceMetadata`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct ProtectedResourceOptions {
    /// The server URL (absolute http(s), no fragment).
    pub resource: String,
    /// Authorization servers, if any.
    pub authorization_servers: Option<Vec<String>>,
    /// Scopes the server understands, if listed.
    pub scopes_supported: Option<Vec<String>>,
    /// A human-readable name.
    pub resource_name: Option<String>,
    /// A documentation URL.
    pub resource_documentation: Option<String>,
    /// Trusted root keys to publish as JWKs (`marque_root_keys`).
    pub root_keys: Option<Vec<KeyInput>>,
}

/// RFC 9728 protected-resource metadata for a marque-guarded server (the core's document).
#[napi(ts_return_type = "ProtectedResourceMetadata")]
pub fn protected_resource_metadata(options: ProtectedResourceOptions) -> Result<serde_json::Value> {
    let doc = marque::bearer::ProtectedResource {
        resource: options.resource,
        authorization_servers: options.authorization_servers.unwrap_or_default(),
        scopes_supported: options.scopes_supported.unwrap_or_default(),
        resource_name: options.resource_name,
        resource_documentation: options.resource_documentation,
        root_keys: options.root_keys.unwrap_or_default().into_iter().map(KeyInput::resolve).collect::<Result<Vec<_>>>()?,
    };
    no_panic(|| doc.to_json().or_throw())
}

/// The default allow-list of `McpConfig`.
#[napi]
pub fn mcp_default_allow() -> Vec<String> {
    marque::mcp::DEFAULT_ALLOW.iter().map(|s| s.to_string()).collect()
}

/// JSON-RPC error code of a marque refusal (`-32010`).
#[napi]
pub const MCP_DENIED_ERROR_CODE: i32 = marque::mcp::DENIED_ERROR_CODE as i32;
