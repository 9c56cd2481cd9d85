//! Resources are paths: traversal, empty segments, backslashes, percent-escapes and control characters are refused (invalid_request); prefixes match on segment boundaries.
//!
//! Three tokens: `res_root` (rights on `src`, `docs/`, `mcp://srv`, `repo:org`, `channel#`, and
//! read anything) exercises marque's rights policy; `res_src` (a hop narrowing to `src/`),
//! `res_mcp` (`mcp://srv`) and `res_channel` (`channel#`) exercise the check each hop carries.
//! Hostile resources are refused before any policy, even under a right that covers everything;
//! hostile prefixes are refused at mint and delegate; `"*"` in a delegation means unchanged; a
//! token of profile 1 (string-prefix semantics) is refused.

use marque::delegate::DelegateParams;
use marque::policy::Right;
use marque::token::MintParams;
use marque::Token;
use serde_json::json;

use crate::{allowed, denied, error, key, req, Book, NOW};

/// Every traversal and encoding form: refused with `invalid_request` whatever the token grants.
pub const HOSTILE: &[(&str, &str)] = &[
    ("dot-dot after the prefix", "src/../secrets/key"),
    ("dot-dot twice", "src/../../etc/passwd"),
    ("empty segments around dot-dot", "src//..//.env"),
    ("a dot segment", "src/./x"),
    ("a leading dot segment", "./src/x"),
    ("a trailing dot-dot", "src/.."),
    ("a bare dot-dot", ".."),
    ("three dots", "src/.../x"),
    ("dot-dot with a trailing space", "src/.. /x"),
    ("dot-dot with a path parameter", "src/..;/x"),
    ("an empty segment", "src//x"),
    ("two leading slashes", "//etc/passwd"),
    ("backslashes", "src\\..\\x"),
    ("one backslash", "src\\x"),
    ("percent-escaped dots", "src/%2e%2e/x"),
    ("percent-escaped dots, upper case", "src/%2E%2E/x"),
    ("percent-escaped slashes", "src%2F..%2Fx"),
    ("percent-escaped slashes, lower case", "src%2f..%2fx"),
    ("percent-escaped backslash", "src%5c..%5cx"),
    ("double percent-encoding", "src/%252e%252e/x"),
    ("percent-escaped NUL", "src/x%00.txt"),
    ("overlong UTF-8 slash", "src/..%c0%af/x"),
    ("NUL", "src/x\u{0}.txt"),
    ("newline", "src/x\n"),
    ("carriage return", "src/x\rGET"),
    ("tab", "src/\tx"),
    ("DEL", "src/x\u{7f}"),
    ("a C1 control", "src/x\u{85}"),
    ("fullwidth dots", "src/\u{FF0E}\u{FF0E}/x"),
    ("fullwidth solidus", "src\u{FF0F}..\u{FF0F}x"),
    ("two dot leader", "src/\u{2025}/x"),
    ("fullwidth percent signs (NFKC: %2e%2e)", "src/\u{FF05}2e\u{FF05}2e/x"),
    ("small percent sign (NFKC: %2e)", "src/\u{FE6A}2e/x"),
    ("a percent sign before fullwidth hex digits (NFKC: %2e)", "src/%\u{FF12}\u{FF45}%\u{FF12}\u{FF45}/x"),
    ("empty", ""),
    ("a URI with dot-dot", "mcp://srv/../x"),
    ("a URI with an empty segment", "mcp://srv//x"),
    ("a URI with a dot-dot authority", "https://../x"),
    ("a file URI with dot-dot", "file:///etc/../root"),
];

/// Hostile prefixes: refused at mint (a right's resource) and at delegation (`invalid_argument`).
const HOSTILE_PREFIXES: &[&str] =
    &["src/../secrets", "src//x", "src\\x", "src/%2e%2e/", "src/./", "..", "src/\u{0}", "%2F", "src/\u{FF0E}\u{FF0E}"];

