//! Proofs of possession and the replay cache: a holder cannot fill the cache with proofs of calls that are not allowed.

use crate::Book;

pub fn cases(_b: &mut Book) {}
