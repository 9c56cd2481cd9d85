//! The door of an HTTP or MCP server (the core's `admission`, `bearer` and `mcp` modules):
//! `verifier.admit`, `verifier.authorizeMcp`, `McpConfig`, and the Bearer helpers
//! (`wwwAuthenticate`, `challengeValue`, `bearerToken`, `httpRefusal`, `resourceMetadataUrl`,
//! `protectedResourceMetadata`). Conversion only: every rule is the core's. The edge guard
//! (`pkg/edge.js`) is built on these.

use std::rc::Rc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::convert::{instance, json_text, string, to_js, Options};
use crate::errors::{JsError, JsResult};
use crate::keys::public_key;
use crate::token::TokenArg;
use crate::verify::{decision_to_js, Verifier};

/// An admission as JavaScript sees it (camelCase, like `@marque/node`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AdmissionJs<'a> {
    agent: &'a str,
    path: &'a str,
    agent_key_fingerprint: &'a str,
    agent_key: &'a str,
    principal: &'a str,
    task: Option<&'a str>,
    workspace: Option<&'a str>,
    chain: &'a [String],
    issued_at: u64,
    expires_at: u64,
    root_key_id: Option<u32>,
    token_id: &'a str,
    revocation_ids: &'a [String],
    scopes: &'a [String],
    time: u64,
}

fn admission_to_js(a: &marque::Admission) -> JsResult<JsValue> {
    to_js(&AdmissionJs {
        agent: &a.agent,
        path: &a.path,
        agent_key_fingerprint: &a.agent_key_fingerprint,
        agent_key: &a.agent_key,
        principal: &a.principal,
        task: a.task.as_deref(),
        workspace: a.workspace.as_deref(),
        chain: &a.chain,
        issued_at: a.issued_at,
        expires_at: a.expires_at,
        root_key_id: a.root_key_id,
        token_id: &a.token_id,
        revocation_ids: &a.revocation_ids,
        scopes: &a.scopes,
        time: a.time,
    })
}

/// How an MCP server maps messages to marque requests: the allow-list and each tool's mapping.
/// `new McpConfig()` is the default (allow-list `mcpDefaultAllow()`, no tool mappings); `new
/// McpConfig({ allow, tools: { read_file: { operation: 'read', resource_arg: 'path' } } })` (an
/// object or JSON text, in the core's JSON form) the general one. Unknown keys, an allow-list
/// entry covering a method marque always authorizes, or a tool with both `resource_arg` and
/// `resource` throw `invalid_argument`.
#[wasm_bindgen]
pub struct McpConfig {
    inner: Rc<marque::McpConfig>,
}

/// The configuration of an argument: an `McpConfig`, or its JSON form (parsed now).
fn config_arg(v: &JsValue) -> JsResult<Rc<marque::McpConfig>> {
    if v.is_undefined() || v.is_null() {
        return Ok(Rc::new(marque::McpConfig::default()));
    }
    if let Some(c) = instance::<McpConfig>(v) {
        return Ok(c.inner);
    }
    Ok(Rc::new(marque::McpConfig::from_json(&json_text(v, "MCP configuration")?)?))
}

/// Owned fields of a `marque::McpCall`, read from `(message, options)`.
struct CallArgs {
    message: String,
    mcp_method: Option<String>,
    mcp_name: Option<String>,
    token: Option<String>,
    proof: Option<String>,
    approval: Option<String>,
    resource: Option<String>,
    now: u64,
}

impl CallArgs {
    fn new(message: &JsValue, options: &JsValue, what: &'static str) -> JsResult<Self> {
        let message = json_text(message, "MCP message")?;
        let mut o = Options::optional(options, what)?;
        let token = match o.get("token")? {
            None => None,
            Some(t) => Some(match TokenArg::from_js(&t, &format!("{what}.token"))? {
                TokenArg::Text(s) => s,
                TokenArg::Bytes(b) => marque::Token::from_bytes(&b)?.to_base64(),
                TokenArg::Parsed(t) => t.to_base64(),
            }),
        };
        let args = CallArgs {
            message,
            token,
            proof: o.opt_string("proof")?,
            approval: o.opt_string("approval")?,
            mcp_method: o.opt_string("mcpMethod")?,
            mcp_name: o.opt_string("mcpName")?,
            resource: o.opt_string("resource")?,
            now: o.now()?,
        };
        o.finish()?;
        Ok(args)
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

#[derive(Serialize)]
struct RequestJs<'a> {
    tool: &'a str,
    operation: &'a str,
    resource: &'a str,
    /// The request attributes the tool's mapping gives (`attribute_args`, `attributes`); absent
    /// when none, as in the core's JSON form.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    attributes: &'a std::collections::BTreeMap<String, String>,
}

fn request_js(r: Option<&marque::Request>) -> Option<RequestJs<'_>> {
    r.map(|r| RequestJs { tool: &r.tool, operation: &r.operation, resource: &r.resource, attributes: &r.attributes })
}

