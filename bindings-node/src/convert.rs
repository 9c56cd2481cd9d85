//! Conversions of JS inputs the API accepts in several shapes: times (`number` seconds or
//! `Date`), public keys (`PublicKey`, key text, 32 raw bytes or a JWK object) and tokens
//! (`Token`, base64url text or raw bytes).
//!
//! Each input type only *captures* the JS value's shape when napi converts arguments; parsing
//! happens later in `resolve()`, so a malformed key or token raises the core's typed error
//! (`invalid_key`, `invalid_token`) rather than a napi conversion error.

use napi::bindgen_prelude::{FromNapiRef, FromNapiValue, Uint8Array};
use napi::{sys, ValueType};

use crate::errors::{conversion, invalid_argument, no_panic, OrThrow, Result};
use crate::keys::{Jwk, PublicKey};
use crate::token::Token;

pub(crate) fn type_of(env: sys::napi_env, v: sys::napi_value) -> napi::Result<ValueType> {
    let mut t = 0;
    // SAFETY: `env`/`v` are handles of the running native call, on the JS thread (lib.rs: raw handles); `t` is a live out-pointer.
    napi::check_status!(unsafe { sys::napi_typeof(env, v, &mut t) })?;
    Ok(ValueType::from(t))
}

fn is_date(env: sys::napi_env, v: sys::napi_value) -> bool {
    let mut b = false;
    // SAFETY: `env`/`v` are handles of the running native call, on the JS thread (lib.rs: raw handles); `b` is a live out-pointer.
    (unsafe { sys::napi_is_date(env, v, &mut b) }) == sys::Status::napi_ok && b
}

pub(crate) fn is_typed_array(env: sys::napi_env, v: sys::napi_value) -> bool {
    let mut b = false;
    // SAFETY: `env`/`v` are handles of the running native call, on the JS thread (lib.rs: raw handles); `b` is a live out-pointer.
    (unsafe { sys::napi_is_typedarray(env, v, &mut b) }) == sys::Status::napi_ok && b
}

pub(crate) fn shape_error(what: &str, expected: &str) -> napi::Error {
    invalid_argument(format!("{what} must be {expected}"))
}

/// Reads a `Uint8Array`/`Buffer` (anything else, including other typed arrays, is refused).
unsafe fn read_bytes(env: sys::napi_env, v: sys::napi_value, what: &str) -> napi::Result<Vec<u8>> {
    // SAFETY: `v` is a handle of the running call (this fn's contract); napi checks it is a Uint8Array, and the bytes are copied before returning.
    unsafe { Uint8Array::from_napi_value(env, v) }
        .map(|a| a.to_vec())
        .map_err(|_| shape_error(what, "a Uint8Array or Buffer"))
}

/// A time: seconds since the Unix epoch as a JS number, or a `Date`.
#[derive(Clone, Copy, Debug)]
pub struct TimeInput(f64);

impl TimeInput {
    /// Whole seconds, refusing NaN, infinities, negatives and values past 2^53.
    pub fn seconds(self) -> Result<u64> {
        seconds("now", self.0)
    }
}

/// Converts a JS number of seconds (time or duration) to `u64`, flooring fractions.
pub fn seconds(what: &str, v: f64) -> Result<u64> {
    if !v.is_finite() || !(0.0..=9_007_199_254_740_991.0).contains(&v) {
        return Err(invalid_argument(format!(
            "{what} must be a finite, non-negative number of seconds (got {v})"
        )));
    }
    Ok(v.floor() as u64)
}

/// Converts a JS number that counts something (calls, seconds of a window) to `u64`: a
/// non-negative integer, fractions refused (the core checks the range).
pub fn count(what: &str, v: f64) -> Result<u64> {
    if !v.is_finite() || v.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&v) {
        return Err(invalid_argument(format!("{what} must be a non-negative integer (got {v})")));
    }
    Ok(v as u64)
}

