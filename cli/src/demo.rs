//! `marque demo`: the delegation story told step by step, with fresh keys.

use marque::delegate::DelegateParams;
use marque::policy::{Request, Right};
use marque::token::MintParams;
use marque::{KeyPair, RevocationList, RevocationSet, Token, Verifier};

fn e(err: marque::Error) -> String {
    err.to_string()
}

pub fn run() -> Result<(), String> {
    let now = marque::unix_now();
    let root = KeyPair::generate().map_err(e)?;
    let orch = KeyPair::generate().map_err(e)?;
    let agent_a = KeyPair::generate().map_err(e)?;
    let agent_c = KeyPair::generate().map_err(e)?;
    println!("marque demo: user:alice asks an orchestrator agent to fix issue 42\n");
    println!("1. keys: root {} · orchestrator {} · agent_a {} · agent_c {}",
        root.public_key().fingerprint(), orch.public_key().fingerprint(),
        agent_a.public_key().fingerprint(), agent_c.public_key().fingerprint());

    let t0 = Token::mint(
        &root,
        &MintParams::new("agent:orchestrator", orch.public_key(), "user:alice")
            .task("fix-issue-42")
            .workspace("acme/web")
            .right(Right::new("read_file", "read", "*"))
            .right(Right::new("write_file", "write", "src/"))
            .ttl_seconds(3600)
            .now(now),
    )
    .map_err(e)?;
    println!("2. mint: the root signs a token for agent:orchestrator at {} ({} bytes)", t0.path(), t0.to_bytes().len());
    println!("   rights: {}", t0.rights().iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", "));

    let ta = t0
        .delegate(&orch, &DelegateParams::new("agent:agent_a", agent_a.public_key()).tools(["read_file"]).resource_prefix("src/").ttl_seconds(900).now(now))
        .map_err(e)?;
    println!("3. attenuate: the orchestrator delegates to {} — read_file on src/ only, 15 minutes (signed by the orchestrator's key, offline)", ta.path());
    let tc = ta
        .delegate(&agent_a, &DelegateParams::new("agent:agent_c", agent_c.public_key()).resource_prefix("src/main.rs").now(now))
        .map_err(e)?;
    println!("4. attenuate: agent_a delegates to {} — src/main.rs only", tc.path());
    match ta.delegate(&agent_a, &DelegateParams::new("agent:agent_x", agent_c.public_key()).tools(["write_file"]).now(now)) {
        Err(err) => println!("   (agent_a trying to hand out write_file is refused: {err})"),
        Ok(_) => return Err("widening was not refused".into()),
    }

    // The operator signs the fleet's revocation list; servers fail closed if it gets old.
    let operator = KeyPair::generate().map_err(e)?;
    let mut verifier = Verifier::new([root.public_key()]).with_require_proof(true).with_max_revocation_staleness(300);
    verifier.add_operator_key(operator.public_key());
    let list1 = RevocationList::sign(&RevocationSet::new(), 1, Some(now), &operator).map_err(e)?;
    verifier.load_revocation_list(&list1, Some(now)).map_err(e)?;
    println!("\n5. authorize: a tool server trusting only the root public key, proofs required, \
              revocation list #1 from the operator {} (fails closed when older than 5 minutes)",
        operator.public_key().fingerprint());
    let server = KeyPair::generate().map_err(e)?;
    let mut log = marque::audit::AuditLog::new();
    for (tool, op, res) in [("read_file", "read", "src/main.rs"), ("write_file", "write", "src/main.rs")] {
        let request = Request::new(tool, op, res);
        let proof = tc.sign_proof(&agent_c, &request, Some(now)).map_err(e)?;
        let d = verifier.authorize_token(&tc, &request, Some(&proof), Some(now)).map_err(e)?;
        let verdict = if d.allowed { "ALLOWED" } else { "DENIED" };
        println!("   {} {tool}:{op} {res} by {} (chain {}, on behalf of {}, task {})",
            verdict, d.agent, d.chain.join(" → "), d.principal, d.task.as_deref().unwrap_or("-"));
        for r in &d.reasons {
            println!("      reason: {r}");
        }
        log.append(&server, d.to_audit_event()).map_err(e)?;
    }
    let request = Request::new("read_file", "read", "src/main.rs");
    let stolen = verifier.authorize_token(&tc, &request, None, Some(now)).map_err(e)?;
    println!("   a thief replaying the token without agent_c's key: {} ({})",
        if stolen.allowed { "ALLOWED" } else { "DENIED" }, stolen.reasons.join("; "));

    let mut revoked = RevocationSet::new();
    revoked.revoke(&ta.revocation_ids()[1]).map_err(e)?;
    let list2 = RevocationList::sign(&revoked, 2, Some(now), &operator).map_err(e)?;
    verifier.load_revocation_list_json(&list2.to_json(), Some(now)).map_err(e)?;
    let d = verifier.authorize_token(&tc, &request, Some(&tc.sign_proof(&agent_c, &request, Some(now)).map_err(e)?), Some(now)).map_err(e)?;
    println!("\n6. revoke: the operator publishes signed list #2 revoking agent_a's hop → agent_c is {} ({})",
        if d.allowed { "ALLOWED" } else { "DENIED" }, d.reasons.join("; "));
    match verifier.load_revocation_list(&list1, Some(now)) {
        Err(err) => println!("   replaying the older list #1 to un-revoke is refused: {}", err.code()),
        Ok(_) => return Err("a rollback was accepted".into()),
    }
    match verifier.authorize_token(&tc, &request, None, Some(now + 301)) {
        Err(err) => println!("   six minutes without a new list: the server fails closed ({})", err.code()),
        Ok(_) => return Err("a stale list was accepted".into()),
    }
    log.append(&server, d.to_audit_event()).map_err(e)?;

    let report = log.verify(&[server.public_key()], None);
    println!("\n7. audit: {} signed, hash-chained envelopes by the tool server {}; verify → {}",
        report.entries, server.public_key().fingerprint(), if report.ok { "ok" } else { "BROKEN" });
    let jsonl = log.to_jsonl();
    let tampered = jsonl.replacen("\"deny\"", "\"allow\"", 1);
    let report = marque::audit::AuditLog::from_jsonl(&tampered).verify(&[server.public_key()], None);
    match report.problem {
        Some(p) => println!("   someone rewrites a denial into an allow → entry {} flagged: {}", p.index, p.kind.code()),
        None => return Err("tampering went unnoticed".into()),
    }
    constraints(now, &root, &orch, &agent_a)
}

