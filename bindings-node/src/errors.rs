//! The one place where an error becomes a JavaScript error.
//!
//! Every error this binding throws or rejects with — a core `marque::Error`, a JS value of the
//! wrong type, an unknown option key, a getter or proxy that threw while an argument was read —
//! leaves Rust as an instance of the package's one `MarqueError` class (`errors.js`; the same
//! class as `@marque/wasm`'s), a real `Error` subclass with a stable `code`, constructed here with
//! `new MarqueError(code, message)`. The entry point registers the class once at load time
//! ([`register_error_class`]); until then (someone loading the raw `native.js`) a plain `Error`
//! with the same `code` is thrown. napi's own argument conversions (`String`, `bool`, class
//! references, …) never reach the caller: the binding's argument types convert every value
//! themselves (`convert.rs`), so a wrong type is `invalid_argument` like any other refusal.

use std::cell::Cell;

use napi::bindgen_prelude::{FromNapiValue, JsValue, Object, Unknown};
use napi::{sys, Env, Status, ValueType};
use napi_derive::napi;

/// A binding error: a napi error holding the `MarqueError` object to throw.
pub type JsErr = napi::Error;
/// Result of every fallible binding function.
pub type Result<T> = std::result::Result<T, JsErr>;

thread_local! {
    /// The registered `MarqueError` constructor and the environment it lives in. napi runs every
    /// binding call of an environment on that environment's one JS thread (the main thread, or
    /// one worker thread each), which is where it registered: a thread-local is per environment.
    static CLASS: Cell<Option<(sys::napi_env, sys::napi_ref)>> = const { Cell::new(None) };
}

/// Registers the JavaScript `MarqueError` class (`new MarqueError(code, message)`); called by the
/// package entry point when it loads.
#[napi(js_name = "registerErrorClass", skip_typescript)]
pub fn register_error_class(env: Env, class: Unknown<'_>) -> Result<()> {
    if class.get_type()? != ValueType::Function {
        return Err(invalid_argument("registerErrorClass needs a class"));
    }
    let mut reference = std::ptr::null_mut();
    // SAFETY: `env`/`class` are handles of the running call (lib.rs: raw handles); `reference` is a live out-pointer.
    napi::check_status!(unsafe { sys::napi_create_reference(env.raw(), class.raw(), 1, &mut reference) })?;
    if let Some((old_env, old)) = CLASS.replace(Some((env.raw(), reference))) {
        // SAFETY: `old` was created on this thread's environment `old_env`, which is still alive (we are running in it).
        unsafe { sys::napi_delete_reference(old_env, old) };
    }
    Ok(())
}

fn string(env: sys::napi_env, s: &str) -> Option<sys::napi_value> {
    let mut out = std::ptr::null_mut();
    // SAFETY: `env` is this thread's live environment; `s` outlives the call (its length is passed); `out` is a live out-pointer.
    let status = unsafe { sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut out) };
    (status == sys::Status::napi_ok).then_some(out)
}

