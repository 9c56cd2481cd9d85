//! `Verifier` and decisions (the core's `verify` and `policy` modules): is this token genuine,
//! and may its holder do this now? A denial is a `Decision` (a plain object with the core's
//! `Decision` JSON fields); a bad signature, unknown root key, malformed token or hit limit
//! throws a `MarqueError`.

use std::collections::BTreeMap;

use js_sys::{Object, Reflect};
use marque::policy::{Limits, Policy, Request};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::convert::{array, entries, is_array, json_text, string, to_js, truncate, Options};
use crate::errors::{JsError, JsResult};
use crate::keys::{public_key, PublicKey};
use crate::token::{Token, TokenArg};

/// Checks tokens against trusted root keys, policies, limits, revocations and proofs.
#[wasm_bindgen]
pub struct Verifier {
    pub(crate) inner: marque::Verifier,
}

/// The limits in force, as JavaScript sees them (camelCase).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LimitsJs {
    max_token_bytes: usize,
    max_blocks: usize,
    max_facts: u64,
    max_iterations: u64,
    max_time_micros: u64,
    proof_window_seconds: u64,
    proof_future_skew_seconds: u64,
    replay_cache_capacity: usize,
    replay_cache_per_key: usize,
    max_resource_bytes: usize,
    verified_cache_capacity: usize,
    prefix_cache_capacity: usize,
}

fn usize_of(v: u64, what: &str) -> JsResult<usize> {
    usize::try_from(v).map_err(|_| JsError::argument(format!("{what} is too large")))
}

fn limits(v: &JsValue) -> JsResult<Limits> {
    let mut o = Options::new(v, "limits")?;
    let mut l = Limits::default();
    if let Some(n) = o.opt_uint("maxTokenBytes")? {
        l.max_token_bytes = usize_of(n, "limits.maxTokenBytes")?;
    }
    if let Some(n) = o.opt_uint("maxBlocks")? {
        l.max_blocks = usize_of(n, "limits.maxBlocks")?;
    }
    if let Some(n) = o.opt_uint("maxFacts")? {
        l.max_facts = n;
    }
    if let Some(n) = o.opt_uint("maxIterations")? {
        l.max_iterations = n;
    }
    if let Some(n) = o.opt_uint("maxTimeMicros")? {
        l.max_time_micros = n;
    }
    if let Some(n) = o.opt_uint("proofWindowSeconds")? {
        l.proof_window_seconds = n;
    }
    if let Some(n) = o.opt_uint("proofFutureSkewSeconds")? {
        l.proof_future_skew_seconds = n;
    }
    if let Some(n) = o.opt_uint("replayCacheCapacity")? {
        l.replay_cache_capacity = usize_of(n, "limits.replayCacheCapacity")?;
    }
    if let Some(n) = o.opt_uint("replayCachePerKey")? {
        l.replay_cache_per_key = usize_of(n, "limits.replayCachePerKey")?;
    }
    if let Some(n) = o.opt_uint("maxResourceBytes")? {
        l.max_resource_bytes = usize_of(n, "limits.maxResourceBytes")?;
    }
    if let Some(n) = o.opt_uint("verifiedCacheCapacity")? {
        l.verified_cache_capacity = usize_of(n, "limits.verifiedCacheCapacity")?;
    }
    if let Some(n) = o.opt_uint("prefixCacheCapacity")? {
        l.prefix_cache_capacity = usize_of(n, "limits.prefixCacheCapacity")?;
    }
    o.finish()?;
    Ok(l)
}

/// Root keys with their ids: an array of keys (each under its derived id) or an object mapping
/// key ids to keys.
fn key_ids(v: &JsValue, what: &str) -> JsResult<Vec<(u32, marque::PublicKey)>> {
    if is_array(v) {
        return array(v, what)?
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let k = public_key(k, &format!("{what}[{i}]"))?;
                Ok((marque::verify::derived_key_id(&k), k))
            })
            .collect();
    }
    if !v.is_object() || v.is_function() {
        return Err(JsError::argument(format!(
            "{what} must be an array of keys or an object mapping key ids to keys"
        )));
    }
    let mut keys = Vec::new();
    for (id, key) in entries(v, what)? {
        let id: u32 = id.parse().map_err(|_| {
            JsError::argument(format!(
                "{what}: key id {:?} is not a 32-bit unsigned integer",
                truncate(&id, 64)
            ))
        })?;
        keys.push((id, public_key(&key, &format!("{what}[id]"))?));
    }
    Ok(keys)
}

