//! Hop blocks with arbitrary Datalog: the fuzzer's bytes become (part of) a third-party hop
//! block that the token's real holder signs and appends to a valid token, which is then
//! authorized and parsed. Never a panic; the token is refused (`invalid_token`, or
//! `limits_exceeded` for a token over the size limit) unless the block is byte for byte the
//! profile's block for the claims it states (profile 3: the claims are the block's Datalog).
//! The oracle for that is independent of marque's reader and builders: the block's own printed
//! Datalog (biscuit-auth's printer) matched line by line against the profile's templates
//! (`docs/PROFILE.md`), the values it names put back into the template *text* and through
//! biscuit-auth's parser, and the result compared with the signed bytes. A canonical block for
//! other claims (another child, an `exp` past the parent's) is a legitimate hop and may be
//! allowed or denied, never an error.
//!
//! The first byte picks how the rest is used:
//! - 0: the whole Datalog of the block;
//! - 1: Datalog appended to the profile's own Datalog for that descriptor;
//! - 2: facts built directly (no parser) and appended to the profile's block;
//! - 3: the raw serialized block (`schema::Block` protobuf), signed as it is.
//!
//! The scenario is the attack vectors' (`core/tests/attacks/main.rs`: same keys, time and
//! tokens), so `scripts/fuzz.sh` seeds mode 3 with the hop blocks of `tests/vectors/attacks.json`
//! and the canonical one is among them.
#![no_main]
use std::sync::OnceLock;

use std::collections::{BTreeSet, HashMap};

use biscuit_auth::builder::{fact, BlockBuilder, Term};
use biscuit_auth::format::schema::{self, ThirdPartyBlockContents, ThirdPartyBlockRequest};
use biscuit_auth::UnverifiedBiscuit;
use libfuzzer_sys::fuzz_target;
use marque::{DelegateParams, KeyPair, Limits, MintParams, Request, Right, Token, Verifier};
use prost::Message as _;

const NOW: u64 = 1_767_225_600;

struct Setup {
    /// `agent:agent_a`'s token (the vectors' scenario), and its holder's key.
    parent: UnverifiedBiscuit,
    holder: biscuit_auth::KeyPair,
    /// The honest hop `agent_a` → `agent_c`: Datalog, serialized block.
    code: String,
    canonical: Vec<u8>,
    previous_signature: Vec<u8>,
    verifier: Verifier,
    request: Request,
}

fn key(seed: u8) -> KeyPair {
    KeyPair::from_seed(&[seed; 32])
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let t0 = Token::mint(
            &key(1),
            &MintParams::new("agent:orchestrator", key(2).public_key(), "user:alice")
                .task("fix-issue-42")
                .right(Right::new("read_file", "read", "*"))
                .right(Right::new("write_file", "write", "src/"))
                .right(Right::new("run_tests", "*", "*"))
                .ttl_seconds(3600)
                .now(NOW),
        )
        .unwrap();
        let ta = t0
            .delegate(
                &key(2),
                &DelegateParams::new("agent:agent_a", key(3).public_key())
                    .tools(["read_file"])
                    .operations(["read"])
                    .resource_prefix("src/")
                    .ttl_seconds(1800)
                    .now(NOW),
            )
            .unwrap();
        let tc = ta.delegate(&key(3), &DelegateParams::new("agent:agent_c", key(4).public_key()).now(NOW)).unwrap();
        let raw = schema::Biscuit::decode(tc.to_bytes()).unwrap();
        let canonical = raw.blocks.last().unwrap().block.clone();
        let code = UnverifiedBiscuit::from(tc.to_bytes()).unwrap().print_block_source(2).unwrap();
        let parent = UnverifiedBiscuit::from(ta.to_bytes()).unwrap();
        let request = parent.third_party_request().unwrap().serialize().unwrap();
        let previous_signature = ThirdPartyBlockRequest::decode(&request[..]).unwrap().previous_signature;
        let seed = |n: u8| biscuit_auth::PrivateKey::from_bytes(&[n; 32], biscuit_auth::Algorithm::Ed25519).unwrap();
        Setup {
            parent,
            holder: biscuit_auth::KeyPair::from(&seed(3)),
            code,
            canonical,
            previous_signature,
            verifier: Verifier::new([key(1).public_key()]).with_limits(Limits { verified_cache_capacity: 0, ..Limits::default() }),
            request: Request::new("read_file", "read", "src/main.rs"),
        }
    })
}

