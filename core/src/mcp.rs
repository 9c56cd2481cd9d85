//! MCP: every JSON-RPC message a Model Context Protocol server receives, mapped to one marque
//! request — or explicitly allowed, or refused. Nothing falls through.
//!
//! [`McpConfig::map`] reads one message (plus the Streamable HTTP `Mcp-Method` / `Mcp-Name`
//! headers, which must agree with the body) and decides what it is:
//!
//! | method | marque request (tool, operation, resource) |
//! |---|---|
//! | `tools/call` | the tool name (or its configured alias), its configured operation (default `*`), the resource from the argument the tool declares ([`ToolConfig`]); request attributes from the arguments it declares (`attribute_args`, e.g. `resource.env`) and its fixed ones, for operator policies (Datalog `attribute(k, v)`, Rego `input.resource.env`) |
//! | `resources/read`, `resources/subscribe`, `resources/unsubscribe` | the method, `read` / `subscribe` / `unsubscribe`, `params.uri` |
//! | `subscriptions/listen` (2026-07-28) | with one `params.notifications.resourceSubscriptions` URI: `resources/subscribe`, `subscribe`, that URI; with none: admitted without a rights check (list-changed notifications only); with more: refused (one request per message) |
//! | `prompts/get` | `prompts/get`, `get`, `params.name` |
//! | `completion/complete` | `completion/complete`, `prompt` or `resource`, the `params.ref` name or URI |
//! | an allow-listed method (default [`DEFAULT_ALLOW`]) | none: admitted without a rights check |
//! | a JSON-RPC response (a client's answer to a server request) | none: admitted like an allow-listed method |
//! | anything else | refused (`invalid_request`) |
//!
//! Refused before any policy runs (`invalid_request`): a message that is not one JSON-RPC 2.0
//! object (a batch, a duplicate key, more than [`MAX_MESSAGE_BYTES`]), a request without an `id`
//! (only `notifications/…` may omit it) or with a non-string, non-integer one, non-object
//! `params` or `_meta`, a `tools/call` without `params.name` or with non-object `arguments`, an
//! undeclared tool whose arguments hold more than one of `resource`, `path`, `file`, `uri`,
//! `url` (marque does not guess which one names the resource), a declared resource argument that
//! is missing or not a string, a declared attribute argument that is missing, not a string or not
//! printable text of at most 256 bytes, an `Mcp-Method` / `Mcp-Name` header that disagrees with the body,
//! and two different tokens or proofs (transport and `_meta`). Credentials come from the
//! transport (the bearer token, the `Marque-Proof` header) or from `_meta["marque/token"]` /
//! `_meta["marque/proof"]`; other `_meta` entries (trace context, protocol version) are ignored.
//! [`Verifier::authorize_mcp`] then admits the token of an allowed message
//! ([`Verifier::admit`]) or authorizes the mapped request with its proof
//! ([`Verifier::authorize`]). The Node, Python and edge layers only carry messages here.
//!
//! ```
//! use marque::mcp::{McpCall, McpConfig};
//! let config = McpConfig::from_json(r#"{"tools": {"read_file": {"operation": "read", "resource_arg": "path"}}}"#)?;
//! let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"src/a.rs"}}}"#;
//! let mapped = config.map(&McpCall::new(call).mcp_method("tools/call").mcp_name("read_file"))?;
//! let request = mapped.request.expect("a tool call is authorized");
//! assert_eq!((request.tool.as_str(), request.operation.as_str(), request.resource.as_str()), ("read_file", "read", "src/a.rs"));
//! // Allow-listed: admitted without a rights check.
//! assert!(config.map(&McpCall::new(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#))?.request.is_none());
//! // Refused: a tool call without an id, an unknown method, a header that disagrees.
//! let no_id = r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"read_file","arguments":{"path":"x"}}}"#;
//! assert_eq!(config.map(&McpCall::new(no_id)).unwrap_err().code(), "invalid_request");
//! assert_eq!(config.map(&McpCall::new(r#"{"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{"level":"debug"}}"#)).unwrap_err().code(), "invalid_request");
//! assert_eq!(config.map(&McpCall::new(call).mcp_name("write_file")).unwrap_err().code(), "invalid_request");
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::audience::Audience;
use crate::bearer::{APPROVAL_META_KEY, PROOF_META_KEY, TOKEN_META_KEY};
use crate::error::{sanitize, Error, ErrorKind, Result};
use crate::identity::validate_name;
use crate::policy::{Request, ANY};

/// The largest MCP message [`McpConfig::map`] reads.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// JSON-RPC error code for a marque refusal, in the implementation-defined band.
pub const DENIED_ERROR_CODE: i64 = -32010;
/// The methods admitted without a rights check unless configured otherwise: the handshake
/// (`initialize`, or `server/discover` since 2026-07-28), liveness, notifications and the
/// catalogues (which list what exists, not its content).
pub const DEFAULT_ALLOW: &[&str] = &[
    "initialize",
    "server/discover",
    "ping",
    "notifications/*",
    "tools/list",
    "resources/list",
    "resources/templates/list",
    "prompts/list",
];
/// The methods marque always maps to a request; no allow-list entry may cover them.
pub const MAPPED_METHODS: &[&str] = &[
    "tools/call",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "subscriptions/listen",
    "prompts/get",
    "completion/complete",
];
/// The argument names a tool without a declared resource may name its resource with; more
/// than one present is refused.
pub const RESOURCE_ARGUMENTS: &[&str] = &["resource", "path", "file", "uri", "url"];
/// Most allow-list entries and tools a configuration holds.
pub const MAX_CONFIG_ENTRIES: usize = 1024;

fn default_allow() -> Vec<String> {
    DEFAULT_ALLOW.iter().map(|s| s.to_string()).collect()
}

/// How one MCP tool's calls map onto a marque request. JSON form: these field names, all
/// optional; unknown fields are refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolConfig {
    /// The marque tool name (default: the MCP tool name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The operation (default `*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The argument holding the resource (a string argument; missing or not a string is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_arg: Option<String>,
    /// A fixed resource for every call of this tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Request attributes taken from the call's arguments, by attribute name: the argument
    /// holding each value (`{"resource.env": "env"}`; a string argument, at most 256 bytes of
    /// printable text — missing or anything else is refused, `invalid_request`). Policies read
    /// them as `attribute(key, value)` facts, a Rego policy as `input.resource.env`; an approval's
    /// digest covers them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attribute_args: BTreeMap<String, String>,
    /// Fixed request attributes for every call of this tool (`{"resource.type": "pull_request"}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// Most request attributes one tool's configuration declares (`attribute_args` and `attributes`
/// together).
pub const MAX_TOOL_ATTRIBUTES: usize = 16;

/// What a server lets through: the allow-list and the tools' mappings, and which server it is.
/// JSON form `{"allow": [...], "tools": {"name": ToolConfig}, "resource": "https://…"}`, all
/// optional; unknown fields are refused.
/// An allow-list entry is a method name or a prefix pattern ending in `/*`
/// (`notifications/*`); `*` alone, and any entry covering one of [`MAPPED_METHODS`], is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpConfig {
    /// Methods admitted without a rights check (default [`DEFAULT_ALLOW`]).
    #[serde(default = "default_allow")]
    pub allow: Vec<String>,
    /// Per-tool mappings, by MCP tool name.
    #[serde(default)]
    pub tools: BTreeMap<String, ToolConfig>,
    /// The server's canonical URI (RFC 8707 / RFC 9728 `resource`; canonicalized when read, see
    /// [`Audience`]). An agent's [`client_headers`](McpConfig::client_headers) bind their proofs
    /// to it; on the server, [`Verifier::authorize_mcp`](crate::Verifier::authorize_mcp)
    /// refuses to run unless the verifier's audience is this same URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Audience>,
}

