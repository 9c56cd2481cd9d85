//! Budget counter stores (mirrors `marque::budget`): `MemoryCounterStore`, and a Python Redis
//! client as a core [`marque::budget::CounterStore`].
//!
//! `Verifier(..., counter_store=...)` takes a `marque.MemoryCounterStore` (counters in this
//! process, shared by every verifier given the same store), or a sync redis-py `redis.Redis`
//! client — any object with `eval(script, numkeys, *keys_and_args)` answering an int. The client
//! runs the core's script (`marque::budget::REDIS_SPEND_SCRIPT`, atomic on the server) and its
//! answer is read by the core (`redis_spend_reply`); this module only calls `eval` (with the GIL
//! re-acquired) and converts. Any exception or any other answer is `replay_store_unavailable`:
//! the call fails closed.

use std::sync::Arc;

use marque::budget::{BudgetCharge, CounterStore, Spend};
use marque::replay::unavailable;
use pyo3::prelude::*;

use crate::convert::{self, type_name};
use crate::errors::{type_error, Result};

/// Budget counters in this process: give the same store to several `Verifier`s and a
/// delegation's `max_calls` / `rate` counts their calls together. At most `capacity` live
/// counters (a full store refuses the call: `LimitsExceeded`).
#[pyclass(module = "marque", frozen)]
pub struct MemoryCounterStore {
    inner: Arc<marque::budget::MemoryCounterStore>,
}

#[pymethods]
impl MemoryCounterStore {
    #[new]
    #[pyo3(signature = (*, capacity = None))]
    fn new(capacity: Option<&Bound<'_, PyAny>>) -> Result<Self> {
        let capacity = convert::opt_uint::<usize>("capacity", capacity)?.unwrap_or(100_000);
        Ok(MemoryCounterStore { inner: Arc::new(marque::budget::MemoryCounterStore::new(capacity)) })
    }
    fn __repr__(&self) -> String {
        "MemoryCounterStore()".into()
    }
}

/// A Python object with `eval(script, numkeys, *keys_and_args)` as a core counter store.
struct PyCounterStore {
    eval: Py<PyAny>,
}

impl CounterStore for PyCounterStore {
    fn spend(&self, charges: &[BudgetCharge]) -> marque::Result<Spend> {
        if charges.is_empty() {
            return Ok(Spend::Spent);
        }
        Python::attach(|py| {
            use pyo3::types::{PyInt, PyString, PyTuple};
            let mut args = vec![PyString::new(py, marque::budget::REDIS_SPEND_SCRIPT).into_any(), PyInt::new(py, charges.len()).into_any()];
            args.extend(marque::budget::redis_spend_args(charges).iter().map(|a| PyString::new(py, a).into_any()));
            let tuple = PyTuple::new(py, args).map_err(|_| unavailable("the counter store's arguments could not be built"))?;
            let out = match self.eval.bind(py).call1(tuple) {
                Ok(out) => out,
                Err(e) => {
                    let what = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "an exception".into());
                    let detail: String = e.value(py).str().map(|s| s.to_string()).unwrap_or_default().chars().take(200).collect();
                    return Err(unavailable(format!("the counter store raised {what}: {detail}")));
                }
            };
            spend_reply(&out, "a sync store is needed").and_then(|i| marque::budget::redis_spend_reply(charges, i))
        })
    }
}

/// An `eval` answer of the core's script as its integer (`int`, not `bool`); anything else (an
/// awaitable: `awaitable` says why it is wrong here) → `replay_store_unavailable`.
pub fn spend_reply(out: &Bound<'_, PyAny>, awaitable: &str) -> marque::Result<i64> {
    if out.is_instance_of::<pyo3::types::PyInt>() && !out.is_instance_of::<pyo3::types::PyBool>() {
        if let Ok(i) = out.extract::<i64>() {
            return Ok(i);
        }
    }
    if out.hasattr("__await__").unwrap_or(false) {
        let _ = out.call_method0("close");
        return Err(unavailable(format!("the counter store's eval returned an awaitable; {awaitable}")));
    }
    Err(unavailable(format!("the counter store's eval returned {}, not an int", type_name(out))))
}

/// `counter_store=`: a `MemoryCounterStore`, or a sync Redis client (an object with `eval`).
pub fn extract(v: &Bound<'_, PyAny>) -> Result<Arc<dyn CounterStore>> {
    if let Ok(s) = v.cast::<MemoryCounterStore>() {
        return Ok(s.get().inner.clone());
    }
    let not_a_store = || {
        type_error(format!(
            "counter_store must be a marque.MemoryCounterStore, a redis.Redis client or an object with eval(script, numkeys, *keys_and_args), got {}",
            type_name(v)
        ))
    };
    let eval = v.getattr("eval").map_err(|_| not_a_store())?;
    if !eval.is_callable() {
        return Err(not_a_store());
    }
    if v.py().import("inspect")?.call_method1("iscoroutinefunction", (&eval,))?.is_truthy()? {
        return Err(type_error(
            "counter_store.eval is a coroutine function (redis.asyncio?): Verifier.authorize is synchronous; give it a sync redis.Redis client",
        ));
    }
    Ok(Arc::new(PyCounterStore { eval: eval.unbind() }))
}

/// Adds the classes and constants of this module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<MemoryCounterStore>()?;
    m.add("REDIS_SPEND_SCRIPT", marque::budget::REDIS_SPEND_SCRIPT)?;
    Ok(())
}