#[wasm_bindgen]
impl McpConfig {
    /// `new McpConfig(config?)`: an object or JSON text in the core's JSON form.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> JsResult<McpConfig> {
        Ok(McpConfig { inner: config_arg(&config)? })
    }

    /// Maps one MCP message (an object or JSON text) with `{token?, proof?, approval?,
    /// mcpMethod?, mcpName?, resource?}`: `{method, request, token, proof, approval?}` (`request` null when the message
    /// is admitted without a rights check). Throws `invalid_request` for a message marque refuses.
    pub fn map(&self, message: JsValue, options: JsValue) -> JsResult<JsValue> {
        let args = CallArgs::new(&message, &options, "map options")?;
        let m = self.inner.map(&args.call())?;
        #[derive(Serialize)]
        struct MappedJs<'a> {
            method: Option<&'a str>,
            request: Option<RequestJs<'a>>,
            token: Option<&'a str>,
            proof: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            approval: Option<&'a str>,
        }
        to_js(&MappedJs {
            method: m.method.as_deref(),
            request: request_js(m.request.as_ref()),
            token: m.token.as_deref(),
            proof: m.proof.as_deref(),
            approval: m.approval.as_deref(),
        })
    }

    /// The agent's side of `map`: the HTTP headers to send with `message` (an object or JSON
    /// text) as the holder of `token` whose signer is `agent` — `Authorization`,
    /// `Marque-Proof` (a fresh proof bound to the exact request a server with this
    /// configuration maps the message to; absent for an allow-listed method), `Mcp-Method` and
    /// `Mcp-Name`; `options`: `{now?}`. A message the server would refuse throws
    /// `invalid_request`. Not in the verifier-only build.
    #[cfg(feature = "full")]
    #[wasm_bindgen(js_name = clientHeaders)]
    pub fn client_headers(&self, message: JsValue, token: JsValue, agent: JsValue, options: JsValue) -> JsResult<JsValue> {
        let message = json_text(&message, "MCP message")?;
        let token = TokenArg::from_js(&token, "token")?.parse()?;
        let agent = crate::signer::signer(&agent, "agent")?;
        let mut o = Options::optional(&options, "clientHeaders options")?;
        let now = o.now()?;
        o.finish()?;
        let h = self.inner.client_headers(&message, &token, agent.get(), Some(now))?;
        to_js(&h.http().into_iter().collect::<std::collections::BTreeMap<_, _>>())
    }

    /// Whether `method` is admitted without a rights check.
    #[wasm_bindgen(js_name = isAllowed)]
    pub fn is_allowed(&self, method: JsValue) -> JsResult<bool> {
        Ok(self.inner.is_allowed(&string(&method, "method")?))
    }

    /// The allow-list.
    #[wasm_bindgen(getter)]
    pub fn allow(&self) -> Vec<String> {
        self.inner.allow.clone()
    }

    /// The server's canonical URI (the audience agents' proofs are bound to), or `null`.
    #[wasm_bindgen(getter)]
    pub fn resource(&self) -> Option<String> {
        self.inner.resource.as_ref().map(|a| a.as_str().to_string())
    }

    /// The JSON form.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> JsResult<JsValue> {
        js_sys::JSON::parse(&self.inner.to_json()).map_err(|_| JsError::new(marque::ErrorKind::Internal, "configuration JSON"))
    }

    /// Internal: a second handle on the same configuration (see `convert::instance`).
    #[wasm_bindgen(js_name = "__clone")]
    pub fn clone_handle(&self) -> McpConfig {
        McpConfig { inner: Rc::clone(&self.inner) }
    }
}

