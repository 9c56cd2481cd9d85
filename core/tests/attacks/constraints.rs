//! Constraints beyond rights: approvals are bound to one exact call and token, signed by a trusted approver, unexpired and single use; call budgets only narrow and every hop's budget counts.
//!
//! Tokens: `con_deployer` (root grant: deploy anything, read anything) and `con_deployer_b` (the
//! same grant minted again: another token), verified by an operator who requires approval for
//! `deploy:*:production/` and trusts `user:alice` (key `approver`). `con_lead` adds its own
//! approval rule for its subtree and `con_worker` (its child) cannot drop it. Budgets:
//! `con_two_calls` (`max_calls: 2`), `con_parent3` (`max_calls: 3`) with two children
//! `con_child_a` (2) and `con_child_b` (3) that share the parent's three calls, and `con_rate`
//! (2 calls per 60 s window). Approvals are signed with fixed nonces when the vectors are
//! generated (each approves a digest of the token's bytes, so they change with the tokens).

use marque::approval::{request_digest, sign_approval_with_nonce};
use marque::delegate::DelegateParams;
use marque::policy::{Request, Right};
use marque::token::MintParams;
use marque::Token;
use serde_json::{json, Value};

use crate::{allowed, denied, error, key, req, Book, NOW};

const ALICE: &str = "user:alice";

fn operator() -> Value {
    json!({"approvers": {ALICE: "approver"}, "approval_rules": ["deploy:*:production/"]})
}

fn deployer() -> Token {
    Token::mint(
        &key("root"),
        &MintParams::new("agent:orchestrator", key("orchestrator").public_key(), "user:bob")
            .right(Right::new("deploy", "*", "*"))
            .right(Right::new("read_file", "read", "*"))
            .ttl_seconds(3600)
            .now(NOW),
    )
    .expect("mint")
}

fn delegate(parent: &Token, holder: &str, params: DelegateParams) -> Token {
    parent.delegate(&key(holder), &params.now(NOW)).expect("delegate")
}

fn request(r: &Value) -> Request {
    let mut request = Request::new(r["tool"].as_str().unwrap(), r["operation"].as_str().unwrap(), r["resource"].as_str().unwrap());
    for (k, v) in r["attributes"].as_object().into_iter().flatten() {
        request = request.attribute(k.clone(), v.as_str().unwrap());
    }
    request
}

/// The digest of `token` and request `r` (what an `approval_required` denial asks to approve).
fn digest(token: &Token, r: &Value) -> String {
    request_digest(token.to_bytes(), &request(r))
}

/// An approval of `digest` by `signer` (a key name) as `id`, signed at `iat` for `ttl` seconds.
fn approve(signer: &str, id: &str, digest: &str, iat: u64, ttl: u64, nonce: u8) -> String {
    sign_approval_with_nonce(&key(signer), id, digest, iat, ttl, [nonce; 16]).expect("approval")
}

fn asked(digest: &str, approvers: &[&str]) -> Value {
    json!({"allowed": false, "code": "approval_required", "approval_digest": digest, "approvers": approvers})
}

#[allow(clippy::too_many_arguments)]
fn authorize(b: &mut Book, name: &str, token: &str, verifier: Value, request: Value, approval: Option<&str>, now: u64, expect: Value) {
    b.case(json!({"name": name, "op": "authorize", "root": "root", "token": token, "verifier": verifier,
        "request": request, "proof": null, "approval": approval, "now": now, "expect": expect}));
}

fn call(token: &str, request: &Value, approval: Option<&str>, now: u64) -> Value {
    json!({"token": token, "request": request, "proof": null, "approval": approval, "now": now})
}

pub fn cases(b: &mut Book) {
    approvals(b);
    delegated_approvals(b);
    budgets(b);
}

