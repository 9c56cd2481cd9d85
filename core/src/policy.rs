//! Rights, requests, policies and limits: what a token grants and what a verifier asks.
//!
//! A [`Right`] is `{tool, operation, resource}` where `"*"` means any and `resource` is a prefix
//! matched on segment boundaries (`"src/"` and `"src"` cover `"src"` and `"src/main.rs"`, never
//! `"src2/x"`; the rule is [`crate::resource`]). A [`Request`] is what an agent attempts now; its
//! resource must pass [`crate::resource::validate`] (no `..`, empty segments, escapes…), or it is
//! refused with `invalid_request` before any policy runs. The verifier's
//! default policy, [`RIGHTS_POLICY`], allows a request when one right of the token's authority
//! block covers it and every check of every delegation block passes; user policies (Datalog
//! `allow if …` / `deny if …` lines, each with an id) run before it. [`Limits`] bound everything an
//! attacker controls: token size, block count, Datalog facts, iterations and time, proof freshness
//! and the replay cache. The facts a verifier adds are fixed by the profile (see
//! `docs/PROFILE.md`): `time`, `tool`, `operation`, `resource`, `depth`, `actor`, `actor_path`
//! and, for extra context, `attribute(key, value)`.
//!
//! ```
//! use marque::policy::{Right, Request};
//! let r = Right::parse("read_file:read:src/")?;
//! assert!(r.covers(&Request::new("read_file", "read", "src/main.rs")));
//! assert!(!r.covers(&Request::new("read_file", "read", "secrets/key")));
//! assert_eq!(Right::parse("deploy")?, Right::new("deploy", "*", "*"));
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::identity::validate_name;

/// The wildcard for tools, operations and resources.
pub const ANY: &str = "*";

/// The id of marque's default policy (rights in the authority block).
pub const RIGHTS_POLICY_ID: &str = "marque:rights";

/// The Datalog of marque's default policy: a right of the authority block covers the request.
/// Its resource condition is [`COVERS_DATALOG`](crate::resource::COVERS_DATALOG), the rule of
/// [`crate::resource::covers`] with the right's prefix (written in canonical form at mint) in `$rr`.
pub const RIGHTS_POLICY: &str = "allow if tool($tool), operation($op), resource($res), right($rt, $ro, $rr), ($rt == \"*\" || $rt == $tool), ($ro == \"*\" || $ro == $op), ($rr == \"*\" || ($res + \"/\").starts_with($rr))";

/// One right granted by a token: a tool, an operation and a resource prefix (`"*"` = any).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Right {
    /// Tool name, or `"*"`.
    pub tool: String,
    /// Operation, or `"*"`.
    #[serde(default = "any")]
    pub operation: String,
    /// Resource prefix (matched on segment boundaries, [`crate::resource::covers`]), or `"*"`.
    #[serde(default = "any")]
    pub resource: String,
}

fn any() -> String {
    ANY.to_string()
}

impl Right {
    /// A right on `tool` for `operation` over the resources `resource` covers.
    pub fn new(tool: impl Into<String>, operation: impl Into<String>, resource: impl Into<String>) -> Self {
        Right { tool: tool.into(), operation: operation.into(), resource: resource.into() }
    }

    /// Parses `TOOL[:OPERATION[:RESOURCE]]` (the CLI form); missing parts are `"*"`. The resource
    /// may itself contain `:`.
    pub fn parse(text: &str) -> Result<Self> {
        let mut parts = text.splitn(3, ':');
        let tool = parts.next().unwrap_or_default();
        let op = parts.next().unwrap_or(ANY);
        let res = parts.next().unwrap_or(ANY);
        let right = Right::new(tool, if op.is_empty() { ANY } else { op }, if res.is_empty() { ANY } else { res });
        right.validate()?;
        Ok(right)
    }

    /// Checks that tool and operation are valid names and the resource a valid prefix
    /// ([`crate::resource::validate_prefix`]: no `..`, empty segments, escapes…).
    pub fn validate(&self) -> Result<()> {
        validate_name("right tool", &self.tool)?;
        validate_name("right operation", &self.operation)?;
        crate::resource::validate_prefix("right resource", &self.resource)
    }

    /// Whether this right covers `request` (the same rule as [`RIGHTS_POLICY`]).
    pub fn covers(&self, request: &Request) -> bool {
        (self.tool == ANY || self.tool == request.tool)
            && (self.operation == ANY || self.operation == request.operation)
            && crate::resource::covers(&self.resource, &request.resource)
    }
}

impl core::fmt::Display for Right {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:{}:{}", self.tool, self.operation, self.resource)
    }
}

/// What an agent attempts now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The tool called.
    pub tool: String,
    /// The operation (`"read"`, `"write"`, …); `"*"` when the caller has no finer notion.
    pub operation: String,
    /// The resource acted on (a path, URL, repo, …).
    pub resource: String,
    /// Extra context, offered to policies as `attribute(key, value)` facts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

impl Request {
    /// A request for `tool`/`operation` on `resource`.
    pub fn new(tool: impl Into<String>, operation: impl Into<String>, resource: impl Into<String>) -> Self {
        Request {
            tool: tool.into(),
            operation: operation.into(),
            resource: resource.into(),
            attributes: BTreeMap::new(),
        }
    }

