//! Keyed inputs — options objects, limits, records given as dicts — refuse keys they do not know.
//!
//! A misspelt option must never change what a call does: `resource_prefix` where the API spells
//! `resourcePrefix` would otherwise delegate *without* the narrowing, and `require_proof` for
//! `requireProof` would accept calls without a proof. Every binding checks the keys of each
//! options object and keyed record it reads against the names it knows ([`check_keys`]) and
//! refuses the first unknown one with [`unknown_key`]: a typed `invalid_argument` that names the
//! key and, when a known name is close ([`suggest`]), the spelling that was meant. JSON records
//! the core parses itself (audit events, revocation sets) refuse unknown members the same way.
//!
//! ```
//! use marque::options::check_keys;
//! let known = ["to", "toKey", "tools", "resourcePrefix"];
//! assert!(check_keys("delegate options", ["to", "resourcePrefix"], &known).is_ok());
//! let e = check_keys("delegate options", ["to", "resource_prefix"], &known).unwrap_err();
//! assert_eq!(e.code(), "invalid_argument");
//! assert!(e.message().contains("unknown key `resource_prefix` (did you mean `resourcePrefix`?)"));
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{sanitize, Error, Result};

/// Refuses the first of `keys` that is not one of `known` (see [`unknown_key`]).
pub fn check_keys<'k>(what: &str, keys: impl IntoIterator<Item = &'k str>, known: &[&str]) -> Result<()> {
    match keys.into_iter().find(|k| !known.contains(k)) {
        Some(k) => Err(unknown_key(what, k, known)),
        None => Ok(()),
    }
}

/// The `invalid_argument` error for an unknown `key` of `what`: it names the key, the spelling
/// meant when one of `known` is close, and the known keys.
///
/// ```
/// let e = marque::options::unknown_key("limits", "replay_cache_capasity", &["replay_cache_capacity"]);
/// assert_eq!(
///     e.message(),
///     "limits: unknown key `replay_cache_capasity` (did you mean `replay_cache_capacity`?); known keys: replay_cache_capacity"
/// );
/// ```
pub fn unknown_key(what: &str, key: &str, known: &[&str]) -> Error {
    let shown: String = sanitize(key).chars().take(64).collect();
    let hint = match suggest(key, known) {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    };
    let list = if known.is_empty() { String::from("none") } else { known.join(", ") };
    Error::invalid_argument(format!("{what}: unknown key `{shown}`{hint}; known keys: {list}"))
}

/// The known name `key` most likely stands for: the same letters ignoring case, `_` and `-`
/// (`resource_prefix` → `resourcePrefix`), or else the one name within two edits
/// (`resouce` → `resource`; a short key needs a closer match). `None` when nothing is close or
/// two names are equally close.
///
/// ```
/// use marque::options::suggest;
/// let known = ["tools", "operations", "resourcePrefix", "ttlSeconds"];
/// assert_eq!(suggest("resource_prefix", &known), Some("resourcePrefix"));
/// assert_eq!(suggest("TTL_SECONDS", &known), Some("ttlSeconds"));
/// assert_eq!(suggest("tool", &known), Some("tools"));
/// assert_eq!(suggest("x", &known), None);
/// ```
pub fn suggest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let k = normalize(key);
    if k.is_empty() || k.len() > 64 {
        return None;
    }
    if let Some(exact) = known.iter().find(|n| normalize(n) == k) {
        return Some(exact);
    }
    let mut best: Option<(usize, &'a str)> = None;
    let mut tie = false;
    for name in known {
        let n = normalize(name);
        let d = edit_distance(&k, &n);
        // Two edits at most, and at most a third of the longer name.
        if d > 2 || d * 3 > k.len().max(n.len()) {
            continue;
        }
        match best {
            Some((bd, _)) if d > bd => {}
            Some((bd, _)) if d == bd => tie = true,
            _ => {
                best = Some((d, name));
                tie = false;
            }
        }
    }
    if tie {
        None
    } else {
        best.map(|(_, n)| n)
    }
}

/// Adds the [`suggest`]ion to a serde "unknown field" message (`unknown field `x`, expected one
/// of `a`, `b``), for the records the core parses with `deny_unknown_fields`.
pub(crate) fn explain_serde(message: &str) -> String {
    const MARK: &str = "unknown field `";
    let Some(at) = message.find(MARK) else { return sanitize(message) };
    let rest = &message[at + MARK.len()..];
    let Some(end) = rest.find('`') else { return sanitize(message) };
    let key = &rest[..end];
    let known: Vec<&str> = rest[end + 1..].split('`').skip(1).step_by(2).collect();
    match suggest(key, &known) {
        Some(s) => sanitize(&format!("{}{MARK}{key}` (did you mean `{s}`?){}", &message[..at], &rest[end + 1..])),
        None => sanitize(message),
    }
}

fn normalize(s: &str) -> Vec<u8> {
    s.bytes().filter(|b| *b != b'_' && *b != b'-').map(|b| b.to_ascii_lowercase()).collect()
}

/// Levenshtein distance (inputs are at most a few dozen bytes).
fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = alloc::vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let swap = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + swap).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        core::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let node = ["rootKeys", "policies", "limits", "requireProof", "operatorKeys", "maxRevocationStaleness"];
        assert_eq!(suggest("require_proof", &node), Some("requireProof"));
        assert_eq!(suggest("root_keys", &node), Some("rootKeys"));
        assert_eq!(suggest("polices", &node), Some("policies"));
        assert_eq!(suggest("limit", &node), Some("limits"));
        assert_eq!(suggest("evil", &node), None);
        assert_eq!(suggest("", &node), None);
        // Equally close names: no guess.
        assert_eq!(suggest("ab", &["abc", "abd"]), None);
        assert_eq!(suggest("to_", &["to", "tools"]), Some("to"));
    }

    #[test]
    fn unknown_keys_are_refused_and_named() {
        let known = ["tool", "operation", "resource"];
        assert!(check_keys("right", ["tool"], &known).is_ok());
        let e = check_keys("right", ["tool", "resouce"], &known).unwrap_err();
        assert_eq!(e.code(), "invalid_argument");
        assert!(e.message().contains("`resouce` (did you mean `resource`?)"), "{e}");
        let e = check_keys("right", ["grant"], &known).unwrap_err();
        assert!(!e.message().contains("did you mean"), "{e}");
        // Hostile keys stay short and on one line.
        let long = "a\n".repeat(500);
        let e = unknown_key("right", &long, &known);
        assert!(!e.message().contains('\n') && e.message().len() < 200, "{e}");
    }

    #[test]
    fn serde_messages_gain_the_suggestion() {
        let m = "unknown field `agnets`, expected one of `ids`, `agents`, `principals`, `tasks` at line 1 column 9";
        assert_eq!(
            explain_serde(m),
            "unknown field `agnets` (did you mean `agents`?), expected one of `ids`, `agents`, `principals`, `tasks` at line 1 column 9"
        );
        assert_eq!(explain_serde("unknown field `zzz`, expected `ids`"), "unknown field `zzz`, expected `ids`");
        assert_eq!(explain_serde("EOF while parsing"), "EOF while parsing");
    }
}
