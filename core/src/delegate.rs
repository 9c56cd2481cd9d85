//! Delegation: an agent hands a narrower token to a child agent, offline.
//!
//! [`Token::delegate`] appends one block that names the child (id, path, public key) and adds only
//! checks — tools, operations, resource prefix, expiry, depth — so authority can only narrow
//! (Biscuit evaluates every check of every block). The block is a Biscuit third-party block signed
//! by the *delegating agent's* key, so every hop is attributable: a verifier proves that hop *k*
//! was signed by the key that hop *k − 1* named. Delegating with a key that is not the holder's is
//! `wrong_holder_key`; asking for a tool, operation or prefix the holder does not have is refused
//! at once (`attenuation_widens`) with a message naming what was asked and what is held; going
//! past the maximum depth is `depth_exceeded`; a sealed token is `sealed`.
//!
//! A resource prefix is validated like a resource ([`crate::resource::validate_prefix`]: `..`,
//! empty segments, escapes… are `invalid_argument`) and must be covered, on segment boundaries
//! ([`crate::resource::covers`]), by a right of the token and by every prefix an earlier hop set;
//! it is written in its [canonical](crate::resource::canonical) form (`src` as `src/`) and the
//! hop's Datalog check is the rule for it ([`crate::resource`]). On every axis `"*"`
//! means *unchanged*: `resource_prefix("*")`, `tools(["*"])` or `operations(["*"])` narrow
//! nothing (the block carries no check for that axis), whatever the parent holds; `"*"` mixed
//! with names in a list is `invalid_argument`.
//!
//! ```
//! use marque::{KeyPair, Token, token::MintParams, delegate::DelegateParams, policy::Right};
//! let root = KeyPair::from_seed(&[1; 32]);
//! let orch = KeyPair::from_seed(&[2; 32]);
//! let child = KeyPair::from_seed(&[3; 32]);
//! let token = Token::mint(&root, &MintParams::new("agent:orch", orch.public_key(), "user:alice")
//!     .right(Right::new("read_file", "*", "*")).now(1_700_000_000))?;
//! let child_token = token.delegate(&orch, &DelegateParams::new("agent:agent_a", child.public_key())
//!     .resource_prefix("src/").now(1_700_000_000))?;
//! assert_eq!(child_token.path(), "/root/agent_a");
//! // Asking for a tool the parent does not hold is refused at once.
//! let err = token.delegate(&orch, &DelegateParams::new("agent:b", child.public_key())
//!     .tools(["deploy"]).now(1_700_000_000)).unwrap_err();
//! assert_eq!(err.code(), "attenuation_widens");
//! // Prefixes match on segment boundaries and are checked like paths.
//! let err = child_token.delegate(&child, &DelegateParams::new("agent:c", orch.public_key())
//!     .resource_prefix("src/../etc").now(1_700_000_000)).unwrap_err();
//! assert_eq!(err.code(), "invalid_argument");
//! # Ok::<(), marque::Error>(())
//! ```

use biscuit_auth::builder::{Binary, Op, Term};
use biscuit_auth::format::schema::{ThirdPartyBlockContents, ThirdPartyBlockRequest};
use biscuit_auth::BlockBuilder;
use prost::Message as _;

use crate::error::{Error, ErrorKind, Result};
use crate::identity::child_path_in_chain;
use crate::keys::{KeyPair, PublicKey};
use crate::signer::{sign_checked, Signer};
use crate::policy::{validate_list, ANY};
use crate::resource::covers;
use crate::token::{check_at_most, check_on, fresh_block_key, new_fact, resolve_now, Claims, Hop, HopInfo, Token};

/// What [`Token::delegate`] needs. `None` on an axis means "no further narrowing".
#[derive(Clone, Debug)]
pub struct DelegateParams {
    /// The child agent's id.
    pub to: String,
    /// The child agent's public key.
    pub to_key: PublicKey,
    /// Only these tools (`["*"]`: unchanged, like `None`).
    pub tools: Option<Vec<String>>,
    /// Only these operations (`["*"]`: unchanged, like `None`).
    pub operations: Option<Vec<String>>,
    /// Only resources this prefix covers ([`crate::resource::covers`]; `"*"`: unchanged).
    pub resource_prefix: Option<String>,
    /// Lifetime from `now` (clamped to the parent's expiry).
    pub ttl_seconds: Option<u64>,
    /// Further limit on delegation depth (absolute number of hops in the token).
    pub max_depth: Option<u32>,
    /// Current time (default: the clock, where one exists).
    pub now: Option<u64>,
    /// A call budget for the child's subtree ([`crate::budget`]): no wider than the chain's.
    pub budget: crate::budget::Budget,
    /// Calls of the child's subtree that need a human approval (each `tool:operation:prefix`,
    /// `*` for any): a delegation can only add such rules, never remove one.
    pub require_approval: Vec<crate::policy::Right>,
}

