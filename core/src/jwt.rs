//! Compact mode: EdDSA-signed JSON Web Tokens for single-hop calls.
//!
//! [`jwt_issue`] signs any JSON object of claims (usually a [`Claims`], built with its builder
//! methods) with an Ed25519 key, under the header `{"alg":"EdDSA","typ":"JWT"}` plus `kid` when
//! one is given; header and payload are RFC 8785 canonical JSON, so issuing is deterministic.
//! [`jwt_verify`] is strict: the token must be three unpadded base64url segments within
//! [`JwtOptions::max_size`]; the header may only carry `alg` (`EdDSA`, or its fully specified
//! name `Ed25519`), `typ` and `kid` (so `none`, HMAC/RSA/ECDSA algorithms, embedded `jwk`,
//! `jku`, `x5u`, `x5c` and any `crit` are refused); duplicate JSON members are refused in header
//! and payload; the key is chosen by `kid` among the verifier's [`JwtKeys`], never taken from the
//! token; the signature is checked with strict Ed25519 verification; `exp` is required and must
//! be a number; `nbf`, `iat` and `aud` are checked with a leeway. Times are seconds
//! ([`crate::clock`]): an `exp`/`nbf`/`iat` outside 2000…2200 is `invalid_argument` when issuing
//! and `invalid_jwt` when verifying, a verification time outside it `invalid_argument`. Every rejection is an
//! `invalid_jwt` error, except a past `exp` (`expired`) and an over-size token
//! (`limits_exceeded`). [`chain_to_act`] and [`act_to_chain`] convert a delegation chain to and
//! from the RFC 8693 nested `act` claim.
//!
//! ```
//! use marque::{jwt_issue, jwt_verify, Claims, JwtKeys, JwtOptions, KeyPair};
//! let issuer = KeyPair::from_seed(&[1; 32]);
//! let claims = Claims::new()
//!     .issuer("https://orchestrator.example")
//!     .subject("agent:reviewer")
//!     .audience("https://tools.example")
//!     .valid_for(1_700_000_000, 300)
//!     .actor_chain(&["agent:orchestrator", "agent:reviewer"]);
//! let token = jwt_issue(&issuer, &claims, Some("k1"))?;
//!
//! let keys = JwtKeys::new().with("k1", issuer.public_key());
//! let options = JwtOptions::new(1_700_000_100).audience("https://tools.example");
//! let verified = jwt_verify(&token, &keys, &options)?;
//! assert_eq!(verified.sub.as_deref(), Some("agent:reviewer"));
//! assert_eq!(verified.delegation_chain(), ["agent:orchestrator", "agent:reviewer"]);
//!
//! // Too late: `expired`. An unsigned token: `invalid_jwt`.
//! let late = JwtOptions::new(1_700_001_000).audience("https://tools.example");
//! assert_eq!(jwt_verify(&token, &keys, &late).unwrap_err().code(), "expired");
//! let unsigned = "eyJhbGciOiJub25lIn0.eyJleHAiOjJ9.";
//! assert_eq!(jwt_verify(unsigned, &keys, &options).unwrap_err().code(), "invalid_jwt");
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{sanitize, Error, ErrorKind, Result};
use crate::jcs;
use crate::keys::{Jwk, PublicKey, Signature};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Default clock leeway for `exp`, `nbf` and `iat`, in seconds.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 30;
/// Default cap on the size of a token, in bytes.
pub const DEFAULT_MAX_SIZE: usize = 8 * 1024;
/// Cap on the size of a token read by [`jwt_decode`] (identity records carry a private key).
pub const MAX_DECODE_SIZE: usize = 64 * 1024;

/// The `typ` values accepted in a header (compared case-insensitively): plain JWTs, and the
/// compact tokens of the IETF AIP draft's reference implementation.
const ACCEPTED_TYP: [&str; 2] = ["JWT", "aip+jwt"];

/// Claim names with a typed member in [`Claims`].
pub const REGISTERED_CLAIMS: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "scope",
    "act",
    "cnf",
    "task",
    "workspace",
    "principal",
    "resource",
];

fn invalid(message: impl Into<alloc::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::InvalidJwt, message)
}

