//! The replay-store contract seen from verifiers: a store shared by two verifiers refuses a
//! proof's second use whichever verifier sees it; a store that fails makes the call an error
//! (`replay_store_unavailable`), never an allow, and the next call after it recovers works; a
//! denied call never claims; a store sees only namespaced hashes, never token material.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use marque::policy::{Request, Right};
use marque::replay::{unavailable, Claim, MemoryReplayStore, ReplayClaim, ReplayStore};
use marque::token::MintParams;
use marque::{Error, ErrorKind, KeyPair, Token, Verifier};

const NOW: u64 = 1_767_225_600;

/// A memory store that can be switched off (as Redis going down) and records what it was given.
struct Flaky {
    inner: MemoryReplayStore,
    down: AtomicBool,
    claims: AtomicUsize,
    keys: Mutex<Vec<(String, u64)>>,
    /// The error a down store returns (a store may report any kind; the verifier normalizes).
    error: fn() -> Error,
}

impl Flaky {
    fn new(error: fn() -> Error) -> Arc<Flaky> {
        Arc::new(Flaky {
            inner: MemoryReplayStore::new(1000, 1000),
            down: AtomicBool::new(false),
            claims: AtomicUsize::new(0),
            keys: Mutex::new(Vec::new()),
            error,
        })
    }
}

impl ReplayStore for Flaky {
    fn claim(&self, c: &ReplayClaim) -> marque::Result<Claim> {
        self.claims.fetch_add(1, Ordering::SeqCst);
        self.keys.lock().unwrap().push((c.key().to_string(), c.ttl_ms()));
        if self.down.load(Ordering::SeqCst) {
            return Err((self.error)());
        }
        self.inner.claim(c)
    }
}

struct World {
    root: KeyPair,
    agent: KeyPair,
    token: Token,
}

fn world() -> World {
    let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
    let token = Token::mint(
        &root,
        &MintParams::new("agent:a", agent.public_key(), "user:alice").right(Right::new("read_file", "read", "src/")).now(NOW),
    )
    .unwrap();
    World { root, agent, token }
}

fn verifier(w: &World, store: Arc<dyn ReplayStore>) -> Verifier {
    Verifier::new([w.root.public_key()]).with_replay_store(store)
}

fn read(resource: &str) -> Request {
    Request::new("read_file", "read", resource)
}

fn proof(w: &World, r: &Request) -> String {
    w.token.sign_proof(&w.agent, r, Some(NOW)).unwrap()
}

#[test]
fn two_verifiers_sharing_a_store_refuse_the_second_use() {
    let w = world();
    let store = Flaky::new(|| unavailable("down"));
    let (one, two) = (verifier(&w, store.clone()), verifier(&w, store.clone()));
    let r = read("src/a.rs");
    let p = proof(&w, &r);
    let first = one.authorize(w.token.to_bytes(), &r, Some(&p), Some(NOW)).unwrap();
    assert!(first.allowed && first.proof_verified);
    let second = two.authorize(w.token.to_bytes(), &r, Some(&p), Some(NOW + 1)).unwrap();
    assert!(!second.allowed && !second.proof_verified);
    assert_eq!(second.code.as_deref(), Some("replayed_proof"));
    assert_eq!(second.policy, None);
    // And back on the first verifier too.
    let third = one.authorize(w.token.to_bytes(), &r, Some(&p), Some(NOW + 2)).unwrap();
    assert_eq!(third.code.as_deref(), Some("replayed_proof"));
    // Control: without the shared store, the second verifier (its own memory) accepts it — which
    // is exactly the per-process weakness a shared store removes.
    let alone = Verifier::new([w.root.public_key()]);
    assert!(alone.authorize(w.token.to_bytes(), &r, Some(&p), Some(NOW + 1)).unwrap().allowed);
}

