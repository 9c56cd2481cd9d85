//! Signed audit events, envelopes and hash-chained audit logs.
//!
//! An [`AuditEvent`] records one decision (who, on whose behalf, which tool and resource, allowed
//! or denied, under which policy, when). An [`Envelope`] wraps an event with the signer's public
//! key and fingerprint, a sequence number `seq` and `prev`, the SHA-256 digest of the previous
//! envelope, and an Ed25519 signature over `"marque-audit/1\n"` followed by the RFC 8785
//! canonical JSON of the envelope without its `sig` member; [`Envelope::to_json`] is canonical
//! JSON too. An [`AuditLog`] is a sequence of envelopes, one per line (JSONL). Verification
//! ([`AuditLog::verify`], or [`verify_jsonl_reader`] to stream a large file in constant memory)
//! checks every signature (in batches) and the chain, and reports the first bad entry and what
//! is wrong with it: a [`ProblemKind`] such as `edited_entry`, `removed_entry` or
//! `truncated_tail`. The classification rules are written down in `docs/AUDIT.md`. Events also
//! map onto OpenTelemetry log attributes ([`AuditEvent::otel_attributes`]).
//!
//! ```
//! use marque::{AuditEvent, AuditLog, KeyPair, ProblemKind};
//! use marque::audit::AuditDecision;
//! let signer = KeyPair::from_seed(&[1; 32]);
//! let mut log = AuditLog::new();
//! for (i, tool) in ["read_file", "write_file"].iter().enumerate() {
//!     let event = AuditEvent::new("tool_call", "agent:reviewer", *tool, "src/lib.rs",
//!         AuditDecision::Allow, 1_700_000_000 + i as u64).principal("user:alice");
//!     log.append(&signer, event)?;
//! }
//! let report = log.verify(&[signer.public_key()], None);
//! assert!(report.ok);
//! assert_eq!(report.entries, 2);
//!
//! // Change the resource of the first entry: verification names the entry and the problem.
//! let tampered = log.to_jsonl().replacen("src/lib.rs", "src/main.rs", 1);
//! let report = AuditLog::from_jsonl(&tampered).verify(&[signer.public_key()], None);
//! let problem = report.problem.clone().unwrap();
//! assert_eq!((problem.index, problem.kind), (0, ProblemKind::EditedEntry));
//! assert_eq!(report.into_result().unwrap_err().code(), "audit_chain_broken");
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use crate::audit_usage::Usage;
use crate::error::{sanitize, Error, ErrorKind, Result};
use crate::jcs;
use crate::keys::{hex_decode, hex_encode, verify_many, PublicKey, Signature};

/// Domain-separation prefix of every envelope signature (and digest).
pub const DOMAIN: &str = "marque-audit/1\n";

/// The `prev` of the first envelope of a log, and the head of an empty log: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Default cap on one JSONL line when streaming a log (1 MiB).
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

/// OpenTelemetry `EventName` of the log record an audit event maps onto.
pub const OTEL_EVENT_NAME: &str = "marque.audit";

/// Signatures are checked with batch verification, this many at a time.
const CHUNK: usize = 128;

/// Allowed or denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditDecision {
    /// The action was allowed.
    Allow,
    /// The action was denied.
    Deny,
}

impl AuditDecision {
    /// `"allow"` or `"deny"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditDecision::Allow => "allow",
            AuditDecision::Deny => "deny",
        }
    }
}

