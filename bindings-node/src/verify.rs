//! Verifying and authorizing (`Verifier`, `Decision`), mirroring `marque::verify`.
//!
//! The core `Verifier` is `Send + Sync`; the binding holds it in an `Arc` so `authorizeAsync`
//! runs the whole check (signatures, revocation, proof, Datalog) on the libuv thread pool.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use napi::bindgen_prelude::{AsyncTask, Env, FromNapiValue, Object, Task, ToNapiValue};
use napi::Either;
use napi_derive::napi;

use marque_node_derive::Options;

use crate::convert::{opt_now, seconds, Arg, Flag, JsonInput, KeyInput, KeyMap, Num, Text, TimeInput, TokenInput};
use crate::errors::{invalid_argument, no_panic, no_panic_core, reject_with, OrThrow, Result};
use crate::keys::PublicKey;
use crate::revocation::{RevocationList, RevocationListInput, Revocations, RevocationsInit};
use crate::signer::{AsyncSignerInput, SignerInput};
use crate::token::Token;

/// A user policy: an id and Datalog `allow if` / `deny if` / `check if` lines.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct Policy {
    /// Stable id reported in decisions (e.g. `"prod-deny-deploy"`).
    pub id: String,
    /// Datalog source.
    pub source: String,
}

/// Everything a verifier bounds (see the core's `Limits`).
#[napi(object)]
pub struct Limits {
    /// Largest accepted token, in bytes.
    pub max_token_bytes: f64,
    /// Largest accepted number of blocks (authority + delegations).
    pub max_blocks: f64,
    /// Datalog: most facts.
    pub max_facts: f64,
    /// Datalog: most iterations.
    pub max_iterations: f64,
    /// Datalog: longest run, in microseconds.
    pub max_time_micros: f64,
    /// Proofs: how old a proof may be, in seconds.
    pub proof_window_seconds: f64,
    /// Proofs: how far in the future a proof's time may be, in seconds.
    pub proof_future_skew_seconds: f64,
    /// Proofs: how many recent proofs the replay cache remembers.
    pub replay_cache_capacity: f64,
    /// Proofs: how many unexpired proofs one signing key may hold in the replay cache.
    pub replay_cache_per_key: f64,
    /// Longest accepted request resource, in bytes.
    pub max_resource_bytes: f64,
    /// How many verified tokens the verifier remembers (0 disables the cache).
    pub verified_cache_capacity: f64,
    /// How many verified block prefixes the verifier remembers (0 disables it): a token
    /// extending a prefix verified before under the same root key has only its new blocks checked.
    pub prefix_cache_capacity: f64,
}

/// Limits to override; omitted fields keep their safe defaults.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct LimitsInit {
    /// Largest accepted token, in bytes.
    pub max_token_bytes: Option<f64>,
    /// Largest accepted number of blocks.
    pub max_blocks: Option<f64>,
    /// Datalog: most facts.
    pub max_facts: Option<f64>,
    /// Datalog: most iterations.
    pub max_iterations: Option<f64>,
    /// Datalog: longest run, in microseconds.
    pub max_time_micros: Option<f64>,
    /// Proofs: freshness window in seconds.
    pub proof_window_seconds: Option<f64>,
    /// Proofs: allowed future skew in seconds.
    pub proof_future_skew_seconds: Option<f64>,
    /// Proofs: replay cache capacity.
    pub replay_cache_capacity: Option<f64>,
    /// Proofs: how many unexpired proofs one signing key may hold in the replay cache
    /// (its quota; a key at its quota gets `limits_exceeded`, other keys are unaffected).
    pub replay_cache_per_key: Option<f64>,
    /// Longest accepted request resource, in bytes.
    pub max_resource_bytes: Option<f64>,
    /// How many verified tokens the verifier remembers (0 disables the cache).
    pub verified_cache_capacity: Option<f64>,
    /// How many verified block prefixes the verifier remembers (0 disables it): a token
    /// extending a prefix verified before under the same root key has only its new blocks checked.
    pub prefix_cache_capacity: Option<f64>,
}

impl LimitsInit {
    fn apply(self, mut l: marque::Limits) -> Result<marque::Limits> {
        let n = |what: &str, v: Option<f64>| v.map(|x| seconds(what, x)).transpose();
        if let Some(v) = n("maxTokenBytes", self.max_token_bytes)? {
            l.max_token_bytes = v as usize;
        }
        if let Some(v) = n("maxBlocks", self.max_blocks)? {
            l.max_blocks = v as usize;
        }
        if let Some(v) = n("maxFacts", self.max_facts)? {
            l.max_facts = v;
        }
        if let Some(v) = n("maxIterations", self.max_iterations)? {
            l.max_iterations = v;
        }
        if let Some(v) = n("maxTimeMicros", self.max_time_micros)? {
            l.max_time_micros = v;
        }
        if let Some(v) = n("proofWindowSeconds", self.proof_window_seconds)? {
            l.proof_window_seconds = v;
        }
        if let Some(v) = n("proofFutureSkewSeconds", self.proof_future_skew_seconds)? {
            l.proof_future_skew_seconds = v;
        }
        if let Some(v) = n("replayCacheCapacity", self.replay_cache_capacity)? {
            l.replay_cache_capacity = v as usize;
        }
        if let Some(v) = n("replayCachePerKey", self.replay_cache_per_key)? {
            l.replay_cache_per_key = v as usize;
        }
        if let Some(v) = n("maxResourceBytes", self.max_resource_bytes)? {
            l.max_resource_bytes = v as usize;
        }
        if let Some(v) = n("verifiedCacheCapacity", self.verified_cache_capacity)? {
            l.verified_cache_capacity = v as usize;
        }
        if let Some(v) = n("prefixCacheCapacity", self.prefix_cache_capacity)? {
            l.prefix_cache_capacity = v as usize;
        }
        Ok(l)
    }
}

