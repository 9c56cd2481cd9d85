//! Totals over verified audit logs: calls, allowed, denied (by denial code) and usage, per agent,
//! delegation path, task, principal or resource.
//!
//! An [`AuditReport`] accumulates events ([`AuditReport::add`]) into groups chosen by a
//! [`GroupBy`]; [`report_files`] builds one from several logs (each kept in one file or in
//! rotated files, possibly by different signers) and verifies every chain **first**: one
//! tampered log and the whole report is refused (`audit_chain_broken`), so that totals never
//! count an entry that did not verify. The group of an event: `agent` its `agent_id`; `path` its
//! delegation chain joined with `" > "` (the agent id when the chain is empty); `task` and
//! `principal` those members (`"(none)"` when absent or empty); `resource` its resource. A
//! denial's code is its `denial_code` attribute (`"(none)"` without one). Usage totals add
//! [`Usage`](crate::audit_usage::Usage) members with overflow refused (`limits_exceeded`). This
//! is what `marque audit report` prints.
//!
//! ```
//! use marque::audit::{AuditDecision, AuditEvent};
//! use marque::audit_report::{AuditReport, GroupBy};
//! use marque::audit_usage::Usage;
//! let mut report = AuditReport::new(GroupBy::parse("agent")?);
//! let usage = Usage { input_tokens: Some(100), ..Usage::default() };
//! report.add(&AuditEvent::new("tool_call", "agent:a", "read", "r", AuditDecision::Allow,
//!     1_700_000_000).usage(usage))?;
//! report.add(&AuditEvent::new("tool_call", "agent:a", "write", "r", AuditDecision::Deny,
//!     1_700_000_001).attribute("denial_code", "right_missing"))?;
//! let a = &report.groups["agent:a"];
//! assert_eq!((a.calls, a.allowed, a.denied), (2, 1, 1));
//! assert_eq!(a.denied_by_code["right_missing"], 1);
//! assert_eq!(a.usage.input_tokens, 100);
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
#[cfg(feature = "std")]
use alloc::vec::Vec;

use serde::Serialize;

use crate::audit::{AuditDecision, AuditEvent};
use crate::error::{Error, ErrorKind, Result};

/// The group of an event whose grouping member is absent or empty.
pub const NONE_GROUP: &str = "(none)";

/// How events are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    /// By `agent_id`.
    Agent,
    /// By delegation path (the chain joined with `" > "`).
    Path,
    /// By `task`.
    Task,
    /// By `principal`.
    Principal,
    /// By `resource`.
    Resource,
}

impl GroupBy {
    /// Every grouping, in the order the CLI lists them.
    pub const ALL: [GroupBy; 5] =
        [GroupBy::Agent, GroupBy::Path, GroupBy::Task, GroupBy::Principal, GroupBy::Resource];

    /// `agent`, `path`, `task`, `principal` or `resource` (anything else is refused).
    pub fn parse(text: &str) -> Result<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == text).ok_or_else(|| {
            Error::invalid_argument(format!(
                "cannot group by {text:?}: expected agent, path, task, principal or resource"
            ))
        })
    }

    /// The name [`parse`](Self::parse) accepts.
    pub const fn as_str(self) -> &'static str {
        match self {
            GroupBy::Agent => "agent",
            GroupBy::Path => "path",
            GroupBy::Task => "task",
            GroupBy::Principal => "principal",
            GroupBy::Resource => "resource",
        }
    }

    /// The group `event` belongs to.
    pub fn key(self, event: &AuditEvent) -> String {
        let named = |s: &str| if s.is_empty() { NONE_GROUP.to_string() } else { s.to_string() };
        match self {
            GroupBy::Agent => named(&event.agent_id),
            GroupBy::Path if event.chain.is_empty() => named(&event.agent_id),
            GroupBy::Path => event.chain.join(" > "),
            GroupBy::Task => named(event.task.as_deref().unwrap_or("")),
            GroupBy::Principal => named(&event.principal),
            GroupBy::Resource => named(&event.resource),
        }
    }
}

