//! `marque audit report`: verifies every log first, then totals calls, allowed, denied by code
//! and usage per group, across several signers' logs (one of them rotated).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use marque::audit::{AuditDecision, AuditEvent, Usage};
use marque::audit_file::{AuditFile, AuditFileOptions};
use marque::KeyPair;

fn marque(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_marque")).args(args).output().unwrap()
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("marque-cli-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn usage(input: u64, output: u64, cost: u64) -> Usage {
    Usage { input_tokens: Some(input), output_tokens: Some(output), model: Some("m-1".into()), cost_usd_micros: Some(cost) }
}

fn call(agent: &str, task: &str, decision: AuditDecision, t: u64) -> AuditEvent {
    AuditEvent::new("tool_call", agent, "read_file", "src/a.rs", decision, 1_700_000_000 + t)
        .principal("user:alice")
        .task(task)
        .chain(["agent:orch", agent])
}

/// Two logs by two signers: `a.jsonl` (rotated into three files) and `b.jsonl`.
fn write_logs(d: &Path) -> (String, String, KeyPair, KeyPair) {
    let (ka, kb) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
    let rotating = AuditFileOptions { max_bytes: 1, ..AuditFileOptions::default() };
    let a = AuditFile::open(d.join("a.jsonl"), &[ka.public_key()], rotating).unwrap();
    a.append(&ka, call("agent:x", "t1", AuditDecision::Allow, 0).usage(usage(100, 10, 1_500_000))).unwrap();
    a.append(&ka, call("agent:x", "t1", AuditDecision::Allow, 1).usage(usage(50, 5, 250))).unwrap();
    a.append(&ka, call("agent:x", "t2", AuditDecision::Deny, 2).attribute("denial_code", "not_authorized")).unwrap();
    assert_eq!(a.files().unwrap().len(), 3);
    let b = AuditFile::open(d.join("b.jsonl"), &[kb.public_key()], AuditFileOptions::default()).unwrap();
    b.append(&kb, call("agent:y", "t1", AuditDecision::Deny, 3).attribute("denial_code", "approval_required")).unwrap();
    b.append(&kb, call("agent:y", "t1", AuditDecision::Allow, 4).usage(usage(7, 3, 0))).unwrap();
    b.append(&kb, call("agent:x", "t1", AuditDecision::Deny, 5).attribute("denial_code", "not_authorized")).unwrap();
    let path = |n: &str| d.join(n).display().to_string();
    (path("a.jsonl"), path("b.jsonl"), ka, kb)
}

#[test]
fn totals_per_agent_task_and_path_across_signers_and_rotated_files() {
    let d = dir("totals");
    let (a, b, ka, kb) = write_logs(&d);
    let (ha, hb) = (ka.public_key().to_hex(), kb.public_key().to_hex());
    let o = marque(&["audit", "report", &a, &b, "--key", &ha, &hb, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((r["by"].as_str(), r["logs"].as_u64()), (Some("agent"), Some(2)));
    let x = &r["groups"]["agent:x"];
    assert_eq!((x["calls"].as_u64(), x["allowed"].as_u64(), x["denied"].as_u64()), (Some(4), Some(2), Some(2)));
    assert_eq!(x["denied_by_code"], serde_json::json!({"not_authorized": 2}));
    assert_eq!(x["usage"], serde_json::json!({"events": 2, "input_tokens": 150, "output_tokens": 15, "cost_usd_micros": 1_500_250}));
    let y = &r["groups"]["agent:y"];
    assert_eq!(y["denied_by_code"], serde_json::json!({"approval_required": 1}));
    assert_eq!(r["total"]["calls"], 6);
    assert_eq!(r["total"]["usage"]["input_tokens"], 157);

    let o = marque(&["audit", "report", &a, &b, "--key", &ha, &hb, "--by", "task", "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((r["groups"]["t1"]["calls"].as_u64(), r["groups"]["t2"]["denied"].as_u64()), (Some(5), Some(1)));
    let o = marque(&["audit", "report", &a, "--key", &ha, "--by", "path", "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["groups"]["agent:orch > agent:x"]["calls"], 3);

    let o = marque(&["audit", "report", &a, &b, "--key", &ha, &hb, "--by", "principal"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.starts_with("by principal: 2 log(s), 6 entries\n"), "{text}");
    assert!(text.contains("user:alice: calls 6, allowed 3, denied 3 (approval_required 1, not_authorized 2), input_tokens 157, output_tokens 18, cost_usd 1.500250"), "{text}");
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn a_tampered_or_untrusted_log_prints_no_totals() {
    let d = dir("tampered");
    let (a, b, ka, kb) = write_logs(&d);
    let (ha, hb) = (ka.public_key().to_hex(), kb.public_key().to_hex());
    // Raise the tokens of an entry in the middle rotated file of `a`.
    let middle = format!("{a}.2");
    let text = std::fs::read_to_string(&middle).unwrap();
    assert!(text.contains("\"input_tokens\":50"));
    std::fs::write(&middle, text.replace("\"input_tokens\":50", "\"input_tokens\":5")).unwrap();
    for args in [vec![&a, &b], vec![&b, &a]] {
        let mut argv = vec!["audit", "report"];
        argv.extend(args.iter().map(|s| s.as_str()));
        argv.extend(["--key", &ha, &hb, "--json"]);
        let o = marque(&argv);
        assert_eq!(o.status.code(), Some(1), "{o:?}");
        assert!(o.stdout.is_empty(), "totals printed for a tampered log");
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(err.contains("audit_chain_broken") && err.contains("entry 1: edited_entry"), "{err}");
    }
    // A log by a signer that is not trusted is refused the same way.
    let o = marque(&["audit", "report", &b, "--key", &ha]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8(o.stderr).unwrap().contains("unknown_signer"));
    // A usage object that is not valid in a signed entry: the entry does not parse.
    let c = d.join("c.jsonl").display().to_string();
    let line = std::fs::read_to_string(&b).unwrap().lines().nth(1).unwrap().replace("\"input_tokens\":7", "\"input_tokens\":-7");
    std::fs::write(&c, format!("{line}\n")).unwrap();
    let o = marque(&["audit", "report", &c, "--key", &hb]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    // Usage errors: exit 2.
    assert_eq!(marque(&["audit", "report", &a, "--key", &ha, "--by", "tool"]).status.code(), Some(2));
    assert_eq!(marque(&["audit", "report", "--key", &ha]).status.code(), Some(2));
    assert_eq!(marque(&["audit", "report", &d.join("none.jsonl").display().to_string(), "--key", &ha]).status.code(), Some(2));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn usage_names_are_reserved_in_free_form_attributes() {
    let d = dir("reserved");
    let k = KeyPair::from_seed(&[3; 32]);
    let f = AuditFile::open(d.join("r.jsonl"), &[k.public_key()], AuditFileOptions::default()).unwrap();
    let e = call("agent:x", "t", AuditDecision::Allow, 0).attribute("gen_ai.usage.input_tokens", -1);
    assert_eq!(f.append(&k, e).unwrap_err().code(), "invalid_argument");
    std::fs::remove_dir_all(&d).ok();
}