/// Options of `new Verifier(…)`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct VerifierOptions {
    /// Trusted root public keys: a list (each under its derived key id), or a map from root
    /// key id (a `u32`, as a string key) to key.
    #[napi(ts_type = "KeyInput[] | Record<string, KeyInput>")]
    pub root_keys: Either<Vec<KeyInput>, HashMap<String, KeyInput>>,
    /// User policies, evaluated in order before the default rights policy.
    pub policies: Option<Vec<Policy>>,
    /// Limits to override.
    pub limits: Option<LimitsInit>,
    /// Require a valid proof of possession on every authorization.
    pub require_proof: Option<bool>,
    /// Operator keys trusted to sign revocation lists (`loadRevocationList`).
    pub operator_keys: Option<Vec<KeyInput>>,
    /// Fail closed: refuse every authorization (`revocation_list_stale`) while no signed
    /// revocation list is loaded or the loaded one is older than this many seconds.
    pub max_revocation_staleness: Option<f64>,
    /// This server's canonical URI (RFC 8707): proofs must name it (`invalid_proof`
    /// otherwise); without it, a proof naming any server is refused.
    pub audience: Option<String>,
    /// Approvers this verifier trusts: approver id (e.g. `user:alice`) → public key. An
    /// approval signed by another key, or for an id not listed, is refused.
    #[napi(ts_type = "Record<string, KeyInput>")]
    pub approvers: Option<KeyMap>,
    /// Operator approval rules (`tool:operation:resourcePrefix`, e.g. `deploy:*:production/`):
    /// a matching call the token allows is denied `approval_required` until it carries an
    /// approval of that exact call (`approve`).
    pub approval_rules: Option<Vec<String>>,
    /// Operator policies in Rego (OPA), checked now (a bad one throws `invalid_argument`) and
    /// run on every call the token allows: `require_approval` → `approval_required`, `allow` →
    /// allowed, neither → `not_authorized`; `decision.policy` names `name@version#rule`.
    pub rego: Option<Vec<crate::rego::RegoPolicy>>,
    /// Roles for the Rego policies' `input.agent.role`: agent path or id → role (a path wins).
    pub roles: Option<HashMap<String, String>>,
}

/// Options of `Verifier.fromJwks` (the root keys come from the document).
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct JwksVerifierOptions {
    /// User policies, evaluated in order before the default rights policy.
    pub policies: Option<Vec<Policy>>,
    /// Limits to override.
    pub limits: Option<LimitsInit>,
    /// Require a valid proof of possession on every authorization.
    pub require_proof: Option<bool>,
    /// Operator keys trusted to sign revocation lists (`loadRevocationList`).
    pub operator_keys: Option<Vec<KeyInput>>,
    /// Fail closed: refuse every authorization (`revocation_list_stale`) while no signed
    /// revocation list is loaded or the loaded one is older than this many seconds.
    pub max_revocation_staleness: Option<f64>,
    /// This server's canonical URI (RFC 8707): proofs must name it (`invalid_proof`
    /// otherwise); without it, a proof naming any server is refused.
    pub audience: Option<String>,
    /// Approvers this verifier trusts: approver id (e.g. `user:alice`) → public key. An
    /// approval signed by another key, or for an id not listed, is refused.
    #[napi(ts_type = "Record<string, KeyInput>")]
    pub approvers: Option<KeyMap>,
    /// Operator approval rules (`tool:operation:resourcePrefix`, e.g. `deploy:*:production/`):
    /// a matching call the token allows is denied `approval_required` until it carries an
    /// approval of that exact call (`approve`).
    pub approval_rules: Option<Vec<String>>,
    /// Operator policies in Rego (OPA), checked now (a bad one throws `invalid_argument`) and
    /// run on every call the token allows: `require_approval` → `approval_required`, `allow` →
    /// allowed, neither → `not_authorized`; `decision.policy` names `name@version#rule`.
    pub rego: Option<Vec<crate::rego::RegoPolicy>>,
    /// Roles for the Rego policies' `input.agent.role`: agent path or id → role (a path wins).
    pub roles: Option<HashMap<String, String>>,
}

/// A trusted root key and its root key id.
#[napi(object, object_from_js = false)]
pub struct RootKey {
    /// The root key id tokens carry (32-bit).
    pub id: u32,
    /// The key.
    pub key: PublicKey,
}

impl RootKey {
    fn from_core((id, key): (u32, marque::PublicKey)) -> Self {
        RootKey { id, key: PublicKey::wrap(key) }
    }
}

/// Parses a JWKS document of root keys (`{"keys":[{"kty":"OKP","crv":"Ed25519","x":…,"kid":…}]}`,
/// as text or object). A `kid` is the key's fingerprint (the key gets its derived id) or a
/// decimal 32-bit root key id; keys of other types or uses are skipped; a private key, a
/// mismatched fingerprint, a duplicate id or a document without an Ed25519 key throws
/// `invalid_key`.
#[napi]
pub fn parse_jwks(#[napi(ts_arg_type = "Jwks | string")] jwks: JsonInput) -> Result<Vec<RootKey>> {
    no_panic(|| marque::verify::parse_jwks(&jwks.0).or_throw())
        .map(|keys| keys.into_iter().map(RootKey::from_core).collect())
}

/// A JWKS document (JSON text) publishing root keys: a list (each under its derived id, `kid` =
/// fingerprint) or a map from root key id to key. The inverse of `parseJwks`.
#[napi]
pub fn to_jwks(
    #[napi(ts_arg_type = "KeyInput[] | Record<string, KeyInput>")] keys: Arg<Either<
        Vec<KeyInput>,
        HashMap<String, KeyInput>,
    >>,
) -> Result<String> {
    Ok(marque::verify::to_jwks(&key_ids(keys.0)?))
}

fn key_ids(keys: Either<Vec<KeyInput>, HashMap<String, KeyInput>>) -> Result<Vec<(u32, marque::PublicKey)>> {
    match keys {
        Either::A(list) => list
            .into_iter()
            .map(|k| {
                let k = k.resolve()?;
                Ok((marque::verify::derived_key_id(&k), k))
            })
            .collect(),
        Either::B(map) => {
            let mut keys = Vec::with_capacity(map.len());
            for (kid, key) in map {
                let id: u32 = kid.trim().parse().map_err(|_| {
                    invalid_argument(format!(
                        "root key ids are unsigned 32-bit integers; got {:?}",
                        kid.chars().take(40).collect::<String>()
                    ))
                })?;
                keys.push((id, key.resolve()?));
            }
            keys.sort_by_key(|(id, _)| *id);
            Ok(keys)
        }
    }
}

