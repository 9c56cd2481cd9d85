//! Agent identities: stable ids, spawn-tree paths and agent identity records.
//!
//! An agent is named by a stable id such as `agent:code-reviewer` and placed in the spawn tree by
//! a path: the agent a token is minted for sits at `/root`, and each delegation appends the
//! child's *name* (the part of its id after the last `:`), e.g. `/root/agent_a/agent_c`. Ids are
//! short printable strings without control characters, quotes or backslashes, so they can be
//! embedded in Datalog, JSON and log lines without escaping surprises.
//!
//! ```
//! use marque::identity::{validate_agent_id, child_path, ROOT_PATH};
//! validate_agent_id("agent:code-reviewer")?;
//! assert_eq!(child_path(ROOT_PATH, "agent:agent_a")?, "/root/agent_a");
//! assert!(validate_agent_id("bad\"id").is_err());
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::format;
use alloc::string::String;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::jwt::JwtKeys;
use crate::keys::{KeyPair, PublicKey};

/// The path of the agent a token is minted for.
pub const ROOT_PATH: &str = "/root";

/// Longest accepted agent id, principal, task or workspace name, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// Checks that `value` is a usable name (agent id, principal, task, workspace): 1 to 256 bytes,
/// no control characters, no `"` or `\`.
pub fn validate_name(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid_argument(format!("{what} must not be empty")));
    }
    if value.len() > MAX_NAME_LEN {
        return Err(Error::invalid_argument(format!(
            "{what} is {} bytes long; at most {MAX_NAME_LEN} are allowed",
            value.len()
        )));
    }
    if value.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
        return Err(Error::invalid_argument(format!(
            "{what} must not contain control characters, quotes or backslashes"
        )));
    }
    Ok(())
}

/// Checks an agent id: a valid name whose last `:`-separated part (the agent's *name* in the
/// spawn tree) is non-empty and has no `/`.
pub fn validate_agent_id(id: &str) -> Result<()> {
    validate_name("agent id", id)?;
    let name = agent_name(id);
    if name.is_empty() || name.contains('/') || name.trim() != name {
        return Err(Error::invalid_argument(format!(
            "agent id {id:?} must end in a name without '/' or surrounding spaces (e.g. \"agent:reviewer\")"
        )));
    }
    Ok(())
}

/// The agent's name in the spawn tree: the part of its id after the last `:`.
pub fn agent_name(id: &str) -> &str {
    id.rsplit(':').next().unwrap_or(id)
}

/// The path of a child agent `child_id` delegated to by the agent at `parent_path`.
pub fn child_path(parent_path: &str, child_id: &str) -> Result<String> {
    validate_agent_id(child_id)?;
    Ok(format!("{parent_path}/{}", agent_name(child_id)))
}

/// The path of a child agent `child_id` appended to a delegation chain, checking that the child
/// names **one new agent**: its id must not be the id of an agent already in the chain, and its
/// name (the path segment [`child_path`] appends) must be neither the name of an agent already
/// in the chain — the root agent included — nor a segment of the parent's path (`root`, or an
/// earlier hop's name). Otherwise a child could report itself as the root agent (`agent:o`
/// delegating to a second `agent:o`) in decisions, audit events and exchanged JWTs.
///
/// `chain` is the agent ids of the chain, root first; `parent_path` the path of its last agent.
/// A clash is `invalid_argument` naming it (the verifier turns it into `invalid_token`).
///
/// ```
/// use marque::identity::child_path_in_chain;
/// assert_eq!(child_path_in_chain(&["agent:o", "agent:a"], "/root/a", "agent:b")?, "/root/a/b");
/// let e = child_path_in_chain(&["agent:o", "agent:a"], "/root/a", "agent:o").unwrap_err();
/// assert_eq!(e.code(), "invalid_argument");
/// // Another id with a name already used (the path segment "a") is refused too.
/// assert!(child_path_in_chain(&["agent:o", "agent:a"], "/root/a", "team:a").is_err());
/// assert!(child_path_in_chain(&["agent:o"], "/root", "agent:root").is_err());
/// # Ok::<(), marque::Error>(())
/// ```
pub fn child_path_in_chain(chain: &[&str], parent_path: &str, child_id: &str) -> Result<String> {
    let path = child_path(parent_path, child_id)?;
    let name = agent_name(child_id);
    if let Some(other) = chain.iter().find(|a| **a == child_id) {
        return Err(Error::invalid_argument(format!(
            "agent id {other:?} is already in the delegation chain; each agent of a chain has its own id"
        )));
    }
    if let Some(other) = chain.iter().find(|a| agent_name(a) == name) {
        return Err(Error::invalid_argument(format!(
            "agent name {name:?} of {child_id:?} is already used by {other:?} in the delegation chain; \
             each agent of a chain has its own name (the last part of its id)"
        )));
    }
    if parent_path.split('/').any(|segment| segment == name) {
        return Err(Error::invalid_argument(format!(
            "agent name {name:?} of {child_id:?} is already a segment of the path {parent_path:?}"
        )));
    }
    Ok(path)
}