impl fmt::Display for AuditDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audited event. Unknown members are refused when parsing: anything extra belongs in
/// `attributes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    /// What happened, e.g. `"tool_call"`, `"delegation"`, `"revocation"`.
    pub event_type: String,
    /// The acting agent (the last hop of the delegation chain).
    pub agent_id: String,
    /// Fingerprint of the acting agent's key (`ed25519:…`).
    pub agent_key_fingerprint: String,
    /// Agent ids of the delegation chain, root first.
    #[serde(default)]
    pub chain: Vec<String>,
    /// On whose behalf (`user:alice`).
    pub principal: String,
    /// The task, when the token names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The tool (or other action) attempted.
    pub action: String,
    /// The operation on the tool (`read`, `write`, …), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The resource the action touched.
    pub resource: String,
    /// Allowed or denied.
    pub decision: AuditDecision,
    /// The policy that decided.
    pub policy_id: String,
    /// The policy's version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    /// When, in seconds since the Unix epoch (at most 2^53 − 1).
    pub timestamp: u64,
    /// Revocation id (hex) of the last block of the token used, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// A human approval attached to the decision, as given.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "jcs::strict_opt_map"
    )]
    pub approval: Option<Map<String, Value>>,
    /// Anything else worth recording (exported to OpenTelemetry under the same names).
    #[serde(default, deserialize_with = "jcs::strict_map")]
    pub attributes: Map<String, Value>,
    /// Tokens, model and cost attributed to the event ([`Usage`]), when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl AuditEvent {
    /// An event with the required members; chain each optional member on with the builders.
    /// `agent_key_fingerprint`, `principal` and `policy_id` start empty.
    pub fn new(
        event_type: impl Into<String>,
        agent_id: impl Into<String>,
        action: impl Into<String>,
        resource: impl Into<String>,
        decision: AuditDecision,
        timestamp: u64,
    ) -> Self {
        AuditEvent {
            event_type: event_type.into(),
            agent_id: agent_id.into(),
            agent_key_fingerprint: String::new(),
            chain: Vec::new(),
            principal: String::new(),
            task: None,
            action: action.into(),
            operation: None,
            resource: resource.into(),
            decision,
            policy_id: String::new(),
            policy_version: None,
            timestamp,
            token_id: None,
            approval: None,
            attributes: Map::new(),
            usage: None,
        }
    }

    /// Sets `agent_key_fingerprint` from the acting agent's key.
    pub fn agent_key(mut self, key: &PublicKey) -> Self {
        self.agent_key_fingerprint = key.fingerprint();
        self
    }
    /// Sets `principal`.
    pub fn principal(mut self, principal: impl Into<String>) -> Self {
        self.principal = principal.into();
        self
    }
    /// Sets the delegation chain (agent ids, root first).
    pub fn chain<I: IntoIterator<Item = S>, S: Into<String>>(mut self, chain: I) -> Self {
        self.chain = chain.into_iter().map(Into::into).collect();
        self
    }
    /// Sets `task`.
    pub fn task(mut self, task: impl Into<String>) -> Self {
        self.task = Some(task.into());
        self
    }
    /// Sets `operation`.
    pub fn operation(mut self, operation: impl Into<String>) -> Self {
        self.operation = Some(operation.into());
        self
    }
    /// Sets `policy_id` and, when given, `policy_version`.
    pub fn policy(mut self, id: impl Into<String>, version: Option<&str>) -> Self {
        self.policy_id = id.into();
        self.policy_version = version.map(Into::into);
        self
    }
    /// Sets `token_id`.
    pub fn token_id(mut self, token_id: impl Into<String>) -> Self {
        self.token_id = Some(token_id.into());
        self
    }
    /// Sets `approval`.
    pub fn approval(mut self, approval: Map<String, Value>) -> Self {
        self.approval = Some(approval);
        self
    }
    /// Sets `usage` (checked when the event is serialized or signed).
    pub fn usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }
    /// Adds one attribute.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }

    /// Parses an event from JSON (duplicate members and unknown members refused).
    pub fn from_json(json: &str) -> Result<Self> {
        let event: AuditEvent = serde_json::from_str(json).map_err(|e| {
            Error::invalid_argument(format!("not an audit event: {}", crate::options::explain_serde(&e.to_string())))
        })?;
        event.check()?;
        Ok(event)
    }

    /// The event as RFC 8785 canonical JSON.
    pub fn to_json(&self) -> Result<String> {
        self.check()?;
        self.canonical()
    }

    fn check(&self) -> Result<()> {
        if self.timestamp > jcs::MAX_SAFE_INTEGER {
            return Err(Error::invalid_argument(format!(
                "event timestamp {} is beyond 2^53 - 1 and would not survive JSON",
                self.timestamp
            )));
        }
        if let Some(usage) = &self.usage {
            usage.check()?;
        }
        Ok(())
    }

    fn canonical(&self) -> Result<String> {
        let value = serde_json::to_value(self)
            .map_err(|e| Error::internal(format!("audit event does not serialize: {e}")))?;
        jcs::canonicalize(&value)
    }

    /// OpenTelemetry log-record attributes for this event.
    ///
    /// Semantic-convention names where one exists (`gen_ai.agent.id`, `gen_ai.agent.name`,
    /// `gen_ai.tool.name`, `gen_ai.operation.name` = `execute_tool` for `tool_call` events,
    /// `enduser.id`; with [`Usage`], `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`,
    /// `gen_ai.request.model` and `marque.usage.cost_usd_micros`), `marque.*` for the rest; `attributes` are passed through under their own
    /// names unless they collide with one of these. The event name goes in the log record's
    /// `EventName` field ([`OTEL_EVENT_NAME`]), the time in its `Timestamp`
    /// ([`otel_time_unix_nano`](Self::otel_time_unix_nano)). The table is in `docs/AUDIT.md`.
    pub fn otel_attributes(&self) -> BTreeMap<String, Value> {
        let mut m: BTreeMap<String, Value> =
            self.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut put = |k: &str, v: Value| {
            m.insert(k.into(), v);
        };
        put("gen_ai.agent.id", self.agent_id.as_str().into());
        put("gen_ai.agent.name", crate::identity::agent_name(&self.agent_id).into());
        if self.event_type == "tool_call" {
            put("gen_ai.operation.name", "execute_tool".into());
        }
        put("gen_ai.tool.name", self.action.as_str().into());
        put("enduser.id", self.principal.as_str().into());
        put("marque.event.type", self.event_type.as_str().into());
        put("marque.agent.key_fingerprint", self.agent_key_fingerprint.as_str().into());
        put("marque.delegation.chain", self.chain.clone().into());
        put("marque.resource", self.resource.as_str().into());
        put("marque.decision", self.decision.as_str().into());
        put("marque.policy.id", self.policy_id.as_str().into());
        let optional = [
            ("marque.task", &self.task),
            ("marque.operation", &self.operation),
            ("marque.policy.version", &self.policy_version),
            ("marque.token.id", &self.token_id),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                put(k, v.as_str().into());
            }
        }
        if let Some(approval) = &self.approval {
            put("marque.approval", Value::Object(approval.clone()));
        }
        if let Some(usage) = &self.usage {
            m.extend(usage.otel_attributes());
        }
        m
    }

    /// OpenTelemetry `SeverityNumber`: 9 (INFO) for an allowed action, 13 (WARN) for a denial.
    pub fn otel_severity_number(&self) -> u8 {
        match self.decision {
            AuditDecision::Allow => 9,
            AuditDecision::Deny => 13,
        }
    }

    /// The log record's `Timestamp`, in nanoseconds since the Unix epoch.
    pub fn otel_time_unix_nano(&self) -> u64 {
        self.timestamp.saturating_mul(1_000_000_000)
    }
}

/// The wire form of an envelope, as parsed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeWire {
    event: AuditEvent,
    prev: String,
    seq: u64,
    sig: String,
    signer: String,
    signer_fingerprint: String,
}

/// A signed audit event: the event, the signer's key and fingerprint, its place in the log
/// (`seq`, `prev`) and an Ed25519 signature.
///
/// Immutable once built: [`Envelope::sign`] makes one, [`Envelope::from_json`] parses one
/// (without trusting it), [`Envelope::verify`] checks it against trusted keys.
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    event: AuditEvent,
    signer: PublicKey,
    signer_hex: String,
    signer_fingerprint: String,
    seq: u64,
    prev: [u8; 32],
    sig: Signature,
    /// Canonical JSON of the event.
    event_json: String,
    /// `DOMAIN` followed by the canonical JSON of the envelope without `sig`.
    signing_input: Vec<u8>,
    digest: [u8; 32],
}

