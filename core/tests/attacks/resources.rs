//! Resources are paths: traversal, empty segments, backslashes, percent-escapes and control characters are refused (invalid_request); prefixes match on segment boundaries.

use crate::Book;

pub fn cases(_b: &mut Book) {}
