//! A durable audit log: signed envelopes appended to a JSONL file, only the chain head in memory.
//!
//! [`AuditFile`] is the writer a long-running server uses instead of the in-memory
//! [`AuditLog`](crate::AuditLog): each [`append`](AuditFile::append) signs the event as the next
//! entry of the chain and writes it as one line (one `write` of the whole line and its `\n`),
//! then `fsync`s according to [`FsyncPolicy`]. Memory holds the chain head (next `seq`, digest
//! of the last entry), whatever the log's length. When the file passes
//! [`AuditFileOptions::max_bytes`] it is renamed `NAME.1` (then `NAME.2`, …: numbers only grow,
//! a rotated file is never renamed again) and a fresh `NAME` continues the chain: its first
//! entry links to the last entry of the previous file, so the files read in order (`NAME.1`,
//! `NAME.2`, …, `NAME`) are one chain, verified by `marque audit verify NAME.1 NAME.2 … NAME`
//! or [`verify_files`]. [`open`](AuditFile::open) resumes: it checks the last entry of the
//! newest rotated file, verifies the whole current file against the trusted keys (a tampered
//! entry refuses to open: `audit_chain_broken`), and continues after the last good entry. A
//! torn last line (a write cut by a crash: no trailing `\n`, or not an envelope) is never chained
//! over nor silently dropped: it is moved to `NAME.torn` and reported in
//! [`OpenReport::torn`]. One writer per log: a second [`AuditFile`] on the same path in this
//! process is refused (another process is not detected: see the docs). Policy and guarantees:
//! `docs/AUDIT.md` ("Durable audit file").
//!
//! ```
//! use marque::{AuditEvent, KeyPair};
//! use marque::audit::AuditDecision;
//! use marque::audit_file::{AuditFile, AuditFileOptions};
//! let dir = std::env::temp_dir().join(format!("marque-doc-audit-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("audit.jsonl");
//! # let _ = std::fs::remove_file(&path);
//! let signer = KeyPair::from_seed(&[1; 32]);
//! let log = AuditFile::open(&path, &[signer.public_key()], AuditFileOptions::default())?;
//! let event = AuditEvent::new("tool_call", "agent:reviewer", "read_file", "src/lib.rs",
//!     AuditDecision::Allow, 1_700_000_000);
//! let env = log.append(&signer, event)?;
//! assert_eq!(env.seq(), 0);
//! drop(log);
//!
//! // Reopening resumes after the last entry.
//! let log = AuditFile::open(&path, &[signer.public_key()], AuditFileOptions::default())?;
//! assert_eq!(log.next_seq(), 1);
//! assert_eq!(log.head(), env.digest());
//! # drop(log); std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), marque::Error>(())
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::audit::{
    verify_jsonl_reader_after, AuditEvent, Envelope, VerifyOptions, VerifyReport,
    DEFAULT_MAX_LINE_BYTES,
};
use crate::error::{Error, ErrorKind, Result};
use crate::keys::{hex_encode, PublicKey};
use crate::signer::Signer;

/// Default size at which the current file is rotated: 64 MiB (about 60 000 envelopes).
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;

/// When an append is forced to stable storage (`fsync`). Every policy writes each envelope
/// with one `write` call before [`AuditFile::append`] returns, so an entry survives the
/// process crashing as soon as `append` returned; the policy decides what survives the machine
/// losing power.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// `fsync` (data) after every envelope: an acknowledged entry survives a power loss.
    /// Costs one disk flush per call.
    Always,
    /// `fsync` after every `n` envelopes (and on rotation and drop): at most the last `n - 1`
    /// acknowledged entries can be lost on power loss (a torn last line is set aside on reopen).
    Every(u32),
    /// Never `fsync` except on rotation and drop: the operating system writes back when it
    /// chooses (seconds); entries written in that window can be lost on power loss.
    Never,
}

/// Options of [`AuditFile::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditFileOptions {
    /// Rotate when the current file reaches this many bytes (`0`: never rotate).
    pub max_bytes: u64,
    /// When to `fsync`.
    pub fsync: FsyncPolicy,
    /// Longest accepted line when reading the existing log on open.
    pub max_line_bytes: usize,
}

