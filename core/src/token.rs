//! Tokens: minting a Biscuit v3 identity token for an agent, and reading one.
//!
//! [`Token::mint`] builds the authority block, signed by the root key: who the agent is (id and
//! public key), on whose behalf (principal), for which task and workspace, which rights, when it
//! was issued and when it expires, and how deep it may be delegated. The exact Datalog is
//! marque's wire contract, written down in `docs/PROFILE.md`; the claims are read back from it. A parsed
//! [`Token`] is *not trusted*: it tells you what the token claims (its chain of hops, revocation
//! ids, readable Datalog) so an agent can delegate or present it; only a
//! [`Verifier`](crate::verify::Verifier) decides whether to believe it.
//!
//! ```
//! use marque::{KeyPair, Token, token::MintParams, policy::Right};
//! let root = KeyPair::from_seed(&[1; 32]);
//! let agent = KeyPair::from_seed(&[2; 32]);
//! let token = Token::mint(
//!     &root,
//!     &MintParams::new("agent:orchestrator", agent.public_key(), "user:alice")
//!         .task("fix-issue-42")
//!         .right(Right::new("read_file", "read", "src/"))
//!         .ttl_seconds(3600)
//!         .now(1_700_000_000),
//! )?;
//! assert_eq!(token.agent(), "agent:orchestrator");
//! assert_eq!(token.path(), "/root");
//! assert_eq!(token.revocation_ids().len(), 1);
//! let again = Token::from_base64(&token.to_base64())?;
//! assert_eq!(again, token);
//! # Ok::<(), marque::Error>(())
//! ```

use base64::Engine as _;
use biscuit_auth::builder::{Binary, Check, CheckKind, Expression, Fact, Op, Predicate, Rule, Term};
use biscuit_auth::{BiscuitBuilder, UnverifiedBiscuit};
use prost::Message as _;

use crate::audience::Audience;
use crate::error::{Error, ErrorKind, Result};
use crate::identity::{validate_agent_id, validate_name, ROOT_PATH};
use crate::keys::{hex_encode, KeyPair, PublicKey};
use crate::signer::{sign_checked, Signer};
use crate::policy::Right;

/// Version of the token profile, written once, in the authority block (`marque_profile(3)`).
/// Version 3: each claim is written once, as Datalog, and read back from it (version 2 carried a
/// JSON descriptor beside the Datalog; version 1 matched resources as plain string prefixes); a
/// token of another version is `invalid_token` ("profile 2 token: re-mint it").
pub const PROFILE_VERSION: u32 = 3;
/// Default maximum delegation depth.
pub const DEFAULT_MAX_DEPTH: u32 = 4;
/// Largest delegation depth a token may allow.
pub const MAX_DEPTH_CAP: u32 = 64;
/// Largest number of rights in one token.
pub const MAX_RIGHTS: usize = 256;
/// Largest number of audiences (servers) one token may be bound to.
pub const MAX_AUDIENCES: usize = 16;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What the authority block claims, read back from its facts ([`crate::canonical`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AuthorityInfo {
    pub agent: String,
    pub principal: String,
    pub task: Option<String>,
    pub workspace: Option<String>,
    pub rights: Vec<Right>,
    pub iat: u64,
    pub exp: u64,
    pub max_depth: u32,
    /// The servers the token is for (RFC 8707), canonical, in the order minted; empty: any.
    pub audiences: Vec<Audience>,
}

/// What a delegation block claims beside the child's id and key (its `hop` fact): the
/// constants of its checks, read back from them ([`crate::canonical`]). `None`: no narrowing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HopInfo {
    pub agent: String,
    pub tools: Option<Vec<String>>,
    pub operations: Option<Vec<String>>,
    pub resource_prefix: Option<String>,
    pub exp: u64,
    pub max_depth: Option<u32>,
    /// Calls this hop's subtree may make (lifetime and/or rate), counted at every verifier.
    pub budget: crate::budget::Budget,
    /// Calls of this hop's subtree that need a human approval (`tool`, `operation`, prefix).
    pub approval: Vec<crate::policy::Right>,
}

/// One agent of a token's delegation chain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Hop {
    /// Agent id, e.g. `agent:reviewer`.
    pub agent: String,
    /// Path in the spawn tree, e.g. `/root/agent_a`.
    pub path: String,
    /// The agent's public key.
    pub key: PublicKey,
}

impl Hop {
    /// The key's short fingerprint.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint()
    }
}

/// What a token claims, read back from its blocks' Datalog and checked for structure:
/// every delegation block must be signed (as a Biscuit third-party block) by the key that the
/// previous block named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Claims {
    pub authority: AuthorityInfo,
    pub hops: Vec<HopInfo>,
    pub chain: Vec<Hop>,
    pub revocation_ids: Vec<String>,
}

impl Claims {
    /// Reads each block's claims back from its Datalog, checks the hop-signer chain, then that
    /// every block is canonical: its serialized Datalog (`blocks[i]`, as signed) is exactly what
    /// the profile's builders make from the claims read ([`crate::canonical`]). `decoded[i]` is
    /// `blocks[i]` decoded; `external_keys[i]` is the key that signed block `i` as a third party
    /// (None for the authority block).
    pub(crate) fn from_parts(
        decoded: &[biscuit_auth::format::schema::Block],
        blocks: &[Vec<u8>],
        external_keys: Vec<Option<biscuit_auth::PublicKey>>,
        revocation_ids: Vec<Vec<u8>>,
        verified_prefix: usize,
    ) -> Result<Claims> {
        let (first, rest) = decoded.split_first().ok_or_else(|| Error::invalid_token("not a marque token: no authority block"))?;
        let (authority, root_key) = crate::canonical::read_authority(first)?;
        // Prefixes are written in canonical form (`src/`, not `src`): the one form the rights
        // policy and the hop checks read on segment boundaries.
        if authority.rights.iter().any(|r| !crate::resource::is_canonical(&r.resource)) {
            return Err(Error::invalid_token("the authority block has a right whose resource is not in canonical form"));
        }
        if external_keys.first().map(Option::is_some).unwrap_or(false) {
            return Err(Error::invalid_token("the authority block must be signed by the root key only"));
        }
        let mut chain = vec![Hop { agent: authority.agent.clone(), path: ROOT_PATH.into(), key: root_key }];
        let mut hops = Vec::new();
        for (i, block) in rest.iter().enumerate() {
            let depth = i + 1;
            let previous = chain.last().map(|h| h.key).unwrap_or(root_key);
            check_signer(external_keys.get(depth).and_then(Option::as_ref), depth, &previous)?;
            // Attribution first (above), then what the block claims.
            let (hop, key) = crate::canonical::read_hop(block, depth)?;
            if hop.resource_prefix.as_deref().is_some_and(|p| p == crate::resource::ANY || !crate::resource::is_canonical(p)) {
                return Err(Error::invalid_token(format!("block {depth} has a resource prefix that is not in canonical form")));
            }
            // A valid agent id, and one agent per id and per name in a chain (docs/PROFILE.md):
            // a hop naming an agent already in the chain would report that agent's identity.
            let ids: Vec<&str> = chain.iter().map(|h| h.agent.as_str()).collect();
            // The path is not written: it is the parent's path and the child's name.
            let path = crate::identity::child_path_in_chain(&ids, &chain[chain.len() - 1].path, &hop.agent)
                .map_err(|e| Error::invalid_token(format!("block {depth} names an invalid agent: {}", e.message())))?;
            chain.push(Hop { agent: hop.agent.clone(), path, key });
            hops.push(hop);
        }
        let claims = Claims {
            authority,
            hops,
            chain,
            revocation_ids: revocation_ids.iter().map(|r| hex_encode(r)).collect(),
        };
        // The blocks of a prefix verified before (`crate::prefix_cache`) were checked then.
        crate::canonical::check_blocks_from(&claims, blocks, verified_prefix)?;
        Ok(claims)
    }

