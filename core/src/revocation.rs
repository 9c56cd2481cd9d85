//! Revocation: kill a hop and everything below it, or an agent, a principal or a task.
//!
//! Every block of a token has a revocation id (the hex of its signature). Revoking the id of
//! hop *k* revokes every token that contains that block — hop *k* and everything delegated below
//! it — while its siblings (other tokens delegated from the same parent) stay valid. Revocation
//! by agent id, principal or task kills every token whose chain names them. A [`RevocationSet`]
//! serializes to JSON so a fleet of verifiers can share it; the verifier checks it before any
//! Datalog runs.
//!
//! To distribute revocations to a fleet, an operator signs the set as a [`RevocationList`]: the
//! set plus an issued-at time and a sequence number, signed (JCS canonical JSON, Ed25519) by an
//! operator key. A verifier loads a list only if an operator key it trusts signed it and the
//! sequence does not go backwards; with a maximum staleness configured it fails closed
//! (`revocation_list_stale`) when its list is older than that (see
//! [`Verifier::load_revocation_list`](crate::Verifier::load_revocation_list)).
//!
//! ```
//! use marque::revocation::RevocationSet;
//! let mut set = RevocationSet::default();
//! set.revoke_agent("agent:compromised");
//! let json = set.to_json();
//! assert_eq!(RevocationSet::from_json(&json)?, set);
//! # Ok::<(), marque::Error>(())
//! ```
//!
//! A signed list, and what a verifier-side check refuses:
//!
//! ```
//! use marque::{KeyPair, RevocationList, RevocationSet};
//! let operator = KeyPair::from_seed(&[5; 32]);
//! let mut set = RevocationSet::new();
//! set.revoke_task("task:leaked");
//! let list = RevocationList::sign(&set, 7, Some(1_700_000_000), &operator)?;
//! let parsed = RevocationList::from_json(&list.to_json())?;
//! assert_eq!((parsed.sequence(), parsed.issued_at()), (7, 1_700_000_000));
//! parsed.check_issuer(&[operator.public_key()])?;
//! let stranger = KeyPair::from_seed(&[6; 32]).public_key();
//! assert_eq!(parsed.check_issuer(&[stranger]).unwrap_err().code(), "revocation_list_invalid");
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};

use serde::{Deserialize, Serialize};

use alloc::vec::Vec;

use base64::Engine as _;
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::keys::{PublicKey, Signature};
use crate::signer::{sign_checked, Signer};

/// A set of revoked block ids, agents, principals and tasks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RevocationSet {
    /// Revoked block revocation ids (lowercase hex).
    pub ids: BTreeSet<String>,
    /// Revoked agent ids (any hop naming them).
    pub agents: BTreeSet<String>,
    /// Revoked principals.
    pub principals: BTreeSet<String>,
    /// Revoked tasks.
    pub tasks: BTreeSet<String>,
}

/// Why a token is revoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revoked {
    /// Block `index` has a revoked id.
    Block {
        /// Block index (0 = authority).
        index: usize,
        /// The revoked id.
        id: String,
    },
    /// An agent of the chain is revoked.
    Agent(String),
    /// The principal is revoked.
    Principal(String),
    /// The task is revoked.
    Task(String),
}

impl core::fmt::Display for Revoked {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Revoked::Block { index, id } => {
                let short: String = id.chars().take(16).collect();
                write!(f, "block {index} is revoked (revocation id {short}…)")
            }
            Revoked::Agent(a) => write!(f, "agent {a} is revoked"),
            Revoked::Principal(p) => write!(f, "principal {p} is revoked"),
            Revoked::Task(t) => write!(f, "task {t} is revoked"),
        }
    }
}