fn approvals(b: &mut Book) {
    let t = deployer();
    let other = deployer();
    let tn = b.token("con_deployer", &t);
    let on = b.token("con_deployer_b", &other);
    let prod = req("deploy", "deploy", "production/web");
    let d = digest(&t, &prod);

    authorize(b, "approval: an operator rule requires approval; the denial says what to approve and who may", &tn, operator(), prod.clone(), None, NOW, asked(&d, &[ALICE]));
    authorize(b, "approval: a call the rule does not cover needs none", &tn, operator(), req("deploy", "deploy", "staging/web"), None, NOW, allowed());
    authorize(b, "approval: the rule matches on segment boundaries (production-eu is not production/)", &tn, operator(), req("deploy", "deploy", "production-eu/web"), None, NOW, allowed());
    let good = approve("approver", ALICE, &d, NOW, 300, 1);
    authorize(b, "approval: a valid approval of this exact call allows it", &tn, operator(), prod.clone(), Some(&good), NOW + 5, allowed());
    b.case(json!({"name": "approval: an approval is single use", "op": "authorize_sequence", "root": "root", "verifier": operator(),
        "calls": [call(&tn, &prod, Some(&good), NOW + 5), call(&tn, &prod, Some(&good), NOW + 6)],
        "expect": {"sequence": [allowed(), asked(&d, &[ALICE])]}}));
    let staging = approve("approver", ALICE, &digest(&t, &req("deploy", "deploy", "production/db")), NOW, 300, 2);
    authorize(b, "approval: an approval of another resource is refused", &tn, operator(), prod.clone(), Some(&staging), NOW + 5, asked(&d, &[ALICE]));
    let with_attr = json!({"tool": "deploy", "operation": "deploy", "resource": "production/web", "attributes": {"version": "2"}});
    authorize(b, "approval: an approval without an attribute does not approve the call with it", &tn, operator(), with_attr.clone(), Some(&good), NOW + 5, asked(&digest(&t, &with_attr), &[ALICE]));
    let for_other = approve("approver", ALICE, &digest(&other, &prod), NOW, 300, 3);
    authorize(b, "approval: an approval of the same call under another token is refused", &tn, operator(), prod.clone(), Some(&for_other), NOW + 5, asked(&d, &[ALICE]));
    authorize(b, "approval: the other token's approval works for it", &on, operator(), prod.clone(), Some(&for_other), NOW + 5, allowed());
    let expired = approve("approver", ALICE, &d, NOW - 600, 300, 4);
    authorize(b, "approval: an expired approval is refused", &tn, operator(), prod.clone(), Some(&expired), NOW, asked(&d, &[ALICE]));
    let short = approve("approver", ALICE, &d, NOW, 60, 5);
    authorize(b, "approval: an approval is refused at its expiry second", &tn, operator(), prod.clone(), Some(&short), NOW + 60, asked(&d, &[ALICE]));
    let future = approve("approver", ALICE, &d, NOW + 3600, 300, 6);
    authorize(b, "approval: an approval signed in the future is refused", &tn, operator(), prod.clone(), Some(&future), NOW, asked(&d, &[ALICE]));
    let untrusted = approve("mallory", "user:mallory", &d, NOW, 300, 7);
    authorize(b, "approval: an approval by an untrusted approver is refused", &tn, operator(), prod.clone(), Some(&untrusted), NOW, asked(&d, &[ALICE]));
    let forged = approve("mallory", ALICE, &d, NOW, 300, 8);
    authorize(b, "approval: an approval claiming a trusted id but signed by another key is refused", &tn, operator(), prod.clone(), Some(&forged), NOW, asked(&d, &[ALICE]));
    for (what, text) in [
        ("garbled text", "not-an-approval".to_string()),
        ("an empty string", String::new()),
        ("a payload without its signature", good.split('.').next().unwrap_or_default().to_string()),
        ("a truncated signature", good[..good.len() - 4].to_string()),
        ("an oversized approval", "A".repeat(5000)),
    ] {
        authorize(b, &format!("approval: {what} is refused"), &tn, operator(), prod.clone(), Some(&text), NOW, asked(&d, &[ALICE]));
    }
    let no_approvers = json!({"approval_rules": ["deploy:*:production/"]});
    authorize(b, "approval: a rule without any trusted approver fails closed", &tn, no_approvers, prod.clone(), Some(&good), NOW, asked(&d, &[]));
    let read_only = delegate(&t, "orchestrator", DelegateParams::new("agent:agent_a", key("agent_a").public_key()).tools(["read_file"]));
    let ro = b.token("con_read_only", &read_only);
    authorize(b, "approval: an approval does not turn a denial by the token into an allow", &ro, operator(), prod.clone(), Some(&approve("approver", ALICE, &digest(&read_only, &prod), NOW, 300, 9)), NOW, denied("not_authorized"));
    b.case(json!({"name": "approval: an operator rule must be a valid right", "op": "authorize", "root": "root", "token": tn,
        "verifier": {"approvers": {ALICE: "approver"}, "approval_rules": ["deploy:*:production/../x"]},
        "request": prod, "proof": null, "approval": null, "now": NOW, "expect": error("invalid_argument")}));
}