/// What is attempted now, and how to decide it.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct AuthorizeOptions {
    /// The tool called.
    pub tool: String,
    /// The operation (default `"*"`).
    pub operation: Option<String>,
    /// The resource acted on.
    pub resource: String,
    /// A proof of possession from `signProof`.
    pub proof: Option<String>,
    /// A human approval of this exact call (`approve`), when the verifier or the token asks
    /// for one (`approval_required`); used once.
    pub approval: Option<String>,
    /// Decision time: seconds since the epoch or a `Date` (default: now).
    pub now: Option<TimeInput>,
    /// Extra context, offered to policies as `attribute(key, value)` facts.
    pub attributes: Option<HashMap<String, String>>,
}

/// The request a decision was made for.
#[napi(object)]
pub struct Request {
    /// Tool.
    pub tool: String,
    /// Operation.
    pub operation: String,
    /// Resource.
    pub resource: String,
    /// Extra attributes.
    pub attributes: HashMap<String, String>,
}

struct Prepared {
    token: TokenInput,
    request: marque::Request,
    proof: Option<String>,
    approval: Option<String>,
    now: Option<u64>,
}

fn prepare(token: TokenInput, options: AuthorizeOptions) -> Result<Prepared> {
    let mut request = marque::Request::new(
        options.tool,
        options.operation.unwrap_or_else(|| "*".into()),
        options.resource,
    );
    for (k, v) in options.attributes.unwrap_or_default() {
        request = request.attribute(k, v);
    }
    Ok(Prepared {
        token,
        request,
        proof: options.proof,
        approval: options.approval,
        now: opt_now(options.now)?,
    })
}

fn run(verifier: &marque::Verifier, p: &Prepared) -> marque::Result<marque::Decision> {
    no_panic_core(|| {
        let (proof, approval) = (p.proof.as_deref(), p.approval.as_deref());
        match &p.token {
            TokenInput::Parsed(t) => verifier.authorize_with_approval(t.to_bytes(), &p.request, proof, approval, p.now),
            TokenInput::Text(s) => verifier.authorize_base64_with_approval(s, &p.request, proof, approval, p.now),
            TokenInput::Bytes(b) => verifier.authorize_with_approval(b, &p.request, proof, approval, p.now),
        }
    })
}

/// The shared core verifier: read-locked by every check (sync or on the thread pool),
/// write-locked only to reconfigure it (root keys from a new JWKS, operator keys, staleness).
pub(crate) type Shared = Arc<RwLock<marque::Verifier>>;

fn read(v: &Shared) -> RwLockReadGuard<'_, marque::Verifier> {
    v.read().unwrap_or_else(PoisonError::into_inner)
}

fn write(v: &Shared) -> RwLockWriteGuard<'_, marque::Verifier> {
    v.write().unwrap_or_else(PoisonError::into_inner)
}

/// Settings shared by `new Verifier(…)` and `Verifier.fromJwks(…)`.
struct Settings {
    policies: Option<Vec<Policy>>,
    limits: Option<LimitsInit>,
    require_proof: Option<bool>,
    operator_keys: Option<Vec<KeyInput>>,
    max_revocation_staleness: Option<f64>,
    audience: Option<String>,
    approvers: Option<KeyMap>,
    approval_rules: Option<Vec<String>>,
    rego: Option<Vec<crate::rego::RegoPolicy>>,
    roles: Option<HashMap<String, String>>,
}

fn configure(v: &mut marque::Verifier, settings: Settings) -> Result<()> {
    let Settings { policies, limits, require_proof, operator_keys, max_revocation_staleness, audience, approvers, approval_rules, rego, roles } =
        settings;
    crate::rego::apply(v, rego, roles)?;
    for (id, key) in approvers.map(|m| m.0).unwrap_or_default() {
        v.add_approver(&id, key.resolve()?).or_throw()?;
    }
    for rule in approval_rules.unwrap_or_default() {
        v.add_approval_rule(marque::Right::parse(&rule).or_throw()?).or_throw()?;
    }
    if let Some(a) = audience {
        v.set_audience(Some(marque::audience::Audience::parse(&a).or_throw()?));
    }
    if let Some(l) = limits {
        v.set_limits(l.apply(marque::Limits::default())?);
    }
    for p in policies.unwrap_or_default() {
        v.add_policy(marque::Policy::new(p.id, p.source)).or_throw()?;
    }
    v.set_require_proof(require_proof.unwrap_or(false));
    for k in operator_keys.unwrap_or_default() {
        v.add_operator_key(k.resolve()?);
    }
    v.set_max_revocation_staleness(
        max_revocation_staleness
            .map(|s| seconds("maxRevocationStaleness", s))
            .transpose()?,
    );
    Ok(())
}

/// Options of `loadRevocationList`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct LoadRevocationListOptions {
    /// Current time: seconds since the epoch or a `Date` (default: now).
    pub now: Option<TimeInput>,
}

/// Checks tokens against trusted root keys, policies, limits, revocations and proofs.
#[napi]
pub struct Verifier {
    inner: Shared,
}

impl Verifier {
    /// The shared core verifier (for the other modules' methods, `mcp.rs`).
    pub(crate) fn shared(&self) -> &Shared {
        &self.inner
    }
}

#[napi]
impl Verifier {
    /// A verifier trusting `rootKeys`.
    #[napi(constructor)]
    pub fn new(options: VerifierOptions) -> Result<Self> {
        let mut v = match options.root_keys {
            Either::A(list) => {
                let keys = list
                    .into_iter()
                    .map(KeyInput::resolve)
                    .collect::<Result<Vec<_>>>()?;
                marque::Verifier::new(keys)
            }
            map @ Either::B(_) => marque::Verifier::with_key_ids(key_ids(map)?),
        };
        configure(
            &mut v,
            Settings {
                policies: options.policies,
                limits: options.limits,
                require_proof: options.require_proof,
                operator_keys: options.operator_keys,
                max_revocation_staleness: options.max_revocation_staleness,
                audience: options.audience,
                approvers: options.approvers,
                approval_rules: options.approval_rules,
                rego: options.rego,
                roles: options.roles,
            },
        )?;
        Ok(Verifier { inner: Arc::new(RwLock::new(v)) })
    }

