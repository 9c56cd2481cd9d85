//! Reading JavaScript arguments without trusting them.
//!
//! Every exported function takes its arguments as `JsValue` and converts them here, so a wrong
//! type, a hostile getter or a proxy that throws becomes a `MarqueError` with code
//! `invalid_argument` instead of a glue `TypeError` or a trap. Options objects are checked for
//! unknown keys: a misspelt narrowing option (`resource_prefix` for `resourcePrefix`) must not
//! silently delegate more than was meant.

use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::errors::{JsError, JsResult};

// JavaScript operations that run user code (Proxy traps, getters) and so may throw: imported with
// `catch`, so a throwing argument becomes an `invalid_argument` error instead of an exception
// unwinding through Rust frames.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn is_array_js(value: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    fn object_keys_js(value: &JsValue) -> Result<Array, JsValue>;
}

/// `Date.prototype.getTime.call(d)` (not an own `getTime` the caller may have set), caught.
fn date_get_time(d: &js_sys::Date) -> Option<f64> {
    let get_time = Reflect::get(&js_sys::Date::new_0(), &JsValue::from_str("getTime")).ok()?;
    let get_time: js_sys::Function = get_time.dyn_into().ok()?;
    Reflect::apply(&get_time, d, &Array::new()).ok()?.as_f64()
}

/// `new Uint8Array(value)`: a fresh copy, whatever getters or Proxy traps `value` has.
fn uint8_array_copy(value: &JsValue) -> Option<Uint8Array> {
    let ctor = Uint8Array::new_with_length(0).constructor();
    Reflect::construct(&ctor, &Array::of1(value))
        .ok()?
        .dyn_into::<Uint8Array>()
        .ok()
}

/// `Array.isArray(value)`; a revoked Proxy (which throws) is not an array.
pub fn is_array(v: &JsValue) -> bool {
    is_array_js(v).unwrap_or(false)
}

/// The own enumerable string keys and values of an object (bounded), read without letting a
/// throwing getter or Proxy trap escape.
pub fn entries(v: &JsValue, what: &str) -> JsResult<Vec<(String, JsValue)>> {
    let keys = object_keys_js(v)
        .map_err(|_| JsError::argument(format!("{what}: listing its keys threw")))?;
    if keys.length() > MAX_LIST_ITEMS {
        return Err(JsError::argument(format!(
            "{what} has more than {MAX_LIST_ITEMS} entries"
        )));
    }
    let mut out = Vec::with_capacity(keys.length() as usize);
    for i in 0..keys.length() {
        let k = keys.get(i).as_string().unwrap_or_default();
        let value = Reflect::get(v, &JsValue::from_str(&k)).map_err(|_| {
            JsError::argument(format!("{what}: reading `{}` threw", truncate(&k, 64)))
        })?;
        out.push((k, value));
    }
    Ok(out)
}

/// Largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
/// Most items accepted in one list argument (tools, operations, rights, keys, …).
pub const MAX_LIST_ITEMS: u32 = 4096;

/// An options object whose keys are checked: read fields with [`Options::get`], then call
/// [`Options::finish`] to refuse any key that was not read.
pub struct Options {
    what: &'static str,
    obj: Object,
    known: Vec<&'static str>,
}

impl Options {
    /// `value` must be a non-null object (not an array).
    pub fn new(value: &JsValue, what: &'static str) -> JsResult<Options> {
        if !value.is_object() || is_array(value) || value.is_function() {
            return Err(JsError::argument(format!(
                "{what} must be an options object"
            )));
        }
        Ok(Options {
            what,
            obj: value.clone().unchecked_into(),
            known: Vec::new(),
        })
    }

    /// Like [`Options::new`], but `undefined`/`null` is an empty options object.
    pub fn optional(value: &JsValue, what: &'static str) -> JsResult<Options> {
        if value.is_undefined() || value.is_null() {
            return Ok(Options {
                what,
                obj: Object::new(),
                known: Vec::new(),
            });
        }
        Options::new(value, what)
    }

