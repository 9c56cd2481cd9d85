//! Approvals (mirrors `marque::approval`): `approve` and `request_digest`.

use pyo3::prelude::*;

use crate::convert::{self, Str, TokenInput};
use crate::errors::{no_panic, Result};
use crate::signer::Signer;

/// Signs an approval of one exact call: `digest` is the `approval_request["digest"]` of the
/// `approval_required` decision (or `request_digest(...)`), `approver` the approver's id as the
/// verifier trusts it (`Verifier(..., approvers={id: key})`), valid `ttl_seconds` (1..=86400)
/// from `now` (default: the clock). `approver_keypair` is a `KeyPair` or any signer (a KMS).
/// Returns the approval text to pass as `approval=` on the retry; it is single use.
#[pyfunction]
#[pyo3(signature = (approver_keypair, *, approver, digest, ttl_seconds = None, now = None))]
pub fn approve(
    py: Python<'_>,
    approver_keypair: &Bound<'_, PyAny>,
    approver: Str,
    digest: Str,
    ttl_seconds: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
) -> Result<String> {
    let signer = Signer::extract("approver_keypair", approver_keypair)?;
    let ttl = convert::opt_seconds("ttl_seconds", ttl_seconds)?.unwrap_or(300);
    let now = convert::now_or_clock(now)?;
    py.detach(|| signer.finish(no_panic(|| marque::approval::sign_approval(signer.core(), &approver, &digest, now, ttl))))
}

/// The digest an approval of this call binds: the token's bytes and the tool, operation,
/// resource and every attribute (what an `approval_required` decision's `approval_request`
/// names, computed ahead of the call).
#[pyfunction]
#[pyo3(signature = (token, *, tool, resource, operation = Str::from("*"), attributes = None),
    text_signature = "(token, *, tool, resource, operation='*', attributes=None)")]
pub fn request_digest(
    py: Python<'_>,
    token: &Bound<'_, PyAny>,
    tool: Str,
    resource: Str,
    operation: Str,
    attributes: Option<&Bound<'_, PyAny>>,
) -> Result<String> {
    let token = TokenInput::extract(token)?;
    let mut request = marque::Request::new(tool.0, operation.0, resource.0);
    request.attributes = convert::str_map("attributes", attributes)?;
    Ok(py.detach(|| {
        no_panic(|| {
            Ok(match &token {
                TokenInput::Bytes(b) => marque::approval::request_digest(b, &request),
                TokenInput::Parsed(t) => marque::approval::request_digest(t.to_bytes(), &request),
                TokenInput::Text(s) => marque::approval::request_digest(marque::Token::from_base64(s)?.to_bytes(), &request),
            })
        })
    })?)
}

/// Adds the functions of this module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(approve, m)?)?;
    m.add_function(wrap_pyfunction!(request_digest, m)?)?;
    Ok(())
}
