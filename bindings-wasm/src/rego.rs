//! The verifier's `rego` and `roles` options: Rego (OPA) policies `{ name, version?, source, data? }`.
//!
//! Only conversion lives here: the core (`marque::rego`) checks each policy when it is loaded
//! and evaluates it. The default module is built without the core's `rego` feature (the
//! interpreter is large, README "Sizes"): there a `rego` option is refused
//! (`invalid_argument`), never ignored; the Rego build (`scripts/build-wasm.sh --rego`,
//! package `pkg-rego`) loads the policies, and its evaluation time limit runs on the host's
//! clock (`performance.now()`, `set_host_clock`).

use wasm_bindgen::JsValue;
#[cfg(all(feature = "rego", target_arch = "wasm32"))]
use wasm_bindgen::prelude::wasm_bindgen;

#[cfg(feature = "rego")]
use crate::convert::json_text;
use crate::convert::{array, entries, is_array, Options};
use crate::errors::{JsError, JsResult};

/// Reads the `rego` and `roles` options into `v`.
pub fn configure(v: &mut marque::Verifier, o: &mut Options) -> JsResult<()> {
    if let Some(list) = o.get("rego")? {
        for (i, p) in array(&list, "rego")?.iter().enumerate() {
            load(v, p, i)?;
        }
    }
    if let Some(r) = o.get("roles")? {
        if is_array(&r) || !r.is_object() || r.is_function() {
            return Err(JsError::argument("roles must be an object mapping agent paths or ids to roles"));
        }
        let mut roles = std::collections::BTreeMap::new();
        for (agent, role) in entries(&r, "roles")? {
            let role = role.as_string().ok_or_else(|| JsError::argument(format!("roles[{agent:?}] must be a string")))?;
            roles.insert(agent, role);
        }
        v.set_roles(roles);
    }
    Ok(())
}

/// The host's monotonic milliseconds (`performance.now()`, else `Date.now()`).
#[cfg(all(feature = "rego", target_arch = "wasm32"))]
#[wasm_bindgen(inline_js = "export function monotonicMillis() { return (globalThis.performance ?? Date).now(); }")]
extern "C" {
    #[wasm_bindgen(js_name = monotonicMillis)]
    fn monotonic_millis() -> f64;
}

/// regorus has no clock of its own on wasm32: the policy time limit runs on the host's
/// (`performance.now()`). Idempotent.
#[cfg(feature = "rego")]
pub fn set_host_clock() {
    #[cfg(target_arch = "wasm32")]
    marque::rego::set_host_clock(monotonic_millis);
}

#[cfg(feature = "rego")]
fn load(v: &mut marque::Verifier, p: &JsValue, _i: usize) -> JsResult<()> {
    set_host_clock();
    let mut po = Options::new(p, "rego policy")?;
    let name = po.string("name")?;
    let version = po.opt_string("version")?;
    let source = po.string("source")?;
    let data = po.get("data")?.map(|d| json_text(&d, "rego policy data")).transpose()?;
    po.finish()?;
    let mut policy = marque::rego::RegoPolicy::new(&name, version.as_deref(), &source)?;
    if let Some(d) = data {
        policy = policy.with_data_json(&d)?;
    }
    v.add_rego_policy(policy);
    Ok(())
}

/// This module has no Rego interpreter: a policy given is refused, never ignored.
#[cfg(not(feature = "rego"))]
fn load(_v: &mut marque::Verifier, _p: &JsValue, i: usize) -> JsResult<()> {
    Err(JsError::argument(format!(
        "rego[{i}]: this @marque/wasm module has no Rego support; use the Rego build (pkg-rego, built by scripts/build-wasm.sh --rego)"
    )))
}