#[wasm_bindgen]
impl Verifier {
    /// Admits `token` at the door at `{now?}`: the revocation-list staleness rule, signatures,
    /// expiry, revocation and depth, failing closed with the matching `MarqueError`. Returns the
    /// holder's identity and effective (narrowed) rights as `scopes`.
    pub fn admit(&self, token: JsValue, options: JsValue) -> JsResult<JsValue> {
        let token = TokenArg::from_js(&token, "token")?;
        let mut o = Options::optional(&options, "admit options")?;
        let now = o.now()?;
        o.finish()?;
        let a = match token {
            TokenArg::Text(s) => self.inner.admit_base64(&s, Some(now))?,
            TokenArg::Bytes(b) => self.inner.admit(&b, Some(now))?,
            TokenArg::Parsed(t) => self.inner.admit(t.to_bytes(), Some(now))?,
        };
        admission_to_js(&a)
    }

    /// Admits the bearer text `token` like `admit` at `{now?}` and returns the OAuth `AuthInfo`
    /// the MCP SDKs' bearer auth records, built by the core (`clientId`, `scopes`, `expiresAt`,
    /// `resource` = this verifier's audience as text, `extra.marque`). `tokenVerifier` returns it.
    #[wasm_bindgen(js_name = authInfo)]
    pub fn auth_info(&self, token: JsValue, options: JsValue) -> JsResult<JsValue> {
        let token = string(&token, "token")?;
        let mut o = Options::optional(&options, "authInfo options")?;
        let now = o.now()?;
        o.finish()?;
        to_js(&self.inner.auth_info(&token, Some(now))?)
    }

    /// Maps one MCP message (an object or JSON text) with `config` (an `McpConfig`, or its JSON
    /// form) and decides it with `{token?, proof?, approval?, mcpMethod?, mcpName?, resource?, now?}`:
    /// `{allowed, method, request, decision, admission}`. A mapped message is authorized with
    /// its token and proof (the transport's, else `_meta`'s); an allow-listed one is admitted
    /// (its token, if any, through `admit`). Throws `invalid_request` for a message marque
    /// refuses, `not_authorized` for a mapped message without a token.
    #[wasm_bindgen(js_name = authorizeMcp)]
    pub fn authorize_mcp(&self, config: JsValue, message: JsValue, options: JsValue) -> JsResult<JsValue> {
        let config = config_arg(&config)?;
        let args = CallArgs::new(&message, &options, "authorizeMcp options")?;
        let o = self.inner.authorize_mcp(&config, &args.call(), Some(args.now))?;
        outcome_to_js(&o)
    }

    /// `authorizeMcp` up to the call's single-use state, for stores shared by several isolates
    /// (use `authorizeMcpWithStore`, which calls this): the outcome when the message is decided
    /// without one (admitted, denied, nothing to claim), else a `PendingAuthorization` whose
    /// `mcpMethod` / `mcpRequest` name the message.
    #[wasm_bindgen(js_name = authorizeMcpBegin)]
    pub fn authorize_mcp_begin(&self, config: JsValue, message: JsValue, options: JsValue) -> JsResult<JsValue> {
        let config = config_arg(&config)?;
        let args = CallArgs::new(&message, &options, "authorizeMcpBegin options")?;
        match self.inner.authorize_mcp_begin(&config, &args.call(), Some(args.now))? {
            marque::McpAuthorization::Decided(o) => outcome_to_js(&o),
            marque::McpAuthorization::Pending(p) => Ok(crate::verify::PendingAuthorization::for_mcp(p).into()),
        }
    }
}

/// An `McpOutcome` as JavaScript sees it: `{ allowed, method, request, decision, admission }`.
fn outcome_to_js(o: &marque::McpOutcome) -> JsResult<JsValue> {
    let out = js_sys::Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = js_sys::Reflect::set(&out, &JsValue::from_str(k), &v);
    };
    set("allowed", JsValue::from_bool(o.allowed));
    set("method", o.method.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL));
    set("request", to_js(&request_js(o.request.as_ref()))?);
    set("decision", match &o.decision {
        Some(d) => decision_to_js(d)?,
        None => JsValue::NULL,
    });
    set("admission", match &o.admission {
        Some(a) => admission_to_js(a)?,
        None => JsValue::NULL,
    });
    Ok(out.into())
}

/// The request an MCP message maps to, as `PendingAuthorization.mcpRequest` gives it.
pub(crate) fn mcp_request_to_js(r: &marque::Request) -> JsResult<JsValue> {
    to_js(&request_js(Some(r)))
}

