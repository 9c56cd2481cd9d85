//! `RevocationFeedState` (mirrors `marque::feed`): the decisions of the revocation feed; the
//! poller (`marque.RevocationFeed`, python/marque/feed.py) only fetches.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{self, Str};
use crate::errors::{no_panic, Result};
use crate::verify::Verifier;

/// What a revocation poller knows between polls: the URL (checked), the `ETag` to send back,
/// consecutive failures, the last good answer. ``apply`` takes one HTTP answer and loads a new
/// signed list into the verifier (every list check; rollback refused); ``failed`` records a
/// poll without an answer. Both return ``{"loaded": int | None, "error": str | None,
/// "next_poll_in": int}`` (seconds). Used by ``marque.RevocationFeed``.
#[pyclass(module = "marque")]
pub struct RevocationFeedState {
    url: String,
    inner: Mutex<marque::feed::FeedState>,
}

fn outcome<'py>(py: Python<'py>, o: marque::feed::FeedOutcome) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("loaded", o.loaded)?;
    d.set_item("error", o.error)?;
    d.set_item("next_poll_in", o.next_poll_in)?;
    Ok(d)
}

impl RevocationFeedState {
    fn state(&self) -> std::sync::MutexGuard<'_, marque::feed::FeedState> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[pymethods]
impl RevocationFeedState {
    #[new]
    #[pyo3(signature = (url, *, interval = None, max_backoff = None))]
    fn new(url: Str, interval: Option<&Bound<'_, PyAny>>, max_backoff: Option<&Bound<'_, PyAny>>) -> Result<Self> {
        marque::feed::check_url(&url)?;
        let defaults = marque::feed::FeedOptions::default();
        let options = marque::feed::FeedOptions {
            interval: interval.map(|v| convert::seconds("interval", v)).transpose()?.unwrap_or(defaults.interval),
            max_backoff: max_backoff.map(|v| convert::seconds("max_backoff", v)).transpose()?.unwrap_or(defaults.max_backoff),
        };
        Ok(RevocationFeedState { url: url.0, inner: Mutex::new(marque::feed::FeedState::new(options)?) })
    }

    /// The URL polled.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The ``If-None-Match`` value to send (the ``ETag`` of the list in force), or ``None``.
    #[getter]
    fn etag(&self) -> Option<String> {
        self.state().etag().map(str::to_string)
    }

    /// Consecutive failed polls.
    #[getter]
    fn failures(&self) -> u32 {
        self.state().failures()
    }

    /// When the publisher last answered well (seconds), or ``None``.
    #[getter]
    fn last_success(&self) -> Option<u64> {
        self.state().last_success()
    }

    /// The last failure, until a good answer.
    #[getter]
    fn last_error(&self) -> Option<String> {
        self.state().last_error().map(str::to_string)
    }

    /// Seconds since the list in force was issued (``None``: no list loaded).
    #[pyo3(signature = (verifier, *, now = None))]
    fn freshness(&self, verifier: &Verifier, now: Option<&Bound<'_, PyAny>>) -> Result<Option<u64>> {
        let now = convert::now_or_clock(now)?;
        let v = crate::verify::read_guard(&verifier.inner);
        Ok(self.state().freshness(&v, now))
    }

    /// Loads the list a previous run left in ``path`` into ``verifier`` (``None``: no file yet)
    /// and writes each newly loaded list there from now on (atomically).
    #[pyo3(signature = (path, verifier, *, now = None))]
    fn use_state_file(&self, path: &Bound<'_, PyAny>, verifier: &Verifier, now: Option<&Bound<'_, PyAny>>) -> Result<Option<u64>> {
        let path = convert::path(path)?;
        let now = convert::now_or_clock(now)?;
        let v = crate::verify::read_guard(&verifier.inner);
        Ok(no_panic(|| self.state().use_state_file(&path, &v, now))?)
    }

    /// Applies one HTTP answer (``status``, the ``ETag`` header or ``None``, the body bytes).
    #[pyo3(signature = (verifier, status, etag, body, *, now = None))]
    fn apply<'py>(
        &self,
        py: Python<'py>,
        verifier: &Verifier,
        status: u16,
        etag: Option<Str>,
        body: &[u8],
        now: Option<&Bound<'py, PyAny>>,
    ) -> Result<Bound<'py, PyDict>> {
        let now = convert::now_or_clock(now)?;
        let v = crate::verify::read_guard(&verifier.inner);
        let out = no_panic(|| Ok(self.state().apply(&v, marque::feed::FeedAnswer { status, etag: etag.as_deref(), body }, now)))?;
        Ok(outcome(py, out)?)
    }

    /// Records a poll that got no answer (``why``: the transport error).
    fn failed<'py>(&self, py: Python<'py>, why: Str) -> Result<Bound<'py, PyDict>> {
        let out = self.state().failed(&why);
        Ok(outcome(py, out)?)
    }

    fn __repr__(&self) -> String {
        let s = self.state();
        format!("RevocationFeedState(url={:?}, failures={}, etag={:?})", self.url, s.failures(), s.etag())
    }
}