    /// A verifier trusting the root keys of a JWKS document (`{"keys":[…]}`, as text or object;
    /// see `parseJwks`): rotating the root key is publishing a new document. A malformed
    /// document throws `invalid_key`.
    #[napi(factory)]
    pub fn from_jwks(
        #[napi(ts_arg_type = "Jwks | string")] jwks: JsonInput,
        options: Option<JwksVerifierOptions>,
    ) -> Result<Self> {
        let mut v = no_panic(|| marque::Verifier::from_jwks(&jwks.0).or_throw())?;
        if let Some(o) = options {
            configure(
                &mut v,
                Settings {
                    policies: o.policies,
                    limits: o.limits,
                    require_proof: o.require_proof,
                    operator_keys: o.operator_keys,
                    max_revocation_staleness: o.max_revocation_staleness,
                    audience: o.audience,
                    approvers: o.approvers,
                    approval_rules: o.approval_rules,
                    rego: o.rego,
                    roles: o.roles,
                },
            )?;
        }
        Ok(Verifier { inner: Arc::new(RwLock::new(v)) })
    }

    /// Replaces every trusted root key with those of a JWKS document (policies, limits,
    /// revocations and operator keys stay): tokens of a removed root are then refused with
    /// `unknown_root_key`. A malformed document throws `invalid_key` and changes nothing.
    #[napi]
    pub fn set_root_keys_from_jwks(
        &self,
        #[napi(ts_arg_type = "Jwks | string")] jwks: JsonInput,
    ) -> Result<()> {
        no_panic(|| write(&self.inner).set_root_keys_from_jwks(&jwks.0).or_throw())
    }

    /// This verifier's audience (its canonical URI), or `null`.
    #[napi(getter)]
    pub fn audience(&self) -> Option<String> {
        read(&self.inner).audience().map(|a| a.as_str().to_string())
    }

    /// The trusted root keys, with their root key ids.
    #[napi(getter)]
    pub fn root_keys(&self) -> Vec<RootKey> {
        read(&self.inner)
            .root_keys()
            .into_iter()
            .map(RootKey::from_core)
            .collect()
    }

    /// Trusts `key` to sign revocation lists.
    #[napi]
    pub fn add_operator_key(&self, key: KeyInput) -> Result<()> {
        let key = key.resolve()?;
        write(&self.inner).add_operator_key(key);
        Ok(())
    }

    /// The operator keys trusted to sign revocation lists.
    #[napi(getter)]
    pub fn operator_keys(&self) -> Vec<PublicKey> {
        read(&self.inner)
            .operator_keys()
            .iter()
            .map(|k| PublicKey::wrap(*k))
            .collect()
    }

    /// Fail closed: with a number of seconds, every authorization throws
    /// `revocation_list_stale` while no signed list is loaded or the loaded one was issued
    /// longer ago than that. `null` turns the check off (the default).
    #[napi]
    pub fn set_max_revocation_staleness(&self, #[napi(ts_arg_type = "number | undefined | null")] seconds_: Option<Num>) -> Result<()> {
        let seconds_ = seconds_.map(|n| n.0);
        let s = seconds_
            .map(|s| seconds("maxRevocationStaleness", s))
            .transpose()?;
        write(&self.inner).set_max_revocation_staleness(s);
        Ok(())
    }

    /// The configured maximum staleness of the signed revocation list (seconds), or `null`.
    #[napi(getter)]
    pub fn max_revocation_staleness(&self) -> Option<f64> {
        read(&self.inner).max_revocation_staleness().map(|s| s as f64)
    }

    /// Loads a signed revocation list (a `RevocationList`, its JSON text or the parsed object),
    /// replacing the previous one. Throws `revocation_list_invalid` unless a trusted operator
    /// key signed it (or when it is issued more than 5 minutes in the future of `now`) and
    /// `revocation_list_rollback` unless it moves forward (a lower sequence, the same sequence
    /// with other content, or an older issue time). Returns `false` when it is the list
    /// already loaded.
    #[napi]
    pub fn load_revocation_list(
        &self,
        list: RevocationListInput,
        options: Option<LoadRevocationListOptions>,
    ) -> Result<bool> {
        let now = opt_now(options.and_then(|o| o.now))?;
        let list = list.resolve()?;
        no_panic(|| read(&self.inner).load_revocation_list(&list, now).or_throw())
    }

    /// Throws `revocation_list_stale` when `maxRevocationStaleness` is set and the signed list is
    /// missing or older than that at `now` (default: the clock): the check `authorize` makes
    /// first, for layers that admit a token without a tool call.
    #[napi]
    pub fn check_revocation_list_fresh(&self, options: Option<LoadRevocationListOptions>) -> Result<()> {
        let now = opt_now(options.and_then(|o| o.now))?;
        no_panic(|| read(&self.inner).check_revocation_list_fresh(now).or_throw())
    }

    /// The signed revocation list in force, or `null`.
    #[napi(getter)]
    pub fn revocation_list(&self) -> Option<RevocationList> {
        read(&self.inner).revocation_list().map(|inner| RevocationList { inner })
    }

    /// Verifies `token` and decides the request. A bad signature, unknown root key, malformed
    /// token or hit limit throws; a refusal is a `Decision` with `allowed === false`.
    #[napi]
    pub fn authorize(&self, token: TokenInput, options: AuthorizeOptions) -> Result<Decision> {
        let p = prepare(token, options)?;
        run(&read(&self.inner), &p).or_throw().map(Decision::wrap)
    }

    /// Like `authorize`, but a denial throws a `MarqueError` whose code is the denial code.
    #[napi]
    pub fn authorize_or_throw(
        &self,
        token: TokenInput,
        options: AuthorizeOptions,
    ) -> Result<Decision> {
        let p = prepare(token, options)?;
        run(&read(&self.inner), &p)
            .and_then(marque::Decision::into_result)
            .or_throw()
            .map(Decision::wrap)
    }

