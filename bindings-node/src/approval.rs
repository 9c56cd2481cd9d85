//! Human approvals (`approve`, `requestDigest`), mirroring `marque::approval`.

use std::collections::HashMap;

use napi_derive::napi;

use marque_node_derive::Options;

use crate::convert::{count, opt_now, TimeInput, TokenInput};
use crate::errors::Result;
use crate::signer::SignerInput;

/// What an approver approves (`approve`).
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct ApproveOptions {
    /// The approver's id the verifier trusts the key under (its `approvers` option), e.g. `user:alice`.
    pub approver: String,
    /// The request digest to approve: `decision.approvalRequest.digest` of the denied call.
    pub digest: String,
    /// Lifetime in seconds (default 300; at most one day).
    pub ttl_seconds: Option<f64>,
    /// Signing time: seconds since the epoch or a `Date` (default: now).
    pub now: Option<TimeInput>,
}

/// Signs an approval of one exact call: `approver` (a `KeyPair` or a `Signer`: the human's key)
/// approves the request digest an `approval_required` denial carried. The agent retries the
/// same call with `approval`; a verifier trusting that key for `options.approver` accepts it
/// once, before it expires.
#[napi]
pub fn approve(approver: SignerInput, options: ApproveOptions) -> Result<String> {
    let ttl = options.ttl_seconds.map(|t| count("approve options.ttlSeconds", t)).transpose()?.unwrap_or(300);
    let now = match opt_now(options.now)? {
        Some(n) => n,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .map_err(|_| crate::errors::invalid_argument("the system clock is before 1970"))?,
    };
    approver.with(|s| marque::approval::sign_approval(s, &options.approver, &options.digest, now, ttl))
}

/// The request `requestDigest` digests (as `authorize` takes it).
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct RequestDigestOptions {
    /// The tool called.
    pub tool: String,
    /// The operation (default `"*"`).
    pub operation: Option<String>,
    /// The resource acted on.
    pub resource: String,
    /// Extra context, as given to `authorize`.
    pub attributes: Option<HashMap<String, String>>,
}

/// The digest an approval of this call with this token is bound to (what
/// `decision.approvalRequest.digest` carries): an approver can recompute it from the request
/// it was shown before signing.
#[napi]
pub fn request_digest(token: TokenInput, options: RequestDigestOptions) -> Result<String> {
    let token = token.token()?;
    let mut request = marque::Request::new(options.tool, options.operation.unwrap_or_else(|| "*".into()), options.resource);
    for (k, v) in options.attributes.unwrap_or_default() {
        request = request.attribute(k, v);
    }
    Ok(marque::approval::request_digest(token.to_bytes(), &request))
}