/// A `WWW-Authenticate: Bearer …` header value from `{realm?, error?, errorDescription?, scope?,
/// resourceMetadata?}`. Every value passes the core's one quoting rule (`"` → `'`, `\` → `/`,
/// control characters → space, non-ASCII → `?`, cut at 256 characters).
#[wasm_bindgen(js_name = wwwAuthenticate)]
pub fn www_authenticate(options: JsValue) -> JsResult<String> {
    let mut o = Options::optional(&options, "wwwAuthenticate options")?;
    let realm = o.opt_string("realm")?;
    let error = match o.opt_string("error")? {
        None => None,
        Some(e) => Some(marque::bearer::BearerError::from_code(&e).ok_or_else(|| {
            JsError::argument("wwwAuthenticate options.error must be invalid_request, invalid_token or insufficient_scope")
        })?),
    };
    let error_description = o.opt_string("errorDescription")?;
    let scope = o.opt_strings("scope")?.unwrap_or_default();
    let resource_metadata = o.opt_string("resourceMetadata")?;
    o.finish()?;
    Ok(marque::bearer::Challenge { realm, error, error_description, scope, resource_metadata }.to_header())
}

/// The text of a challenge value after the core's quoting rule.
#[wasm_bindgen(js_name = challengeValue)]
pub fn challenge_value(text: JsValue) -> JsResult<String> {
    Ok(marque::bearer::challenge_value(&string(&text, "text")?))
}

/// The token of an `Authorization` header value `Bearer <token>`, else `null`.
#[wasm_bindgen(js_name = bearerToken)]
pub fn bearer_token(authorization: JsValue) -> JsResult<Option<String>> {
    Ok(marque::bearer::bearer_token(&string(&authorization, "authorization")?).map(String::from))
}

/// `{status, error}`: how an HTTP layer answers a marque code (`null`: no credentials were
/// presented) — `expired` → 401 `invalid_token`, `not_authorized` → 403 `insufficient_scope`,
/// `invalid_request` → 400, `revocation_list_stale` → 503, …
#[wasm_bindgen(js_name = httpRefusal)]
pub fn http_refusal(code: JsValue) -> JsResult<JsValue> {
    let code = if code.is_null() || code.is_undefined() { None } else { Some(string(&code, "code")?) };
    let r = marque::bearer::refusal(code.as_deref());
    #[derive(Serialize)]
    struct RefusalJs {
        status: u16,
        error: Option<&'static str>,
    }
    to_js(&RefusalJs { status: r.status, error: r.error.map(|e| e.code()) })
}

/// The RFC 9728 §3.1 metadata URL of a protected resource.
#[wasm_bindgen(js_name = resourceMetadataUrl)]
pub fn resource_metadata_url(resource: JsValue) -> JsResult<String> {
    Ok(marque::bearer::resource_metadata_url(&string(&resource, "resource")?)?)
}

/// RFC 9728 protected-resource metadata for a marque-guarded server, from `{resource,
/// authorizationServers?, scopesSupported?, resourceName?, resourceDocumentation?, rootKeys?}`.
#[wasm_bindgen(js_name = protectedResourceMetadata)]
pub fn protected_resource_metadata(options: JsValue) -> JsResult<JsValue> {
    let mut o = Options::new(&options, "protectedResourceMetadata options")?;
    let mut doc = marque::bearer::ProtectedResource::new(o.string("resource")?);
    doc.authorization_servers = o.opt_strings("authorizationServers")?.unwrap_or_default();
    doc.scopes_supported = o.opt_strings("scopesSupported")?.unwrap_or_default();
    doc.resource_name = o.opt_string("resourceName")?;
    doc.resource_documentation = o.opt_string("resourceDocumentation")?;
    if let Some(keys) = o.get("rootKeys")? {
        for (i, k) in crate::convert::array(&keys, "rootKeys")?.iter().enumerate() {
            doc.root_keys.push(public_key(k, &format!("rootKeys[{i}]"))?);
        }
    }
    o.finish()?;
    js_sys::JSON::parse(&doc.to_json()?.to_string()).map_err(|_| JsError::new(marque::ErrorKind::Internal, "metadata JSON"))
}

/// The default allow-list of `McpConfig`.
#[wasm_bindgen(js_name = mcpDefaultAllow)]
pub fn mcp_default_allow() -> Vec<String> {
    marque::mcp::DEFAULT_ALLOW.iter().map(|s| s.to_string()).collect()
}
