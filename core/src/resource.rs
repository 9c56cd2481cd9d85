//! Resources: which strings a request may name, and which resources a prefix covers.
//!
//! A resource is a path of segments separated by `/` (`src/main.rs`, `/etc/hosts`), a URI whose
//! `scheme://authority` is the first segment and whose path follows (`mcp://files/notes`,
//! `https://api.example/v1/users`, `file:///etc/hosts`), or an identifier (`repo:org/name`,
//! `channel#general`) read with the same rule. [`validate`] refuses, with `invalid_request` and
//! before any policy runs, a request resource that is empty or contains: a segment made only of
//! dots (`.`, `..`, `...`, also with spaces around it or followed by a `;…` path parameter, which
//! some servers strip); an empty segment (`a//b`) other than one leading `/` (an absolute path)
//! and one trailing `/` (a directory); a backslash; a control character (C0, DEL, C1); a
//! percent-escape of `.`, `/`, `\`, `%` (double encoding), a control character, or of the bytes
//! `C0`/`C1` (overlong UTF-8); a `%` followed by a non-ASCII character (`%２ｅ`, which NFKC makes
//! `%2e`); or a character that Unicode compatibility normalization (NFKC) turns into dots, a
//! slash, a backslash or a percent sign (`․ ‥ … ︙ ︰ ﹒ ﹨ ． ／ ＼ ﹪ ％`). A server that decodes,
//! normalizes or resolves the string it was authorized for therefore cannot reach outside it.
//!
//! A **prefix** (the resource of a right, or a delegation's `resource_prefix`) covers a resource
//! on segment boundaries ([`covers`]): `"*"` covers everything; a prefix ending in `:` or `#` is a
//! namespace and covers every resource that starts with it (`repo:` covers `repo:org/name`);
//! any other prefix `P`, with one trailing `/` removed, covers `P` itself and every resource
//! starting with `P/` — so `src` and `src/` both cover `src` and `src/main.rs`, never `src2/x`,
//! `src.env` or `src_secret`; `mcp://srv` never covers `mcp://srv2/x` or `mcp://srv.evil/x`;
//! `repo:org` never covers `repo:org2`. Prefixes are checked like resources ([`validate_prefix`],
//! `invalid_argument`).
//!
//! One expression decides it everywhere. A prefix is written into a token in its
//! [`canonical`] form — `"*"`, or ending in `/`, `:` or `#` (`src` is written `src/`) — and then
//! `P` covers `R` exactly when `P == "*"` or `R + "/"` starts with `P`. In Datalog that is
//! [`COVERS_DATALOG`], inside marque's rights policy (the prefix in the variable `$rr`), and
//! `check if resource($resource), ($resource + "/").starts_with("<P>")` in each delegation block (the
//! prefix written in). `docs/PROFILE.md` ("Resources") is the normative text.
//!
//! ```
//! use marque::resource::{covers, validate};
//! assert!(covers("src", "src/main.rs") && covers("src/", "src") && covers("repo:", "repo:org/x"));
//! assert!(!covers("src", "src2/x") && !covers("src/", "src.env") && !covers("repo:org", "repo:org2"));
//! assert_eq!(validate("src/../secrets/key").unwrap_err().code(), "invalid_request");
//! assert!(validate("mcp://files/notes/today.md").is_ok());
//! assert_eq!(marque::resource::canonical("src"), "src/");
//! ```

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;

use crate::error::{Error, ErrorKind, Result};

/// The prefix that covers every resource.
pub const ANY: &str = "*";

/// "The [canonical] prefix `$rr` covers resource `$res`" in Biscuit Datalog: the resource condition
/// of marque's rights policy ([`RIGHTS_POLICY`](crate::policy::RIGHTS_POLICY)), the rule of
/// [`covers`].
pub const COVERS_DATALOG: &str = "$rr == \"*\" || ($res + \"/\").starts_with($rr)";

/// Characters whose NFKC form is made of dots, slashes, backslashes or a percent sign only.
const LOOKALIKES: &[char] = &[
    '\u{FE6A}', // SMALL PERCENT SIGN → %
    '\u{FF05}', // FULLWIDTH PERCENT SIGN → %
    '\u{2024}', // ONE DOT LEADER → .
    '\u{2025}', // TWO DOT LEADER → ..
    '\u{2026}', // HORIZONTAL ELLIPSIS → ...
    '\u{FE19}', // VERTICAL HORIZONTAL ELLIPSIS → ...
    '\u{FE30}', // VERTICAL TWO DOT LEADER → ..
    '\u{FE52}', // SMALL FULL STOP → .
    '\u{FE68}', // SMALL REVERSE SOLIDUS → \
    '\u{FF0E}', // FULLWIDTH FULL STOP → .
    '\u{FF0F}', // FULLWIDTH SOLIDUS → /
    '\u{FF3C}', // FULLWIDTH REVERSE SOLIDUS → \
];

