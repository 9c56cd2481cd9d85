//! Audience: the canonical URI of a resource server, which a proof of possession may be bound to.
//!
//! RFC 8707 (and the MCP 2026-07-28 authorization spec, "Canonical Server URI") names a resource
//! server by an absolute URI without a fragment. A proof signed for server A names A's URI in its
//! `aud` claim, and a verifier configured with its own audience (server B) refuses it — so a
//! server that receives an agent's token and proof cannot replay them to another server. Two
//! spellings of one server must compare equal, and nothing else may, so an [`Audience`] is only
//! ever built by [`Audience::parse`], which refuses what is ambiguous and writes the one
//! canonical form that signers put in proofs and verifiers compare byte for byte:
//!
//! - the scheme is `https` or `http`, lowercased; the host is ASCII (`xn--` for IDNs), lowercased,
//!   without a trailing dot; a default port (`:443` for https, `:80` for http) is dropped;
//! - the path is kept as is (case-sensitive); a path of `/` is dropped and one trailing `/` is
//!   removed (`https://h/mcp/` is `https://h/mcp`, the form the MCP spec recommends);
//! - refused (`invalid_argument`): a fragment (RFC 8707 §2: MUST NOT), a query (SHOULD NOT; the
//!   MCP canonical URI has none), user information, an empty host or port, `.` / `..` or empty
//!   path segments, `%` escapes, and any character outside RFC 3986's path characters
//!   (whitespace, controls, `\`, `"`, non-ASCII); more than [`MAX_AUDIENCE_BYTES`].
//!
//! ```
//! use marque::audience::Audience;
//! let a = Audience::parse("HTTPS://API.Example.com:443/mcp/")?;
//! assert_eq!(a.as_str(), "https://api.example.com/mcp");
//! assert_eq!(Audience::parse("https://api.example.com")?, Audience::parse("https://api.example.com/")?);
//! assert_ne!(Audience::parse("https://api.example.com/MCP")?, a); // paths are case-sensitive
//! assert_eq!(Audience::parse("https://api.example.com/mcp#x").unwrap_err().code(), "invalid_argument");
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;

use crate::error::{sanitize, Error, Result};

/// The longest audience URI accepted, in bytes.
pub const MAX_AUDIENCE_BYTES: usize = 2048;

/// A resource server's canonical URI (see the [module](crate::audience) docs). Equality is
/// equality of the canonical forms.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Audience(String);

impl fmt::Debug for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Audience({:?})", self.0)
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn bad(uri: &str, why: &str) -> Error {
    let shown: String = sanitize(uri).chars().take(100).collect();
    Error::invalid_argument(format!("audience {shown:?} is not a canonical server URI: {why}"))
}

/// RFC 3986 `pchar` without `%` (escapes are refused), plus `/`.
fn path_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&c)
}

