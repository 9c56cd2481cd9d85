//! Node.js binding of marque (napi-rs). Thin by design: every module mirrors one core module
//! and only converts types and errors; the logic lives in the `marque` crate.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit;
mod convert;
mod delegate;
mod errors;
mod jwt;
mod keys;
mod options;
mod mcp;
mod proof;
mod revocation;
mod signer;
mod token;
mod verify;