/// A string or an array of strings (`aud`, and `scope` in its array form).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single string.
    One(String),
    /// An array of strings.
    Many(Vec<String>),
}

impl OneOrMany {
    /// Whether `value` is the string or one of the strings.
    pub fn contains(&self, value: &str) -> bool {
        match self {
            OneOrMany::One(s) => s == value,
            OneOrMany::Many(v) => v.iter().any(|s| s == value),
        }
    }

    /// The strings.
    pub fn to_vec(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => alloc::vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// An RFC 8693 actor: `sub` acted, on behalf of the prior actor in `act` (if any).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The actor's identifier (an agent id in marque).
    pub sub: String,
    /// The actor before this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Actor>>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An RFC 7800 confirmation (`cnf`): the key the holder must prove possession of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The holder's public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwk: Option<Jwk>,
    /// The RFC 7638 thumbprint of the holder's key (base64url SHA-256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The claims of a compact-mode token. Unregistered claims are kept in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Subject: the agent the token is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audience(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<OneOrMany>,
    /// Expiry, seconds since the epoch (a fractional value is rounded down).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_numeric_date"
    )]
    pub exp: Option<u64>,
    /// Not before, seconds since the epoch.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_numeric_date"
    )]
    pub nbf: Option<u64>,
    /// Issued at, seconds since the epoch.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_numeric_date"
    )]
    pub iat: Option<u64>,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Scope: a space-separated string (OAuth) or an array of strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<OneOrMany>,
    /// RFC 8693 actor chain: the outermost `act` is the most recent actor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
    /// RFC 7800 holder-of-key confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// The task the token is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The workspace the token is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// On whose behalf (`user:alice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// The resource the token allows (a token exchanged from a marque decision: the one
    /// resource that was decided, together with `scope` = `tool:operation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Other claims.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn de_numeric_date<'de, D: Deserializer<'de>>(d: D) -> core::result::Result<Option<u64>, D::Error> {
    let v = Value::deserialize(d)?;
    match v {
        Value::Null => Ok(None),
        v => numeric_date(&v, false).map(Some).ok_or_else(|| {
            serde::de::Error::custom("a NumericDate must be a non-negative JSON number")
        }),
    }
}

/// Reads a NumericDate: a non-negative JSON number; fractions rounded down or up.
fn numeric_date(v: &Value, round_up: bool) -> Option<u64> {
    let n = v.as_number()?;
    if let Some(u) = n.as_u64() {
        return Some(u);
    }
    let f = n.as_f64()?;
    if !f.is_finite() || f < 0.0 {
        return None;
    }
    let whole = f as u64; // saturating, rounds toward zero
    Some(if round_up && (whole as f64) < f { whole.saturating_add(1) } else { whole })
}

