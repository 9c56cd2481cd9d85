//! RFC 8785 JSON Canonicalization Scheme (JCS), and strict JSON parsing.
//!
//! Signatures over JSON (audit envelopes, JWT payloads we issue) need one byte string per value:
//! [`canonicalize`] writes a [`serde_json::Value`] with object members sorted by the UTF-16 code
//! units of their names, no insignificant whitespace, strings escaped exactly as ECMAScript's
//! `JSON.stringify` does, and numbers formatted as ECMAScript's `Number.prototype.toString`
//! (through `ryu-js`). Numbers are IEEE doubles, as in JavaScript: an integer beyond 2^53 is
//! rendered as the double nearest to it (`18446744073709551615` becomes
//! `18446744073709552000`). Non-finite numbers cannot be represented and are refused. Any
//! [`Serialize`] value can be canonicalized with [`to_canonical_string`]. [`parse_strict`]
//! parses JSON and refuses duplicate member names, which `serde_json` would silently resolve to
//! the last one (a classic source of signature-bypass bugs when two parsers disagree).
//!
//! ```
//! use marque::jcs;
//! let v = jcs::parse_strict(r#"{"b": [1.50, 1e30, "\u20ac"], "a": null}"#)?;
//! assert_eq!(jcs::canonicalize(&v)?, r#"{"a":null,"b":[1.5,1e+30,"€"]}"#);
//! assert!(jcs::parse_strict(r#"{"a": 1, "a": 2}"#).is_err());
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::fmt::{self, Write as _};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Serialize};
use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};

/// Deepest nesting [`canonicalize`] accepts (the same bound `serde_json` applies when parsing).
pub const MAX_DEPTH: usize = 128;

/// The largest integer a JSON number carries exactly in every runtime (2^53 − 1, JavaScript's
/// `Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Writes the RFC 8785 canonical form of `value`.
pub fn canonicalize(value: &Value) -> Result<String> {
    let mut out = String::new();
    write_value(&mut out, value, 0)?;
    Ok(out)
}

/// The canonical form of `value` as bytes.
pub fn canonicalize_to_vec(value: &Value) -> Result<Vec<u8>> {
    canonicalize(value).map(String::into_bytes)
}

/// Parses `json` strictly (duplicate names refused) and returns its canonical form.
pub fn canonicalize_str(json: &str) -> Result<String> {
    canonicalize(&parse_strict(json)?)
}

/// Canonicalizes any serializable value (see [`to_value_strict`] for what is refused).
pub fn to_canonical_string<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    canonicalize(&to_value_strict(value)?)
}

/// Converts any serializable value to a JSON value. Refuses non-finite floats (which
/// `serde_json` would quietly turn into `null`), maps whose keys are not strings, and duplicate
/// member names (for example a `#[serde(flatten)]` map repeating a named field, which
/// `serde_json::to_value` would quietly collapse).
pub fn to_value_strict<T: Serialize + ?Sized>(value: &T) -> Result<Value> {
    value.serialize(FiniteCheck).map_err(|e| Error::invalid_argument(e.0))?;
    let text = serde_json::to_string(value)
        .map_err(|e| Error::invalid_argument(format!("value cannot be written as JSON: {e}")))?;
    parse_strict(&text)
}

/// [`to_canonical_string`] as bytes.
pub fn to_canonical_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    to_canonical_string(value).map(String::into_bytes)
}

/// Parses JSON text, refusing duplicate object member names and trailing data.
pub fn parse_strict(json: &str) -> Result<Value> {
    serde_json::from_str::<StrictValue>(json)
        .map(|v| v.0)
        .map_err(|e| Error::invalid_argument(format!("invalid JSON: {e}")))
}

/// [`parse_strict`] over bytes (which must be UTF-8).
pub fn parse_strict_slice(json: &[u8]) -> Result<Value> {
    serde_json::from_slice::<StrictValue>(json)
        .map(|v| v.0)
        .map_err(|e| Error::invalid_argument(format!("invalid JSON: {e}")))
}

/// Formats a double as ECMAScript's `Number.prototype.toString` does (`-0` is `0`).
/// Refuses NaN and infinities, which JSON cannot carry.
pub fn format_number(f: f64) -> Result<String> {
    let mut out = String::new();
    write_f64(&mut out, f)?;
    Ok(out)
}

/// Escapes `s` as a JSON string literal (with quotes), exactly as `JSON.stringify` does.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_string(&mut out, s);
    out
}

/// Compares two strings by their UTF-16 code units, the member order RFC 8785 prescribes.
pub fn cmp_utf16(a: &str, b: &str) -> Ordering {
    // UTF-8 byte order equals code point order; it differs from UTF-16 order only when a
    // supplementary character (4-byte UTF-8) meets one in U+E000..=U+FFFF.
    if a.is_ascii() || b.is_ascii() {
        return a.as_bytes().cmp(b.as_bytes());
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

fn write_value(out: &mut String, value: &Value, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::invalid_argument(format!(
            "JSON is nested more than {MAX_DEPTH} levels deep"
        )));
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map, depth)?,
    }
    Ok(())
}