impl Default for AuditFileOptions {
    fn default() -> Self {
        AuditFileOptions {
            max_bytes: DEFAULT_MAX_BYTES,
            fsync: FsyncPolicy::Always,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }
}

impl AuditFileOptions {
    /// Parses an `fsync` option: `"always"`, `"never"` or a count `n` (every `n` envelopes;
    /// `1` is `always`). Anything else is `invalid_argument`.
    ///
    /// ```
    /// use marque::audit_file::{AuditFileOptions, FsyncPolicy};
    /// assert_eq!(AuditFileOptions::parse_fsync("never")?, FsyncPolicy::Never);
    /// assert_eq!(AuditFileOptions::parse_fsync("100")?, FsyncPolicy::Every(100));
    /// assert!(AuditFileOptions::parse_fsync("sometimes").is_err());
    /// # Ok::<(), marque::Error>(())
    /// ```
    pub fn parse_fsync(text: &str) -> Result<FsyncPolicy> {
        match text {
            "always" | "1" => Ok(FsyncPolicy::Always),
            "never" => Ok(FsyncPolicy::Never),
            n => match n.parse::<u32>() {
                Ok(n) if n > 1 => Ok(FsyncPolicy::Every(n)),
                _ => Err(Error::invalid_argument(format!(
                    "fsync must be \"always\", \"never\" or a count of envelopes >= 1, got {:?}",
                    crate::error::sanitize(n)
                ))),
            },
        }
    }
}

/// A torn last line found on open and set aside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// Byte offset in the current file where the torn line started (the file now ends there).
    pub offset: u64,
    /// Length of the torn piece in bytes.
    pub bytes: u64,
    /// The side file the piece was appended to (`NAME.torn`).
    pub side_file: PathBuf,
    /// Why the line is torn.
    pub reason: String,
}

/// What [`AuditFile::open`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenReport {
    /// Entries verified in the current file.
    pub entries: u64,
    /// Rotated files found (`NAME.1` …).
    pub rotated_files: u64,
    /// The torn last line set aside, if there was one.
    pub torn: Option<TornTail>,
}

struct State {
    file: File,
    bytes: u64,
    next_seq: u64,
    head: [u8; 32],
    unsynced: u32,
    next_rotation: u64,
    /// Set when a write failed and the file could not be restored: no append after it.
    broken: Option<String>,
}

/// A durable, rotating, resumable audit log file (see the [module docs](self)).
///
/// Safe to share between threads (`append` takes `&self`; appends are serialized).
pub struct AuditFile {
    path: PathBuf,
    trusted: Vec<PublicKey>,
    options: AuditFileOptions,
    opened: OpenReport,
    state: Mutex<State>,
    _lock: WriterLock,
}

impl core::fmt::Debug for AuditFile {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AuditFile")
            .field("path", &self.path)
            .field("next_seq", &self.next_seq())
            .field("head", &self.head())
            .finish()
    }
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::invalid_argument(format!("cannot {what} the audit log {}: {e}", path.display()))
}

fn broken(message: String) -> Error {
    Error::new(ErrorKind::AuditChainBroken, message)
}

/// Refuses a path that is a directory or a symbolic link (checked before opening; see
/// `docs/AUDIT.md` for what this does not cover).
fn check_path(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(Error::invalid_argument(format!(
            "the audit log {} is a symbolic link: refused",
            path.display()
        ))),
        Ok(m) if !m.is_file() => Err(Error::invalid_argument(format!(
            "the audit log {} is not a regular file",
            path.display()
        ))),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io("inspect", path, e)),
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// The rotated files of the log at `path` (`NAME.1`, `NAME.2`, …), oldest first.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("marque-doc-rot-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// for n in ["audit.jsonl.2", "audit.jsonl.10", "audit.jsonl.torn", "audit.jsonl"] {
///     std::fs::write(dir.join(n), b"").unwrap();
/// }
/// let files = marque::audit_file::rotated_files(&dir.join("audit.jsonl"))?;
/// let names: Vec<_> = files.iter().map(|p| p.file_name().unwrap().to_str().unwrap()).collect();
/// assert_eq!(names, ["audit.jsonl.2", "audit.jsonl.10"]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), marque::Error>(())
/// ```
pub fn rotated_files(path: &Path) -> Result<Vec<PathBuf>> {
    Ok(rotated(path)?.into_iter().map(|(_, p)| p).collect())
}

