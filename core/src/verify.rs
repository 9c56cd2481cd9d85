//! Verifying and authorizing: is this token genuine, and may its holder do this now?
//!
//! A [`Verifier`] holds the trusted root keys (several, by key id, for rotation), user policies,
//! [`Limits`], a revocation set and a replay store. [`Verifier::authorize`] checks, in order: size
//! and block limits; every signature (root, blocks, and that each delegation block was signed by
//! the key the previous hop named); that every block holds exactly the profile's Datalog for its
//! descriptor (`invalid_token` otherwise); revocation (before any Datalog runs); the proof of
//! possession when one is given or required (signature, binding, freshness, not replayed); then
//! the Datalog — the verifier always adds the current time itself, plus only the request facts of
//! the profile — and only for an allowed call is the proof's nonce claimed in the replay store
//! (by default in-process and bounded per signing key; a fleet shares one, see
//! [`crate::replay`]). Signatures and blocks already verified as the prefix of an earlier token
//! are not checked again ([`crate::prefix_cache`]); a repeated token is looked up whole (the
//! verified-token cache). A bad signature, unknown root key, malformed token, hit limit or
//! unavailable replay store is an [`Error`]; a refusal is a [`Decision`] with
//! `allowed == false`, a stable denial `code` (`not_authorized`, `expired`, `revoked`,
//! `depth_exceeded`, `invalid_proof`, `replayed_proof`) and readable `reasons`.
//!
//! ```
//! use marque::{KeyPair, Token, Verifier, token::MintParams, delegate::DelegateParams};
//! use marque::policy::{Request, Right};
//! let (root, orch, child) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]));
//! let now = 1_700_000_000;
//! let token = Token::mint(&root, &MintParams::new("agent:orch", orch.public_key(), "user:alice")
//!     .right(Right::new("read_file", "read", "*")).now(now))?
//!     .delegate(&orch, &DelegateParams::new("agent:a", child.public_key()).resource_prefix("src/").now(now))?;
//! let verifier = Verifier::new([root.public_key()]);
//! let ok = verifier.authorize(token.to_bytes(), &Request::new("read_file", "read", "src/lib.rs"), None, Some(now))?;
//! assert!(ok.allowed);
//! assert_eq!(ok.chain, ["agent:orch", "agent:a"]);
//! let no = verifier.authorize(token.to_bytes(), &Request::new("read_file", "read", ".env"), None, Some(now))?;
//! assert!(!no.allowed);
//! assert_eq!(no.code.as_deref(), Some("not_authorized"));
//! # Ok::<(), marque::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use biscuit_auth::builder::{fact, Term};
use biscuit_auth::error::{FailedCheck, Logic, MatchedPolicy};
use biscuit_auth::{AuthorizerBuilder, AuthorizerLimits, Biscuit};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::budget::{CounterStore, MemoryCounterStore};
use crate::constraints::Gate;
use crate::error::{Error, ErrorKind, Result};
use crate::keys::PublicKey;
use crate::policy::{Limits, Policy, Request, Right, RIGHTS_POLICY, RIGHTS_POLICY_ID};
use crate::prefix_cache::{PrefixCache, PrefixCacheStats};
use crate::proof::{verify_proof, Audience, ProofRequest};
use crate::pending::{deny, store_error};
pub use crate::pending::{Authorization, PendingClaim};
use crate::replay::{MemoryReplayStore, ReplayClaim, ReplayStore};
use crate::revocation::{RevocationList, RevocationSet};
use crate::token::{decode_base64, resolve_now, Claims, Hop, Token};

/// The root key id marque derives from a root public key: the first four bytes of its SHA-256,
/// big-endian. Minting writes it into the token unless another id is given.
pub fn derived_key_id(key: &PublicKey) -> u32 {
    let d = Sha256::digest(key.as_bytes());
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// How far in the future of the verifier's clock a revocation list may be issued.
pub const REVOCATION_LIST_FUTURE_SKEW: u64 = 300;
/// Most keys a JWKS document may hold.
pub const MAX_JWKS_KEYS: usize = 64;

/// Parses a JWKS-style document of root keys, `{"keys":[{"kty":"OKP","crv":"Ed25519","x":…,"kid":…}]}`,
/// into `(root key id, key)` pairs. A `kid` is either the key's fingerprint (`ed25519:…`, what
/// [`PublicKey::to_jwk`] writes; the key gets its [derived id](derived_key_id)) or a decimal
/// 32-bit id (for roots minted with an explicit [`root_key_id`](crate::MintParams::root_key_id));
/// without `kid` the derived id is used. Keys of other types, or with `use` other than `sig`,
/// are skipped; a private key, a fingerprint that does not match, a duplicate id or a document
/// without any Ed25519 key is `invalid_key`.
pub fn parse_jwks(jwks: &str) -> Result<Vec<(u32, PublicKey)>> {
    let bad = |m: String| Error::new(ErrorKind::InvalidKey, m);
    if jwks.len() > 256 * 1024 {
        return Err(bad("JWKS document is larger than 256 KiB".into()));
    }
    let doc: serde_json::Value =
        serde_json::from_str(jwks).map_err(|e| bad(format!("JWKS is not valid JSON: {e}")))?;
    let keys = doc
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| bad("a JWKS document is an object with a \"keys\" array".into()))?;
    if keys.len() > MAX_JWKS_KEYS {
        return Err(bad(format!("JWKS has {} keys; at most {MAX_JWKS_KEYS}", keys.len())));
    }
    let mut out: Vec<(u32, PublicKey)> = Vec::new();
    for (i, entry) in keys.iter().enumerate() {
        let field = |k: &str| entry.get(k).and_then(serde_json::Value::as_str);
        if field("kty") != Some("OKP") || field("crv") != Some("Ed25519") {
            continue;
        }
        if entry.get("d").is_some() {
            return Err(bad(format!("JWKS key {i} carries a private part \"d\"; publish public keys only")));
        }
        if entry.get("use").is_some_and(|u| u != "sig") {
            continue;
        }
        if entry.get("alg").is_some_and(|a| a != "EdDSA" && a != "Ed25519") {
            return Err(bad(format!("JWKS key {i} has alg {}, expected EdDSA", entry["alg"])));
        }
        let jwk: crate::Jwk = serde_json::from_value(entry.clone())
            .map_err(|e| bad(format!("JWKS key {i} is not an Ed25519 JWK: {e}")))?;
        let key = PublicKey::from_jwk(&jwk)?;
        let id = match jwk.kid.as_deref() {
            None => derived_key_id(&key),
            Some(k) if k == key.fingerprint() => derived_key_id(&key),
            Some(k) if !k.is_empty() && k.len() <= 10 && k.bytes().all(|b| b.is_ascii_digit()) => k
                .parse::<u32>()
                .map_err(|_| bad(format!("JWKS key {i}: kid {k} is not a 32-bit root key id")))?,
            Some(k) if k.starts_with("ed25519:") => {
                return Err(bad(format!("JWKS key {i}: kid {k} is not the fingerprint of its key ({})", key.fingerprint())))
            }
            Some(k) => {
                return Err(bad(format!(
                    "JWKS key {i}: kid {k:?} must be the key's fingerprint ({}) or a decimal root key id",
                    key.fingerprint()
                )))
            }
        };
        if out.iter().any(|(other, _)| *other == id) {
            return Err(bad(format!("JWKS key {i}: root key id {id} appears twice")));
        }
        out.push((id, key));
    }
    if out.is_empty() {
        return Err(bad("the JWKS document holds no Ed25519 signing key".into()));
    }
    Ok(out)
}

/// A JWKS document for root keys (the inverse of [`parse_jwks`]): `kid` is the fingerprint when
/// the id is the key's derived id, else the decimal id; `use` is `sig`, `alg` `EdDSA`.
pub fn to_jwks(keys: &[(u32, PublicKey)]) -> String {
    let entries: Vec<serde_json::Value> = keys
        .iter()
        .map(|(id, key)| {
            let mut jwk = key.to_jwk();
            if *id != derived_key_id(key) {
                jwk.kid = Some(id.to_string());
            }
            jwk.extra.insert("use".into(), "sig".into());
            jwk.extra.insert("alg".into(), "EdDSA".into());
            serde_json::to_value(&jwk).unwrap_or_default()
        })
        .collect();
    serde_json::json!({ "keys": entries }).to_string()
}