impl DelegateParams {
    /// Delegate to `to` (whose key is `to_key`), no narrowing yet.
    pub fn new(to: impl Into<String>, to_key: PublicKey) -> Self {
        DelegateParams {
            to: to.into(),
            to_key,
            tools: None,
            operations: None,
            resource_prefix: None,
            ttl_seconds: None,
            max_depth: None,
            now: None,
            budget: crate::budget::Budget::default(),
            require_approval: Vec::new(),
        }
    }
    /// Restricts to these tools.
    pub fn tools<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tools: I) -> Self {
        self.tools = Some(tools.into_iter().map(Into::into).collect());
        self
    }
    /// Restricts to these operations.
    pub fn operations<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ops: I) -> Self {
        self.operations = Some(ops.into_iter().map(Into::into).collect());
        self
    }
    /// Restricts to the resources `prefix` covers (`src` or `src/`: `src` and everything below
    /// it; `repo:` or `channel#`: that namespace; `"*"`: no narrowing).
    pub fn resource_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.resource_prefix = Some(prefix.into());
        self
    }
    /// Sets the lifetime.
    pub fn ttl_seconds(mut self, ttl: u64) -> Self {
        self.ttl_seconds = Some(ttl);
        self
    }
    /// Limits the total depth.
    pub fn max_depth(mut self, depth: u32) -> Self {
        self.max_depth = Some(depth);
        self
    }
    /// Sets the current time.
    pub fn now(mut self, now: u64) -> Self {
        self.now = Some(now);
        self
    }
    /// At most `n` calls in all, for the child and everything it delegates.
    pub fn max_calls(mut self, n: u64) -> Self {
        self.budget.max_calls = Some(n);
        self
    }
    /// At most `calls` calls per fixed window of `window_seconds`, for the child's subtree.
    pub fn rate(mut self, calls: u64, window_seconds: u64) -> Self {
        self.budget.rate = Some(crate::budget::Rate { calls, window_seconds });
        self
    }
    /// Calls matching `rule` (`tool:operation:prefix`) need a human approval.
    pub fn require_approval(mut self, rule: crate::policy::Right) -> Self {
        self.require_approval.push(rule);
        self
    }
}

/// One axis (tools or operations) of what the holder has: `None` = anything.
fn held_names(authority: Option<Vec<&str>>, hop_lists: Vec<&Vec<String>>) -> Option<Vec<String>> {
    let mut held: Option<Vec<String>> = authority.map(|v| v.into_iter().map(String::from).collect());
    for list in hop_lists {
        held = Some(match held {
            None => list.clone(),
            Some(h) => h.into_iter().filter(|x| list.contains(x)).collect(),
        });
    }
    held.map(|mut v| {
        v.sort();
        v.dedup();
        v
    })
}

fn describe(held: &Option<Vec<String>>) -> String {
    match held {
        None => "any".into(),
        Some(v) if v.is_empty() => "nothing".into(),
        Some(v) => format!("[{}]", v.join(", ")),
    }
}

fn check_axis(what: &str, asked: &[String], held: &Option<Vec<String>>, holder: &str) -> Result<()> {
    let widening: Vec<&String> = asked
        .iter()
        .filter(|a| match held {
            None => false,
            Some(h) => a.as_str() == ANY || !h.contains(a),
        })
        .collect();
    if widening.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::AttenuationWidens,
        format!(
            "asked for {what} [{}] but {holder} holds {what} {}",
            widening.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
            describe(held)
        ),
    ))
}

