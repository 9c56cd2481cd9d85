//! Compact mode: strict EdDSA JWTs (`jwtIssue`, `jwtVerify`), mirroring `marque::jwt`.

use std::collections::HashMap;

use napi::bindgen_prelude::Object;
use napi::{Either, Env};
use napi_derive::napi;

use marque_node_derive::Options;

use crate::convert::{opt_now, Arg, JsonInput, KeyInput, Text, TimeInput};
use crate::errors::{invalid_argument, no_panic, OrThrow, Result};
use crate::signer::{AsyncSignerInput, SignerInput};

/// Options of `jwtIssue`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct JwtIssueOptions {
    /// Key id written in the header.
    pub kid: Option<String>,
}

/// Options of `jwtVerify`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct JwtVerifyOptions {
    /// `aud` must be (or contain) this. Unset: a token with an `aud` is refused.
    pub audience: Option<String>,
    /// `iss` must equal this.
    pub issuer: Option<String>,
    /// Clock leeway for `exp`, `nbf`, `iat` in seconds (default 30).
    pub leeway_seconds: Option<u32>,
    /// Largest accepted token in bytes (default 8 KiB).
    pub max_size: Option<u32>,
    /// Claims that must be present (besides `exp`).
    pub require: Option<Vec<String>>,
    /// Verification time: seconds since the epoch or a `Date` (default: now).
    pub now: Option<TimeInput>,
}

/// Signs `claims` (an object, or its JSON text) as a compact JWT with `alg: EdDSA`; header and
/// payload are RFC 8785 canonical JSON, so issuing is deterministic. The signer is a `KeyPair` or
/// a `Signer` (`signer_failed` when it fails or returns a bad signature).
#[napi]
pub fn jwt_issue(
    signer: SignerInput,
    #[napi(ts_arg_type = "JwtClaims | string")] claims: JsonInput,
    options: Option<JwtIssueOptions>,
) -> Result<String> {
    let value = claims.value("claims")?;
    let kid = options.and_then(|o| o.kid);
    signer.with(|s| marque::jwt_issue(s, &value, kid.as_deref()))
}

/// `jwtIssue` with an `AsyncSigner` (whose `sign` may return a Promise), run off the JS thread;
/// resolves to the JWT, rejects with a `MarqueError`.
#[napi(strict, ts_return_type = "Promise<string>")]
pub fn jwt_issue_async<'env>(
    env: &'env Env,
    signer: AsyncSignerInput,
    #[napi(ts_arg_type = "JwtClaims | string")] claims: JsonInput,
    options: Option<JwtIssueOptions>,
) -> Result<Object<'env>> {
    crate::errors::settle(env, (|| {
        let value = claims.value("claims")?;
        let kid = options.and_then(|o| o.kid);
        signer.spawn(env, move |s| marque::jwt_issue(s, &value, kid.as_deref()), |j| j)
    })())
}

/// Verifies a compact JWT strictly (EdDSA only, key chosen by `kid` among `keys`, `exp`
/// required, `aud`/`iss`/`nbf`/`iat` checked, bounded size) and returns its claims. A bad token
/// is `invalid_jwt`; a past `exp` is `expired`; an over-size token is `limits_exceeded`.
#[napi(ts_return_type = "JwtClaims")]
pub fn jwt_verify(
    #[napi(ts_arg_type = "string")] token: Text,
    #[napi(ts_arg_type = "KeyInput[] | Record<string, KeyInput>")] keys: Arg<Either<
        Vec<KeyInput>,
        HashMap<String, KeyInput>,
    >>,
    options: Option<JwtVerifyOptions>,
) -> Result<serde_json::Value> {
        let token = token.0;
    let mut jwt_keys = marque::JwtKeys::new();
    match keys.0 {
        Either::A(list) => {
            for k in list {
                jwt_keys.insert(None, k.resolve()?);
            }
        }
        Either::B(map) => {
            for (kid, k) in map {
                jwt_keys.insert(Some(kid), k.resolve()?);
            }
        }
    }
    let o = options.unwrap_or(JwtVerifyOptions {
        audience: None,
        issuer: None,
        leeway_seconds: None,
        max_size: None,
        require: None,
        now: None,
    });
    let now = match opt_now(o.now)? {
        Some(n) => n,
        None => marque::unix_now(),
    };
    let mut opts = marque::JwtOptions::new(now);
    opts.audience = o.audience;
    opts.issuer = o.issuer;
    if let Some(l) = o.leeway_seconds {
        opts.leeway_seconds = u64::from(l);
    }
    if let Some(m) = o.max_size {
        opts.max_size = m as usize;
    }
    if let Some(r) = o.require {
        opts.required_claims = r;
    }
    let claims = no_panic(|| marque::jwt_verify(&token, &jwt_keys, &opts).or_throw())?;
    serde_json::to_value(&claims).map_err(|e| invalid_argument(format!("claims: {e}")))
}
