//! A hop or authority block that carries more than the profile's Datalog (issue: CPU/memory denial of service): refused with invalid_token before any Datalog runs.

use crate::Book;

pub fn cases(_b: &mut Book) {}