fn rotated(path: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::invalid_argument("the audit log path must end in a UTF-8 file name"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!("{name}.");
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(io("list the directory of", path, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| io("list the directory of", path, e))?;
        let file_name = entry.file_name();
        let Some(n) = file_name.to_str().and_then(|f| f.strip_prefix(&prefix)) else { continue };
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) || n.starts_with('0') {
            continue;
        }
        if let Ok(k) = n.parse::<u64>() {
            found.push((k, path.with_file_name(file_name)));
        }
    }
    found.sort();
    Ok(found)
}

/// Where the last line of a file starts, its bytes when it is at most `cap` long, and whether
/// the file ends with `\n`. Reads backwards from the end; `None` for an empty file.
/// Where a file's last line starts, its bytes (when at most `cap` long), and whether it ends
/// with `\n`.
type LastLine = (u64, Option<Vec<u8>>, bool);

fn last_line(file: &mut File, path: &Path, cap: usize) -> Result<Option<LastLine>> {
    let len = file.metadata().map_err(|e| io("read", path, e))?.len();
    if len == 0 {
        return Ok(None);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1)).map_err(|e| io("read", path, e))?;
    file.read_exact(&mut last).map_err(|e| io("read", path, e))?;
    let newline = last[0] == b'\n';
    let end = if newline { len - 1 } else { len };
    // Find the '\n' before `end`, scanning back block by block.
    let mut pos = end;
    let mut start = 0;
    let mut block = vec![0u8; 64 * 1024];
    'scan: while pos > 0 {
        let n = pos.min(block.len() as u64);
        pos -= n;
        let buf = block.get_mut(..n as usize).unwrap_or_default();
        file.seek(SeekFrom::Start(pos)).map_err(|e| io("read", path, e))?;
        file.read_exact(buf).map_err(|e| io("read", path, e))?;
        if let Some(i) = buf.iter().rposition(|&b| b == b'\n') {
            start = pos + i as u64 + 1;
            break 'scan;
        }
    }
    let bytes = if end - start <= cap as u64 {
        let mut v = vec![0u8; (end - start) as usize];
        file.seek(SeekFrom::Start(start)).map_err(|e| io("read", path, e))?;
        file.read_exact(&mut v).map_err(|e| io("read", path, e))?;
        Some(v)
    } else {
        None
    };
    Ok(Some((start, bytes, newline)))
}

/// The chain head at the end of a rotated file: its last entry, which must be a well-formed
/// envelope signed by a trusted key.
fn rotated_head(path: &Path, trusted: &[PublicKey], cap: usize) -> Result<Option<(u64, [u8; 32])>> {
    let mut f = File::open(path).map_err(|e| io("open", path, e))?;
    let Some((_, bytes, newline)) = last_line(&mut f, path, cap)? else { return Ok(None) };
    let env = bytes
        .filter(|_| newline)
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|l| Envelope::from_json(l.trim()).ok())
        .ok_or_else(|| {
            broken(format!("the last entry of the rotated file {} is not an envelope", path.display()))
        })?;
    env.verify(trusted).map_err(|e| {
        broken(format!("the last entry of the rotated file {}: {}", path.display(), e.message()))
    })?;
    Ok(Some((env.seq().saturating_add(1), env.digest_bytes())))
}

