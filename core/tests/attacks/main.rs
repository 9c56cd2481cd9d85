//! Attack vectors: `tests/vectors/attacks.json`, written by the core and replayed by every runtime.
//!
//! Each topic module (`blocks`, `resources`, `identity`, `clocks`, `proofs`, `misc`, `audience`,
//! `constraints`) states cases
//! the way an attacker would try them, *with the outcome the security rules demand*. This test
//! replays every case against the core (so a case whose expectation the core does not meet fails
//! here first), then compares the cases with the committed file: names, operations, inputs other
//! than token/proof/approval bytes, and expectations other than approval digests must match
//! (token bytes carry random ephemeral keys, so they legitimately change on regeneration, and so
//! do the approvals and request digests derived from them). The committed file is replayed too, so the bytes
//! Python, Node and Wasm check are known good. Regenerate with
//! `MARQUE_REGEN_VECTORS=1 cargo test -p marque --test attacks`.
//!
//! Case shape (every runtime's replayer reads exactly this):
//! ```json
//! {"name": "...", "topic": "resources", "op": "authorize",
//!  "root": "root", "token": "<name in tokens>", "request": {"tool","operation","resource","attributes"?},
//!  "proof": "<proof text>" | null, "approval": "<approval text>" | null (optional), "verifier": <verifier>?,
//!  "now": 1767225600, "expect": {"allowed": false, "code": "not_authorized"} | {"error": "invalid_request"}}
//! {"name": "...", "op": "authorize_sequence", "root": "root", "verifier": <verifier>?,
//!  "calls": [{"token", "request", "proof", "approval"?, "now"}, ...],
//!  "expect": {"sequence": [<an authorize outcome per call, in order>]}}
//! {"name": "...", "op": "delegate", "token": "...", "holder": "<key name>",
//!  "params": {"to","to_key": "<key name>","tools"?,"operations"?,"resource_prefix"?,"ttl_seconds"?,"max_depth"?,"now"?,
//!             "max_calls"?: N, "rate"?: {"calls": N, "window_seconds": S}, "require_approval"?: ["tool:op:prefix", ...]},
//!  "expect": {"ok": true, "path": "/root/x"} | {"error": "attenuation_widens"}}
//! {"name": "...", "op": "mint", "root": "root",
//!  "params": {"agent","agent_key": "<key name>","principal","task"?,"workspace"?,"rights": ["tool:op:res"],"ttl_seconds"?,"max_depth"?,"now"?},
//!  "expect": {"ok": true} | {"error": "invalid_argument"}}
//! {"name": "...", "op": "revoke", "id": "0123abcd", "expect": {"ok": true} | {"error": "invalid_argument"}}
//! ```
//! `<verifier>` is `{"require_proof": bool?, "audience": "<server URI>"?, "revocations": <RevocationSet JSON>?,
//! "policies": [{"id", "source"}]?, "limits": {<Limits field, snake_case>: number}?,
//! "approvers": {"<approver id>": "<key name>"}?, "approval_rules": ["tool:op:prefix", ...]?}`.
//! An authorize outcome that is an `approval_required` denial may add
//! `"approval_digest": "<digest>", "approvers": [ids]` to its expectation: a replayer compares
//! them (with the decision's `approval_request`) when present. An
//! `authorize_sequence` makes its calls, in order, against one verifier (the replay cache is the
//! state they share); a call that errors records `{"error": code}` and the sequence goes on.
//! Keys are named (`keys` maps a name to its 32-byte seed in hex); `now` is seconds.

mod audience;
mod blocks;
mod clocks;
mod constraints;
mod identity;
mod misc;
mod proofs;
mod resources;

use std::collections::BTreeMap;

use marque::delegate::DelegateParams;
use marque::policy::{Limits, Policy, Request, Right};
use marque::token::MintParams;
use marque::{KeyPair, RevocationSet, Token, Verifier};
use serde_json::{json, Value};

/// The vectors' clock (2026-01-01T00:00:00Z).
pub const NOW: u64 = 1_767_225_600;

/// Key names and their seed bytes.
pub const KEYS: &[(&str, u8)] = &[
    ("root", 1),
    ("orchestrator", 2),
    ("agent_a", 3),
    ("agent_c", 4),
    ("mallory", 5),
    ("approver", 7),
    ("other_root", 9),
];

/// The key pair named `name` (panics on an unknown name: a bug in a topic module).
pub fn key(name: &str) -> KeyPair {
    let seed = KEYS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("unknown key {name}")).1;
    KeyPair::from_seed(&[seed; 32])
}

/// What the topic modules fill: named tokens and cases.
#[derive(Default)]
pub struct Book {
    pub tokens: BTreeMap<String, String>,
    pub cases: Vec<Value>,
    topic: String,
}

