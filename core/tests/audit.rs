//! Audit log tests: RFC 8785 vectors, the tamper matrix, streaming verification, the OpenTelemetry
//! mapping, and the cross-language vectors in `tests/vectors/audit.json`. Needs `std` (every
//! check compares in-memory with streamed verification).
#![cfg(feature = "std")]

use std::io::Cursor;
use std::path::PathBuf;

use marque::audit::{
    verify_jsonl_reader, AuditDecision, VerifyOptions, DOMAIN, GENESIS, OTEL_EVENT_NAME,
};
use marque::{jcs, AuditEvent, AuditLog, Envelope, KeyPair, ProblemKind, PublicKey, VerifyReport};
use serde_json::{json, Map, Value};

fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

// ---------------------------------------------------------------------------------------------
// RFC 8785
// ---------------------------------------------------------------------------------------------

#[test]
fn jcs_vectors_match_byte_for_byte() {
    let dir = repo_path("tests/vectors/jcs");
    assert!(dir.join("LICENSE").exists(), "the JCS vectors must keep their LICENSE");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir.join("input")).unwrap() {
        let path = entry.unwrap().path();
        let input = std::fs::read_to_string(&path).unwrap();
        let want = std::fs::read(dir.join("output").join(path.file_name().unwrap())).unwrap();
        let got = jcs::canonicalize_str(&input).unwrap();
        assert_eq!(got.as_bytes(), want.as_slice(), "{}", path.display());
        seen += 1;
    }
    assert_eq!(seen, 6, "all six RFC 8785 vectors");
}

// ---------------------------------------------------------------------------------------------
// A log to tamper with
// ---------------------------------------------------------------------------------------------

const T0: u64 = 1_700_000_000;

fn signer() -> KeyPair {
    KeyPair::from_seed(&[1; 32])
}
fn second_signer() -> KeyPair {
    KeyPair::from_seed(&[2; 32])
}
fn outsider() -> KeyPair {
    KeyPair::from_seed(&[9; 32])
}

fn event(i: u64) -> AuditEvent {
    let agent = KeyPair::from_seed(&[3; 32]).public_key();
    let mut approval = Map::new();
    approval.insert("by".into(), json!("user:bob"));
    approval.insert("at".into(), json!(T0 + i));
    AuditEvent::new(
        "tool_call",
        "agent:reviewer",
        "read_file",
        format!("src/module_{i}.rs"),
        if i % 3 == 2 { AuditDecision::Deny } else { AuditDecision::Allow },
        T0 + i,
    )
    .agent_key(&agent)
    .principal("user:alice")
    .chain(["agent:orchestrator", "agent:reviewer"])
    .task("fix-issue-42")
    .operation("read")
    .policy("default", Some("3"))
    .token_id(format!("{:064x}", i + 1))
    .approval(approval)
    .attribute("mcp.session.id", "s-1")
    .attribute("bytes", 1024 + i)
    .attribute("note", "café ☕")
}

fn build_log(n: u64) -> AuditLog {
    let kp = signer();
    let mut log = AuditLog::new();
    for i in 0..n {
        log.append(&kp, event(i)).unwrap();
    }
    log
}

fn trusted() -> Vec<PublicKey> {
    vec![signer().public_key(), second_signer().public_key()]
}

