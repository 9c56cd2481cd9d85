//! Conversions of Python arguments into core values: times, tokens, keys, rights, JSON.
//!
//! Only type conversion lives here; every rule about what a value means stays in the core.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyString};

use crate::errors::{invalid_argument, type_error, Result};
use crate::keys::{KeyPair, PublicKey};
use crate::policy::Right;
use crate::token::Token;

/// The text of a Python `str`, as UTF-8. A `str` may hold lone surrogates (`"agent:\\ud800"`),
/// which are not Unicode scalar values and have no UTF-8 form: that is `InvalidArgument` (a
/// `MarqueError`), never a `UnicodeEncodeError`. Every string that enters the binding goes
/// through here — directly, or as a [`Str`] argument.
pub fn text(s: &Bound<'_, PyString>) -> Result<String> {
    match s.to_cow() {
        Ok(t) => Ok(t.into_owned()),
        Err(e) if e.is_instance_of::<pyo3::exceptions::PyUnicodeEncodeError>(s.py()) => Err(invalid_argument(
            "a str argument is not valid Unicode text: it contains a lone surrogate (such as \\ud800), \
             which has no UTF-8 form",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Any object that must be a `str` (`TypeError` otherwise), as text (see [`text`]).
pub fn str_arg(what: &str, v: &Bound<'_, PyAny>) -> Result<String> {
    match v.cast::<PyString>() {
        Ok(s) => text(s),
        Err(_) => Err(type_error(format!("{what} must be a str, got {}", type_name(v)))),
    }
}

/// A `str` argument of a binding function: what signatures take instead of `String` / `&str`,
/// so that a `str` with lone surrogates is `InvalidArgument` (see [`text`]) and not the
/// `UnicodeEncodeError` pyo3's own `String` extraction raises.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Str(pub String);

impl<'a, 'py> FromPyObject<'a, 'py> for Str {
    type Error = PyErr;

    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Str(str_arg("the argument", &obj)?))
    }
}

impl std::ops::Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Str> for String {
    fn from(s: Str) -> String {
        s.0
    }
}

/// `Vec<Str>` as strings.
pub fn strings(v: Vec<Str>) -> Vec<String> {
    v.into_iter().map(String::from).collect()
}

/// `Option<Str>` as an optional string.
pub fn opt(v: Option<Str>) -> Option<String> {
    v.map(String::from)
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str(s.to_owned())
    }
}

/// A filesystem path argument (`str` or `os.PathLike`); a path pyo3 cannot encode (a lone
/// surrogate outside the file system's escape range) is `InvalidArgument`.
pub fn path(v: &Bound<'_, PyAny>) -> Result<std::path::PathBuf> {
    v.extract::<std::path::PathBuf>().map_err(|e| {
        if e.is_instance_of::<pyo3::exceptions::PyUnicodeError>(v.py()) {
            invalid_argument("the path is not valid text for the file system (it contains a lone surrogate)")
        } else {
            e.into()
        }
    })
}

/// `now=`: `None` (the clock), an `int` or `float` of seconds since the Unix epoch (floats are
/// truncated towards the past), or an aware `datetime`.
pub fn now(value: Option<&Bound<'_, PyAny>>) -> Result<Option<u64>> {
    let Some(v) = value else { return Ok(None) };
    if v.is_none() {
        return Ok(None);
    }
    seconds("now", v).map(Some)
}

/// A non-negative number of seconds (int, float or, for instants, an aware `datetime`).
pub fn seconds(what: &str, v: &Bound<'_, PyAny>) -> Result<u64> {
    if v.is_instance_of::<pyo3::types::PyBool>() {
        return Err(type_error(format!("{what} must be a number of seconds, not a bool")));
    }
    if let Ok(i) = v.cast::<pyo3::types::PyInt>() {
        return i.extract::<u64>().map_err(|_| invalid_argument(format!("{what} must be between 0 and 2**64-1 seconds")));
    }
    let f: f64 = if let Ok(f) = v.cast::<pyo3::types::PyFloat>() {
        f.value()
    } else if v.hasattr("timestamp")? && v.hasattr("tzinfo")? {
        if v.getattr("tzinfo")?.is_none() {
            return Err(invalid_argument(format!(
                "{what}: a naive datetime is ambiguous; pass an aware one (tzinfo=timezone.utc)"
            )));
        }
        v.call_method0("timestamp")?.extract::<f64>()?
    } else {
        return Err(type_error(format!(
            "{what} must be seconds since the Unix epoch (int or float), got {}",
            type_name(v)
        )));
    };
    if !f.is_finite() || f < 0.0 || f >= u64::MAX as f64 {
        return Err(invalid_argument(format!("{what} must be a finite, non-negative number of seconds")));
    }
    Ok(f.floor() as u64)
}

/// An optional duration in seconds (`ttl_seconds=`).
pub fn opt_seconds(what: &str, v: Option<&Bound<'_, PyAny>>) -> Result<Option<u64>> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => seconds(what, v).map(Some),
    }
}

