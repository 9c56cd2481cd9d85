//! `AuditLog` and `Envelope` (the core's `audit` module): signed, hash-chained audit entries
//! (RFC 8785 canonical JSON, Ed25519), one per JSONL line; verification reports the first
//! broken, reordered, removed or forged entry.

use std::cell::RefCell;

use marque::audit::{AuditEvent, Envelope as CoreEnvelope};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::convert::{array, json_text, string, to_js, Options};
use crate::errors::{JsError, JsResult};
use crate::keys::{public_key, PublicKey};
use crate::signer::signer as signer_arg;

/// One signed audit entry.
#[wasm_bindgen]
pub struct Envelope {
    inner: CoreEnvelope,
}

/// An append-only audit log in memory (JSONL).
#[wasm_bindgen]
pub struct AuditLog {
    // Interior mutability: arguments are read (which may run user code) before the log is
    // borrowed. Only a JavaScript signer's `sign()` runs while it is borrowed: a re-entrant call
    // from there finds the log busy (an error, so the append fails with `signer_failed`).
    inner: RefCell<marque::AuditLog>,
}

fn keys(v: &JsValue, what: &str) -> JsResult<Vec<marque::PublicKey>> {
    array(v, what)?
        .iter()
        .enumerate()
        .map(|(i, k)| public_key(k, &format!("{what}[{i}]")))
        .collect()
}

fn parse_json(text: &str) -> JsResult<JsValue> {
    js_sys::JSON::parse(text).map_err(|_| {
        JsError::new(
            marque::ErrorKind::Internal,
            "the core wrote JSON that does not parse",
        )
    })
}

#[derive(Serialize)]
struct ReportJs<'a> {
    ok: bool,
    entries: u64,
    head: &'a str,
    problem: Option<ProblemJs<'a>>,
}
#[derive(Serialize)]
struct ProblemJs<'a> {
    index: u64,
    kind: &'static str,
    message: &'a str,
}

fn report(r: &marque::VerifyReport) -> JsResult<JsValue> {
    to_js(&ReportJs {
        ok: r.ok,
        entries: r.entries,
        head: &r.head,
        problem: r.problem.as_ref().map(|p| ProblemJs {
            index: p.index,
            kind: p.kind.code(),
            message: &p.message,
        }),
    })
}

#[wasm_bindgen]
impl Envelope {
    /// Parses one envelope (one JSONL line). Does not verify it.
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(json: JsValue) -> JsResult<Envelope> {
        Ok(Envelope {
            inner: CoreEnvelope::from_json(&string(&json, "json")?)?,
        })
    }
    /// RFC 8785 canonical JSON (what the log stores).
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// The event (snake_case wire form).
    #[wasm_bindgen(getter)]
    pub fn event(&self) -> JsResult<JsValue> {
        parse_json(&self.inner.event().to_json()?)
    }
    /// Sequence number, from 0.
    #[wasm_bindgen(getter)]
    pub fn seq(&self) -> f64 {
        self.inner.seq() as f64
    }
    /// Digest (hex) of the previous entry (64 zeros for the first).
    #[wasm_bindgen(getter)]
    pub fn prev(&self) -> String {
        self.inner.prev()
    }
    /// This entry's digest (the next entry's `prev`).
    #[wasm_bindgen(getter)]
    pub fn digest(&self) -> String {
        self.inner.digest()
    }
    /// The signer's public key.
    #[wasm_bindgen(getter)]
    pub fn signer(&self) -> PublicKey {
        PublicKey {
            inner: *self.inner.signer(),
        }
    }
    /// The signer's key fingerprint.
    #[wasm_bindgen(getter, js_name = signerFingerprint)]
    pub fn signer_fingerprint(&self) -> String {
        self.inner.signer_fingerprint().to_string()
    }
    /// The signature, base64url.
    #[wasm_bindgen(getter)]
    pub fn signature(&self) -> String {
        self.inner.signature().to_base64()
    }
    /// Checks the signature by one of `trustedKeys`; throws `invalid_signature` otherwise.
    pub fn verify(&self, trusted_keys: JsValue) -> JsResult<()> {
        Ok(self.inner.verify(&keys(&trusted_keys, "trustedKeys")?)?)
    }
    /// OpenTelemetry log attributes of the event.
    #[wasm_bindgen(js_name = otelAttributes)]
    pub fn otel_attributes(&self) -> JsResult<JsValue> {
        to_js(&self.inner.otel_attributes())
    }
}