impl AuditFile {
    /// Opens (or creates) the log at `path`, written by `trusted` keys (the signer of
    /// [`append`](Self::append) must be one of them), resuming after the last good entry.
    ///
    /// Refused: a directory or symbolic link (`invalid_argument`); a log another
    /// [`AuditFile`] of this process holds (`invalid_argument`); a current file whose chain does not verify, or a
    /// newest rotated file whose last entry is not a trusted envelope (`audit_chain_broken`).
    /// A torn last line is moved to `NAME.torn` and reported in [`opened`](Self::opened).
    pub fn open(path: impl AsRef<Path>, trusted: &[PublicKey], options: AuditFileOptions) -> Result<AuditFile> {
        let path = path.as_ref().to_path_buf();
        if trusted.is_empty() {
            return Err(Error::invalid_argument("an audit file needs at least one trusted key"));
        }
        if path.file_name().is_none() {
            return Err(Error::invalid_argument(format!(
                "the audit log path {} does not name a file",
                path.display()
            )));
        }
        check_path(&path)?;
        let lock = WriterLock::take(&path)?;

        let rotated = rotated(&path)?;
        let next_rotation = rotated.last().map_or(1, |(k, _)| k.saturating_add(1));
        let mut anchor = None;
        // The newest rotated file that holds an entry gives the head the current file continues.
        for (_, p) in rotated.iter().rev() {
            if let Some(a) = rotated_head(p, trusted, options.max_line_bytes)? {
                anchor = Some(a);
                break;
            }
        }

        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| io("open", &path, e))?;
        let torn = set_aside_torn_tail(&mut file, &path, options.max_line_bytes)?;
        let len = file.metadata().map_err(|e| io("read", &path, e))?.len();
        file.seek(SeekFrom::Start(0)).map_err(|e| io("read", &path, e))?;
        let report: VerifyReport = verify_jsonl_reader_after(
            BufReader::new((&file).take(len)),
            trusted,
            None,
            anchor,
            &VerifyOptions { max_line_bytes: options.max_line_bytes },
        )?;
        let report = report.into_result().map_err(|e| {
            broken(format!("refusing to append to {}: {}", path.display(), e.message()))
        })?;
        let (next_seq, head) = match last_line(&mut file, &path, options.max_line_bytes)? {
            Some((_, Some(bytes), true)) => {
                let line = String::from_utf8(bytes).map_err(|_| broken("the last entry is not UTF-8".into()))?;
                let env = Envelope::from_json(line.trim()).map_err(|e| broken(e.message().to_string()))?;
                (env.seq().saturating_add(1), env.digest_bytes())
            }
            Some(_) => return Err(broken(format!("the last line of {} is not an entry", path.display()))),
            None => anchor.unwrap_or((0, [0; 32])),
        };
        if hex_encode(&head) != report.head {
            return Err(broken(format!("the last entry of {} is not the verified head", path.display())));
        }
        file.seek(SeekFrom::End(0)).map_err(|e| io("open", &path, e))?;
        Ok(AuditFile {
            opened: OpenReport { entries: report.entries, rotated_files: rotated.len() as u64, torn },
            path,
            trusted: trusted.to_vec(),
            state: Mutex::new(State {
                file,
                bytes: len,
                next_seq,
                head,
                unsynced: 0,
                next_rotation,
                broken: None,
            }),
            options,
            _lock: lock,
        })
    }

    /// Signs `event` as the next entry, writes it as one line and `fsync`s per the policy;
    /// rotates first when the current file has reached `max_bytes`. The signer must be one of
    /// the trusted keys given to [`open`](Self::open) (`invalid_argument` otherwise).
    ///
    /// When a write fails the file is cut back to its last complete entry; if even that fails,
    /// every later append is refused (`audit_chain_broken`) rather than chaining over a torn line.
    pub fn append<S: Signer + ?Sized>(&self, signer: &S, event: AuditEvent) -> Result<Envelope> {
        let key = signer.public_key();
        if !self.trusted.contains(&key) {
            return Err(Error::invalid_argument(format!(
                "the signer {} is not a trusted key of this audit log",
                key.fingerprint()
            )));
        }
        let mut state = self.state.lock().map_err(|_| broken("the audit log lock is poisoned".into()))?;
        if let Some(why) = &state.broken {
            return Err(broken(format!("the audit log {} is unusable: {why}", self.path.display())));
        }
        if self.options.max_bytes > 0 && state.bytes >= self.options.max_bytes {
            self.rotate(&mut state)?;
        }
        let env = Envelope::sign(signer, event, state.next_seq, &hex_encode(&state.head))?;
        let mut line = env.to_json().into_bytes();
        line.push(b'\n');
        if let Err(e) = state.file.write_all(&line) {
            let at = state.bytes;
            if state.file.set_len(at).is_err() || state.file.seek(SeekFrom::Start(at)).is_err() {
                state.broken = Some(format!("a write failed ({e}) and could not be undone"));
            }
            return Err(io("write", &self.path, e));
        }
        state.bytes += line.len() as u64;
        state.next_seq = env.seq().saturating_add(1);
        state.head = env.digest_bytes();
        state.unsynced = state.unsynced.saturating_add(1);
        let due = match self.options.fsync {
            FsyncPolicy::Always => true,
            FsyncPolicy::Every(n) => state.unsynced >= n,
            FsyncPolicy::Never => false,
        };
        if due {
            state.file.sync_data().map_err(|e| io("sync", &self.path, e))?;
            state.unsynced = 0;
        }
        Ok(env)
    }

    /// Renames the current file `NAME.k` and starts a fresh `NAME` (the chain head carries over).
    fn rotate(&self, state: &mut State) -> Result<()> {
        state.file.sync_all().map_err(|e| io("sync", &self.path, e))?;
        let target = sibling(&self.path, &format!(".{}", state.next_rotation));
        if std::fs::symlink_metadata(&target).is_ok() {
            return Err(Error::invalid_argument(format!(
                "cannot rotate the audit log: {} already exists",
                target.display()
            )));
        }
        std::fs::rename(&self.path, &target).map_err(|e| io("rotate", &self.path, e))?;
        let file = OpenOptions::new()
            .create_new(true)
            .read(true)
            .write(true)
            .open(&self.path)
            .map_err(|e| {
                // The chain head is kept; the next append retries opening a fresh file.
                io("rotate", &self.path, e)
            });
        sync_dir(&self.path);
        match file {
            Ok(f) => {
                state.file = f;
                state.bytes = 0;
                state.unsynced = 0;
                state.next_rotation = state.next_rotation.saturating_add(1);
                Ok(())
            }
            Err(e) => {
                state.broken = Some(format!("rotation could not create a fresh file: {}", e.message()));
                Err(e)
            }
        }
    }

    /// Forces written entries to stable storage now.
    pub fn sync(&self) -> Result<()> {
        let mut state = self.state.lock().map_err(|_| broken("the audit log lock is poisoned".into()))?;
        state.file.sync_data().map_err(|e| io("sync", &self.path, e))?;
        state.unsynced = 0;
        Ok(())
    }

    /// The `seq` the next entry gets.
    pub fn next_seq(&self) -> u64 {
        self.state.lock().map(|s| s.next_seq).unwrap_or(0)
    }

    /// Digest (hex) of the last entry ([`GENESIS`](crate::audit::GENESIS) for an empty log):
    /// keep it to detect a truncated tail later (`expected_head`).
    pub fn head(&self) -> String {
        self.state.lock().map(|s| hex_encode(&s.head)).unwrap_or_default()
    }

    /// The path of the current file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every file of the log in chain order: rotated files oldest first, then the current one.
    pub fn files(&self) -> Result<Vec<PathBuf>> {
        let mut files = rotated_files(&self.path)?;
        files.push(self.path.clone());
        Ok(files)
    }

    /// What [`open`](Self::open) found (entries verified, torn line set aside).
    pub fn opened(&self) -> &OpenReport {
        &self.opened
    }
}

