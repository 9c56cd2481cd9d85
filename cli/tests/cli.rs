//! The CLI flow a newcomer runs: keygen → mint → delegate → authorize, and its exit codes.

use std::process::{Command, Output};

fn marque(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_marque")).args(args).output().expect("run marque")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn keygen(dir: &std::path::Path, name: &str) -> (String, String) {
    let path = dir.join(format!("{name}.pem"));
    let o = marque(&["keygen", "--out", path.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    (path.to_str().unwrap().to_string(), stdout(&o))
}

#[test]
fn keygen_mint_delegate_authorize() {
    let dir = std::env::temp_dir().join(format!("marque-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (root_key, root_pub) = keygen(&dir, "root");
    let (orch_key, orch_pub) = keygen(&dir, "orch");
    let (_a_key, a_pub) = keygen(&dir, "a");
    assert_eq!(root_pub.len(), 64);
    // Refuses to overwrite a key file.
    assert_eq!(marque(&["keygen", "--out", &root_key]).status.code(), Some(2));

    let o = marque(&["mint", "--root-key", &root_key, "--agent", "agent:orch", "--agent-key", &orch_pub,
        "--principal", "user:alice", "--task", "t1", "--right", "read_file:read", "--right", "write_file:write:src/", "--ttl", "600"]);
    assert!(o.status.success(), "{o:?}");
    let t0 = stdout(&o);
    let o = marque(&["delegate", "--token", &t0, "--key", &orch_key, "--to", "agent:agent_a", "--to-key", &a_pub,
        "--tool", "read_file", "--resource-prefix", "src/"]);
    assert!(o.status.success(), "{o:?}");
    let ta = stdout(&o);
    let token_file = dir.join("ta.token");
    std::fs::write(&token_file, &ta).unwrap();
    let at_file = format!("@{}", token_file.display());

    let o = marque(&["inspect", &at_file]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["path"], "/root/agent_a");
    assert_eq!(v["chain"][0]["agent"], "agent:orch");

    let allowed = marque(&["authorize", "--root-pub", &root_pub, "--token", &at_file, "--tool", "read_file", "--operation", "read", "--resource", "src/main.rs"]);
    assert_eq!(allowed.status.code(), Some(0), "{allowed:?}");
    let d: serde_json::Value = serde_json::from_slice(&allowed.stdout).unwrap();
    assert_eq!(d["allowed"], true);
    assert_eq!(d["agent"], "agent:agent_a");

    let denied = marque(&["authorize", "--root-pub", &root_pub, "--token", &at_file, "--tool", "write_file", "--operation", "write", "--resource", "src/main.rs"]);
    assert_eq!(denied.status.code(), Some(1), "{denied:?}");
    let d: serde_json::Value = serde_json::from_slice(&denied.stdout).unwrap();
    assert_eq!(d["code"], "not_authorized");

    // Wrongly rooted: one clear line on stderr, exit 2.
    let wrong = marque(&["authorize", "--root-pub", &orch_pub, "--token", &ta, "--tool", "read_file", "--resource", "src/x"]);
    assert_eq!(wrong.status.code(), Some(2));
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("unknown_root_key") || err.contains("invalid_signature"), "{err}");

    // Tampered: exit 2, one line, no panic.
    let mut bytes = ta.clone().into_bytes();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let o = marque(&["authorize", "--root-pub", &root_pub, "--token", &tampered, "--tool", "read_file", "--resource", "src/x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));

    // Widening at delegation: exit 2 with the code.
    let o = marque(&["delegate", "--token", &ta, "--key", &orch_key, "--to", "agent:x", "--to-key", &a_pub]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrong_holder_key"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn usage_errors_are_one_line() {
    for args in [vec!["mint"], vec!["frobnicate"], vec!["authorize", "--bogus", "x"], vec!["inspect", "!!!"]] {
        let o = marque(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&o.stderr).trim().lines().count(), 1, "{args:?}");
    }
}

#[test]
fn demo_tells_the_story() {
    let o = marque(&["demo"]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert!(out.contains("ALLOWED read_file"));
    assert!(out.contains("DENIED write_file"));
    assert!(out.contains("attenuation_widens"));
    assert!(out.contains("verify → ok"));
    assert!(out.contains("flagged: edited_entry"));
    assert!(out.contains("is refused: revocation_list_rollback"));
    assert!(out.contains("fails closed (revocation_list_stale)"));
    assert!(out.contains("DENIED approval_required"));
    assert!(out.contains("the retry → ALLOWED (approved by user:alice)"));
    assert!(out.contains("DENIED (approval_required: single use)"));
    assert!(out.contains("staging deploys → allowed, budget_exhausted"));
}

#[test]
fn revoke_add_sign_show_and_authorize_with_a_signed_list_and_jwks() {
    let dir = std::env::temp_dir().join(format!("marque-cli-revoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let (root_key, root_pub) = keygen(&dir, "root");
    let (op_key, op_pub) = keygen(&dir, "operator");
    let (_other_key, other_pub) = keygen(&dir, "other");
    let (_orch_key, orch_pub) = keygen(&dir, "orch");
    let now = "1767225600";
    let o = marque(&["mint", "--root-key", &root_key, "--agent", "agent:orch", "--agent-key", &orch_pub,
        "--principal", "user:alice", "--task", "t1", "--right", "read_file:read", "--ttl", "3600", "--now", now]);
    assert!(o.status.success(), "{o:?}");
    let token = stdout(&o);

    // An empty signed list, then one that revokes the agent.
    let (set, l1, l2) = (p("set.json"), p("l1.json"), p("l2.json"));
    assert_eq!(marque(&["revoke", "add", "--list", &set]).status.code(), Some(2), "nothing to add");
    let o = marque(&["revoke", "add", "--list", &set, "--task", "t-other"]);
    assert!(o.status.success(), "{o:?}");
    let o = marque(&["revoke", "sign", "--list", &set, "--key", &op_key, "--sequence", "1", "--now", now, "--out", &l1]);
    assert!(o.status.success(), "{o:?}");
    let o = marque(&["revoke", "add", "--list", &set, "--agent", "agent:orch"]);
    assert_eq!(stdout(&o), "{\"added\":1,\"entries\":2}");
    let o = marque(&["revoke", "sign", "--list", &set, "--key", &op_key, "--previous", &l1, "--now", now, "--out", &l2]);
    assert!(o.status.success(), "{o:?}");
    let o = marque(&["revoke", "show", &l2, "--operator-key", &op_pub]);
    assert!(o.status.success(), "{o:?}");
    let shown: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((shown["sequence"].as_u64(), shown["signature"].as_str()), (Some(2), Some("valid")));
    assert_eq!(shown["revoked"]["agents"][0], "agent:orch");
    // Revocation by key: the orchestrator's key, in a list of its own.
    let (kset, kl) = (p("kset.json"), p("kl.json"));
    let o = marque(&["revoke", "add", "--list", &kset, "--key", &orch_pub]);
    assert_eq!(stdout(&o), "{\"added\":1,\"entries\":1}", "{o:?}");
    let o = marque(&["revoke", "sign", "--list", &kset, "--key", &op_key, "--sequence", "1", "--now", now, "--out", &kl]);
    assert!(o.status.success(), "{o:?}");
    // Malformed entries are refused and nothing is written: a 16-digit id prefix, a bad key or agent.
    for bad in [["--id", "0123abcd01234567"], ["--key", "00ff"], ["--agent", "agent:"]] {
        let o = marque(&["revoke", "add", "--list", &kset, bad[0], bad[1]]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {o:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(bad[0]), "{o:?}");
    }
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&kset).unwrap()).unwrap();
    assert_eq!(written["keys"], serde_json::json!([orch_pub]), "only the valid entry was written");
    // Untrusted operator, tampered list: exit 2 with the code.
    let o = marque(&["revoke", "show", &l2, "--operator-key", &other_pub]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("revocation_list_invalid"));
    let tampered = p("tampered.json");
    std::fs::write(&tampered, std::fs::read_to_string(&l2).unwrap().replace("agent:orch", "agent:orcx")).unwrap();
    let o = marque(&["revoke", "show", &tampered]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid_signature"), "{o:?}");

    let authorize = |extra: &[&str]| {
        let mut args = vec!["authorize", "--token", &token, "--tool", "read_file", "--operation", "read", "--resource", "a"];
        args.extend_from_slice(extra);
        marque(&args)
    };
    let o = authorize(&["--root-pub", &root_pub, "--revocation-list", &l1, "--operator-key", &op_pub, "--max-staleness", "60", "--now", now]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = authorize(&["--root-pub", &root_pub, "--revocation-list", &l2, "--operator-key", &op_pub, "--now", now]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["code"], "revoked");
    let o = authorize(&["--root-pub", &root_pub, "--revocation-list", &kl, "--operator-key", &op_pub, "--now", now]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["code"], "revoked", "the agent's key is revoked: {d}");
    // Stale: fail closed.
    let o = authorize(&["--root-pub", &root_pub, "--revocation-list", &l1, "--operator-key", &op_pub, "--max-staleness", "60", "--now", "1767225661"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("revocation_list_stale"), "{o:?}");
    // A list signed by a key the verifier does not trust.
    let o = authorize(&["--root-pub", &root_pub, "--revocation-list", &l1, "--operator-key", &other_pub, "--now", now]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("revocation_list_invalid"), "{o:?}");
    assert_eq!(authorize(&["--root-pub", &root_pub, "--max-staleness", "60"]).status.code(), Some(2));

    // JWKS: publish the root, authorize against the document; a document without it refuses.
    let (jwks, other_jwks) = (p("jwks.json"), p("other.json"));
    let o = marque(&["jwks", &root_pub, &other_pub]);
    assert!(o.status.success(), "{o:?}");
    std::fs::write(&jwks, &o.stdout).unwrap();
    std::fs::write(&other_jwks, marque(&["jwks", &other_pub]).stdout).unwrap();
    assert_eq!(authorize(&["--jwks", &jwks, "--now", now]).status.code(), Some(0));
    let o = authorize(&["--jwks", &other_jwks, "--now", now]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown_root_key"), "{o:?}");
    assert_eq!(authorize(&["--jwks", &jwks, "--root-pub", &root_pub]).status.code(), Some(2), "one source of roots");
    std::fs::remove_dir_all(&dir).ok();
}

/// A closed stdout (`marque inspect … | head -1` once `head` has exited) is not a crash: the
/// output is dropped, nothing panics, and the command keeps its exit code (it used to panic
/// with "failed printing to stdout").
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let dir = std::env::temp_dir().join(format!("marque-cli-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (root_pem, root_pub) = keygen(&dir, "root");
    let (_, agent_pub) = keygen(&dir, "agent");
    let minted = marque(&["mint", "--root-key", &root_pem, "--agent", "agent:a", "--agent-key", &agent_pub,
        "--principal", "user:u", "--right", "read_file:read", "--ttl", "600"]);
    let token = stdout(&minted);
    let token = token.trim();
    for (args, code) in [
        (vec!["inspect", token], 0),
        (vec!["authorize", "--root-pub", &root_pub, "--token", token, "--tool", "read_file", "--operation", "read", "--resource", "src/a"], 0),
        (vec!["authorize", "--root-pub", &root_pub, "--token", token, "--tool", "write_file", "--operation", "write", "--resource", "src/a"], 1),
        (vec!["demo"], 0),
    ] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader); // every write to stdout now fails with EPIPE
        let out = Command::new(env!("CARGO_BIN_EXE_marque")).args(&args).stdout(writer).output().expect("run marque");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    }
}

#[test]
fn approve_signs_one_exact_call() {
    use marque::approval::{request_digest, verify_approval, Approvers};
    let dir = std::env::temp_dir().join(format!("marque-cli-approve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (root_key, _) = keygen(&dir, "root");
    let (_, agent_pub) = keygen(&dir, "agent");
    let (alice_key, alice_pub) = keygen(&dir, "alice");
    let o = marque(&["mint", "--root-key", &root_key, "--agent", "agent:deployer", "--agent-key", &agent_pub,
        "--principal", "user:bob", "--right", "deploy:deploy", "--ttl", "600"]);
    assert!(o.status.success(), "{o:?}");
    let token = stdout(&o);
    let now = "1767225600";
    let request = ["--tool", "deploy", "--operation", "deploy", "--resource", "svc/web", "--attribute", "resource.env=production"];
    let mut args = vec!["approve", "--key", &alice_key, "--approver", "user:alice", "--token", &token, "--now", now];
    args.extend(request);
    let o = marque(&args);
    assert!(o.status.success(), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("approving for agent:deployer"), "the approver sees what they sign");
    let approval = stdout(&o);

    let t = marque::Token::from_base64(&token).unwrap();
    let req = marque::Request::new("deploy", "deploy", "svc/web").attribute("resource.env", "production");
    let digest = request_digest(t.to_bytes(), &req);
    let mut approvers = Approvers::new();
    approvers.add("user:alice", marque::PublicKey::parse(&alice_pub).unwrap()).unwrap();
    let ok = verify_approval(&approval, &approvers, &digest, 1_767_225_700, 5).unwrap();
    assert_eq!((ok.approver.as_str(), ok.exp), ("user:alice", 1_767_225_900));
    // Bound to the attribute: staging is another request.
    let staging = request_digest(t.to_bytes(), &marque::Request::new("deploy", "deploy", "svc/web").attribute("resource.env", "staging"));
    assert_eq!(verify_approval(&approval, &approvers, &staging, 1_767_225_700, 5).unwrap_err().code(), "approval_required");

    // By digest alone, and a digest that contradicts the request is refused.
    let o = marque(&["approve", "--key", &alice_key, "--approver", "user:alice", "--digest", &digest, "--now", now, "--ttl", "60"]);
    assert!(o.status.success(), "{o:?}");
    let mut args = vec!["approve", "--key", &alice_key, "--approver", "user:alice", "--token", &token, "--digest", &staging, "--now", now];
    args.extend(request);
    let o = marque(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not match"), "{o:?}");
    // Bad ttl, missing request, milliseconds: one line, exit 2.
    for bad in [
        vec!["approve", "--key", &alice_key, "--approver", "user:alice", "--digest", &digest, "--ttl", "0"],
        vec!["approve", "--key", &alice_key, "--approver", "user:alice"],
        vec!["approve", "--key", &alice_key, "--approver", "user:alice", "--digest", &digest, "--now", "1767225600000"],
        vec!["approve", "--key", &alice_key, "--approver", "user:alice", "--tool", "deploy", "--resource", "x"],
    ] {
        let o = marque(&bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert_eq!(String::from_utf8_lossy(&o.stderr).trim().lines().count(), 1, "{bad:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn authorize_asks_for_an_approval_and_accepts_it_once() {
    let dir = std::env::temp_dir().join(format!("marque-cli-approval-flow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (root_key, root_pub) = keygen(&dir, "root");
    let (_, agent_pub) = keygen(&dir, "agent");
    let (alice_key, alice_pub) = keygen(&dir, "alice");
    let o = marque(&["mint", "--root-key", &root_key, "--agent", "agent:deployer", "--agent-key", &agent_pub,
        "--principal", "user:bob", "--right", "deploy:deploy", "--ttl", "600", "--now", "1767225600"]);
    assert!(o.status.success(), "{o:?}");
    let token = stdout(&o);
    let approver = format!("user:alice={alice_pub}");
    let base = ["authorize", "--root-pub", &root_pub, "--token", &token, "--tool", "deploy", "--operation", "deploy",
        "--resource", "production/web", "--approval-rule", "deploy:*:production/", "--approver", &approver, "--now", "1767225600"];
    let o = marque(&base);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["code"], "approval_required");
    assert_eq!(d["approval_request"]["approvers"][0], "user:alice");
    let digest = d["approval_request"]["digest"].as_str().unwrap().to_string();
    let o = marque(&["approve", "--key", &alice_key, "--approver", "user:alice", "--digest", &digest, "--now", "1767225600"]);
    assert!(o.status.success(), "{o:?}");
    let approval = stdout(&o);
    let mut with = base.to_vec();
    with.extend(["--approval", &approval]);
    let o = marque(&with);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["approval"]["approver"], "user:alice");
    // Staging needs no approval; a malformed --approver is one line, exit 2.
    let mut staging = base.to_vec();
    staging[12] = "staging/web";
    assert_eq!(marque(&staging).status.code(), Some(0));
    let mut bad = base.to_vec();
    bad[16] = "user:alice";
    let o = marque(&bad);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_token_minted_for_one_server_is_refused_by_another() {
    let dir = std::env::temp_dir().join(format!("marque-cli-aud-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (root_key, root_pub) = keygen(&dir, "root");
    let (_k, agent_pub) = keygen(&dir, "agent");
    let o = marque(&["mint", "--root-key", &root_key, "--agent", "agent:a", "--agent-key", &agent_pub, "--principal", "user:u",
        "--right", "read_file:read", "--ttl", "600", "--audience", "HTTPS://A.example/mcp/", "--audience", "https://b.example"]);
    assert!(o.status.success(), "{o:?}");
    let token = stdout(&o);
    let v: serde_json::Value = serde_json::from_slice(&marque(&["inspect", &token]).stdout).unwrap();
    assert_eq!(v["audience"], serde_json::json!(["https://a.example/mcp", "https://b.example"]));
    let at = |aud: Option<&str>| {
        let mut args = vec!["authorize", "--root-pub", &root_pub, "--token", &token, "--tool", "read_file", "--operation", "read", "--resource", "x"];
        if let Some(a) = aud {
            args.extend(["--audience", a]);
        }
        marque(&args)
    };
    assert_eq!(at(Some("https://a.example/mcp")).status.code(), Some(0));
    assert_eq!(at(Some("https://b.example/")).status.code(), Some(0));
    let other = at(Some("https://c.example/mcp"));
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("invalid_token"), "{other:?}");
    assert_eq!(at(None).status.code(), Some(2));
    let bad = marque(&["mint", "--root-key", &root_key, "--agent", "agent:a", "--agent-key", &agent_pub, "--principal", "user:u",
        "--right", "read_file:read", "--ttl", "600", "--audience", "https://a.example/#frag"]);
    assert_eq!(bad.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

/// A `redis-server` on a free loopback port for one test (no persistence), stopped on drop;
/// None (skip) when it is not installed outside CI.
struct Redis(std::process::Child, u16);

impl Redis {
    fn start() -> Option<Redis> {
        use std::process::Stdio;
        if Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_err() {
            assert!(std::env::var_os("CI").is_none(), "redis-server is not installed (scripts/install.sh installs it)");
            eprintln!("skipped: redis-server is not installed");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Some(Redis(child, port))
    }
    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.1)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Budgets and approvals across invocations: each `marque authorize` is a new process, so only
/// a shared store (`--redis`) can count calls or use an approval once; without one a budget token
/// is refused (exit 2), never allowed from a fresh zero count.
#[test]
fn budgets_and_approvals_across_invocations() {
    let dir = std::env::temp_dir().join(format!("marque-cli-budget-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (root_key, root_pub) = keygen(&dir, "root");
    let (orch_key, orch_pub) = keygen(&dir, "orch");
    let (_, a_pub) = keygen(&dir, "a");
    let (alice_key, alice_pub) = keygen(&dir, "alice");
    let o = marque(&["mint", "--root-key", &root_key, "--agent", "agent:orch", "--agent-key", &orch_pub,
        "--principal", "user:bob", "--right", "read_file:read", "--right", "deploy:deploy", "--ttl", "600"]);
    assert!(o.status.success(), "{o:?}");
    let t0 = stdout(&o);
    let delegate = |extra: &[&str]| {
        let mut args = vec!["delegate", "--token", &t0, "--key", &orch_key, "--to", "agent:a", "--to-key", &a_pub];
        args.extend_from_slice(extra);
        marque(&args)
    };
    // Malformed budgets: one line, exit 2.
    for bad in [&["--max-calls", "two"][..], &["--rate", "10"], &["--rate", "10/0"], &["--rate", "0/60"], &["--max-calls", "0"],
        &["--require-approval", "deploy:deploy:../x"]] {
        let o = delegate(bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {o:?}");
        assert_eq!(String::from_utf8_lossy(&o.stderr).trim().lines().count(), 1, "{bad:?}");
    }
    let o = delegate(&["--max-calls", "2", "--rate", "10/60", "--require-approval", "deploy:deploy:prod/"]);
    assert!(o.status.success(), "{o:?}");
    let ta = stdout(&o);
    let read = ["--root-pub", &root_pub, "--token", &ta, "--tool", "read_file", "--operation", "read", "--resource", "src/a.rs"];
    let authorize = |extra: &[&str]| {
        let mut args = vec!["authorize"];
        args.extend_from_slice(&read);
        args.extend_from_slice(extra);
        marque(&args)
    };
    let o = authorize(&[]);
    assert_eq!(o.status.code(), Some(2), "a budget token without a shared store is refused: {o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("--redis"), "{o:?}");

    let Some(redis) = Redis::start() else { return };
    let url = redis.url();
    let codes: Vec<_> = (0..3).map(|_| authorize(&["--redis", &url])).collect();
    assert_eq!(codes.iter().map(|o| o.status.code()).collect::<Vec<_>>(), [Some(0), Some(0), Some(1)], "{codes:?}");
    let d: serde_json::Value = serde_json::from_slice(&codes[2].stdout).unwrap();
    assert_eq!(d["code"], "budget_exhausted", "{d}");

    // The approval the hop requires: denied with the digest, approved once, refused when reused.
    let t1 = stdout(&delegate(&["--require-approval", "deploy:deploy:prod/"]));
    let deploy = ["authorize", "--root-pub", &root_pub, "--token", &t1, "--tool", "deploy", "--operation", "deploy", "--resource", "prod/web"];
    let approver = format!("user:alice={alice_pub}");
    let run = |extra: &[&str]| {
        let mut args = deploy.to_vec();
        args.extend_from_slice(&["--approver", &approver, "--redis", &url]);
        args.extend_from_slice(extra);
        marque(&args)
    };
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["code"], "approval_required", "{d}");
    let digest = d["approval_request"]["digest"].as_str().expect("the denial names the digest").to_string();
    let o = marque(&["approve", "--key", &alice_key, "--approver", "user:alice", "--digest", &digest]);
    assert!(o.status.success(), "{o:?}");
    let approval = stdout(&o);
    assert_eq!(run(&["--approval", &approval]).status.code(), Some(0));
    let o = run(&["--approval", &approval]);
    assert_eq!(o.status.code(), Some(1), "an approval is used once across invocations: {o:?}");
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["code"], "approval_required", "{d}");

    // The store down: the call fails closed (exit 2, the typed code), never an allow.
    drop(redis);
    let o = authorize(&["--redis", &url]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("replay_store_unavailable"), "{o:?}");
}

/// `marque revoke publish`: the next signed list where a server serves it (sequence + 1, replaced
/// atomically); a served list signed by another key is refused, nothing is written.
#[test]
fn revoke_publish_signs_the_next_list_in_place() {
    let dir = std::env::temp_dir().join(format!("marque-cli-publish-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (op_key, op_pub) = keygen(&dir, "operator");
    let (other_key, _) = keygen(&dir, "other");
    let set = dir.join("set.json");
    let served = dir.join("revocations.json");
    let (set, served) = (set.to_str().unwrap(), served.to_str().unwrap());
    assert!(marque(&["revoke", "add", "--list", set, "--agent", "agent:rogue"]).status.success());
    let publish = |key: &str| marque(&["revoke", "publish", "--list", set, "--key", key, "--out", served, "--now", "1767225600"]);
    for expected in [1, 2] {
        let o = publish(&op_key);
        assert!(o.status.success(), "{o:?}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["sequence"], expected);
        let shown = marque(&["revoke", "show", served, "--operator-key", &op_pub]);
        assert!(shown.status.success(), "{shown:?}");
        let v: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
        assert_eq!((v["sequence"].as_u64(), v["entries"].as_u64()), (Some(expected), Some(1)));
    }
    let before = std::fs::read(served).unwrap();
    let o = publish(&other_key);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("not by this key"));
    assert_eq!(std::fs::read(served).unwrap(), before, "nothing written");
    assert!(!std::path::Path::new(&format!("{served}.tmp")).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn authorize_runs_rego_policies_with_the_operators_roles() {
    let dir = std::env::temp_dir().join(format!("marque-cli-rego-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (root_key, root_pub) = keygen(&dir, "root");
    let (_, agent_pub) = keygen(&dir, "agent");
    let (alice_key, alice_pub) = keygen(&dir, "alice");
    let o = marque(&["mint", "--root-key", &root_key, "--agent", "agent:deployer", "--agent-key", &agent_pub,
        "--principal", "user:bob", "--right", "deploy:deploy", "--ttl", "600", "--now", "1767225600"]);
    assert!(o.status.success(), "{o:?}");
    let token = stdout(&o);
    // The users' policy, verbatim.
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/rego/agent_authz.rego");
    let approver = format!("user:alice={alice_pub}");
    let run = |env: &str, extra: &[&str]| {
        let attr = format!("resource.env={env}");
        let mut args = vec!["authorize", "--root-pub", &root_pub, "--token", &token, "--tool", "deploy", "--operation", "deploy",
            "--resource", "svc/web", "--attribute", &attr, "--rego", policy, "--approver", &approver, "--now", "1767225600"];
        args.extend(extra);
        let o = marque(&args);
        let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
        (o.status.code(), d["code"].as_str().map(str::to_string), d["policy"].as_str().map(str::to_string), o)
    };
    let role = ["--role", "agent:deployer=deployer", "--rego-name", "authz", "--rego-version", "3"];
    // A deployer deploys to staging: allowed, and the decision names the rule.
    let (code, _, policy_rule, o) = run("staging", &role);
    assert_eq!((code, policy_rule.as_deref()), (Some(0), Some("authz@3#allow")), "{o:?}");
    // Without the role: denied by the policy (the file's stem names it by default).
    let (code, denial, policy_rule, o) = run("staging", &[]);
    assert_eq!((code, denial.as_deref(), policy_rule.as_deref()), (Some(1), Some("not_authorized"), Some("agent_authz#default")), "{o:?}");
    // Production: approval required, then allowed with alice's approval of that exact call.
    let (code, denial, policy_rule, o) = run("production", &role);
    assert_eq!((code, denial.as_deref(), policy_rule.as_deref()), (Some(1), Some("approval_required"), Some("authz@3#require_approval")), "{o:?}");
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let digest = d["approval_request"]["digest"].as_str().unwrap().to_string();
    let o = marque(&["approve", "--key", &alice_key, "--approver", "user:alice", "--digest", &digest, "--now", "1767225600"]);
    assert!(o.status.success(), "{o:?}");
    let approval = stdout(&o);
    let mut with = role.to_vec();
    with.extend(["--approval", &approval]);
    let (code, _, _, o) = run("production", &with);
    assert_eq!(code, Some(0), "{o:?}");
    // Refusals, each one line on stderr and exit 2: a policy that does not parse, a malformed
    // --role, --rego-name with two files, a missing file.
    let bad = dir.join("bad.rego");
    std::fs::write(&bad, "package p\nallow if {").unwrap();
    let bad = bad.to_str().unwrap();
    for extra in [
        vec!["--rego", bad],
        vec!["--role", "deployer"],
        vec!["--rego", policy, "--rego-name", "x"],
        vec!["--rego", "/nonexistent/policy.rego"],
    ] {
        let (code, _, _, o) = run("staging", &extra);
        assert_eq!(code, Some(2), "{extra:?}: {o:?}");
        assert!(!o.stderr.is_empty() && o.stdout.is_empty(), "{extra:?}: {o:?}");
    }
    let (_, _, _, o) = run("staging", &["--rego", bad]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not parse"), "{o:?}");
    std::fs::remove_dir_all(&dir).ok();
}
