//! `signProof` (the core's `proof` module): the acting agent signs one use of its token
//! (token hash, tool, operation, resource, time, nonce); a verifier accepts it once, while fresh.

use marque::audience::Audience;
use marque::policy::Request;
use wasm_bindgen::prelude::*;

use crate::convert::Options;
use crate::errors::JsResult;
use crate::signer::signer;
use crate::token::TokenArg;

/// Signs a proof of possession for using `token` on one request. `agent` (a signer: `KeyPair` or
/// `{publicKey, sign}`) must hold the token's key (`wrong_holder_key` otherwise). `audience`: the
/// URI of the server the proof is for (RFC 8707; a verifier with another audience, or none,
/// refuses it).
#[wasm_bindgen(js_name = signProof)]
pub fn sign_proof(agent: JsValue, token: JsValue, options: JsValue) -> JsResult<String> {
    let agent = signer(&agent, "agent")?;
    let token = TokenArg::from_js(&token, "token")?.parse()?;
    let mut o = Options::new(&options, "proof options")?;
    let tool = o.string("tool")?;
    let resource = o.string("resource")?;
    let operation = o.opt_string("operation")?.unwrap_or_else(|| "*".into());
    let audience = o.opt_string("audience")?.map(|a| Audience::parse(&a)).transpose()?;
    let now = o.now()?;
    o.finish()?;
    Ok(token.sign_proof_for(
        agent.get(),
        &Request::new(tool, operation, resource),
        audience.as_ref(),
        Some(now),
    )?)
}
