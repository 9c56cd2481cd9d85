//! Canonical blocks: a token's claims are read back from its blocks' Datalog, and each block
//! must be exactly the profile's Datalog for what it claims.
//!
//! A marque block (profile 3, `docs/PROFILE.md`) writes each claim once, as Datalog: the
//! authority block's facts (`agent`, `agent_key`, `principal`, `right`, …) and a hop block's
//! `hop(agent, key)` fact and checks (time bound, tool set, operation set, resource prefix,
//! depth bound). [`read_authority`] and [`read_hop`] decode the block protobuf
//! (`schema::Block`) and read those values — but a reading is only a *candidate*: any holder can
//! append a third-party hop block signed by its own key, with arbitrary Datalog (a five-way
//! join that pins a core for seconds, a rule deriving millions of facts, a check the claims do
//! not mention). So every parse ([`Token::from_bytes`](crate::Token::from_bytes), and the
//! verifier's path into its verified-token cache) rebuilds each block from the claims read with
//! the very builders minting and delegation use, and refuses the token (`invalid_token`) unless
//! the signed block bytes are exactly those: no extra fact, rule, check, scope, public key or
//! context, nothing missing, nothing reordered. It is a byte comparison of serialized blocks,
//! made before any Datalog runs (no parser, no evaluation). The rebuilt bytes are
//! deterministic: hop blocks are third-party blocks with their own symbol table and the
//! authority block starts from the default one, so they depend on the claims alone
//! (`tests::canonical_bytes_are_deterministic`). A reader that meets an unknown shape returns
//! `invalid_token`, never panics.
//!
//! ```
//! use biscuit_auth::{builder::BlockBuilder, UnverifiedBiscuit};
//! use marque::{DelegateParams, KeyPair, MintParams, Request, Right, Token, Verifier};
//! let (root, agent, child) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]));
//! let now = 1_767_225_600;
//! let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:u")
//!     .right(Right::new("read_file", "read", "*")).now(now))?;
//! let honest = token.delegate(&agent, &DelegateParams::new("agent:c", child.public_key()).now(now))?;
//!
//! // The same hop Datalog, signed by the same real holder key, plus one fact.
//! let datalog = UnverifiedBiscuit::from(honest.to_bytes()).unwrap().print_block_source(1).unwrap() + "\nextra(1);";
//! let signer = biscuit_auth::PrivateKey::from_bytes(&agent.to_seed()[..], biscuit_auth::Algorithm::Ed25519).unwrap();
//! let parent = UnverifiedBiscuit::from(token.to_bytes()).unwrap();
//! let block = parent.third_party_request().unwrap()
//!     .create_block(&signer, BlockBuilder::new().code(&datalog).unwrap()).unwrap();
//! let hostile = parent.append_third_party(&block.serialize().unwrap()).unwrap().to_vec().unwrap();
//!
//! let verifier = Verifier::new([root.public_key()]);
//! let request = Request::new("read_file", "read", "src/a.rs");
//! assert!(verifier.authorize(honest.to_bytes(), &request, None, Some(now))?.allowed);
//! assert_eq!(verifier.authorize(&hostile, &request, None, Some(now)).unwrap_err().code(), "invalid_token");
//! assert_eq!(Token::from_bytes(&hostile).unwrap_err().code(), "invalid_token");
//! # Ok::<(), marque::Error>(())
//! ```

use biscuit_auth::datalog::SymbolTable;
use biscuit_auth::format::schema::{self, op::Content as OpContent, term::Content as TermContent};

use crate::error::{Error, Result};
use crate::keys::PublicKey;
use crate::policy::Right;
use crate::token::{AuthorityInfo, Claims, HopInfo, PROFILE_VERSION};

/// Refuses `claims` unless `blocks` (each block's serialized Datalog as signed, authority first)
/// are, byte for byte, the blocks the profile builds from the claims read back from them.
#[cfg(test)]
pub(crate) fn check_blocks(claims: &Claims, blocks: &[Vec<u8>]) -> Result<()> {
    check_blocks_from(claims, blocks, 0)
}