/// The form a prefix is written in a token: `"*"` and prefixes ending in `/`, `:` or `#` as they
/// are, any other prefix with a `/` appended (`src` → `src/`, `mcp://srv` → `mcp://srv/`,
/// `repo:org` → `repo:org/`). Both forms cover the same resources; the canonical one lets a single
/// `starts_with` decide ([`COVERS_DATALOG`]).
///
/// ```
/// use marque::resource::canonical;
/// assert_eq!((canonical("src"), canonical("src/"), canonical("repo:"), canonical("*")), ("src/".into(), "src/".into(), "repo:".into(), "*".into()));
/// ```
pub fn canonical(prefix: &str) -> Cow<'_, str> {
    if is_canonical(prefix) {
        Cow::Borrowed(prefix)
    } else {
        Cow::Owned(format!("{prefix}/"))
    }
}

/// Whether `prefix` is in [`canonical`] form.
pub fn is_canonical(prefix: &str) -> bool {
    prefix == ANY || prefix.ends_with('/') || prefix.ends_with(':') || prefix.ends_with('#')
}

/// Whether `prefix` covers `resource`, on segment boundaries (the module doc has the rule):
/// `canonical(prefix) == "*"`, or `resource + "/"` starts with `canonical(prefix)` — what
/// [`COVERS_DATALOG`] computes.
///
/// ```
/// use marque::resource::covers;
/// assert!(covers("*", "anything") && covers("src", "src") && covers("src/", "src/a/b"));
/// assert!(covers("mcp://srv", "mcp://srv/x") && !covers("mcp://srv", "mcp://srv.evil/x"));
/// assert!(covers("channel#", "channel#general") && !covers("channel", "channel#general"));
/// ```
pub fn covers(prefix: &str, resource: &str) -> bool {
    let p = canonical(prefix);
    // `resource + "/"` starts with `p`: `p` is a prefix of `resource`, or `p` is `resource + "/"`.
    p == ANY
        || resource.starts_with(&*p)
        || (p.len() == resource.len() + 1 && p.ends_with('/') && p.starts_with(resource))
}

/// Checks a request resource: `invalid_request` (before any policy) when it is empty, has a
/// dot-only or empty segment, a backslash, a control character, a dangerous percent-escape or a
/// character that normalizes to a dot or a separator (the module doc lists them).
///
/// ```
/// use marque::resource::validate;
/// for ok in ["src/main.rs", "/etc/hosts", "src/", "/", "https://h/a?b=c#d", "file:///etc/x", "repo:org/name", ".env"] {
///     assert!(validate(ok).is_ok(), "{ok}");
/// }
/// for bad in ["", "src/../x", "src//x", "src\\x", "src/%2e%2e/x", "a\u{0}b", "./x", "https://h//x"] {
///     assert_eq!(validate(bad).unwrap_err().code(), "invalid_request", "{bad:?}");
/// }
/// ```
pub fn validate(resource: &str) -> Result<()> {
    match problem(resource) {
        None => Ok(()),
        Some(why) => Err(Error::new(
            ErrorKind::InvalidRequest,
            format!("request resource {} {why}", crate::error::sanitize(&format!("{resource:?}"))),
        )),
    }
}

/// Checks a prefix (a right's resource, a delegation's `resource_prefix`): `"*"`, or a name
/// (1–256 bytes, no `"`) that passes the resource rule; else `invalid_argument`.
///
/// ```
/// use marque::resource::validate_prefix;
/// assert!(validate_prefix("resource_prefix", "src/").is_ok() && validate_prefix("resource_prefix", "*").is_ok());
/// assert_eq!(validate_prefix("resource_prefix", "src/../etc").unwrap_err().code(), "invalid_argument");
/// ```
pub fn validate_prefix(what: &str, prefix: &str) -> Result<()> {
    if prefix == ANY {
        return Ok(());
    }
    crate::identity::validate_name(what, prefix)?;
    match problem(prefix) {
        None => Ok(()),
        Some(why) => Err(Error::invalid_argument(format!(
            "{what} {} {why}",
            crate::error::sanitize(&format!("{prefix:?}"))
        ))),
    }
}