// ---------------------------------------------------------------------------------------------
// Agent identity records and agent assertions
// ---------------------------------------------------------------------------------------------

/// The environment variable [`AgentIdentity::from_env`] reads.
pub const IDENTITY_ENV_VAR: &str = "MARQUE_AGENT_IDENTITY";

/// Largest agent identity record accepted (JSON, JWT or file), in bytes.
pub const MAX_IDENTITY_RECORD_BYTES: usize = 64 * 1024;

/// Scheme of the `Authorization` header carrying an agent assertion.
pub const AGENT_ASSERTION_SCHEME: &str = "AgentAssertion";

/// Default freshness window of an agent assertion, in seconds either side of `now`.
pub const DEFAULT_ASSERTION_WINDOW_SECONDS: u64 = 60;

/// Largest agent assertion header accepted, in bytes.
pub const MAX_ASSERTION_BYTES: usize = 8 * 1024;

/// A registered agent's identity record: its workspace, its runtime id and its private key.
///
/// Records come as a JSON object or as a JWT whose payload is that object, with members
/// `workspace_id`, `agent_runtime_id` and `agent_private_key` (required), `chatgpt_user_id` and
/// `registered_at` (optional); other members are kept in [`extra`](Self::extra). The private key
/// may be 64 hex digits (the 32-byte seed), a PKCS#8 PEM, base64 or base64url (padded or not) of
/// the 32-byte seed or of a PKCS#8 DER document, or an RFC 8037 private JWK object. The agent's
/// id is `agent:` followed by its runtime id. `Debug` never prints the key.
///
/// ```
/// use marque::identity::{AgentIdentity, verify_agent_assertion, AssertionOptions};
/// let record = r#"{"workspace_id":"ws_1","agent_runtime_id":"rt_42",
///   "agent_private_key":"0101010101010101010101010101010101010101010101010101010101010101"}"#;
/// let id = AgentIdentity::parse(record, None)?;
/// assert_eq!(id.agent_id(), "agent:rt_42");
/// assert!(!format!("{id:?}").contains("0101"));
///
/// // The agent proves itself with an `Authorization: AgentAssertion …` header.
/// let header = id.sign_assertion("task_7", 1_700_000_000)?;
/// let ok = verify_agent_assertion(&header, &id.public_key(), &AssertionOptions::new(1_700_000_030))?;
/// assert_eq!((ok.agent_runtime_id.as_str(), ok.task_id.as_str()), ("rt_42", "task_7"));
/// # Ok::<(), marque::Error>(())
/// ```
#[derive(Clone)]
pub struct AgentIdentity {
    workspace_id: String,
    agent_runtime_id: String,
    keypair: KeyPair,
    chatgpt_user_id: Option<String>,
    registered_at: Option<Value>,
    extra: Map<String, Value>,
}

impl AgentIdentity {
    /// Parses a record given as a JSON object.
    pub fn from_json(json: &str) -> Result<Self> {
        check_record_size(json)?;
        match crate::jcs::parse_strict(json)? {
            Value::Object(m) => AgentIdentity::from_map(m),
            _ => Err(Error::invalid_argument("an agent identity record is a JSON object")),
        }
    }

    /// Parses a record given as a JWT. With `trusted`, the signature is verified strictly
    /// (EdDSA only, header rules of [`jwt_verify`](crate::jwt::jwt_verify); no claim checks) and
    /// any failure is an `invalid_jwt` error; without it the token is only decoded.
    pub fn from_jwt(token: &str, trusted: Option<&PublicKey>) -> Result<Self> {
        let parts = match trusted {
            Some(key) => {
                crate::jwt::jws_verify(token, &JwtKeys::from(*key), MAX_IDENTITY_RECORD_BYTES)?
            }
            None => crate::jwt::jwt_decode(token)?,
        };
        AgentIdentity::from_map(parts.payload)
    }

