//! The one place where a `marque::Error` becomes a JavaScript error.
//!
//! Every fallible binding function returns [`Result`]; its error is a napi error whose *status*
//! is the core's stable code (`invalid_token`, `expired`, …), so napi throws a real `Error` with
//! `err.code === "expired"`. The JS facade (`errors.js`) then gives it the `MarqueError`
//! prototype. Errors raised by napi itself while converting arguments (wrong JS types) carry
//! napi's own status; the facade maps those to `invalid_argument`.

use napi::bindgen_prelude::{Env, JsError, Unknown};
use napi_derive::napi;

/// A marque error code used as the napi error status (the `code` property in JS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Code(pub &'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

/// A binding error: a napi error carrying a marque code.
pub type JsErr = napi::Error<Code>;
/// Result of every fallible binding function.
pub type Result<T> = std::result::Result<T, JsErr>;

/// The one conversion from the core's error.
pub fn to_js(e: marque::Error) -> JsErr {
    napi::Error::new(Code(e.code()), e.message())
}

/// An `invalid_argument` error raised by the binding while converting a JS value.
pub fn invalid_argument(message: impl Into<String>) -> JsErr {
    to_js(marque::Error::new(
        marque::ErrorKind::InvalidArgument,
        message.into(),
    ))
}

/// An `internal` error (a failure of the runtime, not of the input).
pub fn internal(message: impl Into<String>) -> JsErr {
    to_js(marque::Error::new(marque::ErrorKind::Internal, message.into()))
}

/// `?`-friendly conversion of core results.
pub trait OrThrow<T> {
    /// Converts the core error with [`to_js`].
    fn or_throw(self) -> Result<T>;
}

impl<T> OrThrow<T> for marque::Result<T> {
    fn or_throw(self) -> Result<T> {
        self.map_err(to_js)
    }
}

/// Builds the JS error object for a core error, for paths where napi only accepts its own
/// `Status` (promise rejection from an `AsyncTask`): the object carries the marque code.
pub fn reject_with(env: Env, e: marque::Error) -> napi::Error {
    let js: Unknown<'_> = JsError::from(to_js(e)).into_unknown(env);
    napi::Error::from(js)
}

/// Every stable error code of the core, in a stable order (exported as `ERROR_CODES`).
#[napi(js_name = "errorCodes", ts_return_type = "ErrorCode[]")]
pub fn error_codes() -> Vec<&'static str> {
    marque::ErrorKind::ALL.iter().map(|k| k.code()).collect()
}

/// Runs `f`, turning a Rust panic (a bug in marque or a dependency reached by hostile input)
/// into an `internal` error instead of letting it unwind into Node and abort the process.
pub fn no_panic<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(to_js(marque::Error::new(
            marque::ErrorKind::Internal,
            "marque panicked on this input; please report it",
        )))
    })
}

/// [`no_panic`] for core calls on a worker thread (`AsyncTask::compute`).
pub fn no_panic_core<T>(f: impl FnOnce() -> marque::Result<T>) -> marque::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(marque::Error::new(
            marque::ErrorKind::Internal,
            "marque panicked on this input; please report it",
        ))
    })
}
