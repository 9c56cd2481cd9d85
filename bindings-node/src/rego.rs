//! The verifier's `rego` and `roles` options: Rego (OPA) policies `{ name, version?, source, data? }`.
//!
//! Only conversion lives here: the core (`marque::rego`) checks each policy when it is loaded
//! (size, syntax, a package, an `allow` rule) and evaluates it. A build without the core's
//! `rego` feature refuses the option (`invalid_argument`) rather than ignore a policy.

use std::collections::{BTreeMap, HashMap};

use napi_derive::napi;

use marque_node_derive::Options;

use crate::convert::JsonInput;
#[cfg(feature = "rego")]
use crate::errors::OrThrow;
use crate::errors::Result;

/// An operator policy in Rego (OPA v1 syntax): a package with an `allow` rule and optionally
/// `require_approval`, run on every call the token allows.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct RegoPolicy {
    /// Names the policy in decisions (`name@version#rule`): 1–128 of `[A-Za-z0-9-_.:/]`.
    pub name: String,
    /// Its version, likewise (optional).
    pub version: Option<String>,
    /// The Rego module text (at most 64 KiB).
    pub source: String,
    /// Operator data the policy reads as `data.…` (a JSON object, or its text).
    #[napi(ts_type = "Record<string, unknown> | string")]
    pub data: Option<JsonInput>,
}

/// Loads `policies` into `v` (each checked by the core; the first bad one throws) and sets the
/// role map read as `input.agent.role`.
pub(crate) fn apply(v: &mut marque::Verifier, policies: Option<Vec<RegoPolicy>>, roles: Option<HashMap<String, String>>) -> Result<()> {
    load(v, policies.unwrap_or_default())?;
    v.set_roles(roles.unwrap_or_default().into_iter().collect::<BTreeMap<_, _>>());
    Ok(())
}

#[cfg(feature = "rego")]
fn load(v: &mut marque::Verifier, policies: Vec<RegoPolicy>) -> Result<()> {
    for p in policies {
        let mut policy = marque::rego::RegoPolicy::new(&p.name, p.version.as_deref(), &p.source).or_throw()?;
        if let Some(data) = &p.data {
            policy = policy.with_data_json(&data.0).or_throw()?;
        }
        v.add_rego_policy(policy);
    }
    Ok(())
}

/// This build has no Rego interpreter: a policy given is refused, never ignored.
#[cfg(not(feature = "rego"))]
fn load(_v: &mut marque::Verifier, policies: Vec<RegoPolicy>) -> Result<()> {
    match policies.is_empty() {
        true => Ok(()),
        false => Err(crate::errors::invalid_argument(
            "rego: this build of @marque/node has no Rego support (built without the `rego` feature)",
        )),
    }
}
