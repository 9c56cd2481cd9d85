//! Operator policies in Rego (Open Policy Agent), evaluated in-process beside the Datalog.
//!
//! An operator who already writes OPA policies keeps them: a [`RegoPolicy`] is one Rego module
//! (checked when it is loaded: size, syntax, a package, an `allow` rule) evaluated by
//! [`regorus`](https://github.com/microsoft/regorus), Microsoft's Rust interpreter, over an
//! `input` document built only from what the verifier has **proven** ([`RegoInput`]: the acting
//! agent, its path and key, the chain, principal, task, workspace, the rights the token grants
//! and the narrowing of every hop, the request, the time). Two rules decide: `require_approval`
//! (true → [`RegoOutcome::ApprovalRequired`], whatever `allow` says) and `allow` (true →
//! [`RegoOutcome::Allow`]; false or undefined → [`RegoOutcome::Deny`]). Anything else fails
//! closed with a typed error: a rule that is not a boolean or a set of them, an evaluation error
//! (`invalid_argument`, naming the policy), a run over the time limit (`limits_exceeded`). The
//! verdict names the policy (name and version) and the rule that decided, for the audit record.
//! A Rego policy can only narrow: it runs on a request the token's Datalog already allows.
//! Behind the `rego` cargo feature, so builds that do not ask for it do not carry an interpreter.
//!
//! ```
//! use marque::rego::{RegoPolicy, RegoInput, RegoOutcome};
//! let policy = RegoPolicy::new("deploys", Some("3"), r#"
//!     package agent.authz
//!     default allow = false
//!     allow if { input.action == "deploy"; input.resource.env == "staging" }
//!     require_approval if { input.action == "deploy"; input.resource.env == "production" }
//! "#)?;
//! let mut input = RegoInput::for_request("deploy", "deploy", "svc/web", 1_767_225_600);
//! input.resource_attribute("env", "production");
//! let verdict = policy.evaluate(&input)?;
//! assert_eq!(verdict.outcome, RegoOutcome::ApprovalRequired);
//! assert_eq!(verdict.rule, "require_approval");
//! assert_eq!(verdict.policy, "deploys@3");
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::num::{NonZeroU32, NonZeroUsize};
use core::time::Duration;

use serde::Serialize;

use crate::error::{sanitize, Error, ErrorKind, Result};
use crate::policy::{Request, Right};
use crate::token::Token;

/// Largest accepted Rego module, in bytes.
pub const MAX_REGO_BYTES: usize = 64 * 1024;
/// Longest a policy evaluation may run by default (wall clock), like the Datalog limit.
pub const DEFAULT_REGO_TIME: Duration = Duration::from_millis(50);

/// What a Rego policy decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegoOutcome {
    /// `allow` is true (and `require_approval` is not).
    Allow,
    /// Neither rule holds: the call is denied (`not_authorized`).
    Deny,
    /// `require_approval` holds: the call needs a human approval (`approval_required`).
    ApprovalRequired,
}

/// A Rego policy's verdict on one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegoVerdict {
    /// Allow, deny or approval required.
    pub outcome: RegoOutcome,
    /// The policy that decided: `name@version`, or `name` when it has no version.
    pub policy: String,
    /// The rule that decided: `require_approval`, `allow`, or `default` when neither held.
    pub rule: String,
}

/// One Rego module, parsed and checked, ready to evaluate (cheap to clone; evaluations do not
/// share state).
#[derive(Clone)]
pub struct RegoPolicy {
    name: String,
    version: Option<String>,
    package: String,
    engine: regorus::Engine,
    time_limit: Duration,
    has_require_approval: bool,
}

impl core::fmt::Debug for RegoPolicy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RegoPolicy")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("package", &self.package)
            .finish_non_exhaustive()
    }
}

fn policy_error(name: &str, what: &str, e: impl core::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidArgument, format!("rego policy `{name}`: {what}: {}", sanitize(&e.to_string())))
}

fn check_label(what: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/'));
    if ok {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::InvalidArgument, format!("rego policy {what} must be 1-128 characters of [A-Za-z0-9-_.:/]")))
    }
}