/// Facts from bytes, built with biscuit-auth's builder (no parser): two bytes pick a name and
/// a term count, then each term takes a tag byte and up to 8 bytes.
fn facts(mut data: &[u8]) -> Vec<biscuit_auth::builder::Fact> {
    const NAMES: [&str; 8] = ["hop", "f", "right", "time", "resource", "agent", "tool", "depth"];
    let mut out = Vec::new();
    while data.len() >= 2 && out.len() < 64 {
        let (name, count) = (NAMES[usize::from(data[0] % 8)], usize::from(data[1] % 5));
        data = &data[2..];
        let mut terms = Vec::new();
        for _ in 0..count {
            let Some((&tag, rest)) = data.split_first() else { break };
            let n = rest.len().min(8);
            let (chunk, rest) = rest.split_at(n);
            let mut word = [0u8; 8];
            word[..n].copy_from_slice(chunk);
            let int = i64::from_le_bytes(word);
            terms.push(match tag % 6 {
                0 => Term::Integer(int),
                1 => Term::Str(String::from_utf8_lossy(chunk).into_owned()),
                2 => Term::Bytes(chunk.to_vec()),
                3 => Term::Bool(int & 1 == 1),
                4 => Term::Date(int.unsigned_abs()),
                _ => Term::Str("agent:agent_c".into()),
            });
            data = rest;
        }
        out.push(fact(name, &terms));
    }
    out
}

/// The block's payload and its third-party signature by the holder, appended.
fn sign_payload(s: &Setup, payload: Vec<u8>) -> Option<Vec<u8>> {
    let mut message = b"\0EXTERNAL\0\0VERSION\0".to_vec();
    message.extend_from_slice(&1u32.to_le_bytes());
    message.extend_from_slice(b"\0PAYLOAD\0");
    message.extend_from_slice(&payload);
    message.extend_from_slice(b"\0PREVSIG\0");
    message.extend_from_slice(&s.previous_signature);
    let signature = s.holder.sign(&message).ok()?;
    let contents = ThirdPartyBlockContents {
        payload,
        external_signature: schema::ExternalSignature { signature: signature.to_bytes().to_vec(), public_key: s.holder.public().to_proto() },
    };
    // A fixed next key: the same input always makes the same token.
    let next = biscuit_auth::KeyPair::from_bytes(&[77; 32], schema::public_key::Algorithm::Ed25519).ok()?;
    s.parent.append_third_party_with_keypair(&contents.encode_to_vec(), next).ok()?.to_vec().ok()
}

fn build(s: &Setup, data: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (&mode, rest) = data.split_first()?;
    let payload = match mode % 4 {
        0 | 1 => {
            let text = std::str::from_utf8(rest).ok()?;
            let code = if mode % 4 == 0 { text.to_string() } else { format!("{}\n{text}", s.code) };
            let builder = BlockBuilder::new().code(&code).ok()?;
            let mut payload = Vec::new();
            builder.encode_third_party_block(&mut payload).ok()?;
            payload
        }
        2 => {
            let mut builder = BlockBuilder::new().code(&s.code).ok()?;
            for f in facts(rest) {
                builder = builder.fact(f).ok()?;
            }
            let mut payload = Vec::new();
            builder.encode_third_party_block(&mut payload).ok()?;
            payload
        }
        _ => rest.to_vec(),
    };
    let token = sign_payload(s, payload.clone())?;
    Some((payload, token))
}

