//! Signers (the core's `signer` module): everything that signs takes a `KeyPair` or an object
//! `{ publicKey, sign(message: Uint8Array): Uint8Array }` — a key kept in a KMS, an HSM or
//! another process. The object becomes a core `FnSigner`; the core verifies every signature it
//! returns, so a wrong key, garbage, a wrong length, a throwing `sign` or a non-bytes result is
//! the typed `signer_failed` error. Synchronous only: wasm runs on the JavaScript thread, so an
//! async KMS client belongs to `@marque/node`'s `*Async` variants.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Reflect, Uint8Array};
use marque::signer::Signer;
use marque::{Error, ErrorKind, FnSigner};
use wasm_bindgen::prelude::*;

use crate::convert::{bytes, instance, truncate};
use crate::errors::{JsError, JsResult};
use crate::keys::{public_key, KeyPair};

/// A signer argument: an in-memory key pair, or a JavaScript object behind a core `FnSigner`.
pub enum SignerArg {
    /// A `KeyPair`.
    Pair(Rc<marque::KeyPair>),
    /// `{ publicKey, sign }`.
    Js(FnSigner<'static>),
}

impl SignerArg {
    /// The core signer.
    pub fn get(&self) -> &dyn Signer {
        match self {
            SignerArg::Pair(k) => &**k,
            SignerArg::Js(f) => f,
        }
    }
}

thread_local! {
    /// What the last failing `sign()` threw: the `cause` of the `signer_failed` error.
    static THROWN: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// Takes what the last failing `sign()` threw (see `errors.rs`).
pub fn take_thrown() -> Option<JsValue> {
    THROWN.with(|t| t.borrow_mut().take())
}

fn failed(message: String) -> Error {
    Error::new(ErrorKind::SignerFailed, message)
}

/// Reads a signer argument: a `KeyPair`, or an object with `publicKey` (any key input) and a
/// synchronous `sign(Uint8Array) -> Uint8Array` method.
pub fn signer(v: &JsValue, what: &str) -> JsResult<SignerArg> {
    if let Some(k) = instance::<KeyPair>(v) {
        return Ok(SignerArg::Pair(k.inner));
    }
    let field = |name: &str| {
        Reflect::get(v, &JsValue::from_str(name))
            .map_err(|_| JsError::argument(format!("{what}: reading `{name}` threw")))
    };
    let sign = if v.is_object() {
        field("sign")?
    } else {
        JsValue::UNDEFINED
    };
    let Ok(sign) = sign.dyn_into::<Function>() else {
        return Err(JsError::argument(format!(
            "{what} must be a KeyPair or an object {{ publicKey, sign(message) }}"
        )));
    };
    let public = public_key(&field("publicKey")?, &format!("{what}.publicKey"))?;
    let this = v.clone();
    take_thrown();
    Ok(SignerArg::Js(FnSigner::new(public, move |msg: &[u8]| {
        let out = sign.call1(&this, &Uint8Array::from(msg)).map_err(|e| {
            let message = format!("the signer's sign() threw: {}", thrown(&e));
            THROWN.with(|t| *t.borrow_mut() = Some(e));
            failed(message)
        })?;
        if out.is_instance_of::<js_sys::Promise>() {
            return Err(failed(
                "the signer's sign() returned a Promise: @marque/wasm signers are synchronous \
                 (async signers: @marque/node's *Async variants)"
                    .into(),
            ));
        }
        bytes(&out, "")
            .map_err(|_| failed("the signer's sign() did not return a Uint8Array".into()))
    })))
}

/// The message of a thrown value, read without running more than a property lookup.
fn thrown(e: &JsValue) -> String {
    let text = match e.as_string() {
        Some(s) => s,
        None => Reflect::get(e, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "a value that is not an Error".into()),
    };
    truncate(&text, 200)
}
