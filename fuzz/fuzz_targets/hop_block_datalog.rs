//! Hop blocks with arbitrary Datalog: the fuzzer's bytes become (part of) a third-party hop
//! block that the token's real holder signs and appends to a valid token, which is then
//! authorized and parsed. Never a panic; the token is refused (`invalid_token`, or
//! `limits_exceeded` for a token over the size limit) unless the block is byte for byte the
//! profile's block for its descriptor. The oracle for that is independent of marque's builders:
//! the profile's Datalog *text* (`docs/PROFILE.md`) filled from the descriptor JSON and put
//! through biscuit-auth's parser. A canonical block for another descriptor (another child, an
//! `exp` past the parent's) is a legitimate hop and may be allowed or denied, never an error.
//!
//! The first byte picks how the rest is used:
//! - 0: the whole Datalog of the block (the honest descriptor kept);
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
    /// The honest hop `agent_a` → `agent_c`: descriptor, Datalog, serialized block.
    context: String,
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
        let context = schema::Block::decode(&canonical[..]).unwrap().context.unwrap();
        let code = UnverifiedBiscuit::from(tc.to_bytes()).unwrap().print_block_source(2).unwrap();
        let parent = UnverifiedBiscuit::from(ta.to_bytes()).unwrap();
        let request = parent.third_party_request().unwrap().serialize().unwrap();
        let previous_signature = ThirdPartyBlockRequest::decode(&request[..]).unwrap().previous_signature;
        let seed = |n: u8| biscuit_auth::PrivateKey::from_bytes(&[n; 32], biscuit_auth::Algorithm::Ed25519).unwrap();
        Setup {
            parent,
            holder: biscuit_auth::KeyPair::from(&seed(3)),
            context,
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
            let builder = BlockBuilder::new().context(s.context.clone()).code(&code).ok()?;
            let mut payload = Vec::new();
            builder.encode_third_party_block(&mut payload).ok()?;
            payload
        }
        2 => {
            let mut builder = BlockBuilder::new().context(s.context.clone()).code(&s.code).ok()?;
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

/// The profile's block for the descriptor `payload` carries, from the profile's Datalog text
/// (the same template as `delegate::tests::hop_block_matches_its_datalog`), or `None` when the
/// payload has no descriptor the template can fill.
fn profile_block(payload: &[u8]) -> Option<Vec<u8>> {
    let context = schema::Block::decode(payload).ok()?.context?;
    let info: serde_json::Value = serde_json::from_str(&context).ok()?;
    let text = |k: &str| info.get(k).and_then(serde_json::Value::as_str).map(str::to_string);
    let int = |k: &str| info.get(k).and_then(serde_json::Value::as_u64);
    let set = |k: &str| -> Option<Option<Term>> {
        match info.get(k) {
            None => Some(None),
            Some(v) => {
                let items = v.as_array()?.iter().map(|s| s.as_str().map(|s| Term::Str(s.into()))).collect::<Option<BTreeSet<_>>>()?;
                Some(Some(Term::Set(items)))
            }
        }
    };
    let key: Vec<u8> = (0..32).map(|i| u8::from_str_radix(text("key")?.get(2 * i..2 * i + 2)?, 16).ok()).collect::<Option<_>>()?;
    let mut code = String::from("hop({depth}, {agent}, {path}, {key});\ncheck if time($time), $time <= {exp};\n");
    let mut p: Vec<(&str, Term)> = vec![
        ("depth", Term::Integer(i64::try_from(int("depth")?).ok()?)),
        ("agent", Term::Str(text("agent")?)),
        ("path", Term::Str(text("path")?)),
        ("key", Term::Bytes(key)),
        ("exp", Term::Date(int("exp")?)),
    ];
    if let Some(tools) = set("tools")? {
        code.push_str("check if tool($tool), {tools}.contains($tool);\n");
        p.push(("tools", tools));
    }
    if let Some(ops) = set("operations")? {
        code.push_str("check if operation($op), {operations}.contains($op);\n");
        p.push(("operations", ops));
    }
    if let Some(prefix) = info.get("resource_prefix") {
        code.push_str("check if resource($res), ($res + \"/\").starts_with({prefix});\n");
        p.push(("prefix", Term::Str(prefix.as_str()?.to_string())));
    }
    if let Some(d) = info.get("max_depth") {
        code.push_str("check if depth($depth), $depth <= {max_depth};\n");
        p.push(("max_depth", Term::Integer(i64::try_from(d.as_u64()?).ok()?)));
    }
    let params: HashMap<String, Term> = p.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let builder = BlockBuilder::new().context(context).code_with_params(code, params, HashMap::new()).ok()?;
    let mut out = Vec::new();
    builder.encode_third_party_block(&mut out).ok()?;
    Some(out)
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
