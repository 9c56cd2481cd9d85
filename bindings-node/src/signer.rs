//! Signers: where a signature comes from. A `KeyPair`, or any JS object
//! `{ publicKey, sign(message) }` (a KMS or HSM client, another process) adapted into the core's
//! `marque::Signer` with `marque::FnSigner`. The core verifies every signature such a signer
//! returns (`signer_failed` otherwise); this module only moves bytes and errors across.
//!
//! * Synchronous calls (`mint`, `token.delegate`, `signProof`, …) call `sign` directly on the JS
//!   thread; it must return a `Uint8Array`.
//! * The `…Async` variants run the core call on a dedicated thread whose signer calls `sign`
//!   through a napi threadsafe function and blocks *that* thread until JS answers with a
//!   `Uint8Array` or a Promise of one. The JS thread stays free (the promise can do I/O), so
//!   there is no deadlock. A dedicated thread rather than the libuv pool: a KMS client's own
//!   I/O (DNS lookups, file reads) needs the pool, which a few blocked signers could exhaust.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::mpsc;

use napi::bindgen_prelude::{
    CallbackContext, FromNapiRef, FromNapiValue, Function, Object, PromiseRaw, ToNapiValue,
    Uint8Array, Unknown,
};
use napi::threadsafe_function::{ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Env, JsValue, Status, ValueType};

use crate::convert::{loose_arg, is_typed_array, shape_error, type_of, KeyInput};
use crate::errors::{internal, no_panic, no_panic_core, reject_with, OrThrow, Result};
use crate::keys::KeyPair;

const EXPECTED: &str = "a KeyPair or an object { publicKey, sign(message) }";
const ASYNC_HINT: &str = "use the async variant (mintAsync, token.delegateAsync, signProofAsync, \
                          jwtIssueAsync, decision.toCompactJwtAsync, RevocationList.signAsync)";

fn signer_failed(message: String) -> marque::Error {
    marque::Error::new(marque::ErrorKind::SignerFailed, message)
}

/// A JS signer object as given: its `sign` function and the `publicKey` it announces. Raw
/// handles, valid during the native call that received them (everything here is used, or turned
/// into a threadsafe function, within that call).
struct JsSigner {
    sign: JsSignFn,
    key: KeyInput,
}

/// The `sign` function of a JS signer and the object it is called on.
struct JsSignFn {
    env: sys::napi_env,
    this: sys::napi_value,
    sign: sys::napi_value,
}

/// A signer argument: a `KeyPair` (the core's native signer) or a JS object.
pub enum SignerInput {
    /// A `KeyPair` instance.
    Key(marque::KeyPair),
    /// `{ publicKey, sign(message) }`.
    Js(JsSignerBox),
}

/// Opaque holder (keeps the raw handles private to this module).
pub struct JsSignerBox(JsSigner);

/// A signer argument of an `…Async` function: the same shapes, where `sign` may also return a
/// Promise.
pub struct AsyncSignerInput(pub SignerInput);

loose_arg!(SignerInput, "KeyPair | Signer");

impl FromNapiValue for SignerInput {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        if type_of(env, v)? != ValueType::Object {
            return Err(shape_error("a signer", EXPECTED));
        }
        // SAFETY: `v` is an object of the running call; from_napi_ref returns Err unless it wraps a KeyPair, and the key is cloned before this call returns.
        if let Ok(k) = unsafe { KeyPair::from_napi_ref(env, v) } {
            return Ok(SignerInput::Key(k.inner.clone()));
        }
        let mut key = std::ptr::null_mut();
        let mut sign = std::ptr::null_mut();
        // SAFETY: `v` is an object of the running call; the name is a NUL-terminated C string literal; `key` is a live out-pointer.
        // A getter or proxy that throws: its exception becomes the `invalid_argument` error's cause.
        napi::check_status!(unsafe {
            sys::napi_get_named_property(env, v, c"publicKey".as_ptr(), &mut key)
        })
        .map_err(|e| crate::errors::conversion("a signer's publicKey", e))?;
        // SAFETY: as above; `sign` is a live out-pointer.
        napi::check_status!(unsafe {
            sys::napi_get_named_property(env, v, c"sign".as_ptr(), &mut sign)
        })
        .map_err(|e| crate::errors::conversion("a signer's sign", e))?;
        if type_of(env, sign)? != ValueType::Function {
            return Err(shape_error("a signer", EXPECTED));
        }
        let key = match type_of(env, key)? {
            ValueType::Undefined | ValueType::Null => {
                return Err(shape_error("a signer's publicKey", "a public key"))
            }
            // SAFETY: `key` is the handle napi just returned, not undefined or null.
            _ => unsafe { KeyInput::from_napi_value(env, key) }?,
        };
        Ok(SignerInput::Js(JsSignerBox(JsSigner { sign: JsSignFn { env, this: v, sign }, key })))
    }
}

