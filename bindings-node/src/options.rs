//! Options objects whose unknown keys are refused.
//!
//! napi's `#[napi(object)]` conversion reads the fields it knows and ignores every other key, so
//! `delegate(a, { to, toKey, resource_prefix: 'src/' })` would delegate without the narrowing.
//! Every options struct of this binding is declared
//! `#[napi(object, object_to_js = false, object_from_js = false)]` (napi still writes its
//! TypeScript interface) and `#[derive(Options)]` (`marque-node-derive`), whose conversion uses
//! [`Strict`]: it checks the object's own keys against the struct's fields (their JS names,
//! derived from the field names), refusing an unknown one with the core's
//! [`unknown_key`](marque::options::unknown_key) error (`invalid_argument`, naming the key and
//! the close spelling meant), then reads each field.

use napi::bindgen_prelude::FromNapiValue;
use napi::{sys, ValueType};

use crate::convert::type_of;

fn refuse(message: String) -> napi::Error {
    crate::errors::invalid_argument(message)
}

/// An options object being read: its keys are checked on creation.
pub struct Strict {
    env: sys::napi_env,
    obj: sys::napi_value,
    what: &'static str,
}

impl Strict {
    /// Checks that `value` is an object whose own enumerable string keys are all among
    /// `fields` (JS names).
    ///
    /// # Safety
    /// `env` and `value` are the handles napi passed to `from_napi_value`.
    pub unsafe fn new(
        env: sys::napi_env,
        value: sys::napi_value,
        what: &'static str,
        fields: &[&str],
    ) -> napi::Result<Self> {
        if type_of(env, value)? != ValueType::Object || is_array(env, value) {
            return Err(refuse(format!("{what} must be an options object")));
        }
        let mut keys = std::ptr::null_mut();
        // SAFETY: valid env and object handles (above); `keys` receives a new array handle.
        napi::check_status!(unsafe {
            sys::napi_get_all_property_names(
                env,
                value,
                sys::KeyCollectionMode::own_only,
                sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
                sys::KeyConversion::numbers_to_strings,
                &mut keys,
            )
        })
        .map_err(|e| crate::errors::conversion(what, e))?;
        let mut len = 0;
        // SAFETY: `keys` is the array napi just returned.
        napi::check_status!(unsafe { sys::napi_get_array_length(env, keys, &mut len) })
            .map_err(|e| crate::errors::conversion(what, e))?;
        for i in 0..len {
            let mut key = std::ptr::null_mut();
            // SAFETY: `i` is within the array's length.
            napi::check_status!(unsafe { sys::napi_get_element(env, keys, i, &mut key) })
                .map_err(|e| crate::errors::conversion(what, e))?;
            // SAFETY: numbers_to_strings and skip_symbols make every key a string.
            let key = unsafe { String::from_napi_value(env, key) }.map_err(|e| crate::errors::conversion(what, e))?;
            if !fields.contains(&key.as_str()) {
                return Err(refuse(marque::options::unknown_key(what, &key, fields).message().to_string()));
            }
        }
        Ok(Strict { env, obj: value, what })
    }

    /// Reads the field whose JS name is `field` (NUL-terminated): `undefined` (or missing) is `None` for an
    /// `Option` and an error naming the field otherwise; a value of the wrong type is an error
    /// naming the field.
    ///
    /// # Safety
    /// The handles given to [`Strict::new`] are still valid (same napi call).
    pub unsafe fn field<T: FromNapiValue>(&self, field: &'static [u8]) -> napi::Result<T> {
        let js = std::str::from_utf8(field.strip_suffix(b"\0").unwrap_or(field)).unwrap_or("");
        if field.last() != Some(&0) {
            return Err(refuse(format!("{}: field name {js:?} is not NUL-terminated", self.what)));
        }
        let mut raw = std::ptr::null_mut();
        // SAFETY: `field` is NUL-terminated (checked above); env/obj are live handles.
        napi::check_status!(unsafe {
            sys::napi_get_named_property(self.env, self.obj, field.as_ptr().cast(), &mut raw)
        })
        // A getter or proxy that threw: its exception becomes the error's cause.
        .map_err(|_| refuse(format!("{}.{js}: reading it threw", self.what)))?;
        let missing = type_of(self.env, raw)? == ValueType::Undefined;
        // SAFETY: `raw` is the property value napi just returned.
        unsafe { T::from_napi_value(self.env, raw) }.map_err(|e| {
            if e.status == napi::Status::PendingException {
                // A JS exception is pending (a getter threw): it becomes the error's cause.
                refuse(format!("{}.{js}: reading it threw", self.what))
            } else if missing {
                refuse(format!("{}: `{js}` is required", self.what))
            } else {
                refuse(format!("{}.{js}: {}", self.what, e.reason))
            }
        })
    }
}

fn is_array(env: sys::napi_env, v: sys::napi_value) -> bool {
    let mut b = false;
    // SAFETY: valid env and value handles from the caller.
    (unsafe { sys::napi_is_array(env, v, &mut b) }) == sys::Status::napi_ok && b
}
