//! Signed, hash-chained audit logs (`AuditLog`, `Envelope`), mirroring `marque::audit`.
//!
//! Events are given and returned in their wire form: the snake_case JSON object of
//! `docs/AUDIT.md`, identical in every runtime.

use napi_derive::napi;

use marque_node_derive::Options;

use crate::convert::{JsonInput, KeyInput, KeyList, Ref, Text};
use std::cell::RefCell;

use crate::errors::{invalid_argument, no_panic, OrThrow, Result};
use crate::keys::PublicKey;
use crate::signer::SignerInput;
use crate::verify::Decision;

fn keys(list: Vec<KeyInput>) -> Result<Vec<marque::PublicKey>> {
    list.into_iter().map(KeyInput::resolve).collect()
}

fn to_js_value<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// The first bad entry of a log.
#[napi(object)]
pub struct AuditProblem {
    /// 0-based index of the entry.
    pub index: f64,
    /// What is wrong.
    #[napi(ts_type = "AuditProblemKind")]
    pub kind: String,
    /// Details for humans.
    pub message: String,
}

/// The outcome of verifying a log: a broken log is a report, not an exception (use
/// `verifyOrThrow` for an `audit_chain_broken` error).
#[napi(object, use_nullable = true)]
pub struct AuditReport {
    /// Whether every entry verified and the chain is intact.
    pub ok: bool,
    /// Entries verified: all when `ok`, else the index of the first bad entry.
    pub entries: f64,
    /// Digest (hex) of the last verified entry; pass it as `expectedHead` next time.
    pub head: String,
    /// The first bad entry, when not `ok`.
    pub problem: Option<AuditProblem>,
}

/// Options of `auditLog.verify`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct AuditVerifyOptions {
    /// The head recorded last time: detects entries cut from the end.
    pub expected_head: Option<String>,
}

impl AuditReport {
    fn from_core(r: &marque::VerifyReport) -> Self {
        AuditReport {
            ok: r.ok,
            entries: r.entries as f64,
            head: r.head.clone(),
            problem: r.problem.as_ref().map(|p| AuditProblem {
                index: p.index as f64,
                kind: p.kind.code().to_string(),
                message: p.message.clone(),
            }),
        }
    }
}

/// One signed audit entry: an event, its signer, `seq`, `prev` (the previous entry's digest)
/// and an Ed25519 signature over its RFC 8785 canonical JSON.
#[napi]
pub struct Envelope {
    inner: marque::Envelope,
}

#[napi]
impl Envelope {
    /// Parses one envelope (one JSONL line). Does not verify it.
    #[napi(factory)]
    pub fn from_json(#[napi(ts_arg_type = "string")] json: Text) -> Result<Self> {
        let json = json.0;
        no_panic(|| {
            marque::Envelope::from_json(&json)
                .or_throw()
                .map(|inner| Envelope { inner })
        })
    }
    /// RFC 8785 canonical JSON (what the log stores).
    #[napi]
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// The event (snake_case wire form).
    #[napi(getter, ts_return_type = "AuditEvent")]
    pub fn event(&self) -> serde_json::Value {
        to_js_value(self.inner.event())
    }
    /// Sequence number, from 0.
    #[napi(getter)]
    pub fn seq(&self) -> f64 {
        self.inner.seq() as f64
    }
    /// Digest (hex) of the previous entry (64 zeros for the first).
    #[napi(getter)]
    pub fn prev(&self) -> String {
        self.inner.prev()
    }
    /// This entry's digest (the next entry's `prev`).
    #[napi(getter)]
    pub fn digest(&self) -> String {
        self.inner.digest()
    }
    /// The signer's public key.
    #[napi(getter)]
    pub fn signer(&self) -> PublicKey {
        PublicKey::wrap(*self.inner.signer())
    }
    /// The signer's key fingerprint.
    #[napi(getter)]
    pub fn signer_fingerprint(&self) -> String {
        self.inner.signer_fingerprint().to_string()
    }
    /// The signature, base64url.
    #[napi(getter)]
    pub fn signature(&self) -> String {
        self.inner.signature().to_base64()
    }
    /// Checks the signature, by one of `trustedKeys`; throws `invalid_signature` otherwise.
    #[napi]
    pub fn verify(&self, #[napi(ts_arg_type = "Array<KeyInput>")] trusted_keys: KeyList) -> Result<()> {
        let trusted_keys = trusted_keys.0;
        self.inner.verify(&keys(trusted_keys)?).or_throw()
    }
    /// OpenTelemetry log attributes of the event.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn otel_attributes(&self) -> serde_json::Value {
        to_js_value(&self.inner.otel_attributes())
    }
    /// OpenTelemetry `SeverityNumber` of the log record: 9 (INFO) when allowed, 13 (WARN) when denied.
    #[napi]
    pub fn otel_severity_number(&self) -> u32 {
        u32::from(self.inner.event().otel_severity_number())
    }
    /// The log record's `Timestamp` (the event's time, the core's `otel_time_unix_nano`), in
    /// milliseconds since the epoch (an OpenTelemetry JS `TimeInput`).
    #[napi]
    pub fn otel_time_millis(&self) -> f64 {
        self.inner.event().otel_time_unix_nano() as f64 / 1_000_000.0
    }
}

