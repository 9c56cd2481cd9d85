//! The one error conversion of the wasm binding: every `marque::Error` (and every argument this
//! binding refuses) leaves Rust as a JavaScript `MarqueError` — a real `Error` subclass with a
//! stable `code` — never a thrown string, a plain object or a trap.
//!
//! The class itself is defined in JavaScript (`pkg/errors.js`, exported by every entry point)
//! and handed to Rust once at load time through [`register_error_class`]; Rust then constructs
//! it with `new MarqueError(code, message)`. Until a class is registered (someone using the raw
//! generated glue), a plain `Error` named `MarqueError` with the same `code` is thrown instead.

use std::cell::RefCell;

use js_sys::{Array, Function, Reflect};
use marque::{Error, ErrorKind};
use wasm_bindgen::prelude::*;

thread_local! {
    static ERROR_CLASS: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Registers the JavaScript `MarqueError` class (`new MarqueError(code, message)`). Called by the
/// package's entry points right after the module is instantiated; not part of the public API.
#[wasm_bindgen(js_name = "__registerErrorClass")]
pub fn register_error_class(class: JsValue) {
    if let Ok(f) = class.dyn_into::<Function>() {
        ERROR_CLASS.with(|c| *c.borrow_mut() = Some(f));
    }
}

/// Every stable error code of the core, in its stable order (`ERROR_CODES` in JavaScript).
#[wasm_bindgen(js_name = "errorCodes")]
pub fn error_codes() -> Vec<String> {
    ErrorKind::ALL
        .iter()
        .map(|k| k.code().to_string())
        .collect()
}

/// The error a binding function returns to JavaScript.
pub struct JsError(Error);

/// `Result` of every exported function.
pub type JsResult<T> = Result<T, JsError>;

impl From<Error> for JsError {
    fn from(e: Error) -> Self {
        JsError(e)
    }
}

impl JsError {
    /// A refused argument (`invalid_argument`).
    pub fn argument(message: impl Into<String>) -> Self {
        JsError(Error::new(ErrorKind::InvalidArgument, message.into()))
    }
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        JsError(Error::new(kind, message.into()))
    }
}

impl From<JsError> for JsValue {
    fn from(JsError(e): JsError) -> JsValue {
        let code = JsValue::from_str(e.code());
        let message = JsValue::from_str(e.message());
        // `signer_failed` from a throwing `sign()`: what it threw is the error's `cause`.
        let options = js_sys::Object::new();
        #[cfg(feature = "full")]
        if e.kind() == ErrorKind::SignerFailed {
            if let Some(cause) = crate::signer::take_thrown() {
                let _ = Reflect::set(&options, &JsValue::from_str("cause"), &cause);
            }
        }
        let registered = ERROR_CLASS.with(|c| c.borrow().clone());
        if let Some(class) = registered {
            if let Ok(err) = Reflect::construct(&class, &Array::of3(&code, &message, &options)) {
                return err;
            }
        }
        let err = js_sys::Error::new_with_options(e.message(), &options);
        err.set_name("MarqueError");
        // Setting a property on a fresh Error object cannot fail.
        let _ = Reflect::set(&err, &JsValue::from_str("code"), &code);
        err.into()
    }
}