impl Audience {
    /// Parses and canonicalizes a resource server URI (`invalid_argument` when it is not one;
    /// see the [module](crate::audience) docs for the rules).
    pub fn parse(uri: &str) -> Result<Audience> {
        if uri.len() > MAX_AUDIENCE_BYTES {
            return Err(bad(uri, "longer than 2048 bytes"));
        }
        if uri.contains('#') {
            return Err(bad(uri, "a resource URI has no fragment (RFC 8707 §2)"));
        }
        if uri.contains('?') {
            return Err(bad(uri, "a resource URI has no query"));
        }
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| bad(uri, "not an absolute http(s) URI"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return Err(bad(uri, "the scheme is not https or http")),
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.contains('@') {
            return Err(bad(uri, "user information is not part of a server's identity"));
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (h, tail) = v6.split_once(']').ok_or_else(|| bad(uri, "an unclosed IPv6 literal"))?;
                if h.is_empty() || !h.bytes().all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.') {
                    return Err(bad(uri, "an invalid IPv6 literal"));
                }
                let port = match tail {
                    "" => None,
                    t => Some(t.strip_prefix(':').ok_or_else(|| bad(uri, "junk after the IPv6 literal"))?),
                };
                (format!("[{h}]"), port)
            }
            None => {
                let (h, port) = match authority.split_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (authority, None),
                };
                if h.is_empty() || h.ends_with('.') || h.starts_with('.') || h.contains("..") {
                    return Err(bad(uri, "an empty host or empty host label"));
                }
                if !h.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
                    return Err(bad(uri, "the host is not ASCII letters, digits, '-' and '.' (use the xn-- form)"));
                }
                (h.to_string(), port)
            }
        };
        let port = match port {
            None => None,
            Some(p) => {
                if p.is_empty() || p.len() > 5 || !p.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(bad(uri, "the port is not a number"));
                }
                match p.parse::<u32>() {
                    Ok(n) if n == default_port => None,
                    Ok(n) if (1..=65535).contains(&n) => Some(n),
                    _ => return Err(bad(uri, "the port is out of range")),
                }
            }
        };
        if !path.bytes().all(path_char) {
            return Err(bad(uri, "the path has a character outside RFC 3986 path characters (or a % escape)"));
        }
        let path = path.strip_suffix('/').unwrap_or(path);
        if path.split('/').skip(1).any(|s| s.is_empty() || s == "." || s == "..") {
            return Err(bad(uri, "the path has an empty, '.' or '..' segment"));
        }
        let host = host.to_ascii_lowercase();
        Ok(Audience(match port {
            Some(p) => format!("{scheme}://{host}:{p}{path}"),
            None => format!("{scheme}://{host}{path}"),
        }))
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for Audience {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Deserializing parses ([`Audience::parse`]): a non-canonical spelling becomes canonical, an
/// invalid URI is an error.
impl<'de> serde::Deserialize<'de> for Audience {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Audience, D::Error> {
        let s = String::deserialize(d)?;
        Audience::parse(&s).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

impl core::str::FromStr for Audience {
    type Err = Error;
    fn from_str(s: &str) -> Result<Audience> {
        Audience::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        for (given, canonical) in [
            ("https://api.example/mcp", "https://api.example/mcp"),
            ("HTTPS://API.EXAMPLE/mcp", "https://api.example/mcp"),
            ("https://api.example/mcp/", "https://api.example/mcp"),
            ("https://api.example/", "https://api.example"),
            ("https://api.example", "https://api.example"),
            ("https://api.example:443/mcp", "https://api.example/mcp"),
            ("http://api.example:80", "http://api.example"),
            ("http://api.example:443", "http://api.example:443"),
            ("https://api.example:8443/a/b", "https://api.example:8443/a/b"),
            ("http://127.0.0.1:8000/mcp", "http://127.0.0.1:8000/mcp"),
            ("http://[::1]:8000/mcp", "http://[::1]:8000/mcp"),
            ("https://api.example/MCP", "https://api.example/MCP"),
            ("https://xn--caf-dma.example/mcp", "https://xn--caf-dma.example/mcp"),
        ] {
            assert_eq!(Audience::parse(given).unwrap().as_str(), canonical, "{given}");
            // Canonical forms are fixed points.
            assert_eq!(Audience::parse(canonical).unwrap().as_str(), canonical);
        }
    }

    #[test]
    fn ambiguous_uris_are_refused() {
        for bad in [
            "", "api.example/mcp", "/mcp", "ftp://api.example", "https://", "https:///mcp", "https://api.example/mcp#x",
            "https://api.example/mcp#", "https://api.example/mcp?x=1", "https://api.example/mcp?", "https://u@api.example/mcp",
            "https://api.example./mcp", "https://.api.example", "https://a..b/mcp", "https://api.example:/mcp",
            "https://api.example:0", "https://api.example:65536", "https://api.example:x", "https://café.example/mcp",
            "https://api.example/a b", "https://api.example/a\\b", "https://api.example/a\"b", "https://api.example/%2e",
            "https://api.example/a//b", "https://api.example//", "https://api.example/a/./b", "https://api.example/a/../b",
            "https://api.example/é", "https://[::1", "https://[]/", "https://[::1]x", "https://api.example\r\n/x",
        ] {
            assert_eq!(Audience::parse(bad).unwrap_err().code(), "invalid_argument", "{bad:?}");
        }
        assert!(Audience::parse(&format!("https://h/{}", "a".repeat(MAX_AUDIENCE_BYTES))).is_err());
    }
}
