//! The durable audit file: resume after reopen, rotation with the chain carried across files,
//! a torn last line set aside and reported, a tampered entry refusing to open, one writer per
//! log, concurrent appends making one chain, paths refused.
#![cfg(feature = "std")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use marque::audit::{AuditDecision, GENESIS};
use marque::audit_file::{verify_files, AuditFile, AuditFileOptions, FsyncPolicy};
use marque::{AuditEvent, KeyPair, ProblemKind};

struct Dir(PathBuf);
impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("marque-auditfile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn signer() -> KeyPair {
    KeyPair::from_seed(&[7; 32])
}

fn event(i: u64) -> AuditEvent {
    AuditEvent::new("tool_call", "agent:a", "read_file", format!("doc/{i}"), AuditDecision::Allow, 1_700_000_000 + i)
}

fn opts(max_bytes: u64) -> AuditFileOptions {
    AuditFileOptions { max_bytes, fsync: FsyncPolicy::Never, ..AuditFileOptions::default() }
}

fn open(path: &Path, max_bytes: u64) -> marque::Result<AuditFile> {
    AuditFile::open(path, &[signer().public_key()], opts(max_bytes))
}

fn verify_all(log_path: &Path, head: &str) -> marque::VerifyReport {
    let mut files = marque::audit_file::rotated_files(log_path).unwrap();
    files.push(log_path.to_path_buf());
    verify_files(&files, &[signer().public_key()], Some(head)).unwrap()
}

#[test]
fn reopen_resumes_the_chain() {
    let d = Dir::new("resume");
    let path = d.join("audit.jsonl");
    let k = signer();
    let log = open(&path, 0).unwrap();
    assert_eq!((log.next_seq(), log.head()), (0, GENESIS.to_string()));
    for i in 0..5 {
        log.append(&k, event(i)).unwrap();
    }
    let head = log.head();
    drop(log);
    let log = open(&path, 0).unwrap();
    assert_eq!(log.opened().entries, 5);
    assert_eq!((log.next_seq(), log.head()), (5, head));
    let env = log.append(&k, event(5)).unwrap();
    assert_eq!(env.seq(), 5);
    let report = verify_all(&path, &log.head());
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries, 6);
}

#[test]
fn rotation_carries_the_chain_across_files() {
    let d = Dir::new("rotate");
    let path = d.join("audit.jsonl");
    let k = signer();
    // About 600 bytes per envelope: rotate every 2 entries.
    let log = open(&path, 1000).unwrap();
    for i in 0..7 {
        log.append(&k, event(i)).unwrap();
    }
    let files = log.files().unwrap();
    assert_eq!(files.len(), 4, "{files:?}");
    assert!(files[0].ends_with("audit.jsonl.1") && files[2].ends_with("audit.jsonl.3"));
    let report = verify_files(&files, &[k.public_key()], Some(&log.head())).unwrap();
    assert!(report.ok && report.entries == 7, "{report:?}");
    // A file alone (not the first) does not verify as a log: the chain spans the files.
    let alone = verify_files(&files[1..], &[k.public_key()], None).unwrap();
    assert!(!alone.ok);
    // Out of order files are refused.
    let swapped = [files[1].clone(), files[0].clone(), files[2].clone(), files[3].clone()];
    assert!(!verify_files(&swapped, &[k.public_key()], None).unwrap().ok);
    let head = log.head();
    drop(log);

    // Reopen resumes across the rotation, and numbering continues.
    let log = open(&path, 1000).unwrap();
    assert_eq!(log.opened().rotated_files, 3);
    assert_eq!((log.next_seq(), log.head()), (7, head));
    for i in 7..10 {
        log.append(&k, event(i)).unwrap();
    }
    assert!(log.files().unwrap().iter().any(|f| f.ends_with("audit.jsonl.4")));
    assert!(verify_all(&path, &log.head()).ok);
}

#[test]
fn reopen_right_after_rotation_continues_from_the_rotated_file() {
    let d = Dir::new("afterrot");
    let path = d.join("audit.jsonl");
    let k = signer();
    let log = open(&path, 0).unwrap();
    for i in 0..3 {
        log.append(&k, event(i)).unwrap();
    }
    let head = log.head();
    drop(log);
    // A crash between the rename and the first write leaves no current file.
    std::fs::rename(&path, d.join("audit.jsonl.1")).unwrap();
    let log = open(&path, 0).unwrap();
    assert_eq!((log.next_seq(), log.head()), (3, head));
    log.append(&k, event(3)).unwrap();
    assert!(verify_all(&path, &log.head()).ok);
}

#[test]
fn a_torn_last_line_is_set_aside_and_reported() {
    for (name, tail) in [
        ("cut", None),                              // a write cut mid-line: no newline
        ("garbage", Some(b"\0\0\0\0\n".to_vec())), // zeros after a crash, with a newline
        ("blank", Some(b"\n".to_vec())),            // an empty line
    ] {
        let d = Dir::new(name);
        let path = d.join("audit.jsonl");
        let k = signer();
        let log = open(&path, 0).unwrap();
        for i in 0..3 {
            log.append(&k, event(i)).unwrap();
        }
        let head = log.head();
        drop(log);
        let good = std::fs::read(&path).unwrap();
        let torn_piece = match &tail {
            None => {
                // Cut the last entry in half.
                let text = String::from_utf8(good.clone()).unwrap();
                let start = text.trim_end().rfind('\n').unwrap() + 1;
                let piece = &good[start..start + 100];
                std::fs::write(&path, &good[..start + 100]).unwrap();
                piece.to_vec()
            }
            Some(t) => {
                let mut all = good.clone();
                all.extend_from_slice(t);
                std::fs::write(&path, &all).unwrap();
                t.clone()
            }
        };
        let log = open(&path, 0).unwrap();
        let torn = log.opened().torn.clone().expect("the torn line is reported");
        assert_eq!(torn.bytes, torn_piece.len() as u64);
        assert_eq!(torn.side_file, d.join("audit.jsonl.torn"));
        let side = std::fs::read(&torn.side_file).unwrap();
        assert!(side.starts_with(&torn_piece), "the torn bytes are kept in the side file");
        let expected_seq = if tail.is_none() { 2 } else { 3 };
        assert_eq!(log.next_seq(), expected_seq);
        if tail.is_some() {
            assert_eq!(log.head(), head);
        }
        // Appending chains onto the last good entry, not over the torn line.
        log.append(&k, event(9)).unwrap();
        let report = verify_all(&path, &log.head());
        assert!(report.ok, "{name}: {report:?}");
        assert_eq!(report.entries, expected_seq + 1);
    }
}