/// [`check_blocks`] for the blocks from `first` on: the blocks before it are a prefix the
/// verifier checked before, byte for byte the same under the same root key
/// ([`crate::prefix_cache`]); a block's check depends on its own bytes and position alone.
pub(crate) fn check_blocks_from(claims: &Claims, blocks: &[Vec<u8>], first: usize) -> Result<()> {
    let (authority, hops) = match blocks.split_first() {
        Some(split) if split.1.len() == claims.hops.len() => split,
        _ => return Err(Error::invalid_token("the token's blocks do not match its claims")),
    };
    // One buffer for every rebuilt block, sized for the largest.
    let mut expected = Vec::with_capacity(blocks.iter().map(Vec::len).max().unwrap_or(0));
    if first == 0 {
        crate::token::authority_builder(&claims.authority, &claims.chain[0].key)
            .and_then(|b| crate::compat::encode_authority_block(b, &mut expected).map_err(Error::from))
            .map_err(|_| not_canonical(0))?;
        if expected != *authority {
            return Err(not_canonical(0));
        }
    }
    for (i, (info, block)) in claims.hops.iter().zip(hops).enumerate() {
        let depth = i + 1;
        if depth < first {
            continue;
        }
        // `chain[depth]` is the hop's own key, read from this block.
        let key = &claims.chain[depth].key;
        expected.clear();
        crate::delegate::hop_block(info, key)
            .and_then(|b| crate::compat::encode_hop_block(b, &mut expected).map_err(Error::from))
            .map_err(|_| not_canonical(depth))?;
        if expected != *block {
            return Err(not_canonical(depth));
        }
    }
    Ok(())
}

fn not_canonical(block: usize) -> Error {
    let which = if block == 0 { "the authority block".to_string() } else { format!("block {block} (a delegation)") };
    Error::invalid_token(format!(
        "{which} is not the profile's block for its claims: it carries Datalog (facts, rules, \
         checks, scopes, keys or a context) other than exactly what the profile writes for them; refused before any Datalog runs"
    ))
}

/// A block's symbols: biscuit-auth's default table below 1024, the block's own from 1024 (the
/// authority block starts from the default table; a hop block is a third-party block with its
/// own table).
struct Symbols<'a> {
    defaults: SymbolTable,
    own: &'a [String],
}

impl<'a> Symbols<'a> {
    fn new(block: &'a schema::Block) -> Self {
        Symbols { defaults: SymbolTable::new(), own: &block.symbols }
    }
    fn get(&self, i: u64) -> Option<&str> {
        match i.checked_sub(1024) {
            Some(own) => usize::try_from(own).ok().and_then(|o| self.own.get(o)).map(String::as_str),
            None => self.defaults.get_symbol(i),
        }
    }
}

/// A term read as a string, integer, date, bytes or set of strings (anything else: `None`).
fn string(symbols: &Symbols, term: &schema::Term) -> Option<String> {
    match &term.content {
        Some(TermContent::String(i)) => symbols.get(*i).map(str::to_string),
        _ => None,
    }
}
fn integer(term: &schema::Term) -> Option<i64> {
    match term.content {
        Some(TermContent::Integer(i)) => Some(i),
        _ => None,
    }
}
fn date(term: &schema::Term) -> Option<u64> {
    match term.content {
        Some(TermContent::Date(d)) => Some(d),
        _ => None,
    }
}
fn strings(symbols: &Symbols, term: &schema::Term) -> Option<Vec<String>> {
    match &term.content {
        Some(TermContent::Set(set)) => set.set.iter().map(|t| string(symbols, t)).collect(),
        _ => None,
    }
}
fn key(term: &schema::Term) -> Option<PublicKey> {
    match &term.content {
        Some(TermContent::Bytes(b)) => PublicKey::from_bytes(b).ok(),
        _ => None,
    }
}

/// Puts `value` in an empty `slot`; false when the slot is taken or there is no value.
fn once<T>(slot: &mut Option<T>, value: Option<T>) -> bool {
    match (slot.is_some(), value) {
        (false, Some(v)) => {
            *slot = Some(v);
            true
        }
        _ => false,
    }
}

/// The claims of a profile-2 token's descriptor, if the block has one: a clear refusal.
fn older_profile(block: &schema::Block) -> Option<Error> {
    let context = block.context.as_deref()?;
    let version = serde_json::from_str::<serde_json::Value>(context).ok()?.get("marque")?.as_u64()?;
    Some(profile_error(version))
}

fn profile_error(version: impl std::fmt::Display) -> Error {
    Error::invalid_token(format!(
        "profile {version} token: re-mint it (this build reads marque profile {PROFILE_VERSION} tokens only)"
    ))
}

