//! Node.js binding of marque (napi-rs). Thin by design: every module mirrors one core module
//! and only converts types and errors; the logic lives in the `marque` crate.
//!
//! Raw handles: every `sys::napi_env` / `sys::napi_value` in this crate is one napi handed to the
//! running native call (a `FromNapiValue` argument, a callback's context) and is used only on the
//! JS thread before that call returns; a JS function needed later becomes a threadsafe function
//! within the call. napi functions called with such handles and live out-pointers are sound;
//! each `unsafe` block says which handles it uses (`// SAFETY: …`, enforced by clippy below).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Every `unsafe` block states why it is sound (`// SAFETY: …`), and every `unsafe fn` its contract.
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod approval;
mod audit;
mod convert;
mod delegate;
mod errors;
mod feed;
mod jwt;
mod keys;
mod options;
mod mcp;
mod proof;
mod rego;
mod revocation;
mod signer;
mod token;
mod verify;
