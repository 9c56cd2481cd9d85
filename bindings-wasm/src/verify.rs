//! `Verifier` and decisions (the core's `verify` and `policy` modules): is this token genuine,
//! and may its holder do this now? A denial is a `Decision` (a plain object with the core's
//! `Decision` JSON fields); a bad signature, unknown root key, malformed token or hit limit
//! throws a `MarqueError`.

use std::collections::BTreeMap;

use js_sys::{Object, Reflect};
use marque::policy::{Limits, Policy, Request};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::convert::{array, entries, is_array, string, to_js, truncate, Options};
use crate::errors::{JsError, JsResult};
use crate::keys::public_key;
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
    max_resource_bytes: usize,
    verified_cache_capacity: usize,
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
    if let Some(n) = o.opt_uint("maxResourceBytes")? {
        l.max_resource_bytes = usize_of(n, "limits.maxResourceBytes")?;
    }
    if let Some(n) = o.opt_uint("verifiedCacheCapacity")? {
        l.verified_cache_capacity = usize_of(n, "limits.verifiedCacheCapacity")?;
    }
    o.finish()?;
    Ok(l)
}

fn root_keys(v: &JsValue) -> JsResult<marque::Verifier> {
    if is_array(v) {
        let keys = array(v, "rootKeys")?
            .iter()
            .enumerate()
            .map(|(i, k)| public_key(k, &format!("rootKeys[{i}]")))
            .collect::<JsResult<Vec<_>>>()?;
        return Ok(marque::Verifier::new(keys));
    }
    if !v.is_object() || v.is_function() {
        return Err(JsError::argument(
            "rootKeys must be an array of keys or an object mapping key ids to keys",
        ));
    }
    let mut keys = Vec::new();
    for (id, key) in entries(v, "rootKeys")? {
        let id: u32 = id.parse().map_err(|_| {
            JsError::argument(format!(
                "rootKeys: key id {:?} is not a 32-bit unsigned integer",
                truncate(&id, 64)
            ))
        })?;
        keys.push((id, public_key(&key, "rootKeys[id]")?));
    }
    Ok(marque::Verifier::with_key_ids(keys))
}

fn request(o: &mut Options) -> JsResult<Request> {
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

/// camelCase aliases of the snake_case decision fields, non-enumerable so that
/// `JSON.stringify(decision)` stays the core's `Decision` JSON.
const ALIASES: [(&str, &str); 5] = [
    ("agentKeyFingerprint", "agent_key_fingerprint"),
    ("agentKey", "agent_key"),
    ("revocationIds", "revocation_ids"),
    ("expiresAt", "expires_at"),
    ("proofVerified", "proof_verified"),
];

fn decision_to_js(d: &marque::Decision) -> JsResult<JsValue> {
    let obj = to_js(d)?;
    let define = |name: &str, value: &JsValue| {
        let desc = Object::new();
        let _ = Reflect::set(&desc, &"value".into(), value);
        Object::define_property(obj.unchecked_ref::<Object>(), &name.into(), &desc);
    };
    for (alias, field) in ALIASES {
        let value = Reflect::get(&obj, &field.into()).unwrap_or(JsValue::UNDEFINED);
        define(alias, &value);
    }
    define(
        "tokenId",
        &d.token_id().map(JsValue::from_str).unwrap_or(JsValue::NULL),
    );
    Ok(obj)
}

#[wasm_bindgen]
impl Verifier {
    /// `new Verifier({rootKeys, policies?, limits?, requireProof?})`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> JsResult<Verifier> {
        let mut o = Options::new(&options, "verifier options")?;
        let mut v = root_keys(&o.required("rootKeys")?)?;
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
        o.finish()?;
        Ok(Verifier { inner: v })
    }

    fn decide(&self, token: JsValue, options: JsValue) -> JsResult<marque::Decision> {
        let token = TokenArg::from_js(&token, "token")?;
        let mut o = Options::new(&options, "authorize options")?;
        let req = request(&mut o)?;
        let proof = o.opt_string("proof")?;
        let now = o.now()?;
        o.finish()?;
        let proof = proof.as_deref();
        Ok(match token {
            TokenArg::Text(s) => self.inner.authorize_base64(&s, &req, proof, Some(now))?,
            TokenArg::Bytes(b) => self.inner.authorize(&b, &req, proof, Some(now))?,
            TokenArg::Parsed(t) => self.inner.authorize_token(&t, &req, proof, Some(now))?,
        })
    }

    /// Verifies `token` and decides the request `{tool, operation?, resource, proof?, now?,
    /// attributes?}`. Returns a plain object with the core's `Decision` fields.
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
            max_resource_bytes: l.max_resource_bytes,
            verified_cache_capacity: l.verified_cache_capacity,
        })
    }
}