/// Reads the authority block's claims and the root agent's key from its facts
/// (`docs/PROFILE.md`). Only a candidate: [`check_blocks`] rebuilds the block from it and
/// compares bytes, so a reading that tolerates odd shapes grants nothing.
pub(crate) fn read_authority(block: &schema::Block) -> Result<(AuthorityInfo, PublicKey)> {
    if let Some(e) = older_profile(block) {
        return Err(e);
    }
    let symbols = Symbols::new(block);
    let bad = |what: &str| Error::invalid_token(format!("not a marque token: the authority block {what}"));
    let (mut version, mut agent, mut key_, mut principal, mut task, mut workspace) = (None, None, None, None, None, None);
    let (mut iat, mut exp, mut max_depth, mut rights, mut audiences) = (None, None, None, Vec::new(), Vec::new());
    for fact in &block.facts {
        let p = &fact.predicate;
        let name = symbols.get(p.name).ok_or_else(|| bad("names an unknown symbol"))?;
        let one = |i: usize| p.terms.get(i).filter(|_| p.terms.len() == 1);
        let slot_set = |slot: &mut dyn FnMut() -> bool| if slot() { Ok(()) } else { Err(bad(&format!("has a malformed or repeated `{name}` fact"))) };
        match name {
            "marque_profile" => slot_set(&mut || once(&mut version, one(0).and_then(integer)))?,
            "agent" => slot_set(&mut || once(&mut agent, one(0).and_then(|t| string(&symbols, t))))?,
            "agent_key" => slot_set(&mut || once(&mut key_, one(0).and_then(key)))?,
            "principal" => slot_set(&mut || once(&mut principal, one(0).and_then(|t| string(&symbols, t))))?,
            "issued_at" => slot_set(&mut || once(&mut iat, one(0).and_then(date)))?,
            "expires_at" => slot_set(&mut || once(&mut exp, one(0).and_then(date)))?,
            "max_depth" => slot_set(&mut || once(&mut max_depth, one(0).and_then(integer).and_then(|d| u32::try_from(d).ok())))?,
            "task" => slot_set(&mut || once(&mut task, one(0).and_then(|t| string(&symbols, t))))?,
            "workspace" => slot_set(&mut || once(&mut workspace, one(0).and_then(|t| string(&symbols, t))))?,
            "right" if p.terms.len() == 3 => {
                let s = |i: usize| string(&symbols, &p.terms[i]);
                match (s(0), s(1), s(2)) {
                    (Some(tool), Some(operation), Some(resource)) => rights.push(Right { tool, operation, resource }),
                    _ => return Err(bad("has a malformed `right` fact")),
                }
            }
            // Each audience in its canonical form (the one the verifier compares byte for byte).
            "token_audience" => match one(0).and_then(|t| string(&symbols, t)) {
                Some(uri) => match crate::audience::Audience::parse(&uri) {
                    Ok(a) if a.as_str() == uri => audiences.push(a),
                    _ => return Err(bad("has a `token_audience` fact that is not a canonical server URI")),
                },
                None => return Err(bad("has a malformed `token_audience` fact")),
            },
            _ => return Err(bad(&format!("has a fact `{name}` the profile does not write"))),
        }
    }
    match version {
        Some(v) if v == i64::from(PROFILE_VERSION) => {}
        Some(v) => return Err(profile_error(v)),
        None => return Err(bad("has no marque_profile fact")),
    }
    let missing = |what: &str| bad(&format!("has no `{what}` fact"));
    let info = AuthorityInfo {
        agent: agent.ok_or_else(|| missing("agent"))?,
        principal: principal.ok_or_else(|| missing("principal"))?,
        task,
        workspace,
        rights,
        iat: iat.ok_or_else(|| missing("issued_at"))?,
        exp: exp.ok_or_else(|| missing("expires_at"))?,
        max_depth: max_depth.ok_or_else(|| missing("max_depth"))?,
        audiences,
    };
    if let Err(why) = crate::token::check_audiences(&info.audiences) {
        return Err(bad(&format!("has invalid audiences: {why}")));
    }
    Ok((info, key_.ok_or_else(|| missing("agent_key"))?))
}

