//! Argument conversion for `Token.delegate` (mirrors `marque::delegate`).

use pyo3::prelude::*;

use crate::convert;
use crate::errors::Result;

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
) -> Result<marque::DelegateParams> {
    let mut p = marque::DelegateParams::new(to, convert::public_key(to_key)?);
    p.tools = convert::names("tools", tools)?;
    p.operations = convert::names("operations", operations)?;
    p.resource_prefix = resource_prefix;
    p.ttl_seconds = convert::opt_seconds("ttl_seconds", ttl_seconds)?;
    p.max_depth = convert::opt_uint("max_depth", max_depth)?;
    p.now = convert::now(now)?;
    Ok(p)
}