pub fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// A token as given by the caller.
pub enum TokenInput {
    /// A parsed `Token`.
    Parsed(Arc<marque::Token>),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// base64url text.
    Text(String),
}

impl TokenInput {
    pub fn extract(v: &Bound<'_, PyAny>) -> Result<Self> {
        if let Ok(t) = v.cast::<Token>() {
            return Ok(TokenInput::Parsed(t.get().inner.clone()));
        }
        if let Ok(s) = v.cast::<PyString>() {
            return Ok(TokenInput::Text(text(s)?));
        }
        if let Some(b) = bytes_like(v)? {
            return Ok(TokenInput::Bytes(b));
        }
        Err(type_error(format!("token must be a marque.Token, a base64url str or bytes, got {}", type_name(v))))
    }

    /// Parses (without trusting) into a core token. Call without the GIL.
    pub fn parse(self) -> marque::Result<Arc<marque::Token>> {
        match self {
            TokenInput::Parsed(t) => Ok(t),
            TokenInput::Bytes(b) => marque::Token::from_bytes(&b).map(Arc::new),
            TokenInput::Text(s) => marque::Token::from_base64(&s).map(Arc::new),
        }
    }
}

/// `bytes`, `bytearray` or `memoryview` contents; `None` for other types.
pub fn bytes_like(v: &Bound<'_, PyAny>) -> Result<Option<Vec<u8>>> {
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(Some(b.as_bytes().to_vec()));
    }
    if let Ok(b) = v.cast::<PyByteArray>() {
        return Ok(Some(b.to_vec()));
    }
    if v.is_instance_of::<pyo3::types::PyMemoryView>() {
        let b = v.call_method0("tobytes")?;
        return Ok(Some(b.cast::<PyBytes>().map_err(PyErr::from)?.as_bytes().to_vec()));
    }
    Ok(None)
}

/// Bytes to sign or verify: `bytes`-like or `str` (UTF-8).
pub fn message(v: &Bound<'_, PyAny>) -> Result<Vec<u8>> {
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(text(s)?.into_bytes());
    }
    bytes_like(v)?.ok_or_else(|| type_error(format!("expected bytes or str, got {}", type_name(v))))
}

/// A public key slot: `PublicKey`, `KeyPair` (its public half), text (hex, PEM, JWK JSON,
/// `did:key`), a JWK dict, or 32 raw bytes.
pub fn public_key(v: &Bound<'_, PyAny>) -> Result<marque::PublicKey> {
    if let Ok(k) = v.cast::<PublicKey>() {
        return Ok(k.get().inner);
    }
    if let Ok(k) = v.cast::<KeyPair>() {
        return Ok(k.get().inner.public_key());
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(marque::PublicKey::parse(&text(s)?)?);
    }
    if v.is_instance_of::<PyDict>() {
        return Ok(marque::PublicKey::from_jwk_json(&to_json_text(v)?)?);
    }
    if let Some(b) = bytes_like(v)? {
        return Ok(marque::PublicKey::from_bytes(&b)?);
    }
    Err(type_error(format!(
        "expected a marque.PublicKey (or KeyPair, key text, JWK dict, 32 bytes), got {}",
        type_name(v)
    )))
}

