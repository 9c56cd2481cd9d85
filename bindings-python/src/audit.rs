//! `AuditEvent`, `Envelope`, `AuditLog`, `AuditFile`, `VerifyReport` and `verify_audit_file`
//! (mirrors `marque::audit` and `marque::audit_file`). Every rule (canonical JSON, signing input, chain classification) is the
//! core's; this module converts arguments and results.

use std::sync::RwLock;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::convert::{self, py_str_repr, Str};
use crate::errors::{invalid_argument, no_panic, type_error, Result};
use crate::keys::PublicKey;
use crate::signer::Signer;

fn decision_from_str(decision: &str) -> Result<marque::AuditDecision> {
    match decision {
        "allow" => Ok(marque::AuditDecision::Allow),
        "deny" => Ok(marque::AuditDecision::Deny),
        other => Err(invalid_argument(format!("decision must be \"allow\" or \"deny\", got {other:?}"))),
    }
}

/// An event as given: an `AuditEvent` or a dict of its members.
pub fn event_arg(v: &Bound<'_, PyAny>) -> Result<marque::AuditEvent> {
    if let Ok(e) = v.cast::<AuditEvent>() {
        return Ok(e.get().inner.clone());
    }
    if v.is_instance_of::<PyDict>() {
        return Ok(marque::AuditEvent::from_json(&convert::to_json_text(v)?)?);
    }
    Err(type_error(format!("an audit event must be a marque.AuditEvent or a dict, got {}", convert::type_name(v))))
}

/// One audited event: who acted (agent, key fingerprint, delegation chain, principal), what
/// (action = the tool, operation, resource), the verdict (`"allow"` / `"deny"`), the policy,
/// when, and free-form `attributes`.
///
/// Build one with keyword arguments (`timestamp` defaults to the clock), from a dict or JSON
/// (`AuditEvent.from_dict`, unknown members refused), or from a decision
/// (`Decision.to_audit_event()`). Immutable, comparable, picklable.
#[pyclass(module = "marque", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct AuditEvent {
    pub inner: marque::AuditEvent,
}

