//! Budgets: how many calls a delegation — and everything delegated below it — may make.
//!
//! A delegation may carry a [`Budget`]: a lifetime `max_calls` and/or a [`Rate`] (`calls` per
//! `window_seconds`, fixed windows aligned on the Unix epoch). At verification every call counts
//! against the budget of **every** hop of its chain that has one, so a parent's budget bounds all
//! its descendants together: a child cannot spend around it. Counters are keyed by the hop's
//! revocation id (unique per block, so two tokens never share a counter by accident) — hashed,
//! like replay keys: a store sees `marque:budget:` + 64 hex digits and a time to live, no token
//! material. A [`CounterStore`] spends one call against a set of counters **atomically and all or
//! nothing**: if any counter is exhausted nothing is counted and the answer names it
//! ([`Spend::Exhausted`]), so a refused call never eats a sibling's budget. The default store is
//! the bounded in-process [`MemoryCounterStore`]; a fleet shares one (Redis/Valkey: the
//! `marque-redis` crate, one Lua script per call). A store that cannot answer is an error
//! (`replay_store_unavailable`: the shared-state store is down) and the call is not allowed.
//!
//! ```
//! use marque::budget::{Budget, Rate, charges, CounterStore, MemoryCounterStore, Spend};
//! let store = MemoryCounterStore::new(10_000);
//! // The orchestrator's hop may make 2 calls in all; its child's, 1 call per minute.
//! let hops = [("rev-orchestrator", Budget::max_calls(2)), ("rev-child", Budget::rate(Rate::new(1, 60)?))];
//! let now = 1_767_225_600;
//! let at = |t| charges(hops.iter().map(|(r, b)| (*r, b)), t, now + 3600);
//! assert_eq!(store.spend(&at(now)?)?, Spend::Spent);
//! assert_eq!(store.spend(&at(now + 1)?)?, Spend::Exhausted { hop: 1 }); // the child's minute
//! assert_eq!(store.spend(&at(now + 60)?)?, Spend::Spent);
//! assert_eq!(store.spend(&at(now + 120)?)?, Spend::Exhausted { hop: 0 }); // the parent's 2 calls
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};

/// The namespace of every key given to a [`CounterStore`].
pub const KEY_PREFIX: &str = "marque:budget:";
/// Largest `max_calls` or rate `calls`.
pub const MAX_CALLS: u64 = 1_000_000_000;
/// Longest rate window, in seconds (30 days).
pub const MAX_WINDOW_SECONDS: u64 = 30 * 24 * 60 * 60;

/// A rate: at most `calls` calls in each fixed window of `window_seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Calls per window (1 ..= [`MAX_CALLS`]).
    pub calls: u64,
    /// Window length in seconds (1 ..= [`MAX_WINDOW_SECONDS`]).
    pub window_seconds: u64,
}

impl Rate {
    /// A checked rate.
    pub fn new(calls: u64, window_seconds: u64) -> Result<Self> {
        let rate = Rate { calls, window_seconds };
        rate.validate()?;
        Ok(rate)
    }

    fn validate(&self) -> Result<()> {
        if self.calls == 0 || self.calls > MAX_CALLS {
            return Err(Error::invalid_argument(format!("rate calls must be 1..={MAX_CALLS}")));
        }
        if self.window_seconds == 0 || self.window_seconds > MAX_WINDOW_SECONDS {
            return Err(Error::invalid_argument(format!("rate window must be 1..={MAX_WINDOW_SECONDS} seconds")));
        }
        Ok(())
    }

    /// Whether this rate is no wider than `parent`: at most as many calls in a window at least as
    /// long (so no window of the parent's length sees more of the child's calls than the parent allows).
    pub fn within(&self, parent: &Rate) -> bool {
        self.calls <= parent.calls && self.window_seconds >= parent.window_seconds
    }
}

/// A delegation's budget: a lifetime call count, a rate, or both; [`Budget::default`] is none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Calls in the token's whole life (1 ..= [`MAX_CALLS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_calls: Option<u64>,
    /// Calls per window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
}