    pub(crate) fn holder(&self) -> &Hop {
        // `chain` always holds at least the authority agent.
        &self.chain[self.chain.len() - 1]
    }

    pub(crate) fn depth(&self) -> u32 {
        self.hops.len() as u32
    }

    /// The effective expiry: the earliest of every block's.
    pub(crate) fn expires_at(&self) -> u64 {
        self.hops.iter().map(|h| h.exp).fold(self.authority.exp, u64::min)
    }

    /// The effective maximum depth: the smallest of every block's.
    pub(crate) fn max_depth(&self) -> u32 {
        self.hops.iter().filter_map(|h| h.max_depth).fold(self.authority.max_depth, u32::min)
    }
}

/// Attribution: block `depth` is a third-party block signed by `previous`, the key the block
/// before it named (`invalid_signature` otherwise, naming both keys).
fn check_signer(signer: Option<&biscuit_auth::PublicKey>, depth: usize, previous: &PublicKey) -> Result<()> {
    let Some(signer) = signer else {
        return Err(Error::new(
            ErrorKind::InvalidSignature,
            format!("block {depth} is not signed by the delegating agent (no third-party signature)"),
        ));
    };
    // Compare the encodings: `previous` is already a validated key, so an equal Ed25519
    // encoding is the same key and needs no second point decompression. Only a mismatch
    // (an error) decodes the signer, to name it.
    let same_signer = signer.algorithm() == biscuit_auth::format::schema::public_key::Algorithm::Ed25519
        && signer.to_bytes()[..] == previous.as_bytes()[..];
    if !same_signer {
        let signer = PublicKey::from_biscuit(signer)?;
        return Err(Error::new(
            ErrorKind::InvalidSignature,
            format!("block {depth} is signed by {} but the previous hop named {}", signer.fingerprint(), previous.fingerprint()),
        ));
    }
    Ok(())
}

/// What [`Token::mint`] needs. `agent`, `agent_key` and `principal` are required; build with
/// [`MintParams::new`] and chain the optional setters.
#[derive(Clone, Debug)]
pub struct MintParams {
    /// The agent the token is for (it sits at `/root`).
    pub agent: String,
    /// That agent's public key (it signs proofs and the first delegation).
    pub agent_key: PublicKey,
    /// On whose behalf, e.g. `user:alice`.
    pub principal: String,
    /// Optional task id.
    pub task: Option<String>,
    /// Optional workspace.
    pub workspace: Option<String>,
    /// Rights granted.
    pub rights: Vec<Right>,
    /// Lifetime in seconds, counted from `now`.
    pub ttl_seconds: u64,
    /// Maximum number of delegation hops.
    pub max_depth: u32,
    /// Issue time, seconds since the epoch (default: the current time where a clock exists).
    pub now: Option<u64>,
    /// Root key id written into the token so verifiers with several roots pick the right one
    /// (default: [`derived_key_id`](crate::verify::derived_key_id) of the root key).
    pub root_key_id: Option<u32>,
    /// The servers (RFC 8707 resource URIs) the token is for; empty (the default): any server
    /// that trusts the root. At most [`MAX_AUDIENCES`], no two equal.
    pub audiences: Vec<Audience>,
}

impl MintParams {
    /// Required fields; defaults: no task/workspace, no rights, 1 hour, depth 4.
    pub fn new(agent: impl Into<String>, agent_key: PublicKey, principal: impl Into<String>) -> Self {
        MintParams {
            agent: agent.into(),
            agent_key,
            principal: principal.into(),
            task: None,
            workspace: None,
            rights: Vec::new(),
            ttl_seconds: 3600,
            max_depth: DEFAULT_MAX_DEPTH,
            now: None,
            root_key_id: None,
            audiences: Vec::new(),
        }
    }
    /// Sets the task.
    pub fn task(mut self, task: impl Into<String>) -> Self {
        self.task = Some(task.into());
        self
    }
    /// Sets the workspace.
    pub fn workspace(mut self, workspace: impl Into<String>) -> Self {
        self.workspace = Some(workspace.into());
        self
    }
    /// Adds a right.
    pub fn right(mut self, right: Right) -> Self {
        self.rights.push(right);
        self
    }
    /// Sets the lifetime.
    pub fn ttl_seconds(mut self, ttl: u64) -> Self {
        self.ttl_seconds = ttl;
        self
    }
    /// Sets the maximum delegation depth.
    pub fn max_depth(mut self, depth: u32) -> Self {
        self.max_depth = depth;
        self
    }
    /// Sets the issue time.
    pub fn now(mut self, now: u64) -> Self {
        self.now = Some(now);
        self
    }
    /// Sets the root key id.
    pub fn root_key_id(mut self, id: u32) -> Self {
        self.root_key_id = Some(id);
        self
    }
    /// Binds the token to a server (RFC 8707): a verifier whose
    /// [`audience`](crate::Verifier::audience) is not one of the token's refuses it
    /// (`invalid_token`), and so does a verifier with no audience. Repeatable (a token for
    /// several servers), at most [`MAX_AUDIENCES`], no duplicates (`invalid_argument` at mint).
    ///
    /// ```
    /// use marque::{audience::Audience, KeyPair, MintParams, Right, Token, Verifier};
    /// let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
    /// let a = Audience::parse("https://a.example/mcp")?;
    /// let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:u")
    ///     .right(Right::new("read_file", "read", "*")).audience(a.clone()))?;
    /// assert_eq!(token.audience(), [a.clone()]);
    /// let at = |uri: &str| Verifier::new([root.public_key()]).with_audience(Some(Audience::parse(uri).unwrap()));
    /// assert!(at("https://a.example/mcp").verify(token.to_bytes()).is_ok());
    /// assert_eq!(at("https://b.example/mcp").verify(token.to_bytes()).unwrap_err().code(), "invalid_token");
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn audience(mut self, audience: Audience) -> Self {
        self.audiences.push(audience);
        self
    }
}