/// Declares an argument type whose own `FromNapiValue` does all the checking and whose
/// TypeScript name, for error messages, is `$name`. napi validates arguments up front only for
/// `#[napi(strict)]` functions — the `…Async` ones: there [`reject_unless`] converts the value
/// and, when it is refused, hands napi a promise rejected with the `MarqueError`, which napi
/// returns instead of calling the function (an async entry point never throws synchronously).
macro_rules! loose_arg {
    ($t:ty, $name:literal) => {
        impl napi::bindgen_prelude::TypeName for $t {
            fn type_name() -> &'static str {
                $name
            }
            fn value_type() -> napi::ValueType {
                napi::ValueType::Unknown
            }
        }

        impl napi::bindgen_prelude::ValidateNapiValue for $t {
            unsafe fn validate(env: napi::sys::napi_env, v: napi::sys::napi_value) -> napi::Result<napi::sys::napi_value> {
                // SAFETY: the handles napi passed to `validate`, used within this call.
                unsafe { $crate::convert::reject_unless::<$t>(env, v) }
            }
        }
    };
}
pub(crate) use loose_arg;

/// `ValidateNapiValue::validate` of the binding's argument types: null when `v` converts to a `T`,
/// else a promise rejected with the conversion's `MarqueError` (napi then returns that promise).
///
/// # Safety
/// `env`/`v` are the handles napi passed to `validate`.
pub(crate) unsafe fn reject_unless<T: FromNapiValue>(env: sys::napi_env, v: sys::napi_value) -> napi::Result<sys::napi_value> {
    // SAFETY: the caller's handles (this fn's contract).
    let Err(e) = (unsafe { T::from_napi_value(env, v) }) else {
        return Ok(std::ptr::null_mut());
    };
    let (mut deferred, mut promise) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: `env` is the running call's environment; both are live out-pointers.
    napi::check_status!(unsafe { sys::napi_create_promise(env, &mut deferred, &mut promise) })?;
    // SAFETY: `e` holds the MarqueError of this environment (errors.rs); `deferred` was just created and is settled once.
    napi::check_status!(unsafe {
        sys::napi_reject_deferred(env, deferred, napi::JsError::from(e).into_value(env))
    })?;
    Ok(promise)
}

/// Declares `$name($inner)`, an argument of the one JS type `$js` (`ValueType::$vt`, described as
/// `$what` in errors): napi's own conversion of `$inner` would throw its `StringExpected` /
/// `NumberExpected` / `BooleanExpected` error instead of a `MarqueError`.
macro_rules! primitive_arg {
    ($(#[$doc:meta])* $name:ident($inner:ty), $vt:ident, $js:literal, $what:literal) => {
        $(#[$doc])*
        pub struct $name(pub $inner);

        loose_arg!($name, $js);

        impl FromNapiValue for $name {
            unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
                if type_of(env, v)? != ValueType::$vt {
                    return Err(shape_error("the argument", $what));
                }
                // SAFETY: napi_typeof just said `v` has this type; handles of the running call.
                unsafe { <$inner>::from_napi_value(env, v) }.map($name).map_err(|e| conversion($what, e))
            }
        }
    };
}

primitive_arg!(
    /// A string argument.
    Text(String), String, "string", "a string"
);
primitive_arg!(
    /// A number argument.
    Num(f64), Number, "number", "a number"
);
primitive_arg!(
    /// A boolean argument.
    Flag(bool), Boolean, "boolean", "a boolean"
);

/// An object mapping ids to public keys (`approvers`): an array, a string or another
/// non-object is refused (napi's own map conversion would read an array as ids `"0"`, `"1"`…).
pub struct KeyMap(pub std::collections::HashMap<String, KeyInput>);

loose_arg!(KeyMap, "Record<string, KeyInput>");

impl FromNapiValue for KeyMap {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        let mut array = false;
        // SAFETY: handles of the running call (this fn's contract); `array` is a live out-pointer.
        let checked = unsafe { sys::napi_is_array(env, v, &mut array) } == sys::Status::napi_ok;
        if type_of(env, v)? != ValueType::Object || !checked || array {
            return Err(shape_error("approvers", "an object mapping approver ids to keys"));
        }
        // SAFETY: `v` is a plain object of the running call (checked above).
        unsafe { std::collections::HashMap::<String, KeyInput>::from_napi_value(env, v) }.map(KeyMap)
    }
}

/// An array of public keys (each a [`KeyInput`]).
pub struct KeyList(pub Vec<KeyInput>);

loose_arg!(KeyList, "KeyInput[]");

