//! Revocation: kill a hop and everything below it, or an agent, an agent key, a principal or a
//! task.
//!
//! Every block of a token has a revocation id (the hex of its signature: 128 hex digits).
//! Revoking the id of hop *k* revokes every token that contains that block — hop *k* and
//! everything delegated below it — while its siblings (other tokens delegated from the same
//! parent) stay valid. Revocation by agent id, principal or task kills every token whose chain
//! names them; revocation by public key kills every token whose chain holds that key, under
//! whatever agent id it was delegated (a compromised key re-delegated under a fresh id is one
//! entry). Entries are checked as they enter a set: a malformed one is `invalid_argument`, never
//! an entry that silently revokes nothing. A [`RevocationSet`] serializes to JSON so a fleet of
//! verifiers can share it; the verifier checks it before any Datalog runs.
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
//! set.revoke_agent("agent:compromised")?;
//! set.revoke_key(&marque::KeyPair::from_seed(&[7; 32]).public_key());
//! let json = set.to_json();
//! assert_eq!(RevocationSet::from_json(&json)?, set);
//! // A revocation id is a block's whole signature, not the prefix a message shows.
//! assert_eq!(set.revoke("0123abcd").unwrap_err().code(), "invalid_argument");
//! # Ok::<(), marque::Error>(())
//! ```
//!
//! A signed list, and what a verifier-side check refuses:
//!
//! ```
//! use marque::{KeyPair, RevocationList, RevocationSet};
//! let operator = KeyPair::from_seed(&[5; 32]);
//! let mut set = RevocationSet::new();
//! set.revoke_task("task:leaked")?;
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

/// Length of a block revocation id in hex digits: a Biscuit v3 revocation id is the block's
/// Ed25519 signature (64 bytes), and marque tokens carry Ed25519 keys only.
pub const REVOCATION_ID_HEX_LEN: usize = 128;

/// A set of revoked block ids, agents, agent keys, principals and tasks.
///
/// Every entry is checked when it enters the set ([`revoke`](Self::revoke) and friends,
/// [`from_json`](Self::from_json), signed lists), so a malformed entry — a revocation id cut to
/// the 16 digits a [`Revoked`] message shows, an agent id that no token can carry — is refused
/// (`invalid_argument`) instead of silently revoking nothing. The fields are public for reading;
/// a set filled through them directly is checked by [`validate`](Self::validate), which the
/// verifier calls when it merges a set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RevocationSet {
    /// Revoked block revocation ids (128 lowercase hex digits).
    pub ids: BTreeSet<String>,
    /// Revoked agent ids (any hop naming them).
    pub agents: BTreeSet<String>,
    /// Revoked principals.
    pub principals: BTreeSet<String>,
    /// Revoked tasks.
    pub tasks: BTreeSet<String>,
    /// Revoked agent public keys (64 lowercase hex digits): any token with the key anywhere in its
    /// chain, whatever agent id it was delegated under. Absent from the JSON when empty.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub keys: BTreeSet<String>,
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
    /// The key of an agent of the chain is revoked.
    Key {
        /// The agent of the chain holding that key.
        agent: String,
        /// The key's fingerprint (`ed25519:…`).
        fingerprint: String,
    },
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
            Revoked::Key { agent, fingerprint } => write!(f, "the key {fingerprint} of agent {agent} is revoked"),
            Revoked::Principal(p) => write!(f, "principal {p} is revoked"),
            Revoked::Task(t) => write!(f, "task {t} is revoked"),
        }
    }
}

/// `invalid_argument` unless `id` is a block revocation id: exactly
/// [`REVOCATION_ID_HEX_LEN`] lowercase hex digits.
pub fn validate_revocation_id(id: &str) -> Result<()> {
    if id.len() != REVOCATION_ID_HEX_LEN || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(Error::invalid_argument(format!(
            "a revocation id is {REVOCATION_ID_HEX_LEN} lowercase hex digits (a block's 64-byte signature, as \
             Token.revocation_ids gives it); got {} characters{}",
            id.chars().count(),
            if id.bytes().any(|b| b.is_ascii_uppercase()) { " with uppercase letters" } else { "" }
        )));
    }
    Ok(())
}