impl Envelope {
    /// Signs `event` as entry `seq` of a log whose previous entry has digest `prev` (hex;
    /// [`GENESIS`] for the first entry).
    pub fn sign<S: crate::signer::Signer + ?Sized>(signer: &S, event: AuditEvent, seq: u64, prev: &str) -> Result<Envelope> {
        let prev = parse_digest("prev", prev)?;
        check_seq(seq)?;
        event.check()?;
        // A new record's time is seconds (a millisecond timestamp is refused, not recorded).
        crate::clock::check("audit event timestamp", event.timestamp)?;
        // A new record's usage goes in `usage` (validated), never in free-form attributes.
        crate::audit_usage::check_attribute_names(event.attributes.keys())?;
        let public = signer.public_key();
        let event_json = event.canonical()?;
        let signer_hex = public.to_hex();
        let signer_fingerprint = public.fingerprint();
        let signing_input =
            signing_input(&event_json, &prev, seq, &signer_hex, &signer_fingerprint);
        let sig = crate::signer::sign_checked(signer, &signing_input)?;
        let digest = Sha256::digest(&signing_input).into();
        Ok(Envelope {
            event,
            signer: public,
            signer_hex,
            signer_fingerprint,
            seq,
            prev,
            sig,
            event_json,
            signing_input,
            digest,
        })
    }

    /// Parses an envelope from JSON (any formatting; duplicate and unknown members refused).
    /// Nothing is trusted yet: call [`verify`](Self::verify).
    pub fn from_json(json: &str) -> Result<Envelope> {
        Envelope::parse(json, &[])
    }

    /// [`from_json`](Self::from_json), reusing the already decoded key when the signer is one of
    /// `known` (decoding a public key is a large share of the cost of reading an entry).
    fn parse(json: &str, known: &[KnownKey]) -> Result<Envelope> {
        let wire: EnvelopeWire = serde_json::from_str(json).map_err(|e| {
            Error::invalid_argument(format!("not an audit envelope: {}", sanitize(&e.to_string())))
        })?;
        let prev = parse_digest("prev", &wire.prev)?;
        check_seq(wire.seq)?;
        let signer = match known.iter().find(|k| k.hex == wire.signer) {
            Some(k) => k.key,
            None => {
                if !is_lower_hex(&wire.signer, 64) {
                    return Err(Error::invalid_argument("signer must be 64 lowercase hex digits"));
                }
                PublicKey::from_hex(&wire.signer)
                    .map_err(|e| Error::invalid_argument(format!("signer: {}", e.message())))?
            }
        };
        let sig = Signature::from_base64(&wire.sig)
            .map_err(|e| Error::invalid_argument(format!("sig: {}", e.message())))?;
        wire.event.check()?;
        let event_json = wire.event.canonical()?;
        let signing_input =
            signing_input(&event_json, &prev, wire.seq, &wire.signer, &wire.signer_fingerprint);
        let digest = Sha256::digest(&signing_input).into();
        Ok(Envelope {
            event: wire.event,
            signer,
            signer_hex: wire.signer,
            signer_fingerprint: wire.signer_fingerprint,
            seq: wire.seq,
            prev,
            sig,
            event_json,
            signing_input,
            digest,
        })
    }

    /// RFC 8785 canonical JSON of the whole envelope (one JSONL line, without the newline).
    pub fn to_json(&self) -> String {
        body_json(
            &self.event_json,
            &self.prev,
            self.seq,
            Some(&self.sig.to_base64()),
            &self.signer_hex,
            &self.signer_fingerprint,
        )
    }

    /// Checks that the signer is one of `trusted`, that the signature verifies, and that
    /// `signer_fingerprint` is the signer's fingerprint. Says nothing about the envelope's place
    /// in a log: that is [`AuditLog::verify`]'s job.
    pub fn verify(&self, trusted: &[PublicKey]) -> Result<()> {
        if !trusted.contains(&self.signer) {
            return Err(Error::new(
                ErrorKind::InvalidSignature,
                format!(
                    "envelope is signed by {}, which is not a trusted key",
                    self.signer.fingerprint()
                ),
            ));
        }
        self.signer.verify(&self.signing_input, &self.sig)?;
        if !self.fingerprint_matches() {
            return Err(Error::invalid_argument(
                "signer_fingerprint does not match the signer key",
            ));
        }
        Ok(())
    }

    fn fingerprint_matches(&self) -> bool {
        self.signer_fingerprint == self.signer.fingerprint()
    }

    /// The event.
    pub fn event(&self) -> &AuditEvent {
        &self.event
    }
    /// The signer's public key.
    pub fn signer(&self) -> &PublicKey {
        &self.signer
    }
    /// The signer fingerprint as written in the envelope.
    pub fn signer_fingerprint(&self) -> &str {
        &self.signer_fingerprint
    }
    /// Position in the log, from 0.
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// Digest (hex) of the previous envelope, or [`GENESIS`].
    pub fn prev(&self) -> String {
        hex_encode(&self.prev)
    }
    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.sig
    }
    /// The bytes signed: [`DOMAIN`] followed by the canonical JSON of the envelope without `sig`.
    pub fn signing_input(&self) -> &[u8] {
        &self.signing_input
    }
    /// SHA-256 (hex) of [`signing_input`](Self::signing_input): the next envelope's `prev`, and
    /// the log's head when this is the last entry.
    pub fn digest(&self) -> String {
        hex_encode(&self.digest)
    }

    /// SHA-256 digest of the signing input, raw (the durable log's chain head).
    #[cfg(feature = "std")]
    pub(crate) fn digest_bytes(&self) -> [u8; 32] {
        self.digest
    }

    /// The event's OpenTelemetry attributes plus `marque.audit.seq`, `marque.audit.signer`
    /// (fingerprint) and `marque.audit.digest`.
    pub fn otel_attributes(&self) -> BTreeMap<String, Value> {
        let mut m = self.event.otel_attributes();
        m.insert("marque.audit.seq".into(), self.seq.into());
        m.insert("marque.audit.signer".into(), self.signer.fingerprint().into());
        m.insert("marque.audit.digest".into(), self.digest().into());
        m
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("seq", &self.seq)
            .field("prev", &self.prev())
            .field("signer", &self.signer_fingerprint)
            .field("event", &self.event)
            .finish()
    }
}

