//! Times are seconds: a millisecond now (Date.now()) is refused with invalid_argument, never read as a far-future second.
//!
//! Every operation that takes a time (mint, delegate, authorize) refuses one outside
//! 2000-01-01 … 2200-01-01: milliseconds (`Date.now()`), microseconds, and implausibly small
//! values. Before the rule, a millisecond `now` minted a token valid for millennia and made a
//! delegation's TTL meaningless.

use serde_json::json;

use crate::{allowed, error, key, req, Book, NOW};
use marque::policy::Right;
use marque::token::MintParams;
use marque::Token;

/// Times that are not seconds since the epoch between 2000 and 2200.
const BAD_TIMES: &[(&str, u64)] = &[
    ("milliseconds (Date.now())", NOW * 1000),
    ("milliseconds, a second later", NOW * 1000 + 999),
    ("microseconds", NOW * 1_000_000),
    ("zero", 0),
    ("before 2000", 946_684_799),
    ("after 2200", 7_258_118_401),
];

pub fn cases(b: &mut Book) {
    let token = Token::mint(
        &key("root"),
        &MintParams::new("agent:orchestrator", key("orchestrator").public_key(), "user:alice")
            .right(Right::new("read_file", "read", "src/"))
            .ttl_seconds(3600)
            .now(NOW),
    )
    .expect("mint");
    let t = b.token("clock_root", &token);
    let mint = |now: u64, expect: serde_json::Value| {
        json!({"op": "mint", "root": "root", "params": {"agent": "agent:x", "agent_key": "agent_a", "principal": "user:alice",
            "rights": ["read_file:read:src/"], "ttl_seconds": 60, "now": now}, "expect": expect})
    };
    let delegate = |now: u64, expect: serde_json::Value| {
        json!({"op": "delegate", "token": t, "holder": "orchestrator",
            "params": {"to": "agent:agent_a", "to_key": "agent_a", "ttl_seconds": 60, "now": now}, "expect": expect})
    };
    let named = |mut case: serde_json::Value, name: String| {
        case["name"] = json!(name);
        case
    };
    for (what, now) in BAD_TIMES {
        b.case(named(mint(*now, error("invalid_argument")), format!("clock: mint with now in {what} is refused")));
        b.case(named(delegate(*now, error("invalid_argument")), format!("clock: delegate with now in {what} is refused")));
        b.case(json!({"name": format!("clock: authorize with now in {what} is refused"), "op": "authorize", "root": "root",
            "token": t, "request": req("read_file", "read", "src/a.rs"), "proof": null, "now": now, "expect": error("invalid_argument")}));
    }
    b.case(named(mint(NOW, json!({"ok": true})), "clock: mint with now in seconds works".into()));
    b.case(named(delegate(NOW, json!({"ok": true, "path": "/root/agent_a"})), "clock: delegate with now in seconds works".into()));
    b.authorize("clock: authorize with now in seconds works", &t, req("read_file", "read", "src/a.rs"), allowed());
    // The bounds themselves are accepted (a token minted at 2000-01-01 has long expired).
    let at_bound = Token::mint(
        &key("root"),
        &MintParams::new("agent:orchestrator", key("orchestrator").public_key(), "user:alice")
            .right(Right::new("read_file", "read", "src/"))
            .now(946_684_800),
    )
    .expect("mint at 2000-01-01");
    let at_bound = b.token("clock_2000", &at_bound);
    b.authorize("clock: a token minted at 2000-01-01 is read, and expired", &at_bound, req("read_file", "read", "src/a.rs"), crate::denied("expired"));
}