/// The profile's block for the claims `payload` states, from the profile's Datalog text (the
/// same templates as `delegate::tests::hop_block_matches_its_datalog`), or `None` when the
/// payload is not that shape: its fact and each check are matched against a template (by the
/// predicate they read, in the profile's order), and the values they hold are put back into
/// the template text as parameters.
fn profile_block(payload: &[u8]) -> Option<Vec<u8>> {
    let block = schema::Block::decode(payload).ok()?;
    if block.context.is_some() {
        return None;
    }
    template_block(&block)
}

/// Matches a decoded block against the templates (hop fact, then the checks in order).
fn template_block(block: &schema::Block) -> Option<Vec<u8>> {
    let sym = |i: u64| -> Option<String> {
        if i >= 1024 {
            block.symbols.get(usize::try_from(i - 1024).ok()?).cloned()
        } else {
            biscuit_auth::datalog::SymbolTable::new().get_symbol(i).map(str::to_string)
        }
    };
    let [fact, constraints @ ..] = &block.facts[..] else { return None };
    if sym(fact.predicate.name)? != "hop" || fact.predicate.terms.len() != 2 {
        return None;
    }
    let agent = match &fact.predicate.terms[0].content {
        Some(schema::term::Content::String(i)) => sym(*i)?,
        _ => return None,
    };
    let key = match &fact.predicate.terms[1].content {
        Some(schema::term::Content::Bytes(b)) => b.clone(),
        _ => return None,
    };
    let mut code = String::from("hop({agent}, {key});\n");
    let mut p: Vec<(String, Term)> = vec![("agent".into(), Term::Str(agent)), ("key".into(), Term::Bytes(key))];
    constraint_templates(constraints, &sym, &mut code, &mut p)?;
    // Each check: its predicate, and the constant the template takes, in the profile's order.
    const ORDER: [&str; 5] = ["time", "tool", "operation", "resource", "depth"];
    let mut last = None;
    for check in &block.checks {
        let [rule] = &check.queries[..] else { return None };
        let name = sym(rule.body.first()?.name)?;
        let rank = ORDER.iter().position(|n| *n == name)?;
        if last.is_some_and(|l| l >= rank) || (last.is_none() && rank != 0) {
            return None;
        }
        last = Some(rank);
        let constant = rule.expressions.first()?.ops.iter().find_map(|op| match &op.content {
            Some(schema::op::Content::Value(t)) if !matches!(t.content, Some(schema::term::Content::Variable(_))) => Some(t.clone()),
            _ => None,
        });
        let last_string = rule.expressions.first()?.ops.iter().rev().find_map(|op| match &op.content {
            Some(schema::op::Content::Value(schema::Term { content: Some(schema::term::Content::String(i)) })) => sym(*i),
            _ => None,
        });
        let strings = |t: &schema::Term| -> Option<Term> {
            match &t.content {
                Some(schema::term::Content::Set(set)) => Some(Term::Set(
                    set.set
                        .iter()
                        .map(|t| match &t.content {
                            Some(schema::term::Content::String(i)) => sym(*i).map(Term::Str),
                            _ => None,
                        })
                        .collect::<Option<BTreeSet<_>>>()?,
                )),
                _ => None,
            }
        };
        match (name.as_str(), constant.as_ref().and_then(|c| c.content.clone())) {
            ("time", Some(schema::term::Content::Date(d))) if !p.iter().any(|(k, _)| *k == "exp") => {
                code.push_str("check if time($time), $time <= {exp};\n");
                p.push((String::from("exp"), Term::Date(d)));
            }
            ("tool", Some(_)) if !p.iter().any(|(k, _)| *k == "tools") => {
                code.push_str("check if tool($tool), {tools}.contains($tool);\n");
                p.push((String::from("tools"), strings(constant.as_ref()?)?));
            }
            ("operation", Some(_)) if !p.iter().any(|(k, _)| *k == "operations") => {
                code.push_str("check if operation($operation), {operations}.contains($operation);\n");
                p.push((String::from("operations"), strings(constant.as_ref()?)?));
            }
            ("resource", _) if !p.iter().any(|(k, _)| *k == "prefix") => {
                code.push_str("check if resource($resource), ($resource + \"/\").starts_with({prefix});\n");
                p.push((String::from("prefix"), Term::Str(last_string?)));
            }
            ("depth", Some(schema::term::Content::Integer(d))) if !p.iter().any(|(k, _)| *k == "max_depth") => {
                code.push_str("check if depth($depth), $depth <= {max_depth};\n");
                p.push((String::from("max_depth"), Term::Integer(d)));
            }
            _ => return None,
        }
    }
    last?;
    let params: HashMap<String, Term> = p.into_iter().collect();
    let builder = BlockBuilder::new().code_with_params(code, params, HashMap::new()).ok()?;
    let mut out = Vec::new();
    builder.encode_third_party_block(&mut out).ok()?;
    Some(out)
}