impl RevocationSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }
    /// Revokes a block id (hex; case-insensitive). Returns whether it was new.
    pub fn revoke(&mut self, revocation_id: &str) -> bool {
        self.ids.insert(revocation_id.trim().to_ascii_lowercase())
    }
    /// Revokes every token naming this agent anywhere in its chain.
    pub fn revoke_agent(&mut self, agent_id: &str) -> bool {
        self.agents.insert(agent_id.to_string())
    }
    /// Revokes every token issued on behalf of this principal.
    pub fn revoke_principal(&mut self, principal: &str) -> bool {
        self.principals.insert(principal.to_string())
    }
    /// Revokes every token for this task.
    pub fn revoke_task(&mut self, task: &str) -> bool {
        self.tasks.insert(task.to_string())
    }
    /// Adds everything of `other`.
    pub fn merge(&mut self, other: &RevocationSet) {
        self.ids.extend(other.ids.iter().cloned());
        self.agents.extend(other.agents.iter().cloned());
        self.principals.extend(other.principals.iter().cloned());
        self.tasks.extend(other.tasks.iter().cloned());
    }
    /// Whether nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.agents.is_empty() && self.principals.is_empty() && self.tasks.is_empty()
    }
    /// Total number of entries.
    pub fn len(&self) -> usize {
        self.ids.len() + self.agents.len() + self.principals.len() + self.tasks.len()
    }

    /// Checks a token's block ids, chain agents, principal and task; the first match wins.
    pub fn check<'a>(
        &self,
        block_ids: impl IntoIterator<Item = &'a str>,
        agents: impl IntoIterator<Item = &'a str>,
        principal: &str,
        task: Option<&str>,
    ) -> Option<Revoked> {
        if self.is_empty() {
            return None;
        }
        for (index, id) in block_ids.into_iter().enumerate() {
            if self.ids.contains(id) {
                return Some(Revoked::Block { index, id: id.to_string() });
            }
        }
        for a in agents {
            if self.agents.contains(a) {
                return Some(Revoked::Agent(a.to_string()));
            }
        }
        if self.principals.contains(principal) {
            return Some(Revoked::Principal(principal.to_string()));
        }
        if let Some(t) = task {
            if self.tasks.contains(t) {
                return Some(Revoked::Task(t.to_string()));
            }
        }
        None
    }

    /// JSON: `{"ids":[…],"agents":[…],"principals":[…],"tasks":[…]}` (sorted, stable).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
    /// Block ids in their canonical lowercase form (hex is case-insensitive on input).
    fn with_lowercase_ids(mut self) -> Self {
        self.ids = self.ids.into_iter().map(|i| i.to_ascii_lowercase()).collect();
        self
    }

    /// Parses the JSON form; unknown fields are refused.
    pub fn from_json(json: &str) -> Result<Self> {
        let set: RevocationSet = serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("revocation set is not valid JSON: {}", crate::options::explain_serde(&e.to_string()))))?;
        Ok(set.with_lowercase_ids())
    }
}

/// The `type` member of a signed revocation list.
pub const LIST_TYPE: &str = "marque-revocation-list";
/// Domain separation prefixed to the canonical JSON before signing.
const LIST_DOMAIN: &[u8] = b"marque-revocation-list/v1\0";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// Largest signed list accepted (bytes of JSON).
pub const MAX_LIST_BYTES: usize = 4 * 1024 * 1024;

/// A [`RevocationSet`] signed by an operator key, with an issued-at time and a sequence number.
///
/// JSON form (RFC 8785 canonical, members sorted):
/// `{"issued_at":…,"issuer":"<hex public key>","revoked":{"agents":[…],"ids":[…],"principals":[…],"tasks":[…]},"sequence":…,"sig":"<base64url>","type":"marque-revocation-list","v":1}`;
/// `sig` is Ed25519 over `marque-revocation-list/v1\0` followed by the canonical JSON of the
/// document without `sig`. Parsing checks the signature against the `issuer` it names; whether
/// that issuer is trusted is the verifier's decision ([`RevocationList::check_issuer`]).
#[derive(Clone, PartialEq, Eq)]
pub struct RevocationList {
    issuer: PublicKey,
    issued_at: u64,
    sequence: u64,
    revoked: RevocationSet,
    sig: Signature,
    /// The canonical JSON without `sig` (what was signed, after the domain prefix).
    canonical: String,
}

impl core::fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RevocationList")
            .field("issuer", &self.issuer.fingerprint())
            .field("issued_at", &self.issued_at)
            .field("sequence", &self.sequence)
            .field("entries", &self.revoked.len())
            .finish()
    }
}

fn list_error(message: impl Into<alloc::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::RevocationListInvalid, message)
}