impl Budget {
    /// A lifetime budget of `n` calls.
    pub fn max_calls(n: u64) -> Self {
        Budget { max_calls: Some(n), rate: None }
    }

    /// A rate budget.
    pub fn rate(rate: Rate) -> Self {
        Budget { max_calls: None, rate: Some(rate) }
    }

    /// Whether it limits nothing.
    pub fn is_none(&self) -> bool {
        self.max_calls.is_none() && self.rate.is_none()
    }

    /// Checks the ranges (`invalid_argument`).
    pub fn validate(&self) -> Result<()> {
        if let Some(n) = self.max_calls {
            if n == 0 || n > MAX_CALLS {
                return Err(Error::invalid_argument(format!("max_calls must be 1..={MAX_CALLS}")));
            }
        }
        if let Some(r) = &self.rate {
            r.validate()?;
        }
        Ok(())
    }

    /// Checks that this budget, asked by a delegation, does not widen `parent` (the effective
    /// budget of the chain above: a child may not state more lifetime calls than its parent,
    /// nor a wider rate; an axis the parent does not limit is free). Else `attenuation_widens`.
    pub fn check_within(&self, parent: &Budget) -> Result<()> {
        self.validate()?;
        if let (Some(c), Some(p)) = (self.max_calls, parent.max_calls) {
            if c > p {
                return Err(Error::new(ErrorKind::AttenuationWidens, format!("max_calls {c} exceeds the parent's {p}")));
            }
        }
        if let (Some(c), Some(p)) = (&self.rate, &parent.rate) {
            if !c.within(p) {
                return Err(Error::new(
                    ErrorKind::AttenuationWidens,
                    format!("rate {}/{}s is wider than the parent's {}/{}s", c.calls, c.window_seconds, p.calls, p.window_seconds),
                ));
            }
        }
        Ok(())
    }

    /// The tightest of two budgets, axis by axis (what a chain allows below both).
    pub fn narrowest(&self, other: &Budget) -> Budget {
        let max_calls = match (self.max_calls, other.max_calls) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let rate = match (self.rate, other.rate) {
            (Some(a), Some(b)) => Some(if a.within(&b) { a } else if b.within(&a) { b } else { Rate { calls: a.calls.min(b.calls), window_seconds: a.window_seconds.max(b.window_seconds) } }),
            (a, b) => a.or(b),
        };
        Budget { max_calls, rate }
    }
}

/// One counter to spend a call against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetCharge {
    key: String,
    limit: u64,
    ttl_ms: u64,
    hop: usize,
    now: u64,
}

impl BudgetCharge {
    /// The store key: `marque:budget:` + 64 hex digits.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Most calls the counter may count.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// How long the store keeps the counter, in milliseconds (to the window's end, or the
    /// token's expiry for a lifetime budget).
    pub fn ttl_ms(&self) -> u64 {
        self.ttl_ms
    }

    /// The index of the hop whose budget this is, in the order given to [`charges`].
    pub fn hop(&self) -> usize {
        self.hop
    }

    /// The decision time this charge was made for (seconds since the epoch): an in-process
    /// store measures expiry against it (wasm32 has no monotonic clock).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// When the counter may be dropped (seconds since the epoch): `now` plus the ttl.
    #[cfg(feature = "std")]
    fn until(&self) -> u64 {
        self.now.saturating_add(self.ttl_ms / 1000)
    }
}

/// The answer of a [`CounterStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spend {
    /// Every counter had room: each now counts one more call.
    Spent,
    /// The counter of this hop (index given to [`charges`]) is exhausted; nothing was counted.
    Exhausted {
        /// Index of the hop whose budget ran out.
        hop: usize,
    },
}

/// The Lua script a Redis/Valkey counter store runs for one call (one `EVAL`, so it is atomic
/// on the server): `KEYS` are the charges' keys in order, `ARGV` each charge's limit then its
/// time to live in milliseconds (`limit1, ttl1, limit2, ttl2, …`). It answers the 1-based index
/// of the first counter at its limit (nothing counted), else increments each counter, gives a
/// new one its time to live, and answers 0. Read the answer with [`redis_spend_reply`]. The
/// `marque-redis` crate and the bindings' Redis-client stores all run this one script.
pub const REDIS_SPEND_SCRIPT: &str = r#"
for i = 1, #KEYS do
  local c = tonumber(redis.call('GET', KEYS[i]) or '0')
  if c >= tonumber(ARGV[2 * i - 1]) then return i end