#[pymethods]
impl AuditEvent {
    #[new]
    #[pyo3(signature = (*, event_type, agent_id, action, resource, decision, timestamp = None,
        agent_key_fingerprint = Str::from(""), chain = None, principal = Str::from(""), task = None, operation = None,
        policy_id = Str::from(""), policy_version = None, token_id = None, approval = None, attributes = None, usage = None),
        text_signature = "(*, event_type, agent_id, action, resource, decision, timestamp=None, agent_key_fingerprint='', \
chain=None, principal='', task=None, operation=None, policy_id='', policy_version=None, token_id=None, approval=None, \
attributes=None, usage=None)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        event_type: Str,
        agent_id: Str,
        action: Str,
        resource: Str,
        decision: Str,
        timestamp: Option<&Bound<'_, PyAny>>,
        agent_key_fingerprint: Str,
        chain: Option<Vec<Str>>,
        principal: Str,
        task: Option<Str>,
        operation: Option<Str>,
        policy_id: Str,
        policy_version: Option<Str>,
        token_id: Option<Str>,
        approval: Option<&Bound<'_, PyAny>>,
        attributes: Option<&Bound<'_, PyAny>>,
        usage: Option<&Bound<'_, PyAny>>,
    ) -> Result<Self> {
        let timestamp = convert::now_or_clock(timestamp)?;
        let mut e = marque::AuditEvent::new(event_type, agent_id, action, resource, decision_from_str(&decision)?, timestamp);
        e.agent_key_fingerprint = agent_key_fingerprint.into();
        e.chain = convert::strings(chain.unwrap_or_default());
        e.principal = principal.into();
        e.task = convert::opt(task);
        e.operation = convert::opt(operation);
        e.policy_id = policy_id.into();
        e.policy_version = convert::opt(policy_version);
        e.token_id = convert::opt(token_id);
        e.approval = match approval {
            Some(a) if !a.is_none() => Some(convert::json_object("approval", a)?),
            _ => None,
        };
        if let Some(a) = attributes.filter(|a| !a.is_none()) {
            e.attributes = convert::json_object("attributes", a)?;
        }
        if let Some(u) = usage.filter(|u| !u.is_none()) {
            e.usage = Some(marque::audit::Usage::from_json(&convert::to_json_text(u)?)?);
        }
        // The core's own check (e.g. a timestamp beyond 2**53 - 1), now rather than at append.
        e.to_json()?;
        Ok(AuditEvent { inner: e })
    }

    /// From a dict of the event's members (unknown members refused; `chain` and `attributes`
    /// may be omitted).
    #[staticmethod]
    fn from_dict(d: &Bound<'_, PyDict>) -> Result<Self> {
        Ok(AuditEvent { inner: marque::AuditEvent::from_json(&convert::to_json_text(d)?)? })
    }
    /// From JSON text (duplicate and unknown members refused).
    #[staticmethod]
    fn from_json(json: Str) -> Result<Self> {
        Ok(AuditEvent { inner: marque::AuditEvent::from_json(&json)? })
    }
    /// RFC 8785 canonical JSON of the event.
    fn to_json(&self) -> Result<String> {
        Ok(self.inner.to_json()?)
    }
    /// The event as a dict (the JSON members).
    fn to_dict<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        convert::json_to_py(py, &self.inner.to_json()?)
    }

    /// What happened: `"tool_call"`, `"authorization"`, `"delegation"`, …
    #[getter]
    fn event_type(&self) -> &str {
        &self.inner.event_type
    }
    /// The acting agent (the last hop).
    #[getter]
    fn agent_id(&self) -> &str {
        &self.inner.agent_id
    }
    /// Fingerprint of the acting agent's key (`ed25519:…`).
    #[getter]
    fn agent_key_fingerprint(&self) -> &str {
        &self.inner.agent_key_fingerprint
    }
    /// Agent ids of the delegation chain, root first.
    #[getter]
    fn chain(&self) -> Vec<String> {
        self.inner.chain.clone()
    }
    /// On whose behalf.
    #[getter]
    fn principal(&self) -> &str {
        &self.inner.principal
    }
    /// The task, if any.
    #[getter]
    fn task(&self) -> Option<&str> {
        self.inner.task.as_deref()
    }
    /// The tool (or other action) attempted.
    #[getter]
    fn action(&self) -> &str {
        &self.inner.action
    }
    /// The operation, if any.
    #[getter]
    fn operation(&self) -> Option<&str> {
        self.inner.operation.as_deref()
    }
    /// The resource.
    #[getter]
    fn resource(&self) -> &str {
        &self.inner.resource
    }
    /// `"allow"` or `"deny"`.
    #[getter]
    fn decision(&self) -> &'static str {
        self.inner.decision.as_str()
    }
    /// The policy that decided.
    #[getter]
    fn policy_id(&self) -> &str {
        &self.inner.policy_id
    }
    /// The policy's version, if known.
    #[getter]
    fn policy_version(&self) -> Option<&str> {
        self.inner.policy_version.as_deref()
    }
    /// Seconds since the Unix epoch.
    #[getter]
    fn timestamp(&self) -> u64 {
        self.inner.timestamp
    }
    /// Revocation id (hex) of the last block of the token used, if any.
    #[getter]
    fn token_id(&self) -> Option<&str> {
        self.inner.token_id.as_deref()
    }
    /// A human approval attached to the decision, as given.
    #[getter]
    fn approval<'py>(&self, py: Python<'py>) -> Result<Option<Bound<'py, PyAny>>> {
        self.inner
            .approval
            .as_ref()
            .map(|m| convert::value_to_py(py, &serde_json::Value::Object(m.clone())))
            .transpose()
    }
    /// Anything else recorded.
    #[getter]
    fn attributes<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        convert::value_to_py(py, &serde_json::Value::Object(self.inner.attributes.clone()))
    }

    /// Tokens, model and cost attributed to the event (`input_tokens`, `output_tokens`,
    /// `model`, `cost_usd_micros`: the members set), or `None`.
    #[getter]
    fn usage<'py>(&self, py: Python<'py>) -> Result<Option<Bound<'py, PyAny>>> {
        self.inner
            .usage
            .as_ref()
            .map(|u| {
                let v = serde_json::to_value(u).map_err(|e| invalid_argument(e.to_string()))?;
                convert::value_to_py(py, &v)
            })
            .transpose()
    }

    /// OpenTelemetry log-record attributes (`gen_ai.agent.id`, `gen_ai.tool.name`,
    /// `enduser.id`, `marque.*`, plus `attributes`); the mapping is in `docs/AUDIT.md`.
    fn otel_attributes<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        let m: serde_json::Map<String, serde_json::Value> = self.inner.otel_attributes().into_iter().collect();
        convert::value_to_py(py, &serde_json::Value::Object(m))
    }
    /// OpenTelemetry `SeverityNumber`: 9 (INFO) when allowed, 13 (WARN) when denied.
    fn otel_severity_number(&self) -> u8 {
        self.inner.otel_severity_number()
    }
    /// The log record's `Timestamp`, in nanoseconds since the epoch.
    fn otel_time_unix_nano(&self) -> u64 {
        self.inner.otel_time_unix_nano()
    }

    fn __repr__(&self) -> String {
        let e = &self.inner;
        format!(
            "AuditEvent(event_type={}, agent_id={}, action={}, resource={}, decision={}, timestamp={})",
            py_str_repr(&e.event_type),
            py_str_repr(&e.agent_id),
            py_str_repr(&e.action),
            py_str_repr(&e.resource),
            py_str_repr(e.decision.as_str()),
            e.timestamp
        )
    }
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> Result<(Bound<'py, PyAny>, (String,))> {
        Ok((slf.get_type().getattr("from_json")?, (slf.get().inner.to_json()?,)))
    }
}