/// The canonical form of a revoked key entry: 64 lowercase hex digits of a valid Ed25519 key.
fn canonical_key(hex: &str) -> Result<String> {
    let key = PublicKey::from_hex(hex).map_err(|e| {
        Error::invalid_argument(format!("a revoked key is an Ed25519 public key in hex (64 digits): {}", e.message()))
    })?;
    Ok(key.to_hex())
}

impl RevocationSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }
    /// Revokes a block id: 128 hex digits (surrounding whitespace is ignored and uppercase is
    /// normalized to lowercase); anything else is `invalid_argument`. Returns whether it was new.
    pub fn revoke(&mut self, revocation_id: &str) -> Result<bool> {
        let id = revocation_id.trim().to_ascii_lowercase();
        validate_revocation_id(&id)?;
        Ok(self.ids.insert(id))
    }
    /// Revokes every token naming this agent anywhere in its chain (`invalid_argument` for a
    /// string that is not an agent id).
    pub fn revoke_agent(&mut self, agent_id: &str) -> Result<bool> {
        crate::identity::validate_agent_id(agent_id)?;
        Ok(self.agents.insert(agent_id.to_string()))
    }
    /// Revokes every token with `key` anywhere in its chain (the root agent's key or any hop's),
    /// whatever agent id it was delegated under: one entry for a compromised key.
    pub fn revoke_key(&mut self, key: &PublicKey) -> bool {
        self.keys.insert(key.to_hex())
    }
    /// [`revoke_key`](Self::revoke_key) for a key given as hex, the set's JSON form (uppercase
    /// normalized); anything but an Ed25519 public key is `invalid_argument`.
    pub fn revoke_key_hex(&mut self, key: &str) -> Result<bool> {
        Ok(self.keys.insert(canonical_key(key.trim())?))
    }
    /// Revokes every token issued on behalf of this principal (`invalid_argument` for an
    /// empty or malformed name).
    pub fn revoke_principal(&mut self, principal: &str) -> Result<bool> {
        crate::identity::validate_name("principal", principal)?;
        Ok(self.principals.insert(principal.to_string()))
    }
    /// Revokes every token for this task (`invalid_argument` for an empty or malformed name).
    pub fn revoke_task(&mut self, task: &str) -> Result<bool> {
        crate::identity::validate_name("task", task)?;
        Ok(self.tasks.insert(task.to_string()))
    }
    /// Adds everything of `other`.
    pub fn merge(&mut self, other: &RevocationSet) {
        self.ids.extend(other.ids.iter().cloned());
        self.agents.extend(other.agents.iter().cloned());
        self.principals.extend(other.principals.iter().cloned());
        self.tasks.extend(other.tasks.iter().cloned());
        self.keys.extend(other.keys.iter().cloned());
    }
    /// Whether nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
            && self.agents.is_empty()
            && self.principals.is_empty()
            && self.tasks.is_empty()
            && self.keys.is_empty()
    }
    /// Total number of entries.
    pub fn len(&self) -> usize {
        self.ids.len() + self.agents.len() + self.principals.len() + self.tasks.len() + self.keys.len()
    }

    /// `invalid_argument` unless every entry is well-formed: ids are 128 lowercase hex digits,
    /// keys 64 lowercase hex digits of an Ed25519 key, agents valid agent ids, principals and
    /// tasks valid names.
    pub fn validate(&self) -> Result<()> {
        for id in &self.ids {
            validate_revocation_id(id)?;
        }
        for key in &self.keys {
            if canonical_key(key)? != *key {
                return Err(Error::invalid_argument("a revoked key is written in lowercase hex"));
            }
        }
        for a in &self.agents {
            crate::identity::validate_agent_id(a)?;
        }
        for p in &self.principals {
            crate::identity::validate_name("principal", p)?;
        }
        for t in &self.tasks {
            crate::identity::validate_name("task", t)?;
        }
        Ok(())
    }

    /// Checks a token's block ids, chain (each agent with its key), principal and task; the
    /// first match wins (block ids, then agents, then keys, then principal, then task).
    pub fn check<'a>(
        &self,
        block_ids: impl IntoIterator<Item = &'a str>,
        chain: impl IntoIterator<Item = (&'a str, &'a PublicKey)> + Clone,
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
        if !self.agents.is_empty() {
            for (a, _) in chain.clone() {
                if self.agents.contains(a) {
                    return Some(Revoked::Agent(a.to_string()));
                }
            }
        }
        if !self.keys.is_empty() {
            for (a, key) in chain {
                if self.keys.contains(key.to_hex().as_str()) {
                    return Some(Revoked::Key { agent: a.to_string(), fingerprint: key.fingerprint() });
                }
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

    /// JSON: `{"ids":[…],"agents":[…],"principals":[…],"tasks":[…]}`, plus `"keys":[…]` when
    /// keys are revoked (sorted, stable).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
    /// Block ids and keys in their canonical lowercase form (hex is case-insensitive on input).
    fn normalized(mut self) -> Self {
        self.ids = self.ids.into_iter().map(|i| i.to_ascii_lowercase()).collect();
        self.keys = self.keys.into_iter().map(|k| k.to_ascii_lowercase()).collect();
        self
    }

    /// Parses the JSON form; unknown fields and malformed entries (see
    /// [`validate`](Self::validate); hex may be uppercase) are refused (`invalid_argument`).
    pub fn from_json(json: &str) -> Result<Self> {
        let set: RevocationSet = serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("revocation set is not valid JSON: {}", crate::options::explain_serde(&e.to_string()))))?;
        let set = set.normalized();
        set.validate()?;
        Ok(set)
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
/// `{"issued_at":…,"issuer":"<hex public key>","revoked":{"agents":[…],"ids":[…],"keys":[…],"principals":[…],"tasks":[…]},"sequence":…,"sig":"<base64url>","type":"marque-revocation-list","v":1}`
/// (`keys` only when keys are revoked);
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
        let revoked = revoked.clone().normalized();
        revoked.validate()?;
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
        // Entries as a set's own checks want them, and already canonical (lowercase hex): what
        // was signed is exactly what is matched.
        revoked.validate().map_err(|e| list_error(format!("revocation list \"revoked\": {}", e.message())))?;
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
    use crate::keys::KeyPair;

    fn id(c: char) -> String {
        core::iter::repeat_n(c, REVOCATION_ID_HEX_LEN).collect()
    }

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
        let x = KeyPair::from_seed(&[1; 32]).public_key();
        let y = KeyPair::from_seed(&[2; 32]).public_key();
        let chain = [("agent:x", &x), ("agent:y", &y)];
        let (a, b) = (id('a'), id('b'));
        let mut s = RevocationSet::new();
        assert_eq!(s.check([a.as_str()], chain, "user:a", Some("t")), None);
        assert!(s.revoke(&id('B')).unwrap());
        assert!(!s.revoke(&b).unwrap(), "duplicate ids are one entry");
        assert_eq!(
            s.check([a.as_str(), b.as_str()], chain, "user:a", None),
            Some(Revoked::Block { index: 1, id: b.clone() })
        );
        let mut s = RevocationSet::new();
        s.revoke_task("t").unwrap();
        assert_eq!(s.check([a.as_str()], chain, "user:a", Some("t")), Some(Revoked::Task("t".into())));
        s.revoke_principal("user:a").unwrap();
        assert_eq!(s.check([a.as_str()], chain, "user:a", Some("t")), Some(Revoked::Principal("user:a".into())));
        assert!(s.revoke_key(&y));
        assert_eq!(
            s.check([a.as_str()], chain, "user:a", Some("t")),
            Some(Revoked::Key { agent: "agent:y".into(), fingerprint: y.fingerprint() })
        );
        assert!(RevocationSet::from_json("{\"nope\":[]}").is_err());
    }

    #[test]
    fn malformed_entries_are_refused_not_stored() {
        let mut s = RevocationSet::new();
        let short: String = id('a').chars().take(16).collect();
        for bad in ["", "0123abcd", short.as_str(), &id('g'), &format!("{}0", id('a')), &id('a')[1..]] {
            assert_eq!(s.revoke(bad).unwrap_err().code(), "invalid_argument", "{bad:?}");
        }
        assert_eq!(s.revoke_agent("agent:").unwrap_err().code(), "invalid_argument");
        assert_eq!(s.revoke_agent("").unwrap_err().code(), "invalid_argument");
        assert_eq!(s.revoke_principal("a\"b").unwrap_err().code(), "invalid_argument");
        assert_eq!(s.revoke_task("").unwrap_err().code(), "invalid_argument");
        assert!(s.is_empty(), "nothing malformed was stored");
        // Surrounding whitespace and uppercase are normalized.
        assert!(s.revoke(&format!(" {} ", id('A'))).unwrap());
        assert_eq!(s.ids.iter().next(), Some(&id('a')));
        // The JSON form is checked the same way; keys appear only when some are revoked.
        assert_eq!(s.to_json(), format!("{{\"ids\":[\"{}\"],\"agents\":[],\"principals\":[],\"tasks\":[]}}", id('a')));
        for bad in [
            r#"{"ids":["0123abcd"]}"#.to_string(),
            r#"{"agents":["agent:"]}"#.into(),
            r#"{"keys":["00"]}"#.into(),
            format!("{{\"keys\":[\"{}\"]}}", "zz".repeat(32)),
            r#"{"tasks":[""]}"#.into(),
        ] {
            assert_eq!(RevocationSet::from_json(&bad).unwrap_err().code(), "invalid_argument", "{bad}");
        }
        let key = KeyPair::from_seed(&[3; 32]).public_key();
        let upper = format!("{{\"keys\":[\"{}\"],\"ids\":[\"{}\"]}}", key.to_hex().to_ascii_uppercase(), id('C'));
        let parsed = RevocationSet::from_json(&upper).unwrap();
        assert!(parsed.keys.contains(key.to_hex().as_str()) && parsed.ids.contains(&id('c')));
        assert!(s.clone().revoke_key_hex(&key.to_hex().to_ascii_uppercase()).unwrap());
        assert_eq!(s.revoke_key_hex("00ff").unwrap_err().code(), "invalid_argument");
        // A set filled through its public fields is checked by validate().
        let mut raw = RevocationSet::new();
        raw.ids.insert("0123abcd".into());
        assert_eq!(raw.validate().unwrap_err().code(), "invalid_argument");
    }

    #[test]
    fn signed_lists_carry_keys_and_refuse_malformed_entries() {
        let operator = KeyPair::from_seed(&[5; 32]);
        let key = KeyPair::from_seed(&[3; 32]).public_key();
        let mut set = RevocationSet::new();
        set.revoke_key(&key);
        let list = RevocationList::sign(&set, 1, Some(1_767_225_600), &operator).unwrap();
        assert!(list.to_json().contains(&format!("\"keys\":[\"{}\"]", key.to_hex())), "{}", list.to_json());
        assert_eq!(RevocationList::from_json(&list.to_json()).unwrap().revoked(), &set);
        // Without keys, a list's bytes are what they were before keys existed.
        let plain = RevocationList::sign(&RevocationSet::new(), 1, Some(1_767_225_600), &operator).unwrap();
        assert!(!plain.to_json().contains("keys"), "{}", plain.to_json());
        // Signing a set with a malformed entry is refused.
        let mut raw = RevocationSet::new();
        raw.ids.insert("0123abcd".into());
        assert_eq!(RevocationList::sign(&raw, 2, Some(1_000), &operator).unwrap_err().code(), "invalid_argument");
        // A correctly signed list with a malformed entry is refused too.
        let mut m = serde_json::Map::new();
        m.insert("ids".into(), serde_json::json!(["0123abcd"]));
        let revoked = Value::Object(m);
        let mut doc = serde_json::json!({"type": LIST_TYPE, "v": 1, "issuer": operator.public_key().to_hex(),
            "issued_at": 1000, "sequence": 3, "revoked": revoked});
        let canonical = crate::jcs::canonicalize(&doc).unwrap();
        doc["sig"] = operator.sign(&signing_input(&canonical)).to_base64().into();
        let e = RevocationList::from_json(&doc.to_string()).unwrap_err();
        assert_eq!(e.code(), "revocation_list_invalid", "{e}");
    }
}