fn join(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Verifies `text` both in memory and streamed, checks both agree, returns the report.
fn verify(text: &str, head: Option<&str>) -> VerifyReport {
    let keys = trusted();
    let in_memory = AuditLog::from_jsonl(text).verify(&keys, head);
    let streamed =
        verify_jsonl_reader(Cursor::new(text.as_bytes()), &keys, head, &VerifyOptions::default())
            .unwrap();
    assert_eq!(in_memory, streamed, "in-memory and streaming verification disagree");
    in_memory
}

fn problem(text: &str, head: Option<&str>) -> Option<(u64, ProblemKind)> {
    let r = verify(text, head);
    assert_eq!(r.ok, r.problem.is_none());
    r.problem.map(|p| (p.index, p.kind))
}

fn lines(log: &AuditLog) -> Vec<String> {
    log.lines().to_vec()
}

/// Applies `edit` to the JSON of line `k` and writes it back canonically.
fn edit_line(lines: &[String], k: usize, edit: impl FnOnce(&mut Value)) -> Vec<String> {
    let mut out = lines.to_vec();
    let mut v: Value = serde_json::from_str(&out[k]).unwrap();
    edit(&mut v);
    out[k] = jcs::canonicalize(&v).unwrap();
    out
}

/// Changes one character of a string (keeps it the same length and in the same class).
fn flip_str(v: &mut Value) {
    let s = v.as_str().unwrap().to_string();
    let mut chars: Vec<char> = s.chars().collect();
    let i = chars.len() / 2;
    chars[i] = match chars[i] {
        '0' => '1',
        'a' => 'b',
        c if c.is_ascii_digit() => '0',
        c if c.is_ascii_lowercase() => 'a',
        'A' => 'B',
        c if c.is_ascii_uppercase() => 'A',
        _ => 'x',
    };
    *v = Value::String(chars.into_iter().collect());
}

fn bump(v: &mut Value) {
    *v = json!(v.as_u64().unwrap() + 1);
}

// ---------------------------------------------------------------------------------------------
// The tamper matrix
// ---------------------------------------------------------------------------------------------

#[test]
fn an_intact_log_verifies() {
    let log = build_log(6);
    let r = verify(&log.to_jsonl(), Some(&log.head().unwrap()));
    assert!(r.ok, "{r:?}");
    assert_eq!(r.entries, 6);
    assert_eq!(r.head, log.head().unwrap());
    assert!(r.clone().into_result().is_ok());
    // Whitespace, member order and a trailing blank line do not matter: the canonical form does.
    let pretty: String = log
        .lines()
        .iter()
        .map(|l| {
            format!(
                "{}\n\n",
                serde_json::to_string_pretty(&serde_json::from_str::<Value>(l).unwrap())
                    .unwrap()
                    .replace('\n', " ")
            )
        })
        .collect();
    assert!(verify(&pretty, None).ok);
    assert!(verify("", None).ok);
}

#[test]
fn editing_any_field_of_a_middle_entry_is_an_edited_entry() {
    let log = build_log(6);
    let ls = lines(&log);
    let k = 2;
    type Edit = fn(&mut Value);
    let edits: Vec<(&str, Edit)> = vec![
        ("event.event_type", |v| flip_str(&mut v["event"]["event_type"])),
        ("event.agent_id", |v| flip_str(&mut v["event"]["agent_id"])),
        ("event.agent_key_fingerprint", |v| flip_str(&mut v["event"]["agent_key_fingerprint"])),
        ("event.chain[0]", |v| flip_str(&mut v["event"]["chain"][0])),
        ("event.principal", |v| flip_str(&mut v["event"]["principal"])),
        ("event.task", |v| flip_str(&mut v["event"]["task"])),
        ("event.action", |v| flip_str(&mut v["event"]["action"])),
        ("event.operation", |v| flip_str(&mut v["event"]["operation"])),
        ("event.resource", |v| flip_str(&mut v["event"]["resource"])),
        ("event.decision", |v| v["event"]["decision"] = json!("allow")),
        ("event.policy_id", |v| flip_str(&mut v["event"]["policy_id"])),
        ("event.policy_version", |v| flip_str(&mut v["event"]["policy_version"])),
        ("event.timestamp", |v| bump(&mut v["event"]["timestamp"])),
        ("event.token_id", |v| flip_str(&mut v["event"]["token_id"])),
        ("event.approval.by", |v| flip_str(&mut v["event"]["approval"]["by"])),
        ("event.attributes.bytes", |v| bump(&mut v["event"]["attributes"]["bytes"])),
        ("event.attributes (added)", |v| v["event"]["attributes"]["extra"] = json!(true)),
        ("event.task (removed)", |v| {
            v["event"].as_object_mut().unwrap().remove("task");
        }),
        ("prev", |v| flip_str(&mut v["prev"])),
        ("seq", |v| bump(&mut v["seq"])),
        ("signer_fingerprint", |v| flip_str(&mut v["signer_fingerprint"])),
    ];
    assert!(ls[k].contains("\"deny\""), "entry 2 is a denial, so the decision edit flips it");
    for (field, edit) in edits {
        let tampered = edit_line(&ls, k, edit);
        assert_ne!(tampered[k], ls[k], "{field}: the edit must change the entry");
        assert_eq!(
            problem(&join(&tampered), None),
            Some((k as u64, ProblemKind::EditedEntry)),
            "{field}"
        );
    }
}

#[test]
fn signature_and_signer_changes() {
    let log = build_log(6);
    let ls = lines(&log);
    let k = 3;
    // A different valid-looking signature (another entry's): forged.
    let other_sig = serde_json::from_str::<Value>(&ls[1]).unwrap()["sig"].clone();
    let t = edit_line(&ls, k, |v| v["sig"] = other_sig);
    assert_eq!(problem(&join(&t), None), Some((3, ProblemKind::ForgedSignature)));
    // One character of the signature changed: forged.
    let t = edit_line(&ls, k, |v| flip_str(&mut v["sig"]));
    assert_eq!(problem(&join(&t), None), Some((3, ProblemKind::ForgedSignature)));
    // Not base64url / wrong length: malformed.
    let t = edit_line(&ls, k, |v| v["sig"] = json!("AAAA"));
    assert_eq!(problem(&join(&t), None), Some((3, ProblemKind::MalformedEntry)));
    // The signer replaced by another (untrusted) key: unknown signer.
    let t = edit_line(&ls, k, |v| v["signer"] = json!(outsider().public_key().to_hex()));
    assert_eq!(problem(&join(&t), None), Some((3, ProblemKind::UnknownSigner)));
    // The signer replaced by the other trusted key: the signature no longer verifies and the
    // body changed: edited.
    let t = edit_line(&ls, k, |v| v["signer"] = json!(second_signer().public_key().to_hex()));
    assert_eq!(problem(&join(&t), None), Some((3, ProblemKind::EditedEntry)));
    // Not hex: malformed.
    let t = edit_line(&ls, k, |v| v["signer"] = json!("zz"));
    assert_eq!(problem(&join(&t), None), Some((3, ProblemKind::MalformedEntry)));
}

#[test]
fn single_byte_flips_are_caught_at_their_entry() {
    let log = build_log(4);
    let ls = lines(&log);
    let k = 2;
    let line = ls[k].as_bytes();
    let region = |key: &str| {
        let start = ls[k].find(&format!("\"{key}\":\"")).unwrap() + key.len() + 4;
        let end = start + ls[k][start..].find('"').unwrap();
        start..end
    };
    let (sig, signer) = (region("sig"), region("signer"));
    let mut kinds = std::collections::HashMap::new();
    // Every fifth byte, plus the one-digit seq: the whole line would take a minute in a debug
    // build. Each field is longer than five bytes, so each one is hit.
    let seq_digit = ls[k].find("\"seq\":").unwrap() + 6;
    for i in (0..line.len()).filter(|&i| i % 5 == 0 || i == seq_digit) {
        let mut bytes = line.to_vec();
        bytes[i] ^= 0x01;
        let Ok(text) = String::from_utf8(bytes) else { continue };
        let mut t = ls.clone();
        t[k] = text;
        // In memory only (the streaming path is compared with it everywhere else): this loop
        // verifies the log once per byte.
        let report = AuditLog::from_jsonl(&join(&t)).verify(&trusted(), None);
        let p = report.problem.unwrap_or_else(|| panic!("flip at byte {i} went unnoticed"));
        let (index, kind) = (p.index, p.kind);
        assert_eq!(index, k as u64, "flip at byte {i}");
        let allowed: &[ProblemKind] = if sig.contains(&i) {
            &[ProblemKind::ForgedSignature, ProblemKind::MalformedEntry]
        } else if signer.contains(&i) {
            &[ProblemKind::UnknownSigner, ProblemKind::MalformedEntry]
        } else {
            &[ProblemKind::EditedEntry, ProblemKind::MalformedEntry]
        };
        assert!(allowed.contains(&kind), "flip at byte {i} ({:?}) gave {kind}", line[i] as char);
        *kinds.entry(kind).or_insert(0) += 1;
    }
    for kind in
        [ProblemKind::EditedEntry, ProblemKind::ForgedSignature, ProblemKind::MalformedEntry]
    {
        assert!(kinds.contains_key(&kind), "{kind} never seen: {kinds:?}");
    }
}

#[test]
fn the_last_entry_needs_the_expected_head() {
    let log = build_log(4);
    let ls = lines(&log);
    let head = log.head().unwrap();
    let t = edit_line(&ls, 3, |v| flip_str(&mut v["event"]["resource"]));
    // Without the head, an edit of the last entry cannot be told from a forged signature.
    assert_eq!(problem(&join(&t), None), Some((3, ProblemKind::ForgedSignature)));
    assert_eq!(problem(&join(&t), Some(&head)), Some((3, ProblemKind::EditedEntry)));
    // A forged signature on the last entry stays forged with the head (the body matches it).
    let t = edit_line(&ls, 3, |v| flip_str(&mut v["sig"]));
    assert_eq!(problem(&join(&t), Some(&head)), Some((3, ProblemKind::ForgedSignature)));
}

#[test]
fn structural_tampering() {
    let log = build_log(6);
    let ls = lines(&log);
    let head = log.head().unwrap();
    let pick =
        |idx: &[usize]| -> String { join(&idx.iter().map(|&i| ls[i].clone()).collect::<Vec<_>>()) };

    // Removed: first, middle, several.
    assert_eq!(problem(&pick(&[1, 2, 3, 4, 5]), None), Some((0, ProblemKind::RemovedEntry)));
    assert_eq!(problem(&pick(&[0, 1, 3, 4, 5]), None), Some((2, ProblemKind::RemovedEntry)));
    assert_eq!(problem(&pick(&[0, 1, 4, 5]), None), Some((2, ProblemKind::RemovedEntry)));
    // Removed then an unrelated problem later: still the removal first.
    assert_eq!(problem(&pick(&[0, 2, 3, 3, 4, 5]), None), Some((1, ProblemKind::RemovedEntry)));
    // Truncated tail: only visible with the expected head.
    assert_eq!(problem(&pick(&[0, 1, 2, 3]), None), None);
    assert_eq!(problem(&pick(&[0, 1, 2, 3]), Some(&head)), Some((4, ProblemKind::TruncatedTail)));
    assert_eq!(problem("", Some(&head)), Some((0, ProblemKind::TruncatedTail)));
    // Reordered: adjacent swap, an entry moved to the end, moved forward.
    assert_eq!(problem(&pick(&[0, 2, 1, 3, 4, 5]), None), Some((1, ProblemKind::ReorderedEntries)));
    assert_eq!(problem(&pick(&[0, 1, 3, 4, 5, 2]), None), Some((2, ProblemKind::ReorderedEntries)));
    assert_eq!(problem(&pick(&[0, 4, 1, 2, 3, 5]), None), Some((1, ProblemKind::ReorderedEntries)));
    assert_eq!(problem(&pick(&[5, 0, 1, 2, 3, 4]), None), Some((0, ProblemKind::ReorderedEntries)));
    // Duplicated: right after itself, at the end.
    assert_eq!(
        problem(&pick(&[0, 1, 2, 2, 3, 4, 5]), None),
        Some((3, ProblemKind::DuplicateEntry))
    );
    assert_eq!(
        problem(&pick(&[0, 1, 2, 3, 4, 5, 1]), None),
        Some((6, ProblemKind::DuplicateEntry))
    );
    // Malformed lines.
    let mut t = ls.clone();
    t[4] = "{not json".into();
    assert_eq!(problem(&join(&t), None), Some((4, ProblemKind::MalformedEntry)));
    t[4] = "[]".into();
    assert_eq!(problem(&join(&t), None), Some((4, ProblemKind::MalformedEntry)));
    // An unknown member is refused even though the signed body is unchanged.
    let t = edit_line(&ls, 1, |v| v["comment"] = json!("hi"));
    assert_eq!(problem(&join(&t), None), Some((1, ProblemKind::MalformedEntry)));
    // A duplicated member is refused (parsers would disagree on which one counts).
    let mut t = ls.clone();
    t[1] = t[1].replacen("{\"event\":{", "{\"seq\":1,\"event\":{", 1);
    assert_eq!(problem(&join(&t), None), Some((1, ProblemKind::MalformedEntry)));
    let mut t = ls.clone();
    t[1] = t[1].replacen("\"attributes\":{", "\"attributes\":{\"bytes\":1,", 1);
    assert_eq!(problem(&join(&t), None), Some((1, ProblemKind::MalformedEntry)));
}

#[test]
fn resigned_and_inserted_entries() {
    let log = build_log(5);
    let ls = lines(&log);
    let envs: Vec<Envelope> = log.envelopes().map(Result::unwrap).collect();

    // Re-signed with an untrusted key (same seq and prev): unknown signer.
    let mut t = ls.clone();
    t[2] =
        Envelope::sign(&outsider(), envs[2].event().clone(), 2, &envs[2].prev()).unwrap().to_json();
    assert_eq!(problem(&join(&t), None), Some((2, ProblemKind::UnknownSigner)));

    // Changed and re-signed by a trusted key (an insider): the next entry does not link to it.
    let mut changed = envs[2].event().clone();
    changed.resource = "secrets/".into();
    let mut t = ls.clone();
    t[2] = Envelope::sign(&second_signer(), changed, 2, &envs[2].prev()).unwrap().to_json();
    assert_eq!(problem(&join(&t), None), Some((2, ProblemKind::EditedEntry)));

    // A forged entry inserted with a plausible seq and prev but no valid signature.
    let forged =
        Envelope::sign(&outsider(), envs[1].event().clone(), 2, &envs[1].digest()).unwrap();
    let forged_line = forged
        .to_json()
        .replace(&outsider().public_key().to_hex(), &signer().public_key().to_hex());
    let mut t = ls.clone();
    t.insert(2, forged_line.clone());
    assert_eq!(problem(&join(&t), None), Some((2, ProblemKind::ForgedSignature)));
    // Appended at the end instead: still a forged signature.
    let forged =
        Envelope::sign(&outsider(), envs[1].event().clone(), 5, &envs[4].digest()).unwrap();
    let mut t = ls.clone();
    t.push(
        forged
            .to_json()
            .replace(&outsider().public_key().to_hex(), &signer().public_key().to_hex()),
    );
    assert_eq!(problem(&join(&t), None), Some((5, ProblemKind::ForgedSignature)));
    assert_eq!(
        problem(&join(&t), Some(&log.head().unwrap())),
        Some((5, ProblemKind::ForgedSignature))
    );

    // A signer that numbers its entries wrongly while linking them correctly: malformed.
    let mut t = ls.clone();
    t.push(Envelope::sign(&signer(), event(9), 9, &envs[4].digest()).unwrap().to_json());
    assert_eq!(problem(&join(&t), None), Some((5, ProblemKind::MalformedEntry)));
    // A first entry with seq 0 that claims a predecessor: malformed.
    let t = vec![Envelope::sign(&signer(), event(0), 0, &envs[3].digest()).unwrap().to_json()];
    assert_eq!(problem(&join(&t), None), Some((0, ProblemKind::MalformedEntry)));
    // A wrong fingerprint under a valid signature: malformed.
    let env = Envelope::sign(&signer(), event(0), 0, GENESIS).unwrap();
    let good_fp = signer().public_key().fingerprint();
    let mut v: Value = serde_json::from_str(&env.to_json()).unwrap();
    v["signer_fingerprint"] = json!("ed25519:0000000000000000");
    v.as_object_mut().unwrap().remove("sig");
    let body = jcs::canonicalize(&v).unwrap();
    let sig = signer().sign(format!("{DOMAIN}{body}").as_bytes());
    v["sig"] = json!(sig.to_base64());
    let line = jcs::canonicalize(&v).unwrap();
    assert_ne!(good_fp, "ed25519:0000000000000000");
    assert_eq!(problem(&format!("{line}\n"), None), Some((0, ProblemKind::MalformedEntry)));
    let parsed = Envelope::from_json(&line).unwrap();
    assert_eq!(parsed.verify(&trusted()).unwrap_err().code(), "invalid_argument");
}

#[test]
fn single_envelopes() {
    let env = Envelope::sign(&signer(), event(0), 0, GENESIS).unwrap();
    env.verify(&[signer().public_key()]).unwrap();
    assert_eq!(env.verify(&[outsider().public_key()]).unwrap_err().code(), "invalid_signature");
    assert_eq!(env.verify(&[]).unwrap_err().code(), "invalid_signature");
    let json = env.to_json();
    assert_eq!(jcs::canonicalize_str(&json).unwrap(), json, "to_json is canonical");
    let back = Envelope::from_json(&json).unwrap();
    assert_eq!(back, env);
    assert_eq!(back.digest(), env.digest());
    assert_eq!(env.seq(), 0);
    assert_eq!(env.prev(), GENESIS);
    assert!(env.signing_input().starts_with(DOMAIN.as_bytes()));
    let tampered = json.replace("module_0", "module_9");
    assert_eq!(
        Envelope::from_json(&tampered)
            .unwrap()
            .verify(&[signer().public_key()])
            .unwrap_err()
            .code(),
        "invalid_signature"
    );
    // Bad arguments.
    assert_eq!(
        Envelope::sign(&signer(), event(0), 0, "abc").unwrap_err().code(),
        "invalid_argument"
    );
    assert_eq!(
        Envelope::sign(&signer(), event(0), 1 << 53, GENESIS).unwrap_err().code(),
        "invalid_argument"
    );
    let mut late = event(0);
    late.timestamp = 1 << 53;
    assert_eq!(Envelope::sign(&signer(), late, 0, GENESIS).unwrap_err().code(), "invalid_argument");
    // Times are seconds: a millisecond timestamp (Date.now()) is refused, not recorded.
    let mut millis = event(0);
    millis.timestamp = 1_767_225_600_000;
    let e = Envelope::sign(&signer(), millis, 0, GENESIS).unwrap_err();
    assert!(e.code() == "invalid_argument" && e.message().contains("milliseconds"), "{e}");
    assert_eq!(Envelope::from_json("{}").unwrap_err().code(), "invalid_argument");
    // Debug shows no signature bytes nor anything secret, but does show where it is.
    assert!(format!("{env:?}").contains("seq: 0"));
}

#[test]
fn events_parse_strictly() {
    let e = event(1);
    let json = e.to_json().unwrap();
    assert_eq!(AuditEvent::from_json(&json).unwrap(), e);
    let minimal = r#"{"event_type":"tool_call","agent_id":"agent:a","agent_key_fingerprint":"","principal":"user:a",
        "action":"read_file","resource":"x","decision":"deny","policy_id":"p","timestamp":5}"#;
    let m = AuditEvent::from_json(minimal).unwrap();
    assert!(m.chain.is_empty() && m.attributes.is_empty() && m.task.is_none());
    for bad in [
        minimal.replace("\"deny\"", "\"maybe\""),
        minimal.replace("\"timestamp\":5", "\"timestamp\":5,\"extra\":1"),
        minimal.replace("\"timestamp\":5", "\"timestamp\":-5"),
        minimal.replace("\"timestamp\":5", "\"timestamp\":5,\"timestamp\":6"),
        minimal.replace(",\"timestamp\":5", ""),
        minimal.replace("\"timestamp\":5", "\"timestamp\":9007199254740992"),
    ] {
        assert_eq!(AuditEvent::from_json(&bad).unwrap_err().code(), "invalid_argument", "{bad}");
    }
}

