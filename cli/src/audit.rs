//! `marque audit append|verify|report`: append signed envelopes to a JSONL audit log, verify one
//! (kept in one file or in rotated files read in order), and total verified logs (calls,
//! allowed, denied by code, usage) per agent, delegation path, task, principal or resource.
//!
//! Also holds the small argument helpers the `jwt` subcommand shares.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};

use marque::audit::{verify_jsonl_reader, VerifyOptions, DEFAULT_MAX_LINE_BYTES, GENESIS};
use marque::audit_report::{report_files, AuditReport, GroupBy, Totals};
use marque::{AuditEvent, Envelope, Error, KeyPair, PublicKey};

const USAGE: &str = "usage:
  marque audit append --key FILE --log FILE --event JSON|@FILE
  marque audit verify FILE...|- --key HEX... [--head HEX]
    (several FILEs are one log kept in rotated files, oldest first: NAME.1 NAME.2 … NAME)
  marque audit report LOG... --key HEX... [--by agent|path|task|principal|resource] [--json]
    (each LOG is one log NAME, read with its rotated files NAME.1 NAME.2 …; every log is
    verified first: a tampered one exits 1 with audit_chain_broken and prints no totals)";

/// Runs `marque audit …`; `args` are the arguments after `audit`. Exit codes: 0 ok, 1 the log
/// is tampered (`verify`), 2 usage or other error (one line on stderr).
pub fn run(args: &[String]) -> i32 {
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("append") => report(append(rest)),
        Some("verify") => verify(rest),
        Some("report") => audit_report(rest),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            0
        }
        Some(other) => fail(&format!("unknown audit command {other:?}\n{USAGE}")),
        None => fail(USAGE),
    }
}

fn append(args: &[String]) -> Result<(), String> {
    let a = Args::parse(args, &["--key", "--log", "--event"], &[])?;
    a.no_positionals()?;
    let key = load_keypair(a.one("--key")?)?;
    let event = AuditEvent::from_json(&read_value(a.one("--event")?)?).map_err(show)?;
    let log = a.one("--log")?;
    // An exclusive advisory lock for read-tail-then-append, so that two concurrent
    // `marque audit append` never chain two entries onto the same predecessor.
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("cannot open {log}: {e}"))?;
    file.lock().map_err(|e| format!("cannot lock {log}: {e}"))?;
    let (seq, prev, needs_newline) = match last_line(log)? {
        None => (0, GENESIS.to_string(), false),
        Some((line, ends_with_newline)) => {
            let last = Envelope::from_json(&line).map_err(|e| {
                format!(
                    "the last entry of {log} does not parse ({}); run `marque audit verify`",
                    e.message()
                )
            })?;
            (last.seq() + 1, last.digest(), !ends_with_newline)
        }
    };
    let env = Envelope::sign(&key, event, seq, &prev).map_err(show)?;
    let line = format!("{}{}\n", if needs_newline { "\n" } else { "" }, env.to_json());
    file.write_all(line.as_bytes()).map_err(|e| format!("cannot write {log}: {e}"))?;
    println!("{{\"seq\":{},\"head\":\"{}\"}}", env.seq(), env.digest());
    Ok(())
}

fn verify(args: &[String]) -> i32 {
    let run = || -> Result<marque::VerifyReport, String> {
        let a = Args::parse(args, &["--head"], &["--key"])?;
        let files = a.positionals.as_slice();
        if files.is_empty() || (files.len() > 1 && files.iter().any(|f| f == "-")) {
            return Err(format!("expected FILE... or a single -\n{USAGE}"));
        }
        let keys =
            a.many("--key")?.iter().map(|k| parse_public_key(k)).collect::<Result<Vec<_>, _>>()?;
        let head = a.optional("--head")?;
        let options = VerifyOptions::default();
        let report = if files == ["-"] {
            verify_jsonl_reader(std::io::stdin().lock(), &keys, head, &options)
        } else {
            // The files are read as one stream: the chain runs across rotated files.
            let mut reader: Box<dyn Read> = Box::new(std::io::empty());
            for file in files {
                let f = File::open(file).map_err(|e| format!("cannot open {file}: {e}"))?;
                reader = Box::new(reader.chain(f));
            }
            verify_jsonl_reader(BufReader::new(reader), &keys, head, &options)
        };
        report.map_err(show)
    };
    match run() {
        Err(e) => fail(&e),
        Ok(r) => match &r.problem {
            None => {
                println!("ok: {} entries verified, head {}", r.entries, r.head);
                0
            }
            Some(p) => {
                println!("tampered: entry {}: {}: {}", p.index, p.kind, one_line(&p.message));
                1
            }
        },
    }
}

