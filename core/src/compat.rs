//! biscuit-auth compatibility: every call the core makes into marque's fork of biscuit-auth
//! (`vendor/biscuit-auth`, each change listed in `vendor/README.md`) goes through this module.
//!
//! With the cargo feature `biscuit-fork` (every build this repository ships: the CLI and the
//! Python, Node and Wasm packages) each function is a direct call into the fork. Without it the
//! core builds against crates.io's biscuit-auth 6.0.0 (`cargo add marque`), and each function
//! reaches the same result through upstream's public API, at some cost: a token just minted is
//! serialized and parsed again, a third-party block derives its public key, and the
//! canonical-block check ([`encode_authority_block`], [`encode_hop_block`]) signs each block it
//! rebuilds with a fixed throwaway key to read the bytes back (the block bytes do not depend on
//! the signing key). The fork's run limits inside one rule application have no upstream
//! equivalent, so without the fork [`authorize`] first bounds, from the facts loaded, the
//! candidate tuples of every rule, check and policy body and refuses (`limits_exceeded`) any
//! body over [`PORTABLE_JOIN_BUDGET`] before Datalog runs: a heavy join fails closed instead of
//! running past the deadline. The two paths give byte-identical blocks and tokens, which
//! `scripts/test.sh` checks by running the core's tests against unpatched biscuit-auth.
//!
//! ```
//! use marque::{KeyPair, MintParams, Right, Token};
//! let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
//! // Minting goes through `into_unverified` and the canonical-block encoders of this module;
//! // the token parses back to what was minted in either build.
//! let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:u")
//!     .right(Right::new("read_file", "read", "*")).now(1_767_225_600))?;
//! assert_eq!(Token::from_bytes(token.to_bytes())?.to_bytes(), token.to_bytes());
//! # Ok::<(), marque::Error>(())
//! ```

use biscuit_auth::builder::{BiscuitBuilder, BlockBuilder};
use biscuit_auth::error::Token as BiscuitError;
use biscuit_auth::{Authorizer, Biscuit, KeyPair, ThirdPartyBlock, ThirdPartyRequest, UnverifiedBiscuit};

#[cfg(not(any(feature = "regex-full", feature = "biscuit-fork")))]
compile_error!(
    "marque: the `biscuit` feature needs `regex-full` (the regex crate) or `biscuit-fork` \
     (regex-lite, only in marque's biscuit-auth fork): crates.io's biscuit-auth 6.0.0 has no \
     regex-lite engine"
);

/// Without the fork: the most candidate tuples one rule, check or policy body may join (the
/// product, over its predicates, of the facts that can match each), checked before Datalog runs.
/// About a few milliseconds of evaluation; two 64-attribute predicates (4 096) pass, a 1 000-fact
/// predicate joined with itself (1 000 000) does not.
#[cfg(not(feature = "biscuit-fork"))]
pub const PORTABLE_JOIN_BUDGET: u64 = 100_000;

/// The token a builder just signed, as the parsed form the core keeps.
pub(crate) fn into_unverified(token: Biscuit) -> Result<UnverifiedBiscuit, BiscuitError> {
    #[cfg(feature = "biscuit-fork")]
    return Ok(token.into_unverified());
    #[cfg(not(feature = "biscuit-fork"))]
    UnverifiedBiscuit::from(token.to_vec()?)
}

/// A third-party block signed by `keypair` (the fork skips deriving the public key again).
pub(crate) fn create_block_with_keypair(
    request: ThirdPartyRequest,
    keypair: &KeyPair,
    block: BlockBuilder,
) -> Result<ThirdPartyBlock, BiscuitError> {
    #[cfg(feature = "biscuit-fork")]
    return request.create_block_with_keypair(keypair, block);
    #[cfg(not(feature = "biscuit-fork"))]
    request.create_block(&keypair.private(), block)
}

/// Writes into `out` (cleared first) the authority block `builder` makes, serialized exactly as
/// minting signs it, starting from the default symbol table.
pub(crate) fn encode_authority_block(builder: BiscuitBuilder, out: &mut Vec<u8>) -> Result<(), BiscuitError> {
    out.clear();
    #[cfg(feature = "biscuit-fork")]
    return builder.encode_authority_block(biscuit_auth::datalog::SymbolTable::new(), out);
    #[cfg(not(feature = "biscuit-fork"))]
    {
        use prost::Message as _;
        let kp = throwaway_key()?;
        let built = builder.build_with_key_pair(kp, biscuit_auth::datalog::SymbolTable::new(), kp)?;
        let raw = biscuit_auth::format::schema::Biscuit::decode(&built.to_vec()?[..]).map_err(decode_error)?;
        out.extend_from_slice(&raw.authority.block);
        Ok(())
    }
}

/// Writes into `out` (cleared first) the third-party (hop) block `builder` makes, serialized
/// exactly as delegation signs it: its own symbol table, Datalog 3.2 at least.
pub(crate) fn encode_hop_block(builder: BlockBuilder, out: &mut Vec<u8>) -> Result<(), BiscuitError> {
    out.clear();
    #[cfg(feature = "biscuit-fork")]
    return builder.encode_third_party_block(out);
    #[cfg(not(feature = "biscuit-fork"))]
    {
        use prost::Message as _;
        // The payload does not depend on the request's previous signature nor on the signer.
        let request = ThirdPartyRequest::deserialize(&[])?;
        let block = request.create_block(&throwaway_key()?.private(), builder)?.serialize()?;
        let contents = biscuit_auth::format::schema::ThirdPartyBlockContents::decode(&block[..]).map_err(decode_error)?;
        out.extend_from_slice(&contents.payload);
        Ok(())
    }
}