/// The keys of a JWKS document (`{"keys": [...]}`, object or JSON text) as an object mapping
/// root key ids to `PublicKey`s (what `rootKeys` and `toJwks` take). Malformed: `invalid_key`.
#[wasm_bindgen(js_name = parseJwks)]
pub fn parse_jwks(doc: JsValue) -> JsResult<JsValue> {
    let out = Object::new();
    for (id, inner) in marque::verify::parse_jwks(&json_text(&doc, "JWKS document")?)? {
        let _ = Reflect::set(&out, &id.to_string().into(), &PublicKey { inner }.into());
    }
    Ok(out.into())
}

/// The JWKS document (JSON text) publishing root keys: an array of keys (derived ids) or an
/// object mapping key ids to keys, as `rootKeys` takes.
#[wasm_bindgen(js_name = toJwks)]
pub fn to_jwks(keys: JsValue) -> JsResult<String> {
    Ok(marque::verify::to_jwks(&key_ids(&keys, "keys")?))
}

/// The request of an options object (`tool`, `resource`, `operation?`, `attributes?`).
pub(crate) fn request(o: &mut Options) -> JsResult<Request> {
    let tool = o.string("tool")?;
    let resource = o.string("resource")?;
    let operation = o.opt_string("operation")?.unwrap_or_else(|| "*".into());
    let mut req = Request::new(tool, operation, resource);
    if let Some(attrs) = o.get("attributes")? {
        if !attrs.is_object() || is_array(&attrs) {
            return Err(JsError::argument(
                "authorize options.attributes must be an object of strings",
            ));
        }
        let mut map = BTreeMap::new();
        for (k, v) in entries(&attrs, "authorize options.attributes")? {
            map.insert(k, string(&v, "authorize options.attributes[…]")?);
        }
        req.attributes = map;
    }
    Ok(req)
}

// The camelCase aliases of the snake_case decision fields, `tokenId` and `toCompactJwt`, as
// non-enumerable properties (so `JSON.stringify(decision)` stays the core's `Decision` JSON),
// set in one call into JavaScript (one boundary crossing instead of three per property).
#[wasm_bindgen(inline_js = "export function decorateDecision(d, tokenId, toCompactJwt) {
  const hidden = (value) => ({ value })
  const props = {
    agentKeyFingerprint: hidden(d.agent_key_fingerprint),
    agentKey: hidden(d.agent_key),
    chainKeyFingerprints: hidden(d.chain_key_fingerprints),
    revocationIds: hidden(d.revocation_ids),
    expiresAt: hidden(d.expires_at),
    proofVerified: hidden(d.proof_verified),
    tokenId: hidden(tokenId),
    approvalRequest: hidden(d.approval_request ?? null),
  }
  if (d.approval === undefined) props.approval = hidden(null)
  else Object.defineProperty(d.approval, 'keyFingerprint', hidden(d.approval.key_fingerprint))
  if (toCompactJwt !== undefined) props.toCompactJwt = hidden(toCompactJwt)
  Object.defineProperties(d, props)
}")]
extern "C" {
    #[wasm_bindgen(js_name = decorateDecision)]
    fn decorate_decision(decision: &JsValue, token_id: JsValue, to_compact_jwt: JsValue);
}

thread_local! {
    static DECISION_METHOD: std::cell::RefCell<Option<JsValue>> = const { std::cell::RefCell::new(None) };
}

/// Registers the JavaScript `toCompactJwt` method that `authorize` puts on every decision (the
/// entry points define it over `__toCompactJwt`). Not part of the public API.
#[wasm_bindgen(js_name = "__registerDecisionMethod")]
pub fn register_decision_method(f: JsValue) {
    DECISION_METHOD.with(|m| *m.borrow_mut() = Some(f));
}