#[test]
fn appending_to_a_parsed_log_continues_the_chain() {
    let log = build_log(3);
    let mut again = AuditLog::from_jsonl(&log.to_jsonl());
    assert_eq!(again.head().unwrap(), log.head().unwrap());
    let env = again.append(&signer(), event(3)).unwrap();
    assert_eq!(env.seq(), 3);
    assert_eq!(env.prev(), log.head().unwrap());
    assert!(
        again.verify(&trusted(), Some(&log.head().unwrap())).ok,
        "an old head still verifies a grown log"
    );
    assert_eq!(again.len(), 4);
    let mut broken = AuditLog::from_jsonl(&format!("{}garbage\n", log.to_jsonl()));
    assert_eq!(broken.append(&signer(), event(9)).unwrap_err().code(), "audit_chain_broken");
    assert_eq!(broken.head().unwrap_err().code(), "audit_chain_broken");
    assert_eq!(AuditLog::new().head().unwrap(), GENESIS);
}

#[test]
fn streaming_handles_chunks_and_limits() {
    let n = 140;
    let log = build_log(n);
    let ls = lines(&log);
    let head = log.head().unwrap();
    assert!(verify(&log.to_jsonl(), Some(&head)).ok);
    // Problems on both sides of the 128-entry batch boundary.
    for k in [127usize, 128] {
        let t = edit_line(&ls, k, |v| flip_str(&mut v["event"]["resource"]));
        assert_eq!(
            problem(&join(&t), Some(&head)),
            Some((k as u64, ProblemKind::EditedEntry)),
            "k = {k}"
        );
    }
    let t = edit_line(&ls, 128, |v| flip_str(&mut v["sig"]));
    assert_eq!(problem(&join(&t), None), Some((128, ProblemKind::ForgedSignature)));

    let few = &ls[..30];
    let few_head = Envelope::from_json(&few[29]).unwrap().digest();
    // Two bad signatures in one batch: the first one is reported.
    let t = edit_line(few, 10, |v| flip_str(&mut v["sig"]));
    let t = edit_line(&t, 20, |v| flip_str(&mut v["sig"]));
    assert_eq!(problem(&join(&t), None), Some((10, ProblemKind::ForgedSignature)));
    // CRLF line endings are fine.
    assert!(verify(&join(few).replace('\n', "\r\n"), Some(&few_head)).ok);
    // A line over the cap is a typed error; a line exactly at the cap is fine.
    let small = VerifyOptions { max_line_bytes: 100 };
    let err = verify_jsonl_reader(Cursor::new(join(few)), &trusted(), None, &small).unwrap_err();
    assert_eq!(err.code(), "limits_exceeded");
    let fits = VerifyOptions { max_line_bytes: few.iter().map(String::len).max().unwrap() };
    assert!(verify_jsonl_reader(Cursor::new(join(few)), &trusted(), None, &fits).unwrap().ok);
    let short = VerifyOptions { max_line_bytes: fits.max_line_bytes - 1 };
    assert!(verify_jsonl_reader(Cursor::new(join(few)), &trusted(), None, &short).is_err());
    // Invalid UTF-8 is a malformed entry.
    let mut bytes = join(&ls[..3]).into_bytes();
    bytes.extend_from_slice(b"\xff\xfe\n");
    let r = verify_jsonl_reader(Cursor::new(bytes), &trusted(), None, &VerifyOptions::default())
        .unwrap();
    assert_eq!(r.problem.map(|p| (p.index, p.kind)), Some((3, ProblemKind::MalformedEntry)));
}