fn check_seq(seq: u64) -> Result<()> {
    if seq > jcs::MAX_SAFE_INTEGER {
        return Err(Error::invalid_argument("seq is beyond 2^53 - 1"));
    }
    Ok(())
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn parse_digest(what: &str, s: &str) -> Result<[u8; 32]> {
    let bytes = if is_lower_hex(s, 64) { hex_decode(s) } else { None };
    bytes.and_then(|b| b.try_into().ok()).ok_or_else(|| {
        Error::invalid_argument(format!(
            "{what} must be a SHA-256 digest as 64 lowercase hex digits"
        ))
    })
}

/// The canonical JSON of an envelope, assembled member by member (they are listed in RFC 8785
/// order; `prev`, `sig` and `signer` need no escaping once validated).
fn body_json(
    event_json: &str,
    prev: &[u8; 32],
    seq: u64,
    sig: Option<&str>,
    signer_hex: &str,
    signer_fingerprint: &str,
) -> String {
    let sig = sig.map(|s| format!("\"sig\":\"{s}\",")).unwrap_or_default();
    format!(
        "{{\"event\":{event_json},\"prev\":\"{}\",\"seq\":{seq},{sig}\"signer\":\"{signer_hex}\",\"signer_fingerprint\":{}}}",
        hex_encode(prev),
        jcs::quote(signer_fingerprint)
    )
}

fn signing_input(
    event_json: &str,
    prev: &[u8; 32],
    seq: u64,
    signer_hex: &str,
    signer_fingerprint: &str,
) -> Vec<u8> {
    let body = body_json(event_json, prev, seq, None, signer_hex, signer_fingerprint);
    let mut input = Vec::with_capacity(DOMAIN.len() + body.len());
    input.extend_from_slice(DOMAIN.as_bytes());
    input.extend_from_slice(body.as_bytes());
    input
}

/// What is wrong with the first bad entry of a log. Rules: `docs/AUDIT.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// The signature does not verify, and the chain shows the signed body is intact (or the
    /// entry was inserted): the signature itself was forged or replaced.
    ForgedSignature,
    /// The entry is signed by a key that is not trusted.
    UnknownSigner,
    /// The entry was changed after it was signed (its signature fails and the next entry does
    /// not link to it), or replaced by another validly signed entry.
    EditedEntry,
    /// Entries are missing: `seq` jumps and `prev` does not link to the entry before.
    RemovedEntry,
    /// Entries are out of order: a missing `seq` turns up later.
    ReorderedEntries,
    /// An entry repeats a `seq` already seen.
    DuplicateEntry,
    /// The log ends before the expected head: entries were cut from the end.
    TruncatedTail,
    /// The entry is not a well-formed envelope, or its signed members contradict each other.
    MalformedEntry,
}

impl ProblemKind {
    /// Every kind, in a stable order.
    pub const ALL: &'static [ProblemKind] = &[
        ProblemKind::ForgedSignature,
        ProblemKind::UnknownSigner,
        ProblemKind::EditedEntry,
        ProblemKind::RemovedEntry,
        ProblemKind::ReorderedEntries,
        ProblemKind::DuplicateEntry,
        ProblemKind::TruncatedTail,
        ProblemKind::MalformedEntry,
    ];

    /// The stable code, e.g. `"edited_entry"`.
    pub const fn code(self) -> &'static str {
        match self {
            ProblemKind::ForgedSignature => "forged_signature",
            ProblemKind::UnknownSigner => "unknown_signer",
            ProblemKind::EditedEntry => "edited_entry",
            ProblemKind::RemovedEntry => "removed_entry",
            ProblemKind::ReorderedEntries => "reordered_entries",
            ProblemKind::DuplicateEntry => "duplicate_entry",
            ProblemKind::TruncatedTail => "truncated_tail",
            ProblemKind::MalformedEntry => "malformed_entry",
        }
    }

    /// The kind with this code, if any.
    pub fn from_code(code: &str) -> Option<ProblemKind> {
        ProblemKind::ALL.iter().copied().find(|k| k.code() == code)
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The first bad entry of a log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// 0-based index of the entry (blank lines are not counted).
    pub index: u64,
    /// What is wrong.
    pub kind: ProblemKind,
    /// Details for humans.
    pub message: String,
}

/// The outcome of verifying a log. A broken log is a report, not an error; turn it into one with
/// [`into_result`](Self::into_result).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Whether every entry verified and the chain is intact.
    pub ok: bool,
    /// Entries verified: all of them when `ok`, else the index of the first bad entry.
    pub entries: u64,
    /// Digest (hex) of the last verified entry ([`GENESIS`] when there is none). When `ok`, pass
    /// it as `expected_head` next time to detect truncation.
    pub head: String,
    /// The first bad entry, when not `ok`.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    /// `Ok(self)` when the log verified, else an `audit_chain_broken` error naming the entry and
    /// the problem, e.g. `entry 3: edited_entry: …`.
    pub fn into_result(self) -> Result<VerifyReport> {
        match &self.problem {
            None => Ok(self),
            Some(p) => Err(Error::new(
                ErrorKind::AuditChainBroken,
                format!("entry {}: {}: {}", p.index, p.kind, p.message),
            )),
        }
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Options of [`verify_jsonl_reader`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Longest accepted line in bytes; a longer one is a `limits_exceeded` error.
    pub max_line_bytes: usize,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions { max_line_bytes: DEFAULT_MAX_LINE_BYTES }
    }
}