/// One right: `"tool:operation:resource"`, a dict `{tool, operation?, resource?}` or a `Right`.
pub fn right(v: &Bound<'_, PyAny>) -> Result<marque::Right> {
    if let Ok(r) = v.cast::<Right>() {
        return Ok(r.get().inner.clone());
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(marque::Right::parse(&text(s)?)?);
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut tool = None;
        let mut operation = marque::policy::ANY.to_string();
        let mut resource = marque::policy::ANY.to_string();
        for (k, val) in d.iter() {
            let key = str_arg("a right dict key", &k)?;
            let text = str_arg(&format!("right field {key:?}"), &val)?;
            match key.as_str() {
                "tool" => tool = Some(text),
                "operation" => operation = text,
                "resource" => resource = text,
                other => return Err(marque::options::unknown_key("right", other, &["tool", "operation", "resource"]).into()),
            }
        }
        let tool = tool.ok_or_else(|| invalid_argument("a right needs a \"tool\""))?;
        let r = marque::Right::new(tool, operation, resource);
        r.validate()?;
        return Ok(r);
    }
    Err(type_error(format!("a right must be a str \"tool:op:resource\", a dict or a marque.Right, got {}", type_name(v))))
}

/// A list of rights (any iterable of the forms [`right`] accepts; a lone str is refused to
/// avoid iterating over its characters).
pub fn rights(v: Option<&Bound<'_, PyAny>>) -> Result<Vec<marque::Right>> {
    let Some(v) = v else { return Ok(Vec::new()) };
    if v.is_none() {
        return Ok(Vec::new());
    }
    if v.is_instance_of::<PyString>() || v.is_instance_of::<PyDict>() || v.cast::<Right>().is_ok() {
        return Err(type_error("rights must be a list of rights, not a single right"));
    }
    let iter = v.try_iter().map_err(|_| type_error(format!("rights must be a list, got {}", type_name(v))))?;
    iter.map(|item| right(&item?)).collect()
}

/// An optional list of names (`tools=`, `operations=`); a lone str counts as a one-item list.
pub fn names(what: &str, v: Option<&Bound<'_, PyAny>>) -> Result<Option<Vec<String>>> {
    let Some(v) = v else { return Ok(None) };
    if v.is_none() {
        return Ok(None);
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Some(vec![text(s)?]));
    }
    let iter = v.try_iter().map_err(|_| type_error(format!("{what} must be a list of str, got {}", type_name(v))))?;
    let items: Result<Vec<String>> = iter
        .map(|item| {
            str_arg(&format!("each item of {what}"), &item?)
        })
        .collect();
    items.map(Some)
}

/// An optional `dict[str, str]` (request attributes).
pub fn str_map(what: &str, v: Option<&Bound<'_, PyAny>>) -> Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    let Some(v) = v else { return Ok(out) };
    if v.is_none() {
        return Ok(out);
    }
    let d = v.cast::<PyDict>().map_err(|_| type_error(format!("{what} must be a dict[str, str], got {}", type_name(v))))?;
    for (k, val) in d.iter() {
        let k = str_arg(&format!("a key of {what}"), &k)?;
        let val = str_arg(&format!("a value of {what}"), &val)?;
        out.insert(k, val);
    }
    Ok(out)
}

fn json_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static JSON: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    JSON.get_or_try_init(py, || py.import("json").map(Bound::unbind)).map(|m| m.bind(py))
}

/// Parses JSON text into Python objects (`json.loads`).
pub fn json_to_py<'py>(py: Python<'py>, text: &str) -> Result<Bound<'py, PyAny>> {
    Ok(json_module(py)?.call_method1("loads", (text,))?)
}