fn audit_report(args: &[String]) -> i32 {
    let run = || -> Result<Result<String, Error>, String> {
        let json = args.iter().any(|a| a == "--json");
        let rest: Vec<String> = args.iter().filter(|a| *a != "--json").cloned().collect();
        let a = Args::parse(&rest, &["--by"], &["--key"])?;
        if a.positionals.is_empty() {
            return Err(format!("expected LOG...\n{USAGE}"));
        }
        let keys =
            a.many("--key")?.iter().map(|k| parse_public_key(k)).collect::<Result<Vec<_>, _>>()?;
        let by = GroupBy::parse(a.optional("--by")?.unwrap_or("agent")).map_err(show)?;
        let mut logs = Vec::new();
        for name in &a.positionals {
            let path = std::path::PathBuf::from(name);
            let mut files = marque::audit_file::rotated_files(&path).map_err(show)?;
            files.push(path);
            logs.push(files);
        }
        Ok(report_files(&logs, &keys, by).and_then(|r| if json { r.to_json() } else { Ok(report_text(&r)) }))
    };
    match run() {
        Err(e) => fail(&e),
        Ok(Ok(text)) => {
            println!("{text}");
            0
        }
        // A tampered log: exit 1 with the typed code, nothing on standard output.
        Ok(Err(e)) if e.code() == "audit_chain_broken" => {
            eprintln!("tampered: {}", one_line(&show(e)));
            1
        }
        Ok(Err(e)) => fail(&show(e)),
    }
}

fn report_text(r: &AuditReport) -> String {
    let mut out = format!("by {}: {} log(s), {} entries\n", r.by.as_str(), r.logs, r.total.calls);
    for (name, t) in &r.groups {
        out.push_str(&format!("{name}: {}\n", totals_text(t)));
    }
    out.push_str(&format!("total: {}", totals_text(&r.total)));
    out
}

fn totals_text(t: &Totals) -> String {
    let codes: Vec<String> = t.denied_by_code.iter().map(|(c, n)| format!("{c} {n}")).collect();
    let denied = if codes.is_empty() { String::new() } else { format!(" ({})", codes.join(", ")) };
    let u = &t.usage;
    format!(
        "calls {}, allowed {}, denied {}{denied}, input_tokens {}, output_tokens {}, cost_usd {}.{:06}",
        t.calls, t.allowed, t.denied, u.input_tokens, u.output_tokens,
        u.cost_usd_micros / 1_000_000, u.cost_usd_micros % 1_000_000
    )
}

/// The last non-blank line of a file and whether the file ends with a newline, reading
/// backwards so that appending to a large log stays cheap.
fn last_line(path: &str) -> Result<Option<(String, bool)>, String> {
    let cant = |e: std::io::Error| format!("cannot read {path}: {e}");
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cant(e)),
    };
    let len = f.metadata().map_err(cant)?.len();
    let mut tail: Vec<u8> = Vec::new();
    let mut pos = len;
    let limit = (DEFAULT_MAX_LINE_BYTES + 64 * 1024) as u64;
    while pos > 0 {
        let n = pos.min(64 * 1024);
        pos -= n;
        let mut block = vec![0u8; n as usize];
        f.seek(SeekFrom::Start(pos)).map_err(cant)?;
        f.read_exact(&mut block).map_err(cant)?;
        block.extend_from_slice(&tail);
        tail = block;
        if let Some(end) = tail.iter().rposition(|b| !b.is_ascii_whitespace()) {
            if let Some(start) = tail.get(..end).and_then(|t| t.iter().rposition(|&b| b == b'\n')) {
                return line_of(&tail[start + 1..=end], tail.last() == Some(&b'\n'), path);
            }
        }
        if len - pos > limit {
            return Err(format!(
                "the last line of {path} is longer than {DEFAULT_MAX_LINE_BYTES} bytes"
            ));
        }
    }
    match tail.iter().rposition(|b| !b.is_ascii_whitespace()) {
        None => Ok(None),
        Some(end) => line_of(&tail[..=end], tail.last() == Some(&b'\n'), path),
    }
}

