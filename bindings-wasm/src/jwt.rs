//! `jwtIssue` / `jwtVerify` (the core's `jwt` module): compact mode, EdDSA only, strict.

use marque::jwt::{JwtKeys, JwtOptions};
use wasm_bindgen::prelude::*;

use crate::convert::{array, entries, is_array, string, to_js, Options};
use crate::errors::{JsError, JsResult};
use crate::keys::public_key;

/// Issues a compact JWT (`alg: EdDSA`): `claims` is an object or JSON text and must include a
/// numeric `exp`; `options.kid` goes into the header. (Not in the verifier-only build.)
#[cfg(feature = "full")]
#[wasm_bindgen(js_name = jwtIssue)]
pub fn jwt_issue(key: JsValue, claims: JsValue, options: JsValue) -> JsResult<String> {
    let key = crate::signer::signer(&key, "signer")?;
    let text = crate::convert::json_text(&claims, "claims")?;
    let claims: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| JsError::argument("claims are not valid JSON"))?;
    let mut o = Options::optional(&options, "jwtIssue options")?;
    let kid = o.opt_string("kid")?;
    o.finish()?;
    Ok(marque::jwt_issue(key.get(), &claims, kid.as_deref())?)
}

/// Verifies a compact JWT strictly (EdDSA only, key chosen by `kid` among `keys`, `exp`
/// required, `aud`/`iss`/`nbf`/`iat` checked, bounded size) and returns its claims.
#[wasm_bindgen(js_name = jwtVerify)]
pub fn jwt_verify(token: JsValue, keys: JsValue, options: JsValue) -> JsResult<JsValue> {
    let token = string(&token, "token")?;
    let mut trusted = JwtKeys::new();
    if is_array(&keys) {
        for (i, k) in array(&keys, "keys")?.iter().enumerate() {
            trusted.insert(None, public_key(k, &format!("keys[{i}]"))?);
        }
    } else if keys.is_object() && !keys.is_function() {
        for (kid, k) in entries(&keys, "keys")? {
            trusted.insert(Some(kid), public_key(&k, "keys[kid]")?);
        }
    } else {
        return Err(JsError::argument(
            "keys must be an array of keys or an object mapping key ids to keys",
        ));
    }
    let mut o = Options::optional(&options, "jwtVerify options")?;
    let mut opts = JwtOptions::new(o.now()?);
    opts.audience = o.opt_string("audience")?;
    opts.issuer = o.opt_string("issuer")?;
    if let Some(l) = o.opt_uint("leewaySeconds")? {
        opts.leeway_seconds = l;
    }
    if let Some(m) = o.opt_uint("maxSize")? {
        opts.max_size = usize::try_from(m)
            .map_err(|_| JsError::argument("jwtVerify options.maxSize is too large"))?;
    }
    if let Some(r) = o.opt_strings("require")? {
        opts.required_claims = r;
    }
    o.finish()?;
    to_js(&marque::jwt_verify(&token, &trusted, &opts)?)
}