fn unsigned_value(revoked: &RevocationSet, issuer: &PublicKey, issued_at: u64, sequence: u64) -> Result<Value> {
    let mut m = serde_json::Map::new();
    m.insert("type".into(), LIST_TYPE.into());
    m.insert("v".into(), 1.into());
    m.insert("issuer".into(), issuer.to_hex().into());
    m.insert("issued_at".into(), issued_at.into());
    m.insert("sequence".into(), sequence.into());
    m.insert(
        "revoked".into(),
        serde_json::to_value(revoked).map_err(|_| Error::internal("revocation set encoding"))?,
    );
    Ok(Value::Object(m))
}

fn signing_input(canonical: &str) -> Vec<u8> {
    let mut msg = Vec::with_capacity(LIST_DOMAIN.len() + canonical.len());
    msg.extend_from_slice(LIST_DOMAIN);
    msg.extend_from_slice(canonical.as_bytes());
    msg
}

/// JSON numbers in a list are integers in `0..=2^53-1` (I-JSON, so every runtime reads them
/// exactly).
fn exact_u64(v: Option<&Value>, name: &str) -> Result<u64> {
    v.and_then(Value::as_u64)
        .filter(|n| *n < (1u64 << 53))
        .ok_or_else(|| list_error(format!("revocation list {name} must be an integer in 0..2^53")))
}

impl RevocationList {
    /// Signs `revoked` as list number `sequence`, issued at `issued_at` (default: the clock;
    /// required where there is none), with an operator [`Signer`].
    pub fn sign<S: Signer + ?Sized>(
        revoked: &RevocationSet,
        sequence: u64,
        issued_at: Option<u64>,
        signer: &S,
    ) -> Result<RevocationList> {
        let issued_at = crate::resolve_now(issued_at)?;
        if sequence > (1u64 << 53) - 1 || issued_at > (1u64 << 53) - 1 {
            return Err(Error::invalid_argument("sequence and issued_at must be below 2^53"));
        }
        let issuer = signer.public_key();
        let revoked = revoked.clone().with_lowercase_ids();
        let canonical = crate::jcs::canonicalize(&unsigned_value(&revoked, &issuer, issued_at, sequence)?)?;
        let sig = sign_checked(signer, &signing_input(&canonical))?;
        Ok(RevocationList { issuer, issued_at, sequence, revoked, sig, canonical })
    }

    /// Parses a signed list and checks its signature against the issuer it names
    /// (`revocation_list_invalid` if malformed, `invalid_signature` if the signature fails).
    pub fn from_json(json: &str) -> Result<RevocationList> {
        if json.len() > MAX_LIST_BYTES {
            return Err(Error::new(
                ErrorKind::LimitsExceeded,
                format!("revocation list is {} bytes; the limit is {MAX_LIST_BYTES}", json.len()),
            ));
        }
        let value = crate::jcs::parse_strict(json)
            .map_err(|e| list_error(format!("revocation list is not valid JSON: {}", e.message())))?;
        let Value::Object(mut m) = value else {
            return Err(list_error("a revocation list is a JSON object"));
        };
        for k in m.keys() {
            if !matches!(k.as_str(), "type" | "v" | "issuer" | "issued_at" | "sequence" | "revoked" | "sig") {
                return Err(list_error(format!("unknown member {k:?} in a revocation list")));
            }
        }
        if m.get("type").and_then(Value::as_str) != Some(LIST_TYPE) {
            return Err(list_error(format!("a revocation list has \"type\": \"{LIST_TYPE}\"")));
        }
        if m.get("v").and_then(Value::as_u64) != Some(1) {
            return Err(list_error("unsupported revocation list version (expected \"v\": 1)"));
        }
        let sig = match m.remove("sig") {
            Some(Value::String(s)) => Signature::from_slice(
                &B64.decode(s.as_bytes()).map_err(|_| list_error("revocation list \"sig\" is not base64url"))?,
            )
            .map_err(|_| list_error("revocation list \"sig\" is not a 64-byte signature"))?,
            _ => return Err(list_error("revocation list has no \"sig\"")),
        };
        let issuer = match m.get("issuer") {
            Some(Value::String(h)) => PublicKey::from_hex(h)
                .map_err(|e| list_error(format!("revocation list issuer: {}", e.message())))?,
            _ => return Err(list_error("revocation list has no \"issuer\"")),
        };
        let issued_at = exact_u64(m.get("issued_at"), "issued_at")?;
        let sequence = exact_u64(m.get("sequence"), "sequence")?;
        let revoked: RevocationSet = serde_json::from_value(m.get("revoked").cloned().unwrap_or(Value::Null))
            .map_err(|e| list_error(format!("revocation list \"revoked\": {e}")))?;
        let canonical = crate::jcs::canonicalize(&Value::Object(m))?;
        issuer.verify(&signing_input(&canonical), &sig).map_err(|_| {
            Error::new(ErrorKind::InvalidSignature, "the revocation list's signature does not verify under its issuer")
        })?;
        if revoked.ids.iter().any(|i| i.bytes().any(|b| b.is_ascii_uppercase())) {
            return Err(list_error("revocation ids in a signed list are lowercase hex"));
        }
        if crate::clock::check("issued_at", issued_at).is_err() {
            return Err(list_error(format!(
                "revocation list issued_at {issued_at} is not seconds since the epoch (2000-01-01 … 2200-01-01): milliseconds?"
            )));
        }
        Ok(RevocationList { issuer, issued_at, sequence, revoked, sig, canonical })
    }

