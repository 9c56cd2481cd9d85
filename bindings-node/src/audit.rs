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