impl Book {
    /// Registers a token under `name` (base64url) and returns the name.
    pub fn token(&mut self, name: &str, token: &Token) -> String {
        self.token_b64(name, token.to_base64())
    }

    /// Registers raw base64url token text (a hand-built hostile token).
    pub fn token_b64(&mut self, name: &str, b64: String) -> String {
        assert!(self.tokens.insert(name.to_string(), b64).is_none(), "token {name} registered twice");
        name.to_string()
    }

    /// Adds a case; `topic` is filled in.
    pub fn case(&mut self, mut case: Value) {
        case["topic"] = json!(self.topic);
        assert!(case["name"].is_string() && case["op"].is_string() && case["expect"].is_object(), "{case}");
        self.cases.push(case);
    }

    /// An `authorize` case without a proof, verified by `root` at `now` = [`NOW`].
    pub fn authorize(&mut self, name: &str, token: &str, request: Value, expect: Value) {
        self.case(json!({"name": name, "op": "authorize", "root": "root", "token": token,
            "request": request, "proof": null, "now": NOW, "expect": expect}));
    }
}

/// `{"tool","operation","resource"}`.
pub fn req(tool: &str, operation: &str, resource: &str) -> Value {
    json!({"tool": tool, "operation": operation, "resource": resource})
}
/// `{"allowed": true, "code": null}`.
pub fn allowed() -> Value {
    json!({"allowed": true, "code": null})
}
/// `{"allowed": false, "code": code}`.
pub fn denied(code: &str) -> Value {
    json!({"allowed": false, "code": code})
}
/// `{"error": code}`.
pub fn error(code: &str) -> Value {
    json!({"error": code})
}

/// The seed scenario every topic may reuse: `agent:orchestrator` (read anything, write `src/`,
/// run_tests) → `agent:agent_a` (read_file, read, `src/`).
pub fn scenario() -> (Token, Token) {
    let t0 = Token::mint(
        &key("root"),
        &MintParams::new("agent:orchestrator", key("orchestrator").public_key(), "user:alice")
            .task("fix-issue-42")
            .right(Right::new("read_file", "read", "*"))
            .right(Right::new("write_file", "write", "src/"))
            .right(Right::new("run_tests", "*", "*"))
            .ttl_seconds(3600)
            .now(NOW),
    )
    .expect("mint");
    let ta = t0
        .delegate(
            &key("orchestrator"),
            &DelegateParams::new("agent:agent_a", key("agent_a").public_key())
                .tools(["read_file"])
                .operations(["read"])
                .resource_prefix("src/")
                .ttl_seconds(1800)
                .now(NOW),
        )
        .expect("delegate");
    (t0, ta)
}