impl Claims {
    /// Empty claims.
    pub fn new() -> Self {
        Claims::default()
    }
    /// Sets `iss`.
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.iss = Some(iss.into());
        self
    }
    /// Sets `sub`.
    pub fn subject(mut self, sub: impl Into<String>) -> Self {
        self.sub = Some(sub.into());
        self
    }
    /// Sets a single `aud`.
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.aud = Some(OneOrMany::One(aud.into()));
        self
    }
    /// Sets several audiences.
    pub fn audiences<I: IntoIterator<Item = S>, S: Into<String>>(mut self, aud: I) -> Self {
        self.aud = Some(OneOrMany::Many(aud.into_iter().map(Into::into).collect()));
        self
    }
    /// Sets `exp`.
    pub fn expires_at(mut self, exp: u64) -> Self {
        self.exp = Some(exp);
        self
    }
    /// Sets `nbf`.
    pub fn not_before(mut self, nbf: u64) -> Self {
        self.nbf = Some(nbf);
        self
    }
    /// Sets `iat`.
    pub fn issued_at(mut self, iat: u64) -> Self {
        self.iat = Some(iat);
        self
    }
    /// Sets `iat = now` and `exp = now + ttl_seconds`.
    pub fn valid_for(self, now: u64, ttl_seconds: u64) -> Self {
        self.issued_at(now).expires_at(now.saturating_add(ttl_seconds))
    }
    /// Sets `jti`.
    pub fn jwt_id(mut self, jti: impl Into<String>) -> Self {
        self.jti = Some(jti.into());
        self
    }
    /// Sets `scope` as an OAuth space-separated string.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(OneOrMany::One(scope.into()));
        self
    }
    /// Sets the RFC 8693 `act` claim from a delegation chain (agent ids, root first).
    pub fn actor_chain<S: AsRef<str>>(mut self, chain: &[S]) -> Self {
        self.act = chain_to_act(chain);
        self
    }
    /// Sets `cnf.jwk` to the holder's public key.
    pub fn confirmation_key(mut self, key: &PublicKey) -> Self {
        self.cnf.get_or_insert_with(empty_cnf).jwk = Some(key.to_jwk());
        self
    }
    /// Sets `cnf.jkt` to the RFC 7638 thumbprint of the holder's key.
    pub fn confirmation_thumbprint(mut self, key: &PublicKey) -> Self {
        self.cnf.get_or_insert_with(empty_cnf).jkt = Some(jwk_thumbprint(key));
        self
    }
    /// Sets `task`.
    pub fn task(mut self, task: impl Into<String>) -> Self {
        self.task = Some(task.into());
        self
    }
    /// Sets `workspace`.
    pub fn workspace(mut self, workspace: impl Into<String>) -> Self {
        self.workspace = Some(workspace.into());
        self
    }
    /// Sets `principal`.
    pub fn principal(mut self, principal: impl Into<String>) -> Self {
        self.principal = Some(principal.into());
        self
    }
    /// Sets `resource`.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }
    /// Adds an unregistered claim. Names with a typed member ([`REGISTERED_CLAIMS`]) are refused
    /// (`invalid_argument`): use the typed setter.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Result<Self> {
        let name = name.into();
        if REGISTERED_CLAIMS.contains(&name.as_str()) {
            return Err(Error::invalid_argument(format!(
                "{name:?} is a registered claim: use its typed setter"
            )));
        }
        self.extra.insert(name, value.into());
        Ok(self)
    }

    /// The audiences (empty when there is no `aud`).
    pub fn audiences_list(&self) -> Vec<&str> {
        self.aud.as_ref().map(OneOrMany::to_vec).unwrap_or_default()
    }
    /// The scopes: the space-separated words of a string `scope`, or the array's strings.
    pub fn scopes(&self) -> Vec<&str> {
        match &self.scope {
            None => Vec::new(),
            Some(OneOrMany::One(s)) => s.split_ascii_whitespace().collect(),
            Some(OneOrMany::Many(v)) => v.iter().map(String::as_str).collect(),
        }
    }
    /// The delegation chain carried by `act`, root first (empty when there is no `act`).
    pub fn delegation_chain(&self) -> Vec<String> {
        self.act.as_ref().map(act_to_chain).unwrap_or_default()
    }
    /// Whether `cnf` names `key` (by `jwk` or by `jkt`). `false` when there is no `cnf`.
    pub fn confirmation_matches(&self, key: &PublicKey) -> bool {
        let Some(cnf) = &self.cnf else { return false };
        let by_jwk = cnf.jwk.as_ref().and_then(|j| PublicKey::from_jwk(j).ok()).map(|k| &k == key);
        let by_jkt = cnf.jkt.as_ref().map(|t| *t == jwk_thumbprint(key));
        match (by_jwk, by_jkt) {
            (None, None) => false,
            (a, b) => a.unwrap_or(true) && b.unwrap_or(true),
        }
    }
}

fn empty_cnf() -> Confirmation {
    Confirmation { jwk: None, jkt: None, extra: Map::new() }
}

/// RFC 7638 JWK thumbprint (base64url SHA-256) of an Ed25519 key, for `cnf.jkt`.
pub fn jwk_thumbprint(key: &PublicKey) -> String {
    let json =
        format!("{{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"{}\"}}", B64.encode(key.as_bytes()));
    B64.encode(Sha256::digest(json.as_bytes()))
}

/// The nested RFC 8693 `act` claim for a delegation chain given root first: the last agent is
/// the outermost (current) actor, the root the innermost. `None` for an empty chain.
pub fn chain_to_act<S: AsRef<str>>(chain: &[S]) -> Option<Actor> {
    chain.iter().fold(None, |inner, id| {
        Some(Actor { sub: id.as_ref().to_string(), act: inner.map(Box::new), extra: Map::new() })
    })
}