/// A signed audit event: the event, the signer's key, its place in a log (`seq`, `prev`) and
/// an Ed25519 signature over `"marque-audit/1\n"` + the canonical JSON of the rest.
///
/// `AuditLog.append` makes them; `Envelope.from_json` parses one without trusting it;
/// `verify(keys)` checks the signer and signature (not its place in a log: that is
/// `AuditLog.verify`). `to_json()` is RFC 8785 canonical JSON, one JSONL line.
#[pyclass(module = "marque", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Envelope {
    pub inner: marque::Envelope,
}

#[pymethods]
impl Envelope {
    /// Signs `event` as entry `seq` of a log whose previous entry has digest `prev`
    /// (`AUDIT_GENESIS` for the first). `AuditLog.append` does this for you.
    #[staticmethod]
    #[pyo3(signature = (signer, event, seq, prev = Str::from(marque::audit::GENESIS)))]
    fn sign(py: Python<'_>, signer: &Bound<'_, PyAny>, event: &Bound<'_, PyAny>, seq: u64, prev: Str) -> Result<Self> {
        let signer = Signer::extract("signer", signer)?;
        let event = event_arg(event)?;
        let env = py.detach(|| signer.finish(no_panic(|| marque::Envelope::sign(signer.core(), event, seq, &prev))))?;
        Ok(Envelope { inner: env })
    }
    /// Parses an envelope (any formatting; duplicate and unknown members refused). Nothing is
    /// trusted until `verify`.
    #[staticmethod]
    fn from_json(json: Str) -> Result<Self> {
        Ok(Envelope { inner: marque::Envelope::from_json(&json)? })
    }
    /// RFC 8785 canonical JSON of the whole envelope (one JSONL line, no newline).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// The envelope as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        convert::json_to_py(py, &self.inner.to_json())
    }
    /// Checks that the signer is one of `trusted_keys` and that the signature verifies; raises
    /// `InvalidSignature` (or `InvalidArgument` for a wrong `signer_fingerprint`) otherwise.
    fn verify(&self, trusted_keys: &Bound<'_, PyAny>) -> Result<()> {
        Ok(self.inner.verify(&convert::public_keys("trusted_keys", trusted_keys)?)?)
    }
    /// The event, as a dict.
    #[getter]
    fn event<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        convert::json_to_py(py, &self.inner.event().to_json()?)
    }
    /// The event, as an `AuditEvent`.
    #[getter]
    fn audit_event(&self) -> AuditEvent {
        AuditEvent { inner: self.inner.event().clone() }
    }
    /// Position in the log, from 0.
    #[getter]
    fn seq(&self) -> u64 {
        self.inner.seq()
    }
    /// Digest (hex) of the previous entry, or `AUDIT_GENESIS`.
    #[getter]
    fn prev(&self) -> String {
        self.inner.prev()
    }
    /// The signer's public key.
    #[getter]
    fn signer(&self) -> PublicKey {
        PublicKey { inner: *self.inner.signer() }
    }
    /// The signer fingerprint as written in the envelope.
    #[getter]
    fn signer_fingerprint(&self) -> &str {
        self.inner.signer_fingerprint()
    }
    /// The 64-byte Ed25519 signature.
    #[getter]
    fn signature<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.signature().to_bytes())
    }
    /// The bytes signed: `"marque-audit/1\n"` + canonical JSON of the envelope without `sig`.
    #[getter]
    fn signing_input<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.signing_input())
    }
    /// SHA-256 (hex) of `signing_input`: the next entry's `prev`, or the log's head.
    #[getter]
    fn digest(&self) -> String {
        self.inner.digest()
    }
    /// The event's OpenTelemetry attributes plus `marque.audit.seq`, `.signer`, `.digest`.
    fn otel_attributes<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        let m: serde_json::Map<String, serde_json::Value> = self.inner.otel_attributes().into_iter().collect();
        convert::value_to_py(py, &serde_json::Value::Object(m))
    }
    fn __repr__(&self) -> String {
        let e = &self.inner;
        format!(
            "Envelope(seq={}, signer={}, action={}, decision={}, digest={})",
            e.seq(),
            py_str_repr(e.signer_fingerprint()),
            py_str_repr(&e.event().action),
            py_str_repr(e.event().decision.as_str()),
            py_str_repr(&e.digest())
        )
    }
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((slf.get_type().getattr("from_json")?, (slf.get().inner.to_json(),)))
    }
}