fn generate() -> Value {
    let mut book = Book::default();
    type Topic = (&'static str, fn(&mut Book));
    let topics: [Topic; 9] = [
        ("blocks", blocks::cases),
        ("resources", resources::cases),
        ("identity", identity::cases),
        ("clocks", clocks::cases),
        ("proofs", proofs::cases),
        ("misc", misc::cases),
        ("audience", audience::cases),
        ("audience", audience::token_cases),
        ("constraints", constraints::cases),
    ];
    for (topic, f) in topics {
        book.topic = topic.to_string();
        f(&mut book);
    }
    let keys: BTreeMap<&str, Value> = KEYS
        .iter()
        .map(|(n, _)| (*n, json!({"seed_hex": key(n).to_hex().as_str(), "public_hex": key(n).public_key().to_hex()})))
        .collect();
    json!({
        "version": 1,
        "description": "Attack vectors: hostile inputs and the outcome the security rules demand (docs/SECURITY.md). Generated by core/tests/attacks; replayed by every runtime.",
        "now": NOW,
        "keys": keys,
        "tokens": book.tokens,
        "cases": book.cases,
    })
}

fn seed(doc: &Value, name: &str) -> KeyPair {
    let hex = doc["keys"][name]["seed_hex"].as_str().unwrap_or_else(|| panic!("unknown key {name}"));
    KeyPair::from_hex(hex).expect("seed")
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array().map(|a| a.iter().map(|s| s.as_str().expect("string").to_string()).collect())
}

/// The Datalog time limit replayers use unless a case sets `max_time_micros` (2 s).
const REPLAY_MAX_TIME_MICROS: u64 = 2_000_000;

/// The verifier a case describes (`root`, `verifier`).
fn verifier(doc: &Value, case: &Value) -> Result<Verifier, marque::Error> {
    let mut verifier = Verifier::new([seed(doc, case["root"].as_str().expect("root")).public_key()]);
    let v = &case["verifier"];
    // Replayers run with a generous Datalog time limit (REPLAY_MAX_TIME_MICROS) unless a case sets
    // its own: the limit is wall-clock, and a loaded test machine must not turn an allowed case
    // into limits_exceeded. Every runtime's replayer does the same.
    let mut limits = json!({"max_time_micros": REPLAY_MAX_TIME_MICROS});
    if let Some(given) = v["limits"].as_object() {
        for (k, n) in given {
            limits[k] = n.clone();
        }
    }
    verifier.set_limits(serde_json::from_value::<Limits>(limits).expect("limits"));
    if v["require_proof"].as_bool() == Some(true) {
        verifier.set_require_proof(true);
    }
    if let Some(a) = v["audience"].as_str() {
        verifier.set_audience(Some(marque::audience::Audience::parse(a)?));
    }
    if !v["revocations"].is_null() {
        verifier.merge_revocations(&RevocationSet::from_json(&v["revocations"].to_string())?)?;
    }
    for p in v["policies"].as_array().into_iter().flatten() {
        verifier.add_policy(Policy::new(p["id"].as_str().expect("policy id"), p["source"].as_str().expect("policy source")))?;
    }
    for (id, name) in v["approvers"].as_object().into_iter().flatten() {
        verifier.add_approver(id, seed(doc, name.as_str().expect("approver key name")).public_key())?;
    }
    for rule in strings(&v["approval_rules"]).unwrap_or_default() {
        verifier.add_approval_rule(Right::parse(&rule)?)?;
    }
    Ok(verifier)
}

/// One authorization (`token`, `request`, `proof`, `now` of `call`) by `verifier`.
fn authorize(doc: &Value, verifier: &Verifier, call: &Value) -> Result<Value, marque::Error> {
    let r = &call["request"];
    let mut request = Request::new(
        r["tool"].as_str().expect("tool"),
        r["operation"].as_str().expect("operation"),
        r["resource"].as_str().expect("resource"),
    );
    if let Some(attrs) = r["attributes"].as_object() {
        for (k, val) in attrs {
            request = request.attribute(k.clone(), val.as_str().expect("attribute value"));
        }
    }
    let text = doc["tokens"][call["token"].as_str().expect("token name")].as_str().expect("token");
    let d = match call["approval"].as_str() {
        None => verifier.authorize_base64(text, &request, call["proof"].as_str(), call["now"].as_u64())?,
        Some(approval) => verifier.authorize_with_approval(
            Token::from_base64(text)?.to_bytes(),
            &request,
            call["proof"].as_str(),
            Some(approval),
            call["now"].as_u64(),
        )?,
    };
    let mut out = json!({"allowed": d.allowed, "code": d.code});
    if let Some(asked) = d.approval_request {
        out["approval_digest"] = json!(asked.digest);
        out["approvers"] = json!(asked.approvers);
    }
    Ok(out)
}

/// Runs one case against the core; returns the observed outcome in the `expect` shape.
fn run(doc: &Value, case: &Value) -> Value {
    let outcome: Result<Value, marque::Error> = (|| {
        let token = |name: &Value| -> Result<Token, marque::Error> {
            Token::from_base64(doc["tokens"][name.as_str().expect("token name")].as_str().expect("token"))
        };
        match case["op"].as_str().expect("op") {
            "authorize" => authorize(doc, &verifier(doc, case)?, case),
            "authorize_sequence" => {
                let verifier = verifier(doc, case)?;
                let calls = case["calls"].as_array().expect("calls");
                let outcomes: Vec<Value> =
                    calls.iter().map(|call| authorize(doc, &verifier, call).unwrap_or_else(|e| json!({"error": e.code()}))).collect();
                Ok(json!({"sequence": outcomes}))
            }
            "delegate" => {
                let p = &case["params"];
                let mut params = DelegateParams::new(p["to"].as_str().expect("to"), seed(doc, p["to_key"].as_str().expect("to_key")).public_key());
                params.tools = strings(&p["tools"]);
                params.operations = strings(&p["operations"]);
                params.resource_prefix = p["resource_prefix"].as_str().map(String::from);
                params.ttl_seconds = p["ttl_seconds"].as_u64();
                params.max_depth = p["max_depth"].as_u64().map(|d| d as u32);
                params.now = p["now"].as_u64();
                params.budget.max_calls = p["max_calls"].as_u64();
                if p.get("rate").is_some() {
                    let rate = &p["rate"];
                    params = params.rate(rate["calls"].as_u64().expect("rate calls"), rate["window_seconds"].as_u64().expect("rate window"));
                }
                for rule in strings(&p["require_approval"]).unwrap_or_default() {
                    params = params.require_approval(Right::parse(&rule)?);
                }
                let child = token(&case["token"])?.delegate(&seed(doc, case["holder"].as_str().expect("holder")), &params)?;
                Ok(json!({"ok": true, "path": child.path()}))
            }
            "mint" => {
                let p = &case["params"];
                let mut params = MintParams::new(
                    p["agent"].as_str().expect("agent"),
                    seed(doc, p["agent_key"].as_str().expect("agent_key")).public_key(),
                    p["principal"].as_str().expect("principal"),
                );
                for r in strings(&p["rights"]).unwrap_or_default() {
                    params = params.right(Right::parse(&r)?);
                }
                if let Some(t) = p["task"].as_str() {
                    params = params.task(t);
                }
                if let Some(w) = p["workspace"].as_str() {
                    params = params.workspace(w);
                }
                if let Some(t) = p["ttl_seconds"].as_u64() {
                    params = params.ttl_seconds(t);
                }
                if let Some(d) = p["max_depth"].as_u64() {
                    params = params.max_depth(d as u32);
                }
                if let Some(n) = p["now"].as_u64() {
                    params = params.now(n);
                }
                Token::mint(&seed(doc, case["root"].as_str().expect("root")), &params)?;
                Ok(json!({"ok": true}))
            }
            "revoke" => {
                let verifier = Verifier::new([seed(doc, "root").public_key()]);
                verifier.revoke(case["id"].as_str().expect("id"))?;
                Ok(json!({"ok": true}))
            }
            other => panic!("unknown op {other}"),
        }
    })();
    match outcome {
        Ok(v) => v,
        Err(e) => json!({"error": e.code()}),
    }
}

/// Compares an observed outcome with an expectation (an `ok` expectation may name a `path`; an
/// authorize expectation compares `allowed` and `code`, and `approval_digest` and `approvers`
/// when it states them; a sequence compares each call's outcome so).
fn matches(expect: &Value, got: &Value) -> bool {
    if expect.get("ok").is_some() {
        return got.get("ok").is_some() && expect.get("path").is_none_or(|p| got.get("path") == Some(p));
    }
    if let Some(seq) = expect.get("sequence").and_then(Value::as_array) {
        let Some(got) = got.get("sequence").and_then(Value::as_array) else { return false };
        return seq.len() == got.len() && seq.iter().zip(got).all(|(e, g)| matches(e, g));
    }
    if expect.get("allowed").is_some() {
        return ["allowed", "code"].iter().all(|k| expect.get(*k) == got.get(*k))
            && ["approval_digest", "approvers"].iter().all(|k| expect.get(*k).is_none_or(|v| got.get(*k) == Some(v)));
    }
    expect == got
}

fn replay(doc: &Value, label: &str) {
    let mut failures = Vec::new();
    for case in doc["cases"].as_array().expect("cases") {
        let got = run(doc, case);
        if !matches(&case["expect"], &got) {
            failures.push(format!("{} [{}]: expected {}, got {}", case["name"], case["topic"], case["expect"], got));
        }
    }
    assert!(failures.is_empty(), "{label}: {} case(s) fail:\n{}", failures.len(), failures.join("\n"));
}

/// A case without its byte-carrying fields (token, proof and approval text, approval digests),
/// for the drift comparison.
fn shape(doc: &Value) -> Vec<Value> {
    doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let mut c = c.clone();
            let hide_proof = |o: &mut serde_json::Map<String, Value>| {
                for field in ["proof", "approval", "approval_digest"] {
                    if o.get(field).is_some_and(Value::is_string) {
                        o.insert(field.into(), json!(format!("<{field}>")));
                    }
                }
            };
            if let Some(o) = c.as_object_mut() {
                hide_proof(o);
                for call in o.get_mut("calls").and_then(Value::as_array_mut).into_iter().flatten() {
                    if let Some(call) = call.as_object_mut() {
                        hide_proof(call);
                    }
                }
                if let Some(expect) = o.get_mut("expect").and_then(Value::as_object_mut) {
                    hide_proof(expect);
                    for outcome in expect.get_mut("sequence").and_then(Value::as_array_mut).into_iter().flatten() {
                        if let Some(outcome) = outcome.as_object_mut() {
                            hide_proof(outcome);
                        }
                    }
                }
            }
            c
        })
        .collect()
}

fn path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/attacks.json")
}

#[test]
fn attack_vectors_hold_in_the_core_and_match_the_committed_file() {
    let fresh = generate();
    replay(&fresh, "generated cases");
    if std::env::var_os("MARQUE_REGEN_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&fresh).expect("json") + "\n";
        std::fs::write(path(), text).expect("write tests/vectors/attacks.json");
    }
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(path()).expect("tests/vectors/attacks.json is missing: MARQUE_REGEN_VECTORS=1"),
    )
    .expect("attacks.json is JSON");
    replay(&committed, "committed tests/vectors/attacks.json");
    let (a, b) = (shape(&fresh), shape(&committed));
    let names = |v: &[Value]| v.iter().map(|c| c["name"].as_str().unwrap_or("?").to_string()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "attacks.json is stale: regenerate with MARQUE_REGEN_VECTORS=1");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "attacks.json case {} drifted: regenerate with MARQUE_REGEN_VECTORS=1", x["name"]);
    }
}