impl Default for McpConfig {
    fn default() -> Self {
        McpConfig { allow: default_allow(), tools: BTreeMap::new(), resource: None }
    }
}

/// One message to map: the JSON-RPC text and what the transport carried beside it.
#[derive(Clone, Copy, Debug, Default)]
pub struct McpCall<'a> {
    /// The JSON-RPC message, as received.
    pub message: &'a str,
    /// The `Mcp-Method` header, if sent.
    pub mcp_method: Option<&'a str>,
    /// The `Mcp-Name` header, if sent (the `=?base64?…?=` form is decoded).
    pub mcp_name: Option<&'a str>,
    /// The transport's token (the bearer token), if any.
    pub token: Option<&'a str>,
    /// The transport's proof (the `Marque-Proof` header), if any.
    pub proof: Option<&'a str>,
    /// The transport's human approval of the call (the `Marque-Approval` header), if any.
    pub approval: Option<&'a str>,
    /// For a `tools/call` of a tool whose configuration declares no resource: the resource the
    /// application computed for this call (its own mapping); refused for other methods.
    pub resource: Option<&'a str>,
}

impl<'a> McpCall<'a> {
    /// A message with nothing beside it.
    pub fn new(message: &'a str) -> Self {
        McpCall { message, ..McpCall::default() }
    }
    /// Sets the `Mcp-Method` header.
    pub fn mcp_method(mut self, v: &'a str) -> Self {
        self.mcp_method = Some(v);
        self
    }
    /// Sets the `Mcp-Name` header.
    pub fn mcp_name(mut self, v: &'a str) -> Self {
        self.mcp_name = Some(v);
        self
    }
    /// Sets the transport's token.
    pub fn token(mut self, v: &'a str) -> Self {
        self.token = Some(v);
        self
    }
    /// Sets the transport's proof.
    pub fn proof(mut self, v: &'a str) -> Self {
        self.proof = Some(v);
        self
    }
    /// Sets the transport's approval.
    pub fn approval(mut self, v: &'a str) -> Self {
        self.approval = Some(v);
        self
    }
    /// Sets the application's resource for a `tools/call`.
    pub fn resource(mut self, v: &'a str) -> Self {
        self.resource = Some(v);
        self
    }
}

/// What a message is, for marque.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapped {
    /// The JSON-RPC method (None: a response to a server request).
    pub method: Option<String>,
    /// The marque request to authorize; None when the message is admitted without a rights
    /// check (allow-listed, or a response).
    pub request: Option<Request>,
    /// The token: the transport's, else `_meta["marque/token"]`.
    pub token: Option<String>,
    /// The proof: the transport's, else `_meta["marque/proof"]`.
    pub proof: Option<String>,
    /// A human approval of the call ([`crate::approval`]): the transport's, else
    /// `_meta["marque/approval"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
}

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidRequest, sanitize(&message.into()))
}