loose_arg!(AsyncSignerInput, "KeyPair | AsyncSigner");

impl FromNapiValue for AsyncSignerInput {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: the same handles, passed on under the same contract.
        unsafe { SignerInput::from_napi_value(env, v) }.map(AsyncSignerInput)
    }
}

/// What a JS value returned by (or resolved from) `sign` is: the signature bytes, or why not.
unsafe fn bytes_of(env: sys::napi_env, v: sys::napi_value, what: &str) -> std::result::Result<Vec<u8>, String> {
    if is_typed_array(env, v) {
        // SAFETY: is_typed_array just said `v` is a typed array; handles of the running call (this fn's contract).
        if let Ok(a) = unsafe { Uint8Array::from_napi_value(env, v) } {
            return Ok(a.to_vec());
        }
    }
    let t = match type_of(env, v) {
        Ok(ValueType::Object) if is_promise(env, v) => "a Promise".to_string(),
        Ok(t) => format!("{t:?}").to_lowercase(),
        Err(_) => "an unknown value".to_string(),
    };
    Err(format!("the signer's sign() {what} {t}, not a Uint8Array"))
}

fn is_promise(env: sys::napi_env, v: sys::napi_value) -> bool {
    let mut b = false;
    // SAFETY: `env`/`v` are handles of the running native call, on the JS thread (lib.rs: raw handles); `b` is a live out-pointer.
    (unsafe { sys::napi_is_promise(env, v, &mut b) }) == sys::Status::napi_ok && b
}

/// A readable description of a thrown or rejected JS value: its `message` when it has a string
/// one, else its string form. Never leaves an exception pending.
unsafe fn describe(env: sys::napi_env, v: sys::napi_value) -> String {
    let clear = || {
        let mut ignored = std::ptr::null_mut();
        // SAFETY: `env` is the caller's live environment (this fn's contract); `ignored` is a live out-pointer.
        let _ = unsafe { sys::napi_get_and_clear_last_exception(env, &mut ignored) };
    };
    if matches!(type_of(env, v), Ok(ValueType::Object)) {
        let mut m = std::ptr::null_mut();
        // SAFETY: `v` is an object handle of the running call; the name is a NUL-terminated C string literal; `m` is a live out-pointer.
        if unsafe { sys::napi_get_named_property(env, v, c"message".as_ptr(), &mut m) } == sys::Status::napi_ok {
            if matches!(type_of(env, m), Ok(ValueType::String)) {
                // SAFETY: `m` is a string (napi_typeof above), a handle napi just returned.
                if let Ok(s) = unsafe { String::from_napi_value(env, m) } {
                    return s;
                }
            }
        } else {
            clear();
        }
    }
    let mut s = std::ptr::null_mut();
    // SAFETY: `v` is a handle of the running call; `s` is a live out-pointer.
    if unsafe { sys::napi_coerce_to_string(env, v, &mut s) } == sys::Status::napi_ok {
        // SAFETY: `s` is the string handle napi just returned.
        if let Ok(s) = unsafe { String::from_napi_value(env, s) } {
            return s;
        }
    }
    clear();
    "a value that cannot be shown".to_string()
}

