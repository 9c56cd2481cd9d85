//! `marque audit …` and `marque jwt …`, run as a user would run them.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use marque::KeyPair;

fn marque(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_marque"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}
fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

struct Dir(PathBuf);
impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("marque-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn file(&self, name: &str, contents: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, contents).unwrap();
        p.display().to_string()
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn key_file(dir: &Dir, seed: u8) -> (String, String) {
    let kp = KeyPair::from_seed(&[seed; 32]);
    (dir.file(&format!("key{seed}.pem"), &kp.to_pem().unwrap()), kp.public_key().to_hex())
}

fn event(i: u32) -> String {
    format!(
        r#"{{"event_type":"tool_call","agent_id":"agent:a","agent_key_fingerprint":"ed25519:00","principal":"user:alice",
        "action":"read_file","resource":"src/{i}.rs","decision":"allow","policy_id":"default","timestamp":{}}}"#,
        1_700_000_000 + i
    )
}

fn assert_one_line(s: &str) {
    assert_eq!(s.trim_end().lines().count(), 1, "expected one line, got {s:?}");
}

#[test]
fn audit_append_and_verify() {
    let dir = Dir::new("audit");
    let (key, public) = key_file(&dir, 1);
    let log = dir.path("audit.jsonl");
    let mut head = String::new();
    for i in 0..3 {
        let ev = if i == 1 { format!("@{}", dir.file("ev.json", &event(i))) } else { event(i) };
        let o = marque(&["audit", "append", "--key", &key, "--log", &log, "--event", &ev], None);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["seq"], i);
        head = v["head"].as_str().unwrap().to_string();
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 3);

    let ok = marque(&["audit", "verify", &log, "--key", &public, "--head", &head], None);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_one_line(&stdout(&ok));
    assert!(stdout(&ok).starts_with("ok: 3 entries"), "{}", stdout(&ok));
    assert!(stdout(&ok).contains(&head));
    // Several keys after one --key, and stdin.
    let other = KeyPair::from_seed(&[2; 32]).public_key().to_hex();
    let o = marque(&["audit", "verify", "-", "--key", &other, &public], Some(&text));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Tampered: exit 1 with the index and kind.
    let tampered = dir.file("tampered.jsonl", &text.replacen("src/1.rs", "src/x.rs", 1));
    let o = marque(&["audit", "verify", &tampered, "--key", &public], None);
    assert_eq!(o.status.code(), Some(1));
    assert_one_line(&stdout(&o));
    assert!(stdout(&o).starts_with("tampered: entry 1: edited_entry"), "{}", stdout(&o));
    // Truncated, caught with the head.
    let truncated: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
    let truncated = dir.file("truncated.jsonl", &truncated);
    let o = marque(&["audit", "verify", &truncated, "--key", &public, "--head", &head], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("tampered: entry 2: truncated_tail"), "{}", stdout(&o));
    // Untrusted key: every entry has an unknown signer.
    let o = marque(&["audit", "verify", &log, "--key", &other], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("entry 0: unknown_signer"));

    // Errors: exit 2, one line on stderr.
    for args in [
        vec!["audit", "verify", &log, "--key", "nothex"],
        vec!["audit", "verify", &log],
        vec!["audit", "verify", "/nonexistent/log", "--key", &public],
        vec!["audit", "append", "--key", &key, "--log", &log, "--event", "{\"nope\":1}"],
        vec!["audit", "append", "--key", "/nonexistent.pem", "--log", &log, "--event", "{}"],
        vec!["audit", "frobnicate"],
    ] {
        let o = marque(&args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_one_line(&stderr(&o));
        assert!(stdout(&o).is_empty());
    }
    // Appending after a malformed tail is refused; appending after a missing newline works.
    let broken = dir.file("broken.jsonl", &format!("{text}garbage\n"));
    let o =
        marque(&["audit", "append", "--key", &key, "--log", &broken, "--event", &event(9)], None);
    assert_eq!(o.status.code(), Some(2));
    let no_newline = dir.file("nonl.jsonl", text.trim_end());
    let o = marque(
        &["audit", "append", "--key", &key, "--log", &no_newline, "--event", &event(3)],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = marque(&["audit", "verify", &no_newline, "--key", &public], None);
    assert!(stdout(&o).starts_with("ok: 4 entries"), "{}", stdout(&o));
}

#[test]
fn audit_verify_reads_rotated_files_as_one_chain() {
    let dir = Dir::new("audit-rotated");
    let (key, public) = key_file(&dir, 1);
    let log = dir.path("audit.jsonl");
    for i in 0..3 {
        let o = marque(&["audit", "append", "--key", &key, "--log", &log, "--event", &event(i)], None);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    // The three entries split the way AuditFile rotates them: audit.jsonl.1, .2, then the current.
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let one = dir.file("audit.jsonl.1", &format!("{}\n", lines[0]));
    let two = dir.file("audit.jsonl.2", &format!("{}\n", lines[1]));
    let cur = dir.file("audit.jsonl", &format!("{}\n", lines[2]));
    let o = marque(&["audit", "verify", &one, &two, &cur, "--key", &public], None);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).starts_with("ok: 3 entries"), "{}", stdout(&o));
    // Out of order, or a file missing: the chain is broken.
    let o = marque(&["audit", "verify", &two, &one, &cur, "--key", &public], None);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let o = marque(&["audit", "verify", &one, &cur, "--key", &public], None);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("removed_entry"), "{}", stdout(&o));
    // `-` cannot be mixed with files.
    let o = marque(&["audit", "verify", &one, "-", "--key", &public], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn audit_append_to_a_large_log_reads_only_the_tail() {
    let dir = Dir::new("audit-large");
    let (key, public) = key_file(&dir, 1);
    let mut log = marque::AuditLog::new();
    let kp = KeyPair::from_seed(&[1; 32]);
    for i in 0..400 {
        log.append(&kp, marque::AuditEvent::from_json(&event(i)).unwrap()).unwrap();
    }
    let path = dir.file("big.jsonl", &log.to_jsonl());
    assert!(std::fs::metadata(&path).unwrap().len() > 64 * 1024, "spans several read blocks");
    let o =
        marque(&["audit", "append", "--key", &key, "--log", &path, "--event", &event(400)], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("{\"seq\":400,"));
    let o = marque(&["audit", "verify", &path, "--key", &public], None);
    assert!(stdout(&o).starts_with("ok: 401 entries"), "{}", stdout(&o));
}

#[test]
fn jwt_issue_and_verify() {
    let dir = Dir::new("jwt");
    let (key, public) = key_file(&dir, 1);
    let now = marque::unix_now();
    let claims = format!(
        r#"{{"sub":"agent:a","aud":"https://tools.example","exp":{},"iat":{now}}}"#,
        now + 300
    );
    let o = marque(&["jwt", "issue", "--key", &key, "--claims", &claims, "--kid", "k1"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let token = stdout(&o).trim().to_string();
    assert_eq!(token.split('.').count(), 3);

    let ok = marque(
        &["jwt", "verify", &token, "--key", &public, "--aud", "https://tools.example"],
        None,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let v: serde_json::Value = serde_json::from_str(&stdout(&ok)).unwrap();
    assert_eq!(v["sub"], "agent:a");
    // TOKEN from stdin and from a file; named keys.
    let other = KeyPair::from_seed(&[2; 32]).public_key().to_hex();
    let o = marque(
        &[
            "jwt",
            "verify",
            "-",
            "--key",
            &format!("k2={other}"),
            &format!("k1={public}"),
            "--aud",
            "https://tools.example",
        ],
        Some(&format!("{token}\n")),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let file = dir.file("token.txt", &token);
    let o = marque(
        &["jwt", "verify", &format!("@{file}"), "--key", &public, "--aud", "https://tools.example"],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Rejections: exit 1, the code on stderr.
    let o = marque(
        &["jwt", "verify", &token, "--key", &public, "--aud", "https://other.example"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("invalid_jwt:"), "{}", stderr(&o));
    assert_one_line(&stderr(&o));
    let o =
        marque(&["jwt", "verify", &token, "--key", &other, "--aud", "https://tools.example"], None);
    assert_eq!(o.status.code(), Some(1));
    let o = marque(
        &[
            "jwt",
            "verify",
            &token,
            "--key",
            &public,
            "--aud",
            "https://tools.example",
            "--now",
            &(now + 1000).to_string(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("expired:"), "{}", stderr(&o));
    // Usage errors: exit 2.
    for args in [
        vec!["jwt", "verify", &token],
        vec!["jwt", "verify", &token, "--key", "zz"],
        vec!["jwt", "issue", "--key", &key, "--claims", "{\"sub\":\"a\"}"],
        vec!["jwt", "issue", "--key", &key, "--claims", "{\"exp\":1,\"exp\":2}"],
        vec!["jwt", "bogus"],
    ] {
        let o = marque(&args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_one_line(&stderr(&o));
    }
}

#[test]
fn concurrent_appends_keep_one_chain() {
    let dir = Dir::new("audit-concurrent");
    let (key, public) = key_file(&dir, 1);
    let log = dir.path("audit.jsonl");
    // Twelve processes at once: without the file lock several would chain onto the same entry.
    let children: Vec<_> = (0..12)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_marque"))
                .args(["audit", "append", "--key", &key, "--log", &log, "--event", &event(i)])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut seqs: Vec<u64> = children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            serde_json::from_str::<serde_json::Value>(&stdout(&o)).unwrap()["seq"].as_u64().unwrap()
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..12).collect::<Vec<u64>>());
    let o = marque(&["audit", "verify", &log, "--key", &public], None);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("ok: 12 entries"), "{}", stdout(&o));
}