#[test]
fn report_shape() {
    let log = build_log(4);
    let ls = lines(&log);
    let t = edit_line(&ls, 2, |v| flip_str(&mut v["event"]["resource"]));
    let r = verify(&join(&t), None);
    assert!(!r.ok);
    assert_eq!(r.entries, 2);
    assert_eq!(r.head, Envelope::from_json(&ls[1]).unwrap().digest(), "head = last good entry");
    let err = r.clone().into_result().unwrap_err();
    assert_eq!(err.code(), "audit_chain_broken");
    assert!(err.message().starts_with("entry 2: edited_entry: "), "{}", err.message());
    let v: Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(v["problem"]["kind"], "edited_entry");
    assert_eq!(v["problem"]["index"], 2);
    assert_eq!(v["ok"], false);
}

// ---------------------------------------------------------------------------------------------
// OpenTelemetry
// ---------------------------------------------------------------------------------------------

#[test]
fn otel_mapping() {
    let e = event(2);
    let a = e.otel_attributes();
    let get = |k: &str| a.get(k).cloned().unwrap_or_else(|| panic!("missing {k}"));
    assert_eq!(get("gen_ai.agent.id"), "agent:reviewer");
    assert_eq!(get("gen_ai.agent.name"), "reviewer");
    assert_eq!(get("gen_ai.operation.name"), "execute_tool");
    assert_eq!(get("gen_ai.tool.name"), "read_file");
    assert_eq!(get("enduser.id"), "user:alice");
    assert_eq!(get("marque.decision"), "deny");
    assert_eq!(get("marque.delegation.chain"), json!(["agent:orchestrator", "agent:reviewer"]));
    assert_eq!(get("marque.task"), "fix-issue-42");
    assert_eq!(get("marque.operation"), "read");
    assert_eq!(get("marque.policy.id"), "default");
    assert_eq!(get("marque.policy.version"), "3");
    assert_eq!(get("marque.approval")["by"], "user:bob");
    assert_eq!(get("mcp.session.id"), "s-1", "attributes pass through");
    assert!(!a.contains_key("event.name"), "event.name is deprecated: the name goes in EventName");
    assert_eq!(OTEL_EVENT_NAME, "marque.audit");
    assert_eq!(e.otel_severity_number(), 13);
    assert_eq!(event(0).otel_severity_number(), 9);
    assert_eq!(e.otel_time_unix_nano(), (T0 + 2) * 1_000_000_000);
    // Our names win over colliding attributes; non-tool events get no gen_ai.operation.name.
    let d = AuditEvent::new("delegation", "agent:a", "delegate", "*", AuditDecision::Allow, 1)
        .attribute("gen_ai.agent.id", "spoofed");
    let da = d.otel_attributes();
    assert_eq!(da["gen_ai.agent.id"], "agent:a");
    assert!(!da.contains_key("gen_ai.operation.name"));
    let env = Envelope::sign(&signer(), e, 7, GENESIS).unwrap();
    let ea = env.otel_attributes();
    assert_eq!(ea["marque.audit.seq"], 7);
    assert_eq!(ea["marque.audit.digest"], env.digest().as_str());
    assert_eq!(ea["marque.audit.signer"], signer().public_key().fingerprint().as_str());
}

