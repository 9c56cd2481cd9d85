//! # marque-wasm — marque for Node, browsers and edge runtimes
//!
//! A thin wasm-bindgen layer over the `marque` core: it converts JavaScript values to core types
//! and core errors to a JavaScript `MarqueError`, and nothing else. The npm package
//! (`bindings-wasm/pkg`, `@marque/wasm`) adds the hand-written entry points that load this
//! module (synchronously in Node, `await init()` elsewhere) and the fetch-style `edge` helper.
//!
//! Modules mirror the core's one to one: [`keys`], [`token`] (mint), [`delegate`], [`proof`],
//! [`verify`], [`revocation`], [`audit`], [`jwt`], [`signer`], and [`mcp`] (admission, MCP
//! mapping and the Bearer helpers the edge guard uses); [`errors`] is the one error
//! conversion and [`convert`] reads untrusted JavaScript arguments. Every export takes `JsValue`
//! arguments so that a value of the wrong type is a `MarqueError` (`invalid_argument`), never a
//! glue `TypeError` or a trap.
//!
//! Cargo feature `full` (default): key generation, minting, delegation, proof signing, the audit
//! log, JWT issuing and revocation-list signing (with a `KeyPair` or a JavaScript signer). Without
//! it the module parses keys and tokens and verifies tokens, proofs, JWTs and signed revocation
//! lists (the `--verify-only` build).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod approval;
#[cfg(feature = "full")]
pub mod audit;
pub mod convert;
#[cfg(feature = "full")]
pub mod delegate;
pub mod errors;
pub mod feed;
pub mod jwt;
pub mod keys;
pub mod mcp;
#[cfg(feature = "full")]
pub mod proof;
pub mod rego;
pub mod revocation;
#[cfg(feature = "full")]
pub mod signer;
pub mod token;
pub mod verify;
pub mod warmup;

use wasm_bindgen::prelude::*;

/// The module's `WebAssembly.Memory` (to watch its size); not part of the public API.
#[wasm_bindgen(js_name = "__wasmMemory")]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// The version of this package (the workspace version).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