impl RegoPolicy {
    /// Parses and checks one Rego module (Rego v1 syntax, as OPA 1.x): at most
    /// [`MAX_REGO_BYTES`], one package, an `allow` rule in it; `require_approval` is optional.
    /// `name` and `version` label the verdicts (1–128 of `[A-Za-z0-9-_.:/]`).
    pub fn new(name: &str, version: Option<&str>, source: &str) -> Result<Self> {
        check_label("name", name)?;
        if let Some(v) = version {
            check_label("version", v)?;
        }
        if source.len() > MAX_REGO_BYTES {
            return Err(Error::new(ErrorKind::LimitsExceeded, format!("rego policy `{name}` is over {MAX_REGO_BYTES} bytes")));
        }
        let mut engine = regorus::Engine::new();
        engine.set_policy_length_config(regorus::utils::limits::PolicyLengthConfig {
            max_col: NonZeroU32::MIN.saturating_add(4095),
            max_file_bytes: NonZeroUsize::MIN.saturating_add(MAX_REGO_BYTES - 1),
            max_lines: NonZeroUsize::MIN.saturating_add(9_999),
        });
        engine.set_strict_builtin_errors(true);
        let file = format!("{name}.rego");
        let package = engine.add_policy(file.clone(), source.to_string()).map_err(|e| policy_error(name, "does not parse", e))?;
        let package = package.strip_prefix("data.").unwrap_or(&package).to_string();
        let declares = |rule: &str| engine.has_declared_rule_rooted_at(&file, rule).map_err(|e| policy_error(name, "cannot be read", e));
        if !declares("allow")? {
            return Err(Error::new(ErrorKind::InvalidArgument, format!("rego policy `{name}` has no `allow` rule")));
        }
        let has_require_approval = declares("require_approval")?;
        let mut policy = RegoPolicy {
            name: name.to_string(),
            version: version.map(str::to_string),
            package,
            engine,
            time_limit: DEFAULT_REGO_TIME,
            has_require_approval,
        };
        policy.set_time_limit(DEFAULT_REGO_TIME)?;
        Ok(policy)
    }

    /// Operator data, readable by the policy as `data.…` (a JSON object; e.g. team lists).
    pub fn with_data_json(mut self, json: &str) -> Result<Self> {
        let value = regorus::Value::from_json_str(json).map_err(|e| policy_error(&self.name, "data is not JSON", e))?;
        if value.as_object().is_err() {
            return Err(Error::new(ErrorKind::InvalidArgument, format!("rego policy `{}`: data must be a JSON object", self.name)));
        }
        self.engine.add_data(value).map_err(|e| policy_error(&self.name, "data conflicts with the policy", e))?;
        Ok(self)
    }