/// `decision.toCompactJwt(issuer, {issuerName, audience, ttlSeconds})`: token exchange, a
/// short-lived EdDSA JWT signed by `issuer` (a `KeyPair` or `{publicKey, sign}`) for an allowed
/// decision (`not_authorized` for a denial). Not part of the public API: call the method.
#[cfg(feature = "full")]
#[wasm_bindgen(js_name = "__toCompactJwt")]
pub fn to_compact_jwt(decision: JsValue, issuer: JsValue, options: JsValue) -> JsResult<String> {
    let decision = marque::Decision::from_json(&json_text(&decision, "decision")?)?;
    let issuer = crate::signer::signer(&issuer, "issuer")?;
    let mut o = Options::new(&options, "toCompactJwt options")?;
    let name = o.string("issuerName")?;
    let audience = o.string("audience")?;
    let ttl = o
        .opt_uint("ttlSeconds")?
        .ok_or_else(|| JsError::argument("toCompactJwt options: `ttlSeconds` is required"))?;
    o.finish()?;
    Ok(decision.to_compact_jwt(issuer.get(), &name, &audience, ttl)?)
}

pub(crate) fn decision_to_js(d: &marque::Decision) -> JsResult<JsValue> {
    let obj = to_js(d)?;
    let token_id = d.token_id().map(JsValue::from_str).unwrap_or(JsValue::NULL);
    let method = DECISION_METHOD.with(|m| m.borrow().clone()).unwrap_or(JsValue::UNDEFINED);
    decorate_decision(&obj, token_id, method);
    Ok(obj)
}

#[wasm_bindgen]
impl Verifier {
    /// `new Verifier({rootKeys, policies?, limits?, requireProof?, audience?, operatorKeys?,
    /// maxRevocationStaleness?, approvers?, approvalRules?, rego?, roles?})` (`rego`: only in
    /// the Rego build, see `crate::rego`).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> JsResult<Verifier> {
        let mut o = Options::new(&options, "verifier options")?;
        let v = marque::Verifier::with_key_ids(key_ids(&o.required("rootKeys")?, "rootKeys")?);
        configure(v, o)
    }

    /// A verifier trusting the root keys of a JWKS document (object or JSON text); `options` as
    /// for `new Verifier` without `rootKeys`. Malformed document: `invalid_key`.
    #[wasm_bindgen(js_name = fromJwks)]
    pub fn from_jwks(doc: JsValue, options: JsValue) -> JsResult<Verifier> {
        let v = marque::Verifier::from_jwks(&json_text(&doc, "JWKS document")?)?;
        configure(v, Options::optional(&options, "verifier options")?)
    }

    /// Rotation: replaces every trusted root key with those of a JWKS document (policies, limits,
    /// revocations stay). A malformed document (`invalid_key`) changes nothing.
    #[wasm_bindgen(js_name = setRootKeysFromJwks)]
    pub fn set_root_keys_from_jwks(&mut self, doc: JsValue) -> JsResult<()> {
        Ok(self
            .inner
            .set_root_keys_from_jwks(&json_text(&doc, "JWKS document")?)?)
    }

    /// This verifier's audience (its canonical URI, RFC 8707), or `null`.
    #[wasm_bindgen(getter)]
    pub fn audience(&self) -> Option<String> {
        self.inner.audience().map(|a| a.as_str().to_string())
    }

    /// The configured maximum age of the signed revocation list (seconds), or `null`.
    #[wasm_bindgen(getter, js_name = maxRevocationStaleness, unchecked_return_type = "number | null")]
    pub fn max_revocation_staleness(&self) -> JsValue {
        self.inner
            .max_revocation_staleness()
            .map(|s| JsValue::from_f64(s as f64))
            .unwrap_or(JsValue::NULL)
    }
}

