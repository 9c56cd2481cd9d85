//! Resources with traversal: the fuzzer's bytes become a request resource `R` and a prefix `P`
//! (a delegation's `resource_prefix`, and a minted right's resource), written from a small
//! alphabet heavy in dots, separators, escapes, control characters and their Unicode
//! look-alikes. Never a panic, and every outcome is checked against a model written here from
//! `docs/PROFILE.md` ("Resources"), not from marque's code:
//!
//! - `R` refused by `marque::resource::validate` ⇒ `Verifier::authorize` is `invalid_request`
//!   (`limits_exceeded` past `max_resource_bytes`), for a real token; an `R` it accepts holds no
//!   dot-only segment, no empty segment (but one leading and one trailing `/`, and a URI's
//!   `scheme://`), no backslash, no control character, no look-alike of a dot, separator or `%`,
//!   no `%` before a non-ASCII character and no percent-escape of `.` `/` `\` `%`, a control character or `C0`/`C1`.
//! - An accepted `R` is allowed exactly when the model's prefix rule says every prefix of the
//!   chain (a right, then each hop's) covers it: `P == "*"`; `P` ending in `:`/`#` covers what
//!   starts with it; else with `E` = `P` less one trailing `/`, `R == E` or `R` starts with `E/`
//!   (and that is the canonical one-liner `P == "*" || (R + "/").starts_with(canonical P)`).
//! - `delegate(resource_prefix = P)` is `invalid_argument` for a malformed `P`,
//!   `attenuation_widens` when the model says the parent's prefixes do not cover `P`, and
//!   otherwise gives a child whose decisions are the parent's narrowed by `P` (`"*"`: unchanged).
//! - `mint` with the right `(read_file, read, P)` is `invalid_argument` for a malformed `P`, else
//!   the token's decisions on `R` are the model's for `P`.
//!
//! The first byte's bit 0 chooses the parent of the delegation (the root token, or a hop
//! narrowed to `src/lib`); the rest is split at the first `0xFF`: resource bytes, then prefix
//! bytes (none: the prefix `src`). With bit 1 clear each byte picks a piece of the alphabet,
//! except `0xFE` which takes the next byte as a raw code point (`U+0000–U+00FF`: C0 and C1
//! controls, Latin-1); with bit 1 set both are UTF-8 text (lossy), which is how
//! `scripts/fuzz.sh` seeds the corpus with the resources and prefixes of the attack vectors.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use marque::{DelegateParams, KeyPair, Limits, MintParams, Request, Right, Token, Verifier};

const NOW: u64 = 1_767_225_600;

/// The root token's rights: read_file/read on these prefixes.
const RIGHTS: [&str; 5] = ["src", "repo:", "mcp://srv/", "/etc/", "channel#"];
/// The prefix of the hop between the root token and the second parent.
const HOP: &str = "src/lib";

const PIECES: &[&str] = &[
    ".", "..", "/", "\\", "%", "2e", "2E", "2f", "2F", "5c", "5C", "25", "%2e", "%2F", "%5c", "%25", "%2E%2e", "00", "c0",
    "af", "\0", "\n", "\t", "\r", "\u{7f}", "\u{85}", "\u{9f}", "\u{FF0E}", "\u{FF0F}", "\u{FF3C}", "\u{2025}", "\u{2026}",
    "\u{2024}", "\u{FE52}", "\u{FE68}", "\u{FE30}", "\u{FE19}", "\u{FF05}", "\u{FE6A}", "\u{FF12}\u{FF45}", "é", "日本",
    "\u{200b}", "\u{1F600}", " ", ";", ":", "#", "*", "?", "\"", "src", "lib", "etc", "repo", "org", "mcp", "srv", "://",
    "a", "2", "_", "-", "x.rs", "~", "%20", "src/", "../", "//", "mcp://srv/", "repo:org", "/etc/", "file://", "%2",
    "channel#", "src.env", "lib/", "/..", "..;", ". ",
];

struct Setup {
    root: Token,
    hop: Token,
    verifier: Verifier,
}

fn key(seed: u8) -> KeyPair {
    KeyPair::from_seed(&[seed; 32])
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let mut mint = MintParams::new("agent:orchestrator", key(2).public_key(), "user:alice").ttl_seconds(3600).now(NOW);
        for r in RIGHTS {
            mint = mint.right(Right::new("read_file", "read", r));
        }
        let root = Token::mint(&key(1), &mint).unwrap();
        let hop = root
            .delegate(&key(2), &DelegateParams::new("agent:agent_a", key(3).public_key()).resource_prefix(HOP).now(NOW))
            .unwrap();
        // The default verified-token cache (decisions must not depend on it); the Datalog time
        // limit is wall-clock, so under the sanitizer on a loaded machine it is 2 s, as in the
        // attack-vector replayers (a slow run is not a finding).
        let limits = Limits { max_time_micros: 2_000_000, ..Limits::default() };
        Setup { root, hop, verifier: Verifier::new([key(1).public_key()]).with_limits(limits) }
    })
}