fn delegated_approvals(b: &mut Book) {
    let t = deployer();
    let lead = delegate(&t, "orchestrator", DelegateParams::new("agent:agent_a", key("agent_a").public_key()).require_approval(Right::new("deploy", "*", "production")));
    let worker = delegate(&lead, "agent_a", DelegateParams::new("agent:agent_c", key("agent_c").public_key()));
    b.token("con_root_for_lead", &t);
    let ln = b.token("con_lead", &lead);
    let wn = b.token("con_worker", &worker);
    let trust = json!({"approvers": {ALICE: "approver"}});
    let prod = req("deploy", "deploy", "production/web");
    authorize(b, "delegated approval: a delegation's rule requires approval in its subtree", &ln, trust.clone(), prod.clone(), None, NOW, asked(&digest(&lead, &prod), &[ALICE]));
    authorize(b, "delegated approval: a descendant cannot drop its ancestor's rule", &wn, trust.clone(), prod.clone(), None, NOW, asked(&digest(&worker, &prod), &[ALICE]));
    authorize(b, "delegated approval: the delegator's own token is not affected", "con_root_for_lead", trust.clone(), prod.clone(), None, NOW, allowed());
    authorize(b, "delegated approval: calls outside the rule need none", &wn, trust.clone(), req("deploy", "deploy", "staging/web"), None, NOW, allowed());
    let ok = approve("approver", ALICE, &digest(&worker, &prod), NOW, 300, 10);
    authorize(b, "delegated approval: an approval of the worker's call allows it", &wn, trust.clone(), prod.clone(), Some(&ok), NOW + 1, allowed());
    authorize(b, "delegated approval: the worker's approval does not approve the lead's call", &ln, trust, prod, Some(&ok), NOW + 1, asked(&digest(&lead, &req("deploy", "deploy", "production/web")), &[ALICE]));
    b.case(json!({"name": "delegated approval: a delegation may add an approval rule", "op": "delegate", "token": ln, "holder": "agent_a",
        "params": {"to": "agent:agent_c", "to_key": "agent_c", "require_approval": ["read_file:read:secrets/"], "now": NOW},
        "expect": {"ok": true, "path": "/root/agent_a/agent_c"}}));
    b.case(json!({"name": "delegated approval: a malformed approval rule is refused", "op": "delegate", "token": ln, "holder": "agent_a",
        "params": {"to": "agent:agent_c", "to_key": "agent_c", "require_approval": ["deploy:*:production/../x"], "now": NOW},
        "expect": error("invalid_argument")}));
}

