//! Warm-up: the first authorization after the module is instantiated runs mostly in code the
//! engine has not compiled yet (V8 compiles WebAssembly lazily, function by function), and took
//! about 60 ms in Node 20 — past the core's 20 ms Datalog time limit, so it was denied with
//! `limits_exceeded`. The entry points call [`warm_up`] once at load: it authorizes a fixed
//! two-hop token (the shared vector `agent_c`) with a generous time limit, which compiles every
//! code path of parsing, signature checks, hop checks and Datalog. The real calls that follow
//! then run under the normal limits (about 1 ms warm).

use marque::policy::{Limits, Request};
use wasm_bindgen::prelude::*;

/// The shared vector token `agent_c` (root seed 01…01, delegated twice).
const TOKEN: &str = concat!(
    "CJif1KMDEpIHCqcGCg5tYXJxdWVfcHJvZmlsZQoFYWdlbnQKEmFnZW50Om9yY2hlc3RyYXRvcgoJYWdlbnRfa2V5Cglwcmlu",
    "Y2lwYWwKCnVzZXI6YWxpY2UKCWlzc3VlZF9hdAoKZXhwaXJlc19hdAoJbWF4X2RlcHRoCgR0YXNrCgxmaXgtaXNzdWUtNDIK",
    "CXdvcmtzcGFjZQoIYWNtZS93ZWIKCXJlYWRfZmlsZQoBKgoKd3JpdGVfZmlsZQoFZGVwdGgS4wJ7Im1hcnF1ZSI6MSwiYWdl",
    "bnQiOiJhZ2VudDpvcmNoZXN0cmF0b3IiLCJrZXkiOiI4MTM5NzcwZWE4N2QxNzVmNTZhMzU0NjZjMzRjN2VjY2NiOGQ4YTkx",
    "YjRlZTM3YTI1ZGY2MGY1YjhmYzliMzk0IiwicHJpbmNpcGFsIjoidXNlcjphbGljZSIsInRhc2siOiJmaXgtaXNzdWUtNDIi",
    "LCJ3b3Jrc3BhY2UiOiJhY21lL3dlYiIsInJpZ2h0cyI6W3sidG9vbCI6InJlYWRfZmlsZSIsIm9wZXJhdGlvbiI6InJlYWQi",
    "LCJyZXNvdXJjZSI6IioifSx7InRvb2wiOiJ3cml0ZV9maWxlIiwib3BlcmF0aW9uIjoid3JpdGUiLCJyZXNvdXJjZSI6Iioi",
    "fV0sImlhdCI6MTc2NzIyNTYwMCwiZXhwIjoxNzY3MjI5MjAwLCJtYXhfZGVwdGgiOjR9GAMiCQoHCIAIEgIQASIKCggIgQgS",
    "AxiCCCIpCicIgwgSIioggTl3Dqh9F19Wo1Rmw0x-zMuNipG07jeiXfYPW4_Js5QiCgoICIQIEgMYhQgiDQoLCIYIEgYggPLW",
    "ygYiDQoLCIcIEgYgkI7XygYiCQoHCIgIEgIQBCIKCggIiQgSAxiKCCIKCggIiwgSAxiMCCISChAIBBIDGI0IEgIYABIDGI4I",
    "IhIKEAgEEgMYjwgSAhgBEgMYjggyJgokCgIIGxIGCAUSAggFGhYKBAoCCAUKCAoGIJCO18oGCgQaAggCMiUKIwoCCBsSCAiQ",
    "CBIDCJAIGhMKBQoDCJAICgQKAhAECgQaAggCEiQIABIgAN2KoszdJ18szaCcWSmWZjx1UA0YzDlX4bqFfWJV1tQaQJkhFz7_",
    "0Pbv_aF7RaXN9iEbWfFBRTJfF0JpVSDL3r8y-yyNsimOC9GCu5PhmEzWJYOADLjSv2tGCe9uL-inbAIa8gUKmwQKA2hvcAoN",
    "YWdlbnQ6YWdlbnRfYQoNL3Jvb3QvYWdlbnRfYQoEdG9vbAoJcmVhZF9maWxlCgJvcAoDcmVzCgRzcmMvEvUBeyJtYXJxdWUi",
    "OjEsImRlcHRoIjoxLCJhZ2VudCI6ImFnZW50OmFnZW50X2EiLCJwYXRoIjoiL3Jvb3QvYWdlbnRfYSIsImtleSI6ImVkNDky",
    "OGM2MjhkMWMyYzZlYWU5MDMzODkwNTk5NTYxMjk1OTI3M2E1YzYzZjkzNjM2YzE0NjE0YWM4NzM3ZDEiLCJ0b29scyI6WyJy",
    "ZWFkX2ZpbGUiXSwib3BlcmF0aW9ucyI6WyJyZWFkIl0sInJlc291cmNlX3ByZWZpeCI6InNyYy8iLCJpYXQiOjE3NjcyMjU2",
    "MDAsImV4cCI6MTc2NzIyNzQwMH0YBSI3CjUIgAgSAhABEgMYgQgSAxiCCBIiKiDtSSjGKNHCxurpAziQWZVhKVknOlxj-TY2",
    "wUYUrIc30TImCiQKAggbEgYIBRICCAUaFgoECgIIBQoICgYgiIDXygYKBBoCCAIyKgooCgIIGxIICIMIEgMIgwgaGAoJCgc6",
    "BQoDGIQICgUKAwiDCAoEGgIIBTIoCiYKAggbEgcIAxIDCIUIGhcKCAoGOgQKAhgACgUKAwiFCAoEGgIIBTIlCiMKAggbEgcI",
    "AhIDCIYIGhQKBQoDCIYICgUKAxiHCAoEGgIIBhIkCAASIHNPbT2XpoMU7eCfjO32uc6dCTXOhlYi05yKatlI1R0wGkCDSJXe",
    "2UgIHnF2n0nvzA9XYpZDLfA6vr2glgr6rJjqM1LgE_5FBRuHmwsrJYYl9W7ZIAlWbh9ErwPWM24O55MFImgKQBd228q1VN2t",
    "QZgXfw7XTToL_0srW8EgFEnVbYOa97fzo95J5mYkJR7TSIYPFlcVZ0_lPZKryUCOqB1hf6oDfAgSJAgAEiCBOXcOqH0XX1aj",
    "VGbDTH7My42KkbTuN6Jd9g9bj8mzlCgBGvkECqIDCgNob3AKDWFnZW50OmFnZW50X2MKFS9yb290L2FnZW50X2EvYWdlbnRf",
    "YwoDcmVzCgtzcmMvbWFpbi5ycxLYAXsibWFycXVlIjoxLCJkZXB0aCI6MiwiYWdlbnQiOiJhZ2VudDphZ2VudF9jIiwicGF0",
    "aCI6Ii9yb290L2FnZW50X2EvYWdlbnRfYyIsImtleSI6ImNhOTNhYzE3MDUxODcwNzFkNjdiODNjN2ZmMGVmZTgxMDhlOGVj",
    "NDUzMDU3NWQ3NzI2ODc5MzMzZGJkYWJlN2MiLCJyZXNvdXJjZV9wcmVmaXgiOiJzcmMvbWFpbi5ycyIsImlhdCI6MTc2NzIy",
    "NTYwMCwiZXhwIjoxNzY3MjI3NDAwfRgFIjcKNQiACBICEAISAxiBCBIDGIIIEiIqIMqTrBcFGHBx1nuDx_8O_oEI6OxFMFdd",
    "dyaHkzPb2r58MiYKJAoCCBsSBggFEgIIBRoWCgQKAggFCggKBiCIgNfKBgoEGgIIAjIlCiMKAggbEgcIAhIDCIMIGhQKBQoD",
    "CIMICgUKAxiECAoEGgIIBhIkCAASIBiVbfKfzyrOAjoAj9ROVe4kxPhranB3w7km00f5M2KjGkA0vleANRQb1OhSjHBbBmtJ",
    "6W7XHGCzI4uzHf8l4c4e5GviXNx4j5ql86C5KqzoRrddDqm-pFtvrjug96y8d_wBImgKQHuGswY_4QrcB7woynscgcrZ7ZwO",
    "Z8Jielrn5lelvw4Go2pggfyNyqAr84ZLHWna9zxO72MyDcg_xdUgu-R26gwSJAgAEiDtSSjGKNHCxurpAziQWZVhKVknOlxj",
    "-TY2wUYUrIc30SgBIiIKIK3CVERuLZ150WddibDrDVBEGlkYeNefbg9REk54Fkzc",
);
const ROOT: &str = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c";
const NOW: u64 = 1767225610;

