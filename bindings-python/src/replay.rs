//! Replay stores (mirrors `marque::replay`): a Python object becomes a core
//! [`marque::replay::ReplayStore`].
//!
//! `Verifier(..., replay_store=client)` takes a redis-py `redis.Redis` client (sync), or any
//! object with the same method `set(name, value, *, nx=True, px=milliseconds)` that sets `name`
//! only if it is absent, for `px` milliseconds, atomically, and returns `True` when it did and
//! `None` (or `False`) when `name` was already set. This module only calls that method
//! (re-acquiring the GIL, since the core runs with it released) and converts its answer; any
//! exception (a refused connection, redis-py's `TimeoutError` once the client's
//! `socket_timeout` passes) or any other return value is `replay_store_unavailable` — the core's
//! rule, fail closed.

use marque::replay::{unavailable, Claim, ReplayClaim, ReplayStore};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::convert::type_name;
use crate::errors::{type_error, Result};

/// A Python object with `set(name, value, *, nx, px)` as a core replay store.
pub struct PyReplayStore {
    set: Py<PyAny>,
}

impl PyReplayStore {
    /// From a redis-py client or any object with a callable, synchronous `set`.
    pub fn extract(v: &Bound<'_, PyAny>) -> Result<PyReplayStore> {
        let not_a_store = || {
            type_error(format!(
                "replay_store must be a redis.Redis client or an object with set(name, value, *, nx, px), got {}",
                type_name(v)
            ))
        };
        let set = v.getattr("set").map_err(|_| not_a_store())?;
        if !set.is_callable() {
            return Err(not_a_store());
        }
        let inspect = v.py().import("inspect")?;
        if inspect.call_method1("iscoroutinefunction", (&set,))?.is_truthy()? {
            return Err(type_error(
                "replay_store.set is a coroutine function (redis.asyncio?): Verifier.authorize is synchronous; give it a sync redis.Redis client",
            ));
        }
        Ok(PyReplayStore { set: set.unbind() })
    }
}

impl ReplayStore for PyReplayStore {
    fn claim(&self, claim: &ReplayClaim) -> marque::Result<Claim> {
        Python::attach(|py| {
            let kwargs = PyDict::new(py);
            let call = kwargs
                .set_item("nx", true)
                .and_then(|()| kwargs.set_item("px", claim.ttl_ms()))
                .and_then(|()| self.set.bind(py).call((claim.key(), "1"), Some(&kwargs)));
            let out = match call {
                Ok(out) => out,
                Err(e) => {
                    let what = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "an exception".into());
                    let mut detail = e.value(py).str().map(|s| s.to_string()).unwrap_or_default();
                    if detail.len() > 200 {
                        let mut end = 200;
                        while !detail.is_char_boundary(end) {
                            end -= 1;
                        }
                        detail.truncate(end);
                    }
                    return Err(unavailable(format!("the replay store raised {what}: {detail}")));
                }
            };
            claim_answer(&out, "a sync store is needed")
        })
    }
}

/// A `set(name, value, nx=True, px=…)` answer as a claim: `True` / `"OK"` / `b"OK"` → claimed;
/// `None` / `False` → already used; anything else (an awaitable: `awaitable` says why it is
/// wrong here) → `replay_store_unavailable`.
pub fn claim_answer(out: &Bound<'_, PyAny>, awaitable: &str) -> marque::Result<Claim> {
    if out.is_none() {
        return Ok(Claim::AlreadyUsed);
    }
    if let Ok(b) = out.cast::<pyo3::types::PyBool>() {
        return Ok(if b.is_true() { Claim::Claimed } else { Claim::AlreadyUsed });
    }
    let ok = (out.is_instance_of::<PyString>() && out.eq("OK").unwrap_or(false))
        || out.cast::<PyBytes>().map(|b| b.as_bytes() == b"OK").unwrap_or(false);
    if ok {
        return Ok(Claim::Claimed);
    }
    if out.hasattr("__await__").unwrap_or(false) {
        // An awaitable nobody will await: close it so Python does not warn, and refuse.
        let _ = out.call_method0("close");
        return Err(unavailable(format!("the replay store's set returned an awaitable; {awaitable}")));
    }
    Err(unavailable(format!("the replay store's set returned {}, not True, None or False", type_name(out))))
}