/// The first bad entry of an audit log: its 0-based `index`, its `kind` (one of
/// `AUDIT_PROBLEM_KINDS`, e.g. `"edited_entry"`) and a readable `message`.
#[pyclass(module = "marque", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct AuditProblem {
    pub inner: marque::audit::Problem,
}

#[pymethods]
impl AuditProblem {
    /// 0-based index of the entry (blank lines not counted).
    #[getter]
    fn index(&self) -> u64 {
        self.inner.index
    }
    /// What is wrong: `forged_signature`, `unknown_signer`, `edited_entry`, `removed_entry`,
    /// `reordered_entries`, `duplicate_entry`, `truncated_tail` or `malformed_entry`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.code()
    }
    /// Details for humans.
    #[getter]
    fn message(&self) -> &str {
        &self.inner.message
    }
    fn __repr__(&self) -> String {
        format!(
            "AuditProblem(index={}, kind={}, message={})",
            self.inner.index,
            py_str_repr(self.inner.kind.code()),
            py_str_repr(&self.inner.message)
        )
    }
}

/// The outcome of verifying an audit log. A broken log is a report, not an exception:
/// `ok`, `entries` (verified before the first problem; all of them when ok), `head` (digest of
/// the last verified entry: keep it and pass it as `expected_head` next time to detect a cut
/// tail) and `problem`. `into_result()` raises `AuditChainBroken` when not ok; `bool(report)`
/// is `report.ok`.
#[pyclass(module = "marque", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct VerifyReport {
    pub inner: marque::VerifyReport,
}