/// Authorizes a fixed token three times — allowed, denied by a failed check, expired — so the
/// allowed and the denial paths are both compiled. Returns whether the three outcomes were the
/// expected ones (always, unless the module is broken). Called by the package's entry points;
/// not part of the public API.
#[wasm_bindgen(js_name = "__warmUp")]
pub fn warm_up() -> bool {
    let Ok(root) = marque::PublicKey::from_hex(ROOT) else {
        return false;
    };
    let limits = Limits {
        max_time_micros: 10_000_000,
        ..Limits::default()
    };
    let verifier = marque::Verifier::new([root]).with_limits(limits);
    let run = |resource: &str, now: u64| {
        let request = Request::new("read_file", "read", resource);
        verifier
            .authorize_base64(TOKEN, &request, None, Some(now))
            .ok()
            .and_then(|d| {
                if d.allowed {
                    Some("allowed".to_string())
                } else {
                    d.code
                }
            })
    };
    run("src/main.rs", NOW).as_deref() == Some("allowed")
        && run("src/lib.rs", NOW).as_deref() == Some("not_authorized")
        && run("src/main.rs", NOW + 3600).as_deref() == Some("expired")
        && rego_warm_up()
}

/// The Rego build: the interpreter's paths (parse, evaluate `require_approval` and `allow`) are
/// compiled the same way, under a 10 s limit, so a verifier's first policy evaluation does not
/// pay V8's lazy compilation against the 50 ms policy time limit.
#[cfg(feature = "rego")]
fn rego_warm_up() -> bool {
    use marque::rego::{RegoInput, RegoOutcome, RegoPolicy};
    crate::rego::set_host_clock();
    let source = include_str!("../../tests/vectors/rego/agent_authz.rego");
    let Ok(mut policy) = RegoPolicy::new("warm-up", None, source) else {
        return false;
    };
    if policy.set_time_limit(core::time::Duration::from_secs(10)).is_err() {
        return false;
    }
    let outcome = |role: &str, env: &str| {
        let mut input = RegoInput::for_request("deploy", "deploy", "svc/web", NOW);
        input.agent.role = Some(role.to_string());
        input.resource_attribute("env", env);
        policy.evaluate(&input).ok().map(|v| v.outcome)
    };
    outcome("deployer", "production") == Some(RegoOutcome::ApprovalRequired)
        && outcome("deployer", "staging") == Some(RegoOutcome::Allow)
        && outcome("reviewer", "staging") == Some(RegoOutcome::Deny)
}

#[cfg(not(feature = "rego"))]
fn rego_warm_up() -> bool {
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn warm_up_token_is_allowed() {
        assert!(super::warm_up());
    }
}