/// The outcome of an authorization: allowed or denied, and everything an audit needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// When denied: a stable code (`not_authorized`, `expired`, `revoked`, `depth_exceeded`,
    /// `invalid_proof`, `replayed_proof`).
    pub code: Option<String>,
    /// The acting agent (the last hop).
    pub agent: String,
    /// Its path in the spawn tree.
    pub path: String,
    /// The acting agent's key fingerprint.
    pub agent_key_fingerprint: String,
    /// The acting agent's public key (hex).
    #[serde(default)]
    pub agent_key: String,
    /// On whose behalf.
    pub principal: String,
    /// The task, if any.
    pub task: Option<String>,
    /// The workspace, if any.
    pub workspace: Option<String>,
    /// Agent ids of the delegation chain, root first.
    pub chain: Vec<String>,
    /// Key fingerprints of the delegation chain, root first (one per agent of `chain`): with
    /// `path`, what identifies each agent beyond its id.
    #[serde(default)]
    pub chain_key_fingerprints: Vec<String>,
    /// The id of the policy that matched (allow or deny), if one did.
    pub policy: Option<String>,
    /// Readable reasons when denied (failed checks, revocation, proof problem).
    pub reasons: Vec<String>,
    /// Revocation ids of every block, authority first.
    pub revocation_ids: Vec<String>,
    /// The request that was decided.
    pub request: Request,
    /// The time used for the decision.
    pub time: u64,
    /// The token's effective expiry.
    pub expires_at: u64,
    /// Whether a proof of possession was verified for this decision.
    pub proof_verified: bool,
    /// The approval this allowed call used: approver, key fingerprint, times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<crate::approval::VerifiedApproval>,
    /// When denied `approval_required`: the digest to approve and who may approve it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_request: Option<crate::approval::ApprovalRequest>,
}

impl Decision {
    /// JSON form (stable field names).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads back the JSON form of [`to_json`](Self::to_json), e.g. a decision shipped to
    /// another process or pickled by a binding. This only restores a record: it re-verifies
    /// nothing, so never treat a decision read from an untrusted source as an authorization.
    ///
    /// ```
    /// # use marque::{KeyPair, Token, Verifier, token::MintParams, policy::{Request, Right}};
    /// # let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
    /// # let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:u")
    /// #     .right(Right::new("t", "*", "*")).now(1_700_000_000))?;
    /// let d = Verifier::new([root.public_key()])
    ///     .authorize(token.to_bytes(), &Request::new("t", "*", "x"), None, Some(1_700_000_000))?;
    /// assert_eq!(marque::Decision::from_json(&d.to_json())?, d);
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Decision> {
        serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("not a marque decision JSON: {}", crate::error::sanitize(&e.to_string()))))
    }

    /// The audit event recording this decision (`event_type` `"authorization"`): acting agent
    /// and key fingerprint, chain, principal, task, tool as action, operation, resource,
    /// allow/deny, the policy that matched (or the denial code), time and token id. The chain's
    /// key fingerprints go into `attributes.chain_key_fingerprints` (root first), denial
    /// reasons into `attributes.reasons`.
    ///
    /// ```
    /// # use marque::{KeyPair, Token, Verifier, MintParams, Request, Right, audit::AuditLog};
    /// # let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
    /// # let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:alice").right(Right::new("*", "*", "*")).now(1_700_000_000))?;
    /// let decision = Verifier::new([root.public_key()])
    ///     .authorize(token.to_bytes(), &Request::new("read_file", "read", "a.txt"), None, Some(1_700_000_000))?;
    /// let mut log = AuditLog::new();
    /// let server_key = KeyPair::from_seed(&[9; 32]);
    /// log.append(&server_key, decision.to_audit_event())?;
    /// assert!(log.verify(&[server_key.public_key()], None).ok);
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn to_audit_event(&self) -> crate::audit::AuditEvent {
        use crate::audit::{AuditDecision, AuditEvent};
        let verdict = if self.allowed { AuditDecision::Allow } else { AuditDecision::Deny };
        let mut event = AuditEvent::new(
            "authorization",
            self.agent.clone(),
            self.request.tool.clone(),
            self.request.resource.clone(),
            verdict,
            self.time,
        )
        .principal(self.principal.clone())
        .chain(self.chain.iter().cloned())
        .operation(self.request.operation.clone())
        .policy(self.policy.clone().unwrap_or_else(|| "none".into()), Some(&format!("marque-profile/{}", crate::token::PROFILE_VERSION)));
        event.agent_key_fingerprint = self.agent_key_fingerprint.clone();
        if !self.chain_key_fingerprints.is_empty() {
            event = event.attribute("chain_key_fingerprints", self.chain_key_fingerprints.clone());
        }
        if let Some(t) = &self.task {
            event = event.task(t.clone());
        }
        if let Some(id) = self.token_id() {
            event = event.token_id(id);
        }
        if let Some(code) = &self.code {
            event = event.attribute("denial_code", code.clone());
        }
        if !self.reasons.is_empty() {
            event = event.attribute("reasons", self.reasons.clone());
        }
        if let Some(a) = &self.approval {
            let mut m = serde_json::Map::new();
            m.insert("approver".into(), a.approver.clone().into());
            m.insert("key_fingerprint".into(), a.key_fingerprint.clone().into());
            m.insert("iat".into(), a.iat.into());
            m.insert("exp".into(), a.exp.into());
            event = event.approval(m);
        }
        if let Some(r) = &self.approval_request {
            event = event.attribute("approval_digest", r.digest.clone());
        }
        event
    }

    /// Token exchange (RFC 8693 spirit): a short-lived compact EdDSA JWT that lets one
    /// downstream service accept this *allowed* decision without Biscuit: `sub` = acting agent,
    /// `act` = the delegation chain, `aud`, `scope` = `tool:operation`, `resource` = the
    /// resource that was decided (the JWT allows that one resource, nothing else), `cnf.jkt` =
    /// the acting agent's key thumbprint, `principal`/`task`/`workspace`, `exp` ≤ the token's
    /// expiry. A denied decision is refused (`not_authorized`).
    pub fn to_compact_jwt<S: crate::signer::Signer + ?Sized>(&self, issuer: &S, issuer_name: &str, audience: &str, ttl_seconds: u64) -> Result<String> {
        if !self.allowed {
            return Err(Error::new(ErrorKind::NotAuthorized, "only an allowed decision can be exchanged for a JWT"));
        }
        let mut claims = crate::jwt::Claims::new()
            .issuer(issuer_name)
            .subject(self.agent.clone())
            .audience(audience)
            .issued_at(self.time)
            .expires_at(self.time.saturating_add(ttl_seconds).min(self.expires_at))
            .scope(format!("{}:{}", self.request.tool, self.request.operation))
            .resource(self.request.resource.clone())
            .actor_chain(&self.chain)
            .principal(self.principal.clone());
        if let Some(id) = self.token_id() {
            claims = claims.jwt_id(id.chars().take(32).collect::<String>());
        }
        if let Ok(key) = PublicKey::from_hex(&self.agent_key) {
            claims = claims.confirmation_thumbprint(&key);
        }
        if let Some(t) = &self.task {
            claims = claims.task(t.clone());
        }
        if let Some(w) = &self.workspace {
            claims = claims.workspace(w.clone());
        }
        crate::jwt::jwt_issue(issuer, &claims, Some(&crate::signer::Signer::public_key(issuer).fingerprint()))
    }

    /// The token id for audit: the revocation id of the last block.
    pub fn token_id(&self) -> Option<&str> {
        self.revocation_ids.last().map(String::as_str)
    }

    /// `Ok(self)` when allowed, else an [`Error`] whose kind is the denial code.
    pub fn into_result(self) -> Result<Decision> {
        if self.allowed {
            return Ok(self);
        }
        let kind = self
            .code
            .as_deref()
            .and_then(ErrorKind::from_code)
            .unwrap_or(ErrorKind::NotAuthorized);
        Err(Error::new(kind, format!("denied: {}", self.reasons.join("; "))))
    }
}

/// A token whose signatures and structure were verified, kept for reuse.
pub(crate) struct Verified {
    pub(crate) biscuit: Biscuit,
    pub(crate) claims: Claims,
}

/// A bounded map from SHA-256(token bytes) to verified tokens, evicting the least recently used.
/// Lookups need only shared access (recency is an atomic stamp), so threads authorizing cached
/// tokens never wait for each other; only an insertion takes the write lock.
struct VerifiedCache {
    capacity: usize,
    tick: AtomicU64,
    map: HashMap<[u8; 32], (Arc<Verified>, AtomicU64)>,
}

impl VerifiedCache {
    fn new(capacity: usize) -> Self {
        VerifiedCache { capacity, tick: AtomicU64::new(0), map: HashMap::new() }
    }