    /// Parses a record given either way: text starting with `{` is JSON, anything else a JWT.
    /// When `trusted` is given the record must be a JWT signed by that key: plain JSON carries
    /// no signature and is refused (`invalid_signature`).
    pub fn parse(text: &str, trusted: Option<&PublicKey>) -> Result<Self> {
        let text = text.trim();
        if text.starts_with('{') {
            if trusted.is_some() {
                return Err(Error::new(
                    ErrorKind::InvalidSignature,
                    "a trusted key was given but the identity record is plain JSON, which carries no signature",
                ));
            }
            AgentIdentity::from_json(text)
        } else {
            AgentIdentity::from_jwt(text, trusted)
        }
    }

    /// Reads a record (JSON or JWT) from a file.
    #[cfg(feature = "std")]
    pub fn from_file(
        path: impl AsRef<std::path::Path>,
        trusted: Option<&PublicKey>,
    ) -> Result<Self> {
        use std::io::Read as _;
        let path = path.as_ref();
        let cant = |e: std::io::Error| {
            Error::invalid_argument(format!(
                "cannot read the identity record {}: {e}",
                path.display()
            ))
        };
        let file = std::fs::File::open(path).map_err(cant)?;
        let mut text = zeroize::Zeroizing::new(String::new());
        let limit = MAX_IDENTITY_RECORD_BYTES as u64 + 1;
        file.take(limit).read_to_string(&mut text).map_err(cant)?;
        AgentIdentity::parse(&text, trusted)
    }

    /// Reads a record from the `MARQUE_AGENT_IDENTITY` environment variable, which holds the JSON
    /// or JWT itself, or `@` followed by the path of a file holding it.
    #[cfg(feature = "std")]
    pub fn from_env(trusted: Option<&PublicKey>) -> Result<Self> {
        let value = zeroize::Zeroizing::new(std::env::var(IDENTITY_ENV_VAR).map_err(|e| {
            Error::invalid_argument(format!("{IDENTITY_ENV_VAR} is not usable: {e}"))
        })?);
        match value.trim().strip_prefix('@') {
            Some(path) => AgentIdentity::from_file(path, trusted),
            None => AgentIdentity::parse(&value, trusted),
        }
    }

    fn from_map(mut m: Map<String, Value>) -> Result<Self> {
        let workspace_id = take_string(&mut m, "workspace_id")?;
        let agent_runtime_id = take_string(&mut m, "agent_runtime_id")?;
        validate_agent_id(&format!("agent:{agent_runtime_id}"))?;
        let key = m.remove("agent_private_key").ok_or_else(|| {
            Error::invalid_argument("the agent identity record has no agent_private_key")
        })?;
        let keypair = parse_private_key(key)?;
        let chatgpt_user_id = match m.remove("chatgpt_user_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err(Error::invalid_argument("chatgpt_user_id must be a string")),
        };
        let registered_at = m.remove("registered_at").filter(|v| !v.is_null());
        Ok(AgentIdentity {
            workspace_id,
            agent_runtime_id,
            keypair,
            chatgpt_user_id,
            registered_at,
            extra: m,
        })
    }

    /// The agent's id: `agent:` followed by its runtime id.
    pub fn agent_id(&self) -> String {
        format!("agent:{}", self.agent_runtime_id)
    }
    /// The workspace.
    pub fn workspace_id(&self) -> &str {
        &self.workspace_id
    }
    /// The runtime id.
    pub fn agent_runtime_id(&self) -> &str {
        &self.agent_runtime_id
    }
    /// The agent's key pair.
    pub fn keypair(&self) -> &KeyPair {
        &self.keypair
    }
    /// The agent's public key.
    pub fn public_key(&self) -> PublicKey {
        self.keypair.public_key()
    }
    /// The ChatGPT user the agent was registered by, if recorded.
    pub fn chatgpt_user_id(&self) -> Option<&str> {
        self.chatgpt_user_id.as_deref()
    }
    /// When the agent was registered, as given (RFC 3339 text or a number), if recorded.
    pub fn registered_at(&self) -> Option<&Value> {
        self.registered_at.as_ref()
    }
    /// Other members of the record (for a JWT record, its other claims).
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// An `Authorization` header value proving this agent works on `task_id` at `now`
    /// (see [`sign_agent_assertion`]).
    pub fn sign_assertion(&self, task_id: &str, now: u64) -> Result<String> {
        sign_agent_assertion(&self.keypair, &self.agent_runtime_id, task_id, now)
    }
}