#[pymethods]
impl VerifyReport {
    /// Whether every entry verified and the chain is intact.
    #[getter]
    fn ok(&self) -> bool {
        self.inner.ok
    }
    /// Entries verified: all of them when ok, else the index of the first bad entry.
    #[getter]
    fn entries(&self) -> u64 {
        self.inner.entries
    }
    /// Digest (hex) of the last verified entry (`AUDIT_GENESIS` when none).
    #[getter]
    fn head(&self) -> &str {
        &self.inner.head
    }
    /// The first bad entry, when not ok.
    #[getter]
    fn problem(&self) -> Option<AuditProblem> {
        self.inner.problem.clone().map(|inner| AuditProblem { inner })
    }
    /// Returns `self` when ok; raises `AuditChainBroken` (`entry 3: edited_entry: …`) otherwise.
    fn into_result(slf: Py<Self>) -> Result<Py<Self>> {
        slf.get().inner.clone().into_result()?;
        Ok(slf)
    }
    /// The report as JSON.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// The report as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        convert::json_to_py(py, &self.inner.to_json())
    }
    fn __bool__(&self) -> bool {
        self.inner.ok
    }
    fn __repr__(&self) -> String {
        let r = &self.inner;
        let problem = match &r.problem {
            None => "None".to_string(),
            Some(p) => format!("({}, {})", p.index, py_str_repr(p.kind.code())),
        };
        format!(
            "VerifyReport(ok={}, entries={}, head={}, problem={})",
            if r.ok { "True" } else { "False" },
            r.entries,
            py_str_repr(&r.head),
            problem
        )
    }
}

/// An append-only, hash-chained, signed audit log held in memory: one canonical JSON envelope
/// per line (JSONL).
///
/// `append(signer, event)` signs the next entry; `verify(trusted_keys, expected_head=None)`
/// checks every signature and the chain and reports the first bad entry; `to_jsonl()` /
/// `AuditLog.from_jsonl(text)` round-trip (parsing never fails, so a damaged log can still be
/// verified). For a large file use `verify_audit_file` (streaming, constant memory).
/// Thread-safe; `append` and `verify` release the GIL.
#[pyclass(module = "marque", frozen)]
pub struct AuditLog {
    inner: RwLock<marque::AuditLog>,
}

impl AuditLog {
    /// Reads the log; call without the GIL (it may wait for an `append`).
    fn read<T>(&self, f: impl FnOnce(&marque::AuditLog) -> T) -> T {
        match self.inner.read() {
            Ok(g) => f(&g),
            Err(p) => f(&p.into_inner()),
        }
    }