    fn get(&self, key: &[u8; 32]) -> Option<Arc<Verified>> {
        self.map.get(key).map(|(v, used)| {
            used.store(self.tick.fetch_add(1, Ordering::Relaxed) + 1, Ordering::Relaxed);
            Arc::clone(v)
        })
    }

    fn insert(&mut self, key: [u8; 32], value: Arc<Verified>) {
        if self.capacity == 0 {
            return;
        }
        if self.map.len() >= self.capacity && !self.map.contains_key(&key) {
            if let Some(oldest) =
                self.map.iter().min_by_key(|(_, (_, used))| used.load(Ordering::Relaxed)).map(|(k, _)| *k)
            {
                self.map.remove(&oldest);
            }
        }
        let tick = self.tick.fetch_add(1, Ordering::Relaxed) + 1;
        self.map.insert(key, (value, AtomicU64::new(tick)));
    }
}

struct RootKey {
    id: Option<u32>,
    key: PublicKey,
    biscuit: biscuit_auth::PublicKey,
}

/// Checks tokens against trusted roots, policies, limits, revocations and proofs.
/// Thread-safe: share it (`Arc<Verifier>`) between threads.
pub struct Verifier {
    roots: Vec<RootKey>,
    /// User policies only, in order (parsed once, when added).
    user_template: AuthorizerBuilder,
    /// `user_template` followed by the default rights policy: what each request clones.
    template: AuthorizerBuilder,
    policy_ids: Vec<String>,
    policies: Vec<Policy>,
    limits: Limits,
    require_proof: bool,
    /// This verifier's own canonical URI (RFC 8707): proofs must name it.
    audience: Option<Audience>,
    revocations: RwLock<RevocationSet>,
    /// Operator keys trusted to sign revocation lists.
    operator_keys: Vec<PublicKey>,
    /// The newest signed revocation list loaded.
    revocation_list: RwLock<Option<RevocationList>>,
    /// Fail closed when the signed list is older than this many seconds (or absent).
    max_revocation_staleness: Option<u64>,
    replay: Arc<dyn ReplayStore>,
    /// Whether `replay` is the default in-memory store (rebuilt when the limits change).
    replay_is_default: bool,
    verified: RwLock<VerifiedCache>,
    /// Digests of verified block prefixes (`crate::prefix_cache`).
    prefixes: RwLock<PrefixCache>,
    /// Rego policies, approval rules and approvers (`crate::constraints`).
    constraints: crate::constraints::Constraints,
    /// Where the budgets of delegations are counted.
    counters: Arc<dyn CounterStore>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("roots", &self.roots.iter().map(|r| r.key.fingerprint()).collect::<Vec<_>>())
            .field("policies", &self.policy_ids)
            .field("limits", &self.limits)
            .field("require_proof", &self.require_proof)
            .field("audience", &self.audience)
            .finish()
    }
}

/// How many budget counters the default in-process counter store holds.
const DEFAULT_COUNTERS: usize = 100_000;

fn memory_store(limits: &Limits) -> Arc<dyn ReplayStore> {
    Arc::new(MemoryReplayStore::new(limits.replay_cache_capacity, limits.replay_cache_per_key))
}

fn base_template() -> Result<AuthorizerBuilder> {
    Ok(AuthorizerBuilder::new().policy(RIGHTS_POLICY)?)
}

impl Verifier {
    /// A verifier trusting these root keys (each under its derived key id).
    pub fn new(root_keys: impl IntoIterator<Item = PublicKey>) -> Self {
        let mut v = Verifier::empty();
        for k in root_keys {
            v.add_root_key(None, k);
        }
        v
    }

    /// A verifier trusting root keys by explicit key id.
    pub fn with_key_ids(keys: impl IntoIterator<Item = (u32, PublicKey)>) -> Self {
        let mut v = Verifier::empty();
        for (id, k) in keys {
            v.add_root_key(Some(id), k);
        }
        v
    }

    fn empty() -> Self {
        let limits = Limits::default();
        Verifier {
            roots: Vec::new(),
            user_template: AuthorizerBuilder::new(),
            // The default policy always parses; an empty builder is the (unreachable) fallback.
            template: base_template().unwrap_or_default(),
            policy_ids: vec![RIGHTS_POLICY_ID.into()],
            policies: Vec::new(),
            replay: memory_store(&limits),
            replay_is_default: true,
            verified: RwLock::new(VerifiedCache::new(limits.verified_cache_capacity)),
            prefixes: RwLock::new(PrefixCache::new(limits.prefix_cache_capacity)),
            limits,
            require_proof: false,
            audience: None,
            revocations: RwLock::new(RevocationSet::new()),
            operator_keys: Vec::new(),
            revocation_list: RwLock::new(None),
            max_revocation_staleness: None,
            constraints: crate::constraints::Constraints::default(),
            counters: Arc::new(MemoryCounterStore::new(DEFAULT_COUNTERS)),
        }
    }

    /// Trusts `key` to approve calls as approver `id` ([`crate::approval`]).
    pub fn add_approver(&mut self, id: &str, key: PublicKey) -> Result<()> {
        self.constraints.approvers.add(id, key)
    }

    /// Calls this rule covers (`tool:operation:prefix`, `*` for any, e.g. `deploy:*:production/`)
    /// need a human approval, whatever the token says ([`crate::constraints`]).
    pub fn add_approval_rule(&mut self, rule: Right) -> Result<()> {
        rule.validate()?;
        if self.constraints.approval_rules.len() >= crate::constraints::MAX_APPROVAL_RULES {
            return Err(Error::new(ErrorKind::LimitsExceeded, "too many approval rules"));
        }
        self.constraints.approval_rules.push(rule);
        Ok(())
    }

    /// An operator policy in Rego, applied to every call the token allows ([`crate::rego`]).
    #[cfg(feature = "rego")]
    pub fn add_rego_policy(&mut self, policy: crate::rego::RegoPolicy) {
        self.constraints.rego.push(policy);
    }

    /// Roles for Rego's `input.agent.role`: agent path or id → role (operator data; a path
    /// wins over an id).
    pub fn set_roles(&mut self, roles: BTreeMap<String, String>) {
        self.constraints.roles = roles;
    }

    /// Counts delegation budgets in `store` (default: a bounded in-process store; a fleet
    /// shares one, e.g. `marque_redis::RedisCounterStore`).
    pub fn set_counter_store(&mut self, store: Arc<dyn CounterStore>) {
        self.counters = store;
    }

    /// [`set_counter_store`](Self::set_counter_store), by value.
    pub fn with_counter_store(mut self, store: Arc<dyn CounterStore>) -> Self {
        self.counters = store;
        self
    }

    /// A verifier trusting the root keys of a JWKS document (`{"keys":[…]}`, see
    /// [`parse_jwks`]): rotating the root key is publishing a new document.
    ///
    /// ```
    /// use marque::{verify::to_jwks, KeyPair, Verifier};
    /// let root = KeyPair::from_seed(&[1; 32]).public_key();
    /// let doc = to_jwks(&[(marque::verify::derived_key_id(&root), root)]);
    /// let verifier = Verifier::from_jwks(&doc)?;
    /// assert_eq!(verifier.root_keys()[0].1, root);
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn from_jwks(jwks: &str) -> Result<Self> {
        Ok(Verifier::with_key_ids(parse_jwks(jwks)?))
    }

    /// Replaces every trusted root key with those of a JWKS document (policies, limits and
    /// revocations stay; tokens verified under the old keys are forgotten).
    pub fn set_root_keys_from_jwks(&mut self, jwks: &str) -> Result<()> {
        let keys = parse_jwks(jwks)?;
        self.roots.clear();
        for (id, key) in keys {
            self.add_root_key(Some(id), key);
        }
        self.forget_verified();
        Ok(())
    }

    /// Trusts another root key (`id` = None: its derived id).
    pub fn add_root_key(&mut self, id: Option<u32>, key: PublicKey) {
        if let Ok(biscuit) = key.to_biscuit() {
            self.roots.push(RootKey { id: Some(id.unwrap_or_else(|| derived_key_id(&key))), key, biscuit });
        }
        // Trust changed: forget what was verified under the previous set of roots.
        self.forget_verified();
    }

    /// Empties the verified-token and verified-prefix caches.
    fn forget_verified(&mut self) {
        self.verified = RwLock::new(VerifiedCache::new(self.limits.verified_cache_capacity));
        self.prefixes = RwLock::new(PrefixCache::new(self.limits.prefix_cache_capacity));
    }

    /// The trusted root keys with their ids.
    pub fn root_keys(&self) -> Vec<(u32, PublicKey)> {
        self.roots.iter().map(|r| (r.id.unwrap_or_default(), r.key)).collect()
    }