/// The delegation chain (root first) of a nested `act` claim.
pub fn act_to_chain(act: &Actor) -> Vec<String> {
    let mut chain = Vec::new();
    let mut cur = Some(act);
    while let Some(a) = cur {
        chain.push(a.sub.clone());
        cur = a.act.as_deref();
    }
    chain.reverse();
    chain
}

/// The keys a verifier trusts, each with an optional key id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JwtKeys {
    keys: Vec<(Option<String>, PublicKey)>,
}

impl JwtKeys {
    /// No keys.
    pub fn new() -> Self {
        JwtKeys::default()
    }
    /// Adds a key under a key id.
    pub fn with(mut self, kid: impl Into<String>, key: PublicKey) -> Self {
        self.keys.push((Some(kid.into()), key));
        self
    }
    /// Adds a key without a key id.
    pub fn with_key(mut self, key: PublicKey) -> Self {
        self.keys.push((None, key));
        self
    }
    /// Adds a key, with or without a key id.
    pub fn insert(&mut self, kid: Option<String>, key: PublicKey) {
        self.keys.push((kid, key));
    }
    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key for a token whose header has `kid`: the key with that id; else, when exactly one
    /// key is trusted and it has no id, that key. A token without `kid` is accepted only when
    /// exactly one key is trusted.
    pub fn select(&self, kid: Option<&str>) -> Result<&PublicKey> {
        match (kid, self.keys.as_slice()) {
            (_, []) => Err(Error::invalid_argument("no trusted JWT keys are configured")),
            (Some(kid), keys) => keys
                .iter()
                .find(|(k, _)| k.as_deref() == Some(kid))
                .or(match keys {
                    [only @ (None, _)] => Some(only),
                    _ => None,
                })
                .map(|(_, key)| key)
                .ok_or_else(|| invalid(format!("unknown kid {}", sanitize(&jcs::quote(kid))))),
            (None, [(_, only)]) => Ok(only),
            (None, _) => Err(invalid("the token has no kid and several keys are trusted")),
        }
    }
}

impl From<PublicKey> for JwtKeys {
    fn from(key: PublicKey) -> Self {
        JwtKeys::new().with_key(key)
    }
}

/// What [`jwt_verify`] checks besides the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwtOptions {
    /// The current time, seconds since the epoch.
    pub now: u64,
    /// When set, `aud` must be (or contain) this value. When unset, a token that has an `aud` is
    /// refused: it is meant for someone, and the verifier cannot tell whether that is itself.
    pub audience: Option<String>,
    /// When set, `iss` must equal this value.
    pub issuer: Option<String>,
    /// Clock leeway for `exp`, `nbf` and `iat` (default 30 s).
    pub leeway_seconds: u64,
    /// Largest accepted token in bytes (default 8 KiB); larger is `limits_exceeded`.
    pub max_size: usize,
    /// Claims that must be present (besides `exp`, which always must).
    pub required_claims: Vec<String>,
}

impl JwtOptions {
    /// Defaults at time `now`.
    pub fn new(now: u64) -> Self {
        JwtOptions {
            now,
            audience: None,
            issuer: None,
            leeway_seconds: DEFAULT_LEEWAY_SECONDS,
            max_size: DEFAULT_MAX_SIZE,
            required_claims: Vec::new(),
        }
    }
    /// Sets the expected audience.
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audience = Some(aud.into());
        self
    }
    /// Sets the expected issuer.
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuer = Some(iss.into());
        self
    }
    /// Sets the leeway.
    pub fn leeway_seconds(mut self, seconds: u64) -> Self {
        self.leeway_seconds = seconds;
        self
    }
    /// Sets the size cap.
    pub fn max_size(mut self, bytes: usize) -> Self {
        self.max_size = bytes;
        self
    }
    /// Requires a claim to be present.
    pub fn require(mut self, claim: impl Into<String>) -> Self {
        self.required_claims.push(claim.into());
        self
    }
}

/// Header and payload of a compact JWS, as JSON objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwtParts {
    /// The protected header.
    pub header: Map<String, Value>,
    /// The payload (claims).
    pub payload: Map<String, Value>,
}

