//! Revocation sets as plain objects and signed revocation lists (`RevocationList`), mirroring
//! `marque::revocation`.

use napi::bindgen_prelude::{FromNapiRef, FromNapiValue, Object};
use napi::{sys, Env};
use napi_derive::napi;

use marque_node_derive::Options;

use crate::convert::{loose_arg, opt_now, seconds, JsonInput, KeyInput, KeyList, Ref, TimeInput};
use crate::errors::{invalid_argument, no_panic, OrThrow, Result};
use crate::keys::PublicKey;
use crate::signer::{AsyncSignerInput, SignerInput};

/// A revocation set: block revocation ids, agents, principals, tasks and agent keys (sorted).
#[napi(object)]
pub struct Revocations {
    /// Revoked block revocation ids (lowercase hex).
    pub ids: Vec<String>,
    /// Revoked agent ids.
    pub agents: Vec<String>,
    /// Revoked principals.
    pub principals: Vec<String>,
    /// Revoked tasks.
    pub tasks: Vec<String>,
    /// Revoked agent public keys (lowercase hex): any token whose chain holds one.
    pub keys: Vec<String>,
}

/// A revocation set to merge into a verifier; every list is optional. Every entry is checked
/// (`invalid_argument`): a block id is the whole 128-hex-digit revocation id, an agent a valid
/// agent id, a key an Ed25519 public key (hex or any key text).
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct RevocationsInit {
    /// Block revocation ids (hex).
    pub ids: Option<Vec<String>>,
    /// Agent ids.
    pub agents: Option<Vec<String>>,
    /// Principals.
    pub principals: Option<Vec<String>>,
    /// Tasks.
    pub tasks: Option<Vec<String>>,
    /// Agent public keys (64 hex digits).
    pub keys: Option<Vec<String>>,
}

impl Revocations {
    pub(crate) fn from_core(set: &marque::RevocationSet) -> Self {
        Revocations {
            ids: set.ids.iter().cloned().collect(),
            agents: set.agents.iter().cloned().collect(),
            principals: set.principals.iter().cloned().collect(),
            tasks: set.tasks.iter().cloned().collect(),
            keys: set.keys.iter().cloned().collect(),
        }
    }
}

impl RevocationsInit {
    pub(crate) fn into_core(self) -> Result<marque::RevocationSet> {
        let mut set = marque::RevocationSet::new();
        for id in self.ids.unwrap_or_default() {
            set.revoke(&id).or_throw()?;
        }
        for a in self.agents.unwrap_or_default() {
            set.revoke_agent(&a).or_throw()?;
        }
        for p in self.principals.unwrap_or_default() {
            set.revoke_principal(&p).or_throw()?;
        }
        for t in self.tasks.unwrap_or_default() {
            set.revoke_task(&t).or_throw()?;
        }
        for k in self.keys.unwrap_or_default() {
            set.revoke_key_hex(&k).or_throw()?;
        }
        Ok(set)
    }
}

/// Options of `RevocationList.sign`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct RevocationListSignOptions {
    /// The list's sequence number: every list an operator publishes has a higher one.
    pub sequence: f64,
    /// The operator's signer: a `KeyPair`, or a `Signer` whose key lives elsewhere.
    pub signer: SignerInput,
    /// Issue time: seconds since the epoch or a `Date` (default: now).
    pub issued_at: Option<TimeInput>,
}

/// Options of `RevocationList.signAsync`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct RevocationListSignAsyncOptions {
    /// The list's sequence number: every list an operator publishes has a higher one.
    pub sequence: f64,
    /// The operator's signer: a `KeyPair`, or an `AsyncSigner` (its `sign` may return a Promise).
    pub signer: AsyncSignerInput,
    /// Issue time: seconds since the epoch or a `Date` (default: now).
    pub issued_at: Option<TimeInput>,
}

fn sequence(v: f64) -> Result<u64> {
    if v.fract() != 0.0 {
        return Err(invalid_argument(format!("sequence must be a whole number (got {v})")));
    }
    seconds("sequence", v)
}

/// A revocation set signed by an operator key, with an issue time and a sequence number: what an
/// operator publishes to a fleet of verifiers (`verifier.loadRevocationList`). Its JSON form is
/// canonical (RFC 8785) and signed; parsing checks the signature against the issuer it names,
/// and whether that issuer is trusted is the verifier's decision.
#[napi]
#[derive(Clone)]
pub struct RevocationList {
    pub(crate) inner: marque::RevocationList,
}

impl RevocationList {
    fn wrap(inner: marque::RevocationList) -> Self {
        RevocationList { inner }
    }
}