fn write_object(out: &mut String, map: &Map<String, Value>, depth: usize) -> Result<()> {
    // serde_json's map is normally a BTreeMap, already in code point order, which is UTF-16 order
    // unless names mix supplementary characters with U+E000..=U+FFFF (and with its
    // `preserve_order` feature it is in insertion order): check, and sort only when needed.
    let in_order =
        map.keys().zip(map.keys().skip(1)).all(|(a, b)| cmp_utf16(a, b) == Ordering::Less);
    if in_order {
        write_members(out, map.iter(), depth)
    } else {
        let mut members: Vec<(&String, &Value)> = map.iter().collect();
        members.sort_by(|a, b| cmp_utf16(a.0, b.0));
        write_members(out, members.into_iter(), depth)
    }
}

fn write_members<'a>(
    out: &mut String,
    members: impl Iterator<Item = (&'a String, &'a Value)>,
    depth: usize,
) -> Result<()> {
    out.push('{');
    for (i, (name, value)) in members.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, name);
        out.push(':');
        write_value(out, value, depth + 1)?;
    }
    out.push('}');
    Ok(())
}

fn write_number(out: &mut String, n: &Number) -> Result<()> {
    const EXACT: u64 = 1 << 53;
    if let Some(u) = n.as_u64() {
        if u <= EXACT {
            let _ = write!(out, "{u}");
            return Ok(());
        }
        return write_f64(out, u as f64);
    }
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= EXACT {
            let _ = write!(out, "{i}");
            return Ok(());
        }
        return write_f64(out, i as f64);
    }
    match n.as_f64() {
        Some(f) => write_f64(out, f),
        None => Err(Error::invalid_argument("JSON number is not representable as a double")),
    }
}

fn write_f64(out: &mut String, f: f64) -> Result<()> {
    if !f.is_finite() {
        return Err(Error::invalid_argument("JSON cannot represent NaN or infinite numbers"));
    }
    if f == 0.0 {
        // Covers -0, which ECMAScript prints as "0".
        out.push('0');
        return Ok(());
    }
    let mut buf = ryu_js::Buffer::new();
    out.push_str(buf.format_finite(f));
    Ok(())
}

fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.push_str(s.get(start..i).unwrap_or_default());
        match escape {
            Some(e) => out.push_str(e),
            None => {
                let b = c as u32 as u8;
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
        }
        start = i + c.len_utf8();
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// `deserialize_with` helper: a JSON object, duplicate member names refused at every depth.
pub(crate) fn strict_map<'de, D: Deserializer<'de>>(
    d: D,
) -> core::result::Result<Map<String, Value>, D::Error> {
    match StrictValue::deserialize(d)?.0 {
        Value::Object(m) => Ok(m),
        _ => Err(de::Error::custom("expected a JSON object")),
    }
}

/// [`strict_map`] for an optional member (`null` reads as absent).
pub(crate) fn strict_opt_map<'de, D: Deserializer<'de>>(
    d: D,
) -> core::result::Result<Option<Map<String, Value>>, D::Error> {
    match StrictValue::deserialize(d)?.0 {
        Value::Object(m) => Ok(Some(m)),
        Value::Null => Ok(None),
        _ => Err(de::Error::custom("expected a JSON object")),
    }
}

/// A JSON value parsed with duplicate member names refused.
pub(crate) struct StrictValue(pub(crate) Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> core::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> core::result::Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> core::result::Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> core::result::Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> core::result::Result<Value, E> {
        Ok(Value::String(v.into()))
    }
    fn visit_string<E>(self, v: String) -> core::result::Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> core::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> core::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> core::result::Result<Value, D::Error> {
        StrictValue::deserialize(d).map(|v| v.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> core::result::Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate member name {}",
                    crate::error::sanitize(&quote(&key))
                )));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// A serializer that produces nothing and fails on non-finite floats or non-string map keys.
struct FiniteCheck;

#[derive(Debug)]
struct CheckError(String);

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ser::StdError for CheckError {}

impl ser::Error for CheckError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        CheckError(format!("{msg}"))
    }
}

type Check = core::result::Result<(), CheckError>;

fn finite(f: f64) -> Check {
    if f.is_finite() {
        Ok(())
    } else {
        Err(CheckError("JSON cannot represent NaN or infinite numbers".into()))
    }
}