/// Issues a compact JWT: `claims` (any value serializing to a JSON object, typically
/// [`Claims`]) signed with `signer` under `{"alg":"EdDSA","typ":"JWT"}` and `kid` when given.
/// The claims must include a numeric `exp` and must read back as [`Claims`] (so that the token
/// passes [`jwt_verify`]).
pub fn jwt_issue<T: Serialize + ?Sized, S: crate::signer::Signer + ?Sized>(
    signer: &S,
    claims: &T,
    kid: Option<&str>,
) -> Result<String> {
    let payload = match jcs::to_value_strict(claims)? {
        Value::Object(m) => m,
        _ => return Err(Error::invalid_argument("JWT claims must be a JSON object")),
    };
    match payload.get("exp") {
        None => return Err(Error::invalid_argument("JWT claims must include exp")),
        Some(v) if numeric_date(v, false).is_none() => {
            return Err(Error::invalid_argument("exp must be a non-negative number"))
        }
        Some(_) => {}
    }
    // Times are seconds: a millisecond exp would issue a token valid for millennia.
    for name in ["exp", "nbf", "iat"] {
        if let Some(t) = payload.get(name).and_then(|v| numeric_date(v, false)) {
            crate::clock::check(name, t)?;
        }
    }
    let payload = Value::Object(payload);
    serde_json::from_value::<Claims>(payload.clone()).map_err(|e| {
        Error::invalid_argument(format!(
            "JWT claims are not well-typed: {}",
            sanitize(&e.to_string())
        ))
    })?;
    let mut header = Map::new();
    header.insert("alg".into(), "EdDSA".into());
    header.insert("typ".into(), "JWT".into());
    if let Some(kid) = kid {
        crate::identity::validate_name("kid", kid)?;
        header.insert("kid".into(), kid.into());
    }
    let header = jcs::canonicalize(&Value::Object(header))?;
    let payload = jcs::canonicalize(&payload)?;
    let mut token = format!("{}.{}", B64.encode(header), B64.encode(payload));
    let sig = crate::signer::sign_checked(signer, token.as_bytes())?;
    token.push('.');
    token.push_str(&B64.encode(sig.to_bytes()));
    Ok(token)
}

/// Verifies a compact JWT strictly (see the module documentation) and returns its claims.
pub fn jwt_verify(token: &str, keys: &JwtKeys, options: &JwtOptions) -> Result<Claims> {
    crate::clock::check("now", options.now)?;
    let parts = jws_verify(token, keys, options.max_size)?;
    check_claims(&parts.payload, options)?;
    let claims: Claims = serde_json::from_value(Value::Object(parts.payload))
        .map_err(|e| invalid(format!("malformed claims: {}", sanitize(&e.to_string()))))?;
    if claims.cnf.as_ref().and_then(|c| c.jwk.as_ref()).is_some_and(|j| j.d.is_some()) {
        return Err(invalid("cnf.jwk carries a private key"));
    }
    Ok(claims)
}

/// Decodes a compact JWS without verifying anything but its shape: three unpadded base64url
/// segments, header and payload JSON objects without duplicate members, at most
/// [`MAX_DECODE_SIZE`] bytes. **Nothing in the result is authenticated.**
pub fn jwt_decode(token: &str) -> Result<JwtParts> {
    let (h, p, _) = split(token, MAX_DECODE_SIZE)?;
    Ok(JwtParts { header: decode_json(h, "header")?, payload: decode_json(p, "payload")? })
}

/// Verifies the header rules and the signature of a compact JWS (no claim checks).
pub(crate) fn jws_verify(token: &str, keys: &JwtKeys, max_size: usize) -> Result<JwtParts> {
    let (h, p, s) = split(token, max_size)?;
    let header = decode_json(h, "header")?;
    check_header(&header)?;
    let payload = decode_json(p, "payload")?;
    let kid = match header.get("kid") {
        Some(Value::String(k)) => Some(k.as_str()),
        _ => None,
    };
    let key = keys.select(kid)?;
    let raw = B64.decode(s).map_err(|_| invalid("signature segment is not base64url"))?;
    let sig = Signature::from_slice(&raw).map_err(|_| invalid("an EdDSA signature is 64 bytes"))?;
    let signed = token.get(..h.len() + 1 + p.len()).unwrap_or_default();
    key.verify(signed.as_bytes(), &sig).map_err(|_| invalid("signature does not verify"))?;
    Ok(JwtParts { header, payload })
}