/// Usage added up over a group's events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UsageTotals {
    /// Events that carried usage.
    pub events: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cost in millionths of a US dollar.
    pub cost_usd_micros: u64,
}

/// The totals of one group (or of the whole report).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Events counted.
    pub calls: u64,
    /// Allowed events.
    pub allowed: u64,
    /// Denied events.
    pub denied: u64,
    /// Denied events by denial code.
    pub denied_by_code: BTreeMap<String, u64>,
    /// Usage.
    pub usage: UsageTotals,
}

impl Totals {
    fn add(&mut self, event: &AuditEvent) -> Result<()> {
        self.calls = sum(self.calls, 1)?;
        match event.decision {
            AuditDecision::Allow => self.allowed = sum(self.allowed, 1)?,
            AuditDecision::Deny => {
                self.denied = sum(self.denied, 1)?;
                let code = match event.attributes.get("denial_code").and_then(|c| c.as_str()) {
                    Some(c) if !c.is_empty() => c.to_string(),
                    _ => NONE_GROUP.to_string(),
                };
                let n = self.denied_by_code.entry(code).or_insert(0);
                *n = sum(*n, 1)?;
            }
        }
        if let Some(u) = &event.usage {
            let t = &mut self.usage;
            t.events = sum(t.events, 1)?;
            t.input_tokens = sum(t.input_tokens, u.input_tokens.unwrap_or(0))?;
            t.output_tokens = sum(t.output_tokens, u.output_tokens.unwrap_or(0))?;
            t.cost_usd_micros = sum(t.cost_usd_micros, u.cost_usd_micros.unwrap_or(0))?;
        }
        Ok(())
    }
}

fn sum(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b)
        .filter(|s| *s <= crate::jcs::MAX_SAFE_INTEGER)
        .ok_or_else(|| Error::new(ErrorKind::LimitsExceeded, "a report total passes 2^53 - 1"))
}

/// Totals per group, and over everything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// The grouping.
    pub by: GroupBy,
    /// Logs read (each a chain, in one file or in rotated files).
    pub logs: u64,
    /// Totals per group, by group name.
    pub groups: BTreeMap<String, Totals>,
    /// Totals over every event.
    pub total: Totals,
}

impl AuditReport {
    /// An empty report.
    pub fn new(by: GroupBy) -> Self {
        AuditReport { by, logs: 0, groups: BTreeMap::new(), total: Totals::default() }
    }

    /// Counts one event (which the caller has verified). Refused when a total would pass
    /// 2^53 − 1; the report is then unchanged.
    pub fn add(&mut self, event: &AuditEvent) -> Result<()> {
        let key = self.by.key(event);
        let mut group = self.groups.get(&key).cloned().unwrap_or_default();
        let mut total = self.total.clone();
        group.add(event)?;
        total.add(event)?;
        self.groups.insert(key, group);
        self.total = total;
        Ok(())
    }

    /// Adds another report's totals (same grouping required).
    pub fn merge(&mut self, other: AuditReport) -> Result<()> {
        if other.by != self.by {
            return Err(Error::invalid_argument("cannot merge reports with different groupings"));
        }
        let mut merged = self.clone();
        merged.logs = sum(merged.logs, other.logs)?;
        merge_totals(&mut merged.total, &other.total)?;
        for (k, t) in other.groups {
            merge_totals(merged.groups.entry(k).or_default(), &t)?;
        }
        *self = merged;
        Ok(())
    }

    /// The report as JSON: `{"by", "logs", "groups": {name: totals}, "total": totals}`.
    pub fn to_json(&self) -> Result<String> {
        let value = serde_json::to_value(self)
            .map_err(|e| Error::internal(format!("audit report does not serialize: {e}")))?;
        crate::jcs::canonicalize(&value)
    }
}