    /// Replaces the limits (the default in-memory replay store is reset to the new capacity; a
    /// store set with [`set_replay_store`](Self::set_replay_store) is kept).
    pub fn set_limits(&mut self, limits: Limits) {
        if self.replay_is_default {
            self.replay = memory_store(&limits);
        }
        self.limits = limits;
        self.forget_verified();
    }

    /// Builder form of [`set_limits`](Self::set_limits).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.set_limits(limits);
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Uses `store` to remember used proofs instead of the default in-memory one: give every
    /// verifier of a fleet the same store (Redis: the `marque-redis` crate) and a proof accepted
    /// by one is refused (`replayed_proof`) by all. A store that cannot answer makes the call an
    /// error, `replay_store_unavailable` (fail closed).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use marque::{KeyPair, Token, Verifier, token::MintParams, policy::{Request, Right}};
    /// use marque::replay::{MemoryReplayStore, ReplayStore};
    /// let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
    /// let now = 1_700_000_000;
    /// let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:alice")
    ///     .right(Right::new("read_file", "read", "*")).now(now))?;
    /// let shared: Arc<dyn ReplayStore> = Arc::new(MemoryReplayStore::new(1000, 100));
    /// let one = Verifier::new([root.public_key()]).with_replay_store(shared.clone());
    /// let two = Verifier::new([root.public_key()]).with_replay_store(shared);
    /// let req = Request::new("read_file", "read", "a.rs");
    /// let proof = token.sign_proof(&agent, &req, Some(now))?;
    /// assert!(one.authorize(token.to_bytes(), &req, Some(&proof), Some(now))?.allowed);
    /// let again = two.authorize(token.to_bytes(), &req, Some(&proof), Some(now))?;
    /// assert_eq!(again.code.as_deref(), Some("replayed_proof"));
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn set_replay_store(&mut self, store: Arc<dyn ReplayStore>) {
        self.replay = store;
        self.replay_is_default = false;
    }

    /// Builder form of [`set_replay_store`](Self::set_replay_store).
    pub fn with_replay_store(mut self, store: Arc<dyn ReplayStore>) -> Self {
        self.set_replay_store(store);
        self
    }

    /// When true, every authorization needs a valid proof of possession.
    pub fn set_require_proof(&mut self, require: bool) {
        self.require_proof = require;
    }

    /// Builder form of [`set_require_proof`](Self::set_require_proof).
    pub fn with_require_proof(mut self, require: bool) -> Self {
        self.require_proof = require;
        self
    }

    /// This verifier's own audience (RFC 8707): the canonical URI of the server it guards. With
    /// one, a proof is accepted only if it names exactly this audience (`invalid_proof`
    /// otherwise, a proof naming no audience included); without one (the default), a proof that
    /// names an audience is refused, since this verifier cannot tell whether it is that server.
    /// Tokens too: a token minted for other servers ([`MintParams::audience`](crate::MintParams::audience)),
    /// or for any server at a verifier without an audience, is `invalid_token` before any
    /// Datalog; with an audience the Datalog also gets the fact `audience("<URI>")`. A token
    /// minted without audience is accepted: require proofs
    /// ([`set_require_proof`](Self::set_require_proof)) for such a token replayed without its
    /// proof to be refused.
    ///
    /// ```
    /// use marque::{audience::Audience, KeyPair, MintParams, Request, Right, Token, Verifier};
    /// let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
    /// let now = 1_767_225_600;
    /// let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:u")
    ///     .right(Right::new("read_file", "read", "src/")).now(now))?;
    /// let (a, b) = (Audience::parse("https://a.example/mcp")?, Audience::parse("https://b.example/mcp")?);
    /// let req = Request::new("read_file", "read", "src/a.rs");
    /// let proof = token.sign_proof_for(&agent, &req, Some(&a), Some(now))?;
    /// let at = |aud: &Audience| Verifier::new([root.public_key()]).with_require_proof(true).with_audience(Some(aud.clone()));
    /// assert!(at(&a).authorize(token.to_bytes(), &req, Some(&proof), Some(now))?.allowed);
    /// let at_b = at(&b).authorize(token.to_bytes(), &req, Some(&proof), Some(now))?;
    /// assert_eq!(at_b.code.as_deref(), Some("invalid_proof"));
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn set_audience(&mut self, audience: Option<Audience>) {
        self.audience = audience;
    }

    /// Builder form of [`set_audience`](Self::set_audience).
    pub fn with_audience(mut self, audience: Option<Audience>) -> Self {
        self.audience = audience;
        self
    }

    /// This verifier's audience, if set.
    pub fn audience(&self) -> Option<&Audience> {
        self.audience.as_ref()
    }

    /// Adds a user policy (Datalog `allow if` / `deny if` / `check if` only — facts and rules
    /// are refused so a policy can never inject rights). User policies run before the default
    /// rights policy, in the order added.
    pub fn add_policy(&mut self, policy: Policy) -> Result<()> {
        crate::identity::validate_name("policy id", &policy.id)?;
        let parsed = AuthorizerBuilder::new().code(&policy.source)?;
        let (facts, rules, checks, policies) = parsed.clone().build_unauthenticated()?.dump();
        if !facts.is_empty() || !rules.is_empty() {
            return Err(Error::invalid_argument(format!(
                "policy {:?} declares facts or rules; only allow/deny policies and checks are accepted",
                policy.id
            )));
        }
        let queries = checks.iter().flat_map(|c| c.queries.iter()).chain(policies.iter().flat_map(|p| p.queries.iter()));
        for rule in queries {
            for e in &rule.expressions {
                check_regexes(&policy.id, &e.ops)?;
            }
        }
        // User policies keep their order; the default rights policy stays last.
        let user = self.user_template.clone().merge(parsed);
        self.template = user.clone().policy(RIGHTS_POLICY)?;
        self.user_template = user;
        self.policy_ids.pop();
        self.policy_ids.extend(std::iter::repeat_n(policy.id.clone(), policies.len()));
        self.policy_ids.push(RIGHTS_POLICY_ID.into());
        self.policies.push(policy);
        Ok(())
    }

    /// The user policies, in evaluation order.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// Trusts `key` to sign revocation lists ([`Verifier::load_revocation_list`]).
    pub fn add_operator_key(&mut self, key: PublicKey) {
        if !self.operator_keys.contains(&key) {
            self.operator_keys.push(key);
        }
    }

    /// The operator keys trusted to sign revocation lists.
    pub fn operator_keys(&self) -> &[PublicKey] {
        &self.operator_keys
    }

    /// Fail closed: with `Some(seconds)`, every authorization is refused with
    /// `revocation_list_stale` while no signed list is loaded or the loaded one was issued more
    /// than `seconds` ago. `None` (the default) turns the check off.
    pub fn set_max_revocation_staleness(&mut self, seconds: Option<u64>) {
        self.max_revocation_staleness = seconds;
    }

    /// Builder form of [`Verifier::set_max_revocation_staleness`].
    pub fn with_max_revocation_staleness(mut self, seconds: u64) -> Self {
        self.max_revocation_staleness = Some(seconds);
        self
    }

    /// The configured maximum staleness of the signed revocation list.
    pub fn max_revocation_staleness(&self) -> Option<u64> {
        self.max_revocation_staleness
    }

    /// Loads a signed revocation list, replacing the previous one. Refused unless a trusted
    /// operator key signed it (`revocation_list_invalid`), unless it moves forward
    /// (`revocation_list_rollback`: a lower sequence, an older issue time, or the same sequence
    /// with other content) and unless it was issued at most 5 minutes in the future of `now`
    /// (default: the clock). Returns `false` when it is the list already loaded. Takes `&self`:
    /// a shared verifier can be refreshed while it serves.
    ///
    /// ```
    /// use marque::{KeyPair, RevocationList, RevocationSet, Verifier};
    /// let operator = KeyPair::from_seed(&[5; 32]);
    /// let mut v = Verifier::new([KeyPair::from_seed(&[1; 32]).public_key()]).with_max_revocation_staleness(3600);
    /// v.add_operator_key(operator.public_key());
    /// let mut set = RevocationSet::new();
    /// set.revoke_agent("agent:rogue")?;
    /// let list = RevocationList::sign(&set, 2, Some(1_767_225_600), &operator)?;
    /// assert!(v.load_revocation_list(&list, Some(1_767_225_600))?);
    /// let older = RevocationList::sign(&RevocationSet::new(), 1, Some(1_767_225_700), &operator)?;
    /// assert_eq!(v.load_revocation_list(&older, Some(1_767_225_700)).unwrap_err().code(), "revocation_list_rollback");
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn load_revocation_list(&self, list: &RevocationList, now: Option<u64>) -> Result<bool> {
        let now = resolve_now(now)?;
        list.check_issuer(&self.operator_keys)?;
        if list.issued_at() > now.saturating_add(REVOCATION_LIST_FUTURE_SKEW) {
            return Err(Error::new(
                ErrorKind::RevocationListInvalid,
                format!("the revocation list is issued at {}, in the future of {now}", list.issued_at()),
            ));
        }
        let mut slot = write(&self.revocation_list);
        if let Some(current) = slot.as_ref() {
            if list.sequence() == current.sequence() && list.same_content(current) {
                return Ok(false);
            }
            let why = if list.sequence() < current.sequence() {
                Some(format!("sequence {} is older than the loaded list's {}", list.sequence(), current.sequence()))
            } else if list.sequence() == current.sequence() {
                Some(format!("sequence {} is already loaded with other content", list.sequence()))
            } else if list.issued_at() < current.issued_at() {
                Some(format!(
                    "issued at {}, before the loaded list (issued at {})",
                    list.issued_at(),
                    current.issued_at()
                ))
            } else {
                None
            };
            if let Some(why) = why {
                return Err(Error::new(ErrorKind::RevocationListRollback, format!("revocation list refused: {why}")));
            }
        }
        *slot = Some(list.clone());
        Ok(true)
    }

