//! `RevocationFeedState` (mirrors `marque::feed`): the decisions of the revocation feed. The
//! poller, `RevocationFeed` (errors.js, shared with @marque/wasm), only fetches.

use std::sync::{Mutex, MutexGuard, PoisonError};

use napi::bindgen_prelude::{Either, Null, Uint8Array};
use napi::Result;
use napi_derive::napi;

use crate::convert::{opt_now, seconds, Ref, TimeInput};
use crate::errors::{no_panic, OrThrow};
use crate::verify::Verifier;

/// Options of `new RevocationFeedState(url, options)`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(marque_node_derive::Options)]
pub struct FeedStateOptions {
    /// Seconds between polls while the publisher answers (default 30; 1..=3600).
    pub interval: Option<f64>,
    /// The longest wait after consecutive failures, in seconds (default 300).
    pub max_backoff: Option<f64>,
}

/// Options with only `now`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(marque_node_derive::Options)]
pub struct FeedNowOptions {
    /// Current time: seconds since the epoch or a `Date` (default: now).
    pub now: Option<TimeInput>,
}

/// What one poll did: a newly loaded list's sequence, why it failed, seconds to the next poll
/// (`null`, not `undefined`, for what did not happen: the same object as @marque/wasm).
#[napi(object, object_from_js = false)]
pub struct FeedOutcome {
    /// The sequence of a list this answer loaded.
    pub loaded: Either<f64, Null>,
    /// Why this poll failed (`code: message`); the list in force is unchanged.
    pub error: Either<String, Null>,
    /// Seconds until the next poll.
    pub next_poll_in: f64,
}

impl From<marque::feed::FeedOutcome> for FeedOutcome {
    fn from(o: marque::feed::FeedOutcome) -> Self {
        FeedOutcome {
            loaded: o.loaded.map_or(Either::B(Null), |s| Either::A(s as f64)),
            error: o.error.map_or(Either::B(Null), Either::A),
            next_poll_in: o.next_poll_in as f64,
        }
    }
}

/// What a revocation poller knows between polls (the core's `feed::FeedState`): the URL
/// (checked: http/https, no user info), the `ETag` to send back, consecutive failures. `apply`
/// takes one HTTP answer and loads a new signed list into the verifier (every list check;
/// rollback refused); `failed` records a poll without an answer. Used by `RevocationFeed`.
#[napi]
pub struct RevocationFeedState {
    url: String,
    inner: Mutex<marque::feed::FeedState>,
}

impl RevocationFeedState {
    fn state(&self) -> MutexGuard<'_, marque::feed::FeedState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn now_of(options: Option<FeedNowOptions>) -> Result<u64> {
    Ok(opt_now(options.and_then(|o| o.now))?.unwrap_or_else(marque::unix_now))
}

#[napi]
impl RevocationFeedState {
    /// A state polling `url`.
    #[napi(constructor)]
    pub fn new(url: String, options: Option<FeedStateOptions>) -> Result<Self> {
        marque::feed::check_url(&url).or_throw()?;
        let defaults = marque::feed::FeedOptions::default();
        let (interval, max_backoff) = options.map(|o| (o.interval, o.max_backoff)).unwrap_or_default();
        let options = marque::feed::FeedOptions {
            interval: interval.map(|v| seconds("interval", v)).transpose()?.unwrap_or(defaults.interval),
            max_backoff: max_backoff.map(|v| seconds("maxBackoff", v)).transpose()?.unwrap_or(defaults.max_backoff),
        };
        Ok(RevocationFeedState { url, inner: Mutex::new(marque::feed::FeedState::new(options).or_throw()?) })
    }

    /// The URL polled.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The `If-None-Match` value to send, or `null`.
    #[napi(getter)]
    pub fn etag(&self) -> Option<String> {
        self.state().etag().map(str::to_string)
    }

    /// Consecutive failed polls.
    #[napi(getter)]
    pub fn failures(&self) -> u32 {
        self.state().failures()
    }

    /// When the publisher last answered well (seconds), or `null`.
    #[napi(getter)]
    pub fn last_success(&self) -> Option<f64> {
        self.state().last_success().map(|t| t as f64)
    }

    /// The last failure, until a good answer.
    #[napi(getter)]
    pub fn last_error(&self) -> Option<String> {
        self.state().last_error().map(str::to_string)
    }

    /// Seconds since the list in force was issued (`null`: none loaded).
    #[napi]
    pub fn freshness(&self, #[napi(ts_arg_type = "Verifier")] verifier: Ref<Verifier>, options: Option<FeedNowOptions>) -> Result<Option<f64>> {
        let now = now_of(options)?;
        let v = verifier.shared().read().unwrap_or_else(PoisonError::into_inner);
        Ok(self.state().freshness(&v, now).map(|s| s as f64))
    }

    /// Loads the list a previous run left in `path` into `verifier` (`null`: no file yet) and
    /// writes each newly loaded list there from now on (atomically).
    #[napi]
    pub fn use_state_file(&self, path: String, #[napi(ts_arg_type = "Verifier")] verifier: Ref<Verifier>, options: Option<FeedNowOptions>) -> Result<Option<f64>> {
        let now = now_of(options)?;
        let v = verifier.shared().read().unwrap_or_else(PoisonError::into_inner);
        let restored = no_panic(|| self.state().use_state_file(std::path::Path::new(&path), &v, now).or_throw())?;
        Ok(restored.map(|s| s as f64))
    }

    /// Applies one HTTP answer: `status`, the `ETag` header (or `null`), the body bytes.
    #[napi]
    pub fn apply(
        &self,
        #[napi(ts_arg_type = "Verifier")] verifier: Ref<Verifier>,
        status: u32,
        etag: Option<String>,
        body: Uint8Array,
        options: Option<FeedNowOptions>,
    ) -> Result<FeedOutcome> {
        let now = now_of(options)?;
        let status = u16::try_from(status).map_err(|_| crate::errors::invalid_argument(format!("status {status} is not an HTTP status")))?;
        let v = verifier.shared().read().unwrap_or_else(PoisonError::into_inner);
        let answer = marque::feed::FeedAnswer { status, etag: etag.as_deref(), body: &body };
        Ok(self.state().apply(&v, answer, now).into())
    }

    /// Records a poll that got no answer (`why`: the transport error).
    #[napi]
    pub fn failed(&self, why: String) -> FeedOutcome {
        self.state().failed(&why).into()
    }
}