impl core::fmt::Debug for AgentIdentity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AgentIdentity")
            .field("workspace_id", &self.workspace_id)
            .field("agent_runtime_id", &self.agent_runtime_id)
            .field("public_key", &self.keypair.public_key().fingerprint())
            .field("agent_private_key", &"<redacted>")
            .field("chatgpt_user_id", &self.chatgpt_user_id)
            .field("registered_at", &self.registered_at)
            .field("extra", &self.extra.keys().collect::<alloc::vec::Vec<_>>())
            .finish()
    }
}

fn check_record_size(text: &str) -> Result<()> {
    if text.len() > MAX_IDENTITY_RECORD_BYTES {
        return Err(Error::new(
            ErrorKind::LimitsExceeded,
            format!("the identity record is larger than {MAX_IDENTITY_RECORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

fn take_string(m: &mut Map<String, Value>, name: &str) -> Result<String> {
    match m.remove(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(Error::invalid_argument(format!("{name} must be a non-empty string"))),
        None => Err(Error::invalid_argument(format!("the agent identity record has no {name}"))),
    }
}

/// base64 in either alphabet, padded or not (whitespace ignored).
fn decode_base64_any(text: &str) -> Option<zeroize::Zeroizing<alloc::vec::Vec<u8>>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use base64::Engine as _;
    const LENIENT: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
    const URL: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);
    let compact = zeroize::Zeroizing::new(
        text.chars().filter(|c| !c.is_ascii_whitespace()).collect::<String>(),
    );
    STD.decode(compact.as_bytes())
        .or_else(|_| URL.decode(compact.as_bytes()))
        .ok()
        .map(zeroize::Zeroizing::new)
}

fn parse_private_key(value: Value) -> Result<KeyPair> {
    const FORMATS: &str =
        "agent_private_key is not a usable Ed25519 private key (expected hex seed, \
        PKCS#8 PEM, base64 of the seed or of PKCS#8 DER, or a private JWK)";
    match value {
        Value::Object(o) => {
            let jwk: crate::keys::Jwk = serde_json::from_value(Value::Object(o))
                .map_err(|_| Error::invalid_key(FORMATS))?;
            KeyPair::from_jwk(&jwk)
        }
        Value::String(s) => {
            let s = zeroize::Zeroizing::new(s);
            let t = s.trim();
            if t.starts_with("-----BEGIN") {
                return KeyPair::from_pem(t);
            }
            if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
                return KeyPair::from_hex(t);
            }
            let raw = decode_base64_any(t).ok_or_else(|| Error::invalid_key(FORMATS))?;
            if raw.len() == crate::keys::KEY_LENGTH {
                return KeyPair::from_bytes(&raw);
            }
            KeyPair::from_pkcs8_der(&raw).map_err(|_| Error::invalid_key(FORMATS))
        }
        _ => Err(Error::invalid_key(FORMATS)),
    }
}

/// A verified agent assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentAssertion {
    /// The agent's runtime id.
    pub agent_runtime_id: String,
    /// The task it works on.
    pub task_id: String,
    /// When it signed, in seconds since the Unix epoch.
    pub timestamp: u64,
}

/// What [`verify_agent_assertion`] checks besides the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionOptions {
    /// The current time, seconds since the epoch.
    pub now: u64,
    /// Accepted distance between the assertion's timestamp and `now` (default 60 s).
    pub window_seconds: u64,
    /// Largest accepted header in bytes (default 8 KiB).
    pub max_size: usize,
}

impl AssertionOptions {
    /// Defaults at time `now`.
    pub fn new(now: u64) -> Self {
        AssertionOptions {
            now,
            window_seconds: DEFAULT_ASSERTION_WINDOW_SECONDS,
            max_size: MAX_ASSERTION_BYTES,
        }
    }
    /// Sets the freshness window.
    pub fn window_seconds(mut self, seconds: u64) -> Self {
        self.window_seconds = seconds;
        self
    }
}