impl Drop for AuditFile {
    fn drop(&mut self) {
        if let Ok(state) = self.state.get_mut() {
            let _ = state.file.sync_data();
        }
    }
}

/// The logs open for writing in this process, by canonical path.
static OPEN_LOGS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Marks a log as having a writer in this process until dropped. (Across processes this needs
/// `File::try_lock`, stable since Rust 1.89, above this crate's MSRV: see `docs/AUDIT.md`.)
struct WriterLock(PathBuf);

impl WriterLock {
    fn take(path: &Path) -> Result<WriterLock> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let dir = std::fs::canonicalize(dir).map_err(|e| io("open the directory of", path, e))?;
        let key = dir.join(path.file_name().unwrap_or_default());
        let mut open = OPEN_LOGS.lock().map_err(|_| broken("the audit log registry is poisoned".into()))?;
        if open.contains(&key) {
            return Err(Error::invalid_argument(format!(
                "the audit log {} is already open by another writer",
                path.display()
            )));
        }
        open.push(key.clone());
        Ok(WriterLock(key))
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        if let Ok(mut open) = OPEN_LOGS.lock() {
            open.retain(|p| p != &self.0);
        }
    }
}

fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Moves a torn last line (no trailing `\n`, blank, or not an envelope) to `NAME.torn` and cuts
/// it off.
fn set_aside_torn_tail(file: &mut File, path: &Path, cap: usize) -> Result<Option<TornTail>> {
    let Some((start, bytes, newline)) = last_line(file, path, cap)? else { return Ok(None) };
    let reason = if !newline {
        "the last line has no trailing newline (a write was cut)".to_string()
    } else {
        match bytes.as_deref().map(core::str::from_utf8) {
            None => format!("the last line is longer than {cap} bytes"),
            Some(Err(_)) => "the last line is not UTF-8".to_string(),
            Some(Ok(l)) if l.trim().is_empty() => "the last line is blank".to_string(),
            Some(Ok(l)) => match Envelope::from_json(l.trim()) {
                Ok(_) => return Ok(None),
                Err(e) => format!("the last line is not an envelope: {}", e.message()),
            },
        }
    };
    let len = file.metadata().map_err(|e| io("read", path, e))?.len();
    let side = sibling(path, ".torn");
    check_path(&side)?;
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&side)
        .map_err(|e| io("set aside the torn line of", path, e))?;
    file.seek(SeekFrom::Start(start)).map_err(|e| io("read", path, e))?;
    let copied = std::io::copy(&mut (&*file).take(len - start), &mut out)
        .map_err(|e| io("set aside the torn line of", path, e))?;
    let mut done = || -> std::io::Result<()> {
        if !newline {
            out.write_all(b"\n")?;
        }
        out.sync_all()?;
        file.set_len(start)?;
        file.sync_all()
    };
    done().map_err(|e| io("set aside the torn line of", path, e))?;
    if copied != len - start {
        return Err(broken(format!("could not copy the torn line of {}", path.display())));
    }
    Ok(Some(TornTail { offset: start, bytes: copied, side_file: side, reason }))
}