/// `new MarqueError(code, message)` (or, before a class is registered, an `Error` with that
/// `code`) as a napi error to throw. A JS exception already pending (a getter or proxy that
/// threw while an argument was read) is taken and kept as the new error's `cause`.
fn js_error(code: &str, message: &str) -> JsErr {
    let Some((env, class)) = CLASS.get() else {
        return napi::Error::new(Status::GenericFailure, format!("{code}: {message}"));
    };
    let mut pending = false;
    let mut cause = std::ptr::null_mut();
    // SAFETY: `env` is this thread's live environment (CLASS); `pending`/`cause` are live out-pointers.
    unsafe {
        if sys::napi_is_exception_pending(env, &mut pending) == sys::Status::napi_ok && pending {
            sys::napi_get_and_clear_last_exception(env, &mut cause);
        }
    }
    let built = (|| {
        let mut ctor = std::ptr::null_mut();
        // SAFETY: `class` is a reference created in `env` (register_error_class); `ctor` is a live out-pointer.
        if unsafe { sys::napi_get_reference_value(env, class, &mut ctor) } != sys::Status::napi_ok {
            return None;
        }
        let argv = [string(env, code)?, string(env, message)?];
        let mut obj = std::ptr::null_mut();
        // SAFETY: `ctor` is the registered constructor, `argv` two live string handles that outlive the call.
        if unsafe { sys::napi_new_instance(env, ctor, argv.len(), argv.as_ptr(), &mut obj) } != sys::Status::napi_ok {
            return None;
        }
        if !cause.is_null() {
            // SAFETY: `obj` is the object just built, `cause` the exception taken above; the name is a C string literal.
            unsafe { sys::napi_set_named_property(env, obj, c"cause".as_ptr(), cause) };
        }
        // SAFETY: `obj` is a live handle of this environment.
        let value = unsafe { Unknown::from_napi_value(env, obj) }.ok()?;
        let mut err = napi::Error::from(value);
        err.reason = message.to_string();
        Some(err)
    })();
    built.unwrap_or_else(|| napi::Error::new(Status::GenericFailure, format!("{code}: {message}")))
}

/// The one conversion from the core's error.
pub fn to_js(e: marque::Error) -> JsErr {
    js_error(e.code(), e.message())
}

/// An `invalid_argument` error raised by the binding while converting a JS value.
pub fn invalid_argument(message: impl Into<String>) -> JsErr {
    js_error(marque::ErrorKind::InvalidArgument.code(), &message.into())
}

/// An `internal` error (a failure of the runtime, not of the input).
pub fn internal(message: impl Into<String>) -> JsErr {
    js_error(marque::ErrorKind::Internal.code(), &message.into())
}

/// An error napi raised while converting a JS value (`StringExpected`, …) as the
/// `invalid_argument` `MarqueError` it is for the caller, naming what was being read.
pub fn conversion(what: &str, e: napi::Error) -> JsErr {
    invalid_argument(format!("{what}: {}", if e.reason.is_empty() { e.status.as_ref() } else { &e.reason }))
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

/// A core error as the rejection of a promise settled on the JS thread (`AsyncTask::resolve`, a
/// deferred): the same `MarqueError` as a synchronous throw.
pub fn reject_with(_env: Env, e: marque::Error) -> napi::Error {
    to_js(e)
}

/// The result of an async entry point: its promise, or — for a refusal found before the work
/// starts (a bad argument, an option out of range) — a promise rejected with that `MarqueError`:
/// an async entry point never throws synchronously.
pub fn settle<'env>(env: &'env Env, r: Result<Object<'env>>) -> Result<Object<'env>> {
    r.or_else(|e| rejected(env, e))
}

/// A promise rejected with `e`.
pub fn rejected<'env>(env: &'env Env, e: JsErr) -> Result<Object<'env>> {
    let (mut deferred, mut promise) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: `env` is the running call's environment; both are live out-pointers.
    napi::check_status!(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) })?;
    // SAFETY: `e` is an error of this environment; `deferred` was just created and is settled once.
    napi::check_status!(unsafe { sys::napi_reject_deferred(env.raw(), deferred, napi::JsError::from(e).into_value(env.raw())) })?;
    // SAFETY: `promise` is the handle napi just returned.
    unsafe { Object::from_napi_value(env.raw(), promise) }
}

/// Every stable error code of the core, in a stable order (exported as `ERROR_CODES`).
#[napi(js_name = "errorCodes", ts_return_type = "ErrorCode[]")]
pub fn error_codes() -> Vec<&'static str> {
    marque::ErrorKind::ALL.iter().map(|k| k.code()).collect()
}

/// Runs `f`, turning a Rust panic (a bug in marque or a dependency reached by hostile input)
/// into an `internal` error instead of letting it unwind into Node and abort the process.
pub fn no_panic<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(internal("marque panicked on this input; please report it")))
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
