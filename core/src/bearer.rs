//! The HTTP Bearer scheme around admission: reading `Authorization`, answering with a status
//! code and a `WWW-Authenticate` challenge, and the RFC 9728 protected-resource metadata.
//!
//! Every HTTP layer (an MCP server's bearer middleware, an edge gateway) uses these so that one
//! refusal gets the same answer everywhere: [`bearer_token`] reads `Authorization: Bearer …`
//! (RFC 6750 §2.1), [`refusal`] maps a marque code to an HTTP status and an RFC 6750 error
//! (`invalid_token` → 401, a denial → 403, a malformed request → 400, a stale revocation list →
//! 503), [`Challenge`] writes the `WWW-Authenticate` header (RFC 6750 §3 with RFC 9728's
//! `resource_metadata`) with one quoting rule ([`challenge_value`]) for every quoted value, and
//! [`ProtectedResource`] / [`resource_metadata_url`] publish where and how to present a token.
//!
//! ```
//! use marque::bearer::{refusal, BearerError, Challenge};
//! let r = refusal(Some("expired"));
//! assert_eq!((r.status, r.error), (401, Some(BearerError::InvalidToken)));
//! let header = Challenge {
//!     error: r.error,
//!     error_description: Some("the token expired at 10 \"(now 20)\"\r\nSet-Cookie: x".into()),
//!     resource_metadata: Some("https://api.example/.well-known/oauth-protected-resource/mcp".into()),
//!     ..Challenge::default()
//! }
//! .to_header();
//! assert_eq!(header, "Bearer error=\"invalid_token\", error_description=\"the token expired at 10 '(now 20)'  Set-Cookie: x\", \
//!     resource_metadata=\"https://api.example/.well-known/oauth-protected-resource/mcp\"");
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::PublicKey;

/// Where a token travels on transports without HTTP headers (stdio): `_meta["marque/token"]`.
pub const TOKEN_META_KEY: &str = "marque/token";
/// Where a proof of possession travels in an MCP message: `_meta["marque/proof"]`.
pub const PROOF_META_KEY: &str = "marque/proof";
/// The HTTP header carrying a proof of possession.
pub const PROOF_HEADER: &str = "Marque-Proof";
/// Where a human approval of the call ([`crate::approval`]) travels in an MCP message:
/// `_meta["marque/approval"]`, beside the proof.
pub const APPROVAL_META_KEY: &str = "marque/approval";
/// The HTTP header carrying a human approval of the call (alternative to `_meta`).
pub const APPROVAL_HEADER: &str = "Marque-Approval";
/// Where a guard's `approval_required` tool error carries what to approve:
/// `_meta["marque/approval_request"]` = `{digest, approvers, reason}` ([`crate::approval::ApprovalRequest`]).
pub const APPROVAL_REQUEST_META_KEY: &str = "marque/approval_request";
/// The longest quoted value a challenge carries (longer ones are cut, ending in `...`).
pub const MAX_CHALLENGE_VALUE: usize = 256;

/// The error codes of RFC 6750 §3.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BearerError {
    /// The request is malformed (400).
    InvalidRequest,
    /// The token is expired, revoked, malformed or not trusted (401).
    InvalidToken,
    /// The token does not grant what the request needs (403).
    InsufficientScope,
}

impl BearerError {
    /// The RFC 6750 code: `invalid_request`, `invalid_token` or `insufficient_scope`.
    pub const fn code(self) -> &'static str {
        match self {
            BearerError::InvalidRequest => "invalid_request",
            BearerError::InvalidToken => "invalid_token",
            BearerError::InsufficientScope => "insufficient_scope",
        }
    }

    /// The error with this RFC 6750 code, if any.
    pub fn from_code(code: &str) -> Option<BearerError> {
        [BearerError::InvalidRequest, BearerError::InvalidToken, BearerError::InsufficientScope]
            .into_iter()
            .find(|e| e.code() == code)
    }
}

/// How an HTTP layer answers a refusal: the status code and the RFC 6750 error of its
/// `WWW-Authenticate` challenge (None: no `error` parameter, or no challenge at all for 5xx).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// HTTP status: 400, 401, 403, 500 or 503.
    pub status: u16,
    /// The challenge's `error`, if any.
    pub error: Option<BearerError>,
}

