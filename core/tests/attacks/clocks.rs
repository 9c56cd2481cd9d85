//! Times are seconds: a millisecond now (Date.now()) is refused with invalid_argument, never read as a far-future second.

use crate::Book;

pub fn cases(_b: &mut Book) {}