impl Token {
    /// Delegates this token to a child agent. `parent` must be the key of the agent holding the
    /// token; the result is held by `params.to` at `<parent path>/<child name>`. `parent` is a
    /// [`KeyPair`] or any [`Signer`] (the hop's third-party signature is asked of it and
    /// verified before the block is appended).
    pub fn delegate<S: Signer + ?Sized>(&self, parent: &S, params: &DelegateParams) -> Result<Token> {
        let claims = self.claims();
        self.check_holder(&parent.public_key())?;
        // The child is one new agent: no id or name of the chain again (docs/PROFILE.md).
        let chain_ids: Vec<&str> = claims.chain.iter().map(|h| h.agent.as_str()).collect();
        let path = child_path_in_chain(&chain_ids, &claims.holder().path, &params.to)?;
        check_depth(claims, params)?;
        let info = narrowed_hop(claims, params)?;
        let block = hop_block(&info, &params.to_key)?;
        let signed = self.sign_hop(parent, block)?;
        let next = fresh_block_key()?;
        let appended = self.inner().append_third_party_with_keypair(&signed, next)?;
        // What the new token claims: the parent's chain and the hop just written (checked
        // above: signed by the holder's key), not read back from the bytes.
        let mut claims = claims.clone();
        claims.chain.push(Hop { agent: params.to.clone(), path, key: params.to_key });
        claims.hops.push(info);
        Token::from_built(appended, claims, self.root_key_id())
    }

    /// `wrong_holder_key` unless `parent_key` is the holder's; `sealed` for a sealed token.
    fn check_holder(&self, parent_key: &PublicKey) -> Result<()> {
        let holder = self.claims().holder();
        if *parent_key != holder.key {
            return Err(Error::new(
                ErrorKind::WrongHolderKey,
                format!(
                    "the token is held by {} ({}); the key given is {}",
                    holder.agent,
                    holder.key.fingerprint(),
                    parent_key.fingerprint()
                ),
            ));
        }
        if self.is_sealed() {
            return Err(Error::new(ErrorKind::Sealed, "the token is sealed and cannot be delegated further"));
        }
        Ok(())
    }

    /// The hop's third-party block, signed by `parent` (biscuit-auth signs with a key pair it is
    /// given; any other [`Signer`] signs the external-signature payload itself).
    fn sign_hop<S: Signer + ?Sized>(&self, parent: &S, block: BlockBuilder) -> Result<Vec<u8>> {
        let request = self.inner().third_party_request()?;
        match parent.key_pair() {
            Some(kp) => Ok(crate::compat::create_block_with_keypair(request, kp.biscuit_key_pair()?, block)?.serialize()?),
            None => {
                // biscuit-auth signs third-party blocks with a private key it holds: build with a
                // placeholder, then put the external signer's signature (and key) in its place.
                let placeholder = KeyPair::from_seed(&[0x6d; 32]).to_biscuit_private()?;
                let previous = ThirdPartyBlockRequest::decode(&request.serialize()?[..])
                    .map_err(|_| Error::internal("a third-party block request does not decode"))?
                    .previous_signature;
                let built = request.create_block(&placeholder, block)?.serialize()?;
                let mut contents = ThirdPartyBlockContents::decode(&built[..])
                    .map_err(|_| Error::internal("a freshly built third-party block does not decode"))?;
                let message = crate::token::external_signature_payload(&contents.payload, &previous);
                contents.external_signature.signature = sign_checked(parent, &message)?.to_bytes().to_vec();
                contents.external_signature.public_key.key = parent.public_key().to_bytes().to_vec();
                Ok(contents.encode_to_vec())
            }
        }
    }
}

/// `depth_exceeded` past the token's maximum depth; a requested `max_depth` above the held one
/// widens (`attenuation_widens`), below this hop's depth is `invalid_argument`.
fn check_depth(claims: &Claims, params: &DelegateParams) -> Result<()> {
    let depth = claims.depth() + 1;
    let max_depth = claims.max_depth();
    if depth > max_depth {
        return Err(Error::new(
            ErrorKind::DepthExceeded,
            format!("the token allows {max_depth} delegation hop(s); this would be hop {depth}"),
        ));
    }
    match params.max_depth {
        Some(d) if d > max_depth => Err(Error::new(
            ErrorKind::AttenuationWidens,
            format!("asked for max_depth {d} but {} holds max_depth {max_depth}", claims.holder().agent),
        )),
        Some(d) if d < depth => Err(Error::invalid_argument(format!("max_depth {d} is below this hop's depth {depth}"))),
        _ => Ok(()),
    }
}

