//! Authorize-with-proof, in-memory replay store vs Redis on loopback: p50/p99 latency and
//! throughput, one thread and two. Starts its own `redis-server` on a free 127.0.0.1 port.
//! Proofs are signed before timing (each is single-use); every timed call is allowed and claims.
//! `cargo bench -p marque-redis` (MARQUE_BENCH_CALLS sets the calls per run, default 20000).

use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use marque::policy::{Request, Right};
use marque::token::MintParams;
use marque::{KeyPair, Limits, Token, Verifier};
use marque_redis::RedisReplayStore;

const NOW: u64 = 1_767_225_600;

fn main() {
    let calls: usize = std::env::var("MARQUE_BENCH_CALLS").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (scripts/install.sh installs it)");
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = format!("redis://127.0.0.1:{port}/");
    let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
    let token = Token::mint(
        &root,
        &MintParams::new("agent:a", agent.public_key(), "user:alice").right(Right::new("read_file", "read", "*")).now(NOW),
    )
    .unwrap();
    let req = Request::new("read_file", "read", "src/a.rs");
    let limits = Limits { replay_cache_capacity: 10_000_000, replay_cache_per_key: 10_000_000, ..Limits::default() };
    let proofs = |n: usize| -> Vec<String> { (0..n).map(|_| token.sign_proof(&agent, &req, Some(NOW)).unwrap()).collect() };

    println!("store      threads  calls   p50 µs   p99 µs   calls/s");
    for threads in [1usize, 2] {
        for redis in [false, true] {
            let mut v = Verifier::new([root.public_key()]).with_limits(limits.clone());
            if redis {
                v.set_replay_store(Arc::new(RedisReplayStore::open(&url).unwrap()));
            }
            let v = Arc::new(v);
            // Warm the verified-token cache and the connections.
            for p in proofs(100) {
                assert!(v.authorize(token.to_bytes(), &req, Some(&p), Some(NOW)).unwrap().allowed);
            }
            let batches: Vec<Vec<String>> = (0..threads).map(|_| proofs(calls / threads)).collect();
            let start = Instant::now();
            let handles: Vec<_> = batches
                .into_iter()
                .map(|batch| {
                    let (v, token, req) = (v.clone(), token.clone(), req.clone());
                    std::thread::spawn(move || {
                        let mut lat = Vec::with_capacity(batch.len());
                        for p in batch {
                            let t = Instant::now();
                            let d = v.authorize(token.to_bytes(), &req, Some(&p), Some(NOW)).unwrap();
                            lat.push(t.elapsed());
                            assert!(d.allowed);
                        }
                        lat
                    })
                })
                .collect();
            let mut lat: Vec<Duration> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
            let wall = start.elapsed();
            lat.sort();
            let pct = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e6;
            println!(
                "{:<10} {:>7} {:>6} {:>8.1} {:>8.1} {:>9.0}",
                if redis { "redis" } else { "memory" },
                threads,
                lat.len(),
                pct(0.5),
                pct(0.99),
                lat.len() as f64 / wall.as_secs_f64()
            );
        }
    }
    let _ = server.kill();
    let _ = server.wait();
}
