//! `token.delegate(parent, options)` (the core's `delegate` module): hand a narrower token to a
//! child agent, offline. Omitted axes mean "no further narrowing"; asking for more than the
//! holder has is `attenuation_widens`.

use marque::DelegateParams;
use wasm_bindgen::prelude::*;

use crate::convert::Options;
use crate::errors::{JsError, JsResult};
use crate::keys::public_key;
use crate::signer::signer;
use crate::token::Token;

#[wasm_bindgen]
impl Token {
    /// Delegates this token to a child agent. `parent` (a signer: `KeyPair` or `{publicKey, sign}`)
    /// must hold the token's key (`wrong_holder_key` otherwise).
    pub fn delegate(&self, parent: JsValue, options: JsValue) -> JsResult<Token> {
        let parent = signer(&parent, "parent")?;
        let mut o = Options::new(&options, "delegate options")?;
        let to = o.string("to")?;
        let to_key = public_key(&o.required("toKey")?, "delegate options.toKey")?;
        let mut params = DelegateParams::new(to, to_key);
        params.tools = o.opt_strings("tools")?;
        params.operations = o.opt_strings("operations")?;
        params.resource_prefix = o.opt_string("resourcePrefix")?;
        params.ttl_seconds = o.opt_uint("ttlSeconds")?;
        if let Some(d) = o.opt_uint("maxDepth")? {
            params.max_depth = Some(
                u32::try_from(d)
                    .map_err(|_| JsError::argument("delegate options.maxDepth is too large"))?,
            );
        }
        params.now = Some(o.now()?);
        if let Some(n) = o.opt_uint("maxCalls")? {
            params = params.max_calls(n);
        }
        if let Some(r) = o.get("rate")? {
            let mut ro = Options::new(&r, "delegate options.rate")?;
            let calls = ro.opt_uint("calls")?.ok_or_else(|| JsError::argument("delegate options.rate: `calls` is required"))?;
            let window = ro
                .opt_uint("windowSeconds")?
                .ok_or_else(|| JsError::argument("delegate options.rate: `windowSeconds` is required"))?;
            ro.finish()?;
            params = params.rate(calls, window);
        }
        for rule in o.opt_strings("requireApproval")?.unwrap_or_default() {
            params = params.require_approval(marque::Right::parse(&rule)?);
        }
        o.finish()?;
        Ok(Token::wrap(self.inner.delegate(parent.get(), &params)?))
    }
}