/// The HTTP answer to a marque code (an error's or a denied decision's). `None` means "no
/// credentials were presented": 401 with a bare challenge (RFC 6750 §3.1 leaves `error` out).
///
/// | code | status | `error` |
/// |---|---|---|
/// | none presented | 401 | — |
/// | `invalid_token`, `invalid_signature`, `unknown_root_key`, `invalid_key`, `expired`, `revoked`, `limits_exceeded` | 401 | `invalid_token` |
/// | `not_authorized`, `depth_exceeded` | 403 | `insufficient_scope` |
/// | `invalid_proof`, `replayed_proof` | 403 | — |
/// | `approval_required` (the body says what to approve) | 403 | — |
/// | `budget_exhausted` | 429 | — |
/// | `invalid_request`, `invalid_argument` | 400 | `invalid_request` |
/// | `revocation_list_stale`, `replay_store_unavailable` (fail closed) | 503 | — |
/// | anything else | 500 | — |
pub fn refusal(code: Option<&str>) -> Refusal {
    let (status, error) = match code {
        None => (401, None),
        Some(
            "invalid_token" | "invalid_signature" | "unknown_root_key" | "invalid_key" | "expired" | "revoked"
            | "limits_exceeded",
        ) => (401, Some(BearerError::InvalidToken)),
        Some("not_authorized" | "depth_exceeded") => (403, Some(BearerError::InsufficientScope)),
        Some("invalid_proof" | "replayed_proof" | "approval_required") => (403, None),
        Some("budget_exhausted") => (429, None),
        Some("invalid_request" | "invalid_argument") => (400, Some(BearerError::InvalidRequest)),
        Some("revocation_list_stale" | "replay_store_unavailable") => (503, None),
        Some(_) => (500, None),
    };
    Refusal { status, error }
}

/// The token of an `Authorization` header value `Bearer <token>` (RFC 6750 §2.1: the scheme is
/// case-insensitive, the token is `b64token` characters). Anything else is None.
///
/// ```
/// use marque::bearer::bearer_token;
/// assert_eq!(bearer_token("bearer  abc-_.~+/=="), Some("abc-_.~+/=="));
/// assert_eq!(bearer_token("Basic abc"), None);
/// assert_eq!(bearer_token("Bearer a b"), None);
/// ```
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let value = authorization.trim_matches(|c| c == ' ' || c == '\t');
    let (scheme, rest) = value.split_at(value.find(' ')?);
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim_start_matches(' ');
    let body = token.trim_end_matches('=');
    let b64token = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/');
    (!body.is_empty() && body.chars().all(b64token)).then_some(token)
}

/// A `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3; `resource_metadata` from RFC 9728
/// §5.1). Parameters are written in this order, each only when set. JSON form: these field
/// names; unknown fields are refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// `realm`.
    #[serde(default)]
    pub realm: Option<String>,
    /// `error`.
    #[serde(default)]
    pub error: Option<BearerError>,
    /// `error_description` (a readable reason; cut at [`MAX_CHALLENGE_VALUE`] characters).
    #[serde(default)]
    pub error_description: Option<String>,
    /// `scope`: scope tokens, written space-separated.
    #[serde(default)]
    pub scope: Vec<String>,
    /// `resource_metadata`: the RFC 9728 metadata URL ([`resource_metadata_url`]).
    #[serde(default)]
    pub resource_metadata: Option<String>,
}

impl Challenge {
    /// The header value, e.g. `Bearer error="invalid_token", error_description="…"`; just
    /// `Bearer` when nothing is set. Every value goes through [`challenge_value`].
    pub fn to_header(&self) -> String {
        let mut params: Vec<String> = Vec::new();
        let mut push = |name: &str, value: String| params.push(alloc::format!("{name}=\"{value}\""));
        if let Some(r) = &self.realm {
            push("realm", challenge_value(r));
        }
        if let Some(e) = self.error {
            push("error", e.code().into());
        }
        if let Some(d) = &self.error_description {
            push("error_description", challenge_value(d));
        }
        if !self.scope.is_empty() {
            let scopes: Vec<String> = self.scope.iter().map(|s| challenge_value(s).replace(' ', "?")).collect();
            push("scope", scopes.join(" "));
        }
        if let Some(u) = &self.resource_metadata {
            push("resource_metadata", challenge_value(u));
        }
        if params.is_empty() {
            "Bearer".into()
        } else {
            alloc::format!("Bearer {}", params.join(", "))
        }
    }
}