    /// Reads the log with the GIL held. An `append` may hold the lock while a Python signer
    /// waits for the GIL, so the GIL is released while waiting for the lock.
    fn read_py<T>(&self, py: Python<'_>, f: impl FnOnce(&marque::AuditLog) -> T) -> T {
        loop {
            match self.inner.try_read() {
                Ok(g) => return f(&g),
                Err(std::sync::TryLockError::Poisoned(p)) => return f(&p.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => py.detach(|| drop(self.inner.read())),
            }
        }
    }
}

#[pymethods]
impl AuditLog {
    /// An empty log.
    #[new]
    fn new() -> Self {
        AuditLog { inner: RwLock::new(marque::AuditLog::new()) }
    }
    /// Reads a JSONL log (blank lines skipped; nothing verified).
    #[staticmethod]
    fn from_jsonl(text: Str) -> Self {
        AuditLog { inner: RwLock::new(marque::AuditLog::from_jsonl(&text)) }
    }
    /// The log as JSONL (every line ends with a newline).
    fn to_jsonl(&self, py: Python<'_>) -> String {
        self.read_py(py, |l| l.to_jsonl())
    }
    /// Signs `event` (an `AuditEvent`, or a dict of its members) with `signer` (a `KeyPair`) as
    /// the next entry, appends it and returns the envelope. Refused (`AuditChainBroken`) when
    /// the log's last line does not parse.
    fn append(&self, py: Python<'_>, signer: &Bound<'_, PyAny>, event: &Bound<'_, PyAny>) -> Result<Envelope> {
        let signer = Signer::extract("signer", signer)?;
        let event = event_arg(event)?;
        let env = py.detach(|| {
            signer.finish(no_panic(|| {
                let mut log = match self.inner.write() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                log.append(signer.core(), event)
            }))
        })?;
        Ok(Envelope { inner: env })
    }
    /// Verifies every entry against `trusted_keys` (a `PublicKey` or a list) and the chain.
    /// With `expected_head` (a `head` from an earlier report or from `AuditLog.head`), a cut
    /// tail is detected too. Returns a `VerifyReport` (it does not raise for a broken log).
    #[pyo3(signature = (trusted_keys, expected_head = None))]
    fn verify(&self, py: Python<'_>, trusted_keys: &Bound<'_, PyAny>, expected_head: Option<Str>) -> Result<VerifyReport> {
        let keys = convert::public_keys("trusted_keys", trusted_keys)?;
        let report = py.detach(|| {
            no_panic(|| Ok(self.read(|l| l.verify(&keys, expected_head.as_deref()))))
        })?;
        Ok(VerifyReport { inner: report })
    }
    /// Digest (hex) of the last entry, as the next append would chain to it (`AUDIT_GENESIS`
    /// when empty). Not verified. Raises `AuditChainBroken` when the last line does not parse.
    #[getter]
    fn head(&self, py: Python<'_>) -> Result<String> {
        Ok(self.read_py(py, |l| l.head())?)
    }
    /// The raw lines.
    #[getter]
    fn lines(&self, py: Python<'_>) -> Vec<String> {
        self.read_py(py, |l| l.lines().to_vec())
    }
    /// The entries, parsed (not verified); raises at the first line that does not parse.
    fn envelopes(&self, py: Python<'_>) -> Result<Vec<Envelope>> {
        let parsed: marque::Result<Vec<marque::Envelope>> = self.read_py(py, |l| l.envelopes().collect());
        Ok(parsed?.into_iter().map(|inner| Envelope { inner }).collect())
    }
    fn __len__(&self, py: Python<'_>) -> usize {
        self.read_py(py, |l| l.len())
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        self.read_py(py, |l| {
            let head = l.head().map(|h| py_str_repr(&h)).unwrap_or_else(|_| "<broken>".into());
            format!("AuditLog(entries={}, head={})", l.len(), head)
        })
    }
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((slf.get_type().getattr("from_jsonl")?, (slf.get().to_jsonl(slf.py()),)))
    }
}

/// A durable audit log file: each `append` signs the next entry and writes it as one JSONL
/// line; only the chain head is held in memory. Rotates to `NAME.1`, `NAME.2`, … past
/// `max_bytes` (default 64 MiB; `0` never), the chain carried across files. Opening resumes
/// after the last good entry: the current file is verified against `trusted_keys` (a tampered
/// entry raises `AuditChainBroken`) and a torn last line is moved to `NAME.torn` and reported
/// in `torn`. `fsync`: `"always"` (default: an acknowledged entry survives power loss),
/// `"never"`, or a count `n` (every `n` entries). One writer per path in a process; `close()`
/// (or `with`) releases it. Thread-safe; `append` releases the GIL. See `docs/AUDIT.md`.
#[pyclass(module = "marque", frozen)]
pub struct AuditFile {
    inner: RwLock<Option<marque::audit_file::AuditFile>>,
    path: std::path::PathBuf,
}

fn fsync_arg(v: &Bound<'_, PyAny>) -> Result<marque::audit_file::FsyncPolicy> {
    let text = if v.is_instance_of::<pyo3::types::PyInt>() && !v.is_instance_of::<pyo3::types::PyBool>() {
        convert::uint::<u64>("fsync", v)?.to_string()
    } else if let Ok(s) = v.extract::<String>() {
        s
    } else {
        return Err(type_error(format!("fsync must be \"always\", \"never\" or an int, got {}", convert::type_name(v))));
    };
    Ok(marque::audit_file::AuditFileOptions::parse_fsync(&text)?)
}

impl AuditFile {
    fn with<T>(&self, f: impl FnOnce(&marque::audit_file::AuditFile) -> marque::Result<T>) -> marque::Result<T> {
        let guard = match self.inner.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match guard.as_ref() {
            Some(log) => f(log),
            None => Err(marque::Error::new(marque::ErrorKind::InvalidArgument, format!(
                "the audit file {} is closed",
                self.path.display()
            ))),
        }
    }
}

