//! Compact mode: `jwt_issue`, `jwt_verify`, `jwt_decode` and the RFC 8693 `act` helpers
//! (mirrors `marque::jwt`). Every check is the core's.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::convert::{self, type_name, Str};
use crate::errors::{no_panic, type_error, Result};
use crate::signer::Signer;

/// The keys a JWT verifier trusts: one key (no key id), a list of keys (no key ids) or a dict
/// `{kid: key}`.
fn jwt_keys(v: &Bound<'_, PyAny>) -> Result<marque::JwtKeys> {
    let mut keys = marque::JwtKeys::new();
    if let Ok(d) = v.cast::<PyDict>() {
        for (kid, key) in d.iter() {
            let kid = convert::str_arg("a key id", &kid)?;
            keys.insert(Some(kid), convert::public_key(&key)?);
        }
        return Ok(keys);
    }
    for key in convert::public_keys("keys", v)? {
        keys.insert(None, key);
    }
    Ok(keys)
}

/// Issues a compact JWT: `claims` (a dict, or JSON text of an object) signed with `keypair`
/// under `{"alg":"EdDSA","typ":"JWT"}` plus `kid` when given. Header and payload are RFC 8785
/// canonical JSON, so the same input gives the same token. The claims need a numeric `exp`;
/// mistyped registered claims are refused (`InvalidArgument`), as verification would refuse them.
#[pyfunction]
#[pyo3(signature = (keypair, claims, kid = None))]
pub fn jwt_issue(py: Python<'_>, keypair: &Bound<'_, PyAny>, claims: &Bound<'_, PyAny>, kid: Option<Str>) -> Result<String> {
    let signer = Signer::extract("keypair", keypair)?;
    let claims = serde_json::Value::Object(convert::json_object("claims", claims)?);
    py.detach(|| signer.finish(no_panic(|| marque::jwt_issue(signer.core(), &claims, kid.as_deref()))))
}

/// Verifies a compact JWT strictly and returns its claims as a dict.
///
/// `keys`: a `PublicKey` (or any key form), a list of them, or a dict `{kid: key}`; the key is
/// chosen by the token's `kid`, never taken from the token. EdDSA only; `exp` is required.
/// `now`, `leeway_seconds` (default 30) and `max_size` (default 8192 bytes) as elsewhere.
/// `audience`: when given, `aud` must be or contain it; when not, a token with an `aud` is
/// refused. `issuer`: `iss` must equal it. `required_claims`: must be present. Raises
/// `InvalidJwt` for every refusal except a past `exp` (`Expired`) and an over-size token
/// (`LimitsExceeded`). Rules: `docs/AUDIT.md` ("Compact mode").
#[pyfunction]
#[pyo3(signature = (token, keys, *, audience = None, leeway_seconds = None, now = None, issuer = None,
    max_size = None, required_claims = None))]
#[allow(clippy::too_many_arguments)]
pub fn jwt_verify<'py>(
    py: Python<'py>,
    token: &Bound<'py, PyAny>,
    keys: &Bound<'py, PyAny>,
    audience: Option<Str>,
    leeway_seconds: Option<&Bound<'py, PyAny>>,
    now: Option<&Bound<'py, PyAny>>,
    issuer: Option<Str>,
    max_size: Option<&Bound<'py, PyAny>>,
    required_claims: Option<Vec<Str>>,
) -> Result<Bound<'py, PyAny>> {
    let token = token_text(token)?;
    let keys = jwt_keys(keys)?;
    let mut options = marque::JwtOptions::new(convert::now_or_clock(now)?);
    options.audience = convert::opt(audience);
    options.issuer = convert::opt(issuer);
    if let Some(l) = convert::opt_seconds("leeway_seconds", leeway_seconds)? {
        options.leeway_seconds = l;
    }
    if let Some(m) = convert::opt_uint::<usize>("max_size", max_size)? {
        options.max_size = m;
    }
    options.required_claims = convert::strings(required_claims.unwrap_or_default());
    let claims = py.detach(move || no_panic(|| marque::jwt_verify(&token, &keys, &options)))?;
    let value = serde_json::to_value(&claims)
        .map_err(|e| marque::Error::new(marque::ErrorKind::Internal, format!("claims encoding: {e}")))?;
    convert::value_to_py(py, &value)
}

/// Decodes a compact JWS **without verifying anything** but its shape: returns
/// `{"header": {...}, "payload": {...}}`. Never trust the result; use `jwt_verify`.
#[pyfunction]
pub fn jwt_decode<'py>(py: Python<'py>, token: &Bound<'py, PyAny>) -> Result<Bound<'py, PyAny>> {
    let parts = marque::jwt::jwt_decode(&token_text(token)?)?;
    let mut m = serde_json::Map::new();
    m.insert("header".into(), serde_json::Value::Object(parts.header));
    m.insert("payload".into(), serde_json::Value::Object(parts.payload));
    convert::value_to_py(py, &serde_json::Value::Object(m))
}

fn token_text(v: &Bound<'_, PyAny>) -> Result<String> {
    if let Ok(s) = v.cast::<PyString>() {
        return convert::text(s);
    }
    if let Some(b) = convert::bytes_like(v)? {
        return String::from_utf8(b).map_err(|_| {
            marque::Error::new(marque::ErrorKind::InvalidJwt, "the JWT is not ASCII text").into()
        });
    }
    Err(type_error(format!("a JWT must be a str, got {}", type_name(v))))
}

/// The nested RFC 8693 `act` claim of a delegation chain given root first: the last agent is
/// the outermost (current) actor. `None` for an empty chain.
#[pyfunction]
pub fn chain_to_act<'py>(py: Python<'py>, chain: Vec<Str>) -> Result<Option<Bound<'py, PyAny>>> {
    marque::jwt::chain_to_act(&chain)
        .map(|act| {
            let value = serde_json::to_value(&act)
                .map_err(|e| marque::Error::new(marque::ErrorKind::Internal, format!("act encoding: {e}")))?;
            convert::value_to_py(py, &value)
        })
        .transpose()
}

/// The delegation chain (root first) of a nested `act` claim (a dict).
#[pyfunction]
pub fn act_to_chain(act: &Bound<'_, PyAny>) -> Result<Vec<String>> {
    let value = convert::json_value("act", act)?;
    let act: marque::jwt::Actor = serde_json::from_value(value)
        .map_err(|e| crate::errors::invalid_argument(format!("not an RFC 8693 act claim: {e}")))?;
    Ok(marque::jwt::act_to_chain(&act))
}

/// RFC 7638 JWK thumbprint (base64url SHA-256) of an Ed25519 public key, as used in `cnf.jkt`.
#[pyfunction]
pub fn jwk_thumbprint(key: &Bound<'_, PyAny>) -> Result<String> {
    Ok(marque::jwt::jwk_thumbprint(&convert::public_key(key)?))
}

/// Adds the compact-mode functions and constants to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(jwt_issue, m)?)?;
    m.add_function(wrap_pyfunction!(jwt_verify, m)?)?;
    m.add_function(wrap_pyfunction!(jwt_decode, m)?)?;
    m.add_function(wrap_pyfunction!(chain_to_act, m)?)?;
    m.add_function(wrap_pyfunction!(act_to_chain, m)?)?;
    m.add_function(wrap_pyfunction!(jwk_thumbprint, m)?)?;
    m.add("JWT_DEFAULT_LEEWAY_SECONDS", marque::jwt::DEFAULT_LEEWAY_SECONDS)?;
    m.add("JWT_DEFAULT_MAX_SIZE", marque::jwt::DEFAULT_MAX_SIZE)?;
    Ok(())
}
