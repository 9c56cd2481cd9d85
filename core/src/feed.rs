//! A revocation feed: what a poller does with each answer of the URL where an operator publishes
//! its signed revocation list.
//!
//! The bindings' pollers (Python `RevocationFeed`, Node `RevocationFeed`) only fetch: they send
//! `If-None-Match` with [`FeedState::etag`], hand the answer (status, `ETag`, body) or the
//! transport failure to [`FeedState::apply`] / [`FeedState::failed`], and sleep for
//! [`FeedOutcome::next_poll_in`]. Every decision is here: a `200` body is a signed list loaded
//! into the verifier with its usual checks (operator key, issue time, rollback refused), a `304`
//! keeps the list in force, anything else — another status, a body that is not a valid list, an
//! older list, a refused connection — is a failure that keeps the list in force and backs off
//! (the interval doubled per consecutive failure, up to [`FeedOptions::max_backoff`]). The feed
//! never loosens anything: when the publisher stays unreachable, the verifier's staleness rule
//! ([`Verifier::set_max_revocation_staleness`]) fails every request closed once the list in force
//! is too old, and a good answer recovers without a restart. [`FeedState::freshness`] says how
//! old the list in force is, for health checks.
//!
//! Across restarts ([`FeedState::use_state_file`]): each newly loaded list (its signed JSON:
//! nothing else needs trusting) is written to a file atomically (write, `fsync`, rename:
//! [`persist`]) and loaded into the fresh verifier of the next run before its first poll
//! ([`restore`]), so a publisher — or an attacker in its place — serving an older list after a
//! restart is refused as a rollback.
//!
//! ```
//! use marque::feed::{FeedAnswer, FeedOptions, FeedState};
//! use marque::{KeyPair, RevocationList, RevocationSet, Verifier};
//! let operator = KeyPair::from_seed(&[5; 32]);
//! let mut verifier = Verifier::new([KeyPair::from_seed(&[1; 32]).public_key()]);
//! verifier.add_operator_key(operator.public_key());
//! let now = 1_767_225_600;
//! let list = RevocationList::sign(&RevocationSet::new(), 7, Some(now), &operator)?.to_json();
//! let mut feed = FeedState::new(FeedOptions::default())?;
//! let out = feed.apply(&verifier, FeedAnswer { status: 200, etag: Some("\"v7\""), body: list.as_bytes() }, now);
//! assert_eq!((out.loaded, out.next_poll_in, feed.etag()), (Some(7), 30, Some("\"v7\"")));
//! // The publisher down: the list stays in force, the poller backs off.
//! let out = feed.failed("connection refused");
//! assert_eq!((out.error.as_deref(), out.next_poll_in), (Some("connection refused"), 60));
//! assert_eq!(feed.freshness(&verifier, now + 90), Some(90));
//! # Ok::<(), marque::Error>(())
//! ```

use std::path::Path;

use crate::error::{Error, ErrorKind, Result};
use crate::revocation::RevocationList;
use crate::verify::Verifier;

/// The largest list body a feed accepts (bytes); a larger answer is a failure.
pub const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;
/// The longest `ETag` kept (a longer one is not sent back).
const MAX_ETAG: usize = 256;

/// How often to poll, and how far to back off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedOptions {
    /// Seconds between polls while the publisher answers (default 30).
    pub interval: u64,
    /// The longest wait after consecutive failures, in seconds (default 300).
    pub max_backoff: u64,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions { interval: 30, max_backoff: 300 }
    }
}

impl FeedOptions {
    /// Refuses an interval of 0 or over an hour (30 000 is milliseconds meant as seconds), and a
    /// `max_backoff` below the interval or over a day (`invalid_argument`).
    pub fn validate(&self) -> Result<()> {
        const DAY: u64 = 86_400;
        if self.interval == 0 || self.interval > 3_600 {
            return Err(Error::invalid_argument(format!(
                "the feed interval is 1..=3600 seconds, got {} (seconds, not milliseconds)",
                self.interval
            )));
        }
        if self.max_backoff < self.interval || self.max_backoff > DAY {
            return Err(Error::invalid_argument(format!(
                "max_backoff is interval..=86400 seconds, got {} (interval {})",
                self.max_backoff, self.interval
            )));
        }
        Ok(())
    }
}

/// Checks the URL a feed polls: `http://` or `https://`, a host, no user info (credentials go in
/// headers, never in a URL that ends up in logs), no fragment, at most 2,048 bytes. `https` is
/// what production wants; `http` is allowed because the list is signed (integrity does not
/// depend on the transport) and loopback tests serve it plainly.
pub fn check_url(url: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid_argument(format!("the feed URL {:?} is refused: {why}", url.chars().take(80).collect::<String>())));
    if url.len() > 2_048 {
        return bad("longer than 2048 bytes");
    }
    let Some((scheme, rest)) = url.split_once("://") else { return bad("not an http(s) URL") };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return bad("the scheme is not http or https");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return bad("no host");
    }
    if authority.contains('@') {
        return bad("user info in the URL (send credentials as headers)");
    }
    if url.contains('#') {
        return bad("a fragment");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("white space or control characters");
    }
    Ok(())
}

/// One HTTP answer of the publisher.
#[derive(Clone, Copy, Debug)]
pub struct FeedAnswer<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The `ETag` header, if any.
    pub etag: Option<&'a str>,
    /// The body (a signed revocation list for a `200`).
    pub body: &'a [u8],
}

/// What one poll did, and when to poll next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedOutcome {
    /// The sequence of a list this answer loaded (a new list in force).
    pub loaded: Option<u64>,
    /// Why this poll failed (`code: message`), the list in force unchanged.
    pub error: Option<String>,
    /// Seconds until the next poll.
    pub next_poll_in: u64,
}