/// An append-only audit log in memory: one canonical JSON envelope per line (JSONL).
///
/// The log sits in a `RefCell` and every method takes `&self`: a JS signer's `sign` runs while
/// `append` is in progress, and if it calls back into the same log it gets an error instead of
/// a second mutable borrow.
#[napi]
pub struct AuditLog {
    inner: RefCell<marque::AuditLog>,
}

impl AuditLog {
    fn append_event(&self, signer: SignerInput, event: marque::AuditEvent) -> Result<Envelope> {
        let mut log = self.inner.try_borrow_mut().map_err(|_| busy())?;
        signer
            .with(|s| log.append(s, event))
            .map(|inner| Envelope { inner })
    }

    fn log(&self) -> Result<std::cell::Ref<'_, marque::AuditLog>> {
        self.inner.try_borrow().map_err(|_| busy())
    }
}

fn busy() -> crate::errors::JsErr {
    invalid_argument("the audit log is in use by an append in progress (its signer called back into it)")
}

#[napi]
impl AuditLog {
    /// An empty log.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        AuditLog {
            inner: RefCell::new(marque::AuditLog::new()),
        }
    }
    /// Reads JSONL. Never fails: a damaged log can still be verified, and the damage reported.
    #[napi(factory)]
    pub fn from_jsonl(#[napi(ts_arg_type = "string")] text: Text) -> Self {
        let text = text.0;
        AuditLog {
            inner: RefCell::new(marque::AuditLog::from_jsonl(&text)),
        }
    }
    /// The log as JSONL.
    #[napi]
    pub fn to_jsonl(&self) -> Result<String> {
        Ok(self.log()?.to_jsonl())
    }
    /// Signs `event` (the snake_case object of `docs/AUDIT.md`, or its JSON text) with a
    /// `KeyPair` or a `Signer` and appends it; returns the new entry. Nothing is appended when
    /// the signer fails (`signer_failed`).
    #[napi]
    pub fn append(
        &self,
        signer: SignerInput,
        #[napi(ts_arg_type = "AuditEventInit | string")] event: JsonInput,
    ) -> Result<Envelope> {
        let event = marque::AuditEvent::from_json(&event.0).or_throw()?;
        self.append_event(signer, event)
    }
    /// Records an authorization decision with the core's mapping (`Decision::to_audit_event`):
    /// event type `"authorization"` unless `eventType` is given.
    #[napi]
    pub fn append_decision(
        &self,
        signer: SignerInput,
        #[napi(ts_arg_type = "Decision")] decision: Ref<Decision>,
        #[napi(ts_arg_type = "string | undefined | null")] event_type: Option<Text>,
    ) -> Result<Envelope> {
        let event_type = event_type.map(|t| t.0);
        let decision = decision.0;
        let mut event = decision.core().to_audit_event();
        if let Some(t) = event_type {
            event.event_type = t;
        }
        self.append_event(signer, event)
    }
    /// Number of entries.
    #[napi(getter)]
    pub fn length(&self) -> Result<u32> {
        Ok(u32::try_from(self.log()?.len()).unwrap_or(u32::MAX))
    }
    /// Digest (hex) of the last entry (64 zeros when empty); throws when the last line is
    /// damaged.
    #[napi(getter)]
    pub fn head(&self) -> Result<String> {
        self.log()?.head().or_throw()
    }
    /// The entries (throws when a line is not a well-formed envelope).
    #[napi]
    pub fn envelopes(&self) -> Result<Vec<Envelope>> {
        self.log()?
            .envelopes()
            .map(|e| e.or_throw().map(|inner| Envelope { inner }))
            .collect()
    }
    /// Verifies every signature (by one of `trustedKeys`) and the chain; reports the first bad
    /// entry and what is wrong with it.
    #[napi]
    pub fn verify(
        &self,
        #[napi(ts_arg_type = "Array<KeyInput>")] trusted_keys: KeyList,
        options: Option<AuditVerifyOptions>,
    ) -> Result<AuditReport> {
        let trusted_keys = trusted_keys.0;
        let keys = keys(trusted_keys)?;
        let head = options.and_then(|o| o.expected_head);
        no_panic(|| {
            Ok(AuditReport::from_core(
                &self.log()?.verify(&keys, head.as_deref()),
            ))
        })
    }
    /// Like `verify`, but a broken log throws `audit_chain_broken` naming the entry.
    #[napi]
    pub fn verify_or_throw(
        &self,
        #[napi(ts_arg_type = "Array<KeyInput>")] trusted_keys: KeyList,
        options: Option<AuditVerifyOptions>,
    ) -> Result<AuditReport> {
        let trusted_keys = trusted_keys.0;
        let keys = keys(trusted_keys)?;
        let head = options.and_then(|o| o.expected_head);
        no_panic(|| {
            self.log()?
                .verify(&keys, head.as_deref())
                .into_result()
                .or_throw()
                .map(|r| AuditReport::from_core(&r))
        })
    }
}