impl JsSignFn {
    /// Calls `sign` synchronously on the JS thread (within the native call that received it).
    fn call_sync(&self, message: &[u8]) -> marque::Result<Vec<u8>> {
        let env = self.env;
        // SAFETY: `env` is the environment of the native call that received this signer, still running (JsSigner's contract: synchronous signers are used within that call, on the JS thread).
        let arg = unsafe { Uint8Array::to_napi_value(env, Uint8Array::from(message.to_vec())) }
            .map_err(|e| signer_failed(format!("cannot pass the message to the signer: {e}")))?;
        let mut ret = std::ptr::null_mut();
        // SAFETY: `this`/`sign` are handles of that same running call (JsSigner's contract); `[arg]` outlives the call; `ret` is a live out-pointer.
        let status = unsafe { sys::napi_call_function(env, self.this, self.sign, 1, [arg].as_ptr(), &mut ret) };
        if status == sys::Status::napi_pending_exception {
            let mut exception = std::ptr::null_mut();
            // SAFETY: `env` is live (above); `exception` is a live out-pointer.
            unsafe { sys::napi_get_and_clear_last_exception(env, &mut exception) };
            // SAFETY: `exception` is the handle napi just returned.
            return Err(signer_failed(format!("the signer's sign() threw: {}", unsafe { describe(env, exception) })));
        }
        if status != sys::Status::napi_ok {
            return Err(signer_failed(format!("calling the signer's sign() failed ({})", Status::from(status))));
        }
        if is_promise(env, ret) {
            return Err(signer_failed(format!("the signer's sign() returned a Promise in a synchronous call: {ASYNC_HINT}")));
        }
        // SAFETY: `ret` is the handle napi just returned from `sign`.
        unsafe { bytes_of(env, ret, "returned") }.map_err(signer_failed)
    }

    /// `sign` bound to its object, as a threadsafe function callable from the signer thread.
    fn threadsafe(&self) -> Result<SignTsfn> {
        let env = self.env;
        let mut bind = std::ptr::null_mut();
        let mut bound = std::ptr::null_mut();
        // SAFETY: `env`/`sign` are handles of the native call that received this signer, still running (threadsafe() is called within it); `bind` is a live out-pointer.
        let status = unsafe { sys::napi_get_named_property(env, self.sign, c"bind".as_ptr(), &mut bind) };
        let status = if status == sys::Status::napi_ok {
            // SAFETY: `sign`/`bind`/`this` are live handles of that call; `[self.this]` outlives the call; `bound` is a live out-pointer.
            unsafe { sys::napi_call_function(env, self.sign, bind, 1, [self.this].as_ptr(), &mut bound) }
        } else {
            status
        };
        if status != sys::Status::napi_ok || !matches!(type_of(env, bound), Ok(ValueType::Function)) {
            if status == sys::Status::napi_pending_exception {
                let mut ignored = std::ptr::null_mut();
                // SAFETY: `env` is live (above); `ignored` is a live out-pointer.
                unsafe { sys::napi_get_and_clear_last_exception(env, &mut ignored) };
            }
            return Err(crate::errors::to_js(signer_failed("cannot bind the signer's sign() to its object".into())));
        }
        // SAFETY: `bound` is a function handle napi just returned (checked above); it is turned into a threadsafe function before the call returns.
        let f = unsafe { Function::<Uint8Array, Unknown<'static>>::from_napi_value(env, bound) }
            .map_err(|e| internal(format!("cannot read the signer's sign(): {e}")))?;
        f.build_threadsafe_function::<Vec<u8>>()
            .build_callback(|ctx: ThreadsafeCallContext<Vec<u8>>| Ok(Uint8Array::from(ctx.value)))
            .map_err(|e| crate::errors::to_js(signer_failed(format!("cannot prepare the signer: {e}"))))
    }
}

type SignTsfn = ThreadsafeFunction<Vec<u8>, Unknown<'static>, Uint8Array, Status, false>;
type Reply = std::result::Result<Vec<u8>, String>;

/// On the JS thread: forwards what `sign` returned — bytes now, or a Promise's outcome later —
/// to the waiting signer thread.
unsafe fn forward(env: sys::napi_env, v: sys::napi_value, tx: mpsc::SyncSender<Reply>) {
    if !is_promise(env, v) {
        // SAFETY: `v` is the handle the caller got from napi on the JS thread (this fn's contract).
        let _ = tx.send(unsafe { bytes_of(env, v, "returned") });
        return;
    }
    // One sender shared by both outcomes; whichever runs first sends. If the promise is collected
    // without settling, the sender is dropped and the signer thread sees that.
    let slot = Rc::new(Cell::new(Some(tx)));
    let (on_ok, on_err, on_fail) = (Rc::clone(&slot), Rc::clone(&slot), slot);
    let promise = PromiseRaw::<Unknown<'_>>::new(env, v);
    let chained = promise
        .then(move |ctx: CallbackContext<Unknown<'_>>| {
            if let Some(tx) = on_ok.take() {
                // SAFETY: `ctx.env`/`ctx.value` are the handles of this promise callback, used within it.
                let _ = tx.send(unsafe { bytes_of(ctx.env.raw(), ctx.value.raw(), "resolved to") });
            }
            Ok(())
        })
        .and_then(|p| {
            p.catch(move |ctx: CallbackContext<Unknown<'_>>| {
                if let Some(tx) = on_err.take() {
                    // SAFETY: `ctx.env`/`ctx.value` are the handles of this promise callback, used within it.
                    let why = unsafe { describe(ctx.env.raw(), ctx.value.raw()) };
                    let _ = tx.send(Err(format!("the signer's sign() rejected: {why}")));
                }
                Ok(())
            })
        });
    if let Err(e) = chained {
        if let Some(tx) = on_fail.take() {
            let _ = tx.send(Err(format!("cannot await the signer's Promise: {e}")));
        }
    }
}