impl ser::Serializer for FiniteCheck {
    type Ok = ();
    type Error = CheckError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, _: bool) -> Check {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Check {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Check {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Check {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Check {
        Ok(())
    }
    fn serialize_i128(self, _: i128) -> Check {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Check {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Check {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Check {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Check {
        Ok(())
    }
    fn serialize_u128(self, _: u128) -> Check {
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Check {
        finite(v.into())
    }
    fn serialize_f64(self, v: f64) -> Check {
        finite(v)
    }
    fn serialize_char(self, _: char) -> Check {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> Check {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Check {
        Ok(())
    }
    fn serialize_none(self) -> Check {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Check {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Check {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Check {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Check {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Check {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        v: &T,
    ) -> Check {
        v.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> core::result::Result<Self, CheckError> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> core::result::Result<Self, CheckError> {
        Ok(self)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> core::result::Result<Self, CheckError> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> core::result::Result<Self, CheckError> {
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> core::result::Result<Self, CheckError> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> core::result::Result<Self, CheckError> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> core::result::Result<Self, CheckError> {
        Ok(self)
    }
}

macro_rules! check_compound {
    ($($t:ident :: $m:ident),*) => {$(
        impl ser::$t for FiniteCheck {
            type Ok = ();
            type Error = CheckError;
            fn $m<T: Serialize + ?Sized>(&mut self, v: &T) -> Check {
                v.serialize(FiniteCheck)
            }
            fn end(self) -> Check {
                Ok(())
            }
        }
    )*};
}
check_compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for FiniteCheck {
    type Ok = ();
    type Error = CheckError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Check {
        k.serialize(FiniteCheck)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Check {
        v.serialize(FiniteCheck)
    }
    fn end(self) -> Check {
        Ok(())
    }
}

macro_rules! check_fields {
    ($($t:ident),*) => {$(
        impl ser::$t for FiniteCheck {
            type Ok = ();
            type Error = CheckError;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &'static str, v: &T) -> Check {
                v.serialize(FiniteCheck)
            }
            fn end(self) -> Check {
                Ok(())
            }
        }
    )*};
}
check_fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn canon(json: &str) -> String {
        canonicalize_str(json).unwrap()
    }

    #[test]
    fn numbers_follow_ecmascript() {
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("1", "1"),
            ("-1", "-1"),
            ("4.50", "4.5"),
            ("2e-3", "0.002"),
            ("1E30", "1e+30"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1e-7"),
            ("333333333.33333329", "333333333.3333333"),
            ("9007199254740992", "9007199254740992"),
            ("9007199254740993", "9007199254740992"),
            ("18446744073709551615", "18446744073709552000"),
            ("-9223372036854775808", "-9223372036854776000"),
            ("123456789012345678901234567890", "1.2345678901234568e+29"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("5e-324", "5e-324"),
            // A value that needs correctly rounded parsing (serde_json's float_roundtrip).
            ("2.2250738585072011e-308", "2.225073858507201e-308"),
        ];
        for (input, want) in cases {
            assert_eq!(canon(input), want, "{input}");
        }
        assert!(format_number(f64::NAN).is_err());
        assert!(format_number(f64::INFINITY).is_err());
        assert_eq!(format_number(-0.0).unwrap(), "0");
        assert_eq!(format_number(1e-7).unwrap(), "1e-7");
    }

    #[test]
    fn strings_escape_like_json_stringify() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("\u{8}\u{c}\n\r\t"), r#""\b\f\n\r\t""#);
        assert_eq!(quote("\u{0}\u{1f}\u{7f}"), "\"\\u0000\\u001f\u{7f}\"");
        assert_eq!(quote("\u{2028}€😂/"), "\"\u{2028}€😂/\"");
    }

    #[test]
    fn members_sort_by_utf16() {
        // U+FB33 sorts after U+1F602 in UTF-16 (0xFB33 > 0xD83D) but before it in UTF-8.
        assert_eq!(canon(r#"{"\ufb33":1,"\ud83d\ude02":2}"#), "{\"\u{1f602}\":2,\"\u{fb33}\":1}");
        assert_eq!(cmp_utf16("a", "ab"), Ordering::Less);
        assert_eq!(canon(r#"{"b":1,"a":{"d":1,"c":2}}"#), r#"{"a":{"c":2,"d":1},"b":1}"#);
    }

    #[test]
    fn duplicates_and_trailing_data_are_refused() {
        for bad in
            [r#"{"a":1,"a":2}"#, r#"{"a":{"b":1,"b":1}}"#, r#"[{"x":1,"\u0078":2}]"#, "1 2", "{"]
        {
            assert_eq!(parse_strict(bad).unwrap_err().code(), "invalid_argument", "{bad}");
        }
        assert_eq!(parse_strict(r#"{"a":[1,{"b":null}]}"#).unwrap()["a"][1]["b"], Value::Null);
    }

    #[test]
    fn serializable_values() {
        #[derive(serde::Serialize)]
        struct S {
            z: u8,
            a: Vec<f64>,
        }
        assert_eq!(
            to_canonical_string(&S { z: 1, a: vec![0.5, 10.0] }).unwrap(),
            r#"{"a":[0.5,10],"z":1}"#
        );
        assert!(to_canonical_string(&S { z: 1, a: vec![f64::NAN] }).is_err());
        assert!(to_canonical_string(&vec![f64::NEG_INFINITY]).is_err());
        #[derive(serde::Serialize)]
        struct Dup {
            a: u8,
            #[serde(flatten)]
            extra: Map<String, Value>,
        }
        let mut extra = Map::new();
        extra.insert("a".into(), Value::Bool(true));
        assert!(to_canonical_string(&Dup { a: 1, extra }).is_err());
    }

    #[test]
    fn depth_is_bounded() {
        let mut v = Value::Null;
        for _ in 0..(MAX_DEPTH + 2) {
            v = Value::Array(vec![v]);
        }
        assert!(canonicalize(&v).is_err());
    }
}