fn budgets(b: &mut Book) {
    let t = deployer();
    b.token("con_budget_root", &t);
    let agent = |name: &str, k: &str| DelegateParams::new(format!("agent:{name}"), key(k).public_key());
    let two = delegate(&t, "orchestrator", agent("agent_a", "agent_a").max_calls(2));
    let parent = delegate(&t, "orchestrator", agent("agent_a", "agent_a").max_calls(3));
    let child_a = delegate(&parent, "agent_a", agent("agent_c", "agent_c").max_calls(2));
    let child_b = delegate(&parent, "agent_a", agent("mallory", "mallory").max_calls(3));
    let rate = delegate(&t, "orchestrator", agent("agent_a", "agent_a").rate(2, 60));
    let one = delegate(&t, "orchestrator", agent("agent_a", "agent_a").max_calls(1).tools(["read_file"]));
    let two = b.token("con_two_calls", &two);
    let pn = b.token("con_parent3", &parent);
    let an = b.token("con_child_a", &child_a);
    let bn = b.token("con_child_b", &child_b);
    let rn = b.token("con_rate", &rate);
    let on = b.token("con_one_call", &one);
    let read = req("read_file", "read", "src/main.rs");
    let seq = |b: &mut Book, name: &str, calls: Vec<Value>, outcomes: Vec<Value>| {
        b.case(json!({"name": name, "op": "authorize_sequence", "root": "root", "calls": calls, "expect": {"sequence": outcomes}}));
    };
    let exhausted = || denied("budget_exhausted");
    seq(b, "budget: max_calls 2 allows two calls, then budget_exhausted",
        vec![call(&two, &read, None, NOW), call(&two, &read, None, NOW + 1), call(&two, &read, None, NOW + 2)],
        vec![allowed(), allowed(), exhausted()]);
    seq(b, "budget: a parent's budget bounds its children together",
        vec![call(&an, &read, None, NOW), call(&an, &read, None, NOW), call(&bn, &read, None, NOW), call(&bn, &read, None, NOW), call(&an, &read, None, NOW)],
        vec![allowed(), allowed(), allowed(), exhausted(), exhausted()]);
    seq(b, "budget: a child's own budget runs out before its parent's",
        vec![call(&an, &read, None, NOW), call(&an, &read, None, NOW), call(&an, &read, None, NOW), call(&pn, &read, None, NOW)],
        vec![allowed(), allowed(), exhausted(), allowed()]);
    seq(b, "budget: a rate allows its calls per window and resets with the next window",
        vec![call(&rn, &read, None, NOW), call(&rn, &read, None, NOW + 1), call(&rn, &read, None, NOW + 59), call(&rn, &read, None, NOW + 60), call(&rn, &read, None, NOW + 61), call(&rn, &read, None, NOW + 62)],
        vec![allowed(), allowed(), exhausted(), allowed(), allowed(), exhausted()]);
    seq(b, "budget: a denied call spends nothing",
        vec![call(&on, &req("deploy", "deploy", "staging/web"), None, NOW), call(&on, &read, None, NOW), call(&on, &read, None, NOW)],
        vec![denied("not_authorized"), allowed(), exhausted()]);
    let prod = req("deploy", "deploy", "production/web");
    let budgeted_deploy = delegate(&t, "orchestrator", agent("agent_a", "agent_a").max_calls(1));
    let dn = b.token("con_budgeted_deploy", &budgeted_deploy);
    let dd = digest(&budgeted_deploy, &prod);
    let first = approve("approver", ALICE, &dd, NOW, 300, 11);
    let second = approve("approver", ALICE, &dd, NOW, 300, 12);
    b.case(json!({"name": "budget: an approval does not lift a budget", "op": "authorize_sequence", "root": "root", "verifier": operator(),
        "calls": [call(&dn, &prod, None, NOW), call(&dn, &prod, Some(&first), NOW + 1), call(&dn, &prod, Some(&second), NOW + 2)],
        "expect": {"sequence": [asked(&dd, &[ALICE]), allowed(), exhausted()]}}));
    let widen = |b: &mut Book, name: &str, token: &str, params: Value, expect: Value| {
        let mut p = json!({"to": "agent:agent_c", "to_key": "agent_c", "now": NOW});
        for (k, v) in params.as_object().into_iter().flatten() {
            p[k] = v.clone();
        }
        b.case(json!({"name": name, "op": "delegate", "token": token, "holder": "agent_a", "params": p, "expect": expect}));
    };
    widen(b, "budget: a child cannot ask more calls than its parent has", &pn, json!({"max_calls": 4}), error("attenuation_widens"));
    widen(b, "budget: a child may ask as many calls as its parent", &pn, json!({"max_calls": 3}), json!({"ok": true, "path": "/root/agent_a/agent_c"}));
    widen(b, "budget: a child inherits its parent's budget when it names none", &pn, json!({}), json!({"ok": true, "path": "/root/agent_a/agent_c"}));
    widen(b, "budget: a child cannot ask a faster rate than its parent", &rn, json!({"rate": {"calls": 3, "window_seconds": 60}}), error("attenuation_widens"));
    widen(b, "budget: a child cannot shorten its parent's window", &rn, json!({"rate": {"calls": 2, "window_seconds": 30}}), error("attenuation_widens"));
    widen(b, "budget: a child may slow its parent's rate", &rn, json!({"rate": {"calls": 1, "window_seconds": 3600}}), json!({"ok": true, "path": "/root/agent_a/agent_c"}));
    widen(b, "budget: max_calls 0 is refused", &pn, json!({"max_calls": 0}), error("invalid_argument"));
    widen(b, "budget: a rate of 0 calls is refused", &rn, json!({"rate": {"calls": 0, "window_seconds": 60}}), error("invalid_argument"));
    widen(b, "budget: a rate window of 0 seconds is refused", &rn, json!({"rate": {"calls": 1, "window_seconds": 0}}), error("invalid_argument"));
    widen(b, "budget: a rate window in milliseconds (over 30 days) is refused", &rn, json!({"rate": {"calls": 1, "window_seconds": 86_400_000_000u64}}), error("invalid_argument"));
}