/// The profile's constraint facts after `hop` (docs/PROFILE.md, "Constraints"), written in the
/// profile's order whatever order the block has them in: `max_calls`, `rate`, then the approval
/// rules sorted and without repeats. `None` for any other fact or shape.
fn constraint_templates(
    facts: &[schema::Fact],
    sym: &dyn Fn(u64) -> Option<String>,
    code: &mut String,
    p: &mut Vec<(String, Term)>,
) -> Option<()> {
    let int = |t: &schema::Term| match t.content {
        Some(schema::term::Content::Integer(n)) => Some(n),
        _ => None,
    };
    let string = |t: &schema::Term| match t.content {
        Some(schema::term::Content::String(i)) => sym(i),
        _ => None,
    };
    let (mut max_calls, mut rate, mut rules) = (None, None, BTreeSet::new());
    for f in facts {
        let terms = &f.predicate.terms;
        match (sym(f.predicate.name)?.as_str(), terms.len()) {
            ("max_calls", 1) if max_calls.is_none() => max_calls = Some(int(&terms[0])?),
            ("rate", 2) if rate.is_none() => rate = Some((int(&terms[0])?, int(&terms[1])?)),
            ("needs_approval", 3) => {
                rules.insert((string(&terms[0])?, string(&terms[1])?, string(&terms[2])?));
            }
            _ => return None,
        }
    }
    if let Some(n) = max_calls {
        code.push_str("max_calls({max_calls});\n");
        p.push(("max_calls".into(), Term::Integer(n)));
    }
    if let Some((calls, window)) = rate {
        code.push_str("rate({rate_calls}, {rate_window});\n");
        p.push(("rate_calls".into(), Term::Integer(calls)));
        p.push(("rate_window".into(), Term::Integer(window)));
    }
    for (i, (tool, operation, prefix)) in rules.into_iter().enumerate() {
        code.push_str(&format!("needs_approval({{na{i}_tool}}, {{na{i}_operation}}, {{na{i}_prefix}});\n"));
        p.push((format!("na{i}_tool"), Term::Str(tool)));
        p.push((format!("na{i}_operation"), Term::Str(operation)));
        p.push((format!("na{i}_prefix"), Term::Str(prefix)));
    }
    Some(())
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    let Some((payload, token)) = build(s, data) else { return };
    let decided = s.verifier.authorize(&token, &s.request, None, Some(NOW + 1));
    let parsed = Token::from_bytes(&token);
    if payload == s.canonical {
        assert!(decided.expect("the profile's block is accepted").allowed);
        assert!(parsed.is_ok());
        return;
    }
    if decided.is_ok() || parsed.is_ok() {
        // Only a block that is the profile's own for its descriptor gets this far.
        assert!(decided.is_ok() && parsed.is_ok(), "authorize and parse disagree on a hop block");
        assert_eq!(profile_block(&payload).as_deref(), Some(&payload[..]), "a non-canonical hop block was accepted");
        return;
    }
    let too_long = token.len() > Limits::default().max_token_bytes;
    for (what, code) in [("authorize", decided.err().map(|e| e.code())), ("parse", parsed.err().map(|e| e.code()))] {
        match code {
            Some("invalid_token") => {}
            Some("limits_exceeded") if too_long => {}
            other => panic!("{what}: a non-canonical hop block gave {other:?} (token of {} bytes)", token.len()),
        }
    }
});