end
for i = 1, #KEYS do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2 * i]) end
end
return 0
"#;

/// The `EVAL` arguments of [`REDIS_SPEND_SCRIPT`] after the key count: the keys, then each
/// charge's limit and time to live (milliseconds), as text.
pub fn redis_spend_args(charges: &[BudgetCharge]) -> Vec<String> {
    let mut out: Vec<String> = charges.iter().map(|c| c.key.clone()).collect();
    for c in charges {
        out.push(format!("{}", c.limit));
        out.push(format!("{}", c.ttl_ms));
    }
    out
}

/// What an answer of [`REDIS_SPEND_SCRIPT`] means for `charges`: 0 is [`Spend::Spent`], `i` the
/// exhaustion of the `i`-th charge's hop; anything else is `replay_store_unavailable` (the store
/// answered something it should not: fail closed).
///
/// ```
/// use marque::budget::{charges, redis_spend_reply, Budget, Spend};
/// let c = charges([("rev", &Budget::max_calls(2))], 1_767_225_600, 1_767_229_200)?;
/// assert_eq!(redis_spend_reply(&c, 0)?, Spend::Spent);
/// assert_eq!(redis_spend_reply(&c, 1)?, Spend::Exhausted { hop: 0 });
/// assert_eq!(redis_spend_reply(&c, 2).unwrap_err().code(), "replay_store_unavailable");
/// # Ok::<(), marque::Error>(())
/// ```
pub fn redis_spend_reply(charges: &[BudgetCharge], reply: i64) -> Result<Spend> {
    if reply == 0 {
        return Ok(Spend::Spent);
    }
    match usize::try_from(reply).ok().and_then(|i| charges.get(i.wrapping_sub(1))) {
        Some(c) => Ok(Spend::Exhausted { hop: c.hop }),
        None => Err(crate::replay::unavailable(format!("the budget store answered {reply}, not a counter index"))),
    }
}

/// Where budget counters live. Implementations must spend atomically and all or nothing (see
/// the module doc); one that cannot answer returns an error — by convention
/// [`replay::unavailable`](crate::replay::unavailable) — and the call is not allowed.
pub trait CounterStore: Send + Sync {
    /// Spends one call against every charge, or none if any is exhausted.
    fn spend(&self, charges: &[BudgetCharge]) -> Result<Spend>;
}

fn counter_key(revocation_id: &str, kind: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"marque-budget/1\0");
    h.update(revocation_id.as_bytes());
    h.update([0]);
    h.update(kind.as_bytes());
    crate::replay::store_key(KEY_PREFIX, h.finalize().into())
}

/// The charges of one call at `now` for a chain's budgets — `(revocation id, budget)` per hop,
/// in chain order; hops without a budget give none — for a token that expires at `expires_at`
/// (lifetime counters live until then, plus a minute of clock skew).
pub fn charges<'a>(hops: impl IntoIterator<Item = (&'a str, &'a Budget)>, now: u64, expires_at: u64) -> Result<Vec<BudgetCharge>> {
    crate::clock::check("now", now)?;
    let mut out = Vec::new();
    for (hop, (revocation_id, budget)) in hops.into_iter().enumerate() {
        budget.validate()?;
        if let Some(limit) = budget.max_calls {
            let ttl = expires_at.saturating_sub(now).saturating_add(60).max(1);
            out.push(BudgetCharge { key: counter_key(revocation_id, "life"), limit, ttl_ms: ttl.saturating_mul(1000), hop, now });
        }
        if let Some(rate) = budget.rate {
            let window = now / rate.window_seconds;
            let ends = window.saturating_add(1).saturating_mul(rate.window_seconds);
            let ttl = ends.saturating_sub(now).saturating_add(60);
            out.push(BudgetCharge {
                key: counter_key(revocation_id, &format!("rate:{}:{}", rate.window_seconds, window)),
                limit: rate.calls,
                ttl_ms: ttl.saturating_mul(1000),
                hop,
                now,
            });
        }
    }
    Ok(out)
}