impl FromNapiValue for KeyList {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        let mut is_array = false;
        // SAFETY: handles of the running call; `is_array` is a live out-pointer.
        let status = unsafe { sys::napi_is_array(env, v, &mut is_array) };
        if status != sys::Status::napi_ok || !is_array {
            return Err(shape_error("the keys", "an array of public keys"));
        }
        let mut len = 0;
        // SAFETY: `v` is an array (above); `len` is a live out-pointer.
        napi::check_status!(unsafe { sys::napi_get_array_length(env, v, &mut len) }).map_err(|e| conversion("the keys", e))?;
        let mut keys = Vec::with_capacity(len.min(1024) as usize);
        for i in 0..len {
            let mut item = std::ptr::null_mut();
            // SAFETY: `i` is below the array's length; `item` is a live out-pointer (a getter may throw: mapped below).
            napi::check_status!(unsafe { sys::napi_get_element(env, v, i, &mut item) }).map_err(|e| conversion("the keys", e))?;
            // SAFETY: `item` is the handle napi just returned.
            keys.push(unsafe { KeyInput::from_napi_value(env, item) }?);
        }
        Ok(KeyList(keys))
    }
}

/// Any other argument type `T` napi converts itself (an `Either`, a map…), with napi's conversion
/// error turned into `invalid_argument`.
pub struct Arg<T>(pub T);

impl<T: FromNapiValue> FromNapiValue for Arg<T> {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: the handles napi passed in, used within this call.
        unsafe { T::from_napi_value(env, v) }.map(Arg).map_err(|e| conversion("the argument", e))
    }
}

impl<T: napi::bindgen_prelude::TypeName> napi::bindgen_prelude::TypeName for Arg<T> {
    fn type_name() -> &'static str {
        T::type_name()
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl<T: FromNapiValue + napi::bindgen_prelude::TypeName> napi::bindgen_prelude::ValidateNapiValue for Arg<T> {
    unsafe fn validate(env: sys::napi_env, v: sys::napi_value) -> napi::Result<sys::napi_value> {
        // SAFETY: the handles napi passed to `validate`.
        unsafe { reject_unless::<Arg<T>>(env, v) }
    }
}

/// A reference to an instance of one of the binding's classes (napi's own `&T` conversion would
/// throw its `InvalidArg` error for any other value).
pub struct Ref<T: 'static>(pub &'static T);

impl<T: FromNapiRef + napi::bindgen_prelude::TypeName + 'static> FromNapiValue for Ref<T> {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        if type_of(env, v)? != ValueType::Object {
            return Err(shape_error("the argument", &format!("a {}", T::type_name())));
        }
        // SAFETY: `v` is an object of the running call; from_napi_ref returns Err unless it wraps a `T`, which napi keeps alive while the JS object is (napi's own `&T` arguments are the same borrow).
        unsafe { T::from_napi_ref(env, v) }
            .map(Ref)
            .map_err(|_| shape_error("the argument", &format!("a {}", T::type_name())))
    }
}

impl<T: napi::bindgen_prelude::TypeName + 'static> napi::bindgen_prelude::TypeName for Ref<T> {
    fn type_name() -> &'static str {
        T::type_name()
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl<T: FromNapiRef + napi::bindgen_prelude::TypeName + 'static> napi::bindgen_prelude::ValidateNapiValue for Ref<T> {
    unsafe fn validate(env: sys::napi_env, v: sys::napi_value) -> napi::Result<sys::napi_value> {
        // SAFETY: the handles napi passed to `validate`.
        unsafe { reject_unless::<Ref<T>>(env, v) }
    }
}

impl<T: 'static> std::ops::Deref for Ref<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0
    }
}

/// Optional time resolved to the core's `Option<u64>`.
pub fn opt_now(now: Option<TimeInput>) -> Result<Option<u64>> {
    now.map(TimeInput::seconds).transpose()
}

loose_arg!(TimeInput, "number | Date");

impl FromNapiValue for TimeInput {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        match type_of(env, v)? {
            // SAFETY: napi_typeof just said `v` is a number; handles of the running call (the caller's contract).
            ValueType::Number => Ok(TimeInput(unsafe { f64::from_napi_value(env, v) }?)),
            ValueType::Object if is_date(env, v) => {
                let mut ms = 0.0;
                // SAFETY: is_date just said `v` is a Date; `ms` is a live out-pointer.
                napi::check_status!(unsafe { sys::napi_get_date_value(env, v, &mut ms) })?;
                Ok(TimeInput(ms / 1000.0))
            }
            _ => Err(shape_error(
                "now",
                "a number of seconds since the Unix epoch or a Date",
            )),
        }
    }
}

