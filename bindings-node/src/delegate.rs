//! Delegation (`token.delegate`), mirroring `marque::delegate`.

use napi_derive::napi;

use marque_node_derive::Options;

use crate::convert::{count, opt_now, seconds, KeyInput, TimeInput};
use napi::bindgen_prelude::Object;
use napi::Env;

use crate::errors::{OrThrow, Result};
use crate::signer::{AsyncSignerInput, SignerInput};
use crate::token::Token;

/// Options of `token.delegate`. An omitted axis means "no further narrowing".
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct DelegateOptions {
    /// The child agent's id, e.g. `agent:agent_a`.
    pub to: String,
    /// The child agent's public key.
    pub to_key: KeyInput,
    /// Only these tools (`["*"]`: unchanged).
    pub tools: Option<Vec<String>>,
    /// Only these operations (`["*"]`: unchanged).
    pub operations: Option<Vec<String>>,
    /// Only the resources this prefix covers, on segment boundaries (`src` and `src/` cover
    /// `src` and `src/…`, never `src2`; `repo:` and `channel#` are namespaces; `"*"`: unchanged).
    pub resource_prefix: Option<String>,
    /// Lifetime from `now` in seconds (clamped to the parent's expiry).
    pub ttl_seconds: Option<f64>,
    /// Further limit on the total number of hops.
    pub max_depth: Option<u32>,
    /// Current time: seconds since the epoch or a `Date` (default: now).
    pub now: Option<TimeInput>,
    /// Lifetime call budget of the child's subtree (a positive integer, no more than the chain
    /// above allows): every call of the child or its descendants counts against it.
    pub max_calls: Option<f64>,
    /// Rate budget of the child's subtree: at most `calls` calls per window of `windowSeconds`.
    pub rate: Option<RateOptions>,
    /// Calls of the child's subtree that need a human approval (`tool:operation:resourcePrefix`
    /// each, e.g. `deploy:*:production/`).
    pub require_approval: Option<Vec<String>>,
}

/// A rate budget: `calls` calls per fixed window of `windowSeconds` seconds.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct RateOptions {
    /// Calls per window (a positive integer).
    pub calls: f64,
    /// Window length in seconds (a positive integer; at most 30 days).
    pub window_seconds: f64,
}

fn delegate_params(options: DelegateOptions) -> Result<marque::DelegateParams> {
    let mut params = marque::DelegateParams::new(options.to, options.to_key.resolve()?);
    params.tools = options.tools;
    params.operations = options.operations;
    params.resource_prefix = options.resource_prefix;
    params.ttl_seconds = options
        .ttl_seconds
        .map(|t| seconds("ttlSeconds", t))
        .transpose()?;
    params.max_depth = options.max_depth;
    params.now = opt_now(options.now)?;
    if let Some(n) = options.max_calls {
        params = params.max_calls(count("delegate options.maxCalls", n)?);
    }
    if let Some(r) = options.rate {
        params = params.rate(count("delegate options.rate.calls", r.calls)?, count("delegate options.rate.windowSeconds", r.window_seconds)?);
    }
    for rule in options.require_approval.unwrap_or_default() {
        params = params.require_approval(marque::Right::parse(&rule).or_throw()?);
    }
    Ok(params)
}

#[napi]
impl Token {
    /// Delegates this token to a child agent. `parent` must be the key pair (or a `Signer`) of
    /// the agent holding the token (`wrong_holder_key` otherwise); asking for more than the
    /// holder has is `attenuation_widens`.
    #[napi]
    pub fn delegate(&self, parent: SignerInput, options: DelegateOptions) -> Result<Token> {
        let params = delegate_params(options)?;
        parent
            .with(|s| self.inner.delegate(s, &params))
            .map(Token::wrap)
    }

    /// `delegate` with an `AsyncSigner` (whose `sign` may return a Promise), run off the JS
    /// thread; resolves to the child `Token`, rejects with a `MarqueError`.
    #[napi(strict, ts_return_type = "Promise<Token>")]
    pub fn delegate_async<'env>(
        &self,
        env: &'env Env,
        parent: AsyncSignerInput,
        options: DelegateOptions,
    ) -> Result<Object<'env>> {
        crate::errors::settle(env, (|| {
            let params = delegate_params(options)?;
            let token = self.inner.clone();
            parent.spawn(env, move |s| token.delegate(s, &params), Token::wrap)
        })())
    }
}