fn text(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (0xFE, Some(&raw)) => {
                out.push(char::from(raw));
                i += 2;
            }
            (b, _) => {
                out.push_str(PIECES[usize::from(b) % PIECES.len()]);
                i += 1;
            }
        }
    }
    out
}

/// The profile's prefix rule, as its three bullets state it.
fn model_covers(p: &str, r: &str) -> bool {
    if p == "*" {
        return true;
    }
    if p.ends_with(':') || p.ends_with('#') {
        return r.starts_with(p);
    }
    let e = p.strip_suffix('/').unwrap_or(p);
    r == e || r.starts_with(&format!("{e}/"))
}

/// The profile's one-liner on the canonical form; must agree with the bullets.
fn canonical_covers(p: &str, r: &str) -> bool {
    let c = if p == "*" || p.ends_with('/') || p.ends_with(':') || p.ends_with('#') { p.to_string() } else { format!("{p}/") };
    c == "*" || format!("{r}/").starts_with(&c)
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Why a resource the verifier accepted should have been refused (the profile's list, checked
/// here its own way), if it should.
fn unclean(r: &str) -> Option<&'static str> {
    if r.is_empty() {
        return Some("empty");
    }
    for c in r.chars() {
        let u = c as u32;
        if u < 0x20 || (0x7F..=0x9F).contains(&u) {
            return Some("a control character");
        }
        if c == '\\' {
            return Some("a backslash");
        }
        if "\u{2024}\u{2025}\u{2026}\u{FE19}\u{FE30}\u{FE52}\u{FE68}\u{FF0E}\u{FF0F}\u{FF3C}\u{FE6A}\u{FF05}".contains(c) {
            return Some("a look-alike of a dot, separator or percent sign");
        }
    }
    let chars: Vec<char> = r.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '%' && chars[i + 1..].iter().take(2).any(|n| !n.is_ascii()) {
            return Some("a percent sign before non-ASCII (NFKC may make it an escape)");
        }
    }
    let b = r.as_bytes();
    for i in 0..b.len().saturating_sub(2) {
        if !(b[i] == b'%' && is_hex(b[i + 1]) && is_hex(b[i + 2])) {
            continue;
        }
        let v = u8::from_str_radix(&r[i + 1..i + 3], 16).unwrap_or(0);
        if matches!(v, b'.' | b'/' | b'\\' | b'%' | 0xC0 | 0xC1) || v < 0x20 || v == 0x7F {
            return Some("an escaped dot, separator, percent sign or control character");
        }
    }
    for segment in r.split('/') {
        let name = segment.split(';').next().unwrap_or("").trim_matches(' ');
        if !name.is_empty() && name.chars().all(|c| c == '.') {
            return Some("a dot-only segment");
        }
    }
    // Empty segments: only a URI's `scheme://` (with, for an empty authority, its `/`), one
    // leading `/` and one trailing `/`.
    let mut rest = r;
    if let Some(i) = r.find("://") {
        let scheme = &r[..i];
        let valid = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if valid {
            rest = &r[i + 3..];
        }
    }
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    if rest.starts_with('/') || rest.contains("//") {
        return Some("an empty segment");
    }
    None
}

fn request(r: &str) -> Request {
    Request::new("read_file", "read", r)
}

/// What `token` decides for `r`: `Ok(allowed)` or the error code. Denials other than
/// `not_authorized` are failures here (the tokens are fresh, unrevoked, shallow).
fn decide(s: &Setup, token: &Token, r: &str) -> Result<bool, &'static str> {
    match s.verifier.authorize(token.to_bytes(), &request(r), None, Some(NOW + 1)) {
        Ok(d) => {
            assert!(d.allowed || d.code.as_deref() == Some("not_authorized"), "{r:?}: denied with {:?}", d.code);
            Ok(d.allowed)
        }
        Err(e) => Err(e.code()),
    }
}