#[pymethods]
impl AuditFile {
    /// Opens (or creates) the log at `path`, written by `trusted_keys` (a `PublicKey` or a list;
    /// the signer of `append` must be one of them).
    #[new]
    #[pyo3(signature = (path, trusted_keys, *, max_bytes = None, fsync = None))]
    fn new(
        py: Python<'_>,
        path: &Bound<'_, PyAny>,
        trusted_keys: &Bound<'_, PyAny>,
        max_bytes: Option<&Bound<'_, PyAny>>,
        fsync: Option<&Bound<'_, PyAny>>,
    ) -> Result<Self> {
        let path = convert::path(path)?;
        let keys = convert::public_keys("trusted_keys", trusted_keys)?;
        let mut options = marque::audit_file::AuditFileOptions::default();
        if let Some(n) = convert::opt_uint::<u64>("max_bytes", max_bytes)? {
            options.max_bytes = n;
        }
        if let Some(f) = fsync.filter(|f| !f.is_none()) {
            options.fsync = fsync_arg(f)?;
        }
        let open_path = path.clone();
        let log = py.detach(move || no_panic(|| marque::audit_file::AuditFile::open(&open_path, &keys, options)))?;
        Ok(AuditFile { inner: RwLock::new(Some(log)), path })
    }
    /// Signs `event` (an `AuditEvent` or a dict of its members) with `signer` as the next
    /// entry, writes it and returns the envelope.
    fn append(&self, py: Python<'_>, signer: &Bound<'_, PyAny>, event: &Bound<'_, PyAny>) -> Result<Envelope> {
        let signer = Signer::extract("signer", signer)?;
        let event = event_arg(event)?;
        let env = py.detach(|| signer.finish(no_panic(|| self.with(|log| log.append(signer.core(), event)))))?;
        Ok(Envelope { inner: env })
    }
    /// Forces written entries to stable storage now.
    fn sync(&self, py: Python<'_>) -> Result<()> {
        Ok(py.detach(|| self.with(|log| log.sync()))?)
    }
    /// Syncs and closes the file, releasing the path for another writer. Idempotent.
    fn close(&self, py: Python<'_>) {
        py.detach(|| {
            let mut guard = match self.inner.write() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            guard.take();
        })
    }
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) {
        self.close(py)
    }
    /// Digest (hex) of the last entry (`AUDIT_GENESIS` when empty): keep it as `expected_head`.
    #[getter]
    fn head(&self, py: Python<'_>) -> Result<String> {
        Ok(py.detach(|| self.with(|log| Ok(log.head())))?)
    }
    /// The `seq` the next entry gets.
    #[getter]
    fn next_seq(&self, py: Python<'_>) -> Result<u64> {
        Ok(py.detach(|| self.with(|log| Ok(log.next_seq())))?)
    }
    /// The path of the current file.
    #[getter]
    fn path(&self) -> std::path::PathBuf {
        self.path.clone()
    }
    /// Every file of the log in chain order (rotated files oldest first, then the current one):
    /// pass them to `verify_audit_file`.
    fn files(&self, py: Python<'_>) -> Result<Vec<std::path::PathBuf>> {
        Ok(py.detach(|| self.with(|log| log.files()))?)
    }
    /// Entries verified in the current file when it was opened.
    #[getter]
    fn opened_entries(&self, py: Python<'_>) -> Result<u64> {
        Ok(py.detach(|| self.with(|log| Ok(log.opened().entries)))?)
    }
    /// The torn last line set aside on open, as a dict (`offset`, `bytes`, `side_file`,
    /// `reason`), or `None`.
    #[getter]
    fn torn<'py>(&self, py: Python<'py>) -> Result<Option<Bound<'py, PyDict>>> {
        let torn = py.detach(|| self.with(|log| Ok(log.opened().torn.clone())))?;
        let Some(t) = torn else { return Ok(None) };
        let d = PyDict::new(py);
        d.set_item("offset", t.offset)?;
        d.set_item("bytes", t.bytes)?;
        d.set_item("side_file", t.side_file)?;
        d.set_item("reason", t.reason)?;
        Ok(Some(d))
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        let shown = py_str_repr(&self.path.display().to_string());
        match py.detach(|| self.with(|log| Ok((log.next_seq(), log.head())))) {
            Ok((seq, head)) => format!("AuditFile(path={shown}, next_seq={seq}, head={})", py_str_repr(&head)),
            Err(_) => format!("AuditFile(path={shown}, closed)"),
        }
    }
}