#[test]
fn a_tampered_entry_refuses_to_open() {
    let d = Dir::new("tamper");
    let path = d.join("audit.jsonl");
    let k = signer();
    let log = open(&path, 0).unwrap();
    for i in 0..4 {
        log.append(&k, event(i)).unwrap();
    }
    drop(log);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("doc/1", "doc/X", 1)).unwrap();
    let e = open(&path, 0).unwrap_err();
    assert_eq!(e.code(), "audit_chain_broken", "{e}");
    assert!(e.message().contains("entry 1"), "{e}");
    // Nothing was appended or moved.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text.replacen("doc/1", "doc/X", 1));
    assert!(!d.join("audit.jsonl.torn").exists());
}

#[test]
fn a_forged_last_entry_of_a_rotated_file_refuses_to_open() {
    let d = Dir::new("forgedrot");
    let path = d.join("audit.jsonl");
    let k = signer();
    let log = open(&path, 1000).unwrap();
    for i in 0..3 {
        log.append(&k, event(i)).unwrap();
    }
    drop(log);
    let rotated = d.join("audit.jsonl.1");
    let text = std::fs::read_to_string(&rotated).unwrap();
    std::fs::write(&rotated, text.replace("doc/1", "doc/X")).unwrap();
    assert_eq!(open(&path, 1000).unwrap_err().code(), "audit_chain_broken");
}

#[test]
fn a_current_file_that_does_not_link_to_the_rotated_one_refuses_to_open() {
    let d = Dir::new("unlinked");
    let path = d.join("audit.jsonl");
    let k = signer();
    let log = open(&path, 0).unwrap();
    log.append(&k, event(0)).unwrap();
    drop(log);
    // A rotated file from another chain is slipped in before the current file.
    let other = d.join("other.jsonl");
    let log = open(&other, 0).unwrap();
    log.append(&k, event(5)).unwrap();
    drop(log);
    std::fs::rename(&other, d.join("audit.jsonl.1")).unwrap();
    let e = open(&path, 0).unwrap_err();
    assert_eq!(e.code(), "audit_chain_broken");
    let report = verify_all(&path, GENESIS);
    assert_eq!(report.problem.map(|p| p.kind), Some(ProblemKind::DuplicateEntry));
}

#[test]
fn one_writer_per_log() {
    let d = Dir::new("lock");
    let path = d.join("audit.jsonl");
    let log = open(&path, 0).unwrap();
    let e = open(&path, 0).unwrap_err();
    assert_eq!(e.code(), "invalid_argument");
    assert!(e.message().contains("already open"), "{e}");
    drop(log);
    open(&path, 0).unwrap();
}

#[test]
fn concurrent_appends_make_one_chain() {
    let d = Dir::new("threads");
    let path = d.join("audit.jsonl");
    let log = Arc::new(open(&path, 20_000).unwrap());
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let k = signer();
                for i in 0..200 {
                    log.append(&k, event(t * 1000 + i)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(log.next_seq(), 400);
    assert!(log.files().unwrap().len() > 2, "rotation happened under contention");
    let report = verify_all(&path, &log.head());
    assert!(report.ok && report.entries == 400, "{report:?}");
}

#[test]
fn untrusted_signer_and_bad_paths_are_refused() {
    let d = Dir::new("paths");
    let path = d.join("audit.jsonl");
    let log = open(&path, 0).unwrap();
    let e = log.append(&KeyPair::from_seed(&[9; 32]), event(0)).unwrap_err();
    assert_eq!(e.code(), "invalid_argument");
    drop(log);
    // A directory.
    assert_eq!(open(&d.0, 0).unwrap_err().code(), "invalid_argument");
    // A symbolic link to the log.
    #[cfg(unix)]
    {
        let link = d.join("link.jsonl");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let e = open(&link, 0).unwrap_err();
        assert!(e.message().contains("symbolic link"), "{e}");
    }
    // No trusted key.
    assert!(AuditFile::open(&path, &[], AuditFileOptions::default()).is_err());
}

#[test]
fn fsync_policies_parse() {
    assert_eq!(AuditFileOptions::parse_fsync("always").unwrap(), FsyncPolicy::Always);
    assert_eq!(AuditFileOptions::parse_fsync("1").unwrap(), FsyncPolicy::Always);
    assert_eq!(AuditFileOptions::parse_fsync("64").unwrap(), FsyncPolicy::Every(64));
    for bad in ["0", "-1", "Always", "", "1.5"] {
        assert_eq!(AuditFileOptions::parse_fsync(bad).unwrap_err().code(), "invalid_argument", "{bad}");
    }
}