/// Step 8: a production deploy needs a human approval; a delegation's call budget runs out.
fn constraints(now: u64, root: &KeyPair, orch: &KeyPair, agent_a: &KeyPair) -> Result<(), String> {
    let alice = KeyPair::generate().map_err(e)?;
    let mut verifier = Verifier::new([root.public_key()]);
    verifier.add_approver("user:alice", alice.public_key()).map_err(e)?;
    verifier.add_approval_rule(Right::new("deploy", "deploy", "production/")).map_err(e)?;
    let t0 = Token::mint(
        root,
        &MintParams::new("agent:orchestrator", orch.public_key(), "user:alice")
            .right(Right::new("deploy", "deploy", "*"))
            .right(Right::new("read_file", "read", "*"))
            .ttl_seconds(3600)
            .now(now),
    )
    .map_err(e)?;
    let deployer = t0
        .delegate(orch, &DelegateParams::new("agent:deployer", agent_a.public_key()).tools(["deploy"]).max_calls(2).now(now))
        .map_err(e)?;
    let request = Request::new("deploy", "deploy", "production/web");
    let d = verifier.authorize_token(&deployer, &request, None, Some(now)).map_err(e)?;
    let Some(ask) = d.approval_request.as_ref().filter(|_| d.code.as_deref() == Some("approval_required")) else {
        return Err(format!("a production deploy was not held for approval: {:?}", d.code));
    };
    println!("\n8. constraints: the operator requires a human approval for deploy:deploy:production/");
    println!("   {} deploys production/web → DENIED approval_required (digest {}…, approvers {})",
        deployer.path(), &ask.digest[..12], ask.approvers.join(", "));
    let approval = marque::approval::sign_approval(&alice, "user:alice", &ask.digest, now, 300).map_err(e)?;
    let d = verifier
        .authorize_with_approval(deployer.to_bytes(), &request, None, Some(&approval), Some(now))
        .map_err(e)?;
    let by = d.approval.as_ref().map(|a| a.approver.clone()).unwrap_or_default();
    println!("   user:alice signs an approval of that exact call; the retry → {} (approved by {by})",
        if d.allowed { "ALLOWED" } else { "DENIED" });
    let again = verifier.authorize_with_approval(deployer.to_bytes(), &request, None, Some(&approval), Some(now)).map_err(e)?;
    println!("   the same approval again → {} ({}: single use)",
        if again.allowed { "ALLOWED" } else { "DENIED" }, again.code.as_deref().unwrap_or("-"));
    let staging = Request::new("deploy", "deploy", "staging/web");
    let codes: Vec<String> = (0..2)
        .map(|_| verifier.authorize_token(&deployer, &staging, None, Some(now)))
        .map(|d| d.map(|d| d.code.unwrap_or_else(|| "allowed".into())).map_err(e))
        .collect::<Result<_, _>>()?;
    println!("   the orchestrator gave {} a budget of 2 calls: staging deploys → {} (the approved call counted too)",
        deployer.path(), codes.join(", "));
    if again.allowed || !d.allowed || codes.last().map(String::as_str) != Some("budget_exhausted") {
        return Err("the constraints did not hold".into());
    }
    Ok(())
}