/// A poller's state: the `ETag` to send back, when the publisher last answered, how many polls
/// failed in a row.
#[derive(Clone, Debug)]
pub struct FeedState {
    options: FeedOptions,
    etag: Option<String>,
    failures: u32,
    last_success: Option<u64>,
    last_error: Option<String>,
    state_file: Option<std::path::PathBuf>,
}

impl FeedState {
    /// A state for a new poller (checks `options`).
    pub fn new(options: FeedOptions) -> Result<Self> {
        options.validate()?;
        Ok(FeedState { options, etag: None, failures: 0, last_success: None, last_error: None, state_file: None })
    }

    /// Keeps the last loaded list in the file `path` across restarts: loads the list a previous
    /// run left there into `verifier` now ([`restore`]; `Ok(None)`: no file yet) and, from then
    /// on, writes each newly loaded list to it ([`persist`]). A file whose list the verifier
    /// refuses (another operator, corrupt) is an error: the poller does not start on it.
    pub fn use_state_file(&mut self, path: &Path, verifier: &Verifier, now: u64) -> Result<Option<u64>> {
        let restored = restore(path, verifier, now)?;
        self.state_file = Some(path.to_path_buf());
        Ok(restored)
    }

    /// The `If-None-Match` value to send: the `ETag` of the list in force, once one was loaded.
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// Consecutive failed polls.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// When the publisher last gave a good answer (a list loaded or `304`).
    pub fn last_success(&self) -> Option<u64> {
        self.last_success
    }

    /// The last failure, until a good answer.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// Seconds since the list in force was issued at `now` (`None`: no list loaded).
    pub fn freshness(&self, verifier: &Verifier, now: u64) -> Option<u64> {
        verifier.revocation_list().map(|l| now.saturating_sub(l.issued_at()))
    }

    /// Applies one answer of the publisher at `now` (see the [module](self) docs).
    pub fn apply(&mut self, verifier: &Verifier, answer: FeedAnswer<'_>, now: u64) -> FeedOutcome {
        match answer.status {
            200 => match self.load(verifier, answer.body, now) {
                Ok(loaded) => {
                    self.etag = answer.etag.filter(|e| e.len() <= MAX_ETAG && e.is_ascii()).map(str::to_string);
                    let mut out = self.succeeded(loaded, now);
                    if let (Some(_), Some(path), Some(list)) = (loaded, &self.state_file, verifier.revocation_list()) {
                        if let Err(e) = persist(path, &list) {
                            out.error = Some(format!("{}: {}", e.code(), e.message()));
                        }
                    }
                    out
                }
                Err(e) => self.failed(&format!("{}: {}", e.code(), e.message())),
            },
            304 if self.etag.is_some() && verifier.revocation_list().is_some() => self.succeeded(None, now),
            304 => self.failed("the publisher answered 304 to a poll that sent no ETag"),
            status => self.failed(&format!("the publisher answered HTTP {status}")),
        }
    }

    /// Records a poll that got no answer (`why`: connection refused, timeout, …): the list in
    /// force stays, the next poll waits the interval doubled per consecutive failure, at most
    /// [`FeedOptions::max_backoff`].
    pub fn failed(&mut self, why: &str) -> FeedOutcome {
        self.failures = self.failures.saturating_add(1);
        let why: String = why.chars().take(512).collect();
        self.last_error = Some(why.clone());
        let wait = self.options.interval.saturating_mul(1u64 << self.failures.min(20)).min(self.options.max_backoff);
        FeedOutcome { loaded: None, error: Some(why), next_poll_in: wait }
    }

    fn succeeded(&mut self, loaded: Option<u64>, now: u64) -> FeedOutcome {
        self.failures = 0;
        self.last_error = None;
        self.last_success = Some(now);
        FeedOutcome { loaded, error: None, next_poll_in: self.options.interval }
    }

    fn load(&self, verifier: &Verifier, body: &[u8], now: u64) -> Result<Option<u64>> {
        if body.len() > MAX_LIST_BYTES {
            return Err(Error::new(ErrorKind::LimitsExceeded, format!("the list is {} bytes; at most {MAX_LIST_BYTES}", body.len())));
        }
        let text = core::str::from_utf8(body)
            .map_err(|_| Error::new(ErrorKind::RevocationListInvalid, "the list is not UTF-8 text"))?;
        let list = RevocationList::from_json(text)?;
        Ok(verifier.load_revocation_list(&list, Some(now))?.then_some(list.sequence()))
    }
}

/// Writes the signed list `list` to `path` atomically: a temporary file next to it, written and
/// `fsync`ed, then renamed over `path` (a crash leaves the old file or the new one, never half).
pub fn persist(path: &Path, list: &RevocationList) -> Result<()> {
    use std::io::Write;
    let io = |what: &str, e: std::io::Error| Error::invalid_argument(format!("cannot write the revocation list {}: {what}: {e}", path.display()));
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp).map_err(|e| io("create", e))?;
    f.write_all(list.to_json().as_bytes()).map_err(|e| io("write", e))?;
    f.sync_all().map_err(|e| io("fsync", e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| io("rename", e))
}

/// Loads the list [`persist`] wrote at `path` into `verifier` (its usual checks: a list signed by
/// an operator key it does not trust is refused). `Ok(None)`: no file yet (a first start).
pub fn restore(path: &Path, verifier: &Verifier, now: u64) -> Result<Option<u64>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::invalid_argument(format!("revocation feed state {}: {e}", path.display()))),
    };
    let list = RevocationList::from_json(&text)?;
    verifier.load_revocation_list(&list, Some(now))?;
    Ok(Some(list.sequence()))
}
