//! Redis (or Valkey) stores for marque verifiers: give every verifier process of a fleet a
//! [`RedisReplayStore`] on the same server and a proof of possession accepted by one is refused
//! (`replayed_proof`) by all; give them a [`RedisCounterStore`] and the call budgets of
//! delegations (`marque::budget`) are counted once for the whole fleet.
//!
//! Each claim is one atomic `SET key 1 NX PX ttl`: `OK` is the first use, nil means the key is
//! held (already used). Keys are `marque:replay:` + a hex SHA-256 (no token material reaches
//! Redis) and live for the proof window plus the future-skew allowance, so Redis forgets them on
//! its own. Connecting, sending and reading are each bounded by a timeout (default 250 ms);
//! a refused connection, a timeout or an unexpected reply is `replay_store_unavailable` — the
//! call fails closed — and the connection is dropped, so the next call reconnects: recovery
//! needs nothing. Idle connections are kept in a small pool, so concurrent verifications do not
//! queue behind one socket.
//!
//! ```no_run
//! use std::sync::Arc;
//! use marque::Verifier;
//! use marque_redis::RedisReplayStore;
//! # let root = marque::KeyPair::from_seed(&[1; 32]).public_key();
//! let store = RedisReplayStore::open("redis://127.0.0.1:6379/")?
//!     .with_timeout(std::time::Duration::from_millis(100))?;
//! let verifier = Verifier::new([root]).with_replay_store(Arc::new(store));
//! # Ok::<(), marque::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use marque::budget::{BudgetCharge, CounterStore, Spend};
use marque::replay::{unavailable, Claim, ReplayClaim, ReplayStore};
use marque::{Error, ErrorKind, Result};

/// The default bound on connecting, and on each send and read.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);
/// How many idle connections a store keeps.
const MAX_IDLE: usize = 16;

/// A [`ReplayStore`] on a Redis or Valkey server (see the crate doc).
pub struct RedisReplayStore {
    client: redis::Client,
    timeout: Duration,
    idle: Mutex<Vec<redis::Connection>>,
}

impl std::fmt::Debug for RedisReplayStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("RedisReplayStore").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl RedisReplayStore {
    /// A store on the server at `url` (`redis://[user:password@]host:port/[db]`, or `rediss://`
    /// when the `redis` crate is built with TLS). Nothing is connected yet: the first claim
    /// connects. A malformed URL is `invalid_argument`.
    pub fn open(url: &str) -> Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| Error::new(ErrorKind::InvalidArgument, format!("not a Redis URL: {}", e.kind_str())))?;
        Ok(RedisReplayStore { client, timeout: DEFAULT_TIMEOUT, idle: Mutex::new(Vec::new()) })
    }

    /// Bounds connecting, and each send and read, by `timeout` (default
    /// [`DEFAULT_TIMEOUT`]). Zero is `invalid_argument`.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self> {
        if timeout.is_zero() {
            return Err(Error::new(ErrorKind::InvalidArgument, "the Redis timeout must be more than zero"));
        }
        self.timeout = timeout;
        Ok(self)
    }

    /// The timeout in force.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn connection(&self) -> Result<redis::Connection> {
        if let Some(c) = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop() {
            return Ok(c);
        }
        let con = self.client.get_connection_with_timeout(self.timeout).map_err(|e| down("connect", &e))?;
        con.set_read_timeout(Some(self.timeout)).map_err(|e| down("configure", &e))?;
        con.set_write_timeout(Some(self.timeout)).map_err(|e| down("configure", &e))?;
        Ok(con)
    }

    /// The error of a failed command; drops every idle connection.
    fn broken(&self, what: &str, e: &redis::RedisError) -> Error {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
        down(what, e)
    }

    fn put_back(&self, con: redis::Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(con);
        }
    }
}

impl ReplayStore for RedisReplayStore {
    fn claim(&self, claim: &ReplayClaim) -> Result<Claim> {
        let mut con = self.connection()?;
        let reply: redis::Value = redis::cmd("SET")
            .arg(claim.key())
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(claim.ttl_ms())
            .query(&mut con)
            // The connection is dropped, not put back, and so are the idle ones (the server
            // probably went away for them too): the next call reconnects.
            .map_err(|e| self.broken("SET NX PX", &e))?;
        let outcome = match reply {
            redis::Value::Okay => Claim::Claimed,
            redis::Value::SimpleString(ref s) if s == "OK" => Claim::Claimed,
            redis::Value::Nil => Claim::AlreadyUsed,
            other => return Err(unavailable(format!("Redis answered SET NX PX with {other:?}, not OK or nil"))),
        };
        self.put_back(con);
        Ok(outcome)
    }
}

/// A [`CounterStore`] on a Redis or Valkey server: budget counters shared by a fleet.
///
/// One call is one `EVAL` of a short Lua script, so the check of every counter and the increment
/// of all of them happen atomically on the server, all or nothing: it first reads each counter
/// and answers the first one at its limit (nothing counted), else `INCR`s each and gives a new
/// counter its time to live (`PEXPIRE`, the rest of its window or the token's life). Keys are
/// `marque:budget:` + a hex SHA-256. Errors and timeouts are `replay_store_unavailable` (the
/// call fails closed), like [`RedisReplayStore`]; a standalone server or a single-shard setup is
/// assumed (the keys of one call may sit in different cluster slots).
pub struct RedisCounterStore {
    inner: RedisReplayStore,
}

impl std::fmt::Debug for RedisCounterStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCounterStore").field("timeout", &self.inner.timeout).finish_non_exhaustive()
    }
}


impl RedisCounterStore {
    /// A store on the server at `url` (see [`RedisReplayStore::open`]).
    pub fn open(url: &str) -> Result<Self> {
        Ok(RedisCounterStore { inner: RedisReplayStore::open(url)? })
    }

    /// Bounds connecting, and each send and read (see [`RedisReplayStore::with_timeout`]).
    pub fn with_timeout(self, timeout: Duration) -> Result<Self> {
        Ok(RedisCounterStore { inner: self.inner.with_timeout(timeout)? })
    }
}

impl CounterStore for RedisCounterStore {
    fn spend(&self, charges: &[BudgetCharge]) -> Result<Spend> {
        if charges.is_empty() {
            return Ok(Spend::Spent);
        }
        let mut con = self.inner.connection()?;
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(marque::budget::REDIS_SPEND_SCRIPT).arg(charges.len());
        for arg in marque::budget::redis_spend_args(charges) {
            cmd.arg(arg);
        }
        let reply: redis::Value = cmd.query(&mut con).map_err(|e| self.inner.broken("EVAL (budget)", &e))?;
        let outcome = match reply {
            redis::Value::Int(i) => marque::budget::redis_spend_reply(charges, i)?,
            other => return Err(unavailable(format!("Redis answered the budget script with {other:?}, not an integer"))),
        };
        self.inner.put_back(con);
        Ok(outcome)
    }
}

fn down(what: &str, e: &redis::RedisError) -> Error {
    let why = if e.is_timeout() { "timed out".to_string() } else { format!("{} ({})", e.kind_str(), e.category()) };
    unavailable(format!("Redis store unavailable: {what}: {why}"))
}

trait KindStr {
    fn kind_str(&self) -> String;
}

impl KindStr for redis::RedisError {
    fn kind_str(&self) -> String {
        format!("{:?}", self.kind())
    }
}