/// `r` is checked against `token` whose prefixes (rights, then hops) are `chain`: each entry a
/// list of which any one must cover `r`.
fn check_decision(s: &Setup, token: &Token, chain: &[&[&str]], r: &str) {
    let got = decide(s, token, r);
    if r.len() > Limits::default().max_resource_bytes {
        assert_eq!(got, Err("limits_exceeded"), "{r:?}");
        return;
    }
    if let Err(e) = marque::resource::validate(r) {
        assert_eq!(e.code(), "invalid_request");
        assert_eq!(got, Err("invalid_request"), "{r:?}: refused by the resource rule but authorize said {got:?}");
        return;
    }
    if let Some(why) = unclean(r) {
        panic!("the resource {r:?} was accepted but has {why}");
    }
    let want = chain.iter().all(|any| any.iter().any(|p| model_covers(p, r)));
    assert_eq!(got, Ok(want), "{r:?} under {chain:?}");
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    let Some((&flags, rest)) = data.split_first() else { return };
    let (r_bytes, p_bytes) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let decode = |b: &[u8]| if flags & 2 == 0 { text(b) } else { String::from_utf8_lossy(b).into_owned() };
    let r = decode(r_bytes);
    let p = if p_bytes.is_empty() { "src".to_string() } else { decode(p_bytes) };

    // The two statements of the prefix rule agree, and marque's `covers` is that rule.
    if marque::resource::validate_prefix("p", &p).is_ok() && marque::resource::validate(&r).is_ok() {
        assert_eq!(model_covers(&p, &r), canonical_covers(&p, &r), "{p:?} / {r:?}");
        assert_eq!(marque::resource::covers(&p, &r), model_covers(&p, &r), "{p:?} covers {r:?}");
    }

    // The request resource on the root token and on the hop.
    check_decision(s, &s.root, &[&RIGHTS], &r);
    check_decision(s, &s.hop, &[&RIGHTS, &[HOP]], &r);

    // A delegation to P, from the root or from the hop.
    let (parent, parent_key, chain): (&Token, KeyPair, Vec<&[&str]>) =
        if flags & 1 == 0 { (&s.root, key(2), vec![&RIGHTS]) } else { (&s.hop, key(3), vec![&RIGHTS, &[HOP]]) };
    let delegated = parent.delegate(&parent_key, &DelegateParams::new("agent:fz", key(5).public_key()).resource_prefix(p.as_str()).now(NOW));
    let valid_prefix = marque::resource::validate_prefix("resource_prefix", &p);
    match delegated {
        Err(e) => {
            let code = e.code();
            assert_ne!(p, "*", "delegating \"*\" (unchanged) was refused: {e}");
            match valid_prefix {
                Err(_) => assert_eq!(code, "invalid_argument", "{p:?}: {e}"),
                Ok(()) => {
                    assert_eq!(code, "attenuation_widens", "{p:?}: {e}");
                    let covered = chain.iter().all(|any| any.iter().any(|q| model_covers(q, &p)));
                    assert!(!covered, "{p:?} is covered by {chain:?} but delegating it was refused: {e}");
                }
            }
        }
        Ok(child) => {
            if p != "*" {
                assert!(valid_prefix.is_ok(), "a malformed prefix {p:?} was delegated");
                if let Some(why) = unclean(&p) {
                    panic!("the prefix {p:?} was delegated but has {why}");
                }
                let covered = chain.iter().all(|any| any.iter().any(|q| model_covers(q, &p)));
                assert!(covered, "{p:?} widens {chain:?} but was delegated");
            }
            let mut child_chain = chain.clone();
            let own = [p.as_str()];
            child_chain.push(&own);
            check_decision(s, &child, &child_chain, &r);
            // Whatever the prefix, the child never gets what the parent does not have.
            for probe in ["src/lib/x.rs", "src/x", "src2/x", "repo:org/n", "mcp://srv/a", "/etc/passwd", "other"] {
                if decide(s, &child, probe) == Ok(true) {
                    assert_eq!(decide(s, parent, probe), Ok(true), "{p:?}: the child reads {probe:?}, its parent does not");
                }
            }
        }
    }

    // A right minted on P.
    let minted = Token::mint(
        &key(1),
        &MintParams::new("agent:orchestrator", key(2).public_key(), "user:alice")
            .right(Right::new("read_file", "read", p.as_str()))
            .ttl_seconds(3600)
            .now(NOW),
    );
    match minted {
        Err(e) => {
            assert!(valid_prefix.is_err(), "minting the valid right resource {p:?} failed: {e}");
            assert_eq!(e.code(), "invalid_argument", "{p:?}: {e}");
        }
        Ok(token) => {
            assert!(valid_prefix.is_ok() || p == "*", "a malformed right resource {p:?} was minted");
            let own = [p.as_str()];
            check_decision(s, &token, &[&own], &r);
        }
    }
});