/// Builds an `Authorization` header value in the Codex agent-identity wire format:
/// `AgentAssertion ` + base64url (unpadded) of the JSON object `{agent_runtime_id, task_id,
/// timestamp, signature}`, where `timestamp` is RFC 3339 UTC (`2023-11-14T22:13:20Z`) and
/// `signature` is the standard-base64 Ed25519 signature of
/// `"<agent_runtime_id>:<task_id>:<timestamp>"`. `key` is a [`KeyPair`] or any
/// [`Signer`](crate::signer::Signer) (its signature is checked before use: `signer_failed`).
pub fn sign_agent_assertion<S: crate::signer::Signer + ?Sized>(
    key: &S,
    agent_runtime_id: &str,
    task_id: &str,
    now: u64,
) -> Result<String> {
    use base64::Engine as _;
    if agent_runtime_id.trim().is_empty() || task_id.trim().is_empty() {
        return Err(Error::invalid_argument("agent_runtime_id and task_id must not be empty"));
    }
    let timestamp = rfc3339_from_unix(crate::clock::check("now", now)?);
    let message = format!("{agent_runtime_id}:{task_id}:{timestamp}");
    let signature = base64::engine::general_purpose::STANDARD
        .encode(crate::signer::sign_checked(key, message.as_bytes())?.to_bytes());
    let mut body = Map::new();
    body.insert("agent_runtime_id".into(), agent_runtime_id.into());
    body.insert("task_id".into(), task_id.into());
    body.insert("timestamp".into(), timestamp.into());
    body.insert("signature".into(), signature.into());
    let json = crate::jcs::canonicalize(&Value::Object(body))?;
    Ok(format!(
        "{AGENT_ASSERTION_SCHEME} {}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    ))
}

/// Verifies an agent assertion (the `Authorization` header value, with or without the
/// `AgentAssertion` scheme) signed by `key`. See [`verify_agent_assertion_with`]; it does not
/// refuse a replay ([`AssertionVerifier`] does).
pub fn verify_agent_assertion(
    header: &str,
    key: &PublicKey,
    options: &AssertionOptions,
) -> Result<AgentAssertion> {
    verify_agent_assertion_with(header, |_| Some(*key), options)
}

/// Verifies an agent assertion, looking the agent's registered key up by its runtime id.
///
/// The payload may be base64 or base64url, padded or not; its members must be exactly
/// `agent_runtime_id`, `task_id`, `timestamp` (RFC 3339 text, or seconds since the epoch as a
/// number or digit string) and `signature` (base64 or base64url of an Ed25519 signature of
/// `"<agent_runtime_id>:<task_id>:<timestamp as written>"`, checked strictly). A malformed
/// assertion, an unknown agent or a bad signature is `invalid_proof`; a timestamp more than the
/// window in the past is `expired`, more than the window in the future `invalid_proof`.
///
/// This checks one assertion and remembers nothing: the same header is accepted again while its
/// timestamp is within the window. To refuse a second use, verify through an
/// [`AssertionVerifier`].
pub fn verify_agent_assertion_with<F: FnOnce(&str) -> Option<PublicKey>>(
    header: &str,
    lookup: F,
    options: &AssertionOptions,
) -> Result<AgentAssertion> {
    verify_assertion_parts(header, lookup, options).map(|(assertion, _)| assertion)
}

/// [`verify_agent_assertion_with`], also returning the verified signature.
fn verify_assertion_parts<F: FnOnce(&str) -> Option<PublicKey>>(
    header: &str,
    lookup: F,
    options: &AssertionOptions,
) -> Result<(AgentAssertion, crate::keys::Signature)> {
    let bad = |m: &str| Error::new(ErrorKind::InvalidProof, format!("agent assertion: {m}"));
    crate::clock::check("now", options.now)?;
    if header.len() > options.max_size {
        return Err(Error::new(
            ErrorKind::LimitsExceeded,
            format!("the agent assertion is larger than {} bytes", options.max_size),
        ));
    }
    let mut text = header.trim();
    if let Some((scheme, rest)) = text.split_once(' ') {
        if !scheme.eq_ignore_ascii_case(AGENT_ASSERTION_SCHEME) {
            return Err(bad("the authorization scheme is not AgentAssertion"));
        }
        text = rest.trim();
    }
    let raw = decode_base64_any(text).ok_or_else(|| bad("the payload is not base64"))?;
    let mut fields = match crate::jcs::parse_strict_slice(&raw) {
        Ok(Value::Object(m)) => m,
        _ => return Err(bad("the payload is not a JSON object")),
    };
    let mut string = |name: &str| match fields.remove(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(bad(&format!("{name} must be a non-empty string"))),
    };
    let agent_runtime_id = string("agent_runtime_id")?;
    let task_id = string("task_id")?;
    let signature = string("signature")?;
    let (timestamp_text, timestamp) = match fields.remove("timestamp") {
        Some(Value::String(s)) => {
            let t =
                parse_timestamp(&s).ok_or_else(|| bad("timestamp is not RFC 3339 or seconds"))?;
            (s, t)
        }
        Some(Value::Number(n)) => match n.as_u64() {
            Some(t) => (format!("{t}"), t),
            None => return Err(bad("timestamp must be a non-negative integer")),
        },
        _ => return Err(bad("timestamp is missing")),
    };
    if let Some(other) = fields.keys().next() {
        return Err(bad(&format!(
            "unexpected member {}",
            crate::error::sanitize(&crate::jcs::quote(other))
        )));
    }
    let key = lookup(&agent_runtime_id).ok_or_else(|| bad("the agent is not registered"))?;
    let sig = decode_base64_any(&signature)
        .and_then(|b| crate::keys::Signature::from_slice(&b).ok())
        .ok_or_else(|| bad("signature is not a base64 Ed25519 signature"))?;
    let message = format!("{agent_runtime_id}:{task_id}:{timestamp_text}");
    key.verify(message.as_bytes(), &sig).map_err(|_| bad("the signature does not verify"))?;
    if timestamp > options.now.saturating_add(options.window_seconds) {
        return Err(bad("the timestamp is in the future"));
    }
    if options.now > timestamp.saturating_add(options.window_seconds) {
        return Err(Error::new(
            ErrorKind::Expired,
            format!(
                "agent assertion: signed at {timestamp}, more than {} s before {}",
                options.window_seconds, options.now
            ),
        ));
    }
    Ok((AgentAssertion { agent_runtime_id, task_id, timestamp }, sig))
}

/// Default number of agent assertions an [`AssertionVerifier`] remembers.
pub const DEFAULT_ASSERTION_CACHE_CAPACITY: usize = 100_000;

/// Verifies agent assertions and refuses a second use of one: the replay rule the Codex wire
/// format leaves to the verifier.
///
/// The wire format has no nonce and no audience, so [`verify_agent_assertion`] alone accepts
/// the same header again and again while its timestamp is within the window. An
/// `AssertionVerifier` keeps the window (default [`DEFAULT_ASSERTION_WINDOW_SECONDS`] either
/// side of `now`) and a seen-set of the assertions it accepted, keyed by agent key and signature
/// (so a re-encoded header — another base64 alphabet, padding, member order — is the same
/// assertion). An assertion is remembered until its timestamp plus the window, after which it is
/// `expired` anyway. A second use within the window is `replayed_proof`. The set is bounded
/// (default [`DEFAULT_ASSERTION_CACHE_CAPACITY`]) and fails closed: when full of unexpired
/// assertions, new ones are refused (`limits_exceeded`) rather than older ones forgotten.
/// One agent signing the same task twice within one second produces the same assertion (Ed25519
/// signatures are deterministic): only the first is accepted.
///
/// The seen-set belongs to one verifier (one process): a fleet of servers behind a load
/// balancer needs a shared store, or an audience-specific task id, to refuse a replay on
/// another server.
///
/// ```
/// use marque::identity::{AgentIdentity, AssertionVerifier};
/// let id = AgentIdentity::from_json(r#"{"workspace_id":"ws","agent_runtime_id":"rt_42",
///   "agent_private_key":"0101010101010101010101010101010101010101010101010101010101010101"}"#)?;
/// let header = id.sign_assertion("task_7", 1_700_000_000)?;
/// let mut verifier = AssertionVerifier::new();
/// let ok = verifier.verify(&header, &id.public_key(), 1_700_000_010)?;
/// assert_eq!(ok.task_id, "task_7");
/// let again = verifier.verify(&header, &id.public_key(), 1_700_000_020).unwrap_err();
/// assert_eq!(again.code(), "replayed_proof");
/// # Ok::<(), marque::Error>(())
/// ```
#[derive(Clone)]
pub struct AssertionVerifier {
    window_seconds: u64,
    max_size: usize,
    capacity: usize,
    seen: crate::proof::ReplayCache,
}

impl core::fmt::Debug for AssertionVerifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AssertionVerifier")
            .field("window_seconds", &self.window_seconds)
            .field("capacity", &self.capacity)
            .field("remembered", &self.seen.len())
            .finish()
    }
}