/// What the hop claims: each axis the delegation narrows, checked against what the holder has
/// (`attenuation_widens`), in the profile's form (sorted lists, canonical prefix), and the
/// expiry clamped to the parent's.
fn narrowed_hop(claims: &Claims, params: &DelegateParams) -> Result<HopInfo> {
    let holder = &claims.holder().agent;
    // What the holder has, axis by axis.
    let rights = &claims.authority.rights;
    let auth_axis = |f: fn(&crate::policy::Right) -> &str| -> Option<Vec<&str>> {
        if rights.iter().any(|r| f(r) == ANY) {
            None
        } else {
            Some(rights.iter().map(f).collect())
        }
    };
    let held_tools = held_names(auth_axis(|r| &r.tool), claims.hops.iter().filter_map(|h| h.tools.as_ref()).collect());
    let held_ops = held_names(auth_axis(|r| &r.operation), claims.hops.iter().filter_map(|h| h.operations.as_ref()).collect());
    // `"*"` on an axis means unchanged: no narrowing, no check in the block.
    let tools = unchanged_if_any("tools", &params.tools)?;
    let operations = unchanged_if_any("operations", &params.operations)?;
    let resource_prefix = params.resource_prefix.as_ref().filter(|p| p.as_str() != ANY);
    if let Some(t) = tools {
        validate_list("tools", t)?;
        check_axis("tools", t, &held_tools, holder)?;
    }
    if let Some(o) = operations {
        validate_list("operations", o)?;
        check_axis("operations", o, &held_ops, holder)?;
    }
    if let Some(p) = resource_prefix {
        check_prefix(claims, p)?;
    }
    let now = resolve_now(params.now)?;
    let parent_exp = claims.expires_at();
    let exp = match params.ttl_seconds {
        Some(0) => return Err(Error::invalid_argument("ttl_seconds must be positive")),
        Some(ttl) => now.saturating_add(ttl).min(parent_exp),
        None => parent_exp,
    };
    let normalize = |v: Option<&Vec<String>>| {
        v.map(|l| {
            let mut l = l.clone();
            l.sort();
            l.dedup();
            l
        })
    };
    Ok(HopInfo {
        agent: params.to.clone(),
        tools: normalize(tools),
        operations: normalize(operations),
        resource_prefix: resource_prefix.map(|p| crate::resource::canonical(p).into_owned()),
        exp,
        max_depth: params.max_depth,
        budget: narrowed_budget(claims, &params.budget)?,
        approval: approval_rules(&params.require_approval)?,
    })
}

/// The hop's budget: valid and no wider than the narrowest budget above it (`attenuation_widens`).
fn narrowed_budget(claims: &Claims, asked: &crate::budget::Budget) -> Result<crate::budget::Budget> {
    let above = claims.hops.iter().fold(crate::budget::Budget::default(), |acc, h| acc.narrowest(&h.budget));
    asked.check_within(&above)?;
    Ok(*asked)
}

/// A delegation's approval rules in the profile's form: each a valid right (canonical prefix),
/// sorted, without repeats; at most 16.
pub(crate) fn approval_rules(rules: &[crate::policy::Right]) -> Result<Vec<crate::policy::Right>> {
    if rules.len() > 16 {
        return Err(Error::invalid_argument("at most 16 approval rules per delegation"));
    }
    let mut out = Vec::with_capacity(rules.len());
    for r in rules {
        r.validate()?;
        let resource = if r.resource == ANY { r.resource.clone() } else { crate::resource::canonical(&r.resource).into_owned() };
        out.push(crate::policy::Right { tool: r.tool.clone(), operation: r.operation.clone(), resource });
    }
    out.sort_by(|a, b| (&a.tool, &a.operation, &a.resource).cmp(&(&b.tool, &b.operation, &b.resource)));
    out.dedup();
    Ok(out)
}