    /// Adds an `attribute(key, value)` fact.
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    #[cfg_attr(not(feature = "biscuit"), allow(dead_code))]
    pub(crate) fn validate(&self, limits: &Limits) -> Result<()> {
        for (what, v) in [("tool", &self.tool), ("operation", &self.operation)] {
            validate_name(what, v)?;
        }
        if self.resource.len() > limits.max_resource_bytes {
            return Err(Error::new(
                crate::ErrorKind::LimitsExceeded,
                format!("resource is {} bytes; the limit is {}", self.resource.len(), limits.max_resource_bytes),
            ));
        }
        crate::resource::validate(&self.resource)?;
        if self.attributes.len() > 64 {
            return Err(Error::new(crate::ErrorKind::LimitsExceeded, "at most 64 request attributes"));
        }
        Ok(())
    }
}

/// A user policy: an id and Datalog source (one or more `allow if` / `deny if` policies, and
/// optionally `check if` lines), evaluated before the default rights policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Stable id reported in decisions and audit events (e.g. `"prod-deny-deploy"`).
    pub id: String,
    /// Datalog source.
    pub source: String,
}

impl Policy {
    /// A policy with `id` and Datalog `source`.
    pub fn new(id: impl Into<String>, source: impl Into<String>) -> Self {
        Policy { id: id.into(), source: source.into() }
    }
}

/// Everything a verifier bounds. Every field has a safe default; hitting a limit is a typed
/// `limits_exceeded` error (or `invalid_proof`/`replayed_proof` for proof windows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest accepted token, in bytes (after base64 decoding).
    pub max_token_bytes: usize,
    /// Largest accepted number of blocks (authority + delegations).
    pub max_blocks: usize,
    /// Datalog: most facts the world may hold.
    pub max_facts: u64,
    /// Datalog: most rule-application iterations.
    pub max_iterations: u64,
    /// Datalog: longest run, in microseconds.
    pub max_time_micros: u64,
    /// Proofs: how old (in seconds) a proof may be.
    pub proof_window_seconds: u64,
    /// Proofs: how far in the future (clock skew, seconds) a proof's time may be.
    pub proof_future_skew_seconds: u64,
    /// Proofs: how many recent proofs the replay cache remembers; when full of unexpired
    /// proofs, new proofs are refused (fail closed) rather than forgetting old ones.
    pub replay_cache_capacity: usize,
    /// Proofs: how many unexpired proofs one signing key may hold in the replay cache (its
    /// quota, so one key cannot fill the cache for everyone); a key at its quota gets
    /// `limits_exceeded` for its new proofs, other keys are unaffected. Raise it with the
    /// capacity for a single very busy agent.
    pub replay_cache_per_key: usize,
    /// Longest accepted request resource, in bytes.
    pub max_resource_bytes: usize,
    /// How many verified tokens the verifier remembers (0 disables the cache). A remembered
    /// token skips parsing and signature checks; revocation, time, request and proof are
    /// still checked on every call.
    pub verified_cache_capacity: usize,
    /// How many verified block prefixes the verifier remembers (0 disables it): a token whose
    /// first blocks are, byte for byte and signature for signature, a prefix of a token
    /// verified before under the same root key has only its new blocks' signatures checked
    /// (`marque::prefix_cache`). Everything else is checked on every call.
    pub prefix_cache_capacity: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_token_bytes: 16 * 1024,
            max_blocks: 16,
            max_facts: 1000,
            max_iterations: 100,
            // Wall-clock time: generous enough that a loaded server (many threads on few cores)
            // does not turn valid requests into errors; facts and iterations bound the work.
            max_time_micros: 50_000,
            proof_window_seconds: 60,
            proof_future_skew_seconds: 5,
            replay_cache_capacity: 100_000,
            replay_cache_per_key: 10_000,
            max_resource_bytes: 4096,
            verified_cache_capacity: 1024,
            prefix_cache_capacity: 4096,
        }
    }
}

/// Checks the narrowing lists given to a delegation (tools, operations).
#[cfg_attr(not(feature = "biscuit"), allow(dead_code))]
pub(crate) fn validate_list(what: &str, items: &[String]) -> Result<()> {
    if items.is_empty() {
        return Err(Error::invalid_argument(format!(
            "an empty {what} list would grant nothing; pass None for no narrowing"
        )));
    }
    for i in items {
        validate_name(what, i)?;
    }
    Ok(())
}

/// Parses and checks a list of rights.
pub fn parse_rights(texts: &[&str]) -> Result<Vec<Right>> {
    texts.iter().map(|t| Right::parse(t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_parsing_and_cover() {
        assert_eq!(Right::parse("a:b:c:d").unwrap(), Right::new("a", "b", "c:d"));
        assert_eq!(Right::parse("a::src/").unwrap(), Right::new("a", "*", "src/"));
        assert!(Right::parse("").is_err());
        let any = Right::new("*", "*", "*");
        assert!(any.covers(&Request::new("x", "y", "z")));
        let r = Right::new("read_file", "read", "src/");
        assert!(!r.covers(&Request::new("read_file", "write", "src/a")));
        assert!(!r.covers(&Request::new("write_file", "read", "src/a")));
        // Segment boundaries, not string prefixes.
        assert!(r.covers(&Request::new("read_file", "read", "src")));
        assert!(!r.covers(&Request::new("read_file", "read", "src2/a")));
        assert!(!Right::new("*", "*", "src").covers(&Request::new("t", "o", "src.env")));
        assert_eq!(Right::parse("a:b:src/../etc").unwrap_err().code(), "invalid_argument");
    }

    #[test]
    fn the_rights_policy_carries_the_resource_rule() {
        assert!(RIGHTS_POLICY.ends_with(&alloc::format!(", ({})", crate::resource::COVERS_DATALOG)));
    }
}