/// An append-only audit log held in memory: one canonical JSON envelope per line.
///
/// Parsing ([`from_jsonl`](Self::from_jsonl)) never fails, so that a damaged log can still be
/// verified and the damage reported by index; appending to a log whose last line does not parse
/// is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditLog {
    lines: Vec<String>,
    tail: Tail,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tail {
    Head { next_seq: u64, digest: [u8; 32] },
    Broken(String),
}

impl Default for AuditLog {
    fn default() -> Self {
        AuditLog { lines: Vec::new(), tail: Tail::Head { next_seq: 0, digest: [0; 32] } }
    }
}

impl AuditLog {
    /// An empty log.
    pub fn new() -> Self {
        AuditLog::default()
    }

    /// Reads a JSONL log. Blank lines are skipped; nothing is verified.
    pub fn from_jsonl(text: &str) -> AuditLog {
        let lines: Vec<String> =
            text.lines().filter(|l| !l.trim().is_empty()).map(ToString::to_string).collect();
        let tail = match lines.last() {
            None => Tail::Head { next_seq: 0, digest: [0; 32] },
            Some(last) => match Envelope::from_json(last) {
                Ok(env) => Tail::Head { next_seq: env.seq.saturating_add(1), digest: env.digest },
                Err(e) => Tail::Broken(e.message().to_string()),
            },
        };
        AuditLog { lines, tail }
    }

    /// The log as JSONL (each line ends with `\n`).
    pub fn to_jsonl(&self) -> String {
        let mut out = String::with_capacity(self.lines.iter().map(|l| l.len() + 1).sum());
        for line in &self.lines {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Signs `event` as the next entry and appends it. Its timestamp must be seconds since the
    /// epoch between 2000 and 2200 ([`crate::clock`]; a millisecond time is `invalid_argument`).
    pub fn append<S: crate::signer::Signer + ?Sized>(&mut self, signer: &S, event: AuditEvent) -> Result<Envelope> {
        let (next_seq, digest) = match &self.tail {
            Tail::Head { next_seq, digest } => (*next_seq, *digest),
            Tail::Broken(why) => {
                return Err(Error::new(
                    ErrorKind::AuditChainBroken,
                    format!("cannot append: the last entry does not parse ({why})"),
                ))
            }
        };
        let env = Envelope::sign(signer, event, next_seq, &hex_encode(&digest))?;
        self.lines.push(env.to_json());
        self.tail = Tail::Head { next_seq: next_seq.saturating_add(1), digest: env.digest };
        Ok(env)
    }

    /// Number of entries (lines).
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the log has no entry.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The raw lines.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The entries, parsed (not verified).
    pub fn envelopes(&self) -> impl Iterator<Item = Result<Envelope>> + '_ {
        self.lines.iter().map(|l| Envelope::from_json(l))
    }

    /// Digest (hex) of the last entry, as appending would chain to it ([`GENESIS`] when empty).
    /// Not verified: use [`verify`](Self::verify)'s report for a trusted head.
    pub fn head(&self) -> Result<String> {
        match &self.tail {
            Tail::Head { digest, .. } => Ok(hex_encode(digest)),
            Tail::Broken(why) => Err(Error::new(
                ErrorKind::AuditChainBroken,
                format!("the last entry does not parse ({why})"),
            )),
        }
    }

    /// Verifies every entry against `trusted` keys and the chain; with `expected_head` (a digest
    /// from an earlier report or from [`head`](Self::head)), also detects a truncated tail.
    pub fn verify(&self, trusted: &[PublicKey], expected_head: Option<&str>) -> VerifyReport {
        let known = known_keys(trusted);
        let mut check = ChainCheck::new(expected_head);
        for chunk in self.lines.chunks(CHUNK) {
            let prepared = chunk.iter().map(|l| prepare(l, &known)).collect();
            if check.feed(prepared) {
                break;
            }
        }
        check.finish()
    }
}

/// Verifies a JSONL log read from `reader`, in constant memory: lines are read one at a time (at
/// most `options.max_line_bytes` each) and signatures are checked in batches. I/O failures are
/// `invalid_argument` errors; an over-long line is `limits_exceeded`; everything wrong with the
/// log itself is in the report.
#[cfg(feature = "std")]
pub fn verify_jsonl_reader<R: std::io::BufRead>(
    reader: R,
    trusted: &[PublicKey],
    expected_head: Option<&str>,
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    verify_jsonl_reader_after(reader, trusted, expected_head, None, options)
}

/// [`verify_jsonl_reader`] for a log segment that continues an earlier one: with `anchor`
/// `(next_seq, prev digest)`, the first entry must have that `seq` and link to that digest
/// (instead of seq 0 and [`GENESIS`]). Used by [`crate::audit_file`] for a rotated file.
#[cfg(feature = "std")]
pub(crate) fn verify_jsonl_reader_after<R: std::io::BufRead>(
    reader: R,
    trusted: &[PublicKey],
    expected_head: Option<&str>,
    anchor: Option<(u64, [u8; 32])>,
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    verify_jsonl_reader_visit(reader, trusted, expected_head, anchor, options, &mut |_| {})
}

/// [`verify_jsonl_reader_after`], handing every well-formed entry by a trusted key to `visit`
/// as it is read. The visited entries are verified only if the report comes back ok: a caller
/// keeps what it gathered only then (as [`crate::audit_report`] does).
#[cfg(feature = "std")]
pub(crate) fn verify_jsonl_reader_visit<R: std::io::BufRead>(
    mut reader: R,
    trusted: &[PublicKey],
    expected_head: Option<&str>,
    anchor: Option<(u64, [u8; 32])>,
    options: &VerifyOptions,
    visit: &mut dyn FnMut(&Envelope),
) -> Result<VerifyReport> {
    use std::io::{BufRead as _, Read as _};
    let cap = options.max_line_bytes;
    let known = known_keys(trusted);
    let mut check = ChainCheck::new(expected_head);
    if let Some((next_seq, last)) = anchor {
        check.walker.next_seq = next_seq;
        check.walker.last = last;
        check.walker.before_last = last;
        check.walker.anchored = true;
    }
    let mut buf = Vec::new();
    let mut batch = Vec::with_capacity(CHUNK);
    let mut line_no: u64 = 0;
    loop {
        buf.clear();
        let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
        let n = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::invalid_argument(format!("cannot read the audit log: {e}")))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        if buf.len() > cap {
            return Err(Error::new(
                ErrorKind::LimitsExceeded,
                format!("line {line_no} of the audit log is longer than {cap} bytes"),
            ));
        }
        let prepared = match core::str::from_utf8(&buf) {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => prepare(line, &known),
            Err(_) => Prepared::Malformed("entry is not UTF-8".into()),
        };
        if let Prepared::Ready(env, _) = &prepared {
            visit(env);
        }
        batch.push(prepared);
        if batch.len() == CHUNK && check.feed(core::mem::take(&mut batch)) {
            return Ok(check.finish());
        }
    }
    check.feed(batch);
    Ok(check.finish())
}