    /// `authorize` on the libuv thread pool; resolves to a `Decision`, rejects with a
    /// `MarqueError`.
    #[napi(strict, ts_return_type = "Promise<Decision>")]
    pub fn authorize_async<'env>(
        &self,
        env: &'env Env,
        token: TokenInput,
        options: AuthorizeOptions,
    ) -> Result<Either<AsyncTask<AuthorizeTask>, Object<'env>>> {
        let prepared = match prepare(token, options) {
            Ok(p) => p,
            Err(e) => return crate::errors::rejected(env, e).map(Either::B),
        };
        Ok(Either::A(AsyncTask::new(AuthorizeTask {
            verifier: Arc::clone(&self.inner),
            prepared: Some(prepared),
        })))
    }

    /// The first half of `authorize`, for stores that answer asynchronously (use
    /// `authorizeWithStore`, which calls this): a `Decision` when the call is decided without
    /// single-use state (denied, or allowed with no proof and no budget), else a
    /// `PendingAuthorization` — allowed if its `key` can be claimed and its `charges` spent.
    #[napi]
    pub fn authorize_begin(&self, token: TokenInput, options: AuthorizeOptions) -> Result<Either<Decision, PendingAuthorization>> {
        let p = prepare(token, options)?;
        let v = read(&self.inner);
        let step = no_panic_core(|| {
            let (proof, approval) = (p.proof.as_deref(), p.approval.as_deref());
            match &p.token {
                TokenInput::Parsed(t) => v.authorize_begin_with_approval(t.to_bytes(), &p.request, proof, approval, p.now),
                TokenInput::Text(s) => v.authorize_begin_base64_with_approval(s, &p.request, proof, approval, p.now),
                TokenInput::Bytes(b) => v.authorize_begin_with_approval(b, &p.request, proof, approval, p.now),
            }
        })
        .or_throw()?;
        Ok(match step {
            marque::verify::Authorization::Decided(d) => Either::A(Decision::wrap(d)),
            marque::verify::Authorization::Pending(p) => Either::B(PendingAuthorization::new(p)),
        })
    }

    /// Verifies signatures and structure only (no request, no revocation): the trusted token.
    #[napi]
    pub fn verify(&self, token: TokenInput) -> Result<Token> {
        let bytes = match token {
            TokenInput::Parsed(t) => t.to_bytes().to_vec(),
            TokenInput::Bytes(b) => b,
            TokenInput::Text(s) => no_panic(|| marque::Token::from_base64(&s).or_throw())?
                .to_bytes()
                .to_vec(),
        };
        no_panic(|| read(&self.inner).verify(&bytes).or_throw().map(Token::wrap))
    }

    /// Why `token` is revoked under the current revocation set, or `null` (no Datalog runs):
    /// lets an HTTP layer refuse a revoked token before any tool call is decided.
    #[napi]
    pub fn revocation_reason(&self, token: TokenInput) -> Result<Option<String>> {
        let token = token.token()?;
        no_panic(|| Ok(read(&self.inner).revocation_reason(&token)))
    }

    /// Revokes a block revocation id (and everything delegated below that block): the 128 hex
    /// digits of `token.revocationIds`. A malformed id — such as the 16-digit prefix a
    /// revocation reason shows — throws `invalid_argument` (it would revoke nothing).
    #[napi]
    pub fn revoke(&self, #[napi(ts_arg_type = "string")] revocation_id: Text) -> Result<()> {
        let revocation_id = revocation_id.0;
        read(&self.inner).revoke(&revocation_id).or_throw()
    }

    /// Revokes every token naming this agent in its chain (`invalid_argument` unless it is an
    /// agent id).
    #[napi]
    pub fn revoke_agent(&self, #[napi(ts_arg_type = "string")] agent_id: Text) -> Result<()> {
        let agent_id = agent_id.0;
        read(&self.inner).revoke_agent(&agent_id).or_throw()
    }

    /// Revokes every token whose chain holds this public key — the root agent's or any hop's —
    /// under whatever agent id it was delegated.
    #[napi]
    pub fn revoke_key(&self, key: KeyInput) -> Result<()> {
        let key = key.resolve()?;
        read(&self.inner).revoke_key(&key);
        Ok(())
    }

    /// Revokes every token issued on behalf of this principal.
    #[napi]
    pub fn revoke_principal(&self, #[napi(ts_arg_type = "string")] principal: Text) -> Result<()> {
        let principal = principal.0;
        read(&self.inner).revoke_principal(&principal).or_throw()
    }

    /// Revokes every token for this task.
    #[napi]
    pub fn revoke_task(&self, #[napi(ts_arg_type = "string")] task: Text) -> Result<()> {
        let task = task.0;
        read(&self.inner).revoke_task(&task).or_throw()
    }

    /// A copy of the revocation set (share it with other verifiers via `mergeRevocations`).
    #[napi(getter)]
    pub fn revocations(&self) -> Revocations {
        Revocations::from_core(&read(&self.inner).revocations())
    }

    /// Adds every entry of `set` to this verifier's revocations.
    #[napi]
    pub fn merge_revocations(&self, set: RevocationsInit) -> Result<()> {
        read(&self.inner).merge_revocations(&set.into_core()?).or_throw()
    }

    /// The limits in force.
    #[napi(getter)]
    pub fn limits(&self) -> Limits {
        let guard = read(&self.inner);
        let l = guard.limits();
        Limits {
            max_token_bytes: l.max_token_bytes as f64,
            max_blocks: l.max_blocks as f64,
            max_facts: l.max_facts as f64,
            max_iterations: l.max_iterations as f64,
            max_time_micros: l.max_time_micros as f64,
            proof_window_seconds: l.proof_window_seconds as f64,
            proof_future_skew_seconds: l.proof_future_skew_seconds as f64,
            replay_cache_capacity: l.replay_cache_capacity as f64,
            replay_cache_per_key: l.replay_cache_per_key as f64,
            max_resource_bytes: l.max_resource_bytes as f64,
            verified_cache_capacity: l.verified_cache_capacity as f64,
            prefix_cache_capacity: l.prefix_cache_capacity as f64,
        }
    }
}