    /// The longest one evaluation may run (wall clock; default [`DEFAULT_REGO_TIME`]); between
    /// 1 ms and 10 s, else `invalid_argument`.
    pub fn set_time_limit(&mut self, limit: Duration) -> Result<()> {
        if limit < Duration::from_millis(1) || limit > Duration::from_secs(10) {
            return Err(Error::new(ErrorKind::InvalidArgument, "rego time limit must be between 1 ms and 10 s"));
        }
        self.time_limit = limit;
        self.engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit,
            check_interval: NonZeroU32::MIN,
        });
        Ok(())
    }

    /// `name@version`, or `name`.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{}@{v}", self.name),
            None => self.name.clone(),
        }
    }

    /// The Rego package, e.g. `agent.authz`.
    pub fn package(&self) -> &str {
        &self.package
    }

    /// Evaluates the policy on `input`. Fails closed (`limits_exceeded`) when there is no
    /// clock to hold the time limit (wasm32 before `set_host_clock`).
    pub fn evaluate(&self, input: &RegoInput) -> Result<RegoVerdict> {
        if regorus::utils::limits::monotonic_now().is_none() {
            return Err(Error::new(
                ErrorKind::LimitsExceeded,
                format!("rego policy `{}`: no clock to enforce its time limit (the host sets one)", self.label()),
            ));
        }
        let json = serde_json::to_string(input).map_err(|_| Error::internal("rego input encoding"))?;
        let value = regorus::Value::from_json_str(&json).map_err(|_| Error::internal("rego input decoding"))?;
        let mut engine = self.engine.clone();
        engine.set_input(value);
        let verdict = |outcome, rule: &str| RegoVerdict { outcome, policy: self.label(), rule: rule.to_string() };
        if self.has_require_approval && self.rule_holds(&mut engine, "require_approval")? {
            return Ok(verdict(RegoOutcome::ApprovalRequired, "require_approval"));
        }
        if self.rule_holds(&mut engine, "allow")? {
            return Ok(verdict(RegoOutcome::Allow, "allow"));
        }
        Ok(verdict(RegoOutcome::Deny, "default"))
    }

    fn rule_holds(&self, engine: &mut regorus::Engine, rule: &str) -> Result<bool> {
        let path = format!("data.{}.{rule}", self.package);
        let value = engine.eval_rule(path).map_err(|e| {
            if e.chain().any(|c| c.downcast_ref::<regorus::utils::limits::LimitError>().is_some()) {
                Error::new(ErrorKind::LimitsExceeded, format!("rego policy `{}` ran past its limits: {}", self.label(), sanitize(&e.to_string())))
            } else {
                policy_error(&self.label(), &format!("`{rule}` failed"), e)
            }
        })?;
        match value {
            regorus::Value::Bool(b) => Ok(b),
            regorus::Value::Undefined => Ok(false),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("rego policy `{}`: `{rule}` is not a boolean", self.label()),
            )),
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod host_clock {
    use core::time::Duration;
    use std::sync::OnceLock;

    static NOW_MILLIS: OnceLock<fn() -> f64> = OnceLock::new();

    /// regorus's time source on wasm32: the host's monotonic milliseconds.
    struct HostClock;

    impl regorus::utils::limits::TimeSource for HostClock {
        fn now(&self) -> Option<Duration> {
            let ms = (NOW_MILLIS.get()?)();
            (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0))
        }
    }

    static HOST_CLOCK: HostClock = HostClock;

    /// Gives the Rego time limit the host's clock: `now_millis` returns monotonic milliseconds
    /// (a JS host's `performance.now()`). The first clock set stays; later calls do nothing.
    /// Until one is set every evaluation fails closed (`limits_exceeded`).
    pub fn set_host_clock(now_millis: fn() -> f64) {
        if NOW_MILLIS.set(now_millis).is_ok() {
            // Ours is the only registration: it cannot already be set.
            let _ = regorus::utils::limits::set_time_source(&HOST_CLOCK);
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub use host_clock::set_host_clock;

/// The acting agent, as a Rego policy sees it (`input.agent`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RegoAgent {
    /// Agent id, e.g. `agent:deployer`.
    pub id: String,
    /// Its path in the spawn tree.
    pub path: String,
    /// Its key's fingerprint.
    pub key_fingerprint: String,
    /// A role given by the operator ([`RegoInput::roles`]): by path, else by agent id; absent
    /// when the operator names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// How one delegation narrowed the token (`input.hops[i]`): absent members leave that axis as
/// the parent had it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RegoHop {
    /// The delegate.
    pub agent: String,
    /// Tools it is limited to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<String>>,
    /// Operations it is limited to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// Resource prefix it is limited to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_prefix: Option<String>,
}

/// The `input` document of a Rego policy: only proven facts and the request. Field names are
/// the contract a policy reads (`docs/POLICIES.md`):
///
/// | `input.` | from |
/// |---|---|
/// | `agent.id`, `agent.path`, `agent.key_fingerprint` | the token's last hop (proven by signatures) |
/// | `agent.role` | the operator's role map (by path, else id); never from the agent |
/// | `principal`, `task`, `workspace` | the authority block |
/// | `chain`, `chain_key_fingerprints` | the delegation chain, root first |
/// | `rights`, `hops` | the rights minted, and how each hop narrowed them |
/// | `tool`, `action` (the operation), `resource.id` | the request |
/// | `resource.<k>` | the request attribute `resource.<k>` (set by the server, e.g. `env`) |
/// | `attributes` | every request attribute |
/// | `time` | the decision time, seconds since the Unix epoch |
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RegoInput {
    /// The acting agent.
    pub agent: RegoAgent,
    /// On whose behalf.
    pub principal: String,
    /// The task, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The workspace, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Agent ids of the chain, root first.
    pub chain: Vec<String>,
    /// Key fingerprints of the chain, root first.
    pub chain_key_fingerprints: Vec<String>,
    /// Rights the authority block grants.
    pub rights: Vec<Right>,
    /// How each delegation narrowed them, in order.
    pub hops: Vec<RegoHop>,
    /// The requested tool.
    pub tool: String,
    /// The requested operation.
    pub action: String,
    /// The requested resource: `id` and the `resource.*` request attributes.
    pub resource: BTreeMap<String, String>,
    /// Every request attribute.
    pub attributes: BTreeMap<String, String>,
    /// Decision time, seconds.
    pub time: u64,
}

impl RegoInput {
    /// An input with only a request (for tests and tools; a verifier uses [`RegoInput::proven`]).
    pub fn for_request(tool: &str, operation: &str, resource: &str, time: u64) -> Self {
        let mut input = RegoInput { tool: tool.to_string(), action: operation.to_string(), time, ..Default::default() };
        input.resource.insert("id".to_string(), resource.to_string());
        input
    }

    /// Sets `input.resource.<key>` (and the attribute `resource.<key>`).
    pub fn resource_attribute(&mut self, key: &str, value: &str) -> &mut Self {
        self.resource.insert(key.to_string(), value.to_string());
        self.attributes.insert(format!("resource.{key}"), value.to_string());
        self
    }

    /// The input for a request a verifier has checked against `token` (signatures, chain,
    /// revocation and Datalog already passed), at `time`. `roles` maps an agent path or id to a
    /// role (operator data; a path wins over an id).
    pub fn proven(token: &Token, request: &Request, time: u64, roles: &BTreeMap<String, String>) -> Self {
        Self::from_claims(token.claims(), request, time, roles)
    }

    pub(crate) fn from_claims(claims: &crate::token::Claims, request: &Request, time: u64, roles: &BTreeMap<String, String>) -> Self {
        let mut input = RegoInput::for_request(&request.tool, &request.operation, &request.resource, time);
        for (k, v) in &request.attributes {
            input.attributes.insert(k.clone(), v.clone());
            if let Some(field) = k.strip_prefix("resource.") {
                if field != "id" {
                    input.resource.insert(field.to_string(), v.clone());
                }
            }
        }
        let holder = claims.holder();
        let role = roles.get(&holder.path).or_else(|| roles.get(&holder.agent)).cloned();
        input.agent = RegoAgent {
            id: holder.agent.clone(),
            path: holder.path.clone(),
            key_fingerprint: holder.key.fingerprint(),
            role,
        };
        input.principal = claims.authority.principal.clone();
        input.task = claims.authority.task.clone();
        input.workspace = claims.authority.workspace.clone();
        input.chain = claims.chain.iter().map(|h| h.agent.clone()).collect();
        input.chain_key_fingerprints = claims.chain.iter().map(|h| h.fingerprint()).collect();
        input.rights = claims.authority.rights.clone();
        input.hops = claims
            .hops
            .iter()
            .map(|h| RegoHop {
                agent: h.agent.clone(),
                tools: h.tools.clone(),
                operations: h.operations.clone(),
                resource_prefix: h.resource_prefix.clone(),
            })
            .collect();
        input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The policy from our users' write-ups, verbatim.
    const USERS_POLICY: &str = include_str!("../../tests/vectors/rego/agent_authz.rego");

    fn input(role: Option<&str>, action: &str, attrs: &[(&str, &str)]) -> RegoInput {
        let mut i = RegoInput::for_request("tool", action, "x", 1_767_225_600);
        i.agent.role = role.map(str::to_string);
        for (k, v) in attrs {
            i.resource_attribute(k, v);
        }
        i
    }

    #[test]
    fn users_policy_maps_to_outcomes() {
        let p = RegoPolicy::new("authz", Some("1"), USERS_POLICY).unwrap();
        assert_eq!(p.package(), "agent.authz");
        let cases = [
            (Some("reviewer"), "comment", vec![("type", "pull_request")], RegoOutcome::Allow, "allow"),
            (Some("reviewer"), "comment", vec![("type", "issue")], RegoOutcome::Deny, "default"),
            (Some("deployer"), "deploy", vec![("env", "staging")], RegoOutcome::Allow, "allow"),
            (Some("deployer"), "deploy", vec![("env", "production")], RegoOutcome::ApprovalRequired, "require_approval"),
            (Some("reviewer"), "deploy", vec![("env", "staging")], RegoOutcome::Deny, "default"),
            (None, "deploy", vec![("env", "production")], RegoOutcome::ApprovalRequired, "require_approval"),
            (None, "comment", vec![("type", "pull_request")], RegoOutcome::Deny, "default"),
        ];
        for (role, action, attrs, outcome, rule) in cases {
            let v = p.evaluate(&input(role, action, &attrs)).unwrap();
            assert_eq!((v.outcome, v.rule.as_str(), v.policy.as_str()), (outcome, rule, "authz@1"), "{role:?} {action} {attrs:?}");
        }
    }

    #[test]
    fn bad_policies_are_refused_at_load() {
        let code = |src: &str| RegoPolicy::new("p", None, src).unwrap_err().code();
        assert_eq!(code("package p\nallow if {"), "invalid_argument");
        assert_eq!(code("package p\ndeny if { true }"), "invalid_argument", "no allow rule");
        assert_eq!(code(&format!("package p\nallow := true\n# {}", "x".repeat(MAX_REGO_BYTES))), "limits_exceeded");
        assert_eq!(RegoPolicy::new("bad name", None, USERS_POLICY).unwrap_err().code(), "invalid_argument");
        assert_eq!(RegoPolicy::new("p", Some(""), USERS_POLICY).unwrap_err().code(), "invalid_argument");
    }

    #[test]
    fn a_rule_that_is_not_boolean_fails_closed() {
        let p = RegoPolicy::new("p", None, "package p\nallow := \"yes\"\n").unwrap();
        let e = p.evaluate(&input(None, "read", &[])).unwrap_err();
        assert_eq!(e.code(), "invalid_argument");
        assert!(e.message().contains("not a boolean"), "{}", e.message());
        let p = RegoPolicy::new("p", None, "package p\nallow if { 1 / 0 == 1 }\n").unwrap();
        assert!(p.evaluate(&input(None, "read", &[])).is_err(), "a builtin error is an error, not a denial");
    }

    #[test]
    fn a_runaway_policy_hits_the_time_limit() {
        // A million iterations of a comprehension: far past 1 ms.
        let src = "package p\nallow if { count([x | some x in numbers.range(1, 1000); some y in numbers.range(1, 1000)]) < 0 }\n";
        let mut p = RegoPolicy::new("p", None, src).unwrap();
        p.set_time_limit(Duration::from_millis(1)).unwrap();
        let e = p.evaluate(&input(None, "read", &[])).unwrap_err();
        assert_eq!(e.code(), "limits_exceeded", "{}", e.message());
        assert_eq!(p.set_time_limit(Duration::from_secs(11)).unwrap_err().code(), "invalid_argument");
    }

    #[test]
    fn operator_data_is_readable_and_checked() {
        let src = "package p\nallow if { input.agent.role in data.roles.allowed }\n";
        let p = RegoPolicy::new("p", None, src).unwrap().with_data_json(r#"{"roles":{"allowed":["ops"]}}"#).unwrap();
        assert_eq!(p.evaluate(&input(Some("ops"), "read", &[])).unwrap().outcome, RegoOutcome::Allow);
        assert_eq!(p.evaluate(&input(Some("dev"), "read", &[])).unwrap().outcome, RegoOutcome::Deny);
        let p = RegoPolicy::new("p", None, src).unwrap();
        assert_eq!(p.clone().with_data_json("[1]").unwrap_err().code(), "invalid_argument");
        assert_eq!(p.with_data_json("{").unwrap_err().code(), "invalid_argument");
    }
}