/// Serializes a Python object (dict/list/str/…) or passes a str through, as JSON text.
pub fn to_json_text(v: &Bound<'_, PyAny>) -> Result<String> {
    if let Ok(s) = v.cast::<PyString>() {
        return text(s);
    }
    json_module(v.py())?
        .call_method1("dumps", (v,))
        .and_then(|s| s.extract::<String>())
        .map_err(|e| invalid_argument(format!("value is not JSON-serializable: {e}")))
}

/// `json.dumps(v)` (also for a `str`, which becomes a JSON string).
pub fn dumps(v: &Bound<'_, PyAny>) -> Result<String> {
    json_module(v.py())?
        .call_method1("dumps", (v,))
        .and_then(|s| s.extract::<String>())
        .map_err(|e| invalid_argument(format!("value is not JSON-serializable: {e}")))
}

/// Python `repr` of a string (quotes and escapes as Python would).
pub fn py_str_repr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An optional non-negative integer that fits `T` (`max_depth=`, `root_key_id=`, limits); a
/// negative or too large value is `invalid_argument`, a non-int a `TypeError`.
pub fn opt_uint<T: TryFrom<u64>>(what: &str, v: Option<&Bound<'_, PyAny>>) -> Result<Option<T>> {
    let Some(v) = v else { return Ok(None) };
    if v.is_none() {
        return Ok(None);
    }
    uint(what, v).map(Some)
}

/// A non-negative integer that fits `T`.
pub fn uint<T: TryFrom<u64>>(what: &str, v: &Bound<'_, PyAny>) -> Result<T> {
    if v.is_instance_of::<pyo3::types::PyBool>() || !v.is_instance_of::<pyo3::types::PyInt>() {
        return Err(type_error(format!("{what} must be an int, got {}", type_name(v))));
    }
    v.extract::<u64>()
        .ok()
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| invalid_argument(format!("{what} is out of range (must be a non-negative int that fits {} bits)", std::mem::size_of::<T>() * 8)))
}

/// `now=` resolved: the given time, or the clock.
pub fn now_or_clock(value: Option<&Bound<'_, PyAny>>) -> Result<u64> {
    Ok(now(value)?.unwrap_or_else(marque::unix_now))
}

/// Trusted public keys: one key (any form [`public_key`] takes, except a dict) or an iterable
/// of them.
pub fn public_keys(what: &str, v: &Bound<'_, PyAny>) -> Result<Vec<marque::PublicKey>> {
    if v.is_instance_of::<PyString>()
        || v.cast::<PublicKey>().is_ok()
        || v.cast::<KeyPair>().is_ok()
        || bytes_like(v)?.is_some()
    {
        return Ok(vec![public_key(v)?]);
    }
    if v.is_instance_of::<PyDict>() {
        return Err(type_error(format!("{what} must be a PublicKey or a list of them, not a dict")));
    }
    let iter = v
        .try_iter()
        .map_err(|_| type_error(format!("{what} must be a PublicKey or a list of them, got {}", type_name(v))))?;
    iter.map(|k| public_key(&k?)).collect()
}

/// A JSON value from a Python object (via `json.dumps`; a `str` is taken as JSON text).
pub fn json_value(what: &str, v: &Bound<'_, PyAny>) -> Result<serde_json::Value> {
    let text = to_json_text(v)?;
    serde_json::from_str(&text).map_err(|e| invalid_argument(format!("{what} is not valid JSON: {e}")))
}

/// A JSON object from a Python dict (or JSON text of an object).
pub fn json_object(what: &str, v: &Bound<'_, PyAny>) -> Result<serde_json::Map<String, serde_json::Value>> {
    match json_value(what, v)? {
        serde_json::Value::Object(m) => Ok(m),
        _ => Err(type_error(format!("{what} must be a dict (a JSON object), got {}", type_name(v)))),
    }
}

/// A JSON value as Python objects.
pub fn value_to_py<'py>(py: Python<'py>, value: &serde_json::Value) -> Result<Bound<'py, PyAny>> {
    json_to_py(py, &value.to_string())
}