impl AuditLog {
    fn append_event(&self, signer: &dyn marque::Signer, event: AuditEvent) -> JsResult<Envelope> {
        let mut log = self
            .inner
            .try_borrow_mut()
            .map_err(|_| JsError::new(marque::ErrorKind::Internal, "the audit log is busy"))?;
        Ok(Envelope {
            inner: log.append(signer, event)?,
        })
    }
    fn verify_report(
        &self,
        trusted_keys: &JsValue,
        options: &JsValue,
    ) -> JsResult<marque::VerifyReport> {
        let keys = keys(trusted_keys, "trustedKeys")?;
        let mut o = Options::optional(options, "audit verify options")?;
        let head = o.opt_string("expectedHead")?;
        o.finish()?;
        let log = self
            .inner
            .try_borrow()
            .map_err(|_| JsError::new(marque::ErrorKind::Internal, "the audit log is busy"))?;
        Ok(log.verify(&keys, head.as_deref()))
    }
    fn log(&self) -> JsResult<std::cell::Ref<'_, marque::AuditLog>> {
        self.inner
            .try_borrow()
            .map_err(|_| JsError::new(marque::ErrorKind::Internal, "the audit log is busy"))
    }
}

#[wasm_bindgen]
impl AuditLog {
    /// An empty log.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> AuditLog {
        AuditLog {
            inner: RefCell::new(marque::AuditLog::new()),
        }
    }
    /// Reads JSONL. Never fails: a damaged log can still be verified, and the damage reported.
    #[wasm_bindgen(js_name = fromJsonl)]
    pub fn from_jsonl(text: JsValue) -> JsResult<AuditLog> {
        Ok(AuditLog {
            inner: RefCell::new(marque::AuditLog::from_jsonl(&string(&text, "text")?)),
        })
    }
    /// The log as JSONL.
    #[wasm_bindgen(js_name = toJsonl)]
    pub fn to_jsonl(&self) -> JsResult<String> {
        Ok(self.log()?.to_jsonl())
    }
    /// Signs `event` (the snake_case object of docs/AUDIT.md, or its JSON text) and appends it.
    pub fn append(&self, signer: JsValue, event: JsValue) -> JsResult<Envelope> {
        let signer = signer_arg(&signer, "signer")?;
        let event = AuditEvent::from_json(&json_text(&event, "event")?)?;
        self.append_event(signer.get(), event)
    }
    /// Records an authorization decision (a `Decision` from `authorize`) with the core's mapping
    /// (`Decision::to_audit_event`); event type `"authorization"` unless `eventType` is given.
    #[wasm_bindgen(js_name = appendDecision)]
    pub fn append_decision(
        &self,
        signer: JsValue,
        decision: JsValue,
        event_type: JsValue,
    ) -> JsResult<Envelope> {
        let signer = signer_arg(&signer, "signer")?;
        let decision = marque::Decision::from_json(&json_text(&decision, "decision")?)?;
        let mut event = decision.to_audit_event();
        if !event_type.is_undefined() && !event_type.is_null() {
            event.event_type = string(&event_type, "eventType")?;
        }
        self.append_event(signer.get(), event)
    }
    /// Number of entries.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> JsResult<u32> {
        Ok(self.log()?.len() as u32)
    }
    /// Digest (hex) of the last entry (64 zeros when empty).
    #[wasm_bindgen(getter)]
    pub fn head(&self) -> JsResult<String> {
        Ok(self.log()?.head()?)
    }
    /// The entries (throws when a line is not a well-formed envelope).
    pub fn envelopes(&self) -> JsResult<Vec<Envelope>> {
        let log = self.log()?;
        let all = log
            .envelopes()
            .map(|e| e.map(|inner| Envelope { inner }))
            .collect::<marque::Result<Vec<_>>>()?;
        Ok(all)
    }
    /// Verifies every signature (by one of `trustedKeys`) and the chain: `{ok, entries, head,
    /// problem}`, where `problem` names the first bad entry and what is wrong with it.
    pub fn verify(&self, trusted_keys: JsValue, options: JsValue) -> JsResult<JsValue> {
        report(&self.verify_report(&trusted_keys, &options)?)
    }
    /// Like `verify`, but a broken log throws `audit_chain_broken` naming the entry.
    #[wasm_bindgen(js_name = verifyOrThrow)]
    pub fn verify_or_throw(&self, trusted_keys: JsValue, options: JsValue) -> JsResult<JsValue> {
        report(&self.verify_report(&trusted_keys, &options)?.into_result()?)
    }
}