/// The options of `new Verifier` after `rootKeys`.
fn configure(mut v: marque::Verifier, mut o: Options) -> JsResult<Verifier> {
    if let Some(p) = o.get("policies")? {
        for p in array(&p, "policies")? {
            let mut po = Options::new(&p, "policy")?;
            let id = po.string("id")?;
            let source = po.string("source")?;
            po.finish()?;
            v.add_policy(Policy::new(id, source))?;
        }
    }
    if let Some(l) = o.get("limits")? {
        v.set_limits(limits(&l)?);
    }
    if let Some(r) = o.opt_bool("requireProof")? {
        v.set_require_proof(r);
    }
    if let Some(a) = o.opt_string("audience")? {
        v.set_audience(Some(marque::audience::Audience::parse(&a)?));
    }
    if let Some(keys) = o.get("operatorKeys")? {
        for (i, k) in array(&keys, "operatorKeys")?.iter().enumerate() {
            v.add_operator_key(public_key(k, &format!("operatorKeys[{i}]"))?);
        }
    }
    v.set_max_revocation_staleness(o.opt_uint("maxRevocationStaleness")?);
    if let Some(a) = o.get("approvers")? {
        if is_array(&a) || !a.is_object() || a.is_function() {
            return Err(JsError::argument("approvers must be an object mapping approver ids to keys"));
        }
        for (id, key) in entries(&a, "approvers")? {
            v.add_approver(&id, public_key(&key, "approvers[id]")?)?;
        }
    }
    for rule in o.opt_strings("approvalRules")?.unwrap_or_default() {
        v.add_approval_rule(marque::Right::parse(&rule)?)?;
    }
    crate::rego::configure(&mut v, &mut o)?;
    o.finish()?;
    Ok(Verifier { inner: v })
}

#[wasm_bindgen]
impl Verifier {
    fn decide(&self, token: JsValue, options: JsValue) -> JsResult<marque::Decision> {
        let token = TokenArg::from_js(&token, "token")?;
        let mut o = Options::new(&options, "authorize options")?;
        let req = request(&mut o)?;
        let proof = o.opt_string("proof")?;
        let approval = o.opt_string("approval")?;
        let now = o.now()?;
        o.finish()?;
        let (proof, approval) = (proof.as_deref(), approval.as_deref());
        let v = &self.inner;
        Ok(match token {
            TokenArg::Text(s) => v.authorize_base64_with_approval(&s, &req, proof, approval, Some(now))?,
            TokenArg::Bytes(b) => v.authorize_with_approval(&b, &req, proof, approval, Some(now))?,
            TokenArg::Parsed(t) => v.authorize_with_approval(t.to_bytes(), &req, proof, approval, Some(now))?,
        })
    }

    /// The first half of `authorize`, for stores that answer asynchronously (use
    /// `authorizeWithStore`, which calls this): a decision object when the call is decided
    /// without single-use state (denied, or allowed with no proof and no budget), else a
    /// `PendingAuthorization` — allowed if its `key` can be claimed and its `charges` spent.
    #[wasm_bindgen(js_name = authorizeBegin)]
    pub fn authorize_begin(&self, token: JsValue, options: JsValue) -> JsResult<JsValue> {
        let token = TokenArg::from_js(&token, "token")?;
        let mut o = Options::new(&options, "authorize options")?;
        let req = request(&mut o)?;
        let proof = o.opt_string("proof")?;
        let approval = o.opt_string("approval")?;
        let now = o.now()?;
        o.finish()?;
        let (proof, approval) = (proof.as_deref(), approval.as_deref());
        let step = match token {
            TokenArg::Text(s) => self.inner.authorize_begin_base64_with_approval(&s, &req, proof, approval, Some(now))?,
            TokenArg::Bytes(b) => self.inner.authorize_begin_with_approval(&b, &req, proof, approval, Some(now))?,
            TokenArg::Parsed(t) => self.inner.authorize_begin_with_approval(t.to_bytes(), &req, proof, approval, Some(now))?,
        };
        match step {
            marque::verify::Authorization::Decided(d) => decision_to_js(&d),
            marque::verify::Authorization::Pending(p) => Ok(PendingAuthorization { inner: Some(p), mcp: None }.into()),
        }
    }

    /// Verifies `token` and decides the request `{tool, operation?, resource, proof?, approval?,
    /// now?, attributes?}`. Returns a plain object with the core's `Decision` fields.
    pub fn authorize(&self, token: JsValue, options: JsValue) -> JsResult<JsValue> {
        decision_to_js(&self.decide(token, options)?)
    }

    /// Like `authorize`, but a denial throws a `MarqueError` whose code is the denial code.
    #[wasm_bindgen(js_name = authorizeOrThrow)]
    pub fn authorize_or_throw(&self, token: JsValue, options: JsValue) -> JsResult<JsValue> {
        decision_to_js(&self.decide(token, options)?.into_result()?)
    }