/// A delegation's resource prefix: valid like a resource (`invalid_argument`) and covered by a
/// right of the token and by every earlier hop's prefix (`attenuation_widens`, naming both).
fn check_prefix(claims: &Claims, p: &str) -> Result<()> {
    crate::resource::validate_prefix("resource_prefix", p)?;
    let rights = &claims.authority.rights;
    let hop_prefixes: Vec<&String> = claims.hops.iter().filter_map(|h| h.resource_prefix.as_ref()).collect();
    let by_rights = rights.iter().any(|r| covers(&r.resource, p));
    let by_hops = hop_prefixes.iter().all(|q| covers(q, p));
    if by_rights && by_hops {
        return Ok(());
    }
    let mut held: Vec<String> =
        if rights.iter().any(|r| r.resource == ANY) { vec![] } else { rights.iter().map(|r| r.resource.clone()).collect() };
    held.extend(hop_prefixes.iter().map(|q| format!("{q} (from a delegation)")));
    Err(Error::new(
        ErrorKind::AttenuationWidens,
        format!(
            "asked for resource prefix {p:?} but {} holds only {}",
            claims.holder().agent,
            if held.is_empty() { "any".to_string() } else { held.join(", ") }
        ),
    ))
}

/// A delegation list where `"*"` means unchanged: `["*"]` is `None`; `"*"` beside names is
/// ambiguous (`invalid_argument`).
fn unchanged_if_any<'a>(what: &str, list: &'a Option<Vec<String>>) -> Result<Option<&'a Vec<String>>> {
    match list {
        Some(l) if l.iter().any(|x| x == ANY) => {
            if l.iter().all(|x| x == ANY) {
                Ok(None)
            } else {
                Err(Error::invalid_argument(format!(
                    "{what}: \"*\" means unchanged and cannot be combined with names"
                )))
            }
        }
        other => Ok(other.as_ref()),
    }
}

fn set_term(items: &[String]) -> Term {
    Term::Set(items.iter().map(|s| Term::Str(s.clone())).collect())
}

/// The block of a delegation hop (`docs/PROFILE.md`), built directly (biscuit-auth's builder
/// types, not Datalog text: delegating runs no parser); the test `hop_block_matches_its_datalog`
/// pins it to the profile's Datalog byte for byte. Delegation builds it; verification rebuilds
/// it from the claims read back from each hop block and compares the bytes ([`crate::canonical`]).
/// Variables are named like the predicate they read (`$operation`, `$resource`): symbols the
/// block already has (or biscuit-auth's default table has), so they cost no bytes.
/// The hop's constraint facts, after `hop` and in this order: `max_calls(n)`,
/// `rate(calls, window_seconds)`, then one `needs_approval(tool, operation, prefix)` per rule.
/// Facts of a third-party block are visible to no other block and grant nothing: the verifier
/// reads them as claims (like `hop`) and enforces them itself.
fn constraint_facts(mut block: BlockBuilder, info: &HopInfo) -> Result<BlockBuilder> {
    let int = |n: u64| Term::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    if let Some(n) = info.budget.max_calls {
        block = block.fact(new_fact("max_calls", vec![int(n)]))?;
    }
    if let Some(r) = info.budget.rate {
        block = block.fact(new_fact("rate", vec![int(r.calls), int(r.window_seconds)]))?;
    }
    for r in &info.approval {
        let s = |v: &str| Term::Str(v.to_string());
        block = block.fact(new_fact("needs_approval", vec![s(&r.tool), s(&r.operation), s(&r.resource)]))?;
    }
    Ok(block)
}