/// Reads a hop's constraint facts (after `hop`): `max_calls`, `rate`, `needs_approval`. Any
/// other fact, a repeat or a malformed term is `invalid_token`; the order is left to the byte
/// comparison.
fn read_constraints(symbols: &Symbols<'_>, facts: &[schema::Fact], info: &mut HopInfo, depth: usize) -> Result<()> {
    let positive = |t: &schema::Term| integer(t).and_then(|n| u64::try_from(n).ok());
    for f in facts {
        let p = &f.predicate;
        let name = symbols.get(p.name).ok_or_else(|| not_canonical(depth))?;
        let fresh = match (name, &p.terms[..]) {
            ("max_calls", [n]) => info.budget.max_calls.replace(positive(n).ok_or_else(|| not_canonical(depth))?).is_none(),
            ("rate", [c, w]) => {
                let rate = crate::budget::Rate {
                    calls: positive(c).ok_or_else(|| not_canonical(depth))?,
                    window_seconds: positive(w).ok_or_else(|| not_canonical(depth))?,
                };
                info.budget.rate.replace(rate).is_none()
            }
            ("needs_approval", [t, o, r]) => match (string(symbols, t), string(symbols, o), string(symbols, r)) {
                (Some(tool), Some(operation), Some(resource)) => {
                    info.approval.push(Right { tool, operation, resource });
                    true
                }
                _ => false,
            },
            _ => false,
        };
        if !fresh {
            return Err(not_canonical(depth));
        }
    }
    // Approval rules in the profile's form only: valid, canonical prefixes, sorted, no repeats,
    // at most 16 — the form delegation writes; the byte comparison alone would accept any order.
    match crate::delegate::approval_rules(&info.approval) {
        Ok(rules) if rules == info.approval => {}
        _ => return Err(not_canonical(depth)),
    }
    info.budget.validate().map_err(|_| not_canonical(depth))
}