/// Resolves an optional `now` to seconds since the epoch.
pub(crate) use crate::resolve_now;

/// A marque token: a Biscuit v3 token following the marque profile. Parsed, not trusted.
#[derive(Clone)]
pub struct Token {
    bytes: Vec<u8>,
    inner: UnverifiedBiscuit,
    claims: Claims,
    sealed: bool,
    root_key_id: Option<u32>,
}

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for Token {}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("agent", &self.agent())
            .field("path", &self.path())
            .field("principal", &self.principal())
            .field("depth", &self.depth())
            .field("sealed", &self.sealed)
            .finish()
    }
}

impl Token {
    /// Mints a token for `params.agent`, signed by `root`: a [`KeyPair`] or any [`Signer`]
    /// (a KMS or HSM key: only the authority block's signature is asked of it, and it is
    /// verified before the token is returned — see [`crate::signer`]).
    ///
    /// ```
    /// use marque::{FnSigner, KeyPair, MintParams, Right, Token, Verifier};
    ///
    /// let kms_key = KeyPair::from_seed(&[1; 32]); // stands in for a KMS in this example
    /// let public = kms_key.public_key();
    /// let root = FnSigner::new(public, move |msg: &[u8]| Ok(kms_key.sign(msg).to_bytes().to_vec()));
    /// let agent = KeyPair::from_seed(&[2; 32]).public_key();
    /// let token = Token::mint(&root, &MintParams::new("agent:orchestrator", agent, "user:alice")
    ///     .right(Right::new("read_file", "read", "*")).ttl_seconds(3600))?;
    /// assert!(Verifier::new([public]).verify(token.to_bytes()).is_ok());
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn mint<S: Signer + ?Sized>(root: &S, params: &MintParams) -> Result<Token> {
        validate_agent_id(&params.agent)?;
        validate_name("principal", &params.principal)?;
        if let Some(t) = &params.task {
            validate_name("task", t)?;
        }
        if let Some(w) = &params.workspace {
            validate_name("workspace", w)?;
        }
        if params.rights.len() > MAX_RIGHTS {
            return Err(Error::invalid_argument(format!("at most {MAX_RIGHTS} rights per token")));
        }
        for r in &params.rights {
            r.validate()?;
        }
        if params.max_depth > MAX_DEPTH_CAP {
            return Err(Error::invalid_argument(format!("max_depth is at most {MAX_DEPTH_CAP}")));
        }
        if params.ttl_seconds == 0 {
            return Err(Error::invalid_argument("ttl_seconds must be positive"));
        }
        check_audiences(&params.audiences).map_err(Error::invalid_argument)?;
        let now = resolve_now(params.now)?;
        let exp = now
            .checked_add(params.ttl_seconds)
            .filter(|e| *e <= i64::MAX as u64)
            .ok_or_else(|| Error::invalid_argument("ttl_seconds is too large"))?;
        let info = AuthorityInfo {
            agent: params.agent.clone(),
            principal: params.principal.clone(),
            task: params.task.clone(),
            workspace: params.workspace.clone(),
            // Resources in canonical form (`src` → `src/`): one `starts_with` then decides.
            rights: params
                .rights
                .iter()
                .map(|r| Right { resource: crate::resource::canonical(&r.resource).into_owned(), ..r.clone() })
                .collect(),
            iat: now,
            exp,
            max_depth: params.max_depth,
            audiences: params.audiences.clone(),
        };
        let root_key_id = params.root_key_id.unwrap_or_else(|| crate::verify::derived_key_id(&root.public_key()));
        let builder = authority_builder(&info, &params.agent_key)?.root_key_id(root_key_id);
        let bytes = match root.key_pair() {
            Some(kp) => {
                // The token as built, and what it claims as written (not parsed back).
                let next = fresh_block_key()?;
                let inner = crate::compat::into_unverified(builder
                    .build_with_key_pair(kp.biscuit_key_pair()?, biscuit_auth::datalog::SymbolTable::new(), &next)?)?;
                let chain = vec![Hop { agent: info.agent.clone(), path: ROOT_PATH.into(), key: params.agent_key }];
                return Token::from_built(inner, Claims { authority: info, hops: Vec::new(), chain, revocation_ids: Vec::new() }, Some(root_key_id));
            }
            None => {
                // Biscuit signs the authority block with the root key it is given; build with a
                // placeholder and put the external signer's signature in its place.
                let placeholder = KeyPair::from_seed(&[0x6d; 32]).to_biscuit()?;
                let mut raw = biscuit_auth::format::schema::Biscuit::decode(&builder.build(&placeholder)?.to_vec()?[..])
                    .map_err(|_| Error::internal("a freshly built token does not decode"))?;
                let a = &raw.authority;
                let message = authority_signature_payload(&a.block, a.next_key.algorithm, &a.next_key.key, a.version)?;
                raw.authority.signature = sign_checked(root, &message)?.to_bytes().to_vec();
                raw.encode_to_vec()
            }
        };
        Token::from_bytes(&bytes)
    }

    /// Parses a token from its raw bytes (does not verify the root signature).
    pub fn from_bytes(bytes: &[u8]) -> Result<Token> {
        Token::from_bytes_limited(bytes, &crate::policy::Limits::default())
    }

    /// Parses with explicit size and block-count limits.
    ///
    /// Parsing checks structure, not signatures: the hop-signer chain, and that every block
    /// holds exactly the profile's Datalog for its claims (a token carrying anything more is
    /// `invalid_token`, so a holder never presents or delegates on top of a hostile block).
    pub fn from_bytes_limited(bytes: &[u8], limits: &crate::policy::Limits) -> Result<Token> {
        let outline = outline(bytes, limits)?;
        let inner = UnverifiedBiscuit::from(bytes)?;
        Token::from_checked(bytes.to_vec(), outline, inner)
    }