#[test]
fn a_store_that_fails_is_an_error_never_an_allow_and_recovery_is_automatic() {
    // Whatever kind of error the store reports, the verifier reports `replay_store_unavailable`.
    for error in [|| unavailable("connection refused"), || Error::new(ErrorKind::Internal, "bad reply"), || {
        Error::new(ErrorKind::ReplayedProof, "a confused store")
    }] {
        let w = world();
        let store = Flaky::new(error);
        let v = verifier(&w, store.clone());
        let r = read("src/a.rs");
        let p = proof(&w, &r);
        store.down.store(true, Ordering::SeqCst);
        let e = v.authorize(w.token.to_bytes(), &r, Some(&p), Some(NOW)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ReplayStoreUnavailable, "{e}");
        assert_eq!(e.code(), "replay_store_unavailable");
        let e = v.authorize_or_raise(w.token.to_bytes(), &r, Some(&p), Some(NOW)).unwrap_err();
        assert_eq!(e.code(), "replay_store_unavailable");
        // The store is back: the same proof (never claimed) is accepted once, then refused.
        store.down.store(false, Ordering::SeqCst);
        assert!(v.authorize(w.token.to_bytes(), &r, Some(&p), Some(NOW)).unwrap().allowed);
        let again = v.authorize(w.token.to_bytes(), &r, Some(&p), Some(NOW)).unwrap();
        assert_eq!(again.code.as_deref(), Some("replayed_proof"));
        // Calls without a proof never ask the store, up or down.
        store.down.store(true, Ordering::SeqCst);
        let before = store.claims.load(Ordering::SeqCst);
        assert!(v.authorize(w.token.to_bytes(), &r, None, Some(NOW)).unwrap().allowed);
        assert_eq!(store.claims.load(Ordering::SeqCst), before);
    }
}

#[test]
fn a_denied_call_never_claims_and_so_never_burns_the_nonce() {
    let w = world();
    let store = Flaky::new(|| unavailable("down"));
    let v = verifier(&w, store.clone());
    let outside = read("secrets/key");
    let p = proof(&w, &outside);
    // Denied by Datalog: no claim, whether the store is up or down (no error either).
    store.down.store(true, Ordering::SeqCst);
    let d = v.authorize(w.token.to_bytes(), &outside, Some(&p), Some(NOW)).unwrap();
    assert_eq!(d.code.as_deref(), Some("not_authorized"));
    store.down.store(false, Ordering::SeqCst);
    let d = v.authorize(w.token.to_bytes(), &outside, Some(&p), Some(NOW)).unwrap();
    assert_eq!(d.code.as_deref(), Some("not_authorized"));
    // A proof for another request, a stale proof: refused before any claim.
    let r = read("src/a.rs");
    let d = v.authorize(w.token.to_bytes(), &r, Some(&p), Some(NOW)).unwrap();
    assert_eq!(d.code.as_deref(), Some("invalid_proof"));
    let d = v.authorize(w.token.to_bytes(), &r, Some(&proof(&w, &r)), Some(NOW + 61)).unwrap();
    assert_eq!(d.code.as_deref(), Some("invalid_proof"));
    assert_eq!(store.claims.load(Ordering::SeqCst), 0);
}

#[test]
fn the_store_sees_a_namespaced_hash_and_the_proof_window_only() {
    let w = world();
    let store = Flaky::new(|| unavailable("down"));
    let v = verifier(&w, store.clone());
    let r = read("src/a.rs");
    let p = proof(&w, &r);
    let d = v.authorize(w.token.to_bytes(), &r, Some(&p), Some(NOW + 10)).unwrap();
    assert!(d.allowed, "{d:?}");
    let keys = store.keys.lock().unwrap().clone();
    assert_eq!(keys.len(), 1);
    let (key, ttl) = &keys[0];
    let hex = key.strip_prefix("marque:replay:").expect("namespaced");
    assert_eq!(hex.len(), 64);
    assert!(hex.bytes().all(|c| c.is_ascii_hexdigit()));
    // No token material: not the nonce, the proof, the token or the agent's key.
    let nonce = p.split('.').next().unwrap();
    for secretish in [nonce, &p, &w.token.to_base64(), &w.agent.public_key().to_hex()] {
        assert!(!key.contains(secretish));
    }
    // TTL: the proof window plus the future skew of the verifier's limits, in milliseconds.
    let l = v.limits();
    assert_eq!(*ttl, (l.proof_window_seconds + l.proof_future_skew_seconds) * 1000);
}

#[test]
fn set_limits_keeps_a_custom_store() {
    let w = world();
    let store = Flaky::new(|| unavailable("down"));
    let mut v = verifier(&w, store.clone());
    v.set_limits(marque::Limits::default());
    let r = read("src/a.rs");
    let p = proof(&w, &r);
    store.down.store(true, Ordering::SeqCst);
    assert_eq!(v.authorize(w.token.to_bytes(), &r, Some(&p), Some(NOW)).unwrap_err().code(), "replay_store_unavailable");
}