/// On the signer thread: asks JS to sign and waits for the answer.
fn call_threadsafe(tsfn: &SignTsfn, message: &[u8]) -> marque::Result<Vec<u8>> {
    let (tx, rx) = mpsc::sync_channel::<Reply>(1);
    let status = tsfn.call_with_return_value(
        message.to_vec(),
        ThreadsafeFunctionCallMode::Blocking,
        move |ret: napi::Result<Unknown<'static>>, env: Env| {
            match ret {
                // SAFETY: `env`/`v` are the handles of this threadsafe-function callback, on the JS thread, used within it.
                Ok(v) => unsafe { forward(env.raw(), v.raw(), tx) },
                Err(e) => {
                    let _ = tx.send(Err(format!("the signer's sign() threw: {}", e.reason)));
                }
            }
            Ok(())
        },
    );
    if status != Status::Ok {
        return Err(signer_failed(format!("cannot call the signer ({status})")));
    }
    match rx.recv() {
        Ok(reply) => reply.map_err(signer_failed),
        Err(_) => Err(signer_failed("the signer's Promise was discarded without settling".into())),
    }
}

impl SignerInput {
    /// Runs `f` with this signer as a core `Signer`, on the JS thread (synchronous API).
    pub fn with<R>(self, f: impl FnOnce(&dyn marque::Signer) -> marque::Result<R>) -> Result<R> {
        match self {
            SignerInput::Key(kp) => no_panic(|| f(&kp).or_throw()),
            SignerInput::Js(JsSignerBox(JsSigner { sign, key })) => {
                let public = key.resolve()?;
                let s = marque::FnSigner::new(public, |m: &[u8]| sign.call_sync(m));
                no_panic(|| f(&s).or_throw())
            }
        }
    }
}

/// A signer that can move to the signer thread.
enum SendSigner {
    Key(marque::KeyPair),
    Js { public: marque::PublicKey, tsfn: SignTsfn },
}

impl SendSigner {
    fn with<R>(&self, f: impl FnOnce(&dyn marque::Signer) -> marque::Result<R>) -> marque::Result<R> {
        match self {
            SendSigner::Key(kp) => f(kp),
            SendSigner::Js { public, tsfn } => {
                let s = marque::FnSigner::new(*public, |m: &[u8]| call_threadsafe(tsfn, m));
                f(&s)
            }
        }
    }
}

impl AsyncSignerInput {
    fn prepare(self) -> Result<SendSigner> {
        match self.0 {
            SignerInput::Key(kp) => Ok(SendSigner::Key(kp)),
            SignerInput::Js(JsSignerBox(JsSigner { sign, key })) => {
                let public = key.resolve()?;
                Ok(SendSigner::Js { public, tsfn: sign.threadsafe()? })
            }
        }
    }

    /// Runs `work` with this signer on a new thread and returns a Promise of `wrap(result)`
    /// (rejected with a `MarqueError` when `work` fails).
    pub fn spawn<'env, R, T>(
        self,
        env: &'env Env,
        work: impl FnOnce(&dyn marque::Signer) -> marque::Result<R> + Send + 'static,
        wrap: fn(R) -> T,
    ) -> Result<Object<'env>>
    where
        R: Send + 'static,
        T: ToNapiValue + 'static,
    {
        let signer = self.prepare()?;
        let (deferred, promise) = env
            .create_deferred()
            .map_err(|e| internal(format!("cannot create a Promise: {e}")))?;
        std::thread::Builder::new()
            .name("marque-signer".into())
            .spawn(move || {
                let out = no_panic_core(|| signer.with(work));
                drop(signer); // release the threadsafe function before settling
                deferred.resolve(move |env: Env| out.map(wrap).map_err(|e| reject_with(env, e)));
            })
            .map_err(|e| internal(format!("cannot start the signer thread: {e}")))?;
        Ok(promise)
    }
}