fn split(token: &str, max_size: usize) -> Result<(&str, &str, &str)> {
    if token.len() > max_size {
        return Err(Error::new(
            ErrorKind::LimitsExceeded,
            format!("the JWT is {} bytes; at most {max_size} are accepted", token.len()),
        ));
    }
    let mut segments = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (segments.next(), segments.next(), segments.next(), segments.next())
    else {
        return Err(invalid("a JWT has exactly three dot-separated segments"));
    };
    for (what, seg) in [("header", h), ("payload", p), ("signature", s)] {
        if seg.is_empty() {
            return Err(invalid(format!("the {what} segment is empty")));
        }
        if !seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(invalid(format!("the {what} segment is not base64url without padding")));
        }
    }
    Ok((h, p, s))
}

fn decode_json(segment: &str, what: &str) -> Result<Map<String, Value>> {
    let raw = Zeroizing::new(
        B64.decode(segment)
            .map_err(|_| invalid(format!("the {what} segment is not canonical base64url")))?,
    );
    match jcs::parse_strict_slice(&raw) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(invalid(format!("the {what} is not a JSON object"))),
        Err(e) => Err(invalid(format!("the {what} is not valid JSON: {}", e.message()))),
    }
}

fn check_header(header: &Map<String, Value>) -> Result<()> {
    for (name, value) in header {
        match name.as_str() {
            "alg" => match value.as_str() {
                Some("EdDSA" | "Ed25519") => {}
                Some(alg) if alg.eq_ignore_ascii_case("none") => {
                    return Err(invalid("alg \"none\" (an unsigned token) is refused"))
                }
                Some(alg) => {
                    return Err(invalid(format!(
                        "alg {} is refused: only EdDSA is accepted",
                        sanitize(&jcs::quote(alg))
                    )))
                }
                None => return Err(invalid("alg must be a string")),
            },
            "typ" => match value.as_str() {
                Some(t) if ACCEPTED_TYP.iter().any(|a| a.eq_ignore_ascii_case(t)) => {}
                _ => return Err(invalid("typ must be \"JWT\"")),
            },
            "kid" => match value.as_str() {
                Some(k) if !k.is_empty() => {}
                _ => return Err(invalid("kid must be a non-empty string")),
            },
            "jwk" | "jku" | "x5u" | "x5c" => {
                return Err(invalid(format!(
                    "header {name} is refused: the verifier chooses the key, never the token"
                )))
            }
            "crit" => return Err(invalid("header crit is refused: no extension is understood")),
            other => {
                return Err(invalid(format!(
                    "header parameter {} is not supported",
                    sanitize(&jcs::quote(other))
                )))
            }
        }
    }
    if !header.contains_key("alg") {
        return Err(invalid("the header has no alg"));
    }
    Ok(())
}