    /// The value of `key`, or `None` when it is missing, `undefined` or `null`.
    pub fn get(&mut self, key: &'static str) -> JsResult<Option<JsValue>> {
        self.known.push(key);
        let v = Reflect::get(&self.obj, &JsValue::from_str(key))
            .map_err(|_| JsError::argument(format!("{}: reading `{key}` threw", self.what)))?;
        Ok(if v.is_undefined() || v.is_null() {
            None
        } else {
            Some(v)
        })
    }

    /// The value of a required `key`.
    pub fn required(&mut self, key: &'static str) -> JsResult<JsValue> {
        let what = self.what;
        self.get(key)?
            .ok_or_else(|| JsError::argument(format!("{what}: `{key}` is required")))
    }

    /// A required string.
    pub fn string(&mut self, key: &'static str) -> JsResult<String> {
        let v = self.required(key)?;
        string(&v, &format!("{}.{key}", self.what))
    }

    /// An optional string.
    pub fn opt_string(&mut self, key: &'static str) -> JsResult<Option<String>> {
        let what = self.what;
        self.get(key)?
            .map(|v| string(&v, &format!("{what}.{key}")))
            .transpose()
    }

    /// An optional list of strings.
    pub fn opt_strings(&mut self, key: &'static str) -> JsResult<Option<Vec<String>>> {
        let what = self.what;
        self.get(key)?
            .map(|v| strings(&v, &format!("{what}.{key}")))
            .transpose()
    }

    /// An optional non-negative integer.
    pub fn opt_uint(&mut self, key: &'static str) -> JsResult<Option<u64>> {
        let what = self.what;
        self.get(key)?
            .map(|v| uint(&v, &format!("{what}.{key}")))
            .transpose()
    }

    /// An optional boolean.
    pub fn opt_bool(&mut self, key: &'static str) -> JsResult<Option<bool>> {
        let what = self.what;
        self.get(key)?
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| JsError::argument(format!("{what}.{key} must be a boolean")))
            })
            .transpose()
    }

    /// The time in `now` (seconds or a `Date`), or the host's clock when it is absent.
    pub fn now(&mut self) -> JsResult<u64> {
        let what = self.what;
        match self.get("now")? {
            Some(v) => time(&v, &format!("{what}.now")),
            None => Ok(clock_now()),
        }
    }

    /// Refuses keys that were never read (typos, options of another function).
    pub fn finish(self) -> JsResult<()> {
        let keys = object_keys_js(&self.obj)
            .map_err(|_| JsError::argument(format!("{}: listing its keys threw", self.what)))?;
        for i in 0..keys.length() {
            let k = keys.get(i).as_string().unwrap_or_default();
            if !self.known.iter().any(|known| *known == k) {
                let e = marque::options::unknown_key(self.what, &k, &self.known);
                return Err(JsError::argument(e.message().to_string()));
            }
        }
        Ok(())
    }
}

/// A string argument.
pub fn string(v: &JsValue, what: &str) -> JsResult<String> {
    v.as_string()
        .ok_or_else(|| JsError::argument(format!("{what} must be a string")))
}

/// An array of strings.
pub fn strings(v: &JsValue, what: &str) -> JsResult<Vec<String>> {
    let items = array(v, what)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| string(item, &format!("{what}[{i}]")))
        .collect()
}

/// The items of an array (bounded length), read without letting a throwing getter escape.
pub fn array(v: &JsValue, what: &str) -> JsResult<Vec<JsValue>> {
    if !is_array(v) {
        return Err(JsError::argument(format!("{what} must be an array")));
    }
    let threw = || JsError::argument(format!("{what}: reading an item threw"));
    let len = Reflect::get(v, &JsValue::from_str("length"))
        .map_err(|_| threw())?
        .as_f64()
        .unwrap_or(0.0);
    if !(0.0..=f64::from(MAX_LIST_ITEMS)).contains(&len) {
        return Err(JsError::argument(format!(
            "{what} has more than {MAX_LIST_ITEMS} items"
        )));
    }
    (0..len as u32)
        .map(|i| Reflect::get_u32(v, i).map_err(|_| threw()))
        .collect()
}