/// A trusted key with its encodings computed once per verification.
struct KnownKey {
    key: PublicKey,
    hex: String,
    fingerprint: String,
}

fn known_keys(trusted: &[PublicKey]) -> Vec<KnownKey> {
    trusted
        .iter()
        .map(|k| KnownKey { key: *k, hex: k.to_hex(), fingerprint: k.fingerprint() })
        .collect()
}

/// One line, parsed as far as the trusted keys allow.
enum Prepared {
    Malformed(String),
    Untrusted(String),
    /// A well-formed entry by a trusted key, and whether its fingerprint member is right.
    Ready(Box<Envelope>, bool),
}

fn prepare(line: &str, known: &[KnownKey]) -> Prepared {
    match Envelope::parse(line, known) {
        Err(e) => Prepared::Malformed(e.message().to_string()),
        Ok(env) => match known.iter().find(|k| k.key == env.signer) {
            None => Prepared::Untrusted(env.signer.fingerprint()),
            Some(k) => {
                let fp_ok = env.signer_fingerprint == k.fingerprint;
                Prepared::Ready(Box::new(env), fp_ok)
            }
        },
    }
}

/// What the chain walk needs to know about one entry.
enum Item {
    Malformed(String),
    Untrusted(String),
    Checked { seq: u64, prev: [u8; 32], digest: [u8; 32], sig_ok: bool, fp_ok: bool },
}

struct ChainCheck {
    walker: Walker,
}

impl ChainCheck {
    fn new(expected_head: Option<&str>) -> Self {
        ChainCheck { walker: Walker::new(expected_head) }
    }

    /// Verifies a batch of signatures, then walks the entries. Returns `true` once the outcome is
    /// decided (a problem was found).
    fn feed(&mut self, prepared: Vec<Prepared>) -> bool {
        let items: Vec<(&PublicKey, &[u8], &Signature)> = prepared
            .iter()
            .filter_map(|p| match p {
                Prepared::Ready(e, _) => Some((&e.signer, e.signing_input.as_slice(), &e.sig)),
                _ => None,
            })
            .collect();
        let mut sig_ok = batch_results(&items).into_iter();
        drop(items);
        for p in prepared {
            let item = match p {
                Prepared::Malformed(m) => Item::Malformed(m),
                Prepared::Untrusted(fp) => Item::Untrusted(fp),
                Prepared::Ready(e, fp_ok) => Item::Checked {
                    seq: e.seq,
                    prev: e.prev,
                    digest: e.digest,
                    sig_ok: sig_ok.next().unwrap_or(false),
                    fp_ok,
                },
            };
            if self.walker.push(item) {
                return true;
            }
        }
        false
    }

    fn finish(self) -> VerifyReport {
        self.walker.finish()
    }
}

/// Per-item signature validity, using batch verification and re-batching after each failure.
fn batch_results(items: &[(&PublicKey, &[u8], &Signature)]) -> Vec<bool> {
    let mut ok = vec![true; items.len()];
    let mut start = 0;
    while let Some(rest) = items.get(start..) {
        if rest.is_empty() {
            break;
        }
        match verify_many(rest) {
            Ok(()) => break,
            Err(k) => {
                if let Some(slot) = ok.get_mut(start + k) {
                    *slot = false;
                }
                start += k + 1;
            }
        }
    }
    ok
}

/// Expected head as given by the caller: absent, a digest, or text that is not a digest.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expected {
    None,
    Digest([u8; 32]),
    Invalid,
}

enum Pending {
    None,
    /// Entry `index` has a bad signature; the next entry (or the expected head) tells whether its
    /// body was edited.
    BadSig {
        index: u64,
        prev: [u8; 32],
        digest: [u8; 32],
        head: [u8; 32],
    },
    /// Entry `index` skipped seqs `from..to`; the next anomaly tells whether they were moved
    /// (reordered) or removed.
    Gap {
        index: u64,
        from: u64,
        to: u64,
        head: [u8; 32],
    },
}

enum Verdict {
    Ok,
    Fail { index: u64, kind: ProblemKind, message: String, head: [u8; 32] },
    BadSig,
    Gap { from: u64, to: u64 },
}

/// The chain walk: a constant-size state machine fed one entry at a time, in order.
struct Walker {
    expected: Expected,
    head_seen: bool,
    index: u64,
    next_seq: u64,
    last: [u8; 32],
    before_last: [u8; 32],
    pending: Pending,
    outcome: Option<(Problem, [u8; 32])>,
    /// The walk continues an earlier segment (first entry need not be seq 0 / genesis).
    anchored: bool,
}