    /// [`Verifier::load_revocation_list`] from the list's JSON.
    pub fn load_revocation_list_json(&self, json: &str, now: Option<u64>) -> Result<bool> {
        self.load_revocation_list(&RevocationList::from_json(json)?, now)
    }

    /// The signed revocation list in force, if any.
    pub fn revocation_list(&self) -> Option<RevocationList> {
        read(&self.revocation_list).clone()
    }

    /// The fail-closed rule [`Verifier::authorize`] applies first, for callers that admit a token
    /// without a tool call (an HTTP layer answering MCP `initialize`, say): `revocation_list_stale`
    /// when a maximum staleness is set and the signed list is missing or older than it at `now`
    /// (default: the clock). Cheap: no token work, no list copy.
    pub fn check_revocation_list_fresh(&self, now: Option<u64>) -> Result<()> {
        self.check_revocation_freshness(resolve_now(now)?)
    }

    fn check_revocation_freshness(&self, now: u64) -> Result<()> {
        let Some(max) = self.max_revocation_staleness else { return Ok(()) };
        let issued = read(&self.revocation_list).as_ref().map(RevocationList::issued_at);
        match issued {
            None => Err(Error::new(
                ErrorKind::RevocationListStale,
                "no signed revocation list is loaded and the verifier requires one (fail closed)",
            )),
            Some(at) if now.saturating_sub(at) > max => Err(Error::new(
                ErrorKind::RevocationListStale,
                format!("the revocation list was issued {}s ago; the limit is {max}s (fail closed)", now - at),
            )),
            Some(_) => Ok(()),
        }
    }

    /// Revokes a block revocation id (and everything delegated below that block): the 128 hex
    /// digits of [`Token::revocation_ids`] (uppercase and surrounding whitespace are normalized);
    /// anything else — say the 16-digit prefix a `revoked` reason shows — is `invalid_argument`.
    pub fn revoke(&self, revocation_id: &str) -> Result<()> {
        self.with_revocations(|s| s.revoke(revocation_id).map(drop))
    }
    /// Revokes every token naming `agent_id` in its chain (`invalid_argument` unless it is an
    /// agent id).
    pub fn revoke_agent(&self, agent_id: &str) -> Result<()> {
        self.with_revocations(|s| s.revoke_agent(agent_id).map(drop))
    }
    /// Revokes every token whose chain holds `key` (as the root agent's or any hop's key),
    /// whatever agent id it was delegated under.
    ///
    /// ```
    /// use marque::{DelegateParams, KeyPair, MintParams, Request, Right, Token, Verifier};
    /// let (root, orch, stolen) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]));
    /// let now = 1_767_225_600;
    /// let token = Token::mint(&root, &MintParams::new("agent:orch", orch.public_key(), "user:alice")
    ///     .right(Right::new("read_file", "*", "*")).now(now))?;
    /// let verifier = Verifier::new([root.public_key()]);
    /// verifier.revoke_key(&stolen.public_key());
    /// // The compromised key, delegated to under any id, is refused.
    /// for id in ["agent:a", "agent:fresh-name"] {
    ///     let child = token.delegate(&orch, &DelegateParams::new(id, stolen.public_key()).now(now))?;
    ///     let d = verifier.authorize(child.to_bytes(), &Request::new("read_file", "read", "x"), None, Some(now))?;
    ///     assert_eq!(d.code.as_deref(), Some("revoked"));
    /// }
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn revoke_key(&self, key: &PublicKey) {
        self.with_revocations(|s| {
            s.revoke_key(key);
        })
    }
    /// Revokes every token issued for `principal` (`invalid_argument` for a malformed name).
    pub fn revoke_principal(&self, principal: &str) -> Result<()> {
        self.with_revocations(|s| s.revoke_principal(principal).map(drop))
    }
    /// Revokes every token for `task` (`invalid_argument` for a malformed name).
    pub fn revoke_task(&self, task: &str) -> Result<()> {
        self.with_revocations(|s| s.revoke_task(task).map(drop))
    }
    /// A copy of the revocation set.
    pub fn revocations(&self) -> RevocationSet {
        read(&self.revocations).clone()
    }
    /// Adds every entry of `set` to the verifier's revocations, after checking every entry
    /// ([`RevocationSet::validate`]; `invalid_argument`, and nothing is added).
    pub fn merge_revocations(&self, set: &RevocationSet) -> Result<()> {
        set.validate()?;
        self.with_revocations(|s| s.merge(set));
        Ok(())
    }

    fn with_revocations<T>(&self, f: impl FnOnce(&mut RevocationSet) -> T) -> T {
        f(&mut write(&self.revocations))
    }

    /// Authorizes a token given as base64url text.
    pub fn authorize_base64(&self, token: &str, request: &Request, proof: Option<&str>, now: Option<u64>) -> Result<Decision> {
        let bytes = decode_base64(token, &self.limits)?;
        self.authorize(&bytes, request, proof, now)
    }

    /// [`authorize_with_approval`](Self::authorize_with_approval) for a token given as
    /// base64url text.
    pub fn authorize_base64_with_approval(
        &self,
        token: &str,
        request: &Request,
        proof: Option<&str>,
        approval: Option<&str>,
        now: Option<u64>,
    ) -> Result<Decision> {
        let bytes = decode_base64(token, &self.limits)?;
        self.authorize_with_approval(&bytes, request, proof, approval, now)
    }

    /// Authorizes a parsed [`Token`].
    pub fn authorize_token(&self, token: &Token, request: &Request, proof: Option<&str>, now: Option<u64>) -> Result<Decision> {
        self.authorize(token.to_bytes(), request, proof, now)
    }

    /// Like [`authorize`](Self::authorize) but a denial is an `Err` whose kind is the denial code.
    pub fn authorize_or_raise(&self, token: &[u8], request: &Request, proof: Option<&str>, now: Option<u64>) -> Result<Decision> {
        self.authorize(token, request, proof, now)?.into_result()
    }

    /// Verifies `token` (raw bytes) and decides `request` at `now` (default: the clock); a
    /// proof's nonce is claimed in this verifier's replay store.
    pub fn authorize(&self, token: &[u8], request: &Request, proof: Option<&str>, now: Option<u64>) -> Result<Decision> {
        self.authorize_with_approval(token, request, proof, None, now)
    }

    /// [`authorize`](Self::authorize) with a human approval of this exact call
    /// ([`crate::constraints`]): used once, recorded in the decision and its audit event.
    /// Single-use state is spent only for a call everything else allows, in this order: the
    /// proof's nonce, the approval, the budgets (a call refused at a later step has used the
    /// earlier ones).
    pub fn authorize_with_approval(
        &self,
        token: &[u8],
        request: &Request,
        proof: Option<&str>,
        approval: Option<&str>,
        now: Option<u64>,
    ) -> Result<Decision> {
        let pending = match self.stage(token, request, proof, approval, now)? {
            Authorization::Decided(d) => return Ok(d),
            Authorization::Pending(p) => p,
        };
        // The order of single-use state is the pending authorization's: nonce, approval, budgets.
        let pending = match pending.claim_in(self.replay.as_ref())? {
            Authorization::Decided(d) => return Ok(d),
            Authorization::Pending(p) => p,
        };
        let outcome = self.counters.spend(pending.charges());
        pending.spent(outcome)
    }

