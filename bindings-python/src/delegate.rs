//! Argument conversion for `Token.delegate` (mirrors `marque::delegate`).

use pyo3::prelude::*;

use pyo3::types::PyDict;

use crate::convert;
use crate::errors::{invalid_argument, type_error, Result};

/// Builds the core's [`marque::DelegateParams`] from `Token.delegate`'s keyword arguments.
#[allow(clippy::too_many_arguments)]
pub fn params(
    to: String,
    to_key: &Bound<'_, PyAny>,
    tools: Option<&Bound<'_, PyAny>>,
    operations: Option<&Bound<'_, PyAny>>,
    resource_prefix: Option<String>,
    ttl_seconds: Option<&Bound<'_, PyAny>>,
    max_depth: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
    constraints: DelegateConstraints<'_, '_>,
) -> Result<marque::DelegateParams> {
    let mut p = marque::DelegateParams::new(to, convert::public_key(to_key)?);
    p.tools = convert::names("tools", tools)?;
    p.operations = convert::names("operations", operations)?;
    p.resource_prefix = resource_prefix;
    p.ttl_seconds = convert::opt_seconds("ttl_seconds", ttl_seconds)?;
    p.max_depth = convert::opt_uint("max_depth", max_depth)?;
    p.now = convert::now(now)?;
    p.budget.max_calls = convert::opt_uint("max_calls", constraints.max_calls)?;
    if let Some(r) = constraints.rate.filter(|r| !r.is_none()) {
        let d = r.cast::<PyDict>().map_err(|_| {
            type_error(format!("rate must be a dict {{\"calls\": int, \"window_seconds\": int}}, got {}", convert::type_name(r)))
        })?;
        let (mut calls, mut window) = (None, None);
        for (k, v) in d.iter() {
            match convert::str_arg("a rate key", &k)?.as_str() {
                "calls" => calls = Some(convert::uint::<u64>("rate[\"calls\"]", &v)?),
                "window_seconds" => window = Some(convert::uint::<u64>("rate[\"window_seconds\"]", &v)?),
                other => return Err(marque::options::unknown_key("rate", other, &["calls", "window_seconds"]).into()),
            }
        }
        let (Some(calls), Some(window)) = (calls, window) else {
            return Err(invalid_argument("rate needs both \"calls\" and \"window_seconds\""));
        };
        p = p.rate(calls, window);
    }
    p.require_approval = convert::rights(constraints.require_approval)?;
    Ok(p)
}

/// `Token.delegate`'s constraint options: `max_calls` (int), `rate` (`{"calls": int,
/// "window_seconds": int}`), `require_approval` (a list of rights).
pub struct DelegateConstraints<'a, 'py> {
    pub max_calls: Option<&'a Bound<'py, PyAny>>,
    pub rate: Option<&'a Bound<'py, PyAny>>,
    pub require_approval: Option<&'a Bound<'py, PyAny>>,
}
