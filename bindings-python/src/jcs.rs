//! RFC 8785 canonical JSON (mirrors `marque::jcs`).

use pyo3::prelude::*;

use crate::convert::{self, Str};
use crate::errors::Result;

/// RFC 8785 (JCS) canonical JSON of a Python value (dict, list, str, int, float, bool, None):
/// members sorted by UTF-16 code units, no whitespace, numbers as ECMAScript prints them. NaN
/// and infinities are refused (`InvalidArgument`).
#[pyfunction]
pub fn jcs_canonicalize(value: &Bound<'_, PyAny>) -> Result<String> {
    let text = convert::dumps(value)?;
    Ok(marque::jcs::canonicalize_str(&text)?)
}

/// RFC 8785 canonical form of JSON text (parsed strictly: duplicate member names refused).
#[pyfunction]
pub fn jcs_canonicalize_str(json: Str) -> Result<String> {
    Ok(marque::jcs::canonicalize_str(&json)?)
}

/// Adds the JCS functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(jcs_canonicalize, m)?)?;
    m.add_function(wrap_pyfunction!(jcs_canonicalize_str, m)?)?;
    Ok(())
}