/// A non-negative integer (a JavaScript number without fraction, at most 2^53 − 1).
pub fn uint(v: &JsValue, what: &str) -> JsResult<u64> {
    let n = v
        .as_f64()
        .ok_or_else(|| JsError::argument(format!("{what} must be a number")))?;
    if !n.is_finite() || n < 0.0 || n.fract() != 0.0 || n > MAX_SAFE_INTEGER {
        return Err(JsError::argument(format!(
            "{what} must be a non-negative integer"
        )));
    }
    Ok(n as u64)
}

/// A time: seconds since the Unix epoch (a number; fractions are floored) or a `Date`.
pub fn time(v: &JsValue, what: &str) -> JsResult<u64> {
    let secs = if let Some(d) = v.dyn_ref::<js_sys::Date>() {
        date_get_time(d).unwrap_or(f64::NAN) / 1000.0
    } else if let Some(n) = v.as_f64() {
        n
    } else {
        return Err(JsError::argument(format!(
            "{what} must be seconds since the epoch or a Date"
        )));
    };
    if !secs.is_finite() || !(0.0..=MAX_SAFE_INTEGER).contains(&secs) {
        return Err(JsError::argument(format!("{what} is not a valid time")));
    }
    Ok(secs.floor() as u64)
}

/// The host's clock (`Date.now()`), in whole seconds since the epoch.
pub fn clock_now() -> u64 {
    let secs = js_sys::Date::now() / 1000.0;
    if secs.is_finite() && secs >= 0.0 {
        secs.floor() as u64
    } else {
        0
    }
}

/// Bytes from a `Uint8Array` (or any typed-array view of bytes).
pub fn bytes(v: &JsValue, what: &str) -> JsResult<Vec<u8>> {
    if !v.is_instance_of::<Uint8Array>() {
        return Err(JsError::argument(format!("{what} must be a Uint8Array")));
    }
    uint8_array_copy(v)
        .map(|copy| copy.to_vec())
        .ok_or_else(|| JsError::argument(format!("{what}: reading it threw")))
}

/// Bytes from a `Uint8Array`, or a string's UTF-8 encoding.
pub fn bytes_or_text(v: &JsValue, what: &str) -> JsResult<Vec<u8>> {
    match v.as_string() {
        Some(s) => Ok(s.into_bytes()),
        None => bytes(v, &format!("{what} (a Uint8Array or a string)")),
    }
}

/// Takes a handle on a binding object (`KeyPair`, `PublicKey`, `Token`) given as a `JsValue`,
/// without consuming the caller's object: the object's own `__clone()` method (exported by this
/// binding, cheap: the Rust state is reference-counted) returns a fresh JS object, and that
/// fresh object is what is unwrapped. Anything else is `None`.
pub fn instance<T: wasm_bindgen::convert::TryFromJsValue>(v: &JsValue) -> Option<T> {
    if !v.is_object() {
        return None;
    }
    let f = Reflect::get(v, &JsValue::from_str("__clone")).ok()?;
    let f: js_sys::Function = f.dyn_into().ok()?;
    let fresh = f.call0(v).ok()?;
    T::try_from_js_value(fresh).ok()
}

/// Serializes a Rust value into a plain JavaScript value: structs and maps become plain objects,
/// `None` becomes `null`.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsResult<JsValue> {
    let ser = serde_wasm_bindgen::Serializer::new()
        .serialize_maps_as_objects(true)
        .serialize_missing_as_null(true);
    value.serialize(&ser).map_err(|_| {
        JsError::new(
            marque::ErrorKind::Internal,
            "could not convert a value to JavaScript",
        )
    })
}

/// Shortens attacker-controlled text echoed in messages.
pub fn truncate(s: &str, max: usize) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(max).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// JSON text of an argument given as an object (through `JSON.stringify`, which catches
/// throwing getters and Proxy traps) or as JSON text.
pub fn json_text(v: &JsValue, what: &str) -> JsResult<String> {
    match v.as_string() {
        Some(s) => Ok(s),
        None if v.is_object() => js_sys::JSON::stringify(v)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| JsError::argument(format!("{what} is not JSON-serializable"))),
        None => Err(JsError::argument(format!(
            "{what} must be an object or JSON text"
        ))),
    }
}
