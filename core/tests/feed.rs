//! The revocation feed (`marque::feed`): what a poller does with each answer of the publisher.
//! Every answer that is not a good, newer list keeps the list in force and backs off; the
//! staleness rule fails closed while the publisher is away and a good answer recovers; the state
//! file carries the rollback rule across a restart.

use marque::feed::{FeedAnswer, FeedOptions, FeedState};
use marque::policy::{Request, Right};
use marque::token::MintParams;
use marque::{KeyPair, RevocationList, RevocationSet, Token, Verifier};

const NOW: u64 = 1_767_225_600;

fn operator() -> KeyPair {
    KeyPair::from_seed(&[5; 32])
}

fn verifier() -> Verifier {
    let mut v = Verifier::new([KeyPair::from_seed(&[1; 32]).public_key()]).with_max_revocation_staleness(120);
    v.add_operator_key(operator().public_key());
    v
}

fn list(seq: u64, at: u64, agents: &[&str]) -> String {
    let mut set = RevocationSet::new();
    for a in agents {
        set.revoke_agent(a).unwrap();
    }
    RevocationList::sign(&set, seq, Some(at), &operator()).unwrap().to_json()
}

/// An HTTP answer: status, `ETag`, body.
type Answer<'a> = (u16, Option<&'a str>, Vec<u8>);