impl Default for AssertionVerifier {
    fn default() -> Self {
        AssertionVerifier::new()
    }
}

impl AssertionVerifier {
    /// A verifier with the default window (60 s) and capacity (100 000 assertions).
    pub fn new() -> Self {
        AssertionVerifier::with_capacity(DEFAULT_ASSERTION_CACHE_CAPACITY)
    }
    /// A verifier remembering at most `capacity` unexpired assertions.
    pub fn with_capacity(capacity: usize) -> Self {
        AssertionVerifier {
            window_seconds: DEFAULT_ASSERTION_WINDOW_SECONDS,
            max_size: MAX_ASSERTION_BYTES,
            capacity,
            seen: crate::proof::ReplayCache::new(capacity),
        }
    }
    /// Sets the freshness window (seconds either side of `now`).
    pub fn window_seconds(mut self, seconds: u64) -> Self {
        self.window_seconds = seconds;
        self
    }
    /// The freshness window, in seconds either side of `now`.
    pub fn window(&self) -> u64 {
        self.window_seconds
    }
    /// Most unexpired assertions remembered.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// How many assertions are remembered (expired ones are dropped on the next verification).
    pub fn len(&self) -> usize {
        self.seen.len()
    }
    /// Whether no assertion is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Verifies an assertion signed by `key` at `now` (see [`verify_agent_assertion_with`]) and
    /// records it; a second use within the window is `replayed_proof`, a full set
    /// `limits_exceeded`.
    pub fn verify(&mut self, header: &str, key: &PublicKey, now: u64) -> Result<AgentAssertion> {
        self.verify_with(header, |_| Some(*key), now)
    }