/// Options of `new AuditFile(path, trustedKeys, options)`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct AuditFileOptions {
    /// Rotate when the current file reaches this many bytes (default 64 MiB; `0`: never).
    pub max_bytes: Option<f64>,
    /// When to `fsync`: `'always'` (default), `'never'`, or every `n` entries.
    #[napi(ts_type = "'always' | 'never' | number")]
    pub fsync: Option<napi::Either<String, f64>>,
}

/// A whole number of `what` in `0..=2^53`, as u64.
fn whole(what: &str, n: f64) -> Result<u64> {
    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_992.0 {
        Ok(n as u64)
    } else {
        Err(invalid_argument(format!("{what} must be a non-negative whole number, got {n}")))
    }
}

/// The torn last line `new AuditFile` set aside (moved to `NAME.torn`).
#[napi(object)]
pub struct AuditTornTail {
    /// Byte offset in the current file where the torn line started.
    pub offset: f64,
    /// Length of the torn piece in bytes.
    pub bytes: f64,
    /// The side file it was appended to.
    pub side_file: String,
    /// Why the line is torn.
    pub reason: String,
}

/// A durable audit log file: each `append` signs the next entry and writes it as one JSONL
/// line; only the chain head is held in memory (use it instead of `AuditLog` in a server).
/// Past `maxBytes` the file is renamed `NAME.1`, `NAME.2`, … and the chain continues in a fresh
/// `NAME`. Opening resumes after the last good entry: the current file is verified against
/// `trustedKeys` (a tampered entry throws `audit_chain_broken`), and a torn last line is moved
/// to `NAME.torn` and reported in `torn`. One writer per path in a process: `close()` releases
/// it. Rules: `docs/AUDIT.md`.
#[napi]
pub struct AuditFile {
    inner: RefCell<Option<marque::audit_file::AuditFile>>,
    path: String,
}

impl AuditFile {
    fn with<T>(&self, f: impl FnOnce(&marque::audit_file::AuditFile) -> Result<T>) -> Result<T> {
        let guard = self.inner.try_borrow().map_err(|_| invalid_argument("the audit file is being closed"))?;
        match guard.as_ref() {
            Some(log) => f(log),
            None => Err(invalid_argument(format!("the audit file {} is closed", self.path))),
        }
    }
    fn append_event(&self, signer: SignerInput, event: marque::AuditEvent) -> Result<Envelope> {
        self.with(|log| signer.with(|s| log.append(s, event)).map(|inner| Envelope { inner }))
    }
}

