//! Python bindings for marque: the `marque._native` extension module.
//!
//! A thin layer: every module mirrors a core module one to one and only converts types and
//! errors (`errors.rs` holds the single `marque::Error` → Python exception conversion).
//! Long operations (minting, delegating, parsing, authorizing, signing proofs, appending to and
//! verifying audit logs, issuing and verifying JWTs) run with the GIL released.
#![forbid(unsafe_code)]

use pyo3::prelude::*;

mod approval;
mod audit;
mod budget;
mod convert;
mod delegate;
mod errors;
mod feed;
mod identity;
mod jcs;
mod jwt;
mod keys;
mod mcp;
mod pending;
mod policy;
mod proof;
mod rego;
mod replay;
mod revocation;
mod signer;
mod token;
mod verify;

/// marque: cryptographic identity and delegated authority for AI agents (native module).
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<keys::KeyPair>()?;
    m.add_class::<keys::PublicKey>()?;
    m.add_class::<policy::Right>()?;
    m.add_class::<policy::Policy>()?;
    m.add_class::<policy::Limits>()?;
    m.add_class::<token::Token>()?;
    m.add_class::<token::Hop>()?;
    m.add_class::<revocation::RevocationSet>()?;
    m.add_class::<revocation::RevocationList>()?;
    m.add_class::<feed::RevocationFeedState>()?;
    m.add_class::<signer::CallableSigner>()?;
    m.add_class::<verify::Verifier>()?;
    m.add_class::<verify::Decision>()?;
    m.add_class::<pending::PendingAuthorization>()?;
    m.add_function(wrap_pyfunction!(token::mint, m)?)?;
    m.add_function(wrap_pyfunction!(proof::sign_proof, m)?)?;
    m.add_function(wrap_pyfunction!(verify::parse_jwks, m)?)?;
    m.add_function(wrap_pyfunction!(verify::to_jwks, m)?)?;
    approval::register(m)?;
    audit::register(m)?;
    budget::register(m)?;
    jcs::register(m)?;
    jwt::register(m)?;
    identity::register(m)?;
    mcp::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("PROFILE_VERSION", marque::token::PROFILE_VERSION)?;
    m.add("DEFAULT_MAX_DEPTH", marque::token::DEFAULT_MAX_DEPTH)?;
    m.add("RIGHTS_POLICY_ID", marque::policy::RIGHTS_POLICY_ID)?;
    Ok(())
}