    /// A token biscuit-auth has just produced (sealing): its serialized form is
    /// read exactly as [`from_bytes`](Self::from_bytes) would, without biscuit-auth parsing (and
    /// decompressing the keys of) the bytes it already holds parsed.
    pub(crate) fn from_unverified(inner: UnverifiedBiscuit) -> Result<Token> {
        let bytes = inner.to_vec()?;
        let outline = outline(&bytes, &crate::policy::Limits::default())?;
        Token::from_checked(bytes, outline, inner)
    }

    /// A token biscuit-auth has just built in this process (minting, delegation) from `claims`,
    /// under the root key id `root_key_id`: serialized once, but neither biscuit-auth, the
    /// protobuf nor the blocks are read again (every key in it is an Ed25519 key this
    /// process chose or checked; it is not sealed). The tests `minted_claims_are_the_parsed_claims`
    /// and `delegated_claims_are_the_parsed_claims` hold the result equal to parsing its bytes.
    pub(crate) fn from_built(inner: UnverifiedBiscuit, mut claims: Claims, root_key_id: Option<u32>) -> Result<Token> {
        let bytes = inner.to_vec()?;
        check_token_size(bytes.len(), crate::policy::Limits::default().max_token_bytes)?;
        claims.revocation_ids = inner.revocation_identifiers().iter().map(|r| hex_encode(r)).collect();
        Ok(Token { bytes, inner, claims, sealed: false, root_key_id })
    }

    fn from_checked(bytes: Vec<u8>, outline: Outline, inner: UnverifiedBiscuit) -> Result<Token> {
        let claims =
            Claims::from_parts(&outline.decoded, &outline.blocks, inner.external_public_keys(), inner.revocation_identifiers(), 0)?;
        Ok(Token { bytes, inner, claims, sealed: outline.sealed, root_key_id: outline.root_key_id })
    }

    /// Parses base64url (padded or not; standard `+/` alphabet refused).
    pub fn from_base64(text: &str) -> Result<Token> {
        Token::from_bytes(&decode_base64(text, &crate::policy::Limits::default())?)
    }

    /// The raw bytes.
    pub fn to_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// base64url with padding (Biscuit's customary text form).
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::URL_SAFE.encode(&self.bytes)
    }

    /// The agent currently holding the token (the last hop).
    pub fn agent(&self) -> &str {
        &self.claims.holder().agent
    }
    /// The holder's path, e.g. `/root/agent_a`.
    pub fn path(&self) -> &str {
        &self.claims.holder().path
    }
    /// The holder's public key (it signs proofs and the next delegation).
    pub fn holder_key(&self) -> &PublicKey {
        &self.claims.holder().key
    }
    /// On whose behalf.
    pub fn principal(&self) -> &str {
        &self.claims.authority.principal
    }
    /// The task, if any.
    pub fn task(&self) -> Option<&str> {
        self.claims.authority.task.as_deref()
    }
    /// The workspace, if any.
    pub fn workspace(&self) -> Option<&str> {
        self.claims.authority.workspace.as_deref()
    }
    /// Rights of the authority block (delegations narrow them further).
    pub fn rights(&self) -> &[Right] {
        &self.claims.authority.rights
    }
    /// Issue time of the authority block.
    pub fn issued_at(&self) -> u64 {
        self.claims.authority.iat
    }
    /// The effective expiry (earliest of all blocks).
    pub fn expires_at(&self) -> u64 {
        self.claims.expires_at()
    }
    /// The number of delegation hops so far.
    pub fn depth(&self) -> u32 {
        self.claims.depth()
    }
    /// The effective maximum depth (smallest of all blocks).
    pub fn max_depth(&self) -> u32 {
        self.claims.max_depth()
    }
    /// The delegation chain, root first.
    pub fn chain(&self) -> &[Hop] {
        &self.claims.chain
    }
    /// Revocation ids (hex), one per block, authority first.
    pub fn revocation_ids(&self) -> &[String] {
        &self.claims.revocation_ids
    }
    /// Whether any hop carries a call budget (`max_calls` or a rate): such a token is only
    /// meaningful to a verifier whose counter store outlives one call (see [`crate::budget`]).
    ///
    /// ```
    /// # use marque::{KeyPair, Token, token::MintParams, delegate::DelegateParams, policy::Right};
    /// let (root, a, b) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]));
    /// let t = Token::mint(&root, &MintParams::new("agent:a", a.public_key(), "user:alice")
    ///     .right(Right::new("read_file", "read", "*")).ttl_seconds(600))?;
    /// assert!(!t.carries_budgets());
    /// let child = t.delegate(&a, &DelegateParams::new("agent:b", b.public_key()).max_calls(10))?;
    /// assert!(child.carries_budgets());
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn carries_budgets(&self) -> bool {
        self.claims.hops.iter().any(|h| !h.budget.is_none())
    }
    /// Whether the token is sealed (no further delegation possible).
    pub fn is_sealed(&self) -> bool {
        self.sealed
    }
    /// The root key id written at mint time, if any.
    pub fn root_key_id(&self) -> Option<u32> {
        self.root_key_id
    }

    /// The servers the token is bound to (RFC 8707), in canonical form; empty: not bound (any
    /// verifier that trusts the root accepts it). Delegation keeps them: no hop can change them.
    pub fn audience(&self) -> &[Audience] {
        &self.claims.authority.audiences
    }

    /// Readable Datalog of every block.
    pub fn to_datalog(&self) -> String {
        let mut out = String::new();
        for i in 0..self.inner.block_count() {
            let who = if i == 0 {
                "authority (signed by the root key)".to_string()
            } else {
                format!(
                    "delegation {i}: {} → {} (signed by {})",
                    self.claims.chain[i - 1].agent,
                    self.claims.chain[i].agent,
                    self.claims.chain[i - 1].key.fingerprint()
                )
            };
            let src = self.inner.print_block_source(i).unwrap_or_default();
            out.push_str(&format!("// block {i}: {who}\n{src}\n"));
        }
        out
    }

    /// A summary of what the token claims as JSON (for `marque inspect`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "agent": self.agent(),
            "path": self.path(),
            "principal": self.principal(),
            "task": self.task(),
            "workspace": self.workspace(),
            "rights": self.rights(),
            "issued_at": self.issued_at(),
            "expires_at": self.expires_at(),
            "depth": self.depth(),
            "max_depth": self.max_depth(),
            "sealed": self.sealed,
            "root_key_id": self.root_key_id,
            "audience": self.audience().iter().map(Audience::as_str).collect::<Vec<_>>(),
            "chain": self.chain().iter().map(|h| serde_json::json!({
                "agent": h.agent, "path": h.path, "key": h.key.to_hex(), "fingerprint": h.fingerprint(),
            })).collect::<Vec<_>>(),
            "hops": self.claims.hops.iter().map(|h| {
                let mut hop = serde_json::json!({
                    "agent": h.agent, "tools": h.tools, "operations": h.operations,
                    "resource_prefix": h.resource_prefix, "expires_at": h.exp, "max_depth": h.max_depth,
                });
                // Constraints only when the hop has them (tokens without keep their shape).
                if !h.budget.is_none() {
                    hop["budget"] = serde_json::to_value(h.budget).unwrap_or_default();
                }
                if !h.approval.is_empty() {
                    hop["require_approval"] = serde_json::to_value(&h.approval).unwrap_or_default();
                }
                hop
            }).collect::<Vec<_>>(),
            "revocation_ids": self.revocation_ids(),
        })
    }

    /// Seals the token: nobody can delegate it further.
    pub fn seal(&self) -> Result<Token> {
        Token::from_unverified(self.inner.seal()?)
    }

    pub(crate) fn claims(&self) -> &Claims {
        &self.claims
    }
    pub(crate) fn inner(&self) -> &UnverifiedBiscuit {
        &self.inner
    }
}