/// The cross-language JSON form of a `Decision`: snake_case, fields in the core's order, so
/// `JSON.stringify(decision)` equals the core's `Decision::to_json` byte for byte.
#[napi(object, use_nullable = true, object_from_js = false)]
pub struct DecisionJson {
    pub allowed: bool,
    #[napi(ts_type = "ErrorCode")]
    pub code: Option<String>,
    pub agent: String,
    pub path: String,
    #[napi(js_name = "agent_key_fingerprint")]
    pub agent_key_fingerprint: String,
    #[napi(js_name = "agent_key")]
    pub agent_key: String,
    pub principal: String,
    pub task: Option<String>,
    pub workspace: Option<String>,
    pub chain: Vec<String>,
    #[napi(js_name = "chain_key_fingerprints")]
    pub chain_key_fingerprints: Vec<String>,
    pub policy: Option<String>,
    pub reasons: Vec<String>,
    #[napi(js_name = "revocation_ids")]
    pub revocation_ids: Vec<String>,
    pub request: RequestJson,
    pub time: f64,
    #[napi(js_name = "expires_at")]
    pub expires_at: f64,
    #[napi(js_name = "proof_verified")]
    pub proof_verified: bool,
}

/// The approval inside a `DecisionJson` (snake_case, as the core writes it).
#[napi(object, object_from_js = false)]
pub struct ApprovalJson {
    pub approver: String,
    #[napi(js_name = "key_fingerprint")]
    pub key_fingerprint: String,
    pub iat: f64,
    pub exp: f64,
}

/// The approval an allowed call used (`decision.approval`).
#[napi(object, object_from_js = false)]
pub struct Approval {
    /// The approver's id, e.g. `user:alice`.
    pub approver: String,
    /// The fingerprint of the approver's key.
    pub key_fingerprint: String,
    /// When the approval was signed (seconds since the epoch).
    pub iat: f64,
    /// When it expires (seconds since the epoch).
    pub exp: f64,
}

impl Approval {
    fn from_core(a: &marque::approval::VerifiedApproval) -> Self {
        Approval { approver: a.approver.clone(), key_fingerprint: a.key_fingerprint.clone(), iat: a.iat as f64, exp: a.exp as f64 }
    }
}

/// What an `approval_required` denial asks for (`decision.approvalRequest`).
#[napi(object, object_from_js = false)]
pub struct ApprovalRequest {
    /// The digest of this exact call and token an approval must be bound to.
    pub digest: String,
    /// The approver ids whose approval this verifier accepts.
    pub approvers: Vec<String>,
    /// What asked for the approval: an operator rule, a delegation's rule, or a policy.
    pub reason: String,
}

impl ApprovalRequest {
    pub(crate) fn from_core(r: &marque::approval::ApprovalRequest) -> Self {
        ApprovalRequest { digest: r.digest.clone(), approvers: r.approvers.clone(), reason: r.reason.clone() }
    }
}

/// The request inside a `DecisionJson` (`attributes` only when there are some).
#[napi(object, object_from_js = false)]
pub struct RequestJson {
    pub tool: String,
    pub operation: String,
    pub resource: String,
    pub attributes: Option<HashMap<String, String>>,
}

/// `verifier.authorizeAsync` work item.
pub struct AuthorizeTask {
    verifier: Shared,
    prepared: Option<Prepared>,
}

impl Task for AuthorizeTask {
    type Output = marque::Result<marque::Decision>;
    type JsValue = Decision;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        match self.prepared.take() {
            Some(p) => Ok(run(&read(&self.verifier), &p)),
            None => Ok(Err(marque::Error::new(
                marque::ErrorKind::Internal,
                "authorize task ran twice",
            ))),
        }
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Decision> {
        output.map(Decision::wrap).map_err(|e| reject_with(env, e))
    }
}

/// Options of `decision.toCompactJwt`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct CompactJwtOptions {
    /// `iss` of the JWT (who exchanges the decision, e.g. `"gateway"`).
    pub issuer_name: String,
    /// `aud` of the JWT.
    pub audience: String,
    /// Lifetime in seconds (capped at the token's expiry).
    pub ttl_seconds: f64,
}

/// One budget counter a pending call must spend (`PendingAuthorization.charges`).
#[napi(object)]
pub struct BudgetCharge {
    /// The counter key: `marque:budget:` + 64 hex digits (no token material).
    pub key: String,
    /// Most calls the counter may count.
    pub limit: f64,
    /// How long the store keeps a new counter, in milliseconds.
    pub ttl_ms: f64,
}

/// An otherwise-allowed call waiting for its single-use state (`Verifier.authorizeBegin`): the
/// proof's nonce to claim (`key`, `ttlMs`; `null` when none is left), then the budget `charges`
/// to spend. `claimed(ok)` takes the replay store's answer (a `Decision`, or `null` when the
/// charges are still to spend); `spent(reply)` the counter store's (0: spent; `i`: the `i`-th
/// charge is exhausted); `fail(reason)` throws `replay_store_unavailable` (fail closed).
#[napi]
pub struct PendingAuthorization {
    charges: Vec<(String, u64, u64)>,
    inner: std::sync::Mutex<Option<marque::verify::PendingClaim>>,
    /// For an MCP message (`authorizeMcpBegin`): its method and the request it maps to.
    mcp: Option<(Option<String>, marque::Request)>,
}

#[napi]
impl PendingAuthorization {
    /// The next key to claim: the proof's nonce, then a human approval's — `marque:replay:` +
    /// 64 hex digits (no token material); `null` when there is nothing (left) to claim.
    #[napi(getter)]
    pub fn key(&self) -> Option<String> {
        self.with(|p| p.claim().map(|c| c.key().to_string()))
    }

    /// How long the store must hold the key, in milliseconds (proof window + future skew).
    #[napi(getter)]
    pub fn ttl_ms(&self) -> Option<f64> {
        self.with(|p| p.claim().map(|c| c.ttl_ms() as f64))
    }

    /// For `authorizeMcpBegin`: the JSON-RPC method of the message (else `null`).
    #[napi(getter)]
    pub fn mcp_method(&self) -> Option<String> {
        self.mcp.as_ref().and_then(|(m, _)| m.clone())
    }

    /// For `authorizeMcpBegin`: the request the message maps to (else `null`).
    #[napi(getter)]
    pub fn mcp_request(&self) -> Option<crate::mcp::McpRequest> {
        crate::mcp::request_of(self.mcp.as_ref().map(|(_, r)| r))
    }

    /// The budget counters to spend, in hop order, all or nothing (empty: no budget).
    #[napi(getter)]
    pub fn charges(&self) -> Vec<BudgetCharge> {
        self.charges.iter().map(|(key, limit, ttl)| BudgetCharge { key: key.clone(), limit: *limit as f64, ttl_ms: *ttl as f64 }).collect()
    }

