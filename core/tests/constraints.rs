//! Constraints beyond rights, end to end through `Verifier`: delegation budgets (every hop's
//! budget counts, all or nothing, narrowing only), approval rules (operator and delegation) with
//! signed single-use approvals, and (feature `rego`) Rego operator policies.

use std::sync::Arc;

use marque::approval::sign_approval_with_nonce;
use marque::budget::{CounterStore, MemoryCounterStore, Spend};
use marque::replay::Claim;
use marque::verify::{Authorization, PendingClaim};
use marque::{DelegateParams, KeyPair, MintParams, Request, Right, Token, Verifier};

const NOW: u64 = 1_767_225_600;

fn kp(n: u8) -> KeyPair {
    KeyPair::from_seed(&[n; 32])
}

fn root_token() -> Token {
    Token::mint(
        &kp(1),
        &MintParams::new("agent:orchestrator", kp(2).public_key(), "user:alice")
            .right(Right::new("*", "*", "*"))
            .ttl_seconds(3600)
            .now(NOW),
    )
    .unwrap()
}

fn read() -> Request {
    Request::new("read_file", "read", "src/a.rs")
}

#[test]
fn every_hops_budget_counts_and_a_refused_call_spends_nothing() {
    let parent = root_token().delegate(&kp(2), &DelegateParams::new("agent:lead", kp(3).public_key()).max_calls(3).now(NOW)).unwrap();
    let a = parent.delegate(&kp(3), &DelegateParams::new("agent:a", kp(4).public_key()).max_calls(1).now(NOW)).unwrap();
    let b = parent.delegate(&kp(3), &DelegateParams::new("agent:b", kp(5).public_key()).now(NOW)).unwrap();
    // Read back from the bytes: the budget is a claim of the hop.
    assert_eq!(Token::from_bytes(a.to_bytes()).unwrap().to_json()["hops"][1]["budget"]["max_calls"], 1);
    assert!(Token::from_bytes(b.to_bytes()).unwrap().to_json()["hops"][1].get("budget").is_none());

    let v = Verifier::new([kp(1).public_key()]);
    assert!(v.authorize(a.to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
    let d = v.authorize(a.to_bytes(), &read(), None, Some(NOW)).unwrap();
    assert_eq!(d.code.as_deref(), Some("budget_exhausted"));
    assert!(d.reasons[0].contains("delegation 2 (agent:a)"), "{:?}", d.reasons);
    // a's refused call counted nothing against the lead: b gets the 2 calls left.
    assert!(v.authorize(b.to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
    assert!(v.authorize(b.to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
    let d = v.authorize(b.to_bytes(), &read(), None, Some(NOW)).unwrap();
    assert_eq!(d.code.as_deref(), Some("budget_exhausted"));
    assert!(d.reasons[0].contains("delegation 1 (agent:lead)"), "{:?}", d.reasons);
    // A call the Datalog denies spends nothing.
    let denied = v.authorize(a.to_bytes(), &Request::new("x", "y", "../z"), None, Some(NOW));
    assert!(denied.is_err(), "a malformed request is refused before any budget");
}

#[test]
fn budgets_only_narrow() {
    let parent = root_token().delegate(&kp(2), &DelegateParams::new("agent:lead", kp(3).public_key()).max_calls(10).rate(5, 60).now(NOW)).unwrap();
    let widen = |p: DelegateParams| parent.delegate(&kp(3), &p.now(NOW)).unwrap_err().code();
    assert_eq!(widen(DelegateParams::new("agent:c", kp(4).public_key()).max_calls(11)), "attenuation_widens");
    assert_eq!(widen(DelegateParams::new("agent:c", kp(4).public_key()).rate(6, 60)), "attenuation_widens");
    assert_eq!(widen(DelegateParams::new("agent:c", kp(4).public_key()).rate(5, 30)), "attenuation_widens");
    assert_eq!(widen(DelegateParams::new("agent:c", kp(4).public_key()).max_calls(0)), "invalid_argument");
    assert_eq!(widen(DelegateParams::new("agent:c", kp(4).public_key()).rate(1, 0)), "invalid_argument");
    assert!(parent.delegate(&kp(3), &DelegateParams::new("agent:c", kp(4).public_key()).max_calls(10).rate(1, 3600).now(NOW)).is_ok());
}

#[test]
fn a_rate_resets_with_its_window() {
    let t = root_token().delegate(&kp(2), &DelegateParams::new("agent:a", kp(3).public_key()).rate(2, 60).now(NOW)).unwrap();
    let v = Verifier::new([kp(1).public_key()]);
    let code = |at: u64| v.authorize(t.to_bytes(), &read(), None, Some(at)).unwrap().code;
    assert_eq!(code(NOW), None);
    assert_eq!(code(NOW + 59), None);
    assert_eq!(code(NOW + 59).as_deref(), Some("budget_exhausted"));
    assert_eq!(code(NOW + 60), None, "a new window");
}

#[test]
fn two_verifiers_sharing_a_counter_store_share_the_budget() {
    let store = Arc::new(MemoryCounterStore::new(1000));
    let t = root_token().delegate(&kp(2), &DelegateParams::new("agent:a", kp(3).public_key()).max_calls(2).now(NOW)).unwrap();
    let v1 = Verifier::new([kp(1).public_key()]).with_counter_store(store.clone());
    let v2 = Verifier::new([kp(1).public_key()]).with_counter_store(store);
    assert!(v1.authorize(t.to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
    assert!(v2.authorize(t.to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
    assert_eq!(v1.authorize(t.to_bytes(), &read(), None, Some(NOW)).unwrap().code.as_deref(), Some("budget_exhausted"));
}

fn pending(a: Authorization) -> PendingClaim {
    match a {
        Authorization::Pending(p) => p,
        Authorization::Decided(d) => panic!("expected a pending authorization, got {d:?}"),
    }
}

fn decided(a: Authorization) -> marque::Decision {
    match a {
        Authorization::Decided(d) => d,
        Authorization::Pending(p) => panic!("expected a decision, still pending: {p:?}"),
    }
}

#[test]
fn the_asynchronous_path_spends_budgets_after_the_nonce_in_a_host_store() {
    // Lead (no budget) → a (2 calls): the charge is a's hop, named as delegation 2.
    let lead = root_token().delegate(&kp(2), &DelegateParams::new("agent:lead", kp(3).public_key()).now(NOW)).unwrap();
    let t = lead.delegate(&kp(3), &DelegateParams::new("agent:a", kp(4).public_key()).max_calls(2).now(NOW)).unwrap();
    let v = Verifier::new([kp(1).public_key()]);
    let store = MemoryCounterStore::new(100);
    let call = |at: u64| {
        let proof = t.sign_proof(&kp(4), &read(), Some(at)).unwrap();
        let p = pending(v.authorize_begin(t.to_bytes(), &read(), Some(&proof), Some(at)).unwrap());
        assert!(p.claim().is_some());
        assert!(p.spent_reply(0).is_err(), "budgets before the nonce are refused");
        let p = pending(v.authorize_begin(t.to_bytes(), &read(), Some(&proof), Some(at)).unwrap());
        let p = pending(p.claimed(Ok(Claim::Claimed)).unwrap());
        assert_eq!(p.charges().len(), 1);
        assert_eq!((p.charges()[0].hop(), p.charges()[0].limit()), (1, 2));
        assert!(p.charges()[0].key().starts_with("marque:budget:") && !p.charges()[0].key().contains("agent"));
        let outcome = store.spend(p.charges());
        p.spent(outcome).unwrap()
    };
    assert!(call(NOW).allowed);
    assert!(call(NOW + 1).allowed);
    let d = call(NOW + 2);
    assert_eq!(d.code.as_deref(), Some("budget_exhausted"));
    assert!(d.reasons[0].contains("delegation 2 (agent:a)"), "{:?}", d.reasons);

    // The synchronous path names the same hop (its own in-process counters).
    let sync = |at: u64| v.authorize(t.to_bytes(), &read(), None, Some(at)).unwrap();
    assert!(sync(NOW).allowed && sync(NOW).allowed);
    assert!(sync(NOW).reasons[0].contains("delegation 2 (agent:a)"));

    // A replayed nonce is decided before any budget: nothing to spend.
    let proof = t.sign_proof(&kp(4), &read(), Some(NOW)).unwrap();
    let p = pending(v.authorize_begin(t.to_bytes(), &read(), Some(&proof), Some(NOW)).unwrap());
    assert_eq!(decided(p.claimed(Ok(Claim::AlreadyUsed)).unwrap()).code.as_deref(), Some("replayed_proof"));
    // Without a proof the budgets are still pending: never skipped.
    let p = pending(v.authorize_begin(t.to_bytes(), &read(), None, Some(NOW)).unwrap());
    assert!(p.claim().is_none());
    assert_eq!(p.spent_reply(1).unwrap().code.as_deref(), Some("budget_exhausted"));
    // `finish` (the nonce-only step) refuses a call that still has budgets to spend.
    let p = pending(v.authorize_begin(t.to_bytes(), &read(), Some(&proof), Some(NOW + 3)).unwrap());
    assert_eq!(p.finish(Ok(Claim::Claimed)).unwrap_err().code(), "invalid_argument");
}

#[test]
fn untrustworthy_counter_store_answers_fail_closed() {
    let t = root_token().delegate(&kp(2), &DelegateParams::new("agent:a", kp(3).public_key()).max_calls(2).rate(5, 60).now(NOW)).unwrap();
    let v = Verifier::new([kp(1).public_key()]);
    let begin = || pending(v.authorize_begin(t.to_bytes(), &read(), None, Some(NOW)).unwrap());
    assert_eq!(begin().charges().len(), 2, "max_calls and rate: two counters of one hop");
    let code = |r: marque::Result<marque::Decision>| r.unwrap_err().code();
    // Malformed answers of the script protocol: negative, past the charges.
    assert_eq!(code(begin().spent_reply(-1)), "replay_store_unavailable");
    assert_eq!(code(begin().spent_reply(3)), "replay_store_unavailable");
    // An exhaustion naming a hop that has no charge (the wrong number of hops).
    assert_eq!(code(begin().spent(Ok(Spend::Exhausted { hop: 1 }))), "replay_store_unavailable");
    assert_eq!(begin().spent(Ok(Spend::Exhausted { hop: 0 })).unwrap().code.as_deref(), Some("budget_exhausted"), "the right hop");
    // A store that errors or answers something that is not a counter store's answer.
    assert_eq!(code(begin().spent(Err(marque::Error::new(marque::ErrorKind::Internal, "ECONNREFUSED")))), "replay_store_unavailable");
    assert_eq!(code(begin().spent(Err(marque::replay::unavailable("timed out")))), "replay_store_unavailable");
    // A store that says "spent" for a token with no budget.
    let plain = root_token();
    let proof = plain.sign_proof(&kp(2), &read(), Some(NOW)).unwrap();
    let p = pending(v.authorize_begin(plain.to_bytes(), &read(), Some(&proof), Some(NOW)).unwrap());
    assert!(p.charges().is_empty());
    assert_eq!(code(p.spent(Ok(Spend::Spent))), "invalid_argument", "the nonce is not claimed");
    let p = pending(v.authorize_begin(plain.to_bytes(), &read(), Some(&proof), Some(NOW)).unwrap());
    assert!(decided(p.claimed(Ok(Claim::Claimed)).unwrap()).allowed, "nothing left to spend: decided");
    // Without a proof and without budgets there is nothing pending at all.
    assert!(decided(v.authorize_begin(plain.to_bytes(), &read(), None, Some(NOW)).unwrap()).allowed);
    // An answer to a claim that was never asked.
    assert_eq!(begin().claimed(Ok(Claim::Claimed)).unwrap_err().code(), "invalid_argument");
}

fn deploy() -> Request {
    Request::new("deploy", "deploy", "production/web")
}

#[test]
fn a_delegation_can_require_approval_and_no_descendant_can_drop_it() {
    let lead = root_token()
        .delegate(&kp(2), &DelegateParams::new("agent:lead", kp(3).public_key()).require_approval(Right::parse("deploy:*:production").unwrap()).now(NOW))
        .unwrap();
    assert_eq!(Token::from_bytes(lead.to_bytes()).unwrap().to_json()["hops"][0]["require_approval"][0]["resource"], "production/");
    let worker = lead.delegate(&kp(3), &DelegateParams::new("agent:worker", kp(4).public_key()).now(NOW)).unwrap();
    let mut v = Verifier::new([kp(1).public_key()]);
    v.add_approver("user:alice", kp(7).public_key()).unwrap();
    // Other calls are not affected.
    assert!(v.authorize(worker.to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);
    assert!(v.authorize(worker.to_bytes(), &Request::new("deploy", "deploy", "staging/web"), None, Some(NOW)).unwrap().allowed);
    let d = v.authorize(worker.to_bytes(), &deploy(), None, Some(NOW)).unwrap();
    assert_eq!(d.code.as_deref(), Some("approval_required"));
    let asked = d.approval_request.clone().unwrap();
    assert!(asked.reason.contains("delegation 1 (agent:lead)"), "{}", asked.reason);
    assert_eq!(d.to_audit_event().attributes.get("approval_digest").and_then(|v| v.as_str()), Some(asked.digest.as_str()));

    // The approval is bound to the worker's token: the lead's own token needs its own.
    let approval = sign_approval_with_nonce(&kp(7), "user:alice", &asked.digest, NOW, 300, [1; 16]).unwrap();
    let other = v.authorize_with_approval(lead.to_bytes(), &deploy(), None, Some(&approval), Some(NOW)).unwrap();
    assert_eq!(other.code.as_deref(), Some("approval_required"));
    let ok = v.authorize_with_approval(worker.to_bytes(), &deploy(), None, Some(&approval), Some(NOW + 1)).unwrap();
    assert!(ok.allowed, "{:?}", ok.reasons);
    let event = ok.to_audit_event();
    assert_eq!(event.approval.as_ref().and_then(|a| a.get("approver")).and_then(|v| v.as_str()), Some("user:alice"));
    // Single use.
    let again = v.authorize_with_approval(worker.to_bytes(), &deploy(), None, Some(&approval), Some(NOW + 2)).unwrap();
    assert_eq!(again.code.as_deref(), Some("approval_required"));
    assert!(again.reasons[0].contains("already used"), "{:?}", again.reasons);
    // The reused approval's denial says what to approve next, like any other.
    assert_eq!(again.approval_request.as_ref(), Some(&asked));
    assert!(again.approval.is_none());
}

/// The asynchronous path takes approvals too: the host claims the proof's nonce, then the
/// approval's own key, in its (shared) replay store, then spends the budgets. A used approval
/// is `approval_required` asking for a new one; a replayed nonce never burns the approval.
#[test]
fn the_asynchronous_path_claims_an_approval_after_the_nonce() {
    let t = root_token().delegate(&kp(2), &DelegateParams::new("agent:a", kp(4).public_key()).max_calls(5).now(NOW)).unwrap();
    let mut v = Verifier::new([kp(1).public_key()]);
    v.add_approver("user:alice", kp(7).public_key()).unwrap();
    v.add_approval_rule(Right::parse("deploy:*:production/").unwrap()).unwrap();
    let asked = v.authorize(t.to_bytes(), &deploy(), None, Some(NOW)).unwrap().approval_request.unwrap();
    let approval = sign_approval_with_nonce(&kp(7), "user:alice", &asked.digest, NOW, 300, [5; 16]).unwrap();
    // A host store shared by every verifier: a set of claimed keys.
    let used = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let claim = |p: &PendingClaim| {
        let key = p.claim().unwrap().key().to_string();
        if used.borrow_mut().insert(key) { Claim::Claimed } else { Claim::AlreadyUsed }
    };
    let step = |p: PendingClaim| {
        let answer = claim(&p);
        p.claimed(Ok(answer))
    };
    let sign = |at: u64| t.sign_proof(&kp(4), &deploy(), Some(at)).unwrap();
    let begin = |proof: &str, approval: &str, at: u64| {
        pending(v.authorize_begin_with_approval(t.to_bytes(), &deploy(), Some(proof), Some(approval), Some(at)).unwrap())
    };
    let first = sign(NOW);
    let p = begin(&first, &approval, NOW);
    let nonce_key = p.claim().unwrap().key().to_string();
    let p = pending(step(p).unwrap());
    let approval_key = p.claim().expect("the approval is claimed next").key().to_string();
    assert_ne!(nonce_key, approval_key);
    assert!(approval_key.starts_with("marque:"), "{approval_key}");
    let p = pending(step(p).unwrap());
    assert!(p.claim().is_none());
    let d = p.spent_reply(0).unwrap();
    assert!(d.allowed, "{:?}", d.reasons);
    assert_eq!(d.approval.as_ref().map(|a| a.approver.as_str()), Some("user:alice"));
    // Budgets before the approval's claim are refused.
    let p = pending(step(begin(&sign(NOW + 1), &approval, NOW + 1)).unwrap());
    assert!(p.claim().is_some());
    assert!(p.spent_reply(0).is_err());
    // A second call with a fresh proof and the same approval: the approval is used.
    let p = pending(step(begin(&sign(NOW + 2), &approval, NOW + 2)).unwrap());
    let again = decided(step(p).unwrap());
    assert_eq!(again.code.as_deref(), Some("approval_required"));
    assert_eq!(again.approval_request.as_ref(), Some(&asked));
    // A replayed nonce is decided before the approval, which it does not burn.
    let fresh = sign_approval_with_nonce(&kp(7), "user:alice", &asked.digest, NOW, 300, [6; 16]).unwrap();
    assert_eq!(decided(step(begin(&first, &fresh, NOW + 3)).unwrap()).code.as_deref(), Some("replayed_proof"));
    let p = pending(step(pending(step(begin(&sign(NOW + 4), &fresh, NOW + 4)).unwrap())).unwrap());
    assert!(p.spent_reply(0).unwrap().allowed);
    // A store failing on the approval's claim fails closed.
    let other = sign_approval_with_nonce(&kp(7), "user:alice", &asked.digest, NOW, 300, [7; 16]).unwrap();
    let p = pending(step(begin(&sign(NOW + 7), &other, NOW + 7)).unwrap());
    let err = p.claimed(Err(marque::Error::new(marque::ErrorKind::InvalidArgument, "down"))).unwrap_err();
    assert_eq!(err.code(), "replay_store_unavailable");
    // Without an approval the asynchronous path still asks for one.
    let proof = t.sign_proof(&kp(4), &deploy(), Some(NOW + 8)).unwrap();
    let d = decided(v.authorize_begin(t.to_bytes(), &deploy(), Some(&proof), Some(NOW + 8)).unwrap());
    assert_eq!(d.code.as_deref(), Some("approval_required"));
}

#[test]
fn operator_rules_and_bad_approvals() {
    let t = root_token();
    let mut v = Verifier::new([kp(1).public_key()]);
    v.add_approver("user:alice", kp(7).public_key()).unwrap();
    v.add_approval_rule(Right::parse("deploy:*:production/").unwrap()).unwrap();
    assert_eq!(v.add_approval_rule(Right::new("deploy", "*", "../x")).unwrap_err().code(), "invalid_argument");
    let d = v.authorize(t.to_bytes(), &deploy(), None, Some(NOW)).unwrap();
    let digest = d.approval_request.unwrap().digest;
    let code = |a: &str, at: u64| v.authorize_with_approval(t.to_bytes(), &deploy(), None, Some(a), Some(at)).unwrap().code;
    // Untrusted signer, wrong id, expired, garbage: each still approval_required.
    let mallory = sign_approval_with_nonce(&kp(8), "user:alice", &digest, NOW, 300, [2; 16]).unwrap();
    assert_eq!(code(&mallory, NOW).as_deref(), Some("approval_required"));
    let expired = sign_approval_with_nonce(&kp(7), "user:alice", &digest, NOW, 60, [3; 16]).unwrap();
    assert_eq!(code(&expired, NOW + 60).as_deref(), Some("approval_required"));
    assert_eq!(code("garbage", NOW).as_deref(), Some("approval_required"));
    // A denial by the Datalog is not turned into anything else by an approval.
    let narrowed = t.delegate(&kp(2), &DelegateParams::new("agent:r", kp(3).public_key()).tools(["read_file"]).now(NOW)).unwrap();
    let good = sign_approval_with_nonce(&kp(7), "user:alice", &digest, NOW, 300, [4; 16]).unwrap();
    let d = v.authorize_with_approval(narrowed.to_bytes(), &deploy(), None, Some(&good), Some(NOW)).unwrap();
    assert_eq!(d.code.as_deref(), Some("not_authorized"));
    // The good approval still works for the call it approves (the denial above did not burn it).
    assert_eq!(code(&good, NOW), None);
}

#[cfg(feature = "rego")]
#[test]
fn rego_policies_decide_after_the_datalog() {
    use marque::rego::RegoPolicy;
    // The users' policy, verbatim (its reviewer rule does not apply here).
    let policy = RegoPolicy::new("authz", Some("7"), include_str!("../../tests/vectors/rego/agent_authz.rego")).unwrap();
    let mut v = Verifier::new([kp(1).public_key()]);
    v.add_rego_policy(policy);
    v.add_approver("user:alice", kp(7).public_key()).unwrap();
    v.set_roles([("agent:orchestrator".to_string(), "deployer".to_string())].into_iter().collect());
    let t = root_token();
    let call = |env: &str| Request::new("deploy", "deploy", "svc/web").attribute("resource.env", env);
    let d = v.authorize(t.to_bytes(), &call("staging"), None, Some(NOW)).unwrap();
    assert!(d.allowed);
    assert_eq!(d.policy.as_deref(), Some("authz@7#allow"));
    let d = v.authorize(t.to_bytes(), &call("dev"), None, Some(NOW)).unwrap();
    assert_eq!((d.code.as_deref(), d.policy.as_deref()), (Some("not_authorized"), Some("authz@7#default")));
    let d = v.authorize(t.to_bytes(), &call("production"), None, Some(NOW)).unwrap();
    assert_eq!((d.code.as_deref(), d.policy.as_deref()), (Some("approval_required"), Some("authz@7#require_approval")));
    let approval = sign_approval_with_nonce(&kp(7), "user:alice", &d.approval_request.unwrap().digest, NOW, 300, [1; 16]).unwrap();
    assert!(v.authorize_with_approval(t.to_bytes(), &call("production"), None, Some(&approval), Some(NOW)).unwrap().allowed);
}
