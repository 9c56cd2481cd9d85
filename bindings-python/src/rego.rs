//! The verifier's `rego=` option: Rego (OPA) policies as dicts `{name, version?, source, data?}`.
//!
//! Only conversion lives here: the core (`marque::rego`) checks each policy when it is loaded
//! (size, syntax, a package, an `allow` rule) and evaluates it. A build without the core's
//! `rego` feature refuses the option (`InvalidArgument`) rather than ignore a policy.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::convert::{str_arg, to_json_text, type_name};
use crate::errors::{invalid_argument, type_error, Result};

/// The keys of one `rego=` entry.
const KEYS: [&str; 4] = ["name", "version", "source", "data"];

/// One policy as given: name, optional version, Rego source, optional operator data (JSON text).
pub struct RegoSpec {
    pub name: String,
    pub version: Option<String>,
    pub source: String,
    pub data: Option<String>,
}

/// The `rego=` list (`None` → empty); a lone dict or str is refused (it is one policy, not a list).
pub fn specs(v: Option<&Bound<'_, PyAny>>) -> Result<Vec<RegoSpec>> {
    let Some(v) = v.filter(|v| !v.is_none()) else { return Ok(Vec::new()) };
    let shape = || type_error(format!("rego must be a list of dicts {{\"name\", \"version\", \"source\", \"data\"}}, got {}", type_name(v)));
    if v.is_instance_of::<PyString>() || v.is_instance_of::<PyDict>() {
        return Err(shape());
    }
    v.try_iter().map_err(|_| shape())?.map(|item| spec(&item?)).collect()
}

fn spec(item: &Bound<'_, PyAny>) -> Result<RegoSpec> {
    let d = item
        .cast::<PyDict>()
        .map_err(|_| type_error(format!("each rego policy must be a dict {{\"name\", \"version\", \"source\", \"data\"}}, got {}", type_name(item))))?;
    let (mut name, mut version, mut source, mut data) = (None, None, None, None);
    for (k, val) in d.iter() {
        let key = str_arg("a rego policy key", &k)?;
        match key.as_str() {
            "name" => name = Some(str_arg("rego policy \"name\"", &val)?),
            "version" if val.is_none() => {}
            "version" => version = Some(str_arg("rego policy \"version\"", &val)?),
            "source" => source = Some(str_arg("rego policy \"source\"", &val)?),
            "data" if val.is_none() => {}
            "data" => data = Some(to_json_text(&val)?),
            other => return Err(marque::options::unknown_key("rego policy", other, &KEYS).into()),
        }
    }
    let name = name.ok_or_else(|| invalid_argument("a rego policy needs a \"name\""))?;
    let source = source.ok_or_else(|| invalid_argument("a rego policy needs a \"source\" (the Rego module text)"))?;
    Ok(RegoSpec { name, version, source, data })
}

/// Loads the policies into `v` (each checked by the core; the first bad one raises).
#[cfg(feature = "rego")]
pub fn apply(v: &mut marque::Verifier, specs: Vec<RegoSpec>) -> Result<()> {
    for s in specs {
        let mut policy = marque::rego::RegoPolicy::new(&s.name, s.version.as_deref(), &s.source)?;
        if let Some(data) = &s.data {
            policy = policy.with_data_json(data)?;
        }
        v.add_rego_policy(policy);
    }
    Ok(())
}

/// This build has no Rego interpreter: a policy given is refused, never ignored.
#[cfg(not(feature = "rego"))]
pub fn apply(_v: &mut marque::Verifier, specs: Vec<RegoSpec>) -> Result<()> {
    match specs.is_empty() {
        true => Ok(()),
        false => Err(invalid_argument("rego: this build of marque has no Rego support (built without the `rego` feature)")),
    }
}