fn ok(body: &str, etag: &'static str) -> Answer<'static> {
    (200, Some(etag), body.as_bytes().to_vec())
}

fn apply(feed: &mut FeedState, v: &Verifier, answer: Answer<'_>, now: u64) -> marque::feed::FeedOutcome {
    feed.apply(v, FeedAnswer { status: answer.0, etag: answer.1, body: &answer.2 }, now)
}

fn token() -> Token {
    let agent = KeyPair::from_seed(&[2; 32]);
    Token::mint(
        &KeyPair::from_seed(&[1; 32]),
        &MintParams::new("agent:a", agent.public_key(), "user:alice").right(Right::new("read_file", "read", "*")).ttl_seconds(86_400).now(NOW),
    )
    .unwrap()
}

fn read(v: &Verifier, now: u64) -> String {
    match v.authorize_token(&token(), &Request::new("read_file", "read", "a"), None, Some(now)) {
        Ok(d) => d.code.unwrap_or_else(|| "allowed".into()),
        Err(e) => e.code().to_string(),
    }
}

#[test]
fn a_good_list_loads_and_304_keeps_it() {
    let v = verifier();
    let mut feed = FeedState::new(FeedOptions::default()).unwrap();
    assert_eq!(feed.etag(), None);
    let out = apply(&mut feed, &v, ok(&list(1, NOW, &[]), "\"a\""), NOW);
    assert_eq!((out.loaded, out.error, out.next_poll_in), (Some(1), None, 30));
    assert_eq!(feed.etag(), Some("\"a\""));
    let out = apply(&mut feed, &v, (304, None, vec![]), NOW + 30);
    assert_eq!((out.loaded, out.error, out.next_poll_in), (None, None, 30));
    assert_eq!(feed.last_success(), Some(NOW + 30));
    // The same list again (a server ignoring If-None-Match): nothing new, not a failure.
    let out = apply(&mut feed, &v, ok(&list(1, NOW, &[]), "\"a\""), NOW + 60);
    assert_eq!((out.loaded, out.error), (None, None));
    // A newer list revoking agent:a: enforced at once.
    assert_eq!(read(&v, NOW + 61), "allowed");
    let out = apply(&mut feed, &v, ok(&list(2, NOW + 60, &["agent:a"]), "\"b\""), NOW + 61);
    assert_eq!(out.loaded, Some(2));
    assert_eq!(read(&v, NOW + 61), "revoked");
}

#[test]
fn every_bad_answer_keeps_the_list_in_force_and_backs_off() {
    let v = verifier();
    let mut feed = FeedState::new(FeedOptions { interval: 10, max_backoff: 50 }).unwrap();
    apply(&mut feed, &v, ok(&list(5, NOW, &["agent:a"]), "\"5\""), NOW);
    let other_operator = {
        let mut set = RevocationSet::new();
        set.revoke_agent("agent:b").unwrap();
        RevocationList::sign(&set, 9, Some(NOW), &KeyPair::from_seed(&[6; 32])).unwrap().to_json()
    };
    let mut tampered = list(9, NOW, &[]);
    tampered = tampered.replace("\"sequence\":9", "\"sequence\":10");
    let answers: Vec<(Answer<'_>, &str)> = vec![
        ((500, None, vec![]), "HTTP 500"),
        ((404, None, b"not found".to_vec()), "HTTP 404"),
        ((200, Some("\"x\""), b"<html>".to_vec()), "revocation_list_invalid"),
        ((200, Some("\"x\""), vec![0xff, 0xfe]), "not UTF-8"),
        ((200, Some("\"x\""), list(4, NOW, &[]).into_bytes()), "revocation_list_rollback"),
        ((200, Some("\"x\""), other_operator.into_bytes()), "revocation_list_invalid"),
        ((200, Some("\"x\""), tampered.into_bytes()), "invalid_signature"),
    ];
    let mut waits = vec![];
    for (answer, why) in answers {
        let out = apply(&mut feed, &v, answer, NOW + 1);
        let error = out.error.clone().unwrap_or_default();
        assert!(error.contains(why), "{why}: {error}");
        assert_eq!(out.loaded, None);
        waits.push(out.next_poll_in);
        // Still list 5, its ETag unchanged.
        assert_eq!(v.revocation_list().unwrap().sequence(), 5);
        assert_eq!(feed.etag(), Some("\"5\""));
    }
    assert_eq!(waits, [20, 40, 50, 50, 50, 50, 50], "doubling, capped at max_backoff");
    assert_eq!(feed.failures(), 7);
    let out = feed.failed("connection refused");
    assert_eq!(out.error.as_deref(), Some("connection refused"));
    // A good answer resets the backoff.
    let out = apply(&mut feed, &v, (304, None, vec![]), NOW + 2);
    assert_eq!((out.error, out.next_poll_in, feed.failures(), feed.last_error()), (None, 10, 0, None));
}

#[test]
fn a_304_without_a_loaded_list_is_a_failure() {
    let v = verifier();
    let mut feed = FeedState::new(FeedOptions::default()).unwrap();
    let out = apply(&mut feed, &v, (304, None, vec![]), NOW);
    assert!(out.error.unwrap().contains("304"));
    assert!(v.revocation_list().is_none());
}

#[test]
fn the_publisher_away_fails_closed_and_a_good_answer_recovers() {
    let v = verifier();
    let mut feed = FeedState::new(FeedOptions::default()).unwrap();
    assert_eq!(read(&v, NOW), "revocation_list_stale", "no list yet: closed");
    apply(&mut feed, &v, ok(&list(1, NOW, &[]), "\"1\""), NOW);
    assert_eq!(read(&v, NOW + 100), "allowed");
    feed.failed("connection refused");
    assert_eq!(feed.freshness(&v, NOW + 121), Some(121));
    assert_eq!(read(&v, NOW + 121), "revocation_list_stale", "the list in force is too old: closed");
    apply(&mut feed, &v, ok(&list(2, NOW + 121, &[]), "\"2\""), NOW + 121);
    assert_eq!(read(&v, NOW + 122), "allowed", "recovered without a restart");
}

#[test]
fn the_state_file_carries_rollback_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("marque-feed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("revocations.json");
    let _ = std::fs::remove_file(&path);
    {
        let v = verifier();
        let mut feed = FeedState::new(FeedOptions::default()).unwrap();
        assert_eq!(feed.use_state_file(&path, &v, NOW).unwrap(), None, "first start: no file");
        apply(&mut feed, &v, ok(&list(3, NOW, &["agent:a"]), "\"3\""), NOW);
        assert!(path.exists());
    }
    // Restart: the list is back before the first poll; an older one is refused.
    let v = verifier();
    let mut feed = FeedState::new(FeedOptions::default()).unwrap();
    assert_eq!(feed.use_state_file(&path, &v, NOW + 5).unwrap(), Some(3));
    assert_eq!(read(&v, NOW + 5), "revoked");
    let out = apply(&mut feed, &v, ok(&list(2, NOW + 1, &[]), "\"2\""), NOW + 5);
    assert!(out.error.unwrap().contains("revocation_list_rollback"));
    assert_eq!(read(&v, NOW + 5), "revoked");
    // A state file the verifier refuses (another operator's list) stops the poller from starting.
    let mut set = RevocationSet::new();
    set.revoke_agent("agent:z").unwrap();
    std::fs::write(&path, RevocationList::sign(&set, 99, Some(NOW), &KeyPair::from_seed(&[6; 32])).unwrap().to_json()).unwrap();
    let e = FeedState::new(FeedOptions::default()).unwrap().use_state_file(&path, &verifier(), NOW).unwrap_err();
    assert_eq!(e.code(), "revocation_list_invalid");
    std::fs::write(&path, "{").unwrap();
    assert!(FeedState::new(FeedOptions::default()).unwrap().use_state_file(&path, &verifier(), NOW).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn options_in_the_wrong_unit_are_refused() {
    for (interval, max_backoff) in [(0, 300), (30_000, 86_400), (30, 10), (30, 100_000)] {
        let e = FeedState::new(FeedOptions { interval, max_backoff }).unwrap_err();
        assert_eq!(e.code(), "invalid_argument", "{interval} {max_backoff}");
    }
}

#[test]
fn only_plain_http_urls_are_polled() {
    for good in ["https://ops.example.com/revocations.json", "http://127.0.0.1:8080/r.json", "HTTPS://x.example/"] {
        marque::feed::check_url(good).unwrap();
    }
    for bad in ["file:///etc/passwd", "ftp://x/r", "https://user:pw@x.example/r", "https:///r", "https://x/r#frag", "x.example/r",
        "https://x/r\n", "javascript:alert(1)"] {
        assert_eq!(marque::feed::check_url(bad).unwrap_err().code(), "invalid_argument", "{bad}");
    }
}