impl Walker {
    fn new(expected_head: Option<&str>) -> Self {
        let expected = match expected_head {
            None => Expected::None,
            Some(h) => match parse_digest("expected head", &h.trim().to_ascii_lowercase()) {
                Ok(d) => Expected::Digest(d),
                Err(_) => Expected::Invalid,
            },
        };
        Walker {
            expected,
            head_seen: expected == Expected::Digest([0; 32]),
            index: 0,
            next_seq: 0,
            last: [0; 32],
            before_last: [0; 32],
            pending: Pending::None,
            outcome: None,
            anchored: false,
        }
    }

    fn classify(&self, i: u64, item: &Item) -> Verdict {
        let fail =
            |kind, message: String| Verdict::Fail { index: i, kind, message, head: self.last };
        let (seq, prev) = match item {
            Item::Malformed(m) => {
                return fail(
                    ProblemKind::MalformedEntry,
                    format!("not a valid audit envelope: {m}"),
                )
            }
            Item::Untrusted(fp) => {
                return fail(
                    ProblemKind::UnknownSigner,
                    format!("signed by {fp}, which is not a trusted key"),
                )
            }
            Item::Checked { sig_ok: false, .. } => return Verdict::BadSig,
            Item::Checked { fp_ok: false, .. } => {
                return fail(
                    ProblemKind::MalformedEntry,
                    "signer_fingerprint does not match the signer key".into(),
                )
            }
            Item::Checked { seq, prev, .. } => (*seq, *prev),
        };
        let expected = self.next_seq;
        let linked = prev == self.last;
        if seq == expected && linked {
            Verdict::Ok
        } else if seq == expected && i == 0 && self.anchored {
            fail(
                ProblemKind::EditedEntry,
                format!("the first entry (seq {seq}) does not link to the last entry of the previous file"),
            )
        } else if seq == expected && i == 0 {
            fail(
                ProblemKind::MalformedEntry,
                "the first entry has seq 0 but a non-zero prev".into(),
            )
        } else if seq == expected {
            Verdict::Fail {
                index: i - 1,
                kind: ProblemKind::EditedEntry,
                message: format!(
                    "entry {i} (seq {seq}) links to a different entry {}: this one was replaced or re-signed",
                    i - 1
                ),
                head: self.before_last,
            }
        } else if seq > expected && linked {
            fail(
                ProblemKind::MalformedEntry,
                format!(
                    "seq jumps from {expected} to {seq} while prev links to the previous entry"
                ),
            )
        } else if seq > expected {
            Verdict::Gap { from: expected, to: seq }
        } else {
            fail(
                ProblemKind::DuplicateEntry,
                format!("seq {seq} was already used (expected {expected})"),
            )
        }
    }

    /// Feeds the next entry; returns `true` once the outcome is decided.
    fn push(&mut self, item: Item) -> bool {
        let i = self.index;
        self.index += 1;
        let verdict = self.classify(i, &item);
        match core::mem::replace(&mut self.pending, Pending::None) {
            Pending::BadSig { index, prev, digest, head } => {
                let (kind, why) = match &item {
                    Item::Checked { prev: p, .. } if *p == digest => (
                        ProblemKind::ForgedSignature,
                        "the next entry links to its body, so the body is intact and the signature is not",
                    ),
                    Item::Checked { prev: p, .. } if *p == prev => (
                        ProblemKind::ForgedSignature,
                        "the next entry links to the same predecessor: the entry was inserted",
                    ),
                    Item::Checked { .. } => (
                        ProblemKind::EditedEntry,
                        "the next entry does not link to it: it was changed after signing",
                    ),
                    _ => (ProblemKind::ForgedSignature, "the next entry cannot tell more"),
                };
                self.fail(index, kind, format!("signature does not verify; {why}"), head)
            }
            Pending::Gap { index, from, to, head } => match verdict {
                Verdict::Ok => {
                    self.pending = Pending::Gap { index, from, to, head };
                    self.accept(&item);
                    false
                }
                _ => {
                    let moved = matches!(item, Item::Checked { seq, sig_ok: true, fp_ok: true, .. }
                        if (from..to).contains(&seq));
                    if moved {
                        self.fail(
                            index,
                            ProblemKind::ReorderedEntries,
                            format!("entries are out of order: seq {from}..{to} was skipped here and turns up later"),
                            head,
                        )
                    } else {
                        self.fail(index, ProblemKind::RemovedEntry, missing(from, to), head)
                    }
                }
            },
            Pending::None => match verdict {
                Verdict::Ok => {
                    self.accept(&item);
                    false
                }
                Verdict::Fail { index, kind, message, head } => {
                    self.fail(index, kind, message, head)
                }
                Verdict::BadSig => {
                    if let Item::Checked { prev, digest, .. } = item {
                        self.pending = Pending::BadSig { index: i, prev, digest, head: self.last };
                    }
                    false
                }
                Verdict::Gap { from, to } => {
                    self.pending = Pending::Gap { index: i, from, to, head: self.last };
                    self.accept(&item);
                    false
                }
            },
        }
    }

    fn accept(&mut self, item: &Item) {
        if let Item::Checked { seq, digest, .. } = item {
            self.before_last = self.last;
            self.last = *digest;
            self.next_seq = seq.saturating_add(1);
            if self.expected == Expected::Digest(*digest) {
                self.head_seen = true;
            }
        }
    }

    fn fail(&mut self, index: u64, kind: ProblemKind, message: String, head: [u8; 32]) -> bool {
        self.outcome = Some((Problem { index, kind, message }, head));
        true
    }