fn merge_totals(into: &mut Totals, from: &Totals) -> Result<()> {
    into.calls = sum(into.calls, from.calls)?;
    into.allowed = sum(into.allowed, from.allowed)?;
    into.denied = sum(into.denied, from.denied)?;
    for (code, n) in &from.denied_by_code {
        let slot = into.denied_by_code.entry(code.clone()).or_insert(0);
        *slot = sum(*slot, *n)?;
    }
    let (a, b) = (&mut into.usage, &from.usage);
    a.events = sum(a.events, b.events)?;
    a.input_tokens = sum(a.input_tokens, b.input_tokens)?;
    a.output_tokens = sum(a.output_tokens, b.output_tokens)?;
    a.cost_usd_micros = sum(a.cost_usd_micros, b.cost_usd_micros)?;
    Ok(())
}

/// Verifies each log against `trusted`, then totals its events. Each element of `logs` is one
/// log: its files in order (`NAME.1`, `NAME.2`, …, `NAME`), one chain across them. Logs are read
/// once each, in constant memory besides the totals. A log that does not verify refuses the whole
/// report with `audit_chain_broken`, naming the log, the entry and the problem.
#[cfg(feature = "std")]
pub fn report_files<P: AsRef<std::path::Path>>(
    logs: &[Vec<P>],
    trusted: &[crate::PublicKey],
    by: GroupBy,
) -> Result<AuditReport> {
    use std::io::Read as _;
    let mut report = AuditReport::new(by);
    for (i, files) in logs.iter().enumerate() {
        let names: Vec<String> = files.iter().map(|p| p.as_ref().display().to_string()).collect();
        let mut reader: alloc::boxed::Box<dyn std::io::Read> = alloc::boxed::Box::new(std::io::empty());
        for p in files {
            let f = std::fs::File::open(p.as_ref()).map_err(|e| {
                Error::invalid_argument(format!("cannot open {}: {e}", p.as_ref().display()))
            })?;
            reader = alloc::boxed::Box::new(reader.chain(f));
        }
        let mut one = AuditReport::new(by);
        let mut failed: Option<Error> = None;
        let verified = crate::audit::verify_jsonl_reader_visit(
            std::io::BufReader::new(reader),
            trusted,
            None,
            None,
            &crate::audit::VerifyOptions::default(),
            &mut |env| {
                if failed.is_none() {
                    failed = one.add(env.event()).err();
                }
            },
        )?;
        if let Some(p) = &verified.problem {
            return Err(Error::new(
                ErrorKind::AuditChainBroken,
                format!("log {} ({}): entry {}: {}: {}", i + 1, names.join(" "), p.index, p.kind, p.message),
            ));
        }
        if let Some(e) = failed {
            return Err(e);
        }
        one.logs = 1;
        report.merge(one)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(agent: &str, decision: AuditDecision) -> AuditEvent {
        AuditEvent::new("tool_call", agent, "t", "r", decision, 1_700_000_000)
    }

    #[test]
    fn groups_and_overflow() {
        assert!(GroupBy::parse("Agent").is_err() && GroupBy::parse("").is_err());
        let mut r = AuditReport::new(GroupBy::Path);
        r.add(&ev("agent:b", AuditDecision::Deny).chain(["agent:a", "agent:b"])).unwrap();
        r.add(&ev("agent:c", AuditDecision::Allow)).unwrap();
        assert_eq!(r.groups["agent:a > agent:b"].denied_by_code[NONE_GROUP], 1);
        assert_eq!(r.groups["agent:c"].allowed, 1);
        let big = crate::audit_usage::Usage {
            output_tokens: Some(crate::jcs::MAX_SAFE_INTEGER),
            ..Default::default()
        };
        r.add(&ev("agent:c", AuditDecision::Allow).usage(big.clone())).unwrap();
        let before = r.clone();
        let e = r.add(&ev("agent:c", AuditDecision::Allow).usage(big)).unwrap_err();
        assert_eq!(e.code(), "limits_exceeded");
        assert_eq!(r, before);
    }
}