/// What marque reads from a serialized Biscuit before (and besides) biscuit-auth: the root key
/// id, each block decoded and whether the token is sealed, after checking the size and
/// block-count limits and that every key in the token is Ed25519.
pub(crate) struct Outline {
    pub(crate) root_key_id: Option<u32>,
    /// Each block decoded (`schema::Block`), authority first.
    pub(crate) decoded: Vec<biscuit_auth::format::schema::Block>,
    /// Each block's serialized Datalog, as signed (authority first).
    pub(crate) blocks: Vec<Vec<u8>>,
    pub(crate) sealed: bool,
}

/// One pass over the protobuf (field numbers of biscuit-auth's `schema.proto`; prost skips the
/// fields not declared here, signatures and Datalog included, without decoding them).
///
/// marque's profile is Ed25519 only (`docs/PROFILE.md`): a secp256r1 key anywhere (a block's
/// next key, a third-party signer, a public key a block's Datalog names) is `invalid_token` in
/// every build, whether or not the biscuit-auth underneath was built with P-256 support.
pub(crate) fn outline(bytes: &[u8], limits: &crate::policy::Limits) -> Result<Outline> {
    check_token_size(bytes.len(), limits.max_token_bytes)?;
    let skeleton = TokenSkeleton::decode(bytes)
        .map_err(|_| Error::invalid_token("token is not a Biscuit (protobuf does not decode)"))?;
    if skeleton.blocks.len() + 1 > limits.max_blocks {
        return Err(Error::new(
            ErrorKind::LimitsExceeded,
            format!("token has {} blocks; the limit is {}", skeleton.blocks.len() + 1, limits.max_blocks),
        ));
    }
    let ed25519_only = |key: Option<&KeyAlgorithm>, what: &str| match key.and_then(|k| k.algorithm) {
        None | Some(ED25519) => Ok(()),
        Some(other) => Err(Error::invalid_token(format!(
            "{what} is not an Ed25519 key (algorithm {other}); marque tokens use Ed25519 keys only"
        ))),
    };
    let sealed = matches!(skeleton.proof.and_then(|p| p.content), Some(ProofContent::FinalSignature(_)));
    let mut decoded = Vec::with_capacity(skeleton.blocks.len() + 1);
    let mut blocks = Vec::with_capacity(skeleton.blocks.len() + 1);
    for signed in skeleton.authority.into_iter().chain(skeleton.blocks) {
        ed25519_only(signed.next_key.as_ref(), "a block's next key")?;
        ed25519_only(signed.external_signature.as_ref().and_then(|e| e.public_key.as_ref()), "a third-party block's signer")?;
        let block = biscuit_auth::format::schema::Block::decode(&signed.block[..])
            .map_err(|_| Error::invalid_token("a token block does not decode"))?;
        for key in &block.public_keys {
            ed25519_only(Some(&KeyAlgorithm { algorithm: Some(key.algorithm) }), "a public key named in a block")?;
        }
        decoded.push(block);
        blocks.push(signed.block);
    }
    Ok(Outline { root_key_id: skeleton.root_key_id, decoded, blocks, sealed })
}

/// `limits_exceeded` when a serialized token is longer than `limit` bytes.
pub(crate) fn check_token_size(len: usize, limit: usize) -> Result<()> {
    if len > limit {
        return Err(Error::new(ErrorKind::LimitsExceeded, format!("token is {len} bytes; the limit is {limit}")));
    }
    Ok(())
}

/// `PublicKey.Algorithm.Ed25519`.
const ED25519: i32 = 0;

#[derive(Clone, PartialEq, prost::Message)]
struct TokenSkeleton {
    #[prost(uint32, optional, tag = "1")]
    root_key_id: Option<u32>,
    #[prost(message, optional, tag = "2")]
    authority: Option<SignedBlockOutline>,
    #[prost(message, repeated, tag = "3")]
    blocks: Vec<SignedBlockOutline>,
    #[prost(message, optional, tag = "4")]
    proof: Option<ProofKind>,
}

/// `SignedBlock` without its signatures.
#[derive(Clone, PartialEq, prost::Message)]
struct SignedBlockOutline {
    #[prost(bytes = "vec", tag = "1")]
    block: Vec<u8>,
    #[prost(message, optional, tag = "2")]
    next_key: Option<KeyAlgorithm>,
    #[prost(message, optional, tag = "4")]
    external_signature: Option<ExternalSignerOutline>,
}

/// `ExternalSignature.publicKey`.
#[derive(Clone, PartialEq, prost::Message)]
struct ExternalSignerOutline {
    #[prost(message, optional, tag = "2")]
    public_key: Option<KeyAlgorithm>,
}

/// `PublicKey.algorithm` (the key bytes are skipped).
#[derive(Clone, PartialEq, prost::Message)]
struct KeyAlgorithm {
    #[prost(int32, optional, tag = "1")]
    algorithm: Option<i32>,
}