    fn finish(mut self) -> VerifyReport {
        match core::mem::replace(&mut self.pending, Pending::None) {
            Pending::BadSig { index, digest, head, .. } => {
                let edited = match self.expected {
                    Expected::Digest(h) => !self.head_seen && h != digest,
                    Expected::Invalid => true,
                    Expected::None => false,
                };
                let (kind, why) = if edited {
                    (ProblemKind::EditedEntry, "its body does not match the expected head")
                } else {
                    (
                        ProblemKind::ForgedSignature,
                        "it is the last entry (pass the expected head to tell an edit)",
                    )
                };
                self.fail(index, kind, format!("signature does not verify; {why}"), head);
            }
            Pending::Gap { index, from, to, head } => {
                self.fail(index, ProblemKind::RemovedEntry, missing(from, to), head);
            }
            Pending::None => {}
        }
        if self.outcome.is_none() && self.expected != Expected::None && !self.head_seen {
            let message = match self.expected {
                Expected::Invalid => "the expected head is not a 64-hex-digit digest".into(),
                _ => format!(
                    "the log ends at {} and never reaches the expected head: entries were cut from the end",
                    hex_encode(&self.last)
                ),
            };
            let (index, last) = (self.index, self.last);
            self.fail(index, ProblemKind::TruncatedTail, message, last);
        }
        match self.outcome {
            Some((problem, head)) => VerifyReport {
                ok: false,
                entries: problem.index,
                head: hex_encode(&head),
                problem: Some(problem),
            },
            None => VerifyReport {
                ok: true,
                entries: self.index,
                head: hex_encode(&self.last),
                problem: None,
            },
        }
    }
}

fn missing(from: u64, to: u64) -> String {
    if to == from + 1 {
        format!("the entry with seq {from} is missing")
    } else {
        format!("entries with seq {from} to {} are missing", to - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;

    fn event(i: u64) -> AuditEvent {
        AuditEvent::new(
            "tool_call",
            "agent:a",
            "read_file",
            format!("src/{i}.rs"),
            AuditDecision::Allow,
            1_700_000_000 + i,
        )
        .principal("user:alice")
        .policy("default", Some("1"))
    }

    #[test]
    fn canonical_assembly_matches_jcs() {
        let kp = KeyPair::from_seed(&[3; 32]);
        let env =
            Envelope::sign(&kp, event(1).attribute("z\"q", 1.5).task("t"), 7, GENESIS).unwrap();
        let generic = jcs::canonicalize_str(&env.to_json()).unwrap();
        assert_eq!(env.to_json(), generic);
        let body = core::str::from_utf8(&env.signing_input()[DOMAIN.len()..]).unwrap();
        let mut v = jcs::parse_strict(&env.to_json()).unwrap();
        v.as_object_mut().unwrap().remove("sig");
        assert_eq!(body, jcs::canonicalize(&v).unwrap());
        let again = Envelope::from_json(&env.to_json()).unwrap();
        assert_eq!(again, env);
        again.verify(&[kp.public_key()]).unwrap();
    }

    #[test]
    fn walker_rules() {
        let kp = KeyPair::from_seed(&[4; 32]);
        let mut log = AuditLog::new();
        for i in 0..4 {
            log.append(&kp, event(i)).unwrap();
        }
        let keys = [kp.public_key()];
        let lines = log.lines().to_vec();
        let check = |ls: &[&String], head: Option<&str>| {
            let text: String = ls.iter().map(|l| format!("{l}\n")).collect();
            let r = AuditLog::from_jsonl(&text).verify(&keys, head);
            r.problem.map(|p| (p.index, p.kind))
        };
        let [a, b, c, d] = [&lines[0], &lines[1], &lines[2], &lines[3]];
        assert_eq!(check(&[a, b, c, d], None), None);
        assert_eq!(check(&[a, c, d], None), Some((1, ProblemKind::RemovedEntry)));
        assert_eq!(check(&[b, c, d], None), Some((0, ProblemKind::RemovedEntry)));
        assert_eq!(check(&[a, c, b, d], None), Some((1, ProblemKind::ReorderedEntries)));
        assert_eq!(check(&[a, c, d, b], None), Some((1, ProblemKind::ReorderedEntries)));
        assert_eq!(check(&[a, b, b, c, d], None), Some((2, ProblemKind::DuplicateEntry)));
        assert_eq!(check(&[a, b, c, d, a], None), Some((4, ProblemKind::DuplicateEntry)));
        let head = log.head().unwrap();
        assert_eq!(check(&[a, b, c], Some(&head)), Some((3, ProblemKind::TruncatedTail)));
        assert_eq!(check(&[a, b, c, d], Some(&head)), None);
        assert_eq!(check(&[a, b, c, d], Some(&head.to_uppercase())), None);
        assert_eq!(check(&[a, b, c, d], Some("zz")), Some((4, ProblemKind::TruncatedTail)));
        // A head recorded earlier still verifies a log that has grown since.
        let old_head = Envelope::from_json(b).unwrap().digest();
        assert_eq!(check(&[a, b, c, d], Some(&old_head)), None);
        assert_eq!(check(&[], Some(GENESIS)), None);
        assert_eq!(check(&[], Some(&head)), Some((0, ProblemKind::TruncatedTail)));
    }

    #[test]
    fn report_into_result() {
        let r = VerifyReport { ok: true, entries: 0, head: GENESIS.into(), problem: None };
        assert!(r.clone().into_result().is_ok());
        let bad = VerifyReport {
            ok: false,
            entries: 3,
            head: GENESIS.into(),
            problem: Some(Problem {
                index: 3,
                kind: ProblemKind::EditedEntry,
                message: "x".into(),
            }),
        };
        let e = bad.into_result().unwrap_err();
        assert_eq!(e.code(), "audit_chain_broken");
        assert!(e.message().starts_with("entry 3: edited_entry"));
        for k in ProblemKind::ALL {
            assert_eq!(ProblemKind::from_code(k.code()), Some(*k));
            assert_eq!(serde_json::to_value(k).unwrap(), Value::String(k.code().into()));
        }
    }
}