    /// [`verify`](Self::verify), looking the agent's key up by its runtime id.
    pub fn verify_with<F: FnOnce(&str) -> Option<PublicKey>>(
        &mut self,
        header: &str,
        lookup: F,
        now: u64,
    ) -> Result<AgentAssertion> {
        let options = AssertionOptions { now, window_seconds: self.window_seconds, max_size: self.max_size };
        let mut signer = None;
        let (assertion, signature) = verify_assertion_parts(
            header,
            |id| {
                signer = lookup(id);
                signer
            },
            &options,
        )?;
        let key = signer.ok_or_else(|| Error::internal("a verified assertion has no key"))?;
        let expires = assertion.timestamp.saturating_add(self.window_seconds);
        self.seen
            .check_and_insert(&key, &crate::keys::hex_encode(&signature.to_bytes()), expires, now)
            .map_err(|e| match e.kind() {
                ErrorKind::ReplayedProof => Error::new(
                    ErrorKind::ReplayedProof,
                    "agent assertion: already used (an assertion is accepted once within its window)",
                ),
                ErrorKind::LimitsExceeded => Error::new(
                    ErrorKind::LimitsExceeded,
                    "agent assertion: the verifier remembers as many unexpired assertions as it may; \
                     refusing new ones until some expire",
                ),
                _ => e,
            })?;
        Ok(assertion)
    }
}

fn parse_timestamp(s: &str) -> Option<u64> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    parse_rfc3339(s)
}