#[napi]
impl RevocationList {
    /// Signs `revocations` as list number `sequence`, issued at `issuedAt` (default: now).
    /// A signer that fails or returns a bad signature throws `signer_failed`.
    #[napi(factory)]
    pub fn sign(revocations: RevocationsInit, options: RevocationListSignOptions) -> Result<Self> {
        let set = revocations.into_core()?;
        let seq = sequence(options.sequence)?;
        let at = opt_now(options.issued_at)?;
        options
            .signer
            .with(|s| marque::RevocationList::sign(&set, seq, at, s))
            .map(Self::wrap)
    }

    /// `sign` with an `AsyncSigner` (whose `sign` may return a Promise), run off the JS thread;
    /// resolves to the `RevocationList`, rejects with a `MarqueError`.
    #[napi(strict, ts_return_type = "Promise<RevocationList>")]
    pub fn sign_async<'env>(
        env: &'env Env,
        revocations: RevocationsInit,
        options: RevocationListSignAsyncOptions,
    ) -> Result<Object<'env>> {
        crate::errors::settle(env, (|| {
            let set = revocations.into_core()?;
            let seq = sequence(options.sequence)?;
            let at = opt_now(options.issued_at)?;
            options.signer.spawn(
                env,
                move |s| marque::RevocationList::sign(&set, seq, at, s),
                Self::wrap,
            )
        })())
    }

    /// Parses a signed list (its JSON text, or the parsed object) and checks its signature
    /// against the issuer it names: `revocation_list_invalid` if malformed, `invalid_signature`
    /// if the signature fails.
    #[napi(factory)]
    pub fn from_json(#[napi(ts_arg_type = "string | object")] json: JsonInput) -> Result<Self> {
        no_panic(|| marque::RevocationList::from_json(&json.0).or_throw().map(Self::wrap))
    }

    /// The signed JSON document (canonical: the same list always gives the same text).
    #[napi]
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The operator key that signed the list.
    #[napi(getter)]
    pub fn issuer(&self) -> PublicKey {
        PublicKey::wrap(*self.inner.issuer())
    }

    /// When the list was issued (seconds since the epoch).
    #[napi(getter)]
    pub fn issued_at(&self) -> f64 {
        self.inner.issued_at() as f64
    }

    /// The list's sequence number.
    #[napi(getter)]
    pub fn sequence(&self) -> f64 {
        self.inner.sequence() as f64
    }

    /// What the list revokes.
    #[napi(getter)]
    pub fn revoked(&self) -> Revocations {
        Revocations::from_core(self.inner.revoked())
    }

    /// The signature, base64url.
    #[napi(getter)]
    pub fn signature(&self) -> String {
        self.inner.signature().to_base64()
    }

    /// Throws `revocation_list_invalid` unless the issuer is one of `trustedKeys`.
    #[napi]
    pub fn check_issuer(&self, #[napi(ts_arg_type = "Array<KeyInput>")] trusted_keys: KeyList) -> Result<()> {
        let trusted_keys = trusted_keys.0;
        let keys = trusted_keys
            .into_iter()
            .map(KeyInput::resolve)
            .collect::<Result<Vec<_>>>()?;
        self.inner.check_issuer(&keys).or_throw()
    }

    /// Whether `other` is the same signed content (issuer, time, sequence and entries).
    #[napi]
    pub fn equals(&self, #[napi(ts_arg_type = "RevocationList")] other: Ref<RevocationList>) -> bool {
        let other = other.0;
        self.inner == other.inner
    }
}

/// A signed revocation list as `loadRevocationList` accepts it: a `RevocationList`, its JSON
/// text or the parsed JSON object.
pub enum RevocationListInput {
    /// A `RevocationList` instance (already checked).
    List(Box<marque::RevocationList>),
    /// JSON (parsed and checked by `resolve`).
    Json(String),
}

impl RevocationListInput {
    /// The parsed list (`revocation_list_invalid` / `invalid_signature` for a bad document).
    pub fn resolve(self) -> Result<marque::RevocationList> {
        match self {
            RevocationListInput::List(l) => Ok(*l),
            RevocationListInput::Json(j) => no_panic(|| marque::RevocationList::from_json(&j).or_throw()),
        }
    }
}

loose_arg!(RevocationListInput, "RevocationList | string | object");

impl FromNapiValue for RevocationListInput {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: `v` is a handle of the running call; from_napi_ref returns Err unless it wraps a RevocationList, and the list is cloned before this call returns.
        if let Ok(l) = unsafe { RevocationList::from_napi_ref(env, v) } {
            return Ok(RevocationListInput::List(Box::new(l.inner.clone())));
        }
        // SAFETY: `v` is a handle of the running call (this fn's contract).
        unsafe { JsonInput::from_napi_value(env, v) }.map(|j| RevocationListInput::Json(j.0))
    }
}
