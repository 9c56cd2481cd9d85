//! A loopback fleet on a real `redis-server`: two verifiers (two stores, two connections) and a
//! second process share one Redis; a proof accepted by one is refused by the others; Redis
//! stopped → `replay_store_unavailable`; Redis restarted → calls succeed again with the same
//! stores. Each test starts its own server on a free 127.0.0.1 port (no persistence) and stops
//! it. Without `redis-server` the tests skip, except under `CI`, where they fail.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use marque::policy::{Request, Right};
use marque::replay::{Claim, ReplayClaim, ReplayStore};
use marque::token::MintParams;
use marque::{KeyPair, Token, Verifier};
use marque_redis::RedisReplayStore;

const NOW: u64 = 1_767_225_600;

struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    /// A fresh server, or None (skip) when redis-server is not installed outside CI.
    fn start() -> Option<Redis> {
        let found = Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_ok();
        if !found {
            assert!(std::env::var_os("CI").is_none(), "redis-server is not installed (scripts/install.sh installs it)");
            eprintln!("skipped: redis-server is not installed");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut r = Redis { port, child: None };
        r.restart();
        Some(r)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen on {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn keys() -> (KeyPair, KeyPair) {
    (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]))
}

fn token() -> Token {
    let (root, agent) = keys();
    Token::mint(
        &root,
        &MintParams::new("agent:a", agent.public_key(), "user:alice").right(Right::new("read_file", "read", "*")).now(NOW),
    )
    .unwrap()
}

fn verifier(url: &str) -> Verifier {
    let store = RedisReplayStore::open(url).unwrap().with_timeout(Duration::from_millis(500)).unwrap();
    Verifier::new([keys().0.public_key()]).with_replay_store(Arc::new(store))
}

fn read() -> Request {
    Request::new("read_file", "read", "src/a.rs")
}

fn fresh_proof(t: &Token) -> String {
    t.sign_proof(&keys().1, &read(), Some(NOW)).unwrap()
}

/// The outcome code of one call: "allowed", a denial code, or an error code.
fn outcome(v: &Verifier, t: &Token, proof: &str) -> String {
    match v.authorize(t.to_bytes(), &read(), Some(proof), Some(NOW + 1)) {
        Ok(d) if d.allowed => "allowed".into(),
        Ok(d) => d.code.unwrap_or_default(),
        Err(e) => e.code().into(),
    }
}

/// The same call in another process: this test binary, re-run on `second_process_child`.
fn outcome_in_another_process(url: &str, t: &Token, proof: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "second_process_child", "--nocapture", "--test-threads", "1"])
        .env("MARQUE_REDIS_CHILD", format!("{url} {} {proof}", t.to_base64()))
        .stderr(Stdio::inherit())
        .output()
        .expect("run the child");
    BufReader::new(&out.stdout[..])
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.split_once("OUTCOME=").map(|(_, o)| o.trim().to_string()))
        .unwrap_or_else(|| panic!("the child printed no outcome: {}", String::from_utf8_lossy(&out.stdout)))
}

/// Run by `outcome_in_another_process` only (a no-op otherwise).
#[test]
fn second_process_child() {
    let Some(arg) = std::env::var_os("MARQUE_REDIS_CHILD") else { return };
    let arg = arg.into_string().unwrap();
    let [url, token, proof] = arg.split(' ').collect::<Vec<_>>()[..] else { panic!("{arg}") };
    let token = Token::from_base64(token).unwrap();
    println!("OUTCOME={}", outcome(&verifier(url), &token, proof));
}

#[test]
fn a_proof_is_used_once_across_verifiers_and_processes() {
    let Some(redis) = Redis::start() else { return };
    let t = token();
    let (one, two) = (verifier(&redis.url()), verifier(&redis.url()));

    let p = fresh_proof(&t);
    assert_eq!(outcome(&one, &t, &p), "allowed");
    assert_eq!(outcome(&two, &t, &p), "replayed_proof");
    assert_eq!(outcome(&one, &t, &p), "replayed_proof");
    assert_eq!(outcome_in_another_process(&redis.url(), &t, &p), "replayed_proof");

    // The other way round: accepted by the other process, refused here.
    let q = fresh_proof(&t);
    assert_eq!(outcome_in_another_process(&redis.url(), &t, &q), "allowed");
    assert_eq!(outcome(&one, &t, &q), "replayed_proof");
    assert_eq!(outcome(&two, &t, &q), "replayed_proof");

    // Control: a verifier with its own (in-memory) store accepts the used proof again — the
    // per-process weakness the shared store removes.
    let alone = Verifier::new([keys().0.public_key()]);
    assert_eq!(outcome(&alone, &t, &q), "allowed");
}

#[test]
fn redis_down_fails_closed_and_recovery_is_automatic() {
    let Some(mut redis) = Redis::start() else { return };
    let t = token();
    let (one, two) = (verifier(&redis.url()), verifier(&redis.url()));
    assert_eq!(outcome(&one, &t, &fresh_proof(&t)), "allowed");

    redis.stop();
    let p = fresh_proof(&t);
    assert_eq!(outcome(&one, &t, &p), "replay_store_unavailable");
    assert_eq!(outcome(&two, &t, &p), "replay_store_unavailable");
    assert_eq!(outcome_in_another_process(&redis.url(), &t, &p), "replay_store_unavailable");
    // A call without a proof does not need the store.
    assert!(one.authorize(t.to_bytes(), &read(), None, Some(NOW)).unwrap().allowed);

    // Same verifiers, same stores, no restart of anything but Redis.
    redis.restart();
    assert_eq!(outcome(&two, &t, &p), "allowed");
    assert_eq!(outcome(&one, &t, &p), "replayed_proof");
}