    /// [`authorize_begin`](Self::authorize_begin) for a token given as base64url text.
    pub fn authorize_begin_base64(&self, token: &str, request: &Request, proof: Option<&str>, now: Option<u64>) -> Result<Authorization> {
        self.authorize_begin_base64_with_approval(token, request, proof, None, now)
    }

    /// The first half of [`authorize`](Self::authorize), for a host whose stores answer
    /// asynchronously (a JS `Promise`, Python `asyncio`): everything is decided except the
    /// single-use state. [`Authorization::Pending`] means "allowed if the proof's nonce can be
    /// claimed and the budgets spent": the host claims [`PendingClaim::claim`] in its replay
    /// store and hands the answer to [`PendingClaim::claimed`], then spends
    /// [`PendingClaim::charges`] in its counter store and hands that answer to
    /// [`PendingClaim::spent`] (see [`crate::pending`]). A denied call never reaches a store.
    /// ```
    /// use marque::{KeyPair, Token, Verifier, token::MintParams, policy::{Request, Right}};
    /// use marque::{replay::Claim, verify::Authorization};
    /// let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
    /// let now = 1_700_000_000;
    /// let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:alice")
    ///     .right(Right::new("read_file", "read", "*")).now(now))?;
    /// let v = Verifier::new([root.public_key()]);
    /// let req = Request::new("read_file", "read", "a.rs");
    /// let proof = token.sign_proof(&agent, &req, Some(now))?;
    /// let Authorization::Pending(p) = v.authorize_begin(token.to_bytes(), &req, Some(&proof), Some(now))? else {
    ///     unreachable!()
    /// };
    /// assert!(p.claim().expect("a nonce").key().starts_with("marque:replay:"));
    /// assert_eq!(p.finish(Ok(Claim::AlreadyUsed))?.code.as_deref(), Some("replayed_proof"));
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn authorize_begin(&self, token: &[u8], request: &Request, proof: Option<&str>, now: Option<u64>) -> Result<Authorization> {
        self.authorize_begin_with_approval(token, request, proof, None, now)
    }

    /// [`authorize_begin`](Self::authorize_begin) with a human approval of this exact call
    /// ([`crate::approval`]): verified now, and claimed once in the host's replay store after
    /// the proof's nonce — [`PendingClaim::claim`] names the nonce, then the approval; a used
    /// approval is denied `approval_required`, asking for a new one.
    pub fn authorize_begin_with_approval(
        &self,
        token: &[u8],
        request: &Request,
        proof: Option<&str>,
        approval: Option<&str>,
        now: Option<u64>,
    ) -> Result<Authorization> {
        self.stage(token, request, proof, approval, now)
    }

    /// [`authorize_begin_with_approval`](Self::authorize_begin_with_approval) for a token given
    /// as base64url text.
    pub fn authorize_begin_base64_with_approval(
        &self,
        token: &str,
        request: &Request,
        proof: Option<&str>,
        approval: Option<&str>,
        now: Option<u64>,
    ) -> Result<Authorization> {
        let bytes = decode_base64(token, &self.limits)?;
        self.authorize_begin_with_approval(&bytes, request, proof, approval, now)
    }