    /// Verifies signatures and structure only: the trusted token.
    pub fn verify(&self, token: JsValue) -> JsResult<Token> {
        let bytes = match TokenArg::from_js(&token, "token")? {
            TokenArg::Text(s) => marque::Token::from_base64(&s)?.to_bytes().to_vec(),
            TokenArg::Bytes(b) => b,
            TokenArg::Parsed(t) => t.to_bytes().to_vec(),
        };
        Ok(Token::wrap(self.inner.verify(&bytes)?))
    }

    /// Throws `revocation_list_stale` when `maxRevocationStaleness` is set and the signed list is
    /// missing or older than that at `now` (default: the host clock) — the rule `authorize`
    /// applies first, for requests admitted without a tool call.
    #[wasm_bindgen(js_name = checkRevocationListFresh)]
    pub fn check_revocation_list_fresh(&self, options: JsValue) -> JsResult<()> {
        let mut o = Options::optional(&options, "checkRevocationListFresh options")?;
        let now = o.now()?;
        o.finish()?;
        Ok(self.inner.check_revocation_list_fresh(Some(now))?)
    }

    /// Why `token` is revoked under this verifier's revocation set, or `null` (no Datalog runs).
    #[wasm_bindgen(js_name = revocationReason)]
    pub fn revocation_reason(&self, token: &Token) -> Option<String> {
        self.inner.revocation_reason(&token.inner)
    }

    /// The limits in force.
    #[wasm_bindgen(getter)]
    pub fn limits(&self) -> JsResult<JsValue> {
        let l = self.inner.limits();
        to_js(&LimitsJs {
            max_token_bytes: l.max_token_bytes,
            max_blocks: l.max_blocks,
            max_facts: l.max_facts,
            max_iterations: l.max_iterations,
            max_time_micros: l.max_time_micros,
            proof_window_seconds: l.proof_window_seconds,
            proof_future_skew_seconds: l.proof_future_skew_seconds,
            replay_cache_capacity: l.replay_cache_capacity,
            replay_cache_per_key: l.replay_cache_per_key,
            max_resource_bytes: l.max_resource_bytes,
            verified_cache_capacity: l.verified_cache_capacity,
            prefix_cache_capacity: l.prefix_cache_capacity,
        })
    }
}

/// An otherwise-allowed call waiting for its single-use state (`Verifier.authorizeBegin`): the
/// proof's nonce to claim (`key`, `ttlMs`; `null` when none is left), then the budget `charges`
/// to spend. `claimed(ok)` takes the replay store's answer (a decision, or `null` when the
/// charges are still to spend); `spent(reply)` the counter store's (0: spent; `i`: the `i`-th
/// charge is exhausted); `fail(reason)` throws `replay_store_unavailable` (fail closed).
#[wasm_bindgen]
pub struct PendingAuthorization {
    inner: Option<marque::verify::PendingClaim>,
    /// For an MCP message (`authorizeMcpBegin`): its method and the request it maps to.
    mcp: Option<(Option<String>, marque::Request)>,
}

/// One budget counter to spend, as `PendingAuthorization.charges` gives it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChargeJs<'a> {
    key: &'a str,
    limit: f64,
    ttl_ms: f64,
}

#[wasm_bindgen]
impl PendingAuthorization {
    /// The next key to claim: the proof's nonce, then a human approval's — `marque:replay:` +
    /// 64 hex digits (no token material); `null` when there is nothing (left) to claim.
    #[wasm_bindgen(getter)]
    pub fn key(&self) -> JsResult<JsValue> {
        Ok(self.pending()?.claim().map_or(JsValue::NULL, |c| JsValue::from_str(c.key())))
    }

    /// How long the store must hold the key, in milliseconds (proof window + future skew).
    #[wasm_bindgen(getter, js_name = ttlMs)]
    pub fn ttl_ms(&self) -> JsResult<JsValue> {
        Ok(self.pending()?.claim().map_or(JsValue::NULL, |c| JsValue::from_f64(c.ttl_ms() as f64)))
    }

    /// For `authorizeMcpBegin`: the JSON-RPC method of the message (else `null`).
    #[wasm_bindgen(getter, js_name = mcpMethod)]
    pub fn mcp_method(&self) -> JsValue {
        self.mcp.as_ref().and_then(|(m, _)| m.as_deref()).map_or(JsValue::NULL, JsValue::from_str)
    }