impl McpConfig {
    /// Parses and checks a configuration (`invalid_argument` on malformed JSON, an unknown
    /// field, an invalid name, an allow-list entry covering a mapped method, or a tool that
    /// declares both `resource_arg` and `resource`).
    pub fn from_json(json: &str) -> Result<McpConfig> {
        let not = |e: serde_json::Error| Error::invalid_argument(format!("not an MCP configuration: {}", sanitize(&e.to_string())));
        let value: Value = serde_json::from_str(json).map_err(not)?;
        // serde would also read a struct from an array: only objects are configurations.
        let tools_are_objects = value.get("tools").and_then(Value::as_object).is_none_or(|t| t.values().all(Value::is_object));
        if !value.is_object() || !tools_are_objects {
            return Err(Error::invalid_argument("an MCP configuration is a JSON object, and so is each tool's"));
        }
        let config: McpConfig = serde_json::from_value(value).map_err(not)?;
        config.validate()?;
        Ok(config)
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Checks the configuration (what [`from_json`](Self::from_json) checks).
    pub fn validate(&self) -> Result<()> {
        if self.allow.len() > MAX_CONFIG_ENTRIES || self.tools.len() > MAX_CONFIG_ENTRIES {
            return Err(Error::invalid_argument(format!("at most {MAX_CONFIG_ENTRIES} allow-list entries and tools")));
        }
        for entry in &self.allow {
            validate_name("allow-list entry", entry)?;
            if entry == ANY || entry.contains(' ') || (entry.contains('*') && !entry.ends_with("/*")) || entry.matches('*').count() > 1 {
                return Err(Error::invalid_argument(format!(
                    "allow-list entry {entry:?} must be a method name or a prefix ending in \"/*\" (allowing every method would disable authorization)"
                )));
            }
            if let Some(m) = MAPPED_METHODS.iter().find(|m| covers(entry, m)) {
                return Err(Error::invalid_argument(format!(
                    "allow-list entry {entry:?} covers {m}, which marque always authorizes"
                )));
            }
        }
        for (name, t) in &self.tools {
            validate_name("tool name", name)?;
            if let Some(v) = &t.tool {
                validate_name("tool", v)?;
            }
            if let Some(v) = &t.operation {
                validate_name("operation", v)?;
            }
            if let Some(v) = &t.resource_arg {
                validate_name("resource_arg", v)?;
            }
            if t.resource_arg.is_some() && t.resource.is_some() {
                return Err(Error::invalid_argument(format!(
                    "tool {name:?} declares both resource_arg and resource; declare one"
                )));
            }
            t.validate_attributes(name)?;
        }
        Ok(())
    }

    /// Whether `method` is admitted without a rights check.
    pub fn is_allowed(&self, method: &str) -> bool {
        self.allow.iter().any(|entry| covers(entry, method))
    }

    /// Maps one message (see the [module](crate::mcp) docs): `Ok` with the request to authorize
    /// (or none, for an allowed message), or `invalid_request`.
    pub fn map(&self, call: &McpCall<'_>) -> Result<Mapped> {
        if call.message.len() > MAX_MESSAGE_BYTES {
            return Err(bad(format!("the MCP message is {} bytes; at most {MAX_MESSAGE_BYTES} are read", call.message.len())));
        }
        let Strict(value) = serde_json::from_str(call.message).map_err(|e| bad(format!("the MCP message is not valid JSON: {e}")))?;
        let msg = match value {
            Value::Object(m) => m,
            Value::Array(_) => return Err(bad("JSON-RPC batches are not accepted")),
            _ => return Err(bad("the MCP message is not a JSON-RPC object")),
        };
        if msg.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err(bad("the MCP message is not JSON-RPC 2.0 (\"jsonrpc\": \"2.0\")"));
        }
        let id = msg.get("id");
        if let Some(id) = id {
            if !(id.is_string() || id.is_i64() || id.is_u64()) {
                return Err(bad("a JSON-RPC id is a string or an integer"));
            }
        }
        let Some(method) = msg.get("method") else { return response(&msg, call) };
        let method = method.as_str().ok_or_else(|| bad("the JSON-RPC method is not a string"))?;
        validate_name("method", method).map_err(|e| bad(e.message().to_string()))?;
        let empty = Map::new();
        let params = match msg.get("params") {
            None => &empty,
            Some(Value::Object(p)) => p,
            Some(_) => return Err(bad(format!("{method}: params must be an object"))),
        };
        let (token, proof, approval) = credentials(params, call)?;
        if let Some(h) = call.mcp_method {
            if h != method {
                return Err(bad(format!("the Mcp-Method header ({h:?}) does not match the JSON-RPC method ({method:?})")));
            }
        }
        let target = match method {
            "tools/call" | "prompts/get" => Some(("name", params.get("name"))),
            "resources/read" | "resources/subscribe" | "resources/unsubscribe" => Some(("uri", params.get("uri"))),
            _ => None,
        };
        if let Some(h) = call.mcp_name {
            let header = decode_header(h)?;
            match target {
                Some((_, Some(Value::String(v)))) if *v == header => {}
                Some((field, _)) => {
                    return Err(bad(format!("the Mcp-Name header does not match params.{field} of {method}")))
                }
                None => return Err(bad(format!("{method} carries no name, but an Mcp-Name header was sent"))),
            }
        }
        if id.is_none() && !method.starts_with("notifications/") {
            return Err(bad(format!("{method} without an id: only notifications/… may omit it")));
        }
        if call.resource.is_some() && method != "tools/call" {
            return Err(Error::invalid_argument(format!("an application resource applies to tools/call only, not {method}")));
        }
        let string = |field: &str| -> Result<&str> {
            match params.get(field) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s),
                _ => Err(bad(format!("{method} without a params.{field} string"))),
            }
        };
        let request = match method {
            "tools/call" => Some(self.tool_call(string("name")?, params.get("arguments"), call.resource)?),
            "resources/read" => Some(Request::new(method, "read", string("uri")?)),
            "resources/subscribe" => Some(Request::new(method, "subscribe", string("uri")?)),
            "resources/unsubscribe" => Some(Request::new(method, "unsubscribe", string("uri")?)),
            "prompts/get" => {
                object_or_absent(params.get("arguments"), "prompts/get arguments")?;
                Some(Request::new(method, "get", string("name")?))
            }
            "completion/complete" => Some(completion(params.get("ref"))?),
            "subscriptions/listen" => listen(params.get("notifications"))?,
            m if self.is_allowed(m) => None,
            m => return Err(bad(format!("{m} is neither authorized by marque nor allow-listed"))),
        };
        if let Some(r) = &request {
            validate_name("tool", &r.tool).map_err(|e| bad(e.message().to_string()))?;
        }
        Ok(Mapped { method: Some(method.to_string()), request, token, proof, approval })
    }

    fn tool_call(&self, name: &str, arguments: Option<&Value>, app: Option<&str>) -> Result<Request> {
        let args = object_or_absent(arguments, "tools/call arguments")?;
        let cfg = self.tools.get(name);
        let tool = cfg.and_then(|c| c.tool.as_deref()).unwrap_or(name);
        let operation = cfg.and_then(|c| c.operation.as_deref()).unwrap_or(ANY);
        let declared_arg = cfg.and_then(|c| c.resource_arg.as_deref());
        let declared_fixed = cfg.and_then(|c| c.resource.as_deref());
        let resource: String = match (app, declared_arg, declared_fixed) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(Error::invalid_argument(format!(
                    "tool {name:?}: the configuration declares its resource; the application may not give another"
                )))
            }
            (Some(r), None, None) => r.to_string(),
            (None, Some(arg), _) => match args.and_then(|a| a.get(arg)) {
                Some(Value::String(s)) => s.clone(),
                _ => return Err(bad(format!("tool {name:?} takes its resource from argument {arg:?}, which is missing or not a string"))),
            },
            (None, None, Some(fixed)) => fixed.to_string(),
            (None, None, None) => {
                let present: Vec<&str> =
                    RESOURCE_ARGUMENTS.iter().copied().filter(|k| args.is_some_and(|a| a.contains_key(*k))).collect();
                match present.as_slice() {
                    [] => ANY.to_string(),
                    [one] => match args.and_then(|a| a.get(*one)) {
                        Some(Value::String(s)) => s.clone(),
                        _ => return Err(bad(format!("tool {name:?}: argument {one:?} names the resource but is not a string"))),
                    },
                    many => {
                        return Err(bad(format!(
                            "tool {name:?}: arguments {} could each name the resource; declare which one (resource_arg)",
                            many.join(", ")
                        )))
                    }
                }
            }
        };
        let mut request = Request::new(tool, operation, resource);
        if let Some(cfg) = cfg {
            request.attributes = cfg.call_attributes(name, args)?;
        }
        Ok(request)
    }
}

impl ToolConfig {
    /// The declared attributes: valid names and values, no name declared twice, at most
    /// [`MAX_TOOL_ATTRIBUTES`].
    fn validate_attributes(&self, tool: &str) -> Result<()> {
        if self.attribute_args.len() + self.attributes.len() > MAX_TOOL_ATTRIBUTES {
            return Err(Error::invalid_argument(format!("tool {tool:?} declares more than {MAX_TOOL_ATTRIBUTES} attributes")));
        }
        for (key, v) in self.attribute_args.iter().chain(&self.attributes) {
            validate_name("attribute name", key)?;
            validate_name("attribute value", v)?;
        }
        if let Some(key) = self.attribute_args.keys().find(|k| self.attributes.contains_key(*k)) {
            return Err(Error::invalid_argument(format!(
                "tool {tool:?} declares attribute {key:?} both from an argument and fixed; declare one"
            )));
        }
        Ok(())
    }

    /// The request attributes of one call: the fixed ones, and each declared argument's value
    /// (a string a name could be: refused otherwise, never left out).
    fn call_attributes(&self, tool: &str, args: Option<&Map<String, Value>>) -> Result<BTreeMap<String, String>> {
        let mut out = self.attributes.clone();
        for (key, arg) in &self.attribute_args {
            let value = match args.and_then(|a| a.get(arg)) {
                Some(Value::String(s)) => s,
                _ => return Err(bad(format!("tool {tool:?} takes attribute {key:?} from argument {arg:?}, which is missing or not a string"))),
            };
            validate_name("attribute value", value)
                .map_err(|e| bad(format!("tool {tool:?}: argument {arg:?} (attribute {key:?}): {}", e.message())))?;
            out.insert(key.clone(), value.clone());
        }
        Ok(out)
    }
}

/// A JSON-RPC response (no method): admitted like an allow-listed message.
fn response(msg: &Map<String, Value>, call: &McpCall<'_>) -> Result<Mapped> {
    if msg.get("id").is_none() || (msg.contains_key("result") == msg.contains_key("error")) {
        return Err(bad("the MCP message has no method and is not a JSON-RPC response"));
    }
    if call.mcp_method.is_some() || call.mcp_name.is_some() || call.resource.is_some() {
        return Err(bad("a JSON-RPC response carries no method or name"));
    }
    Ok(Mapped {
        method: None,
        request: None,
        token: call.token.map(String::from),
        proof: call.proof.map(String::from),
        approval: call.approval.map(String::from),
    })
}