/// Why `r` is not an acceptable resource, if it is not.
fn problem(r: &str) -> Option<String> {
    if r.is_empty() {
        return Some("is empty".into());
    }
    for (i, c) in r.char_indices() {
        // `%２ｅ` is no escape, but NFKC makes it `%2e`: a percent sign must be followed by ASCII.
        if c == '%' && r[i + 1..].chars().take(2).any(|n| !n.is_ascii()) {
            return Some("contains a percent sign followed by non-ASCII characters (Unicode normalization may turn them into an escape)".into());
        }
        if c.is_control() {
            return Some(format!("contains the control character U+{:04X}", c as u32));
        }
        if c == '\\' {
            return Some("contains a backslash (the separator is /)".into());
        }
        if LOOKALIKES.contains(&c) {
            return Some(format!(
                "contains U+{:04X}, which Unicode normalization turns into dots or a separator",
                c as u32
            ));
        }
    }
    let bytes = r.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'%' {
            continue;
        }
        let decoded = match (bytes.get(i + 1).and_then(|h| hex(*h)), bytes.get(i + 2).and_then(|l| hex(*l))) {
            (Some(h), Some(l)) => h * 16 + l,
            _ => continue,
        };
        if matches!(decoded, b'.' | b'/' | b'\\' | b'%' | 0xC0 | 0xC1) || decoded < 0x20 || decoded == 0x7F {
            return Some(format!(
                "contains the percent-escape %{} (an escaped dot, separator, percent sign or control character)",
                &r[i + 1..i + 3]
            ));
        }
    }
    // The first segment: `scheme://authority` for a URI, else what precedes the first `/`.
    let path = match uri_authority_end(r) {
        Some(end) => {
            let authority = &r[r.find("://").map_or(0, |s| s + 3)..end];
            if dot_segment(authority) {
                return Some("has a dot-only authority".into());
            }
            match &r[end..] {
                "" => return None,
                rest => &rest[1..], // rest starts with '/'
            }
        }
        None => r.strip_prefix('/').unwrap_or(r),
    };
    let mut segments = path.split('/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        if segment.is_empty() && !last {
            return Some("has an empty segment (//)".into());
        }
        if dot_segment(segment) {
            return Some(format!("has the segment {segment:?} (a relative step)"));
        }
    }
    None
}

/// For `scheme://authority…`, the byte index where the authority ends (the next `/`, or the end).
fn uri_authority_end(r: &str) -> Option<usize> {
    let sep = r.find("://")?;
    let scheme = &r[..sep];
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return None;
    }
    let start = sep + 3;
    Some(r[start..].find('/').map_or(r.len(), |i| start + i))
}

