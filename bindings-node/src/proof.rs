//! Proofs of possession (`signProof`), mirroring `marque::proof`.

use napi_derive::napi;

use crate::convert::{opt_now, TimeInput, TokenInput};
use crate::errors::{no_panic, OrThrow, Result};
use crate::keys::KeyPair;

/// What a proof is bound to.
#[napi(object, object_to_js = false)]
pub struct ProofOptions {
    /// The tool called.
    pub tool: String,
    /// The resource acted on.
    pub resource: String,
    /// The operation (default `"*"`).
    pub operation: Option<String>,
    /// Signing time: seconds since the epoch or a `Date` (default: now).
    pub now: Option<TimeInput>,
}

/// Signs a proof of possession for using `token` on one request. `agent` must be the key pair
/// of the agent holding the token (`wrong_holder_key` otherwise). Send the returned string with
/// the token; a verifier accepts it once, within its freshness window.
#[napi]
pub fn sign_proof(agent: &KeyPair, token: TokenInput, options: ProofOptions) -> Result<String> {
    let token = token.token()?;
    let request = marque::Request::new(
        options.tool,
        options.operation.unwrap_or_else(|| "*".into()),
        options.resource,
    );
    let now = opt_now(options.now)?;
    no_panic(|| token.sign_proof(&agent.inner, &request, now).or_throw())
}