    /// Everything up to the single-use state: the decision, pending the proof's nonce, the
    /// verified approval to claim and the budget charges to spend.
    fn stage(&self, token: &[u8], request: &Request, proof: Option<&str>, approval: Option<&str>, now: Option<u64>) -> Result<Authorization> {
        let now = resolve_now(now)?;
        request.validate(&self.limits)?;
        // Fail closed before any work when the revocation list is too old.
        self.check_revocation_freshness(now)?;
        let verified = self.verify_cached(token)?;
        let (biscuit, claims) = (&verified.biscuit, &verified.claims);
        let mut decision = self.blank_decision(claims, request, now);

        // Revocation first: a revoked token never reaches Datalog.
        if let Some(r) = self.revoked(claims) {
            return Ok(Authorization::Decided(deny(decision, ErrorKind::Revoked, r.to_string())));
        }
        let pending = match self.check_proof(token, request, proof, now, claims)? {
            Ok(pending) => pending,
            Err((kind, reason)) => return Ok(Authorization::Decided(deny(decision, kind, reason))),
        };
        decision.proof_verified = pending.is_some();
        let mut authorizer = self.authorizer(biscuit, claims, request, now)?;
        match crate::compat::authorize(&mut authorizer, self.limits.max_facts) {
            Ok(index) => {
                decision.policy = self.policy_ids.get(index).cloned();
                if self.constraints.is_empty() && claims.hops.iter().all(|h| h.budget.is_none() && h.approval.is_empty()) {
                    decision.allowed = true;
                    return Ok(PendingClaim::start(decision, pending, None, Vec::new()));
                }
                let skew = self.limits.proof_future_skew_seconds;
                match self.constraints.gate(token, claims, request, approval, now, skew)? {
                    Gate::Pass { approval, charges, policy } => {
                        // Allowed — if the proof's nonce can still be claimed (atomically, by the
                        // store: of two concurrent calls with one proof, the second is
                        // `replayed_proof`), then the approval, then the budgets.
                        decision.allowed = true;
                        if policy.is_some() {
                            decision.policy = policy;
                        }
                        Ok(PendingClaim::start(decision, pending, approval, charges))
                    }
                    Gate::Deny { kind, reason, policy, request } => {
                        decision.policy = policy.or(decision.policy);
                        decision.approval_request = request;
                        Ok(Authorization::Decided(deny(decision, kind, reason)))
                    }
                }
            }
            Err(biscuit_auth::error::Token::FailedLogic(logic)) => {
                Ok(Authorization::Decided(self.denied_by_datalog(decision, logic, claims, request, now)?))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Proof of possession, by the acting agent's key: signature, binding, freshness and replay
    /// now (a replayed nonce the store can see cheaply never reaches Datalog); its nonce is
    /// claimed only once the call is allowed, so proofs of refused calls never burn a nonce or
    /// fill the store. `Ok(Ok(claim))`: go on (`Some` when a proof was verified); `Ok(Err(…))`:
    /// denied with this code and reason; `Err`: an error (a full cache, a store that cannot answer).
    #[allow(clippy::type_complexity)]
    fn check_proof(
        &self,
        token: &[u8],
        request: &Request,
        proof: Option<&str>,
        now: u64,
        claims: &Claims,
    ) -> Result<std::result::Result<Option<ReplayClaim>, (ErrorKind, String)>> {
        let holder = claims.holder();
        match proof {
            Some(p) => {
                let req = ProofRequest {
                    tool: &request.tool,
                    operation: &request.operation,
                    resource: &request.resource,
                    audience: self.audience.as_ref(),
                };
                let checked = verify_proof(
                    p,
                    &holder.key,
                    token,
                    &req,
                    now,
                    self.limits.proof_window_seconds,
                    self.limits.proof_future_skew_seconds,
                )
                .and_then(|c| {
                    let claim = ReplayClaim::new(
                        &holder.key,
                        &c.nonce,
                        c.iat,
                        now,
                        self.limits.proof_window_seconds,
                        self.limits.proof_future_skew_seconds,
                    );
                    match self.replay.seen(&claim) {
                        Ok(false) => Ok(claim),
                        Ok(true) => Err(crate::replay::replayed()),
                        Err(e) => Err(store_error(e)),
                    }
                });
                match checked {
                    Ok(claim) => Ok(Ok(Some(claim))),
                    Err(e) if matches!(e.kind(), ErrorKind::LimitsExceeded | ErrorKind::ReplayStoreUnavailable) => Err(e),
                    Err(e) => Ok(Err((e.kind(), e.message().to_string()))),
                }
            }
            None if self.require_proof => Ok(Err((ErrorKind::InvalidProof, "a proof of possession is required".into()))),
            None => Ok(Ok(None)),
        }
    }

    /// The Datalog authorizer for one request: the verifier's own facts (time, the request,
    /// depth, the acting agent), user policies and the rights policy, under the run limits.
    fn authorizer(&self, biscuit: &Biscuit, claims: &Claims, request: &Request, now: u64) -> Result<biscuit_auth::Authorizer> {
        let holder = claims.holder();
        let mut builder = self
            .template
            .clone()
            .fact(fact("time", &[Term::Date(now)]))?
            .fact(fact("tool", &[Term::Str(request.tool.clone())]))?
            .fact(fact("operation", &[Term::Str(request.operation.clone())]))?
            .fact(fact("resource", &[Term::Str(request.resource.clone())]))?
            .fact(fact("depth", &[Term::Integer(i64::from(claims.depth()))]))?
            .fact(fact("actor", &[Term::Str(holder.agent.clone())]))?
            .fact(fact("actor_path", &[Term::Str(holder.path.clone())]))?
            .fact(fact("actor_key", &[Term::Bytes(holder.key.to_bytes().to_vec())]))?;
        if let Some(a) = &self.audience {
            builder = builder.fact(fact("audience", &[Term::Str(a.as_str().to_string())]))?;
        }
        for (k, v) in &request.attributes {
            builder = builder.fact(fact("attribute", &[Term::Str(k.clone()), Term::Str(v.clone())]))?;
        }
        let authorizer = builder
            .set_limits(AuthorizerLimits {
                max_facts: self.limits.max_facts,
                max_iterations: self.limits.max_iterations,
                max_time: std::time::Duration::from_micros(self.limits.max_time_micros),
            })
            .build(biscuit)?;
        // biscuit-auth bounds the facts that rules derive, not the facts a token declares.
        if authorizer.fact_count() as u64 > self.limits.max_facts {
            return Err(Error::new(
                ErrorKind::LimitsExceeded,
                format!("the token declares {} facts; the limit is {}", authorizer.fact_count(), self.limits.max_facts),
            ));
        }
        Ok(authorizer)
    }

    /// The decision when Datalog denies: the failed checks (attributed to their delegation),
    /// the policy that denied, and the code — `expired`, `depth_exceeded` or `not_authorized`.
    fn denied_by_datalog(&self, mut decision: Decision, logic: Logic, claims: &Claims, request: &Request, now: u64) -> Result<Decision> {
        let (policy, checks) = match logic {
            Logic::Unauthorized { policy, checks } => (Some(policy), checks),
            Logic::NoMatchingPolicy { checks } => (None, checks),
            other => return Err(Error::invalid_token(format!("token logic error: {other}"))),
        };
        let mut reasons: Vec<String> = checks.iter().map(|c| self.describe_check(c, claims)).collect();
        match policy {
            Some(MatchedPolicy::Deny(i)) => {
                let id = self.policy_ids.get(i).cloned().unwrap_or_default();
                reasons.insert(0, format!("denied by policy {id}"));
                decision.policy = Some(id);
            }
            Some(MatchedPolicy::Allow(i)) => decision.policy = self.policy_ids.get(i).cloned(),
            None => reasons.push(format!(
                "no policy allows {}:{} on {:?} (no right of the token covers it)",
                request.tool, request.operation, request.resource
            )),
        }
        let kind = if now > claims.expires_at() {
            ErrorKind::Expired
        } else if claims.depth() > claims.max_depth() {
            ErrorKind::DepthExceeded
        } else {
            ErrorKind::NotAuthorized
        };
        decision.reasons = reasons;
        decision.code = Some(kind.code().into());
        Ok(decision)
    }

    /// Why `token` is revoked under the current revocation set, if it is (no Datalog runs). Lets
    /// an HTTP layer refuse a revoked token before any tool call is decided.
    pub fn revocation_reason(&self, token: &Token) -> Option<String> {
        self.revoked(token.claims()).map(|r| r.to_string())
    }

    pub(crate) fn revoked(&self, claims: &Claims) -> Option<crate::revocation::Revoked> {
        let check = |set: &RevocationSet| {
            set.check(
                claims.revocation_ids.iter().map(String::as_str),
                claims.chain.iter().map(|h| (h.agent.as_str(), &h.key)),
                &claims.authority.principal,
                claims.authority.task.as_deref(),
            )
        };
        let local = check(&read(&self.revocations));
        local.or_else(|| read(&self.revocation_list).as_ref().and_then(|l| check(l.revoked())))
    }

    /// Verifies signatures and structure only, returning what the token claims.
    pub fn verify(&self, token: &[u8]) -> Result<Token> {
        let (_, claims) = self.verify_token(token)?;
        self.check_token_audience(&claims)?;
        Token::from_bytes_limited(token, &self.limits)
    }

    /// Audience binding of tokens (RFC 8707), decided before any Datalog: a token bound to
    /// servers is `invalid_token` unless this verifier's audience is one of them — and at a
    /// verifier with no audience, which cannot tell whether it is one of them (fail closed). A
    /// token bound to no server passes. The authority block's check
    /// `check if audience($audience), token_audience($audience)` says the same in Datalog.
    pub(crate) fn check_token_audience(&self, claims: &Claims) -> Result<()> {
        let bound = &claims.authority.audiences;
        if bound.is_empty() {
            return Ok(());
        }
        let list = || bound.iter().map(Audience::as_str).collect::<Vec<_>>().join(", ");
        match &self.audience {
            Some(mine) if bound.contains(mine) => Ok(()),
            Some(mine) => Err(Error::invalid_token(format!("the token is for {} (its audience), not for this server ({mine})", list()))),
            None => Err(Error::invalid_token(format!(
                "the token is bound to {} (its audience) and this verifier has no audience set, so it cannot be that server",
                list()
            ))),
        }
    }

    /// Verifies through the cache of already-verified tokens, then the token's audience
    /// against this verifier's ([`check_token_audience`](Self::check_token_audience)).
    pub(crate) fn verify_cached(&self, token: &[u8]) -> Result<Arc<Verified>> {
        if self.limits.verified_cache_capacity == 0 || token.len() > self.limits.max_token_bytes {
            let (biscuit, claims) = self.verify_token(token)?;
            self.check_token_audience(&claims)?;
            return Ok(Arc::new(Verified { biscuit, claims }));
        }
        let key: [u8; 32] = Sha256::digest(token).into();
        if let Some(hit) = read(&self.verified).get(&key) {
            self.check_token_audience(&hit.claims)?;
            return Ok(hit);
        }
        let (biscuit, claims) = self.verify_token(token)?;
        let verified = Arc::new(Verified { biscuit, claims });
        write(&self.verified).insert(key, Arc::clone(&verified));
        self.check_token_audience(&verified.claims)?;
        Ok(verified)
    }

    /// How many verified tokens are remembered.
    pub fn verified_cache_len(&self) -> usize {
        read(&self.verified).map.len()
    }

    /// The counters of the verified-prefix cache ([`crate::prefix_cache`]): prefixes held,
    /// blocks whose signatures were checked, blocks reused from a prefix verified before.
    pub fn prefix_cache_stats(&self) -> PrefixCacheStats {
        read(&self.prefixes).stats()
    }

    fn verify_token(&self, token: &[u8]) -> Result<(Biscuit, Claims)> {
        crate::token::check_token_size(token.len(), self.limits.max_token_bytes)?;
        if self.roots.is_empty() {
            return Err(Error::new(ErrorKind::UnknownRootKey, "the verifier trusts no root key"));
        }
        // Size, block count, Ed25519-only keys and the descriptors, before any signature work.
        let outline = crate::token::outline(token, &self.limits)?;
        let parsed = self.parse_with_roots(token, outline.root_key_id)?;
        let biscuit = parsed.biscuit;
        // Every block must be the profile's block for its descriptor (checked there, before any
        // Datalog runs: crate::canonical), except those of a prefix verified before.
        let claims = Claims::from_parts(
            &outline.decoded,
            &outline.blocks,
            biscuit.external_public_keys(),
            biscuit.revocation_identifiers(),
            parsed.skipped,
        )?;
        // Every signature and every structural check passed: remember the token's prefixes.
        if !parsed.digests.is_empty() {
            write(&self.prefixes).insert(&parsed.digests);
        }
        Ok((biscuit, claims))
    }

    /// Parses `token` and checks its signatures under the root its key id names (or, for an
    /// unknown or absent id, each trusted root in turn), reusing verified prefixes.
    fn parse_with_roots(&self, token: &[u8], kid: Option<u32>) -> Result<crate::compat::Verified> {
        use biscuit_auth::error::{Format, Token as T};
        let lookup = |digests: &[crate::prefix_cache::PrefixDigest]| {
            let cache = read(&self.prefixes);
            let reused = cache.verified_blocks(digests);
            cache.record(0, reused);
            reused
        };
        let lookup: Option<crate::prefix_cache::PrefixLookup<'_>> =
            if self.limits.prefix_cache_capacity > 0 { Some(&lookup) } else { None };
        let parse = |root: &RootKey| {
            crate::compat::parse_verified(token, &root.biscuit, lookup).inspect(|p| read(&self.prefixes).record(p.checked, 0))
        };
        if let Some(root) = kid.and_then(|id| self.roots.iter().find(|r| r.id == Some(id))) {
            return parse(root).map_err(Error::from);
        }
        // Unknown or absent key id: try every trusted root.
        let mut last = None;
        for root in &self.roots {
            match parse(root) {
                Ok(b) => return Ok(b),
                Err(T::Format(Format::Signature(_))) => last = Some(()),
                Err(e) => return Err(e.into()),
            }
        }
        let _ = last;
        if kid.is_none() && self.roots.len() == 1 {
            Err(Error::new(
                ErrorKind::InvalidSignature,
                "the token does not verify with the trusted root key (tampered, or minted by another root)",
            ))
        } else {
            Err(Error::new(ErrorKind::UnknownRootKey, "the token was not issued by a trusted root key"))
        }
    }

    fn blank_decision(&self, claims: &Claims, request: &Request, now: u64) -> Decision {
        let holder: &Hop = claims.holder();
        Decision {
            allowed: false,
            code: None,
            agent: holder.agent.clone(),
            path: holder.path.clone(),
            agent_key_fingerprint: holder.key.fingerprint(),
            agent_key: holder.key.to_hex(),
            principal: claims.authority.principal.clone(),
            task: claims.authority.task.clone(),
            workspace: claims.authority.workspace.clone(),
            chain: claims.chain.iter().map(|h| h.agent.clone()).collect(),
            chain_key_fingerprints: claims.chain.iter().map(Hop::fingerprint).collect(),
            policy: None,
            reasons: Vec::new(),
            revocation_ids: claims.revocation_ids.clone(),
            request: request.clone(),
            time: now,
            expires_at: claims.expires_at(),
            proof_verified: false,
            approval: None,
            approval_request: None,
        }
    }

    fn describe_check(&self, check: &FailedCheck, claims: &Claims) -> String {
        match check {
            FailedCheck::Block(b) => {
                let i = b.block_id as usize;
                if i == 0 {
                    format!("authority block: {}", b.rule)
                } else {
                    let by = claims.chain.get(i - 1).map(|h| h.agent.as_str()).unwrap_or("?");
                    let to = claims.chain.get(i).map(|h| h.agent.as_str()).unwrap_or("?");
                    format!("delegation {i} ({by} → {to}): {}", b.rule)
                }
            }
            FailedCheck::Authorizer(a) => format!("verifier policy: {}", a.rule),
        }
    }
}

/// Refuses a policy whose `.matches(…)` pattern does not compile in this build (a syntax error,
/// `\p{..}` classes without the `regex-full` feature), would match differently here than in a
/// build with `regex-full` (see [`ascii_only_construct`]), or is not a string literal. Biscuit
/// evaluates a regex that does not compile as "no match", so such a `deny if` would silently
/// never deny: refusing it at configuration time fails closed.
fn check_regexes(policy_id: &str, ops: &[biscuit_auth::builder::Op]) -> Result<()> {
    use biscuit_auth::builder::{Binary, Op};
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Binary(Binary::Regex) => match i.checked_sub(1).and_then(|j| ops.get(j)) {
                Some(Op::Value(Term::Str(pattern))) => {
                    #[cfg(feature = "regex-full")]
                    let compiled = regex::Regex::new(pattern).map(drop).map_err(|e| e.to_string());
                    #[cfg(not(feature = "regex-full"))]
                    let compiled = match ascii_only_construct(pattern) {
                        Some(what) => Err(format!(
                            "{what} would match ASCII only in this build (regex-lite: feature regex-full is off); \
                             spell the class out, e.g. [A-Za-z0-9_]"
                        )),
                        None => regex_lite::Regex::new(pattern).map(drop).map_err(|e| e.to_string()),
                    };
                    if let Err(e) = compiled {
                        return Err(Error::invalid_argument(format!(
                            "policy {policy_id:?}: regex {:?} does not compile in this build: {}",
                            crate::error::sanitize(pattern),
                            crate::error::sanitize(&e)
                        )));
                    }
                }
                _ => {
                    return Err(Error::invalid_argument(format!(
                        "policy {policy_id:?}: the pattern of .matches() must be a string literal"
                    )))
                }
            },
            Op::Closure(_, inner) => check_regexes(policy_id, inner)?,
            _ => {}
        }
    }
    Ok(())
}

/// Locks a mutex, recovering from poisoning (the guarded caches stay consistent on panic).
/// The first construct of `pattern` whose meaning regex-lite (builds without `regex-full`, such
/// as the wasm module) narrows to ASCII, where the full engine is Unicode-aware: the Perl classes
/// `\w \d \s` (and negations), the word boundaries `\b \B`, and case-insensitive matching
/// (`(?i)`). A user policy using one would decide differently on non-ASCII input than the same
/// policy on a native verifier, so it is refused instead. Conservative: an escaped backslash is
/// skipped, everything else that looks like one of these is reported.
#[cfg_attr(feature = "regex-full", allow(dead_code))]
fn ascii_only_construct(pattern: &str) -> Option<String> {
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n @ ('w' | 'W' | 'd' | 'D' | 's' | 'S' | 'b' | 'B')) = chars.next() {
                    return Some(format!("\\{n}"));
                }
            }
            '(' if chars.peek() == Some(&'?') => {
                chars.next();
                let mut enabling = true;
                while let Some(&f) = chars.peek() {
                    match f {
                        '-' => enabling = false,
                        'i' if enabling => return Some("case-insensitive matching (?i)".into()),
                        f if f.is_ascii_alphabetic() => {}
                        _ => break,
                    }
                    chars.next();
                }
            }
            _ => {}
        }
    }
    None
}