#[test]
fn the_key_expires_with_the_proof_window() {
    let Some(redis) = Redis::start() else { return };
    let store = RedisReplayStore::open(&redis.url()).unwrap();
    let signer = keys().1.public_key();
    // A 1 s window and no skew: Redis holds the key 1000 ms.
    let c = ReplayClaim::new(&signer, "n", NOW, NOW, 1, 0);
    assert_eq!(c.ttl_ms(), 1000);
    assert_eq!(store.claim(&c).unwrap(), Claim::Claimed);
    assert_eq!(store.claim(&c).unwrap(), Claim::AlreadyUsed);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        std::thread::sleep(Duration::from_millis(200));
        if store.claim(&c).unwrap() == Claim::Claimed {
            break;
        }
        assert!(Instant::now() < deadline, "the key never expired");
    }
}

#[test]
fn a_server_that_never_answers_times_out_as_unavailable() {
    // A listener that accepts and says nothing: a hung Redis.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let _hold = std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().flatten() {
            held.push(s);
        }
    });
    let store = RedisReplayStore::open(&format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .with_timeout(Duration::from_millis(200))
        .unwrap();
    let v = Verifier::new([keys().0.public_key()]).with_replay_store(Arc::new(store));
    let t = token();
    let start = Instant::now();
    assert_eq!(outcome(&v, &t, &fresh_proof(&t)), "replay_store_unavailable");
    // Bounded by the timeout (a generous margin: this is not a timing test).
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn bad_configuration_is_refused() {
    assert_eq!(RedisReplayStore::open("http://nope").unwrap_err().code(), "invalid_argument");
    let s = RedisReplayStore::open("redis://127.0.0.1:1/").unwrap();
    assert_eq!(s.with_timeout(Duration::ZERO).unwrap_err().code(), "invalid_argument");
    // Nothing listens on port 1: unavailable, not a panic or an allow.
    let s = RedisReplayStore::open("redis://127.0.0.1:1/").unwrap();
    let c = ReplayClaim::new(&keys().1.public_key(), "n", NOW, NOW, 60, 5);
    assert_eq!(s.claim(&c).unwrap_err().code(), "replay_store_unavailable");
}

/// Budgets on one Redis: two stores (two verifier processes' worth of connections) spend against
/// the same counters; all or nothing; concurrent spenders never exceed the limit; Redis down →
/// `replay_store_unavailable`; the counters expire with their window.
#[test]
fn budgets_are_shared_atomic_and_fail_closed() {
    use marque::budget::{charges, Budget, CounterStore, Rate, Spend};
    use marque_redis::RedisCounterStore;
    let Some(mut redis) = Redis::start() else { return };
    let a = Arc::new(RedisCounterStore::open(&redis.url()).unwrap());
    let b = RedisCounterStore::open(&redis.url()).unwrap();
    let parent = Budget::max_calls(3);
    let child = Budget::max_calls(1);
    let sibling = Budget::max_calls(10);
    let via_child = charges([("p", &parent), ("c", &child)], NOW, NOW + 600).unwrap();
    let via_sibling = charges([("p", &parent), ("s", &sibling)], NOW, NOW + 600).unwrap();
    assert_eq!(a.spend(&via_child).unwrap(), Spend::Spent);
    assert_eq!(b.spend(&via_child).unwrap(), Spend::Exhausted { hop: 1 }, "the child's one call is spent fleet-wide");
    assert_eq!(b.spend(&via_sibling).unwrap(), Spend::Spent, "the refused call counted nothing against the parent");
    assert_eq!(a.spend(&via_sibling).unwrap(), Spend::Spent);
    assert_eq!(b.spend(&via_sibling).unwrap(), Spend::Exhausted { hop: 0 });

    // Eight threads race for a budget of 5: exactly 5 calls are counted.
    let race = Budget::max_calls(5);
    let spent = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            let a = a.clone();
            let spent = &spent;
            let race = &race;
            s.spawn(move || {
                for _ in 0..3 {
                    if a.spend(&charges([("race", race)], NOW, NOW + 600).unwrap()).unwrap() == Spend::Spent {
                        spent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
            });
        }
    });
    assert_eq!(spent.load(std::sync::atomic::Ordering::SeqCst), 5);

    // A rate counter lives to the end of its window (plus the skew minute), not forever.
    let rate = Budget::rate(Rate::new(2, 60).unwrap());
    let c = charges([("r", &rate)], NOW + 30, NOW + 600).unwrap();
    assert_eq!(a.spend(&c).unwrap(), Spend::Spent);
    let mut con = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    let pttl: i64 = redis::cmd("PTTL").arg(c[0].key()).query(&mut con).unwrap();
    assert!(pttl > 80_000 && pttl <= 90_000, "{pttl}");

    redis.stop();
    assert_eq!(a.spend(&via_sibling).unwrap_err().code(), "replay_store_unavailable");
    redis.restart();
    assert_eq!(a.spend(&charges([("fresh", &sibling)], NOW, NOW + 600).unwrap()).unwrap(), Spend::Spent);
}