fn check_claims(payload: &Map<String, Value>, options: &JwtOptions) -> Result<()> {
    let now = options.now;
    let leeway = options.leeway_seconds;
    let date = |name: &str, round_up: bool| -> Result<Option<u64>> {
        match payload.get(name) {
            None => Ok(None),
            Some(v) => match numeric_date(v, round_up) {
                // A time outside 2000…2200 (milliseconds, say) would never expire: refused.
                Some(t) => crate::clock::check(name, t).map(Some).map_err(|e| invalid(e.message().to_string())),
                None => Err(invalid(format!("{name} must be a NumericDate (a non-negative JSON number)"))),
            },
        }
    };
    let exp = date("exp", false)?.ok_or_else(|| invalid("exp is required"))?;
    if now >= exp.saturating_add(leeway) {
        return Err(Error::new(
            ErrorKind::Expired,
            format!("the JWT expired at {exp} (now {now}, leeway {leeway} s)"),
        ));
    }
    if let Some(nbf) = date("nbf", true)? {
        if nbf > now.saturating_add(leeway) {
            return Err(invalid(format!("the JWT is not valid before {nbf} (now {now})")));
        }
    }
    if let Some(iat) = date("iat", true)? {
        if iat > now.saturating_add(leeway) {
            return Err(invalid(format!("the JWT was issued in the future ({iat}; now {now})")));
        }
    }
    let aud = payload.get("aud");
    match (&options.audience, aud) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(invalid("the JWT names an audience but the verifier expects none"))
        }
        (Some(_), None) => return Err(invalid("aud is required")),
        (Some(want), Some(v)) => {
            let ok = match v {
                Value::String(s) => s == want,
                Value::Array(items) if items.iter().all(Value::is_string) => {
                    items.iter().any(|i| i.as_str() == Some(want.as_str()))
                }
                _ => return Err(invalid("aud must be a string or an array of strings")),
            };
            if !ok {
                return Err(invalid(format!(
                    "the JWT is not meant for audience {}",
                    sanitize(&jcs::quote(want))
                )));
            }
        }
    }
    if let Some(want) = &options.issuer {
        if payload.get("iss").and_then(Value::as_str) != Some(want.as_str()) {
            return Err(invalid(format!("iss is not {}", sanitize(&jcs::quote(want)))));
        }
    }
    for name in &options.required_claims {
        if payload.get(name).is_none_or(Value::is_null) {
            return Err(invalid(format!("claim {} is required", sanitize(&jcs::quote(name)))));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;

    #[test]
    fn rfc8037_thumbprint() {
        // RFC 8037, appendix A.3.
        let pk =
            PublicKey::from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .unwrap();
        assert_eq!(jwk_thumbprint(&pk), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        let c = Claims::new().confirmation_thumbprint(&pk);
        assert!(c.confirmation_matches(&pk));
        assert!(!c.confirmation_matches(&KeyPair::from_seed(&[9; 32]).public_key()));
        assert!(Claims::new().confirmation_key(&pk).confirmation_matches(&pk));
        assert!(!Claims::new().confirmation_matches(&pk));
    }

    #[test]
    fn act_chain_round_trip() {
        let chain = ["agent:root", "agent:a", "agent:b"];
        let act = chain_to_act(&chain).unwrap();
        assert_eq!(act.sub, "agent:b");
        assert_eq!(act.act.as_ref().unwrap().sub, "agent:a");
        assert_eq!(act_to_chain(&act), chain);
        assert!(chain_to_act::<&str>(&[]).is_none());
        let v = serde_json::to_value(&act).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"sub":"agent:b","act":{"sub":"agent:a","act":{"sub":"agent:root"}}})
        );
    }

    #[test]
    fn numeric_dates() {
        use serde_json::json;
        assert_eq!(numeric_date(&json!(5), false), Some(5));
        assert_eq!(numeric_date(&json!(5.5), false), Some(5));
        assert_eq!(numeric_date(&json!(5.5), true), Some(6));
        assert_eq!(numeric_date(&json!(-1), false), None);
        assert_eq!(numeric_date(&json!("5"), false), None);
    }

    #[test]
    fn key_selection() {
        let a = KeyPair::from_seed(&[1; 32]).public_key();
        let b = KeyPair::from_seed(&[2; 32]).public_key();
        let two = JwtKeys::new().with("a", a).with("b", b);
        assert_eq!(two.select(Some("b")).unwrap(), &b);
        assert_eq!(two.select(Some("c")).unwrap_err().code(), "invalid_jwt");
        assert_eq!(two.select(None).unwrap_err().code(), "invalid_jwt");
        let anon = JwtKeys::from(a);
        assert_eq!(anon.select(Some("whatever")).unwrap(), &a);
        assert_eq!(anon.select(None).unwrap(), &a);
        let named = JwtKeys::new().with("a", a);
        assert_eq!(named.select(Some("x")).unwrap_err().code(), "invalid_jwt");
        assert_eq!(named.select(None).unwrap(), &a);
        assert_eq!(JwtKeys::new().select(None).unwrap_err().code(), "invalid_argument");
    }

    #[test]
    fn registered_names_refused_in_extra() {
        assert!(Claims::new().claim("exp", 5).is_err());
        assert_eq!(Claims::new().claim("role", "x").unwrap().extra["role"], "x");
    }
}