/// `Proof`: which member of its oneof is present tells whether the token is sealed.
#[derive(Clone, PartialEq, prost::Message)]
struct ProofKind {
    #[prost(oneof = "ProofContent", tags = "1, 2")]
    content: Option<ProofContent>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum ProofContent {
    #[prost(bytes, tag = "1")]
    NextSecret(Vec<u8>),
    #[prost(bytes, tag = "2")]
    FinalSignature(Vec<u8>),
}

/// A fresh key for the next block of a token, straight from a random seed (one public-key
/// derivation; the seed from [`crate::random_bytes`], pooled on wasm).
pub(crate) fn fresh_block_key() -> Result<biscuit_auth::KeyPair> {
    let seed = zeroize::Zeroizing::new(crate::random_bytes::<32>()?);
    biscuit_auth::KeyPair::from_bytes(&seed[..], biscuit_auth::format::schema::public_key::Algorithm::Ed25519)
        .map_err(|_| Error::internal("biscuit-auth refused a fresh Ed25519 seed"))
}

/// The authority block (`docs/PROFILE.md`): facts and checks, without the root key id (not
/// part of the block). Minting builds it; verification rebuilds it from the claims read back
/// from a token's block and compares the bytes ([`crate::canonical`]).
pub(crate) fn authority_builder(info: &AuthorityInfo, agent_key: &PublicKey) -> Result<BiscuitBuilder> {
    let mut builder = BiscuitBuilder::new();
    for f in authority_facts(info, agent_key) {
        builder = builder.fact(f)?;
    }
    builder = builder.check(check_at_most("time", "time", Term::Date(info.exp)))?;
    builder = builder.check(check_at_most("depth", "depth", Term::Integer(i64::from(info.max_depth))))?;
    if !info.audiences.is_empty() {
        builder = builder.check(audience_check())?;
    }
    Ok(builder)
}

/// Why a list of audiences cannot be a token's (more than [`MAX_AUDIENCES`], or one twice).
pub(crate) fn check_audiences(audiences: &[Audience]) -> std::result::Result<(), String> {
    if audiences.len() > MAX_AUDIENCES {
        return Err(format!("at most {MAX_AUDIENCES} audiences per token (got {})", audiences.len()));
    }
    for (i, a) in audiences.iter().enumerate() {
        if audiences[..i].contains(a) {
            return Err(format!("the audience {a} is given twice"));
        }
    }
    Ok(())
}

/// `check if audience($audience), token_audience($audience)`: the verifier's `audience` fact
/// must be one of the token's `token_audience` facts (an authorizer without one denies).
fn audience_check() -> Check {
    let var = || Term::Variable("audience".into());
    let body = vec![
        Predicate::new("audience".to_string(), vec![var()]),
        Predicate::new("token_audience".to_string(), vec![var()]),
    ];
    let query = Rule::new(Predicate::new("query".to_string(), Vec::new()), body, Vec::new(), Vec::new());
    Check { queries: vec![query], kind: CheckKind::One }
}

/// The facts of the authority block (`docs/PROFILE.md`), in the profile's order: built directly
/// (biscuit-auth's builder types, not Datalog text, so minting runs no parser); the test
/// `authority_block_matches_its_datalog` pins them to the profile's Datalog byte for byte.
fn authority_facts(info: &AuthorityInfo, agent_key: &PublicKey) -> Vec<Fact> {
    let str = |s: &str| Term::Str(s.to_string());
    let mut facts = Vec::with_capacity(9 + info.rights.len());
    facts.extend([
        new_fact("marque_profile", vec![Term::Integer(i64::from(PROFILE_VERSION))]),
        new_fact("agent", vec![str(&info.agent)]),
        new_fact("agent_key", vec![Term::Bytes(agent_key.to_bytes().to_vec())]),
        new_fact("principal", vec![str(&info.principal)]),
        new_fact("issued_at", vec![Term::Date(info.iat)]),
        new_fact("expires_at", vec![Term::Date(info.exp)]),
        new_fact("max_depth", vec![Term::Integer(i64::from(info.max_depth))]),
    ]);
    if let Some(t) = &info.task {
        facts.push(new_fact("task", vec![str(t)]));
    }
    if let Some(w) = &info.workspace {
        facts.push(new_fact("workspace", vec![str(w)]));
    }
    for r in &info.rights {
        facts.push(new_fact("right", vec![str(&r.tool), str(&r.operation), str(&r.resource)]));
    }
    for a in &info.audiences {
        facts.push(new_fact("token_audience", vec![str(a.as_str())]));
    }
    facts
}

/// `name(terms…)`, the terms moved in (biscuit's `fact()` copies them).
pub(crate) fn new_fact(name: &str, terms: Vec<Term>) -> Fact {
    Fact::new(name.to_string(), terms)
}

/// `check if {predicate}(${var}), ${var} <= {bound}`.
pub(crate) fn check_at_most(predicate: &str, var: &str, bound: Term) -> Check {
    check_on(predicate, var, vec![Op::Value(Term::Variable(var.into())), Op::Value(bound), Op::Binary(Binary::LessOrEqual)])
}

/// `check if {predicate}(${var}), <expression>`, the expression in biscuit's postfix form.
pub(crate) fn check_on(predicate: &str, var: &str, ops: Vec<Op>) -> Check {
    // biscuit's `constrained_rule` with its parts moved in rather than copied.
    let body = vec![Predicate::new(predicate.to_string(), vec![Term::Variable(var.into())])];
    let query = Rule::new(Predicate::new("query".to_string(), Vec::new()), body, vec![Expression { ops }], Vec::new());
    Check { queries: vec![query], kind: CheckKind::One }
}

/// Decodes a token's text form: base64url, with or without padding, surrounding whitespace
/// ignored. Refuses the standard alphabet (`+`, `/`) and anything else.
pub(crate) fn decode_base64(text: &str, limits: &crate::policy::Limits) -> Result<Vec<u8>> {
    let t = text.trim();
    // base64 expands 3 bytes into 4 characters.
    if t.len() > limits.max_token_bytes / 3 * 4 + 8 {
        return Err(Error::new(
            ErrorKind::LimitsExceeded,
            format!("token text is {} bytes; the limit is about {}", t.len(), limits.max_token_bytes / 3 * 4),
        ));
    }
    let unpadded = t.trim_end_matches('=');
    if t.len() - unpadded.len() > 2 {
        return Err(Error::invalid_token("token is not valid base64url (bad padding)"));
    }
    B64.decode(unpadded).map_err(|_| Error::invalid_token("token is not valid base64url"))
}

/// What the root key signs in a Biscuit authority block (biscuit-auth 6 `crypto` module:
/// signature payload v0, or v1 with its domain-separation labels).
fn authority_signature_payload(block: &[u8], next_alg: i32, next_key: &[u8], version: Option<u32>) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(block.len() + next_key.len() + 64);
    match version.unwrap_or(0) {
        0 => {
            out.extend_from_slice(block);
            out.extend_from_slice(&next_alg.to_le_bytes());
            out.extend_from_slice(next_key);
        }
        1 => {
            out.extend_from_slice(b"\0BLOCK\0\0VERSION\0");
            out.extend_from_slice(&1u32.to_le_bytes());
            out.extend_from_slice(b"\0PAYLOAD\0");
            out.extend_from_slice(block);
            out.extend_from_slice(b"\0ALGORITHM\0");
            out.extend_from_slice(&next_alg.to_le_bytes());
            out.extend_from_slice(b"\0NEXTKEY\0");
            out.extend_from_slice(next_key);
        }
        v => return Err(Error::internal(format!("unsupported Biscuit block signature version {v}"))),
    }
    Ok(out)
}

