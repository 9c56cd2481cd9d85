//! Proofs of possession (`signProof`), mirroring `marque::proof`.

use napi_derive::napi;

use marque_node_derive::Options;

use crate::convert::{opt_now, TimeInput, TokenInput};
use napi::bindgen_prelude::Object;
use napi::Env;

use crate::errors::{OrThrow, Result};
use crate::signer::{AsyncSignerInput, SignerInput};

/// What a proof is bound to.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct ProofOptions {
    /// The tool called.
    pub tool: String,
    /// The resource acted on.
    pub resource: String,
    /// The operation (default `"*"`).
    pub operation: Option<String>,
    /// Signing time: seconds since the epoch or a `Date` (default: now).
    pub now: Option<TimeInput>,
    /// The server the proof is for (RFC 8707): its URI, canonicalized by the core; a verifier
    /// with another audience, or none, refuses the proof. Default: bound to no server.
    pub audience: Option<String>,
}

type Signed = (marque::Request, Option<marque::audience::Audience>, Option<u64>);

fn proof_request(options: ProofOptions) -> Result<Signed> {
    let request = marque::Request::new(
        options.tool,
        options.operation.unwrap_or_else(|| "*".into()),
        options.resource,
    );
    let audience = options
        .audience
        .map(|a| marque::audience::Audience::parse(&a).or_throw())
        .transpose()?;
    Ok((request, audience, opt_now(options.now)?))
}

/// Signs a proof of possession for using `token` on one request. `agent` must be the key pair
/// (or a `Signer`) of the agent holding the token (`wrong_holder_key` otherwise). Send the
/// returned string with the token; a verifier accepts it once, within its freshness window.
#[napi]
pub fn sign_proof(agent: SignerInput, token: TokenInput, options: ProofOptions) -> Result<String> {
    let token = token.token()?;
    let (request, audience, now) = proof_request(options)?;
    agent.with(|s| token.sign_proof_for(s, &request, audience.as_ref(), now))
}

/// `signProof` with an `AsyncSigner` (whose `sign` may return a Promise), run off the JS
/// thread; resolves to the proof string, rejects with a `MarqueError`.
#[napi(strict, ts_return_type = "Promise<string>")]
pub fn sign_proof_async<'env>(
    env: &'env Env,
    agent: AsyncSignerInput,
    token: TokenInput,
    options: ProofOptions,
) -> Result<Object<'env>> {
    crate::errors::settle(env, (|| {
        let token = token.token()?;
        let (request, audience, now) = proof_request(options)?;
        agent.spawn(env, move |s| token.sign_proof_for(s, &request, audience.as_ref(), now), |p| p)
    })())
}
