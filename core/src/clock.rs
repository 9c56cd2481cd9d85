//! Times: every time marque is given is whole seconds since the Unix epoch, within a plausible
//! range.
//!
//! A caller that passes JavaScript's `Date.now()` (milliseconds) where seconds are expected would
//! otherwise mint a token valid for millennia, or authorize against a clock 50 000 years ahead.
//! [`check`] refuses any time outside 2000-01-01T00:00:00Z … 2200-01-01T00:00:00Z
//! ([`MIN_SECONDS`] … [`MAX_SECONDS`]) with `invalid_argument`, naming the unit. Every place a
//! caller hands the core a time goes through it: `now` for mint, delegate, authorize, proofs and
//! revocation lists (`resolve_now`), a revocation list's `issued_at`, a JWT's verification time
//! and the `exp`/`nbf`/`iat` it carries or is issued with, audit timestamps and agent
//! assertions. A clock outside the range is refused the same way (fail closed). Bindings
//! convert host times (a JS `Date`, a Python `datetime`) to seconds before they reach the core.
//!
//! ```
//! use marque::clock::check;
//! assert_eq!(check("now", 1_767_225_600)?, 1_767_225_600);
//! let err = check("now", 1_767_225_600_000).unwrap_err(); // Date.now()
//! assert_eq!(err.code(), "invalid_argument");
//! assert!(err.message().contains("milliseconds"));
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::format;

use crate::error::{Error, Result};

/// 2000-01-01T00:00:00Z, the earliest time marque accepts.
pub const MIN_SECONDS: u64 = 946_684_800;
/// 2200-01-01T00:00:00Z, the latest time marque accepts.
pub const MAX_SECONDS: u64 = 7_258_118_400;

/// `t` when it is a plausible time in seconds since the epoch, else `invalid_argument` whose
/// message names `what` and the unit.
pub fn check(what: &str, t: u64) -> Result<u64> {
    if (MIN_SECONDS..=MAX_SECONDS).contains(&t) {
        return Ok(t);
    }
    let hint = if t > MAX_SECONDS && t / 1000 <= MAX_SECONDS {
        "looks like milliseconds"
    } else if t > MAX_SECONDS {
        "is after 2200-01-01 (microseconds or nanoseconds?)"
    } else {
        "is before 2000-01-01"
    };
    Err(Error::invalid_argument(format!(
        "{what} {t} {hint}; marque times are seconds since the epoch (between {MIN_SECONDS} and {MAX_SECONDS})"
    )))
}

/// [`check`] for an optional time.
pub fn check_opt(what: &str, t: Option<u64>) -> Result<Option<u64>> {
    t.map(|t| check(what, t)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_and_messages() {
        assert!(check("now", MIN_SECONDS).is_ok() && check("now", MAX_SECONDS).is_ok());
        for (t, hint) in [
            (1_767_225_600_000, "milliseconds"),
            (MAX_SECONDS + 1, "milliseconds"),
            (1_767_225_600_000_000, "microseconds"),
            (u64::MAX, "microseconds"),
            (0, "before 2000"),
            (1_000, "before 2000"),
            (MIN_SECONDS - 1, "before 2000"),
        ] {
            let e = check("now", t).unwrap_err();
            assert_eq!(e.code(), "invalid_argument");
            assert!(e.message().contains(hint) && e.message().contains("seconds since the epoch"), "{t}: {e}");
        }
    }
}
