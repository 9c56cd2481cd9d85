//! An agent id names one agent in a chain; revocation by key fingerprint.

use crate::Book;

pub fn cases(_b: &mut Book) {}