pub(crate) fn hop_block(info: &HopInfo, key: &PublicKey) -> Result<BlockBuilder> {
    let var = |v: &str| Op::Value(Term::Variable(v.into()));
    let mut block = BlockBuilder::new()
        .fact(new_fact("hop", vec![Term::Str(info.agent.clone()), Term::Bytes(key.to_bytes().to_vec())]))?;
    block = constraint_facts(block, info)?;
    block = block.check(check_at_most("time", "time", Term::Date(info.exp)))?;
    if let Some(t) = &info.tools {
        block = block.check(check_on("tool", "tool", vec![Op::Value(set_term(t)), var("tool"), Op::Binary(Binary::Contains)]))?;
    }
    if let Some(o) = &info.operations {
        block = block.check(check_on("operation", "operation", vec![Op::Value(set_term(o)), var("operation"), Op::Binary(Binary::Contains)]))?;
    }
    if let Some(check) = info.resource_prefix.as_deref().and_then(crate::resource::hop_check) {
        block = block.check(check)?;
    }
    if let Some(d) = info.max_depth {
        block = block.check(check_at_most("depth", "depth", Term::Integer(i64::from(d))))?;
    }
    Ok(block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Right;
    use crate::token::MintParams;
    use std::collections::HashMap;

    #[test]
    fn delegated_claims_are_the_parsed_claims() {
        let (root, agent, child, grandchild) =
            (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]), KeyPair::from_seed(&[4; 32]));
        let token = Token::mint(&root, &MintParams::new("agent:o", agent.public_key(), "user:a").right(Right::new("*", "*", "*")).max_depth(4).task("t"))
            .unwrap();
        let external = crate::signer::FnSigner::new(child.public_key(), move |m: &[u8]| Ok(KeyPair::from_seed(&[3; 32]).sign(m).to_bytes().to_vec()));
        let first = token
            .delegate(&agent, &DelegateParams::new("agent:c", child.public_key()).tools(["b", "a", "a"]).operations(["read"]).resource_prefix("src/").max_depth(3))
            .unwrap();
        let second = first.delegate(&external, &DelegateParams::new("agent:g", grandchild.public_key()).ttl_seconds(60)).unwrap();
        for delegated in [&first, &second] {
            let parsed = Token::from_bytes(delegated.to_bytes()).unwrap();
            assert_eq!(delegated.claims(), parsed.claims());
            assert_eq!((delegated.is_sealed(), delegated.root_key_id()), (parsed.is_sealed(), parsed.root_key_id()));
        }
        assert_eq!(second.chain().len(), 3);
    }

    /// The block `Token::delegate` builds directly is, byte for byte, the block biscuit-auth
    /// parses from the profile's Datalog for a hop (docs/PROFILE.md), for every optional check.
    #[test]
    fn hop_block_matches_its_datalog() {
        let (root, agent, child) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]));
        let token = Token::mint(&root, &MintParams::new("agent:o", agent.public_key(), "user:a").right(Right::new("*", "*", "*")).max_depth(4).now(1_767_225_600))
            .unwrap();
        let all = DelegateParams::new("agent:c", child.public_key())
            .tools(["write_file", "read_file"])
            .operations(["read"])
            .resource_prefix("src/")
            .max_depth(3)
            .ttl_seconds(60)
            .now(1_767_225_600);
        let prefix = |p: &str| DelegateParams::new("agent:c", child.public_key()).resource_prefix(p).now(1_767_225_600);
        for params in [all, DelegateParams::new("agent:c", child.public_key()).now(1_767_225_600), prefix("src"), prefix("repo:"), prefix("mcp://srv")] {
            let delegated = token.delegate(&agent, &params).unwrap();
            let built = biscuit_auth::format::schema::Biscuit::decode(delegated.to_bytes()).unwrap().blocks[0].block.clone();
            let info: HopInfo = delegated.claims().hops[0].clone();
            // No context: the claims are the Datalog (docs/PROFILE.md, profile 3).
            assert_eq!(biscuit_auth::format::schema::Block::decode(&built[..]).unwrap().context, None);

            let mut code = String::from("hop({agent}, {key});\ncheck if time($time), $time <= {exp};\n");
            let mut p: Vec<(&str, Term)> = vec![
                ("agent", Term::Str("agent:c".into())),
                ("key", Term::Bytes(child.public_key().to_bytes().to_vec())),
                ("exp", Term::Date(info.exp)),
            ];
            if let Some(t) = &info.tools {
                code.push_str("check if tool($tool), {tools}.contains($tool);\n");
                p.push(("tools", set_term(t)));
            }
            if let Some(o) = &info.operations {
                code.push_str("check if operation($operation), {operations}.contains($operation);\n");
                p.push(("operations", set_term(o)));
            }
            if let Some(r) = &info.resource_prefix {
                assert!(crate::resource::is_canonical(r) && r != "*", "{r}");
                code.push_str("check if resource($resource), ($resource + \"/\").starts_with({prefix});\n");
                p.push(("prefix", Term::Str(r.clone())));
            }
            if let Some(d) = info.max_depth {
                code.push_str("check if depth($depth), $depth <= {max_depth};\n");
                p.push(("max_depth", Term::Integer(i64::from(d))));
            }
            let params: HashMap<String, Term> = p.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            let parsed = BlockBuilder::new().code_with_params(code, params, HashMap::new()).unwrap();
            let contents = token
                .inner()
                .third_party_request()
                .unwrap()
                .create_block(&agent.to_biscuit_private().unwrap(), parsed)
                .unwrap()
                .serialize()
                .unwrap();
            let payload = ThirdPartyBlockContents::decode(&contents[..]).unwrap().payload;
            assert_eq!(built, payload, "{info:?}");
        }
    }
}
