//! A 1 000 000-entry audit log verified by streaming, in constant memory.
//!
//! The log is produced lazily by a reader that signs each envelope as it is read, so neither the
//! producer nor the verifier ever holds the log. The process's peak resident memory must not
//! grow by more than a few megabytes over the run (the log itself is ~500 MB of JSON Lines).
//! This file is its own test binary so nothing else runs in the process.

use std::io::{BufRead, Read};

use marque::audit::{verify_jsonl_reader, AuditDecision, AuditEvent, Envelope, VerifyOptions, GENESIS};
use marque::KeyPair;

const ENTRIES: u64 = 1_000_000;

struct LazyLog {
    signer: KeyPair,
    next: u64,
    prev: String,
    buf: Vec<u8>,
    pos: usize,
}

impl LazyLog {
    fn refill(&mut self) {
        if self.pos < self.buf.len() || self.next >= ENTRIES {
            return;
        }
        let i = self.next;
        let event = AuditEvent::new("tool_call", "agent:c", "read_file", format!("src/{i}.rs"), AuditDecision::Allow, 1_767_225_600 + i)
            .principal("user:alice")
            .chain(["agent:o", "agent:c"]);
        let env = Envelope::sign(&self.signer, event, i, &self.prev).unwrap();
        self.prev = env.digest();
        self.buf.clear();
        self.buf.extend_from_slice(env.to_json().as_bytes());
        self.buf.push(b'\n');
        self.pos = 0;
        self.next += 1;
    }
}

impl Read for LazyLog {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for LazyLog {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.refill();
        Ok(&self.buf[self.pos..])
    }
    fn consume(&mut self, n: usize) {
        self.pos += n;
    }
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_million_entries_stream_in_constant_memory() {
    let signer = KeyPair::from_seed(&[1; 32]);
    let key = signer.public_key();
    // Warm up allocations (a short log) before taking the baseline.
    let warm = LazyLog { signer: signer.clone(), next: ENTRIES - 1000, prev: GENESIS.into(), buf: Vec::new(), pos: 0 };
    let _ = verify_jsonl_reader(warm, &[key], None, &VerifyOptions::default());
    let before = peak_rss_kib();
    let start = std::time::Instant::now();
    let log = LazyLog { signer, next: 0, prev: GENESIS.into(), buf: Vec::new(), pos: 0 };
    let report = verify_jsonl_reader(log, &[key], None, &VerifyOptions::default()).unwrap();
    assert!(report.ok, "{:?}", report.problem);
    assert_eq!(report.entries, ENTRIES);
    if let (Some(b), Some(a)) = (before, peak_rss_kib()) {
        assert!(a - b < 32 * 1024, "peak memory grew by {} KiB while streaming", a - b);
    }
    eprintln!("1 000 000 entries signed and verified in {:?}", start.elapsed());
}