/// What a third-party signer signs in a Biscuit v3 third-party block (external signature
/// payload v1: the block bytes bound to the previous block's signature).
pub(crate) fn external_signature_payload(block: &[u8], previous_signature: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(block.len() + previous_signature.len() + 40);
    out.extend_from_slice(b"\0EXTERNAL\0\0VERSION\0");
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(b"\0PAYLOAD\0");
    out.extend_from_slice(block);
    out.extend_from_slice(b"\0PREVSIG\0");
    out.extend_from_slice(previous_signature);
    out
}

impl Token {
    /// Signs a proof of possession for using this token on `request` at `now` (default: the
    /// clock), bound to no audience. `agent` must be the holder's key pair (`wrong_holder_key` otherwise).
    pub fn sign_proof<S: Signer + ?Sized>(&self, agent: &S, request: &crate::policy::Request, now: Option<u64>) -> Result<String> {
        self.sign_proof_for(agent, request, None, now)
    }

    /// [`sign_proof`](Self::sign_proof) bound to `audience` (RFC 8707: the canonical URI of the
    /// server the proof is for; see [`crate::audience`]); `None` binds no audience.
    pub fn sign_proof_for<S: Signer + ?Sized>(
        &self,
        agent: &S,
        request: &crate::policy::Request,
        audience: Option<&crate::audience::Audience>,
        now: Option<u64>,
    ) -> Result<String> {
        let agent_key = agent.public_key();
        if agent_key != *self.holder_key() {
            return Err(Error::new(
                ErrorKind::WrongHolderKey,
                format!(
                    "the token is held by {} ({}); proofs must be signed with that agent's key, not {}",
                    self.agent(),
                    self.holder_key().fingerprint(),
                    agent_key.fingerprint()
                ),
            ));
        }
        crate::resource::validate(&request.resource)?;
        let req = crate::proof::ProofRequest {
            tool: &request.tool,
            operation: &request.operation,
            resource: &request.resource,
            audience,
        };
        crate::proof::sign_proof(agent, &self.bytes, &req, resolve_now(now)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn param_map(pairs: Vec<(&str, Term)>) -> HashMap<String, Term> {
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// The authority block of the serialized token `bytes` (what the root signs, without keys).
    fn authority_block(bytes: &[u8]) -> Vec<u8> {
        biscuit_auth::format::schema::Biscuit::decode(bytes).unwrap().authority.block
    }

    /// The authority block `Token::mint` builds directly is, byte for byte, the block biscuit-auth
    /// parses from the profile's Datalog (docs/PROFILE.md), with and without the optional facts.
    #[test]
    fn authority_block_matches_its_datalog() {
        let root = KeyPair::from_seed(&[1; 32]);
        let agent_key = KeyPair::from_seed(&[2; 32]).public_key();
        for (task, workspace) in [(Some("fix-42"), Some("acme/web")), (None, None), (Some("t"), None)] {
            let mut params = MintParams::new("agent:orchestrator", agent_key, "user:alice")
                .right(Right::new("read_file", "read", "src/"))
                .right(Right::new("*", "*", "*"))
                .ttl_seconds(3600)
                .max_depth(3)
                .now(1_767_225_600);
            if let Some(t) = task {
                params = params.task(t);
            }
            if let Some(w) = workspace {
                params = params.workspace(w);
            }
            let token = Token::mint(&root, &params).unwrap();

            let mut code = String::from(
                "marque_profile({v});\nagent({agent});\nagent_key({key});\nprincipal({principal});\n\
                 issued_at({iat});\nexpires_at({exp});\nmax_depth({max_depth});\n\
                 check if time($time), $time <= {exp};\ncheck if depth($depth), $depth <= {max_depth};\n",
            );
            let mut p: Vec<(&str, Term)> = vec![
                ("v", Term::Integer(i64::from(PROFILE_VERSION))),
                ("agent", Term::Str("agent:orchestrator".into())),
                ("key", Term::Bytes(agent_key.to_bytes().to_vec())),
                ("principal", Term::Str("user:alice".into())),
                ("iat", Term::Date(1_767_225_600)),
                ("exp", Term::Date(1_767_229_200)),
                ("max_depth", Term::Integer(3)),
            ];
            if let Some(t) = task {
                code.push_str("task({task});\n");
                p.push(("task", Term::Str(t.into())));
            }
            if let Some(w) = workspace {
                code.push_str("workspace({workspace});\n");
                p.push(("workspace", Term::Str(w.into())));
            }
            code.push_str("right(\"read_file\", \"read\", \"src/\");\nright(\"*\", \"*\", \"*\");\n");
            let parsed = BiscuitBuilder::new()
                .root_key_id(crate::verify::derived_key_id(&root.public_key()))
                .code_with_params(code, param_map(p), HashMap::new())
                .unwrap()
                .build(root.biscuit_key_pair().unwrap())
                .unwrap()
                .to_vec()
                .unwrap();
            assert_eq!(authority_block(token.to_bytes()), authority_block(&parsed), "{task:?} {workspace:?}");
        }
    }

    #[test]
    fn minted_claims_are_the_parsed_claims() {
        let root = KeyPair::from_seed(&[1; 32]);
        let agent = KeyPair::from_seed(&[2; 32]).public_key();
        let params = [
            MintParams::new("agent:o", agent, "user:a").right(Right::new("read_file", "read", "src/")),
            MintParams::new("agent:o", agent, "user:a").task("t-1").workspace("acme/web").max_depth(0).root_key_id(7).ttl_seconds(5),
            MintParams::new("agent:o", agent, "user:a").right(Right::new("*", "*", "*")).right(Right::new("a", "b", "c")).now(1_767_225_600),
        ];
        for p in &params {
            let minted = Token::mint(&root, p).unwrap();
            let parsed = Token::from_bytes(minted.to_bytes()).unwrap();
            assert_eq!(minted.claims(), parsed.claims());
            assert_eq!((minted.is_sealed(), minted.root_key_id()), (parsed.is_sealed(), parsed.root_key_id()));
            // biscuit-auth's own view of the token built in memory is the parsed one too.
            assert_eq!(minted.to_datalog(), parsed.to_datalog());
            assert_eq!(minted.inner().print_block_source(0).unwrap(), parsed.inner().print_block_source(0).unwrap());
            assert_eq!(minted.inner().revocation_identifiers(), parsed.inner().revocation_identifiers());
        }
    }

    fn mint() -> Token {
        let root = KeyPair::from_seed(&[1; 32]);
        let agent = KeyPair::from_seed(&[2; 32]);
        Token::mint(
            &root,
            &MintParams::new("agent:orch", agent.public_key(), "user:alice")
                .task("t1")
                .workspace("w1")
                .right(Right::new("read_file", "read", "src/"))
                .now(1_767_225_600)
                .ttl_seconds(60),
        )
        .unwrap()
    }

    #[test]
    fn mint_reads_back() {
        let t = mint();
        assert_eq!(t.agent(), "agent:orch");
        assert_eq!(t.principal(), "user:alice");
        assert_eq!(t.task(), Some("t1"));
        assert_eq!(t.workspace(), Some("w1"));
        assert_eq!(t.expires_at(), 1_767_225_660);
        assert_eq!(t.depth(), 0);
        assert_eq!(t.max_depth(), DEFAULT_MAX_DEPTH);
        assert!(!t.is_sealed());
        let dl = t.to_datalog();
        assert!(dl.contains("agent(\"agent:orch\")"), "{dl}");
        assert!(dl.contains("right(\"read_file\", \"read\", \"src/\")"), "{dl}");
        assert_eq!(Token::from_base64(&t.to_base64()).unwrap(), t);
        assert_eq!(Token::from_base64(t.to_base64().trim_end_matches('=')).unwrap(), t);
    }

    #[test]
    fn mint_rejects_bad_params() {
        let root = KeyPair::from_seed(&[1; 32]);
        let k = KeyPair::from_seed(&[2; 32]).public_key();
        let bad = [
            MintParams::new("agent:", k, "user:a").now(1_767_225_600),
            MintParams::new("agent:a", k, "").now(1_767_225_600),
            MintParams::new("agent:a", k, "user:a").ttl_seconds(0).now(1_767_225_600),
            MintParams::new("agent:a", k, "user:a").task("x\"y").now(1_767_225_600),
            MintParams::new("agent:a", k, "user:a").max_depth(1000).now(1_767_225_600),
            MintParams::new("agent:a", k, "user:a").ttl_seconds(u64::MAX).now(1_767_225_600),
            MintParams::new("agent:a", k, "user:a").right(Right::new("t", "o", "src/../etc")).now(1_767_225_600),
            MintParams::new("agent:a", k, "user:a").right(Right::new("t", "o", "src//x")).now(1_767_225_600),
            MintParams::new("agent:a", k, "user:a").now(1_767_225_600_000),
            MintParams::new("agent:a", k, "user:a").now(1_000),
        ];
        for p in bad {
            assert_eq!(Token::mint(&root, &p).unwrap_err().code(), "invalid_argument", "{p:?}");
        }
    }

    #[test]
    fn garbage_is_invalid_token() {
        for text in ["", "!!!", "AAAA", "aGVsbG8", "a+b/"] {
            assert_eq!(Token::from_base64(text).unwrap_err().code(), "invalid_token", "{text}");
        }
    }

    #[test]
    fn audiences_are_validated_at_mint_and_written_once() {
        let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
        let aud = |u: &str| crate::audience::Audience::parse(u).unwrap();
        let base = || MintParams::new("agent:a", agent.public_key(), "user:u").right(Right::new("*", "*", "*")).now(1_767_225_600);
        // Two spellings of one server are one audience: refused as a duplicate.
        let twice = base().audience(aud("https://a.example/")).audience(aud("HTTPS://A.EXAMPLE"));
        assert_eq!(Token::mint(&root, &twice).unwrap_err().code(), "invalid_argument");
        let many = (0..=MAX_AUDIENCES).fold(base(), |p, i| p.audience(aud(&format!("https://s{i}.example"))));
        assert_eq!(Token::mint(&root, &many).unwrap_err().code(), "invalid_argument");
        let max = (0..MAX_AUDIENCES).fold(base(), |p, i| p.audience(aud(&format!("https://s{i}.example"))));
        let token = Token::mint(&root, &max).unwrap();
        assert_eq!(token.audience().len(), MAX_AUDIENCES);
        assert_eq!(Token::from_bytes(token.to_bytes()).unwrap().audience(), token.audience());
        let token = Token::mint(&root, &base().audience(aud("https://a.example/mcp/"))).unwrap();
        assert_eq!(token.to_json()["audience"], serde_json::json!(["https://a.example/mcp"]));
        let datalog = token.to_datalog();
        assert!(datalog.contains("token_audience(\"https://a.example/mcp\");"), "{datalog}");
        assert!(datalog.contains("check if audience($audience), token_audience($audience);"), "{datalog}");
        let unbound = Token::mint(&root, &base()).unwrap();
        assert!(unbound.audience().is_empty() && !unbound.to_datalog().contains("audience"));
    }

    /// Defence in depth: a plain Biscuit authorizer (no marque verifier) without an `audience`
    /// fact denies a token bound to a server; with the server's fact, the check passes.
    #[test]
    fn a_plain_authorizer_without_audience_denies_a_bound_token() {
        let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
        let token = Token::mint(
            &root,
            &MintParams::new("agent:a", agent.public_key(), "user:u")
                .audience(crate::audience::Audience::parse("https://a.example/mcp").unwrap())
                .now(1_767_225_600),
        )
        .unwrap();
        let biscuit = biscuit_auth::Biscuit::from(token.to_bytes(), root.public_key().to_biscuit().unwrap()).unwrap();
        let run = |facts: &str| {
            biscuit_auth::AuthorizerBuilder::new()
                .code(format!("time(2026-01-01T00:00:00Z); depth(0); {facts} allow if true;"))
                .unwrap()
                .build(&biscuit)
                .unwrap()
                .authorize()
        };
        assert!(run("").is_err());
        assert!(run("audience(\"https://b.example/mcp\");").is_err());
        assert!(run("audience(\"https://a.example/mcp\");").is_ok());
    }
}