    /// The replay store's answer for `key`: `false` → denied (`replayed_proof` for the proof's
    /// nonce, `approval_required` for a used approval); `true` → allowed, or `null` when the
    /// call is still pending (`key` names the approval to claim next, or the charges are to spend).
    #[napi]
    pub fn claimed(&self, #[napi(ts_arg_type = "boolean")] claimed: Flag) -> Result<Option<Decision>> {
        let claim = if claimed.0 { marque::replay::Claim::Claimed } else { marque::replay::Claim::AlreadyUsed };
        let mut slot = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let pending = slot.take().ok_or_else(|| invalid_argument("this pending authorization was already finished"))?;
        match pending.claimed(Ok(claim)).or_throw()? {
            marque::verify::Authorization::Decided(d) => Ok(Some(Decision::wrap(d))),
            marque::verify::Authorization::Pending(p) => {
                *slot = Some(p);
                Ok(None)
            }
        }
    }

    /// The counter store's answer, once the nonce is claimed: 0 → allowed; `i` → denied
    /// `budget_exhausted` naming the `i`-th charge's delegation; anything else (not an integer,
    /// no such charge) throws `replay_store_unavailable`.
    #[napi]
    pub fn spent(&self, #[napi(ts_arg_type = "number")] reply: Num) -> Result<Decision> {
        let reply = reply.0;
        let pending = self.take()?;
        if reply.fract() != 0.0 || !(-9_007_199_254_740_991.0..=9_007_199_254_740_991.0).contains(&reply) {
            let e = marque::replay::unavailable(format!("the counter store answered {reply}, not a counter index"));
            return pending.spent(Err(e)).or_throw().map(Decision::wrap);
        }
        pending.spent_reply(reply as i64).or_throw().map(Decision::wrap)
    }

    /// The decision of a call without budgets, given the replay store's answer (`claimed`, for
    /// a call that has nothing else to spend; one with charges throws `invalid_argument`).
    #[napi]
    pub fn finish(&self, #[napi(ts_arg_type = "boolean")] claimed: Flag) -> Result<Decision> {
        let claim = if claimed.0 { marque::replay::Claim::Claimed } else { marque::replay::Claim::AlreadyUsed };
        self.take()?.finish(Ok(claim)).or_throw().map(Decision::wrap)
    }

    /// Throws `replay_store_unavailable` with `reason` (a store rejected, timed out or answered
    /// something it should not): the call fails closed.
    #[napi]
    pub fn fail(&self, #[napi(ts_arg_type = "string")] reason: Text) -> Result<Decision> {
        let e = self.take()?.failed(marque::replay::unavailable(reason.0));
        Err::<marque::Decision, _>(e).or_throw().map(Decision::wrap)
    }
}

impl PendingAuthorization {
    pub(crate) fn new(p: marque::verify::PendingClaim) -> Self {
        let charges = p.charges().iter().map(|c| (c.key().to_string(), c.limit(), c.ttl_ms())).collect();
        PendingAuthorization { charges, inner: std::sync::Mutex::new(Some(p)), mcp: None }
    }

    /// A pending MCP call: `mcpMethod` and `mcpRequest` name the message.
    pub(crate) fn for_mcp(p: marque::McpPending) -> Self {
        PendingAuthorization { mcp: Some((p.method, p.request)), ..PendingAuthorization::new(p.pending) }
    }

    fn with<T>(&self, f: impl FnOnce(&marque::verify::PendingClaim) -> Option<T>) -> Option<T> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).as_ref().and_then(f)
    }

    fn take(&self) -> Result<marque::verify::PendingClaim> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or_else(|| invalid_argument("this pending authorization was already finished"))
    }
}

/// The outcome of an authorization. A denial is data: `allowed === false`, a stable `code`
/// and readable `reasons`.
#[napi]
pub struct Decision {
    inner: marque::Decision,
}

impl Decision {
    pub(crate) fn wrap(inner: marque::Decision) -> Self {
        Decision { inner }
    }
    pub(crate) fn core(&self) -> &marque::Decision {
        &self.inner
    }
}