/// Counter key → (count, expiry in seconds since the epoch).
#[cfg(feature = "std")]
type Counters = std::collections::BTreeMap<String, (u64, u64)>;

/// The default store: counters in this process, at most `capacity` of them (expired ones are
/// dropped to make room; a store still full is `limits_exceeded`, the call is not allowed).
/// Expiry is measured in decision time (each charge's `now`, seconds), like the replay cache:
/// no system clock, so it runs on wasm32 too.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct MemoryCounterStore {
    /// key → (count, expiry in seconds since the epoch); plus the latest decision time seen.
    counters: std::sync::Mutex<(Counters, u64)>,
    capacity: usize,
}

#[cfg(feature = "std")]
impl MemoryCounterStore {
    /// A store of at most `capacity` live counters.
    pub fn new(capacity: usize) -> Self {
        MemoryCounterStore { counters: std::sync::Mutex::new((std::collections::BTreeMap::new(), 0)), capacity }
    }

    /// The count of a counter (0 when absent or expired at the latest decision time seen).
    pub fn count(&self, key: &str) -> u64 {
        let guard = self.counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (map, now) = &*guard;
        map.get(key).filter(|(_, until)| until > now).map_or(0, |(c, _)| *c)
    }
}

#[cfg(feature = "std")]
impl CounterStore for MemoryCounterStore {
    fn spend(&self, charges: &[BudgetCharge]) -> Result<Spend> {
        let Some(now) = charges.iter().map(BudgetCharge::now).max() else {
            return Ok(Spend::Spent);
        };
        let mut guard = self.counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.1 = guard.1.max(now);
        let map = &mut guard.0;
        let live = |map: &Counters, key: &str| map.get(key).filter(|(_, until)| *until > now).map_or(0, |(c, _)| *c);
        if let Some(c) = charges.iter().find(|c| live(map, &c.key) >= c.limit) {
            return Ok(Spend::Exhausted { hop: c.hop });
        }
        let fresh = charges.iter().filter(|c| live(map, &c.key) == 0).count();
        if map.len().saturating_add(fresh) > self.capacity {
            map.retain(|_, (_, until)| *until > now);
            if map.len().saturating_add(fresh) > self.capacity {
                return Err(Error::new(ErrorKind::LimitsExceeded, format!("the budget store is full ({} counters)", self.capacity)));
            }
        }
        for c in charges {
            let count = live(map, &c.key);
            let until = c.until();
            let entry = map.entry(c.key.clone()).or_insert((0, until));
            if count == 0 {
                *entry = (0, until);
            }
            entry.0 = count.saturating_add(1);
        }
        Ok(Spend::Spent)
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    const T: u64 = 1_767_225_600;

    #[test]
    fn all_or_nothing_across_hops() {
        let store = MemoryCounterStore::new(100);
        let parent = Budget::max_calls(3);
        let child = Budget::max_calls(1);
        let sibling = Budget::max_calls(5);
        let a = charges([("p", &parent), ("a", &child)], T, T + 100).unwrap();
        let b = charges([("p", &parent), ("b", &sibling)], T, T + 100).unwrap();
        assert_eq!(store.spend(&a).unwrap(), Spend::Spent);
        assert_eq!(store.spend(&a).unwrap(), Spend::Exhausted { hop: 1 });
        // The refused call counted nothing against the parent: the sibling still gets 2.
        assert_eq!(store.count(a[0].key()), 1);
        assert_eq!(store.spend(&b).unwrap(), Spend::Spent);
        assert_eq!(store.spend(&b).unwrap(), Spend::Spent);
        assert_eq!(store.spend(&b).unwrap(), Spend::Exhausted { hop: 0 }, "the parent's 3 calls bound both children");
    }

    #[test]
    fn counters_expire_in_decision_time() {
        // No system clock (wasm32 has none): a counter lives until its charge's `now` + ttl.
        let store = MemoryCounterStore::new(1);
        let once = Budget::max_calls(1);
        let first = charges([("a", &once)], T, T + 10).unwrap();
        assert_eq!(store.spend(&first).unwrap(), Spend::Spent);
        let other = |now| charges([("b", &once)], now, now + 10).unwrap();
        assert_eq!(store.spend(&other(T + 1)).unwrap_err().code(), "limits_exceeded", "a is still live");
        // Past a's expiry (T + 10 + 60 s of skew), its slot is free again.
        assert_eq!(store.spend(&other(T + 71)).unwrap(), Spend::Spent);
        assert_eq!(store.count(first[0].key()), 0);
    }

    #[test]
    fn windows_are_fixed_and_keys_hashed() {
        let r = Budget::rate(Rate::new(2, 60).unwrap());
        let c0 = charges([("h", &r)], T, T + 1000).unwrap();
        let c1 = charges([("h", &r)], T + 59, T + 1000).unwrap();
        let c2 = charges([("h", &r)], T + 60, T + 1000).unwrap();
        assert_eq!(c0[0].key(), c1[0].key(), "T is a multiple of 60: one window");
        assert_ne!(c0[0].key(), c2[0].key());
        assert!(c0[0].key().starts_with(KEY_PREFIX) && c0[0].key().len() == KEY_PREFIX.len() + 64);
        assert_eq!(c0[0].ttl_ms(), 120_000);
        assert_ne!(charges([("other", &r)], T, T + 1000).unwrap()[0].key(), c0[0].key());
        let life = charges([("h", &Budget::max_calls(1))], T, T + 1000).unwrap();
        assert_ne!(life[0].key(), c0[0].key());
        assert_eq!(life[0].ttl_ms(), 1_060_000);
        assert!(charges([("h", &Budget::default())], T, T).unwrap().is_empty());
    }

    #[test]
    fn ranges_and_narrowing() {
        assert_eq!(Rate::new(0, 60).unwrap_err().code(), "invalid_argument");
        assert_eq!(Rate::new(1, 0).unwrap_err().code(), "invalid_argument");
        assert_eq!(Rate::new(1, MAX_WINDOW_SECONDS + 1).unwrap_err().code(), "invalid_argument");
        assert_eq!(Budget::max_calls(0).validate().unwrap_err().code(), "invalid_argument");
        assert_eq!(charges([("h", &Budget::max_calls(0))], T, T).unwrap_err().code(), "invalid_argument");
        assert_eq!(charges([("h", &Budget::max_calls(1))], T * 1000, T).unwrap_err().code(), "invalid_argument", "milliseconds");
        let parent = Budget { max_calls: Some(10), rate: Some(Rate::new(5, 60).unwrap()) };
        assert!(Budget::max_calls(10).check_within(&parent).is_ok());
        assert_eq!(Budget::max_calls(11).check_within(&parent).unwrap_err().code(), "attenuation_widens");
        assert_eq!(Budget::rate(Rate::new(6, 60).unwrap()).check_within(&parent).unwrap_err().code(), "attenuation_widens");
        assert_eq!(Budget::rate(Rate::new(5, 30).unwrap()).check_within(&parent).unwrap_err().code(), "attenuation_widens");
        assert!(Budget::rate(Rate::new(1, 3600).unwrap()).check_within(&parent).is_ok());
        assert!(Budget::max_calls(1_000).check_within(&Budget::default()).is_ok());
        let n = parent.narrowest(&Budget::max_calls(3));
        assert_eq!(n, Budget { max_calls: Some(3), rate: parent.rate });
    }

    #[test]
    fn a_full_store_fails_closed_after_dropping_expired_counters() {
        let store = MemoryCounterStore::new(2);
        let b = Budget::max_calls(5);
        assert_eq!(store.spend(&charges([("a", &b), ("b", &b)], T, T + 10).unwrap()).unwrap(), Spend::Spent);
        assert_eq!(store.spend(&charges([("c", &b)], T, T + 10).unwrap()).unwrap_err().code(), "limits_exceeded");
        // Existing counters still count.
        assert_eq!(store.spend(&charges([("a", &b)], T, T + 10).unwrap()).unwrap(), Spend::Spent);
    }
}