    /// The signed JSON document (canonical: the same list always serializes to the same bytes).
    pub fn to_json(&self) -> String {
        let Ok(Value::Object(mut m)) = crate::jcs::parse_strict(&self.canonical) else {
            return String::new(); // unreachable: `canonical` is JSON this type wrote or checked
        };
        m.insert("sig".into(), self.sig.to_base64().into());
        crate::jcs::canonicalize(&Value::Object(m)).unwrap_or_default()
    }

    /// The operator key that signed the list.
    pub fn issuer(&self) -> &PublicKey {
        &self.issuer
    }
    /// When the list was issued (Unix seconds).
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }
    /// The list's sequence number (grows with every list the operator publishes).
    pub fn sequence(&self) -> u64 {
        self.sequence
    }
    /// What the list revokes.
    pub fn revoked(&self) -> &RevocationSet {
        &self.revoked
    }
    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.sig
    }
    /// `revocation_list_invalid` unless the issuer is one of `trusted`.
    pub fn check_issuer(&self, trusted: &[PublicKey]) -> Result<()> {
        if trusted.contains(&self.issuer) {
            Ok(())
        } else {
            Err(list_error(format!(
                "the revocation list is signed by {}, which is not a trusted operator key",
                self.issuer.fingerprint()
            )))
        }
    }
    /// Whether `other` is the same signed content (issuer, time, sequence and entries).
    pub fn same_content(&self, other: &RevocationList) -> bool {
        self.canonical == other.canonical
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "std")]
    #[test]
    fn issue_times_are_seconds() {
        let operator = crate::KeyPair::from_seed(&[5; 32]);
        let set = RevocationSet::new();
        let e = RevocationList::sign(&set, 1, Some(1_767_225_600_000), &operator).unwrap_err();
        assert!(e.code() == "invalid_argument" && e.message().contains("milliseconds"), "{e}");
        // A list signed with a millisecond issued_at (by another implementation) is refused.
        let canonical = crate::jcs::canonicalize(&unsigned_value(&set, &operator.public_key(), 1_767_225_600_000, 1).unwrap()).unwrap();
        let sig = B64.encode(operator.sign(&signing_input(&canonical)).to_bytes());
        let json = canonical.replacen('{', &alloc::format!("{{\"sig\":\"{sig}\","), 1);
        let e = RevocationList::from_json(&json).unwrap_err();
        assert!(e.code() == "revocation_list_invalid" && e.message().contains("milliseconds"), "{e}");
    }

    #[test]
    fn checks_each_kind() {
        let mut s = RevocationSet::new();
        assert_eq!(s.check(["aa"], ["agent:x"], "user:a", Some("t")), None);
        s.revoke("BB");
        assert!(!s.revoke("bb"), "duplicate ids are one entry");
        assert_eq!(
            s.check(["aa", "bb"], ["agent:x"], "user:a", None),
            Some(Revoked::Block { index: 1, id: "bb".into() })
        );
        let mut s = RevocationSet::new();
        s.revoke_task("t");
        assert_eq!(s.check(["aa"], ["agent:x"], "user:a", Some("t")), Some(Revoked::Task("t".into())));
        s.revoke_principal("user:a");
        assert_eq!(s.check(["aa"], ["agent:x"], "user:a", Some("t")), Some(Revoked::Principal("user:a".into())));
        assert!(RevocationSet::from_json("{\"nope\":[]}").is_err());
    }
}
