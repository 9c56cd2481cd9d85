//! `approve` and `requestDigest` (the core's `approval` module): a human approves one exact call
//! an `approval_required` denial described; the agent retries it with the approval, used once.

use wasm_bindgen::prelude::*;

use crate::convert::Options;
use crate::errors::JsResult;
use crate::token::TokenArg;

/// Signs an approval: `approver` (a signer: `KeyPair` or `{publicKey, sign}`, the human's key)
/// approves the digest of one call (`decision.approvalRequest.digest`) as approver id
/// `options.approver`, for `ttlSeconds` (default 300, at most one day) from `now`.
#[cfg(feature = "full")]
#[wasm_bindgen]
pub fn approve(approver: JsValue, options: JsValue) -> JsResult<String> {
    let key = crate::signer::signer(&approver, "approver")?;
    let mut o = Options::new(&options, "approve options")?;
    let id = o.string("approver")?;
    let digest = o.string("digest")?;
    let ttl = o.opt_uint("ttlSeconds")?.unwrap_or(300);
    let now = o.now()?;
    o.finish()?;
    Ok(marque::approval::sign_approval(key.get(), &id, &digest, now, ttl)?)
}

/// The digest an approval of this call with this token is bound to (what
/// `decision.approvalRequest.digest` carries): `{tool, operation?, resource, attributes?}` as
/// `authorize` takes them.
#[wasm_bindgen(js_name = requestDigest)]
pub fn request_digest(token: JsValue, options: JsValue) -> JsResult<String> {
    let token = TokenArg::from_js(&token, "token")?.parse()?;
    let mut o = Options::new(&options, "requestDigest options")?;
    let req = crate::verify::request(&mut o)?;
    o.finish()?;
    Ok(marque::approval::request_digest(token.to_bytes(), &req))
}