// ---------------------------------------------------------------------------------------------
// Cross-language vectors
// ---------------------------------------------------------------------------------------------

fn tamper_cases(log: &AuditLog) -> Vec<(String, String, Option<String>)> {
    let ls = lines(log);
    let head = log.head().unwrap();
    let pick = |idx: &[usize]| join(&idx.iter().map(|&i| ls[i].clone()).collect::<Vec<_>>());
    let mut cases = vec![
        ("intact".to_string(), log.to_jsonl(), Some(head.clone())),
        ("intact_without_head".into(), log.to_jsonl(), None),
        (
            "edited_resource".into(),
            join(&edit_line(&ls, 1, |v| flip_str(&mut v["event"]["resource"]))),
            None,
        ),
        (
            "edited_decision".into(),
            join(&edit_line(&ls, 2, |v| v["event"]["decision"] = json!("allow"))),
            None,
        ),
        (
            "edited_last_with_head".into(),
            join(&edit_line(&ls, 3, |v| bump(&mut v["event"]["timestamp"]))),
            Some(head.clone()),
        ),
        ("forged_signature".into(), join(&edit_line(&ls, 1, |v| flip_str(&mut v["sig"]))), None),
        (
            "unknown_signer".into(),
            {
                let envs: Vec<Envelope> = log.envelopes().map(Result::unwrap).collect();
                let mut t = ls.clone();
                t[1] = Envelope::sign(&outsider(), envs[1].event().clone(), 1, &envs[1].prev())
                    .unwrap()
                    .to_json();
                join(&t)
            },
            None,
        ),
        ("removed_entry".into(), pick(&[0, 2, 3]), None),
        ("reordered_entries".into(), pick(&[0, 2, 1, 3]), None),
        ("duplicate_entry".into(), pick(&[0, 1, 1, 2, 3]), None),
        ("truncated_tail".into(), pick(&[0, 1, 2]), Some(head.clone())),
        (
            "malformed_entry".into(),
            {
                let mut t = ls.clone();
                t[2] = "{\"nope\":true}".into();
                join(&t)
            },
            None,
        ),
    ];
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

fn vectors() -> Value {
    let kp = signer();
    let log = build_log(4);
    let envs: Vec<Envelope> = log.envelopes().map(Result::unwrap).collect();
    let events: Vec<Value> = (0..4).map(|i| serde_json::to_value(event(i)).unwrap()).collect();
    let verify_cases: Vec<Value> = tamper_cases(&log)
        .into_iter()
        .map(|(name, jsonl, head)| {
            let r = AuditLog::from_jsonl(&jsonl).verify(&trusted(), head.as_deref());
            json!({
                "name": name,
                "jsonl": jsonl,
                "expected_head": head,
                "expected": {
                    "ok": r.ok,
                    "entries": r.entries,
                    "head": r.head,
                    "problem": r.problem.map(|p| json!({"index": p.index, "kind": p.kind.code()})),
                },
            })
        })
        .collect();
    json!({
        "description": "Audit envelopes and log verification. Generated by core/tests/audit.rs \
            (MARQUE_REGEN_VECTORS=1 cargo test -p marque --test audit); expected problems are codes.",
        "domain": DOMAIN,
        "genesis": GENESIS,
        "signer_seed_hex": &*kp.to_hex(),
        "signer_public_hex": kp.public_key().to_hex(),
        "trusted_public_hex": trusted().iter().map(PublicKey::to_hex).collect::<Vec<_>>(),
        "untrusted_seed_hex": &*outsider().to_hex(),
        "events": events,
        "envelopes": envs.iter().map(|e| json!({
            "json": e.to_json(),
            "seq": e.seq(),
            "prev": e.prev(),
            "digest": e.digest(),
            "signing_input": String::from_utf8(e.signing_input().to_vec()).unwrap(),
            "otel_attributes": e.otel_attributes(),
        })).collect::<Vec<_>>(),
        "jsonl": log.to_jsonl(),
        "head": log.head().unwrap(),
        "verify": verify_cases,
        "problem_kinds": ProblemKind::ALL.iter().map(|k| k.code()).collect::<Vec<_>>(),
    })
}

#[test]
fn cross_language_vectors_are_up_to_date() {
    let path = repo_path("tests/vectors/audit.json");
    let text = format!("{}\n", serde_json::to_string_pretty(&vectors()).unwrap());
    if std::env::var_os("MARQUE_REGEN_VECTORS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!("{} is missing: run with MARQUE_REGEN_VECTORS=1", path.display())
    });
    assert!(
        on_disk == text,
        "{} is stale: run MARQUE_REGEN_VECTORS=1 cargo test -p marque --test audit",
        path.display()
    );
    // The vectors themselves verify as they say.
    let v: Value = serde_json::from_str(&on_disk).unwrap();
    for case in v["verify"].as_array().unwrap() {
        let r = verify(case["jsonl"].as_str().unwrap(), case["expected_head"].as_str());
        assert_eq!(r.ok, case["expected"]["ok"].as_bool().unwrap(), "{}", case["name"]);
        if let Some(p) = r.problem {
            assert_eq!(p.kind.code(), case["expected"]["problem"]["kind"], "{}", case["name"]);
            assert_eq!(p.index, case["expected"]["problem"]["index"], "{}", case["name"]);
        }
    }
    let kinds: std::collections::BTreeSet<&str> = v["verify"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["expected"]["problem"]["kind"].as_str())
        .collect();
    assert_eq!(kinds.len(), ProblemKind::ALL.len(), "every problem kind has a vector");
}