/// The one quoting rule of challenge values: RFC 6750 §3 allows only `%x20-21 / %x23-5B /
/// %x5D-7E` inside the quotes, so `"` becomes `'`, `\` becomes `/`, control characters (CR, LF,
/// tab, …) become a space and any other character (non-ASCII) becomes `?`; a value longer than
/// [`MAX_CHALLENGE_VALUE`] characters is cut and ends in `...`. No escaping is ever needed, so
/// a value can neither close its quotes nor start a new header line.
///
/// ```
/// use marque::bearer::challenge_value;
/// assert_eq!(challenge_value("bad \"sig\"\\ café\r\n"), "bad 'sig'/ caf?  ");
/// ```
pub fn challenge_value(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_CHALLENGE_VALUE)
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_control() => ' ',
            ' '..='~' => c,
            _ => '?',
        })
        .collect();
    if text.chars().nth(MAX_CHALLENGE_VALUE).is_some() {
        out.truncate(MAX_CHALLENGE_VALUE - 3);
        out.push_str("...");
    }
    out
}

/// The RFC 9728 §3.1 metadata URL of a protected resource: `/.well-known/oauth-protected-resource`
/// inserted between the authority and the path (`https://h/mcp` →
/// `https://h/.well-known/oauth-protected-resource/mcp`; a path of `/` is dropped, and so are a
/// query and a fragment, as the MCP SDKs do). `invalid_argument` unless `resource` is an
/// absolute `http(s)` URL.
///
/// ```
/// use marque::bearer::resource_metadata_url;
/// assert_eq!(resource_metadata_url("https://api.example/mcp")?, "https://api.example/.well-known/oauth-protected-resource/mcp");
/// assert_eq!(resource_metadata_url("http://127.0.0.1:8000/")?, "http://127.0.0.1:8000/.well-known/oauth-protected-resource");
/// assert!(resource_metadata_url("/mcp").is_err());
/// # Ok::<(), marque::Error>(())
/// ```
pub fn resource_metadata_url(resource: &str) -> Result<String> {
    let (scheme, authority, path) = split_url(resource)?;
    let path = if path == "/" { "" } else { path };
    Ok(alloc::format!("{scheme}://{authority}/.well-known/oauth-protected-resource{path}"))
}

/// `(scheme lowercased, authority, path)` of an absolute `http(s)` URL.
fn split_url(url: &str) -> Result<(String, &str, &str)> {
    let bad = || {
        Error::invalid_argument(alloc::format!(
            "{:?} is not an absolute http(s) URL",
            crate::error::sanitize(&url.chars().take(100).collect::<String>())
        ))
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(bad());
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let path = &tail[..tail.find(['?', '#']).unwrap_or(tail.len())];
    let clean = |s: &str| !s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\' || c == '"');
    if authority.is_empty() || authority.contains('@') || !clean(authority) || !clean(path) {
        return Err(bad());
    }
    Ok((scheme, authority, path))
}

/// RFC 9728 OAuth 2.0 Protected Resource Metadata for a marque-guarded server (serve it at
/// [`resource_metadata_url`]). Input JSON form: these field names; unknown fields are refused.
/// [`to_json`](Self::to_json) writes the standard members that are set plus marque's own:
/// `marque_token_format` (`biscuit-v3`), `marque_proof_header`, `marque_meta_keys` (where the
/// token and proof go in MCP `_meta`) and, when root keys are given, `marque_root_keys` (RFC 8037
/// JWKs, `kid` = fingerprint).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectedResource {
    /// The resource identifier: the server's URL (absolute `http(s)`, no fragment).
    pub resource: String,
    /// Authorization servers issuing tokens for it, if any.
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    /// Scopes it understands, if listed.
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// A human-readable name.
    #[serde(default)]
    pub resource_name: Option<String>,
    /// A URL with documentation.
    #[serde(default)]
    pub resource_documentation: Option<String>,
    /// Trusted root keys to publish (as JWKs).
    #[serde(default, skip)]
    pub root_keys: Vec<PublicKey>,
}

impl ProtectedResource {
    /// Metadata for `resource` (the server URL).
    pub fn new(resource: impl Into<String>) -> Self {
        ProtectedResource { resource: resource.into(), ..ProtectedResource::default() }
    }