pub fn cases(b: &mut Book) {
    let root = Token::mint(
        &key("root"),
        &MintParams::new("agent:orchestrator", key("orchestrator").public_key(), "user:alice")
            .right(Right::new("read_file", "read", "*"))
            .right(Right::new("write_file", "write", "src"))
            .right(Right::new("list", "*", "docs/"))
            .right(Right::new("fetch", "*", "mcp://srv"))
            .right(Right::new("repo", "*", "repo:org"))
            .right(Right::new("chat", "*", "channel#"))
            .right(Right::new("files", "*", "file:///etc"))
            .ttl_seconds(3600)
            .now(NOW),
    )
    .expect("mint");
    let hop = |prefix: &str| {
        root.delegate(
            &key("orchestrator"),
            &DelegateParams::new("agent:agent_a", key("agent_a").public_key()).resource_prefix(prefix).now(NOW),
        )
        .expect("delegate")
    };
    let t0 = b.token("res_root", &root);
    let src = b.token("res_src", &hop("src/"));
    let mcp = b.token("res_mcp", &hop("mcp://srv"));
    let channel = b.token("res_channel", &hop("channel#"));

    // 1. Hostile request resources: refused before any policy, under a right covering everything
    //    (read_file:read:*) and under a hop's prefix.
    for (what, resource) in HOSTILE {
        b.authorize(&format!("resource: {what} is refused (any right)"), &t0, req("read_file", "read", resource), error("invalid_request"));
        b.authorize(&format!("resource: {what} is refused (a src/ hop)"), &src, req("read_file", "read", resource), error("invalid_request"));
    }

    // 2. Rights match on segment boundaries (marque's rights policy).
    let rights: &[(&str, &str, &str, bool)] = &[
        ("write_file", "write", "src", true),
        ("write_file", "write", "src/", true),
        ("write_file", "write", "src/main.rs", true),
        ("write_file", "write", "src2/x", false),
        ("write_file", "write", "src.env", false),
        ("write_file", "write", "src_secret", false),
        ("list", "x", "docs", true),
        ("list", "x", "docs/a/b.md", true),
        ("list", "x", "docs2", false),
        ("list", "x", "docs.md", false),
        ("fetch", "get", "mcp://srv", true),
        ("fetch", "get", "mcp://srv/x", true),
        ("fetch", "get", "mcp://srv2/x", false),
        ("fetch", "get", "mcp://srv.evil/x", false),
        ("fetch", "get", "mcp://srvx", false),
        ("repo", "read", "repo:org/name", true),
        ("repo", "read", "repo:org", true),
        ("repo", "read", "repo:org2", false),
        ("repo", "read", "repo:orgx/name", false),
        ("chat", "post", "channel#general", true),
        ("chat", "post", "channel", false),
        ("chat", "post", "channelx", false),
        ("files", "read", "file:///etc/hosts", true),
        ("files", "read", "file:///etcetera", false),
    ];
    for (tool, op, resource, ok) in rights {
        let expect = if *ok { allowed() } else { denied("not_authorized") };
        let verdict = if *ok { "covers" } else { "does not cover" };
        b.authorize(&format!("rights: a {tool} right {verdict} {resource:?}"), &t0, req(tool, op, resource), expect);
    }

    // 3. A hop's prefix matches on segment boundaries too (the check the block carries).
    let hops: &[(&str, &str, &str, bool)] = &[
        ("src/", src.as_str(), "src", true),
        ("src/", src.as_str(), "src/main.rs", true),
        ("src/", src.as_str(), "src2/x", false),
        ("src/", src.as_str(), "src.env", false),
        ("src/", src.as_str(), "src_secret", false),
        ("src/", src.as_str(), "secrets/key", false),
        ("mcp://srv", mcp.as_str(), "mcp://srv/x", true),
        ("mcp://srv", mcp.as_str(), "mcp://srv", true),
        ("mcp://srv", mcp.as_str(), "mcp://srv2/x", false),
        ("mcp://srv", mcp.as_str(), "mcp://srv.evil/x", false),
        ("channel#", channel.as_str(), "channel#general", true),
        ("channel#", channel.as_str(), "channel", false),
        ("channel#", channel.as_str(), "channels#general", false),
    ];
    for (prefix, token, resource, ok) in hops {
        let expect = if *ok { allowed() } else { denied("not_authorized") };
        let verdict = if *ok { "covers" } else { "does not cover" };
        b.authorize(&format!("hop: prefix {prefix:?} {verdict} {resource:?}"), token, req("read_file", "read", resource), expect);
    }

    // 4. Delegation: hostile prefixes are arguments (invalid_argument); narrowing is the same rule.
    let delegate = |b: &mut Book, name: &str, token: &str, holder: &str, extra: serde_json::Value, expect: serde_json::Value| {
        let mut params = json!({"to": "agent:agent_c", "to_key": "agent_c", "now": NOW});
        for (k, v) in extra.as_object().expect("object") {
            params[k] = v.clone();
        }
        b.case(json!({"name": name, "op": "delegate", "token": token, "holder": holder, "params": params, "expect": expect}));
    };
    for prefix in HOSTILE_PREFIXES {
        delegate(b, &format!("delegate: hostile prefix {prefix:?} is refused"), &t0, "orchestrator", json!({"resource_prefix": prefix}), error("invalid_argument"));
        b.case(json!({"name": format!("mint: a right on hostile prefix {prefix:?} is refused"), "op": "mint", "root": "root",
            "params": {"agent": "agent:x", "agent_key": "agent_c", "principal": "user:alice", "rights": [format!("read_file:read:{prefix}")], "now": NOW},
            "expect": error("invalid_argument")}));
    }
    let narrowing: &[(&str, serde_json::Value)] = &[
        ("src", json!({"ok": true, "path": "/root/agent_a/agent_c"})),
        ("src/lib", json!({"ok": true, "path": "/root/agent_a/agent_c"})),
        ("src/lib/", json!({"ok": true, "path": "/root/agent_a/agent_c"})),
        ("src2", error("attenuation_widens")),
        ("src.env", error("attenuation_widens")),
        ("src_secret", error("attenuation_widens")),
        ("src:", error("attenuation_widens")),
        ("src#", error("attenuation_widens")),
        ("secrets/", error("attenuation_widens")),
    ];
    for (prefix, expect) in narrowing {
        let verdict = if expect.get("ok").is_some() { "narrows" } else { "widens" };
        delegate(b, &format!("delegate: prefix {prefix:?} under src/ {verdict}"), &src, "agent_a", json!({"resource_prefix": prefix}), expect.clone());
    }
    delegate(b, "delegate: prefix \"mcp://srv/x\" under mcp://srv narrows", mcp.as_str(), "agent_a", json!({"resource_prefix": "mcp://srv/x"}), json!({"ok": true, "path": "/root/agent_a/agent_c"}));
    delegate(b, "delegate: prefix \"mcp://srv.evil\" under mcp://srv widens", mcp.as_str(), "agent_a", json!({"resource_prefix": "mcp://srv.evil"}), error("attenuation_widens"));
    delegate(b, "delegate: prefix \"channel#ops\" under channel# narrows", channel.as_str(), "agent_a", json!({"resource_prefix": "channel#ops"}), json!({"ok": true, "path": "/root/agent_a/agent_c"}));

    // 5. "*" means unchanged, never a literal (a tool named "*" or a resource "*").
    delegate(b, "delegate: resource_prefix \"*\" under src/ means unchanged", src.as_str(), "agent_a", json!({"resource_prefix": "*"}), json!({"ok": true, "path": "/root/agent_a/agent_c"}));
    delegate(b, "delegate: tools [\"*\"] under a tool list means unchanged", &t0, "orchestrator", json!({"tools": ["*"]}), json!({"ok": true, "path": "/root/agent_c"}));
    delegate(b, "delegate: operations [\"*\"] means unchanged", src.as_str(), "agent_a", json!({"operations": ["*"]}), json!({"ok": true, "path": "/root/agent_a/agent_c"}));
    delegate(b, "delegate: \"*\" beside tool names is ambiguous", &t0, "orchestrator", json!({"tools": ["*", "read_file"]}), error("invalid_argument"));
    let any_tool = Token::mint(
        &key("root"),
        &MintParams::new("agent:orchestrator", key("orchestrator").public_key(), "user:alice").right(Right::new("*", "*", "*")).now(NOW),
    )
    .expect("mint");
    let star = any_tool
        .delegate(
            &key("orchestrator"),
            &DelegateParams::new("agent:agent_a", key("agent_a").public_key()).tools(["*"]).operations(["*"]).resource_prefix("*").now(NOW),
        )
        .expect("delegate");
    let star = b.token("res_star", &star);
    b.authorize("star: tools/operations/prefix \"*\" keep every tool", &star, req("deploy", "run", "prod/web"), allowed());
    let unchanged = Token::from_base64(&b.tokens["res_src"])
        .expect("token")
        .delegate(
            &key("agent_a"),
            &DelegateParams::new("agent:agent_c", key("agent_c").public_key()).resource_prefix("*").tools(["*"]).now(NOW),
        )
        .expect("delegate");
    let unchanged = b.token("res_src_star", &unchanged);
    b.authorize("star: a \"*\" hop under src/ still reads src/", &unchanged, req("read_file", "read", "src/a.rs"), allowed());
    b.authorize("star: a \"*\" hop under src/ keeps the src/ limit", &unchanged, req("read_file", "read", "etc/passwd"), denied("not_authorized"));

    // 6. A profile-1 token (string-prefix semantics) is refused, not read with the new rule.
    let v1 = profile_1_token();
    let v1 = b.token_b64("res_profile_1", v1);
    b.authorize("profile: a profile-1 token is refused", &v1, req("read_file", "read", "src/a.rs"), error("invalid_token"));
}