/// Parses `token` and checks its signatures under `root`, skipping those of the first blocks
/// `lookup` says were verified before under `root` ([`crate::prefix_cache`]; it gets the
/// digests of the token's prefixes, computed from the very bytes whose signatures are checked).
/// Returns the token, those digests (to remember once every check passed; none when `lookup`
/// is `None`), how many leading blocks were skipped and how many were checked. Without the
/// fork, upstream checks every signature: no digests, nothing skipped.
pub(crate) fn parse_verified(
    token: &[u8],
    root: &biscuit_auth::PublicKey,
    lookup: Option<crate::prefix_cache::PrefixLookup<'_>>,
) -> Result<Verified, BiscuitError> {
    #[cfg(feature = "biscuit-fork")]
    {
        let mut digests = Vec::new();
        let mut skipped = 0;
        let (biscuit, checked) = Biscuit::from_with_verified_prefix(token, root, |container| {
            if let Some(lookup) = lookup {
                digests = crate::prefix_cache::prefix_digests(root, container);
                skipped = lookup(&digests);
            }
            skipped
        })?;
        Ok(Verified { biscuit, digests, skipped, checked })
    }
    #[cfg(not(feature = "biscuit-fork"))]
    {
        let _ = lookup;
        let biscuit = Biscuit::from(token, *root)?;
        let checked = biscuit.block_count();
        Ok(Verified { biscuit, digests: Vec::new(), skipped: 0, checked })
    }
}

/// What [`parse_verified`] returns.
pub(crate) struct Verified {
    pub(crate) biscuit: Biscuit,
    pub(crate) digests: Vec<crate::prefix_cache::PrefixDigest>,
    pub(crate) skipped: usize,
    pub(crate) checked: usize,
}

/// Runs the authorizer: checks, then policies. Returns the index of the allow policy that matched.
/// `max_facts` is the verifier's facts limit (the bound on what a rule can derive).
pub(crate) fn authorize(authorizer: &mut Authorizer, max_facts: u64) -> Result<usize, BiscuitError> {
    #[cfg(not(feature = "biscuit-fork"))]
    check_join_budget(authorizer, max_facts)?;
    #[cfg(feature = "biscuit-fork")]
    let _ = max_facts;
    authorizer.authorize()
}

/// Refuses (`RunLimit::Timeout`: a run that could not finish within the deadline) an authorizer
/// with a rule, check or policy body whose candidate tuples could exceed [`PORTABLE_JOIN_BUDGET`].
/// A predicate's count is the facts of that name and arity loaded, plus `max_facts` if a rule
/// derives it.
#[cfg(not(feature = "biscuit-fork"))]
fn check_join_budget(authorizer: &Authorizer, max_facts: u64) -> Result<(), BiscuitError> {
    use biscuit_auth::builder::{Predicate, Rule};
    use std::collections::HashMap;
    let (facts, rules, checks, policies) = authorizer.dump();
    let mut counts: HashMap<(String, usize), u64> = HashMap::new();
    for f in &facts {
        *counts.entry((f.predicate.name.clone(), f.predicate.terms.len())).or_default() += 1;
    }
    for r in &rules {
        let c = counts.entry((r.head.name.clone(), r.head.terms.len())).or_default();
        *c = c.saturating_add(max_facts);
    }
    let bound = |body: &[Predicate]| {
        body.iter().fold(1u64, |acc, p| {
            acc.saturating_mul(counts.get(&(p.name.clone(), p.terms.len())).copied().unwrap_or(0))
        })
    };
    let bodies = rules
        .iter()
        .chain(checks.iter().flat_map(|c| c.queries.iter()))
        .chain(policies.iter().flat_map(|p| p.queries.iter()))
        .map(|r: &Rule| bound(&r.body));
    if bodies.into_iter().any(|b| b > PORTABLE_JOIN_BUDGET) {
        return Err(BiscuitError::RunLimit(biscuit_auth::error::RunLimit::Timeout));
    }
    Ok(())
}

/// A fixed Ed25519 key pair for the portable encoders (its signatures are thrown away).
#[cfg(not(feature = "biscuit-fork"))]
fn throwaway_key() -> Result<&'static KeyPair, BiscuitError> {
    static KEY: std::sync::OnceLock<KeyPair> = std::sync::OnceLock::new();
    if let Some(k) = KEY.get() {
        return Ok(k);
    }
    let private = biscuit_auth::PrivateKey::from_bytes(&[0x6d; 32], biscuit_auth::Algorithm::Ed25519)?;
    let _ = KEY.set(KeyPair::from(&private));
    KEY.get().ok_or(BiscuitError::InternalError)
}

#[cfg(not(feature = "biscuit-fork"))]
fn decode_error(e: prost::DecodeError) -> BiscuitError {
    BiscuitError::Format(biscuit_auth::error::Format::DeserializationError(format!("{e}")))
}