#[napi]
impl Decision {
    /// Whether the request is allowed.
    #[napi(getter)]
    pub fn allowed(&self) -> bool {
        self.inner.allowed
    }
    /// When denied: `not_authorized`, `expired`, `revoked`, `depth_exceeded`, `invalid_proof`
    /// or `replayed_proof`; `null` when allowed.
    #[napi(getter, ts_return_type = "ErrorCode | null")]
    pub fn code(&self) -> Option<String> {
        self.inner.code.clone()
    }
    /// The acting agent (the last hop).
    #[napi(getter)]
    pub fn agent(&self) -> String {
        self.inner.agent.clone()
    }
    /// Its path in the spawn tree.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.inner.path.clone()
    }
    /// The acting agent's key fingerprint.
    #[napi(getter)]
    pub fn agent_key_fingerprint(&self) -> String {
        self.inner.agent_key_fingerprint.clone()
    }
    /// The acting agent's public key (hex).
    #[napi(getter)]
    pub fn agent_key(&self) -> String {
        self.inner.agent_key.clone()
    }
    /// On whose behalf.
    #[napi(getter)]
    pub fn principal(&self) -> String {
        self.inner.principal.clone()
    }
    /// The task, if any.
    #[napi(getter)]
    pub fn task(&self) -> Option<String> {
        self.inner.task.clone()
    }
    /// The workspace, if any.
    #[napi(getter)]
    pub fn workspace(&self) -> Option<String> {
        self.inner.workspace.clone()
    }
    /// Agent ids of the delegation chain, root first.
    #[napi(getter)]
    pub fn chain(&self) -> Vec<String> {
        self.inner.chain.clone()
    }
    /// Key fingerprints of the delegation chain, root first (one per agent of `chain`).
    #[napi(getter)]
    pub fn chain_key_fingerprints(&self) -> Vec<String> {
        self.inner.chain_key_fingerprints.clone()
    }
    /// The policy that decided, if one did: a Datalog policy's id, or a Rego policy's `name@version#rule`.
    #[napi(getter)]
    pub fn policy(&self) -> Option<String> {
        self.inner.policy.clone()
    }
    /// Readable reasons when denied.
    #[napi(getter)]
    pub fn reasons(&self) -> Vec<String> {
        self.inner.reasons.clone()
    }
    /// Revocation ids of every block, authority first.
    #[napi(getter)]
    pub fn revocation_ids(&self) -> Vec<String> {
        self.inner.revocation_ids.clone()
    }
    /// The token id for audit: the revocation id of the last block.
    #[napi(getter)]
    pub fn token_id(&self) -> Option<String> {
        self.inner.token_id().map(str::to_string)
    }
    /// The request that was decided.
    #[napi(getter)]
    pub fn request(&self) -> Request {
        let r = &self.inner.request;
        Request {
            tool: r.tool.clone(),
            operation: r.operation.clone(),
            resource: r.resource.clone(),
            attributes: r
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
    /// The time used for the decision (seconds since the epoch).
    #[napi(getter)]
    pub fn time(&self) -> f64 {
        self.inner.time as f64
    }
    /// The token's effective expiry (seconds since the epoch).
    #[napi(getter)]
    pub fn expires_at(&self) -> f64 {
        self.inner.expires_at as f64
    }
    /// Whether a proof of possession was verified for this decision.
    #[napi(getter)]
    pub fn proof_verified(&self) -> bool {
        self.inner.proof_verified
    }
    /// The approval this allowed call used (who approved, with which key, when), or `null`.
    #[napi(getter)]
    pub fn approval(&self) -> Option<Approval> {
        self.inner.approval.as_ref().map(Approval::from_core)
    }
    /// When denied `approval_required`: the digest an approval must be bound to and the
    /// approvers who may sign it (`approve`), or `null`.
    #[napi(getter)]
    pub fn approval_request(&self) -> Option<ApprovalRequest> {
        self.inner.approval_request.as_ref().map(ApprovalRequest::from_core)
    }
    /// The cross-language JSON form (snake_case, the same fields as every runtime's
    /// `to_json`), so `JSON.stringify(decision)` matches Rust and Python byte for byte.
    #[napi(js_name = "toJSON", ts_return_type = "DecisionJson & { approval?: ApprovalJson; approval_request?: ApprovalRequest }")]
    pub fn to_json<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let d = &self.inner;
        let r = &d.request;
        let json = DecisionJson {
            allowed: d.allowed,
            code: d.code.clone(),
            agent: d.agent.clone(),
            path: d.path.clone(),
            agent_key_fingerprint: d.agent_key_fingerprint.clone(),
            agent_key: d.agent_key.clone(),
            principal: d.principal.clone(),
            task: d.task.clone(),
            workspace: d.workspace.clone(),
            chain: d.chain.clone(),
            chain_key_fingerprints: d.chain_key_fingerprints.clone(),
            policy: d.policy.clone(),
            reasons: d.reasons.clone(),
            revocation_ids: d.revocation_ids.clone(),
            request: RequestJson {
                tool: r.tool.clone(),
                operation: r.operation.clone(),
                resource: r.resource.clone(),
                attributes: (!r.attributes.is_empty()).then(|| {
                    r.attributes
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                }),
            },
            time: d.time as f64,
            expires_at: d.expires_at as f64,
            proof_verified: d.proof_verified,
        };
        // `approval` and `approval_request` only when present, as the core writes them.
        // SAFETY: `env` is the running call's environment; the value is converted within this call.
        let raw = unsafe { DecisionJson::to_napi_value(env.raw(), json) }?;
        // SAFETY: `raw` is the object napi just created, in this call.
        let mut obj = unsafe { Object::from_napi_value(env.raw(), raw) }?;
        if let Some(a) = &d.approval {
            let a = ApprovalJson { approver: a.approver.clone(), key_fingerprint: a.key_fingerprint.clone(), iat: a.iat as f64, exp: a.exp as f64 };
            obj.set("approval", a)?;
        }
        if let Some(r) = &d.approval_request {
            obj.set("approval_request", ApprovalRequest::from_core(r))?;
        }
        Ok(obj)
    }
    /// Exchanges an allowed decision for a short-lived compact JWT (EdDSA) signed by `signer`
    /// (a `KeyPair` or a `Signer`): `sub` = the acting agent, `act` = the delegation chain,
    /// `scope` = `tool:operation`, `resource` = the resource decided, `exp` ≤ the token's expiry. A denied decision throws
    /// `not_authorized`.
    #[napi]
    pub fn to_compact_jwt(&self, signer: SignerInput, options: CompactJwtOptions) -> Result<String> {
        let ttl = seconds("ttlSeconds", options.ttl_seconds)?;
        signer.with(|s| self.inner.to_compact_jwt(s, &options.issuer_name, &options.audience, ttl))
    }
    /// `toCompactJwt` with an `AsyncSigner` (whose `sign` may return a Promise), run off the JS
    /// thread; resolves to the JWT, rejects with a `MarqueError`.
    #[napi(strict, ts_return_type = "Promise<string>")]
    pub fn to_compact_jwt_async<'env>(
        &self,
        env: &'env Env,
        signer: AsyncSignerInput,
        options: CompactJwtOptions,
    ) -> Result<Object<'env>> {
        crate::errors::settle(env, (|| {
            let ttl = seconds("ttlSeconds", options.ttl_seconds)?;
            let d = self.inner.clone();
            signer.spawn(
                env,
                move |s| d.to_compact_jwt(s, &options.issuer_name, &options.audience, ttl),
                |j| j,
            )
        })())
    }
    /// The JSON text of `toJSON()` as the core writes it.
    #[napi]
    pub fn to_json_string(&self) -> String {
        self.inner.to_json()
    }
}

/// The Lua script of a Redis/Valkey counter store (the core's `REDIS_SPEND_SCRIPT`): `EVAL` it
/// with the charges' keys, then each charge's limit and `ttlMs` (`limit1, ttl1, limit2, …`); it
/// spends all or nothing, atomically on the server, and its answer is what a store's
/// `spend(charges)` resolves (0: spent; `i`: the `i`-th charge is exhausted).
#[napi]
pub fn redis_spend_script() -> String {
    marque::budget::REDIS_SPEND_SCRIPT.to_string()
}