/// A poisoned lock only means another thread panicked while holding it; the data (sets and
/// lists replaced whole) stays consistent, so keep serving rather than propagate the panic.
fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_with_regexes_that_do_not_compile_are_refused() {
        let mut v = Verifier::new([]);
        v.add_policy(Policy::new("ascii", "deny if resource($r), $r.matches(\"^secrets/[a-z]+$\");")).unwrap();
        for (id, src) in [
            ("syntax", "deny if resource($r), $r.matches(\"(unclosed\");"),
            ("in-check", "check if resource($r), $r.matches(\"[z-a]\");"),
            ("variable", "deny if resource($r), attribute(\"re\", $p), $r.matches($p);"),
        ] {
            let e = v.add_policy(Policy::new(id, src)).unwrap_err();
            assert_eq!(e.code(), "invalid_argument", "{id}: {e}");
        }
        // Unicode classes compile only with the full regex engine.
        let unicode = v.add_policy(Policy::new("unicode", "deny if resource($r), $r.matches(\"\\\\p{L}\");"));
        assert_eq!(unicode.is_ok(), cfg!(feature = "regex-full"), "{unicode:?}");
    }

    #[test]
    fn constructs_regex_lite_narrows_to_ascii_are_found() {
        for (pattern, found) in [
            (r"^\w+$", Some(r"\w")),
            (r"[\d-]", Some(r"\d")),
            (r"a\Sb", Some(r"\S")),
            (r"\bword", Some(r"\b")),
            (r"(?i)secret", Some("case-insensitive matching (?i)")),
            (r"(?xi:secret)", Some("case-insensitive matching (?i)")),
            (r"^secrets/[a-z]+$", None),
            (r"\\w", None),               // an escaped backslash, then a literal w
            (r"(?-i)secret", None),
            (r"(?P<id>[0-9]+)", None),
            (r"(?:a|b)\.", None),
            (r"[[:alpha:]]", None),
        ] {
            assert_eq!(ascii_only_construct(pattern).as_deref(), found, "{pattern}");
        }
    }

    #[test]
    fn verifier_and_token_are_thread_safe() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Verifier>();
        assert_send_sync::<Token>();
        assert_send_sync::<Decision>();
    }

    #[test]
    fn decision_json_round_trips_and_rejects_garbage() {
        let d = Decision {
            allowed: false,
            code: Some("not_authorized".into()),
            agent: "agent:a".into(),
            path: "/root".into(),
            agent_key_fingerprint: "ed25519:0011223344556677".into(),
            agent_key: String::new(),
            principal: "user:u".into(),
            task: None,
            workspace: Some("w".into()),
            chain: vec!["agent:a".into()],
            chain_key_fingerprints: vec!["ed25519:0011223344556677".into()],
            policy: None,
            reasons: vec!["no".into()],
            revocation_ids: vec!["ab".into()],
            request: Request::new("t", "o", "r").attribute("k", "v"),
            time: 5,
            expires_at: 10,
            proof_verified: false,
            approval: None,
            approval_request: None,
        };
        assert_eq!(Decision::from_json(&d.to_json()).unwrap(), d);
        for bad in ["", "{}", "[1]", "{\"allowed\":true}"] {
            assert_eq!(Decision::from_json(bad).unwrap_err().code(), "invalid_argument", "{bad}");
        }
    }
}