fn line_of(
    bytes: &[u8],
    ends_with_newline: bool,
    path: &str,
) -> Result<Option<(String, bool)>, String> {
    let line = String::from_utf8(bytes.to_vec())
        .map_err(|_| format!("the last line of {path} is not UTF-8"))?;
    Ok(Some((line.trim().to_string(), ends_with_newline)))
}

// ---------------------------------------------------------------------------------------------
// Helpers shared with `jwt`
// ---------------------------------------------------------------------------------------------

/// Parsed `--option value` pairs and positional arguments.
pub(crate) struct Args {
    pub(crate) positionals: Vec<String>,
    options: Vec<(String, String)>,
}

impl Args {
    /// `single` options take one value each; `multi` options take every following argument
    /// up to the next `--option` (and may repeat).
    pub(crate) fn parse(args: &[String], single: &[&str], multi: &[&str]) -> Result<Args, String> {
        let mut positionals = Vec::new();
        let mut options = Vec::new();
        let mut it = args.iter().peekable();
        while let Some(arg) = it.next() {
            if multi.contains(&arg.as_str()) {
                let mut any = false;
                while let Some(v) = it.next_if(|v| !v.starts_with("--")) {
                    options.push((arg.clone(), v.clone()));
                    any = true;
                }
                if !any {
                    return Err(format!("{arg} needs a value"));
                }
            } else if single.contains(&arg.as_str()) {
                let v = it.next().ok_or_else(|| format!("{arg} needs a value"))?;
                options.push((arg.clone(), v.clone()));
            } else if arg.starts_with("--") {
                return Err(format!("unknown option {arg}"));
            } else {
                positionals.push(arg.clone());
            }
        }
        Ok(Args { positionals, options })
    }

    pub(crate) fn many(&self, name: &str) -> Result<Vec<&str>, String> {
        let v: Vec<&str> =
            self.options.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect();
        if v.is_empty() {
            return Err(format!("{name} is required"));
        }
        Ok(v)
    }

    pub(crate) fn optional(&self, name: &str) -> Result<Option<&str>, String> {
        let mut v = self.options.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = v.next();
        if v.next().is_some() {
            return Err(format!("{name} is given twice"));
        }
        Ok(first)
    }

    pub(crate) fn one(&self, name: &str) -> Result<&str, String> {
        self.optional(name)?.ok_or_else(|| format!("{name} is required"))
    }

    pub(crate) fn no_positionals(&self) -> Result<(), String> {
        match self.positionals.first() {
            Some(p) => Err(format!("unexpected argument {p:?}")),
            None => Ok(()),
        }
    }
}

/// A literal value, `@FILE` for a file's contents, or `-` for standard input.
pub(crate) fn read_value(v: &str) -> Result<String, String> {
    if v == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(s)
    } else if let Some(path) = v.strip_prefix('@') {
        crate::args::read_file(path)
    } else {
        Ok(v.to_string())
    }
}

/// A PKCS#8 PEM private key file.
pub(crate) fn load_keypair(path: &str) -> Result<KeyPair, String> {
    let pem = crate::args::read_file(path)?;
    KeyPair::from_pem(&pem).map_err(show)
}

/// A public key as hex, PEM, JWK or did:key (or `@FILE` holding one).
pub(crate) fn parse_public_key(text: &str) -> Result<PublicKey, String> {
    PublicKey::parse(&read_value(text)?).map_err(show)
}

pub(crate) fn show(e: Error) -> String {
    format!("{}: {}", e.code(), e.message())
}

pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn fail(message: &str) -> i32 {
    eprintln!("error: {}", one_line(message));
    2
}

pub(crate) fn report(result: Result<(), String>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}