/// A token whose authority block says `marque_profile(1)` (descriptor `"marque":1`), signed by
/// the vectors' root: what a marque 0.1 minter produced.
fn profile_1_token() -> String {
    let root = key("root");
    let seed = root.to_seed();
    let private = biscuit_auth::PrivateKey::from_bytes(&seed[..], biscuit_auth::Algorithm::Ed25519).expect("seed");
    let context = format!(
        r#"{{"marque":1,"agent":"agent:orchestrator","key":"{}","principal":"user:alice","rights":[{{"tool":"read_file","operation":"read","resource":"src"}}],"iat":{NOW},"exp":{},"max_depth":4}}"#,
        key("orchestrator").public_key().to_hex(),
        NOW + 3600
    );
    assert_eq!(NOW + 3600, 1_767_229_200, "2026-01-01T01:00:00Z below");
    let code = "marque_profile(1);\nagent(\"agent:orchestrator\");\nprincipal(\"user:alice\");\n\
                right(\"read_file\", \"read\", \"src\");\ncheck if time($time), $time <= 2026-01-01T01:00:00Z;\n";
    let token = biscuit_auth::builder::BiscuitBuilder::new()
        .context(context)
        .code(code)
        .expect("datalog")
        .build(&biscuit_auth::KeyPair::from(&private))
        .expect("build");
    token.to_base64().expect("base64")
}