/// `subscriptions/listen`: one resource subscription is a `resources/subscribe` request, none
/// needs no right, several are refused (one marque request per message).
fn listen(filter: Option<&Value>) -> Result<Option<Request>> {
    let filter = object_or_absent(filter, "subscriptions/listen notifications")?;
    match filter.and_then(|f| f.get("resourceSubscriptions")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(uris)) => match uris.as_slice() {
            [] => Ok(None),
            [Value::String(uri)] if !uri.is_empty() => Ok(Some(Request::new("resources/subscribe", "subscribe", uri.as_str()))),
            [_] => Err(bad("subscriptions/listen: a resource subscription is not a URI string")),
            _ => Err(bad("subscriptions/listen: one resource subscription per stream (marque authorizes one request per message)")),
        },
        Some(_) => Err(bad("subscriptions/listen: resourceSubscriptions must be a list of URIs")),
    }
}

fn completion(reference: Option<&Value>) -> Result<Request> {
    let r = reference.and_then(Value::as_object).ok_or_else(|| bad("completion/complete without a params.ref object"))?;
    let field = |k: &str| match r.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.as_str()),
        _ => Err(bad(format!("completion/complete: params.ref.{k} is missing or not a string"))),
    };
    match r.get("type").and_then(Value::as_str) {
        Some("ref/prompt") => Ok(Request::new("completion/complete", "prompt", field("name")?)),
        Some("ref/resource") => Ok(Request::new("completion/complete", "resource", field("uri")?)),
        _ => Err(bad("completion/complete: params.ref.type is neither ref/prompt nor ref/resource")),
    }
}

fn object_or_absent<'v>(v: Option<&'v Value>, what: &str) -> Result<Option<&'v Map<String, Value>>> {
    match v {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(bad(format!("{what} must be an object"))),
    }
}

/// The token, proof and approval: the transport's, else `_meta`'s; two different ones are refused.
type Credentials = (Option<String>, Option<String>, Option<String>);

fn credentials(params: &Map<String, Value>, call: &McpCall<'_>) -> Result<Credentials> {
    let meta = match params.get("_meta") {
        None => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return Err(bad("params._meta must be an object")),
    };
    let pick = |key: &str, transport: Option<&str>, what: &str| -> Result<Option<String>> {
        let inner = match meta.and_then(|m| m.get(key)) {
            None => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return Err(bad(format!("_meta[{key:?}] must be a string"))),
        };
        match (transport, inner) {
            (Some(a), Some(b)) if a != b => Err(bad(format!("two different {what}s: one from the transport and one in _meta[{key:?}]"))),
            (a, b) => Ok(a.or(b).map(String::from)),
        }
    };
    Ok((
        pick(TOKEN_META_KEY, call.token, "token")?,
        pick(PROOF_META_KEY, call.proof, "proof")?,
        pick(APPROVAL_META_KEY, call.approval, "approval")?,
    ))
}

/// An MCP header value: plain, or `=?base64?<standard base64 of UTF-8>?=`.
fn decode_header(value: &str) -> Result<String> {
    let Some(b64) = value.strip_prefix("=?base64?").and_then(|v| v.strip_suffix("?=")) else {
        return Ok(value.to_string());
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| bad("the Mcp-Name header is not valid base64"))?;
    String::from_utf8(bytes).map_err(|_| bad("the Mcp-Name header is not valid UTF-8"))
}

/// Whether an allow-list entry covers `method`: equal, or a `prefix/*` pattern.
fn covers(entry: &str, method: &str) -> bool {
    match entry.strip_suffix('*') {
        Some(prefix) if prefix.ends_with('/') => method.starts_with(prefix),
        _ => entry == method,
    }
}

/// A JSON value parsed with duplicate object keys refused (parsers disagree on which one wins,
/// so a gateway and the server behind it could read two different messages).
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> core::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> core::result::Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> core::result::Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> core::result::Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> core::result::Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> core::result::Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> core::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> core::result::Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key {:?}", sanitize(&key))));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// What an agent sends beside one outgoing MCP message ([`McpConfig::client_headers`]): HTTP
/// header values, `None` for a header not to send.
#[cfg(feature = "biscuit")]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientHeaders {
    /// `Authorization`: `Bearer <token>`.
    pub authorization: String,
    /// `Marque-Proof`: a fresh proof bound to the token and the exact request the server maps
    /// the message to; `None` for a message the server admits without a rights check.
    pub proof: Option<String>,
    /// `Mcp-Method` (2026-07-28 Streamable HTTP); `None` for a JSON-RPC response.
    pub mcp_method: Option<String>,
    /// `Mcp-Name`: the tool or prompt name, or the resource URI (`=?base64?…?=` unless it is
    /// printable ASCII); `None` for a method that names nothing.
    pub mcp_name: Option<String>,
}

#[cfg(feature = "biscuit")]
impl ClientHeaders {
    /// The headers to send, by their HTTP names (`Authorization`, then `Marque-Proof`,
    /// `Mcp-Method`, `Mcp-Name` where present): what every binding hands its HTTP client.
    pub fn http(&self) -> Vec<(&'static str, &str)> {
        let optional = [("Marque-Proof", &self.proof), ("Mcp-Method", &self.mcp_method), ("Mcp-Name", &self.mcp_name)];
        let mut out = alloc::vec![("Authorization", self.authorization.as_str())];
        out.extend(optional.into_iter().filter_map(|(name, v)| v.as_deref().map(|v| (name, v))));
        out
    }
}

#[cfg(feature = "biscuit")]
impl McpConfig {
    /// The agent's side of [`map`](McpConfig::map): the headers an agent holding `token` (and
    /// `agent`, its key) sends with `message`, so that a server with the same configuration
    /// maps it to the same request and finds the proof it needs. The message goes through the
    /// server's own mapping first, so one the server would refuse is refused here
    /// (`invalid_request`) before it leaves; proofs are signed at `now` (default: the clock),
    /// bound to the configuration's [`resource`](McpConfig::resource) (the server the agent
    /// talks to) when it names one.
    ///
    /// ```
    /// use marque::{mcp::{McpCall, McpConfig}, KeyPair, MintParams, Right, Token, Verifier};
    /// let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
    /// let now = 1_767_225_600;
    /// let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:u")
    ///     .right(Right::new("read_file", "read", "src/")).now(now))?;
    /// let config = McpConfig::from_json(r#"{"tools":{"read_file":{"operation":"read","resource_arg":"path"}}}"#)?;
    /// let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"src/a.rs"}}}"#;
    /// let h = config.client_headers(call, &token, &agent, Some(now))?;
    /// assert_eq!((h.mcp_method.as_deref(), h.mcp_name.as_deref()), (Some("tools/call"), Some("read_file")));
    ///
    /// // The server, with proofs required, reads the same headers and allows the call.
    /// let verifier = Verifier::new([root.public_key()]).with_require_proof(true);
    /// let bearer = h.authorization.strip_prefix("Bearer ").unwrap();
    /// let mut server_call = McpCall::new(call).token(bearer).mcp_method("tools/call").mcp_name("read_file");
    /// server_call = server_call.proof(h.proof.as_deref().unwrap());
    /// assert!(verifier.authorize_mcp(&config, &server_call, Some(now))?.allowed);
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn client_headers<S: crate::Signer + ?Sized>(
        &self,
        message: &str,
        token: &crate::Token,
        agent: &S,
        now: Option<u64>,
    ) -> Result<ClientHeaders> {
        let now = crate::clock::check_opt("now", now)?;
        let mapped = self.map(&McpCall::new(message))?;
        let proof = match &mapped.request {
            Some(request) => Some(token.sign_proof_for(agent, request, self.resource.as_ref(), now)?),
            None => None,
        };
        let mcp_name = match mapped.method.as_deref() {
            Some(method @ ("tools/call" | "prompts/get" | "resources/read" | "resources/subscribe" | "resources/unsubscribe")) => {
                let field = if method.starts_with("resources/") { "uri" } else { "name" };
                let Strict(value) = serde_json::from_str(message).map_err(|e| bad(format!("the MCP message is not valid JSON: {e}")))?;
                value.get("params").and_then(|p| p.get(field)).and_then(Value::as_str).map(encode_header)
            }
            _ => None,
        };
        Ok(ClientHeaders { authorization: format!("Bearer {}", token.to_base64()), proof, mcp_method: mapped.method, mcp_name })
    }
}

