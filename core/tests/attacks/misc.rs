//! Baselines (the scenario behaves) and smaller holes.

use crate::{allowed, denied, req, scenario, Book};
use serde_json::json;

pub fn cases(b: &mut Book) {
    let (t0, ta) = scenario();
    let t0 = b.token("orchestrator", &t0);
    let ta = b.token("agent_a", &ta);
    b.authorize("baseline: agent_a reads under src/", &ta, req("read_file", "read", "src/main.rs"), allowed());
    b.authorize("baseline: agent_a cannot write", &ta, req("write_file", "write", "src/main.rs"), denied("not_authorized"));
    b.authorize("baseline: the orchestrator writes under src/", &t0, req("write_file", "write", "src/main.rs"), allowed());
    b.case(json!({"name": "baseline: a delegation cannot add a tool", "op": "delegate", "token": ta, "holder": "agent_a",
        "params": {"to": "agent:agent_c", "to_key": "agent_c", "tools": ["write_file"], "now": crate::NOW},
        "expect": {"error": "attenuation_widens"}}));
    b.case(json!({"name": "baseline: a delegation by the wrong key is refused", "op": "delegate", "token": ta, "holder": "mallory",
        "params": {"to": "agent:agent_c", "to_key": "agent_c", "now": crate::NOW},
        "expect": {"error": "wrong_holder_key"}}));
    b.case(json!({"name": "baseline: a narrower delegation works", "op": "delegate", "token": ta, "holder": "agent_a",
        "params": {"to": "agent:agent_c", "to_key": "agent_c", "resource_prefix": "src/lib/", "now": crate::NOW},
        "expect": {"ok": true, "path": "/root/agent_a/agent_c"}}));
    b.case(json!({"name": "baseline: minting with a malformed right is refused", "op": "mint", "root": "root",
        "params": {"agent": "agent:x", "agent_key": "agent_c", "principal": "user:alice", "rights": [""], "now": crate::NOW},
        "expect": {"error": "invalid_argument"}}));
}