/// A public key in any accepted shape; parsed by [`KeyInput::resolve`].
pub enum KeyInput {
    /// A `PublicKey` instance.
    Key(marque::PublicKey),
    /// hex, `ed25519/hex`, SPKI PEM, JWK JSON or `did:key`.
    Text(String),
    /// 32 raw bytes.
    Bytes(Vec<u8>),
    /// A JWK object.
    Jwk(Jwk),
}

impl KeyInput {
    /// Parses the key with the core (typed `invalid_key` errors).
    pub fn resolve(self) -> Result<marque::PublicKey> {
        match self {
            KeyInput::Key(k) => Ok(k),
            KeyInput::Text(t) => marque::PublicKey::parse(&t).or_throw(),
            KeyInput::Bytes(b) => marque::PublicKey::from_bytes(&b).or_throw(),
            KeyInput::Jwk(j) => marque::PublicKey::from_jwk(&j.into_core()).or_throw(),
        }
    }
}

loose_arg!(KeyInput, "PublicKey | string | Uint8Array | Jwk");

impl FromNapiValue for KeyInput {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        const EXPECTED: &str =
            "a PublicKey, key text (hex, PEM, JWK JSON, did:key), 32 bytes or a JWK object";
        match type_of(env, v)? {
            // SAFETY: `v` is a string (napi_typeof above); handles of the running call.
            ValueType::String => Ok(KeyInput::Text(unsafe { String::from_napi_value(env, v) }?)),
            // SAFETY: `v` is a typed array (checked in the guard); handles of the running call.
            ValueType::Object if is_typed_array(env, v) => Ok(KeyInput::Bytes(unsafe {
                read_bytes(env, v, "a public key")
            }?)),
            ValueType::Object => {
                // SAFETY: `v` is an object of the running call; from_napi_ref returns Err unless it wraps a PublicKey, and the borrow ends before this call returns.
                if let Ok(k) = unsafe { PublicKey::from_napi_ref(env, v) } {
                    return Ok(KeyInput::Key(k.inner));
                }
                // SAFETY: `v` is an object of the running call; the derived conversion reads and checks each field.
                unsafe { Jwk::from_napi_value(env, v) }
                    .map(KeyInput::Jwk)
                    .map_err(|_| shape_error("a public key", EXPECTED))
            }
            _ => Err(shape_error("a public key", EXPECTED)),
        }
    }
}

/// A token in any accepted shape; parsed by [`TokenInput::bytes`] or [`TokenInput::token`].
pub enum TokenInput {
    /// A `Token` instance (already parsed), shared.
    Parsed(std::sync::Arc<marque::Token>),
    /// base64url text.
    Text(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
}

impl TokenInput {
    /// A parsed (untrusted) token.
    pub fn token(self) -> Result<std::sync::Arc<marque::Token>> {
        match self {
            TokenInput::Parsed(t) => Ok(t),
            TokenInput::Text(s) => no_panic(|| marque::Token::from_base64(&s).or_throw()).map(std::sync::Arc::new),
            TokenInput::Bytes(b) => no_panic(|| marque::Token::from_bytes(&b).or_throw()).map(std::sync::Arc::new),
        }
    }
}

loose_arg!(TokenInput, "Token | string | Uint8Array");

impl FromNapiValue for TokenInput {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        const EXPECTED: &str = "a Token, its base64url text or its raw bytes";
        match type_of(env, v)? {
            // SAFETY: `v` is a string (napi_typeof above); handles of the running call.
            ValueType::String => Ok(TokenInput::Text(unsafe {
                String::from_napi_value(env, v)
            }?)),
            ValueType::Object if is_typed_array(env, v) => {
                // SAFETY: `v` is a typed array (checked in the guard); handles of the running call.
                Ok(TokenInput::Bytes(unsafe { read_bytes(env, v, "a token") }?))
            }
            // SAFETY: `v` is an object of the running call; from_napi_ref returns Err unless it wraps a Token, and the Arc is cloned before this call returns.
            ValueType::Object => unsafe { Token::from_napi_ref(env, v) }
                .map(|t| TokenInput::Parsed(std::sync::Arc::clone(&t.inner)))
                .map_err(|_| shape_error("a token", EXPECTED)),
            _ => Err(shape_error("a token", EXPECTED)),
        }
    }
}