/// An MCP header value as the transport sends it: plain when printable ASCII, else
/// `=?base64?<standard base64 of UTF-8>?=` (what [`decode_header`] reads).
#[cfg(feature = "biscuit")]
fn encode_header(value: &str) -> String {
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) && !value.starts_with("=?") {
        value.to_string()
    } else {
        format!("=?base64?{}?=", base64::engine::general_purpose::STANDARD.encode(value))
    }
}

/// What [`Verifier::authorize_mcp`] decided for one message.
#[cfg(feature = "biscuit")]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpOutcome {
    /// Whether the message may reach the server.
    pub allowed: bool,
    /// The JSON-RPC method (None: a response).
    pub method: Option<String>,
    /// The marque request decided (None: admitted without a rights check).
    pub request: Option<crate::policy::Request>,
    /// The decision on `request` (allowed or denied).
    pub decision: Option<crate::verify::Decision>,
    /// For a message admitted without a rights check that carried a token: its admission.
    pub admission: Option<crate::admission::Admission>,
}

#[cfg(feature = "biscuit")]
impl crate::verify::Verifier {
    /// Maps one MCP message with `config` ([`McpConfig::map`]) and decides it at `now`
    /// (default: the clock): a mapped request is authorized with the message's token and proof
    /// (no token: `not_authorized`); an allowed message is admitted without a rights check —
    /// its token, when one is presented, must pass [`admit`](crate::Verifier::admit) (an HTTP
    /// layer that requires a token checks its presence itself). Malformed: `invalid_request`.
    ///
    /// ```
    /// use marque::{mcp::{McpCall, McpConfig}, KeyPair, MintParams, Right, Token, Verifier};
    /// let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
    /// let now = 1_767_225_600;
    /// let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:u")
    ///     .right(Right::new("read_file", "read", "src/")).now(now))?.to_base64();
    /// let verifier = Verifier::new([root.public_key()]);
    /// let config = McpConfig::from_json(r#"{"tools":{"read_file":{"operation":"read","resource_arg":"path"}}}"#)?;
    /// let call = |path: &str| format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"read_file","arguments":{{"path":"{path}"}}}}}}"#);
    /// assert!(verifier.authorize_mcp(&config, &McpCall::new(&call("src/a.rs")).token(&token), Some(now))?.allowed);
    /// assert!(!verifier.authorize_mcp(&config, &McpCall::new(&call(".env")).token(&token), Some(now))?.allowed);
    /// // A resource read needs its own right: a bearer token alone is not enough.
    /// let read = r#"{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///etc/passwd"}}"#;
    /// let outcome = verifier.authorize_mcp(&config, &McpCall::new(read).token(&token), Some(now))?;
    /// assert_eq!(outcome.decision.and_then(|d| d.code).as_deref(), Some("not_authorized"));
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn authorize_mcp(&self, config: &McpConfig, call: &McpCall<'_>, now: Option<u64>) -> Result<McpOutcome> {
        match self.mcp_stage(config, call, now, true)? {
            McpAuthorization::Decided(outcome) => Ok(outcome),
            // The synchronous stage claims in the verifier's own stores: never pending.
            McpAuthorization::Pending(_) => Err(Error::internal("the synchronous MCP path left a call pending")),
        }
    }

    /// [`authorize_mcp`](Self::authorize_mcp) for a host whose stores answer asynchronously
    /// (shared by a fleet): the message is mapped and decided up to its single-use state, which
    /// the host claims and spends in its stores ([`McpPending::pending`], see
    /// [`crate::pending`]); [`McpOutcome::of_call`] makes the message's outcome of the decision it
    /// reaches. An allowed message,
    /// a denied call or a refusal is [`McpAuthorization::Decided`].
    ///
    /// ```
    /// use marque::{mcp::{McpAuthorization, McpCall, McpConfig}, replay::Claim, KeyPair, MintParams, Request, Right, Token, Verifier};
    /// let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
    /// let now = 1_767_225_600;
    /// let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:u")
    ///     .right(Right::new("read_file", "read", "src/")).now(now))?;
    /// let verifier = Verifier::new([root.public_key()]);
    /// let config = McpConfig::from_json(r#"{"tools":{"read_file":{"operation":"read","resource_arg":"path"}}}"#)?;
    /// let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"src/a.rs"}}}"#;
    /// let proof = token.sign_proof(&agent, &Request::new("read_file", "read", "src/a.rs"), Some(now))?;
    /// let text = token.to_base64();
    /// let McpAuthorization::Pending(p) = verifier.authorize_mcp_begin(&config, &McpCall::new(call).token(&text).proof(&proof), Some(now))? else {
    ///     unreachable!()
    /// };
    /// // The host claims the nonce in its shared store; here, it was used already.
    /// let decided = p.pending.claimed(Ok(Claim::AlreadyUsed))?;
    /// let marque::verify::Authorization::Decided(d) = decided else { unreachable!() };
    /// assert_eq!(d.code.as_deref(), Some("replayed_proof"));
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn authorize_mcp_begin(&self, config: &McpConfig, call: &McpCall<'_>, now: Option<u64>) -> Result<McpAuthorization> {
        self.mcp_stage(config, call, now, false)
    }

    /// Both MCP paths: refuse a configuration for another server, map, then admit (allowed
    /// methods) or authorize (mapped requests) — claiming in the verifier's stores when `sync`,
    /// else stopping at the single-use state.
    fn mcp_stage(&self, config: &McpConfig, call: &McpCall<'_>, now: Option<u64>, sync: bool) -> Result<McpAuthorization> {
        if let Some(resource) = &config.resource {
            if self.audience() != Some(resource) {
                return Err(Error::invalid_argument(format!(
                    "the MCP configuration names the server {resource}, but the verifier's audience is {}: give the verifier that audience, so that proofs are checked against it",
                    self.audience().map_or_else(|| String::from("not set"), |a| a.to_string())
                )));
            }
        }
        let mapped = config.map(call)?;
        let Some(request) = mapped.request else {
            let admission = match mapped.token.as_deref() {
                Some(t) => Some(self.admit_base64(t, now)?),
                None => None,
            };
            return Ok(McpAuthorization::Decided(McpOutcome { allowed: true, method: mapped.method, request: None, decision: None, admission }));
        };
        let token = mapped.token.as_deref().ok_or_else(|| {
            Error::new(
                ErrorKind::NotAuthorized,
                format!(
                    "no marque token (send \"Authorization: Bearer <token>\" or _meta[\"{TOKEN_META_KEY}\"]) for {}",
                    mapped.method.as_deref().unwrap_or("this message")
                ),
            )
        })?;
        let (proof, approval) = (mapped.proof.as_deref(), mapped.approval.as_deref());
        let step = if sync {
            crate::verify::Authorization::Decided(self.authorize_base64_with_approval(token, &request, proof, approval, now)?)
        } else {
            self.authorize_begin_base64_with_approval(token, &request, proof, approval, now)?
        };
        Ok(match step {
            crate::verify::Authorization::Decided(decision) => {
                McpAuthorization::Decided(McpOutcome::of_call(mapped.method, request, decision))
            }
            crate::verify::Authorization::Pending(pending) => McpAuthorization::Pending(McpPending { method: mapped.method, request, pending }),
        })
    }
}

