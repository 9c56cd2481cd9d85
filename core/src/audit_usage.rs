//! Usage attribution carried by an audit event: tokens, model and cost of the work a decision
//! allowed.
//!
//! [`Usage`] is the `usage` member of an [`AuditEvent`](crate::AuditEvent), so it is part of the
//! signed envelope and of the hash chain. It follows the OpenTelemetry GenAI semantic
//! conventions: `input_tokens` → `gen_ai.usage.input_tokens`, `output_tokens` →
//! `gen_ai.usage.output_tokens`, `model` → `gen_ai.request.model`. The conventions define no cost
//! attribute, so cost is `cost_usd_micros` → `marque.usage.cost_usd_micros`: an integer count of
//! millionths of a US dollar, so that totals are exact (no floating-point sums). Validation is
//! strict: numbers are non-negative integers of at most 2^53 − 1, `model` is 1 to
//! [`MAX_MODEL_BYTES`] bytes without control characters, unknown members and an empty `usage`
//! are refused. An event's free-form `attributes` may not use these OpenTelemetry names
//! ([`RESERVED_ATTRIBUTES`]), so that unvalidated numbers never pass for usage.
//!
//! ```
//! use marque::audit::{AuditDecision, AuditEvent};
//! use marque::audit_usage::Usage;
//! let usage = Usage::from_json(r#"{"input_tokens":1200,"output_tokens":310,"model":"gpt-5","cost_usd_micros":4210}"#)?;
//! let event = AuditEvent::new("tool_call", "agent:a", "search", "q", AuditDecision::Allow,
//!     1_700_000_000).usage(usage);
//! let attrs = event.otel_attributes();
//! assert_eq!(attrs["gen_ai.usage.input_tokens"], 1200);
//! assert_eq!(attrs["marque.usage.cost_usd_micros"], 4210);
//! assert!(Usage::from_json(r#"{"input_tokens":-1}"#).is_err());
//! assert!(Usage::from_json(r#"{"input_tokens":1,"cost":0.5}"#).is_err());
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::jcs;

/// Longest accepted `model`, in bytes.
pub const MAX_MODEL_BYTES: usize = 256;

/// OpenTelemetry name of `input_tokens` (GenAI semantic conventions).
pub const ATTR_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// OpenTelemetry name of `output_tokens` (GenAI semantic conventions).
pub const ATTR_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// OpenTelemetry name of `model` (GenAI semantic conventions).
pub const ATTR_MODEL: &str = "gen_ai.request.model";
/// OpenTelemetry name of `cost_usd_micros` (marque's: the conventions define no cost).
pub const ATTR_COST_USD_MICROS: &str = "marque.usage.cost_usd_micros";

/// Attribute names an event's free-form `attributes` may not use (set them through `usage`).
pub const RESERVED_ATTRIBUTES: [&str; 4] =
    [ATTR_INPUT_TOKENS, ATTR_OUTPUT_TOKENS, ATTR_MODEL, ATTR_COST_USD_MICROS];

/// Tokens, model and cost attributed to one audited event. At least one member is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    /// Input (prompt) tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Output (completion) tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// The model requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Cost in millionths of a US dollar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd_micros: Option<u64>,
}

impl Usage {
    /// Parses and checks usage from JSON (unknown and duplicate members refused).
    pub fn from_json(json: &str) -> Result<Usage> {
        let value = jcs::parse_strict(json)?;
        let usage: Usage = serde_json::from_value(value).map_err(|e| {
            Error::invalid_argument(format!(
                "not a usage object: {}",
                crate::options::explain_serde(&e.to_string())
            ))
        })?;
        usage.check()?;
        Ok(usage)
    }

    /// Checks the bounds: integers at most 2^53 − 1, a bounded `model` without control
    /// characters, at least one member.
    pub fn check(&self) -> Result<()> {
        let numbers = [
            ("input_tokens", self.input_tokens),
            ("output_tokens", self.output_tokens),
            ("cost_usd_micros", self.cost_usd_micros),
        ];
        for (name, n) in numbers {
            if let Some(n) = n.filter(|n| *n > jcs::MAX_SAFE_INTEGER) {
                return Err(Error::invalid_argument(format!(
                    "usage.{name} {n} is beyond 2^53 - 1 and would not survive JSON"
                )));
            }
        }
        if let Some(model) = &self.model {
            if model.is_empty() || model.len() > MAX_MODEL_BYTES {
                return Err(Error::invalid_argument(format!(
                    "usage.model must be 1 to {MAX_MODEL_BYTES} bytes, got {}",
                    model.len()
                )));
            }
            if model.chars().any(char::is_control) {
                return Err(Error::invalid_argument("usage.model contains a control character"));
            }
        }
        if *self == Usage::default() {
            return Err(Error::invalid_argument(
                "usage is empty: set input_tokens, output_tokens, model or cost_usd_micros",
            ));
        }
        Ok(())
    }

    /// The OpenTelemetry attributes of this usage (only the members that are set).
    pub fn otel_attributes(&self) -> BTreeMap<String, Value> {
        let mut m = BTreeMap::new();
        let numbers = [
            (ATTR_INPUT_TOKENS, self.input_tokens),
            (ATTR_OUTPUT_TOKENS, self.output_tokens),
            (ATTR_COST_USD_MICROS, self.cost_usd_micros),
        ];
        for (k, v) in numbers {
            if let Some(v) = v {
                m.insert(k.to_string(), Value::from(v));
            }
        }
        if let Some(model) = &self.model {
            m.insert(ATTR_MODEL.to_string(), Value::from(model.as_str()));
        }
        m
    }
}

/// Refuses free-form attribute names that would pass for usage.
pub(crate) fn check_attribute_names<'a>(mut names: impl Iterator<Item = &'a String>) -> Result<()> {
    match names.find(|n| RESERVED_ATTRIBUTES.contains(&n.as_str())) {
        None => Ok(()),
        Some(n) => Err(Error::invalid_argument(format!(
            "attribute {n:?} is reserved for usage: set it in the event's `usage` member"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_parsing() {
        let ok = Usage::from_json(r#"{"input_tokens":0,"model":"m"}"#).unwrap();
        assert_eq!(ok.input_tokens, Some(0));
        for bad in [
            r#"{}"#,
            r#"{"input_tokens":-1}"#,
            r#"{"input_tokens":1.5}"#,
            r#"{"input_tokens":"3"}"#,
            r#"{"input_tokens":9007199254740992}"#,
            r#"{"output_tokens":1,"tokens":2}"#,
            r#"{"model":""}"#,
            r#"{"model":"a\nb"}"#,
            r#"{"cost_usd_micros":1,"cost_usd_micros":2}"#,
        ] {
            let e = Usage::from_json(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_argument", "{bad}");
        }
        let long = format!(r#"{{"model":"{}"}}"#, "m".repeat(MAX_MODEL_BYTES + 1));
        assert!(Usage::from_json(&long).is_err());
    }
}
