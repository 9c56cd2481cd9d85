//! One resource rule, four implementations that must agree: `marque::resource::covers` (Rust),
//! marque's rights policy (Datalog with the prefix in a variable), the check a delegation block
//! carries (Datalog with the prefix written in), and — without marque — a plain biscuit-auth
//! authorizer holding only the root public key, which still enforces the hop's narrowing and,
//! given marque's rights policy, the rights.

use biscuit_auth::builder::{fact, Term};
use biscuit_auth::{AuthorizerBuilder, AuthorizerLimits, Biscuit};
use marque::delegate::DelegateParams;
use marque::policy::{Request, Right, RIGHTS_POLICY};
use marque::resource::covers;
use marque::token::MintParams;
use marque::{KeyPair, Token, Verifier};

const NOW: u64 = 1_767_225_600;

const PREFIXES: &[&str] = &[
    "*", "src", "src/", "src/lib", "/", "/etc", "/etc/", "mcp://srv", "mcp://srv/", "mcp://", "https://h/p", "file:///etc",
    "file:///", "repo:org", "repo:", "channel#", "channel", "a.b", "C:/x",
];

const RESOURCES: &[&str] = &[
    "src", "src/", "src/main.rs", "src/lib", "src/lib/x", "src/library", "src2/x", "src.env", "src_secret", "sr", "/etc",
    "/etc/passwd", "/etcetera", "etc/passwd", "/", "mcp://srv", "mcp://srv/x", "mcp://srv2/x", "mcp://srv.evil/x",
    "mcp://srvx", "mcp://", "https://h/p", "https://h/p/q", "https://h/pq", "file:///etc/x", "file:///etcx", "file:///",
    "repo:org", "repo:org/name", "repo:org2", "repo:orgx/name", "repo:", "channel#general", "channel", "channels#x",
    "a.b", "a.b/c", "a.bc", "C:/x/y", "C:/xy", "*",
];

fn kp(n: u8) -> KeyPair {
    KeyPair::from_seed(&[n; 32])
}

/// A plain biscuit-auth authorizer: the root public key, the request facts, `policy`. No marque.
fn plain(token: &Token, resource: &str, policy: &str) -> bool {
    let root = biscuit_auth::PublicKey::from_bytes(kp(1).public_key().as_bytes(), biscuit_auth::Algorithm::Ed25519).unwrap();
    let biscuit = Biscuit::from(token.to_bytes(), root).unwrap();
    let mut authorizer = AuthorizerBuilder::new()
        .fact(fact("time", &[Term::Date(NOW)]))
        .unwrap()
        .fact(fact("tool", &[Term::Str("t".into())]))
        .unwrap()
        .fact(fact("operation", &[Term::Str("o".into())]))
        .unwrap()
        .fact(fact("resource", &[Term::Str(resource.into())]))
        .unwrap()
        .fact(fact("depth", &[Term::Integer(i64::from(token.depth()))]))
        .unwrap()
        .code(policy)
        .unwrap()
        // biscuit-auth's default 1 ms would be a flaky limit in a debug build.
        .set_limits(AuthorizerLimits { max_time: std::time::Duration::from_secs(5), ..AuthorizerLimits::default() })
        .build(&biscuit)
        .unwrap();
    match authorizer.authorize() {
        Ok(_) => true,
        Err(biscuit_auth::error::Token::FailedLogic(_)) => false,
        Err(e) => panic!("{resource}: {e}"),
    }
}

#[test]
fn rust_rights_policy_hop_check_and_plain_biscuit_agree() {
    let verifier = Verifier::new([kp(1).public_key()]);
    let mut checked = 0;
    for prefix in PREFIXES {
        // The rights policy decides: a right on exactly this prefix.
        let by_right = Token::mint(&kp(1), &MintParams::new("agent:o", kp(2).public_key(), "user:u").right(Right::new("t", "o", *prefix)).now(NOW))
            .unwrap();
        // The hop's check decides: every right, narrowed by one delegation.
        let by_hop = Token::mint(&kp(1), &MintParams::new("agent:o", kp(2).public_key(), "user:u").right(Right::new("*", "*", "*")).now(NOW))
            .unwrap()
            .delegate(&kp(2), &DelegateParams::new("agent:a", kp(3).public_key()).resource_prefix(*prefix).now(NOW))
            .unwrap();
        for resource in RESOURCES {
            marque::resource::validate(resource).unwrap();
            let want = covers(prefix, resource);
            let request = Request::new("t", "o", *resource);
            assert_eq!(Right::new("t", "o", *prefix).covers(&request), want, "Right::covers {prefix} {resource}");
            let d = verifier.authorize(by_right.to_bytes(), &request, None, Some(NOW)).unwrap();
            assert_eq!(d.allowed, want, "rights policy: {prefix:?} covers {resource:?}? {:?}", d.reasons);
            let d = verifier.authorize(by_hop.to_bytes(), &request, None, Some(NOW)).unwrap();
            assert_eq!(d.allowed, want, "hop check: {prefix:?} covers {resource:?}? {:?}", d.reasons);
            assert_eq!(plain(&by_hop, resource, "allow if true;"), want, "plain biscuit-auth, hop: {prefix:?} {resource:?}");
            assert_eq!(plain(&by_right, resource, RIGHTS_POLICY), want, "plain biscuit-auth, rights: {prefix:?} {resource:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, PREFIXES.len() * RESOURCES.len());
}

/// The narrowing a holder cannot get past even by skipping marque: a plain authorizer that
/// allows everything still runs the hop's check.
#[test]
fn a_plain_authorizer_denies_outside_the_hop_prefix() {
    let token = Token::mint(&kp(1), &MintParams::new("agent:o", kp(2).public_key(), "user:u").right(Right::new("*", "*", "*")).now(NOW))
        .unwrap()
        .delegate(&kp(2), &DelegateParams::new("agent:a", kp(3).public_key()).resource_prefix("src/").now(NOW))
        .unwrap();
    for (resource, allowed) in [("src/a.rs", true), ("src", true), ("src2/x", false), ("src.env", false), ("src_secret", false), ("secrets/key", false)] {
        assert_eq!(plain(&token, resource, "allow if true;"), allowed, "{resource}");
    }
}