/// What [`Verifier::authorize_mcp_begin`](crate::Verifier::authorize_mcp_begin) returns.
#[cfg(feature = "biscuit")]
#[derive(Debug)]
// Returned once per message and consumed at once, never stored.
#[allow(clippy::large_enum_variant)]
pub enum McpAuthorization {
    /// Decided: admitted, denied, or allowed with nothing to claim or spend.
    Decided(McpOutcome),
    /// A mapped call, allowed if its single-use state can be claimed and spent.
    Pending(McpPending),
}

/// A mapped MCP call waiting for its single-use state in the host's stores.
#[cfg(feature = "biscuit")]
#[derive(Debug)]
pub struct McpPending {
    /// The JSON-RPC method.
    pub method: Option<String>,
    /// The marque request the message maps to.
    pub request: crate::policy::Request,
    /// What the host claims and spends ([`crate::pending`]).
    pub pending: crate::verify::PendingClaim,
}

#[cfg(feature = "biscuit")]
impl McpOutcome {
    /// The outcome of a mapped call once decided (for [`McpPending`]: its `method` and
    /// `request`, and the decision its pending call reached).
    pub fn of_call(method: Option<String>, request: crate::policy::Request, decision: crate::verify::Decision) -> McpOutcome {
        McpOutcome { allowed: decision.allowed, method, request: Some(request), decision: Some(decision), admission: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(method: &str, params: Value) -> String {
        serde_json::json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string()
    }

    fn triple(config: &McpConfig, call: &McpCall<'_>) -> core::result::Result<Option<(String, String, String)>, &'static str> {
        config.map(call).map(|m| m.request.map(|r| (r.tool, r.operation, r.resource))).map_err(|e| e.code())
    }

    #[test]
    fn tool_resources_are_declared_or_unambiguous() {
        let c = McpConfig::from_json(r#"{"tools":{"r":{"operation":"read","resource_arg":"path"},"f":{"resource":"fixed","tool":"alias"}}}"#).unwrap();
        let t = |name: &str, args: Value| msg("tools/call", serde_json::json!({"name": name, "arguments": args}));
        let s = |a: &str, b: &str, c: &str| Ok(Some((a.into(), b.into(), c.into())));
        assert_eq!(triple(&c, &McpCall::new(&t("r", serde_json::json!({"path": "src/a", "uri": "x"})))), s("r", "read", "src/a"));
        assert_eq!(triple(&c, &McpCall::new(&t("r", serde_json::json!({"uri": "x"})))), Err("invalid_request"));
        assert_eq!(triple(&c, &McpCall::new(&t("r", serde_json::json!({"path": 3})))), Err("invalid_request"));
        assert_eq!(triple(&c, &McpCall::new(&t("f", serde_json::json!({"path": "p"})))), s("alias", "*", "fixed"));
        assert_eq!(triple(&c, &McpCall::new(&t("u", serde_json::json!({"path": "p"})))), s("u", "*", "p"));
        assert_eq!(triple(&c, &McpCall::new(&t("u", serde_json::json!({"n": 1})))), s("u", "*", "*"));
        assert_eq!(triple(&c, &McpCall::new(&t("u", serde_json::json!({"path": "p", "url": "q"})))), Err("invalid_request"));
        assert_eq!(triple(&c, &McpCall::new(&t("u", serde_json::json!({"path": ["p"]})))), Err("invalid_request"));
        assert_eq!(triple(&c, &McpCall::new(&t("u", serde_json::json!([1])))), Err("invalid_request"));
        assert_eq!(triple(&c, &McpCall::new(&t("u", serde_json::json!({"path": "p", "url": "q"}))).resource("app")), s("u", "*", "app"));
        assert_eq!(
            c.map(&McpCall::new(&t("r", serde_json::json!({"path": "p"}))).resource("app")).unwrap_err().code(),
            "invalid_argument"
        );
    }

    #[test]
    fn malformed_messages_are_refused() {
        let c = McpConfig::default();
        for m in [
            "", "[]", "null", "{}", r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[]}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","method":"ping"}"#,
            r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":[]}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"marque/token":1}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/x","name":"a"}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"debug"}}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
        ] {
            assert_eq!(c.map(&McpCall::new(m)).unwrap_err().code(), "invalid_request", "{m}");
        }
        let big = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"x":"{}"}}}}"#, "a".repeat(MAX_MESSAGE_BYTES));
        assert_eq!(c.map(&McpCall::new(&big)).unwrap_err().code(), "invalid_request");
        assert!(c.map(&McpCall::new(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#)).unwrap().method.is_none());
    }

    #[test]
    fn headers_and_credentials() {
        let c = McpConfig::default();
        let call = msg("tools/call", serde_json::json!({"name": "tööl", "_meta": {"marque/token": "t1", "traceparent": "00-x"}}));
        let b64 = format!("=?base64?{}?=", base64::engine::general_purpose::STANDARD.encode("tööl"));
        let m = c.map(&McpCall::new(&call).mcp_method("tools/call").mcp_name(&b64)).unwrap();
        assert_eq!((m.token.as_deref(), m.proof.as_deref()), (Some("t1"), None));
        assert_eq!(c.map(&McpCall::new(&call).token("t1").proof("p")).unwrap().proof.as_deref(), Some("p"));
        for bad_call in [
            McpCall::new(&call).mcp_method("tools/list"),
            McpCall::new(&call).mcp_name("other"),
            McpCall::new(&call).mcp_name("=?base64?!!?="),
            McpCall::new(&call).token("t2"),
        ] {
            assert_eq!(c.map(&bad_call).unwrap_err().code(), "invalid_request", "{bad_call:?}");
        }
        // The approval travels like the proof: `_meta["marque/approval"]` or the transport's.
        let approved = msg("tools/call", serde_json::json!({"name": "t", "_meta": {"marque/approval": "a1"}}));
        assert_eq!(c.map(&McpCall::new(&approved)).unwrap().approval.as_deref(), Some("a1"));
        assert_eq!(c.map(&McpCall::new(&call).approval("a2")).unwrap().approval.as_deref(), Some("a2"));
        assert_eq!(c.map(&McpCall::new(&approved).approval("a2")).unwrap_err().code(), "invalid_request");
        let numeric = msg("tools/call", serde_json::json!({"name": "t", "_meta": {"marque/approval": 1}}));
        assert_eq!(c.map(&McpCall::new(&numeric)).unwrap_err().code(), "invalid_request");
        let list = msg("tools/list", serde_json::json!({}));
        assert_eq!(c.map(&McpCall::new(&list).mcp_name("x")).unwrap_err().code(), "invalid_request");
        assert!(c.map(&McpCall::new(&list).mcp_method("tools/list")).unwrap().request.is_none());
    }

    #[test]
    fn configurations_are_checked() {
        for bad in [
            r#"{"allow":["*"]}"#,
            r#"{"allow":["tools/*"]}"#,
            r#"{"allow":["tools/call"]}"#,
            r#"{"allow":["a*"]}"#,
            r#"{"alow":[]}"#,
            r#"{"tools":{"t":{"resource_arg":"p","resource":"r"}}}"#,
            r#"{"tools":{"t":{"resourceArg":"p"}}}"#,
            r#"{"tools":{"t":{"operation":""}}}"#,
            r#"{"tools":{"t":[]}}"#,
            "[]",
        ] {
            assert_eq!(McpConfig::from_json(bad).unwrap_err().code(), "invalid_argument", "{bad}");
        }
        let c = McpConfig::from_json(r#"{"allow":["ping","tasks/*"]}"#).unwrap();
        assert!(c.is_allowed("tasks/get") && !c.is_allowed("tools/list") && !c.is_allowed("tasks"));
        assert_eq!(McpConfig::from_json("{}").unwrap(), McpConfig::default());
        assert_eq!(McpConfig::from_json(&c.to_json()).unwrap(), c);
    }

    /// The agent's headers for each mapped method are what the server needs: same request,
    /// a proof that verifies, headers that agree with the body (also for a non-ASCII name).
    #[cfg(feature = "biscuit")]
    #[test]
    fn client_headers_are_what_the_server_maps() {
        use crate::{KeyPair, MintParams, Right, Token, Verifier};
        use serde_json::json;
        let (root, agent, other) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]));
        let now = 1_767_225_600;
        let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:u").right(Right::new("*", "*", "*")).now(now)).unwrap();
        let config = McpConfig::from_json(r#"{"tools":{"read_file":{"operation":"read","resource_arg":"path"}}}"#).unwrap();
        let verifier = Verifier::new([root.public_key()]).with_require_proof(true);
        let cases = [
            (msg("tools/call", json!({"name": "read_file", "arguments": {"path": "src/a.rs"}})), Some("read_file")),
            (msg("tools/call", json!({"name": "tööl", "arguments": {}})), Some("=?base64?dMO2w7Zs?=")),
            (msg("resources/read", json!({"uri": "file:///srv/a.md"})), Some("file:///srv/a.md")),
            (msg("prompts/get", json!({"name": "review"})), Some("review")),
            (msg("completion/complete", json!({"ref": {"type": "ref/prompt", "name": "review"}, "argument": {"name": "a", "value": "b"}})), None),
        ];
        for (message, name) in &cases {
            let h = config.client_headers(message, &token, &agent, Some(now)).unwrap();
            assert_eq!(h.mcp_name.as_deref(), *name, "{message}");
            assert!(h.proof.is_some(), "{message}");
            let bearer = h.authorization.strip_prefix("Bearer ").unwrap();
            let mut call = McpCall::new(message).token(bearer).proof(h.proof.as_deref().unwrap());
            call = call.mcp_method(h.mcp_method.as_deref().unwrap());
            if let Some(n) = h.mcp_name.as_deref() {
                call = call.mcp_name(n);
            }
            let outcome = verifier.authorize_mcp(&config, &call, Some(now)).unwrap();
            assert!(outcome.allowed, "{message}: {:?}", outcome.decision);
        }
        // Admitted without a rights check: the bearer token, no proof.
        let list = config.client_headers(&msg("tools/list", json!({})), &token, &agent, Some(now)).unwrap();
        let names: Vec<&str> = list.http().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["Authorization", "Mcp-Method"]);
        assert_eq!((list.proof, list.mcp_name, list.mcp_method.as_deref()), (None, None, Some("tools/list")));
        // Refused before it leaves: what the server would refuse; the wrong key signs nothing.
        let no_id = r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"read_file","arguments":{"path":"x"}}}"#;
        assert_eq!(config.client_headers(no_id, &token, &agent, Some(now)).unwrap_err().code(), "invalid_request");
        assert_eq!(config.client_headers(&cases[0].0, &token, &other, Some(now)).unwrap_err().code(), "wrong_holder_key");
        // A time in milliseconds is refused even where no proof is signed.
        let list = msg("tools/list", json!({}));
        assert_eq!(config.client_headers(&list, &token, &agent, Some(now * 1000)).unwrap_err().code(), "invalid_argument");
    }

    /// The configuration's resource is the audience: the agent binds its proofs to it, and the
    /// server runs only with a verifier whose audience is the same server.
    #[cfg(feature = "biscuit")]
    #[test]
    fn the_resource_binds_proofs_to_the_server() {
        use crate::{KeyPair, MintParams, Right, Token, Verifier};
        use serde_json::json;
        let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
        let now = 1_767_225_600;
        let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:u").right(Right::new("*", "*", "*")).now(now)).unwrap();
        let tools = r#""tools":{"read_file":{"operation":"read","resource_arg":"path"}}"#;
        let at = |uri: &str| McpConfig::from_json(&format!(r#"{{{tools},"resource":"{uri}"}}"#)).unwrap();
        let (a, b) = (at("HTTPS://A.example/mcp/"), at("https://b.example/mcp"));
        assert_eq!(a.resource.as_ref().map(Audience::as_str), Some("https://a.example/mcp"));
        assert!(a.to_json().contains(r#""resource":"https://a.example/mcp""#));
        assert_eq!(McpConfig::from_json(r#"{"resource":"https://a.example/mcp#f"}"#).unwrap_err().code(), "invalid_argument");
        let call = msg("tools/call", json!({"name": "read_file", "arguments": {"path": "src/a.rs"}}));
        let h = a.client_headers(&call, &token, &agent, Some(now)).unwrap();
        let server = |config: &McpConfig, audience: Option<&McpConfig>| {
            let v = Verifier::new([root.public_key()]).with_require_proof(true).with_audience(audience.and_then(|c| c.resource.clone()));
            let c = McpCall::new(&call).token(h.authorization.strip_prefix("Bearer ").unwrap()).proof(h.proof.as_deref().unwrap());
            v.authorize_mcp(config, &c, Some(now)).map(|o| o.decision.and_then(|d| d.code))
        };
        assert_eq!(server(&a, Some(&a)), Ok(None));
        assert_eq!(server(&b, Some(&b)).unwrap().as_deref(), Some("invalid_proof"));
        // A configuration naming a server the verifier is not (or a verifier that knows none).
        assert_eq!(server(&a, Some(&b)).unwrap_err().code(), "invalid_argument");
        assert_eq!(server(&a, None).unwrap_err().code(), "invalid_argument");
        // The verifier's audience alone binds too: a configuration without resource still checks.
        assert_eq!(server(&McpConfig::from_json(&format!("{{{tools}}}")).unwrap(), Some(&b)).unwrap().as_deref(), Some("invalid_proof"));
    }

    #[cfg(feature = "biscuit")]
    #[test]
    fn an_approval_travels_in_meta_and_is_used_once() {
        use crate::approval::sign_approval_with_nonce;
        use crate::{KeyPair, MintParams, Right, Token, Verifier};
        use serde_json::json;
        let (root, agent, alice) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[7; 32]));
        let now = 1_767_225_600;
        let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:u").right(Right::new("*", "*", "*")).now(now))
            .unwrap()
            .to_base64();
        let mut v = Verifier::new([root.public_key()]);
        v.add_approver("user:alice", alice.public_key()).unwrap();
        v.add_approval_rule(Right::parse("deploy:*:production/").unwrap()).unwrap();
        let config = McpConfig::from_json(r#"{"tools":{"deploy":{"operation":"deploy","resource_arg":"target"}}}"#).unwrap();
        let call = |meta: Value| msg("tools/call", json!({"name": "deploy", "arguments": {"target": "production/web"}, "_meta": meta}));
        let first = v.authorize_mcp(&config, &McpCall::new(&call(json!({}))).token(&token), Some(now)).unwrap();
        let decision = first.decision.unwrap();
        assert_eq!(decision.code.as_deref(), Some("approval_required"));
        let asked = decision.approval_request.unwrap();
        let approval = sign_approval_with_nonce(&alice, "user:alice", &asked.digest, now, 300, [3; 16]).unwrap();
        let approved = call(Value::Object(Map::from_iter([(APPROVAL_META_KEY.to_string(), Value::String(approval))])));
        let second = v.authorize_mcp(&config, &McpCall::new(&approved).token(&token), Some(now + 1)).unwrap();
        assert!(second.allowed);
        assert_eq!(second.decision.unwrap().approval.map(|a| a.approver).as_deref(), Some("user:alice"));
        let again = v.authorize_mcp(&config, &McpCall::new(&approved).token(&token), Some(now + 2)).unwrap();
        assert_eq!(again.decision.and_then(|d| d.code).as_deref(), Some("approval_required"));
    }

    /// The asynchronous MCP path: the message is mapped and decided up to its single-use state,
    /// which a host store shared by two verifiers claims — a proof is used once across both;
    /// allowed methods and denials are decided at once; a configuration for another server is
    /// refused before anything is mapped.
    #[cfg(feature = "biscuit")]
    #[test]
    fn the_asynchronous_mcp_path_leaves_single_use_state_to_the_host() {
        use crate::replay::Claim;
        use crate::verify::Authorization;
        use crate::{KeyPair, MintParams, Right, Token, Verifier};
        use serde_json::json;
        let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
        let now = 1_767_225_600;
        let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:u").right(Right::new("read_file", "read", "src/")).now(now)).unwrap();
        let text = token.to_base64();
        let config = McpConfig::from_json(r#"{"tools":{"read_file":{"operation":"read","resource_arg":"path","attributes":{"resource.type":"file"}}}}"#).unwrap();
        let (one, two) = (Verifier::new([root.public_key()]), Verifier::new([root.public_key()]));
        let read = |path: &str| msg("tools/call", json!({"name": "read_file", "arguments": {"path": path}}));
        let proof = token.sign_proof(&agent, &Request::new("read_file", "read", "src/a.rs"), Some(now)).unwrap();
        let mut held = alloc::collections::BTreeSet::new();
        let mut decide = |v: &Verifier, m: &str, proof: Option<&str>| -> McpOutcome {
            let mut call = McpCall::new(m).token(&text);
            call.proof = proof;
            match v.authorize_mcp_begin(&config, &call, Some(now)).unwrap() {
                McpAuthorization::Decided(o) => o,
                McpAuthorization::Pending(p) => {
                    assert_eq!(p.request.attributes.get("resource.type").map(String::as_str), Some("file"));
                    let key = p.pending.claim().unwrap().key().to_string();
                    let answer = if held.insert(key) { Claim::Claimed } else { Claim::AlreadyUsed };
                    let McpPending { method, request, pending } = p;
                    let Authorization::Decided(d) = pending.claimed(Ok(answer)).unwrap() else { panic!("still pending") };
                    McpOutcome::of_call(method, request, d)
                }
            }
        };
        let first = decide(&one, &read("src/a.rs"), Some(&proof));
        assert!(first.allowed);
        let again = decide(&two, &read("src/a.rs"), Some(&proof));
        assert_eq!(again.decision.and_then(|d| d.code).as_deref(), Some("replayed_proof"));
        // Without a proof there is nothing to claim; a denial is decided at once; so is an allowed method.
        assert!(decide(&one, &read("src/b.rs"), None).allowed);
        assert_eq!(decide(&one, &read(".env"), None).decision.and_then(|d| d.code).as_deref(), Some("not_authorized"));
        assert!(decide(&one, &msg("tools/list", json!({})), None).admission.is_some());
        let elsewhere = McpConfig::from_json(r#"{"resource":"https://other.example/mcp"}"#).unwrap();
        assert_eq!(one.authorize_mcp_begin(&elsewhere, &McpCall::new(&read("src/a.rs")).token(&text), Some(now)).unwrap_err().code(), "invalid_argument");
    }

    /// The users' Rego policy (verbatim) at an MCP door: the tool's configuration gives the call
    /// `resource.env` from an argument and a fixed `resource.type`, which the policy reads.
    #[cfg(feature = "rego")]
    #[test]
    fn the_users_rego_policy_decides_on_attributes_from_arguments() {
        use crate::rego::RegoPolicy;
        use crate::{KeyPair, MintParams, Right, Token, Verifier};
        use serde_json::json;
        let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
        let now = 1_767_225_600;
        let mint = MintParams::new("agent:deployer", agent.public_key(), "user:u").right(Right::new("*", "*", "*")).now(now);
        let token = Token::mint(&root, &mint).unwrap().to_base64();
        let mut v = Verifier::new([root.public_key()]);
        let policy = include_str!("../../tests/vectors/rego/agent_authz.rego");
        v.add_rego_policy(RegoPolicy::new("authz", Some("1"), policy).unwrap());
        v.set_roles(BTreeMap::from([("agent:deployer".to_string(), "deployer".to_string())]));
        let config = McpConfig::from_json(
            r#"{"tools":{"deploy":{"operation":"deploy","resource_arg":"service","attribute_args":{"resource.env":"env"},"attributes":{"resource.type":"service"}}}}"#,
        )
        .unwrap();
        let decide = |env: &str| {
            let m = msg("tools/call", json!({"name": "deploy", "arguments": {"service": "web", "env": env}}));
            v.authorize_mcp(&config, &McpCall::new(&m).token(&token), Some(now)).unwrap().decision.unwrap()
        };
        let staging = decide("staging");
        assert!(staging.allowed);
        assert_eq!(staging.policy.as_deref(), Some("authz@1#allow"));
        let production = decide("production");
        assert_eq!(production.code.as_deref(), Some("approval_required"));
        assert_eq!(production.policy.as_deref(), Some("authz@1#require_approval"));
        assert_eq!(decide("dev").code.as_deref(), Some("not_authorized"));
        // The attributes are the request's: an approval's digest covers them.
        let m = msg("tools/call", json!({"name": "deploy", "arguments": {"service": "web", "env": "production"}}));
        let request = config.map(&McpCall::new(&m)).unwrap().request.unwrap();
        assert_eq!(request.attributes.get("resource.env").map(String::as_str), Some("production"));
        assert_eq!(request.attributes.get("resource.type").map(String::as_str), Some("service"));
    }
}
