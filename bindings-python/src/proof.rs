//! `sign_proof` (mirrors `marque::proof`).

use pyo3::prelude::*;

use crate::convert::{self, Str, TokenInput};
use crate::errors::{no_panic, Result};
use crate::signer::Signer;

/// Signs a proof of possession: the acting agent binds one use of `token` to this request.
///
/// `agent_keypair` must be the key of the agent holding the token (`WrongHolderKey`
/// otherwise). `audience`: the URI of the server the proof is for (RFC 8707; a verifier with
/// another audience, or none, refuses it). Give the returned string as `proof=` to
/// `Verifier.authorize`.
#[pyfunction]
#[pyo3(signature = (agent_keypair, token, *, tool, resource, operation = Str::from("*"), now = None, audience = None),
    text_signature = "(agent_keypair, token, *, tool, resource, operation='*', now=None, audience=None)")]
#[allow(clippy::too_many_arguments)]
pub fn sign_proof(
    py: Python<'_>,
    agent_keypair: &Bound<'_, PyAny>,
    token: &Bound<'_, PyAny>,
    tool: Str,
    resource: Str,
    operation: Str,
    now: Option<&Bound<'_, PyAny>>,
    audience: Option<Str>,
) -> Result<String> {
    sign(py, agent_keypair, TokenInput::extract(token)?, tool.0, resource.0, operation.0, now, audience)
}

#[allow(clippy::too_many_arguments)]
pub fn sign(
    py: Python<'_>,
    agent_keypair: &Bound<'_, PyAny>,
    token: TokenInput,
    tool: String,
    resource: String,
    operation: String,
    now: Option<&Bound<'_, PyAny>>,
    audience: Option<Str>,
) -> Result<String> {
    let agent = Signer::extract("agent_keypair", agent_keypair)?;
    let now = convert::now(now)?;
    let audience = audience.map(|a| marque::audience::Audience::parse(&a.0)).transpose()?;
    let request = marque::Request::new(tool, operation, resource);
    py.detach(|| agent.finish(no_panic(|| token.parse()?.sign_proof_for(agent.core(), &request, audience.as_ref(), now))))
}