#[napi]
impl AuditFile {
    /// Opens (or creates) the log at `path`, written by `trustedKeys` (the signer of `append`
    /// must be one of them), resuming after its last good entry.
    #[napi(constructor)]
    pub fn new(path: String, trusted_keys: Vec<KeyInput>, options: Option<AuditFileOptions>) -> Result<Self> {
        let keys = keys(trusted_keys)?;
        let mut opts = marque::audit_file::AuditFileOptions::default();
        if let Some(o) = options {
            if let Some(n) = o.max_bytes {
                opts.max_bytes = whole("maxBytes", n)?;
            }
            match o.fsync {
                None => {}
                Some(napi::Either::A(s)) => opts.fsync = marque::audit_file::AuditFileOptions::parse_fsync(&s).or_throw()?,
                Some(napi::Either::B(n)) => {
                    let n = whole("fsync", n)?;
                    opts.fsync = marque::audit_file::AuditFileOptions::parse_fsync(&n.to_string()).or_throw()?
                }
            }
        }
        let log = no_panic(|| marque::audit_file::AuditFile::open(&path, &keys, opts).or_throw())?;
        Ok(AuditFile { inner: RefCell::new(Some(log)), path })
    }
    /// Signs `event` (the snake_case object of `docs/AUDIT.md`, or its JSON text) and writes it
    /// as the next entry; returns the entry.
    #[napi]
    pub fn append(
        &self,
        signer: SignerInput,
        #[napi(ts_arg_type = "AuditEventInit | string")] event: JsonInput,
    ) -> Result<Envelope> {
        let event = marque::AuditEvent::from_json(&event.0).or_throw()?;
        self.append_event(signer, event)
    }
    /// Records an authorization decision (`Decision::to_audit_event`), like
    /// `AuditLog.appendDecision`.
    #[napi]
    pub fn append_decision(&self, signer: SignerInput, decision: &Decision, event_type: Option<String>) -> Result<Envelope> {
        let mut event = decision.core().to_audit_event();
        if let Some(t) = event_type {
            event.event_type = t;
        }
        self.append_event(signer, event)
    }
    /// Forces written entries to stable storage now.
    #[napi]
    pub fn sync(&self) -> Result<()> {
        self.with(|log| log.sync().or_throw())
    }
    /// Syncs and closes the file, releasing the path for another writer. Idempotent.
    #[napi]
    pub fn close(&self) -> Result<()> {
        let mut guard = self.inner.try_borrow_mut().map_err(|_| invalid_argument("the audit file is in use by an append in progress"))?;
        guard.take();
        Ok(())
    }
    /// Digest (hex) of the last entry (64 zeros when empty): keep it as `expectedHead`.
    #[napi(getter)]
    pub fn head(&self) -> Result<String> {
        self.with(|log| Ok(log.head()))
    }
    /// The `seq` the next entry gets.
    #[napi(getter)]
    pub fn next_seq(&self) -> Result<f64> {
        self.with(|log| Ok(log.next_seq() as f64))
    }
    /// The path of the current file.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.path.clone()
    }
    /// Every file of the log in chain order (rotated files oldest first, then the current one).
    #[napi]
    pub fn files(&self) -> Result<Vec<String>> {
        self.with(|log| Ok(log.files().or_throw()?.iter().map(|p| p.display().to_string()).collect()))
    }
    /// Entries verified in the current file when it was opened.
    #[napi(getter)]
    pub fn opened_entries(&self) -> Result<f64> {
        self.with(|log| Ok(log.opened().entries as f64))
    }
    /// The torn last line set aside when opening, or `null`.
    #[napi(getter)]
    pub fn torn(&self) -> Result<Option<AuditTornTail>> {
        self.with(|log| {
            Ok(log.opened().torn.as_ref().map(|t| AuditTornTail {
                offset: t.offset as f64,
                bytes: t.bytes as f64,
                side_file: t.side_file.display().to_string(),
                reason: t.reason.clone(),
            }))
        })
    }
}

/// Verifies a log kept in one file or in rotated files (oldest first, e.g. `auditFile.files()`)
/// as one chain, streaming (constant memory).
#[napi]
pub fn verify_audit_files(paths: Vec<String>, trusted_keys: Vec<KeyInput>, options: Option<AuditVerifyOptions>) -> Result<AuditReport> {
    let keys = keys(trusted_keys)?;
    if paths.is_empty() {
        return Err(invalid_argument("verifyAuditFiles needs at least one path"));
    }
    let head = options.and_then(|o| o.expected_head);
    no_panic(|| {
        marque::audit_file::verify_files(&paths, &keys, head.as_deref())
            .or_throw()
            .map(|r| AuditReport::from_core(&r))
    })
}