/// A segment made only of dots (spaces around them, and a `;…` parameter after them, ignored).
fn dot_segment(segment: &str) -> bool {
    let name = segment.split(';').next().unwrap_or(segment).trim_matches(' ');
    !name.is_empty() && name.bytes().all(|b| b == b'.')
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The check a delegation block carries for `prefix` (`docs/PROFILE.md`):
/// `check if resource($resource), ($resource + "/").starts_with("<canonical prefix>");` — the rule of
/// [`covers`] with the prefix written in. `None` for `"*"` (no check: the axis is unchanged).
#[cfg(feature = "biscuit")]
pub(crate) fn hop_check(prefix: &str) -> Option<biscuit_auth::builder::Check> {
    use biscuit_auth::builder::{constrained_rule, pred, Binary, Check, CheckKind, Expression, Op, Term, Unary};
    if prefix == ANY {
        return None;
    }
    let ops = alloc::vec![
        Op::Value(Term::Variable("resource".into())),
        Op::Value(Term::Str("/".into())),
        Op::Binary(Binary::Add),
        Op::Unary(Unary::Parens),
        Op::Value(Term::Str(canonical(prefix).into_owned())),
        Op::Binary(Binary::Prefix),
    ];
    let body = [pred("resource", &[Term::Variable("resource".into())])];
    let query = constrained_rule("query", &[] as &[Term], &body, &[Expression { ops }]);
    Some(Check { queries: alloc::vec![query], kind: CheckKind::One })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (prefix, resource, covered) — the table every runtime and both Datalog forms agree on
    /// (`core/tests/attacks/resources.rs` replays the same kinds of cases end to end).
    pub(crate) const TABLE: &[(&str, &str, bool)] = &[
        ("*", "src/x", true),
        ("src", "src", true),
        ("src", "src/", true),
        ("src", "src/main.rs", true),
        ("src", "src2/x", false),
        ("src", "src.env", false),
        ("src", "src_secret", false),
        ("src", "sr", false),
        ("src/", "src", true),
        ("src/", "src/", true),
        ("src/", "src/a/b", true),
        ("src/", "src2", false),
        ("src/", "src.env", false),
        ("src/lib", "src/lib/x.rs", true),
        ("src/lib", "src/library", false),
        ("/", "/etc/x", true),
        ("/etc", "/etc/passwd", true),
        ("/etc", "/etcetera", false),
        ("/etc", "etc/passwd", false),
        ("mcp://srv", "mcp://srv", true),
        ("mcp://srv", "mcp://srv/x", true),
        ("mcp://srv", "mcp://srv2/x", false),
        ("mcp://srv", "mcp://srv.evil/x", false),
        ("mcp://srv/", "mcp://srv/x", true),
        ("https://h/p", "https://h/p/q", true),
        ("https://h/p", "https://h/pq", false),
        ("file:///etc", "file:///etc/x", true),
        ("file:///etc", "file:///etcx", false),
        ("repo:org", "repo:org/name", true),
        ("repo:org", "repo:org", true),
        ("repo:org", "repo:org2", false),
        ("repo:org", "repo:orgx/name", false),
        ("repo:", "repo:org2", true),
        ("repo:", "rep", false),
        ("channel#", "channel#general", true),
        ("channel#", "channel", false),
        ("channel", "channel#general", false),
        ("channel#gen", "channel#general", false),
    ];

    #[test]
    fn covers_follows_the_table() {
        for (p, r, want) in TABLE {
            assert!(validate_prefix("p", p).is_ok(), "{p}");
            assert!(validate(r).is_ok(), "{r}");
            assert_eq!(covers(p, r), *want, "{p} covers {r}");
        }
    }

    #[test]
    fn hostile_resources_are_refused() {
        for bad in [
            "",
            "..",
            ".",
            "./x",
            "src/../secrets/key",
            "src/../../etc/passwd",
            "src//..//.env",
            "src/./x",
            "src/..",
            "src/...",
            "src/.. /x",
            "src/..;/x",
            "src//x",
            "//x",
            "src//",
            "src\\..\\x",
            "src/%2e%2e/x",
            "src/%2E%2E/x",
            "src%2F..%2Fx",
            "src%2f..%2fx",
            "src%5c..%5cx",
            "src/%252e%252e/x",
            "src/%00",
            "src/%0a",
            "src/..%c0%af",
            "a\u{0}b",
            "a\nb",
            "a\rb",
            "a\tb",
            "a\u{7f}",
            "a\u{85}b",
            "src/\u{FF0E}\u{FF0E}/x",
            "src\u{FF0F}x",
            "src/\u{2025}/x",
            "src/\u{FF05}2e\u{FF05}2e/x",
            "src/\u{FE6A}2e%2e/x",
            "src/%\u{FF12}\u{FF45}%\u{FF12}\u{FF45}/x",
            "src/%2\u{FF45}/x",
            "src/%\u{00B2}e/x",
            "https://h//x",
            "https://h/../x",
            "https://../x",
            "file:///../etc",
            "mcp://srv/a/./b",
        ] {
            assert_eq!(validate(bad).unwrap_err().code(), "invalid_request", "{bad:?}");
            assert_eq!(validate_prefix("p", bad).unwrap_err().code(), "invalid_argument", "{bad:?}");
        }
        for ok in [
            "/", "src/", ".env", "src/.gitignore", "a..b", "..a", "a%20b", "100%", "%zz", "file:///", "mcp://", "mcp://srv",
            "x://y/z/", "repo:org/name", "channel#x", "urn:isbn:0451450523", "src/a;b", "C:/x",
        ] {
            assert!(validate(ok).is_ok(), "{ok:?}: {:?}", validate(ok));
        }
    }

    #[test]
    fn canonical_forms_cover_the_same_resources() {
        for (p, c) in [("*", "*"), ("src", "src/"), ("src/", "src/"), ("repo:", "repo:"), ("channel#", "channel#"), ("mcp://srv", "mcp://srv/"), ("/", "/")] {
            assert_eq!(canonical(p), c);
            assert!(is_canonical(c) && validate_prefix("p", c).is_ok());
            for (_, r, _) in TABLE {
                assert_eq!(covers(p, r), covers(c, r), "{p} / {c} on {r}");
            }
        }
    }

    /// The lead's statement of the rule, spelt out case by case, agrees with `covers`.
    #[test]
    fn covers_is_the_rule_as_stated() {
        let stated = |p: &str, r: &str| {
            p == "*"
                || r == p
                || r.starts_with(&format!("{p}/"))
                || (p.ends_with('/') && (r.starts_with(p) || format!("{r}/") == p))
                || ((p.ends_with(':') || p.ends_with('#')) && r.starts_with(p))
        };
        for (p, _, _) in TABLE {
            for (_, r, _) in TABLE {
                assert_eq!(covers(p, r), stated(p, r), "{p} covers {r}");
            }
        }
    }
}