/// Reads a delegation block's claims and the child's key: the `hop(agent, key)` fact and the
/// constants of its checks, each recognised by the predicate it reads (`time`, `tool`,
/// `operation`, `resource`, `depth`). Only a candidate, like [`read_authority`].
pub(crate) fn read_hop(block: &schema::Block, depth: usize) -> Result<(HopInfo, PublicKey)> {
    if block.context.is_some() {
        return Err(older_profile(block).unwrap_or_else(|| not_canonical(depth)));
    }
    let symbols = Symbols::new(block);
    let bad = || Error::invalid_token(format!("block {depth} is not a marque delegation (no `hop` fact or an unknown check)"));
    let (agent, key, rest) = match &block.facts[..] {
        [f, rest @ ..] if symbols.get(f.predicate.name) == Some("hop") && f.predicate.terms.len() == 2 => {
            match (string(&symbols, &f.predicate.terms[0]), key(&f.predicate.terms[1])) {
                (Some(a), Some(k)) => (a, k, rest),
                _ => return Err(bad()),
            }
        }
        _ => return Err(bad()),
    };
    let mut info = HopInfo {
        agent,
        tools: None,
        operations: None,
        resource_prefix: None,
        exp: 0,
        max_depth: None,
        budget: crate::budget::Budget::default(),
        approval: Vec::new(),
    };
    read_constraints(&symbols, rest, &mut info, depth)?;
    let mut exp = None;
    for check in &block.checks {
        let rule = match &check.queries[..] {
            [rule] => rule,
            _ => return Err(not_canonical(depth)),
        };
        let values: Vec<&schema::Term> = rule
            .expressions
            .iter()
            .flat_map(|e| &e.ops)
            .filter_map(|op| match &op.content {
                Some(OpContent::Value(t)) if !matches!(t.content, Some(TermContent::Variable(_))) => Some(t),
                _ => None,
            })
            .collect();
        let axis = rule.body.first().and_then(|p| symbols.get(p.name)).ok_or_else(|| not_canonical(depth))?;
        let fresh = match axis {
            "time" => exp.replace(values.first().and_then(|t| date(t)).ok_or_else(|| not_canonical(depth))?).is_none(),
            "tool" => info.tools.replace(values.first().and_then(|t| strings(&symbols, t)).ok_or_else(|| not_canonical(depth))?).is_none(),
            "operation" => {
                info.operations.replace(values.first().and_then(|t| strings(&symbols, t)).ok_or_else(|| not_canonical(depth))?).is_none()
            }
            "resource" => {
                info.resource_prefix.replace(values.last().and_then(|t| string(&symbols, t)).ok_or_else(|| not_canonical(depth))?).is_none()
            }
            "depth" => {
                let d = values.first().and_then(|t| integer(t)).and_then(|d| u32::try_from(d).ok());
                info.max_depth.replace(d.ok_or_else(|| not_canonical(depth))?).is_none()
            }
            _ => false,
        };
        if !fresh {
            return Err(not_canonical(depth));
        }
    }
    info.exp = exp.ok_or_else(|| not_canonical(depth))?;
    Ok((info, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delegate::DelegateParams;
    use crate::keys::KeyPair;
    use crate::policy::Right;
    use crate::token::{MintParams, Token};
    use prost::Message as _;

    fn blocks(token: &Token) -> Vec<Vec<u8>> {
        let raw = biscuit_auth::format::schema::Biscuit::decode(token.to_bytes()).unwrap();
        std::iter::once(raw.authority.block).chain(raw.blocks.into_iter().map(|b| b.block)).collect()
    }

    fn chain() -> Token {
        let (root, a, b, c) =
            (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]), KeyPair::from_seed(&[4; 32]));
        Token::mint(
            &root,
            &MintParams::new("agent:o", a.public_key(), "user:u")
                .task("t")
                .workspace("w")
                .right(Right::new("read_file", "read", "src/"))
                .right(Right::new("*", "*", "*"))
                .now(1_767_225_600),
        )
        .unwrap()
        .delegate(
            &a,
            &DelegateParams::new("agent:b", b.public_key())
                .tools(["read_file", "write_file"])
                .operations(["read"])
                .resource_prefix("src/")
                .max_depth(3)
                .ttl_seconds(60)
                .now(1_767_225_600),
        )
        .unwrap()
        .delegate(&b, &DelegateParams::new("agent:c", c.public_key()).now(1_767_225_600))
        .unwrap()
    }

    /// The rebuilt bytes depend on the descriptor alone: the same claims give the same bytes on
    /// every call (no fresh symbol-table state, no randomness, no map iteration order), and they
    /// are exactly the bytes minting and delegation signed.
    #[test]
    fn canonical_bytes_are_deterministic() {
        let token = chain();
        let signed = blocks(&token);
        let claims = token.claims();
        for _ in 0..3 {
            let mut a = Vec::new();
            crate::compat::encode_authority_block(crate::token::authority_builder(&claims.authority, &claims.chain[0].key).unwrap(), &mut a)
                .unwrap();
            assert_eq!(a, signed[0]);
            for (i, info) in claims.hops.iter().enumerate() {
                let mut h = Vec::new();
                crate::compat::encode_hop_block(crate::delegate::hop_block(info, &claims.chain[i + 1].key).unwrap(), &mut h).unwrap();
                assert_eq!(h, signed[i + 1], "hop {}", i + 1);
            }
        }
        check_blocks(claims, &signed).unwrap();
    }

    /// A hop listing hundreds of tools (hundreds of symbols, through the symbol table's hash
    /// index) is rebuilt byte for byte.
    #[test]
    fn a_hop_with_many_symbols_is_canonical() {
        let (root, a, b) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]));
        let tools: Vec<String> = (0..300).map(|i| format!("tool_{i:04}")).collect();
        let token = Token::mint(&root, &MintParams::new("agent:o", a.public_key(), "user:u").right(Right::new("*", "*", "*")).now(1_767_225_600))
            .unwrap()
            .delegate(&a, &DelegateParams::new("agent:b", b.public_key()).tools(tools).now(1_767_225_600))
            .unwrap();
        check_blocks(token.claims(), &blocks(&token)).unwrap();
        assert_eq!(Token::from_bytes(token.to_bytes()).unwrap(), token);
    }

    #[test]
    fn any_other_byte_or_block_count_is_refused() {
        let token = chain();
        let signed = blocks(&token);
        let claims = token.claims();
        for i in 0..signed.len() {
            let mut altered = signed.clone();
            altered[i].push(0);
            assert_eq!(check_blocks(claims, &altered).unwrap_err().code(), "invalid_token", "block {i}");
            let mut altered = signed.clone();
            let last = altered[i].len() - 1;
            altered[i][last] ^= 1;
            assert_eq!(check_blocks(claims, &altered).unwrap_err().code(), "invalid_token", "block {i}");
        }
        assert!(check_blocks(claims, &signed[..2]).is_err());
        assert!(check_blocks(claims, &[]).is_err());
    }

    /// The readers take any decoded block: odd shapes (symbol indices out of range, wrong term
    /// types, empty checks, nested sets, too many terms) are `invalid_token`, never a panic.
    #[test]
    fn readers_refuse_odd_shapes_without_panicking() {
        use schema::{term::Content as C, Check, Expression, Fact, Op, Predicate, Rule, Term, TermSet};
        let term = |c: C| Term { content: Some(c) };
        let pred = |name: u64, terms: Vec<Term>| Predicate { name, terms };
        let honest = chain();
        let blocks = blocks(&honest);
        let hop = schema::Block::decode(&blocks[1][..]).unwrap();
        let authority = schema::Block::decode(&blocks[0][..]).unwrap();
        assert!(read_hop(&hop, 1).is_ok() && read_authority(&authority).is_ok());
        let mut odd: Vec<schema::Block> = Vec::new();
        for name in [0, 1023, 1024, 1025, 1_000_000, u64::MAX] {
            let mut b = hop.clone();
            b.facts[0].predicate.name = name;
            odd.push(b);
            let mut b = hop.clone();
            b.facts[0].predicate.terms[0] = term(C::String(name));
            odd.push(b);
            let mut b = hop.clone();
            b.checks[0].queries[0].body[0].name = name;
            odd.push(b);
        }
        let mut b = hop.clone();
        b.facts[0].predicate.terms[1] = term(C::Bytes(vec![0; 31]));
        odd.push(b);
        let mut b = hop.clone();
        b.facts[0].predicate.terms.push(term(C::Integer(1)));
        odd.push(b);
        let mut b = hop.clone();
        b.checks.push(Check { queries: vec![], kind: None });
        odd.push(b);
        let mut b = hop.clone();
        let nested = term(C::Set(TermSet { set: vec![term(C::Set(TermSet { set: vec![term(C::Integer(1))] }))] }));
        let empty_rule = |body: Vec<Predicate>, ops: Vec<Op>| Rule {
            head: pred(27, vec![]),
            body,
            expressions: vec![Expression { ops }],
            scope: vec![],
        };
        let tool = b.checks[1].queries[0].body[0].name;
        b.checks.push(Check {
            queries: vec![empty_rule(vec![pred(tool, vec![])], vec![Op { content: Some(schema::op::Content::Value(nested)) }])],
            kind: None,
        });
        odd.push(b);
        let mut b = hop.clone();
        b.checks.push(Check { queries: vec![empty_rule(vec![], vec![])], kind: Some(2) });
        odd.push(b);
        let mut b = hop.clone();
        b.facts.push(Fact { predicate: pred(1024, vec![]) });
        odd.push(b);
        // (Some edits above leave the block as it was: symbol 1024 is `hop` itself.)
        odd.retain(|b| *b != hop);
        assert!(odd.len() >= 20);
        // Refused by the reader, or read as a candidate whose rebuilt block is other bytes.
        for (i, b) in odd.iter().enumerate() {
            match read_hop(b, 1) {
                Err(e) => assert_eq!(e.code(), "invalid_token", "hop shape {i}"),
                Ok((info, key)) => {
                    let mut rebuilt = Vec::new();
                    crate::compat::encode_hop_block(crate::delegate::hop_block(&info, &key).unwrap(), &mut rebuilt).unwrap();
                    assert_ne!(rebuilt, b.encode_to_vec(), "hop shape {i} read as {info:?}");
                }
            }
        }
        let mut odd_authority = Vec::new();
        for i in 0..authority.facts.len() {
            let mut b = authority.clone();
            b.facts[i].predicate.terms.clear();
            odd_authority.push(b);
            let mut b = authority.clone();
            b.facts.push(authority.facts[i].clone());
            if Symbols::new(&authority).get(authority.facts[i].predicate.name) != Some("right") {
                odd_authority.push(b);
            }
            let mut b = authority.clone();
            b.facts[i].predicate.terms.insert(0, term(C::Date(u64::MAX)));
            odd_authority.push(b);
        }
        for (i, b) in odd_authority.iter().enumerate() {
            assert_eq!(read_authority(b).unwrap_err().code(), "invalid_token", "authority shape {i}");
        }
    }
}