/// Seconds since the epoch of an RFC 3339 date-time (`2023-11-14T22:13:20Z`, fractions
/// truncated, numeric offsets applied). `None` before 1970 or when malformed.
pub(crate) fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let digits = |from: usize, to: usize| -> Option<i64> {
        let part = b.get(from..to)?;
        part.iter()
            .try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
    };
    let sep = |at: usize, ok: &[u8]| b.get(at).is_some_and(|c| ok.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 7)?, digits(8, 10)?);
    let (hour, minute, second) = (digits(11, 13)?, digits(14, 16)?, digits(17, 19)?);
    let mut rest = b.get(19..)?;
    if let Some((b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = frac.get(n..)?;
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |x: u8, y: u8| -> Option<i64> {
                (x.is_ascii_digit() && y.is_ascii_digit())
                    .then(|| i64::from(x - b'0') * 10 + i64::from(y - b'0'))
            };
            let (oh, om) = (two(*h1, *h2)?, two(*m1, *m2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let max_day = *month_days.get(usize::try_from(month - 1).ok()?)?;
    if !(1..=max_day).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let t = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    u64::try_from(t).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// RFC 3339 UTC text (`2023-11-14T22:13:20Z`) of seconds since the epoch.
pub(crate) fn rfc3339_from_unix(t: u64) -> String {
    let days = i64::try_from(t / 86_400).unwrap_or(i64::MAX / 2);
    let secs = t % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(agent_name("agent:a:b"), "b");
        assert_eq!(agent_name("plain"), "plain");
        assert_eq!(child_path("/root/x", "agent:y").unwrap(), "/root/x/y");
        for bad in ["", "agent:", "agent:a/b", "a\"b", "a\\b", "a\nb", "agent: x"] {
            assert_eq!(validate_agent_id(bad).unwrap_err().code(), "invalid_argument", "{bad:?}");
        }
        assert!(validate_name("principal", &"x".repeat(257)).is_err());
    }

    #[test]
    fn a_child_names_one_new_agent() {
        let chain = ["agent:o", "agent:a"];
        assert_eq!(child_path_in_chain(&chain, "/root/a", "agent:b").unwrap(), "/root/a/b");
        for (clash, what) in [
            ("agent:o", "agent id \"agent:o\""),
            ("agent:a", "agent id \"agent:a\""),
            ("team:o", "agent name \"o\""),
            ("x:y:a", "agent name \"a\""),
            ("agent:root", "segment"),
        ] {
            let e = child_path_in_chain(&chain, "/root/a", clash).unwrap_err();
            assert_eq!(e.code(), "invalid_argument", "{clash}");
            assert!(e.message().contains(what), "{clash}: {e}");
        }
        // Names are compared exactly (ids are case-sensitive everywhere).
        assert!(child_path_in_chain(&chain, "/root/a", "agent:O").is_ok());
        assert_eq!(child_path_in_chain(&chain, "/root/a", "agent:").unwrap_err().code(), "invalid_argument");
    }

    #[test]
    fn an_assertion_verifier_refuses_replays_and_fails_closed_when_full() {
        let key = KeyPair::from_seed(&[7; 32]);
        let t = 1_700_000_000;
        let header = sign_agent_assertion(&key, "rt_1", "task", t).unwrap();
        let mut v = AssertionVerifier::with_capacity(2);
        assert!(v.verify(&header, &key.public_key(), t).is_ok());
        assert_eq!(v.verify(&header, &key.public_key(), t + 1).unwrap_err().code(), "replayed_proof");
        // The same assertion re-encoded (standard base64, padded) is the same assertion.
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header.trim_start_matches("AgentAssertion ")).unwrap();
        let reencoded = base64::engine::general_purpose::STANDARD.encode(raw);
        assert_eq!(v.verify(&reencoded, &key.public_key(), t + 1).unwrap_err().code(), "replayed_proof");
        // Another task is another assertion; a third one does not fit: refused, nothing forgotten.
        assert!(v.verify(&sign_agent_assertion(&key, "rt_1", "task2", t).unwrap(), &key.public_key(), t).is_ok());
        let third = sign_agent_assertion(&key, "rt_1", "task3", t).unwrap();
        assert_eq!(v.verify(&third, &key.public_key(), t).unwrap_err().code(), "limits_exceeded");
        assert_eq!(v.len(), 2);
        // A failed verification records nothing.
        let other = KeyPair::from_seed(&[8; 32]).public_key();
        assert_eq!(v.verify(&third, &other, t).unwrap_err().code(), "invalid_proof");
        // Past the window the first ones are expired: their slots free up, and the old header
        // is `expired`, not accepted again.
        let later = t + DEFAULT_ASSERTION_WINDOW_SECONDS + 1;
        assert_eq!(v.verify(&header, &key.public_key(), later).unwrap_err().code(), "expired");
        let fresh = sign_agent_assertion(&key, "rt_1", "task3", later).unwrap();
        assert!(v.verify(&fresh, &key.public_key(), later).is_ok());
        assert_eq!(v.len(), 1);
        // The stateless function accepts a replay (documented): the verifier is what refuses it.
        let options = AssertionOptions::new(t);
        assert!(verify_agent_assertion(&header, &key.public_key(), &options).is_ok());
        assert!(verify_agent_assertion(&header, &key.public_key(), &options).is_ok());
    }

    #[test]
    fn rfc3339_round_trip() {
        for (t, text) in [
            (0u64, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_700_000_000, "2023-11-14T22:13:20Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
        ] {
            assert_eq!(rfc3339_from_unix(t), text);
            assert_eq!(parse_rfc3339(text), Some(t));
        }
        assert_eq!(parse_rfc3339("2023-11-14T23:13:20.123+01:00"), Some(1_700_000_000));
        assert_eq!(parse_rfc3339("2023-11-14t22:13:20z"), Some(1_700_000_000));
        assert_eq!(parse_rfc3339("2023-11-14T17:13:20-05:00"), Some(1_700_000_000));
        for bad in [
            "",
            "2023-11-14",
            "2023-02-29T00:00:00Z",
            "2023-11-14T24:00:00Z",
            "1969-12-31T23:59:59Z",
            "2023-11-14T22:13:20",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20+1:00",
            "2023-13-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