/// Bytes or text (a message to sign): strings are UTF-8 encoded.
pub enum BytesInput {
    /// Bytes.
    Bytes(Vec<u8>),
}

impl BytesInput {
    /// The bytes.
    pub fn into_vec(self) -> Vec<u8> {
        match self {
            BytesInput::Bytes(b) => b,
        }
    }
}

loose_arg!(BytesInput, "Uint8Array | string");

impl FromNapiValue for BytesInput {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        match type_of(env, v)? {
            ValueType::String => Ok(BytesInput::Bytes(
                // SAFETY: `v` is a string (napi_typeof above); handles of the running call.
                unsafe { String::from_napi_value(env, v) }?.into_bytes(),
            )),
            // SAFETY: `v` is a typed array (checked in the guard); handles of the running call.
            ValueType::Object if is_typed_array(env, v) => Ok(BytesInput::Bytes(unsafe {
                read_bytes(env, v, "a message")
            }?)),
            _ => Err(shape_error(
                "a message",
                "a Uint8Array, a Buffer or a string",
            )),
        }
    }
}

/// Bytes only (a seed, a signature): a string is refused, not UTF-8 encoded — 64 hex digits are
/// not a 32-byte seed.
pub struct RawBytes(pub Vec<u8>);

loose_arg!(RawBytes, "Uint8Array");

impl FromNapiValue for RawBytes {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        match type_of(env, v)? {
            // SAFETY: `v` is a typed array (checked in the guard); handles of the running call.
            ValueType::Object if is_typed_array(env, v) => Ok(RawBytes(unsafe { read_bytes(env, v, "bytes") }?)),
            _ => Err(shape_error("the argument", "a Uint8Array or a Buffer")),
        }
    }
}

/// JSON given as text or as a JS value (serialized with the host's own `JSON.stringify`, so a
/// cyclic or BigInt-holding object throws the usual `TypeError` instead of recursing in Rust).
pub struct JsonInput(pub String);

impl JsonInput {
    /// Parses the JSON with serde (malformed JSON is `invalid_argument`).
    pub fn value(&self, what: &str) -> Result<serde_json::Value> {
        serde_json::from_str(&self.0)
            .map_err(|e| invalid_argument(format!("{what} is not valid JSON: {e}")))
    }
}

loose_arg!(JsonInput, "object | string");

impl FromNapiValue for JsonInput {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        if type_of(env, v)? == ValueType::String {
            // SAFETY: `v` is a string (napi_typeof above); handles of the running call.
            return Ok(JsonInput(unsafe { String::from_napi_value(env, v) }?));
        }
        let mut global = std::ptr::null_mut();
        let mut json = std::ptr::null_mut();
        let mut stringify = std::ptr::null_mut();
        let mut out = std::ptr::null_mut();
        // SAFETY: `env` is the running call's environment; `global` is a live out-pointer.
        napi::check_status!(unsafe { sys::napi_get_global(env, &mut global) })?;
        // SAFETY: `global` is the handle napi just returned; the name is a NUL-terminated C string literal.
        napi::check_status!(unsafe {
            sys::napi_get_named_property(env, global, c"JSON".as_ptr(), &mut json)
        })?;
        // SAFETY: `json` is the handle napi just returned; the name is a NUL-terminated C string literal.
        napi::check_status!(unsafe {
            sys::napi_get_named_property(env, json, c"stringify".as_ptr(), &mut stringify)
        })?;
        let args = [v];
        let status =
            // SAFETY: `json`/`stringify` are handles napi just returned (napi checks `stringify` is callable); `args` outlives the call; `out` is a live out-pointer.
            unsafe { sys::napi_call_function(env, json, stringify, 1, args.as_ptr(), &mut out) };
        if status != sys::Status::napi_ok {
            // JSON.stringify threw (a cycle, a BigInt…): its exception becomes the error's cause.
            return Err(invalid_argument("the value is not JSON-serializable (JSON.stringify threw)"));
        }
        if type_of(env, out)? != ValueType::String {
            return Err(shape_error(
                "the value",
                "JSON-serializable (an object or JSON text)",
            ));
        }
        // SAFETY: `out` is a string (napi_typeof above), a handle napi just returned.
        Ok(JsonInput(unsafe { String::from_napi_value(env, out) }?))
    }
}