/// Verifies a log kept in several files, read in the order given (e.g. [`AuditFile::files`]):
/// one chain across all of them, as if they were one file. Constant memory.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("marque-doc-vf-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// use marque::audit::AuditDecision;
/// use marque::audit_file::{verify_files, AuditFile, AuditFileOptions};
/// use marque::{AuditEvent, KeyPair};
/// let signer = KeyPair::from_seed(&[2; 32]);
/// let options = AuditFileOptions { max_bytes: 1, ..AuditFileOptions::default() };
/// let log = AuditFile::open(dir.join("a.jsonl"), &[signer.public_key()], options)?;
/// for t in 0..3 {
///     log.append(&signer, AuditEvent::new("tool_call", "agent:a", "read", "r",
///         AuditDecision::Allow, 1_700_000_000 + t))?;
/// }
/// let files = log.files()?;
/// assert_eq!(files.len(), 3); // a.jsonl.1, a.jsonl.2, a.jsonl
/// let report = verify_files(&files, &[signer.public_key()], Some(&log.head()))?;
/// assert!(report.ok && report.entries == 3);
/// # drop(log); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), marque::Error>(())
/// ```
pub fn verify_files<P: AsRef<Path>>(
    files: &[P],
    trusted: &[PublicKey],
    expected_head: Option<&str>,
) -> Result<VerifyReport> {
    let mut reader: Box<dyn Read> = Box::new(std::io::empty());
    for p in files {
        let p = p.as_ref();
        let f = File::open(p).map_err(|e| io("open", p, e))?;
        reader = Box::new(reader.chain(f));
    }
    crate::audit::verify_jsonl_reader(BufReader::new(reader), trusted, expected_head, &VerifyOptions::default())
}