    /// For `authorizeMcpBegin`: the request the message maps to (else `null`).
    #[wasm_bindgen(getter, js_name = mcpRequest)]
    pub fn mcp_request(&self) -> JsResult<JsValue> {
        match &self.mcp {
            Some((_, r)) => crate::mcp::mcp_request_to_js(r),
            None => Ok(JsValue::NULL),
        }
    }

    /// The budget counters to spend, in hop order, all or nothing: `[{ key, limit, ttlMs }]`
    /// (`key`: `marque:budget:` + 64 hex digits; empty: no budget).
    #[wasm_bindgen(getter)]
    pub fn charges(&self) -> JsResult<JsValue> {
        let charges: Vec<ChargeJs<'_>> =
            self.pending()?.charges().iter().map(|c| ChargeJs { key: c.key(), limit: c.limit() as f64, ttl_ms: c.ttl_ms() as f64 }).collect();
        to_js(&charges)
    }

    /// The replay store's answer for `key`: `false` → denied (`replayed_proof` for the proof's
    /// nonce, `approval_required` for a used approval); `true` → allowed, or `null` when the
    /// call is still pending (`key` names the approval to claim next, or the charges are to spend).
    pub fn claimed(&mut self, claimed: bool) -> JsResult<JsValue> {
        let claim = if claimed { marque::replay::Claim::Claimed } else { marque::replay::Claim::AlreadyUsed };
        match self.take()?.claimed(Ok(claim))? {
            marque::verify::Authorization::Decided(d) => decision_to_js(&d),
            marque::verify::Authorization::Pending(p) => {
                self.inner = Some(p);
                Ok(JsValue::NULL)
            }
        }
    }

    /// The counter store's answer, once the nonce is claimed: 0 → allowed; `i` → denied
    /// `budget_exhausted` naming the `i`-th charge's delegation; anything else (not an integer,
    /// no such charge) throws `replay_store_unavailable`.
    pub fn spent(&mut self, reply: f64) -> JsResult<JsValue> {
        let pending = self.take()?;
        if reply.fract() != 0.0 || !(-crate::convert::MAX_SAFE_INTEGER..=crate::convert::MAX_SAFE_INTEGER).contains(&reply) {
            let e = marque::replay::unavailable(format!("the counter store answered {reply}, not a counter index"));
            return decision_to_js(&pending.spent(Err(e))?);
        }
        decision_to_js(&pending.spent_reply(reply as i64)?)
    }

    /// The decision of a call without budgets, given the replay store's answer: `true` →
    /// allowed; `false` → `replayed_proof` (a call with charges throws `invalid_argument`).
    pub fn finish(&mut self, claimed: bool) -> JsResult<JsValue> {
        let claim = if claimed { marque::replay::Claim::Claimed } else { marque::replay::Claim::AlreadyUsed };
        decision_to_js(&self.take()?.finish(Ok(claim))?)
    }

    /// Throws `replay_store_unavailable` with `reason`: the call fails closed.
    pub fn fail(&mut self, reason: String) -> JsResult<JsValue> {
        Err(self.take()?.failed(marque::replay::unavailable(reason)).into())
    }
}

impl PendingAuthorization {
    /// A pending MCP call: `mcpMethod` and `mcpRequest` name the message.
    pub(crate) fn for_mcp(p: marque::McpPending) -> Self {
        PendingAuthorization { inner: Some(p.pending), mcp: Some((p.method, p.request)) }
    }

    fn pending(&self) -> JsResult<&marque::verify::PendingClaim> {
        self.inner.as_ref().ok_or_else(|| JsError::argument("this pending authorization was already finished"))
    }

    fn take(&mut self) -> JsResult<marque::verify::PendingClaim> {
        self.inner.take().ok_or_else(|| JsError::argument("this pending authorization was already finished"))
    }
}

/// The Lua script of a Redis/Valkey counter store (the core's `REDIS_SPEND_SCRIPT`): `EVAL` it
/// with the charges' keys, then each charge's limit and `ttlMs` (`limit1, ttl1, limit2, …`); it
/// spends all or nothing, atomically on the server, and its answer is what a store's
/// `spend(charges)` resolves (0: spent; `i`: the `i`-th charge is exhausted).
#[wasm_bindgen(js_name = redisSpendScript)]
pub fn redis_spend_script() -> String {
    marque::budget::REDIS_SPEND_SCRIPT.to_string()
}
