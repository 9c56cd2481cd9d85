//! Pending authorizations (mirrors `marque::pending`) for `Verifier.authorize_async`.
//!
//! The core decides everything but the single-use state and keeps its order (the proof's nonce,
//! then the budgets). `marque._stores` (Python) awaits the `redis.asyncio` clients — the replay
//! store's `set(key, "1", nx=True, px=ttl_ms)`, then the counter store's
//! `eval(REDIS_SPEND_SCRIPT, n, *keys_and_args)` — each bounded by the call's timeout, and
//! hands every answer to a [`PendingAuthorization`], which converts it into the core's answer
//! (the same conversions as the sync stores: `replay::claim_answer`, `budget::spend_reply`). A
//! store that raises, times out or answers anything else is `ReplayStoreUnavailable`: the call
//! fails closed.

use std::sync::{Mutex, PoisonError};

use marque::verify::{Authorization, PendingClaim};
use pyo3::prelude::*;

use crate::convert::type_name;
use crate::errors::{invalid_argument, type_error, Result};
use crate::verify::Decision;

/// A call decided up to its single-use state (what `Verifier.authorize_async` awaits): the
/// nonce to claim (`key`, `ttl_ms`; `None` when none is left), then the budget `charges`.
#[pyclass(module = "marque", frozen)]
pub struct PendingAuthorization {
    inner: Mutex<Option<PendingClaim>>,
}

#[pymethods]
impl PendingAuthorization {
    /// The nonce's store key (`marque:replay:` + 64 hex digits), or `None`.
    #[getter]
    fn key(&self) -> Option<String> {
        self.with(|p| p.claim().map(|c| c.key().to_string()))
    }

    /// How long the store must hold the key, in milliseconds, or `None`.
    #[getter]
    fn ttl_ms(&self) -> Option<u64> {
        self.with(|p| p.claim().map(|c| c.ttl_ms()))
    }

    /// The budget counters to spend, in hop order: `(key, limit, ttl_ms)` (`key`:
    /// `marque:budget:` + 64 hex digits).
    #[getter]
    fn charges(&self) -> Vec<(String, u64, u64)> {
        self.with(|p| Some(p.charges().iter().map(|c| (c.key().to_string(), c.limit(), c.ttl_ms())).collect())).unwrap_or_default()
    }

    /// The `EVAL` arguments of `REDIS_SPEND_SCRIPT` after the key count.
    #[getter]
    fn spend_args(&self) -> Vec<String> {
        self.with(|p| Some(marque::budget::redis_spend_args(p.charges()))).unwrap_or_default()
    }

    /// The replay store's answer to `set(key, "1", nx=True, px=ttl_ms)`: a `Decision`, or
    /// `None` when the budgets are still to spend.
    fn claimed(&self, answer: &Bound<'_, PyAny>) -> Result<Option<Decision>> {
        let outcome = crate::replay::claim_answer(answer, "await it first");
        let mut slot = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let pending = slot.take().ok_or_else(|| invalid_argument("this pending authorization was already finished"))?;
        match pending.claimed(outcome)? {
            Authorization::Decided(d) => Ok(Some(Decision { inner: d })),
            Authorization::Pending(p) => {
                *slot = Some(p);
                Ok(None)
            }
        }
    }

    /// The counter store's answer to the script: the `Decision`.
    fn spent(&self, answer: &Bound<'_, PyAny>) -> Result<Decision> {
        let reply = crate::budget::spend_reply(answer, "await it first");
        let pending = self.take()?;
        let decision = match reply {
            Ok(i) => pending.spent_reply(i)?,
            Err(e) => pending.spent(Err(e))?,
        };
        Ok(Decision { inner: decision })
    }

    /// Raises `ReplayStoreUnavailable` with `reason` (any object, as text: a store's exception
    /// message may hold anything, lone surrogates included): the call fails closed.
    fn fail(&self, reason: &Bound<'_, PyAny>) -> Result<Decision> {
        let reason = match reason.str() {
            Ok(s) => s.to_string_lossy().into_owned(),
            Err(_) => "the store failed".to_string(),
        };
        Err(self.take()?.failed(marque::replay::unavailable(reason)).into())
    }
}

impl PendingAuthorization {
    fn with<T>(&self, f: impl FnOnce(&PendingClaim) -> Option<T>) -> Option<T> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).as_ref().and_then(f)
    }

    fn take(&self) -> Result<PendingClaim> {
        let mut slot = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        slot.take().ok_or_else(|| invalid_argument("this pending authorization was already finished"))
    }
}

/// The callable `method` of a store given as `what=` (`None` when no store was given).
pub fn method<'py>(store: Option<&Bound<'py, PyAny>>, method: &str, what: &str, shape: &str) -> Result<Option<Bound<'py, PyAny>>> {
    let Some(store) = store else { return Ok(None) };
    match store.getattr(method) {
        Ok(m) if m.is_callable() => Ok(Some(m)),
        _ => Err(type_error(format!("{what} must be {shape}, got {}", type_name(store)))),
    }
}

/// The per-answer timeout in seconds: a number in (0, 60], default 2.
pub fn timeout(v: Option<&Bound<'_, PyAny>>) -> Result<f64> {
    let Some(v) = v else { return Ok(2.0) };
    let t = if v.is_instance_of::<pyo3::types::PyBool>() { None } else { v.extract::<f64>().ok() };
    match t {
        Some(t) if t > 0.0 && t <= 60.0 => Ok(t),
        _ => Err(invalid_argument("timeout is seconds in (0, 60]")),
    }
}

/// The awaitable of `authorize_async`: the decision at once, or `marque._stores.settle` awaiting
/// the stores the pending call needs (a needed store missing is `InvalidArgument`, before
/// anything is claimed).
pub fn settle<'py>(
    py: Python<'py>,
    step: Authorization,
    replay_set: Option<Bound<'py, PyAny>>,
    counter_eval: Option<Bound<'py, PyAny>>,
    timeout: f64,
) -> Result<Bound<'py, PyAny>> {
    let stores = py.import("marque._stores")?;
    let pending = match step {
        Authorization::Decided(d) => return Ok(stores.call_method1("decided", (Decision { inner: d },))?),
        Authorization::Pending(p) => p,
    };
    if pending.claim().is_some() && replay_set.is_none() {
        return Err(invalid_argument("this call has a proof whose nonce must be claimed: give authorize_async a replay_store"));
    }
    if !pending.charges().is_empty() && counter_eval.is_none() {
        return Err(invalid_argument("this token carries call budgets: give authorize_async a counter_store"));
    }
    let pending = PendingAuthorization { inner: Mutex::new(Some(pending)) };
    let script = marque::budget::REDIS_SPEND_SCRIPT;
    Ok(stores.call_method1("settle", (pending, replay_set, counter_eval, script, timeout))?)
}