    /// The metadata document. `invalid_argument` unless `resource` is an absolute `http(s)`
    /// URL without a fragment.
    ///
    /// ```
    /// use marque::bearer::ProtectedResource;
    /// let doc = ProtectedResource::new("https://api.example/mcp").to_json()?;
    /// assert_eq!(doc["resource"], "https://api.example/mcp");
    /// assert_eq!(doc["bearer_methods_supported"], serde_json::json!(["header"]));
    /// assert_eq!(doc["marque_meta_keys"]["proof"], "marque/proof");
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn to_json(&self) -> Result<serde_json::Value> {
        split_url(&self.resource)?;
        if self.resource.contains('#') {
            return Err(Error::invalid_argument("a protected resource identifier has no fragment (RFC 9728 §1.2)"));
        }
        let mut doc = serde_json::Map::new();
        let mut put = |k: &str, v: serde_json::Value| {
            doc.insert(k.to_string(), v);
        };
        put("resource", self.resource.clone().into());
        put("bearer_methods_supported", serde_json::json!(["header"]));
        if !self.authorization_servers.is_empty() {
            put("authorization_servers", self.authorization_servers.clone().into());
        }
        if !self.scopes_supported.is_empty() {
            put("scopes_supported", self.scopes_supported.clone().into());
        }
        if let Some(n) = &self.resource_name {
            put("resource_name", n.clone().into());
        }
        if let Some(d) = &self.resource_documentation {
            put("resource_documentation", d.clone().into());
        }
        put("marque_token_format", "biscuit-v3".into());
        put("marque_proof_header", PROOF_HEADER.into());
        put("marque_meta_keys", serde_json::json!({"token": TOKEN_META_KEY, "proof": PROOF_META_KEY}));
        if !self.root_keys.is_empty() {
            let jwks: Vec<serde_json::Value> =
                self.root_keys.iter().map(|k| serde_json::to_value(k.to_jwk()).unwrap_or_default()).collect();
            put("marque_root_keys", jwks.into());
        }
        Ok(serde_json::Value::Object(doc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_values_never_break_out() {
        for hostile in ["a\"b", "a\\\"", "x\r\nSet-Cookie: y", "\u{0}\u{7f}\u{85}", "é\u{202e}"] {
            let v = challenge_value(hostile);
            assert!(v.chars().all(|c| matches!(c, ' '..='!' | '#'..='[' | ']'..='~')), "{hostile:?} -> {v:?}");
        }
        let long = "x".repeat(1000);
        assert_eq!(challenge_value(&long).chars().count(), MAX_CHALLENGE_VALUE);
        assert!(challenge_value(&long).ends_with("..."));
        assert_eq!(challenge_value(&"y".repeat(MAX_CHALLENGE_VALUE)), "y".repeat(MAX_CHALLENGE_VALUE));
        assert_eq!(Challenge::default().to_header(), "Bearer");
        let all = Challenge {
            realm: Some("marque".into()),
            error: Some(BearerError::InsufficientScope),
            error_description: Some("no".into()),
            scope: alloc::vec!["read_file:read:src/".into(), "a b".into()],
            resource_metadata: Some("https://h/.well-known/oauth-protected-resource".into()),
        };
        assert_eq!(
            all.to_header(),
            "Bearer realm=\"marque\", error=\"insufficient_scope\", error_description=\"no\", scope=\"read_file:read:src/ a?b\", resource_metadata=\"https://h/.well-known/oauth-protected-resource\""
        );
    }

    #[test]
    fn urls() {
        for (url, want) in [
            ("https://h.example/mcp", "https://h.example/.well-known/oauth-protected-resource/mcp"),
            ("HTTPS://h.example", "https://h.example/.well-known/oauth-protected-resource"),
            ("http://127.0.0.1:8000/a/b?x=1#f", "http://127.0.0.1:8000/.well-known/oauth-protected-resource/a/b"),
        ] {
            assert_eq!(resource_metadata_url(url).unwrap(), want);
        }
        for bad in ["", "mcp", "ftp://h/x", "https://", "https:///x", "https://u@h/x", "https://h/a b", "https://h\r\n/x"] {
            assert_eq!(resource_metadata_url(bad).unwrap_err().code(), "invalid_argument", "{bad:?}");
        }
        assert!(ProtectedResource::new("https://h/mcp#x").to_json().is_err());
    }

    #[test]
    fn refusals() {
        assert_eq!(refusal(None), Refusal { status: 401, error: None });
        assert_eq!(refusal(Some("revocation_list_stale")).status, 503);
        assert_eq!(refusal(Some("replay_store_unavailable")).status, 503);
        assert_eq!(refusal(Some("invalid_request")).error, Some(BearerError::InvalidRequest));
        assert_eq!(refusal(Some("internal")), Refusal { status: 500, error: None });
        for e in [BearerError::InvalidRequest, BearerError::InvalidToken, BearerError::InsufficientScope] {
            assert_eq!(BearerError::from_code(e.code()), Some(e));
        }
    }
}
