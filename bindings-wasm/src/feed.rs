//! `RevocationFeedState` (mirrors `marque::feed`): the decisions of the revocation feed. The
//! poller, `RevocationFeed` (errors.js, shared with @marque/node), only fetches. There is no
//! state file here (no file system at the edge): keep the last list in the platform's storage
//! and load it with `verifier.loadRevocationList` before the first poll.

use std::cell::RefCell;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::convert::{bytes, string, to_js, uint, Options};
use crate::errors::JsResult;
use crate::verify::Verifier;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutcomeJs {
    loaded: Option<u64>,
    error: Option<String>,
    next_poll_in: u64,
}

fn outcome(o: marque::feed::FeedOutcome) -> JsResult<JsValue> {
    to_js(&OutcomeJs { loaded: o.loaded, error: o.error, next_poll_in: o.next_poll_in })
}

/// What a revocation poller knows between polls: the URL (checked), the `ETag` to send back,
/// consecutive failures. `apply` takes one HTTP answer and loads a new signed list into the
/// verifier (every list check; rollback refused); `failed` records a poll without an answer.
#[wasm_bindgen]
pub struct RevocationFeedState {
    url: String,
    inner: RefCell<marque::feed::FeedState>,
}

#[wasm_bindgen]
impl RevocationFeedState {
    /// A state polling `url` with `{interval?, maxBackoff?}` (seconds).
    #[wasm_bindgen(constructor)]
    pub fn new(url: JsValue, options: JsValue) -> JsResult<RevocationFeedState> {
        let url = string(&url, "url")?;
        marque::feed::check_url(&url)?;
        let mut o = Options::optional(&options, "RevocationFeedState options")?;
        let defaults = marque::feed::FeedOptions::default();
        let interval = o.opt_uint("interval")?.unwrap_or(defaults.interval);
        let max_backoff = o.opt_uint("maxBackoff")?.unwrap_or(defaults.max_backoff);
        o.finish()?;
        let state = marque::feed::FeedState::new(marque::feed::FeedOptions { interval, max_backoff })?;
        Ok(RevocationFeedState { url, inner: RefCell::new(state) })
    }

    /// The URL polled.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The `If-None-Match` value to send, or `null`.
    #[wasm_bindgen(getter)]
    pub fn etag(&self) -> Option<String> {
        self.inner.borrow().etag().map(str::to_string)
    }

    /// Consecutive failed polls.
    #[wasm_bindgen(getter)]
    pub fn failures(&self) -> u32 {
        self.inner.borrow().failures()
    }

    /// When the publisher last answered well (seconds), or `null`.
    #[wasm_bindgen(getter, js_name = lastSuccess)]
    pub fn last_success(&self) -> Option<f64> {
        self.inner.borrow().last_success().map(|t| t as f64)
    }

    /// The last failure, until a good answer.
    #[wasm_bindgen(getter, js_name = lastError)]
    pub fn last_error(&self) -> Option<String> {
        self.inner.borrow().last_error().map(str::to_string)
    }

    /// Seconds since the list in force was issued at `{now?}` (`null`: none loaded).
    pub fn freshness(&self, verifier: &Verifier, options: JsValue) -> JsResult<Option<f64>> {
        let mut o = Options::optional(&options, "freshness options")?;
        let now = o.now()?;
        o.finish()?;
        Ok(self.inner.borrow().freshness(&verifier.inner, now).map(|s| s as f64))
    }

    /// Applies one HTTP answer: `status`, the `ETag` header (or `null`), the body bytes, at `{now?}`.
    pub fn apply(&self, verifier: &Verifier, status: JsValue, etag: JsValue, body: JsValue, options: JsValue) -> JsResult<JsValue> {
        let status = u16::try_from(uint(&status, "status")?).map_err(|_| crate::errors::JsError::argument("status is not an HTTP status"))?;
        let etag = if etag.is_null() || etag.is_undefined() { None } else { Some(string(&etag, "etag")?) };
        let body = bytes(&body, "body")?;
        let mut o = Options::optional(&options, "apply options")?;
        let now = o.now()?;
        o.finish()?;
        let answer = marque::feed::FeedAnswer { status, etag: etag.as_deref(), body: &body };
        outcome(self.inner.borrow_mut().apply(&verifier.inner, answer, now))
    }

    /// Records a poll that got no answer (`why`: the transport error).
    pub fn failed(&self, why: JsValue) -> JsResult<JsValue> {
        let why = string(&why, "why")?;
        outcome(self.inner.borrow_mut().failed(&why))
    }
}