/// Verifies the JSONL audit log at `path` in constant memory (one line at a time, signatures
/// in batches), with the GIL released; the same verdicts as `AuditLog.verify`. `path` may be a
/// list of paths: a log kept in rotated files, oldest first (`AuditFile.files()`), verified as
/// one chain. A line longer
/// than `max_line_bytes` (default 1 MiB) raises `LimitsExceeded`; an unreadable file
/// `InvalidArgument`.
#[pyfunction]
#[pyo3(signature = (path, trusted_keys, expected_head = None, *, max_line_bytes = None))]
pub fn verify_audit_file(
    py: Python<'_>,
    path: &Bound<'_, PyAny>,
    trusted_keys: &Bound<'_, PyAny>,
    expected_head: Option<Str>,
    max_line_bytes: Option<&Bound<'_, PyAny>>,
) -> Result<VerifyReport> {
    if path.is_instance_of::<pyo3::types::PyList>() || path.is_instance_of::<pyo3::types::PyTuple>() {
        // A log kept in rotated files, oldest first: one chain across them.
        if max_line_bytes.is_some_and(|m| !m.is_none()) {
            return Err(invalid_argument("max_line_bytes is not supported with several files"));
        }
        let paths = path.try_iter()?.map(|p| convert::path(&p?)).collect::<Result<Vec<_>>>()?;
        if paths.is_empty() {
            return Err(invalid_argument("verify_audit_file needs at least one path"));
        }
        let keys = convert::public_keys("trusted_keys", trusted_keys)?;
        let report = py.detach(move || {
            no_panic(|| marque::audit_file::verify_files(&paths, &keys, expected_head.as_deref()))
        })?;
        return Ok(VerifyReport { inner: report });
    }
    let path = convert::path(path)?;
    let keys = convert::public_keys("trusted_keys", trusted_keys)?;
    let mut options = marque::audit::VerifyOptions::default();
    if let Some(n) = convert::opt_uint::<usize>("max_line_bytes", max_line_bytes)? {
        options.max_line_bytes = n;
    }
    let report = py.detach(move || {
        no_panic(|| {
            let file = std::fs::File::open(&path).map_err(|e| {
                marque::Error::new(
                    marque::ErrorKind::InvalidArgument,
                    format!("cannot open the audit log {}: {e}", path.display()),
                )
            })?;
            marque::audit::verify_jsonl_reader(std::io::BufReader::new(file), &keys, expected_head.as_deref(), &options)
        })
    })?;
    Ok(VerifyReport { inner: report })
}

/// Adds the audit classes, `verify_audit_file` and the constants to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AuditEvent>()?;
    m.add_class::<Envelope>()?;
    m.add_class::<AuditProblem>()?;
    m.add_class::<VerifyReport>()?;
    m.add_class::<AuditLog>()?;
    m.add_class::<AuditFile>()?;
    m.add_function(wrap_pyfunction!(verify_audit_file, m)?)?;
    m.add("AUDIT_GENESIS", marque::audit::GENESIS)?;
    m.add("AUDIT_DOMAIN", marque::audit::DOMAIN)?;
    m.add("OTEL_EVENT_NAME", marque::audit::OTEL_EVENT_NAME)?;
    let kinds: Vec<&str> = marque::ProblemKind::ALL.iter().map(|k| k.code()).collect();
    m.add("AUDIT_PROBLEM_KINDS", pyo3::types::PyTuple::new(m.py(), kinds)?)?;
    Ok(())
}
