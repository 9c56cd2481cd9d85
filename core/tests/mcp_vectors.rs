//! MCP vectors: `tests/vectors/mcp.json`, written by the core and replayed by every runtime.
//!
//! The cases state what the door of an MCP server must do — map every MCP message to a marque
//! request or refuse it, admit tokens, answer with the same status and `WWW-Authenticate`
//! challenge — *with the outcome the rules demand*. This test replays every case against the
//! core, then compares them with the committed file (token and proof bytes aside: they carry
//! random keys and nonces) and replays the committed file too, exactly like
//! `core/tests/attacks`. Regenerate with `MARQUE_REGEN_VECTORS=1 cargo test -p marque --test
//! mcp_vectors`. Python (`tests/python/test_vectors_mcp.py`) and both JS packages
//! (`tests/js/vectors-mcp.test.mjs`) replay the same file through their bindings, and each MCP
//! layer (Node `guardTools`, Python `MarqueGuard`, the edge `guard`) replays the `mcp` cases
//! through its glue.
//!
//! Case shapes:
//! ```json
//! {"name","op":"mcp","config":"<name in configs>","message":"<JSON-RPC text>",
//!  "mcp_method"?: "...", "mcp_name"?: "...", "token"?: "<token name: the transport's bearer token>",
//!  "meta_token"?: "<token name, inserted as params._meta[\"marque/token\"]>", "proof"?: "<transport proof>",
//!  "verifier"?: {"require_proof"?: true, "audience"?: "<server URI>", "revocations"?: <RevocationSet JSON>,
//!  "policies"?: [{"id", "source"}]}, "now": 1767225600,
//!  "expect": {"allowed": bool, "code": null|"...", "request": null|{"tool","operation","resource"}} | {"error": "<code>"}}
//! {"name","op":"admit","token": "<token name>" | "raw": "<text>", "verifier"?: {"revocations"?,
//!  "max_revocation_staleness"?, "operator"?: "<key name>", "revocation_list"?: <signed list JSON>}, "now",
//!  "expect": {"ok": {"agent","path","chain","scopes","expires_at"}} | {"error"}}
//! {"name","op":"challenge","challenge": <Challenge JSON>, "expect": {"header": "..."}}
//! {"name","op":"refusal","code": null|"...", "expect": {"status": 401, "error": null|"invalid_token"}}
//! {"name","op":"metadata_url","resource": "...", "expect": {"url": "..."} | {"error"}}
//! {"name","op":"config","config": "<JSON text>", "expect": {"ok": true} | {"error"}}
//! ```

use std::collections::BTreeMap;

use marque::bearer::{refusal, resource_metadata_url, Challenge};
use marque::mcp::{McpCall, McpConfig};
use marque::{DelegateParams, KeyPair, MintParams, Policy, Request, RevocationList, RevocationSet, Right, Token, Verifier};
use serde_json::{json, Value};

const NOW: u64 = 1_767_225_600;
const KEYS: &[(&str, u8)] = &[("root", 1), ("orchestrator", 2), ("agent_a", 3), ("agent_c", 4), ("operator", 6), ("other_root", 9)];

fn key(name: &str) -> KeyPair {
    let seed = KEYS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("unknown key {name}")).1;
    KeyPair::from_seed(&[seed; 32])
}

#[derive(Default)]
struct Book {
    tokens: BTreeMap<String, Token>,
    configs: BTreeMap<String, Value>,
    cases: Vec<Value>,
}

impl Book {
    fn case(&mut self, case: Value) {
        assert!(case["name"].is_string() && case["op"].is_string() && case["expect"].is_object(), "{case}");
        assert!(!self.cases.iter().any(|c| c["name"] == case["name"]), "duplicate case {}", case["name"]);
        self.cases.push(case);
    }

    /// An `mcp` case: `extra` adds headers, credentials and a verifier to the base shape.
    fn mcp(&mut self, name: &str, config: &str, message: Value, extra: Value, expect: Value) {
        let text = if let Value::String(s) = &message { s.clone() } else { message.to_string() };
        let mut case = json!({"name": name, "op": "mcp", "config": config, "message": text, "now": NOW, "expect": expect});
        for (k, v) in extra.as_object().expect("extra is an object") {
            case[k] = v.clone();
        }
        self.case(case);
    }
}

fn call(id: Value, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}
fn tool(name: &str, arguments: Value) -> Value {
    call(json!(1), "tools/call", json!({"name": name, "arguments": arguments}))
}
fn allowed(request: Option<(&str, &str, &str)>) -> Value {
    json!({"allowed": true, "code": null, "request": request.map(|(t, o, r)| json!({"tool": t, "operation": o, "resource": r}))})
}
fn denied(code: &str, (t, o, r): (&str, &str, &str)) -> Value {
    json!({"allowed": false, "code": code, "request": {"tool": t, "operation": o, "resource": r}})
}
fn error(code: &str) -> Value {
    json!({"error": code})
}

fn tokens(b: &mut Book) {
    let t0 = Token::mint(
        &key("root"),
        &MintParams::new("agent:orchestrator", key("orchestrator").public_key(), "user:alice")
            .task("fix-issue-42")
            .right(Right::new("read_file", "read", "*"))
            .right(Right::new("write_file", "write", "src/"))
            .right(Right::new("run_tests", "*", "*"))
            .right(Right::new("resources/read", "read", "file:///srv/docs/"))
            .right(Right::new("prompts/get", "get", "code_review"))
            .right(Right::new("completion/complete", "prompt", "code_review"))
            .ttl_seconds(3600)
            .now(NOW),
    )
    .expect("mint");
    let ta = t0
        .delegate(
            &key("orchestrator"),
            &DelegateParams::new("agent:agent_a", key("agent_a").public_key())
                .tools(["read_file"])
                .operations(["read"])
                .resource_prefix("src/")
                .ttl_seconds(1800)
                .now(NOW),
        )
        .expect("delegate");
    let tc = ta
        .delegate(&key("agent_a"), &DelegateParams::new("agent:agent_c", key("agent_c").public_key()).resource_prefix("src/lib.rs").now(NOW))
        .expect("delegate");
    let expired = Token::mint(
        &key("root"),
        &MintParams::new("agent:old", key("agent_a").public_key(), "user:alice").right(Right::new("*", "*", "*")).ttl_seconds(60).now(NOW - 3600),
    )
    .expect("mint");
    let foreign = Token::mint(
        &key("other_root"),
        &MintParams::new("agent:orchestrator", key("orchestrator").public_key(), "user:alice").right(Right::new("*", "*", "*")).now(NOW),
    )
    .expect("mint");
    let for_a = Token::mint(
        &key("root"),
        &MintParams::new("agent:orchestrator", key("orchestrator").public_key(), "user:alice")
            .right(Right::new("read_file", "read", "*"))
            .audience(marque::audience::Audience::parse("https://a.example/mcp").expect("audience"))
            .now(NOW),
    )
    .expect("mint");
    let deployer = Token::mint(
        &key("root"),
        &MintParams::new("agent:deployer", key("agent_a").public_key(), "user:alice").right(Right::new("deploy", "deploy", "*")).now(NOW),
    )
    .expect("mint");
    for (n, t) in [("orchestrator", t0), ("agent_a", ta), ("agent_c", tc), ("expired", expired), ("foreign", foreign), ("for_a", for_a), ("deployer", deployer)] {
        b.tokens.insert(n.into(), t);
    }
    b.configs.insert("default".into(), json!({}));
    b.configs.insert(
        "files".into(),
        json!({"tools": {
            "read_file": {"operation": "read", "resource_arg": "path"},
            "write_file": {"operation": "write", "resource_arg": "path"},
            "run_tests": {"resource": "all"}}}),
    );
    // Request attributes from a tool's arguments (and fixed ones), for operator policies.
    b.configs.insert(
        "deploys".into(),
        json!({"tools": {"deploy": {"operation": "deploy", "resource_arg": "service",
            "attribute_args": {"resource.env": "env"}, "attributes": {"resource.type": "service"}}}}),
    );
    b.configs.insert("strict".into(), json!({"allow": ["initialize", "notifications/*"]}));
    b.configs.insert(
        "bound".into(),
        json!({"resource": "https://a.example/mcp", "tools": {"read_file": {"operation": "read", "resource_arg": "path"}}}),
    );
}

/// Audience binding (RFC 8707): the agent's proofs name the server its configuration names; the
/// server's verifier accepts only proofs naming it.
fn audience_cases(b: &mut Book) {
    let ta = b.tokens["agent_a"].clone();
    let read = tool("read_file", json!({"path": "src/main.rs"}));
    let text = read.to_string();
    let headers = |resource: Option<&str>| {
        let mut config = json!({"tools": {"read_file": {"operation": "read", "resource_arg": "path"}}});
        if let Some(r) = resource {
            config["resource"] = json!(r);
        }
        let config = McpConfig::from_json(&config.to_string()).expect("config");
        config.client_headers(&text, &ta, &key("agent_a"), Some(NOW)).expect("headers").proof.expect("proof")
    };
    let at = |aud: Option<&str>, proof: String| {
        let mut v = json!({"require_proof": true});
        if let Some(a) = aud {
            v["audience"] = json!(a);
        }
        json!({"token": "agent_a", "proof": proof, "verifier": v})
    };
    let request = ("read_file", "read", "src/main.rs");
    b.mcp("audience: the agent's proof for this server is accepted", "bound", read.clone(), at(Some("https://a.example/mcp"), headers(Some("https://a.example/mcp"))),
        allowed(Some(request)));
    b.mcp("audience: another spelling of the server URI is the same server", "bound", read.clone(),
        at(Some("HTTPS://A.Example:443/mcp/"), headers(Some("https://A.EXAMPLE/mcp/"))), allowed(Some(request)));
    b.mcp("audience: a proof for another server is refused", "files", read.clone(), at(Some("https://a.example/mcp"), headers(Some("https://b.example/mcp"))),
        denied("invalid_proof", request));
    b.mcp("audience: a proof naming no server is refused by an audience-bound server", "files", read.clone(),
        at(Some("https://a.example/mcp"), headers(None)), denied("invalid_proof", request));
    b.mcp("audience: a proof naming a server is refused by a verifier without audience", "files", read.clone(),
        at(None, headers(Some("https://a.example/mcp"))), denied("invalid_proof", request));
    b.mcp("audience: a configuration naming the server needs a verifier with that audience", "bound", read.clone(),
        at(None, headers(Some("https://a.example/mcp"))), error("invalid_argument"));
    b.mcp("audience: a configuration naming another server than the verifier's audience", "bound", read.clone(),
        at(Some("https://b.example/mcp"), headers(Some("https://a.example/mcp"))), error("invalid_argument"));
    // Tokens bound to a server (RFC 8707): a bearer token minted for server A, leaked and
    // presented at server B, is refused at the door (401 invalid_token), proof or not.
    let server = |aud: Option<&str>| match aud {
        Some(a) => json!({"token": "for_a", "verifier": {"audience": a}}),
        None => json!({"token": "for_a"}),
    };
    b.mcp("audience: a token minted for this server is accepted", "bound", read.clone(), server(Some("https://a.example/mcp")),
        allowed(Some(request)));
    b.mcp("audience: a tools/call with a token minted for another server is refused", "files", read.clone(),
        server(Some("https://b.example/mcp")), error("invalid_token"));
    b.mcp("audience: a token minted for a server is refused by a verifier without audience", "files", read.clone(), server(None),
        error("invalid_token"));
    b.case(json!({"name": "admit: a token minted for this server", "op": "admit", "token": "for_a", "verifier": {"audience": "https://a.example/mcp"},
        "now": NOW, "expect": {"ok": {"agent": "agent:orchestrator", "path": "/root", "chain": ["agent:orchestrator"], "scopes": ["read_file:read:*"],
        "expires_at": NOW + 3600}}}));
    b.case(json!({"name": "admit: a token minted for another server", "op": "admit", "token": "for_a", "verifier": {"audience": "https://b.example/mcp"},
        "now": NOW, "expect": error("invalid_token")}));
}

/// Request attributes a tool's configuration takes from the call's arguments: an operator policy
/// decides on them, and an argument that is missing, not a string or not printable text is
/// refused (never left out, which would let a call slip past a policy that looks for it).
fn attribute_cases(b: &mut Book) {
    let deploy = |args: Value| tool("deploy", args);
    let no_prod = json!({"token": "deployer", "verifier": {"policies": [
        {"id": "no-prod", "source": "deny if attribute(\"resource.env\", \"production\");"},
        {"id": "services-only", "source": "deny if attribute(\"resource.type\", $t), $t != \"service\";"}]}});
    let with_env = |mut expect: Value, env: &str| {
        expect["request"]["attributes"] = json!({"resource.env": env, "resource.type": "service"});
        expect
    };
    b.mcp("tools/call attributes: an argument feeds a policy (staging allowed)", "deploys", deploy(json!({"service": "web", "env": "staging"})),
        no_prod.clone(), with_env(allowed(Some(("deploy", "deploy", "web"))), "staging"));
    b.mcp("tools/call attributes: an argument feeds a policy (production denied)", "deploys", deploy(json!({"service": "web", "env": "production"})),
        no_prod.clone(), with_env(denied("not_authorized", ("deploy", "deploy", "web")), "production"));
    b.mcp("tools/call attributes: a declared argument missing is refused", "deploys", deploy(json!({"service": "web"})),
        no_prod.clone(), error("invalid_request"));
    b.mcp("tools/call attributes: a declared argument that is not a string is refused", "deploys",
        deploy(json!({"service": "web", "env": ["staging", "production"]})), no_prod.clone(), error("invalid_request"));
    b.mcp("tools/call attributes: a declared argument with a control character is refused", "deploys",
        deploy(json!({"service": "web", "env": "staging\nproduction"})), no_prod, error("invalid_request"));
    let many: serde_json::Map<String, Value> = (0..17).map(|i| (format!("a{i}"), json!(format!("arg{i}")))).collect();
    let too_many = json!({"tools": {"t": {"attribute_args": many}}}).to_string();
    for (name, config, expect) in [
        ("config: attributes from arguments and fixed", r#"{"tools":{"t":{"attribute_args":{"resource.env":"env"},"attributes":{"resource.type":"service"}}}}"#, json!({"ok": true})),
        ("config: an attribute declared both ways", r#"{"tools":{"t":{"attribute_args":{"resource.env":"env"},"attributes":{"resource.env":"staging"}}}}"#, error("invalid_argument")),
        ("config: more than 16 attributes", too_many.as_str(), error("invalid_argument")),
        ("config: an empty attribute name", r#"{"tools":{"t":{"attributes":{"":"x"}}}}"#, error("invalid_argument")),
        ("config: an attribute argument that is not a name", r#"{"tools":{"t":{"attribute_args":{"resource.env":["env"]}}}}"#, error("invalid_argument")),
    ] {
        b.case(json!({"name": name, "op": "config", "config": config, "expect": expect}));
    }
}

fn mcp_cases(b: &mut Book) {
    let bearer = |t: &str| json!({"token": t});
    let read = |p: &str| tool("read_file", json!({"path": p}));
    // tools/call
    b.mcp("tools/call: agent_a reads under src/", "files", read("src/main.rs"), bearer("agent_a"), allowed(Some(("read_file", "read", "src/main.rs"))));
    b.mcp("tools/call: agent_a cannot read outside src/", "files", read(".env"), bearer("agent_a"), denied("not_authorized", ("read_file", "read", ".env")));
    b.mcp("tools/call: agent_a cannot write", "files", tool("write_file", json!({"path": "src/main.rs", "content": "x"})), bearer("agent_a"),
        denied("not_authorized", ("write_file", "write", "src/main.rs")));
    b.mcp("tools/call: agent_c holds one file", "files", read("src/lib.rs"), bearer("agent_c"), allowed(Some(("read_file", "read", "src/lib.rs"))));
    b.mcp("tools/call: agent_c is narrowed below agent_a", "files", read("src/main.rs"), bearer("agent_c"), denied("not_authorized", ("read_file", "read", "src/main.rs")));
    b.mcp("tools/call: a fixed resource", "files", tool("run_tests", json!({"path": "../../etc"})), bearer("orchestrator"), allowed(Some(("run_tests", "*", "all"))));
    b.mcp("tools/call: an expired token is denied", "files", read("src/main.rs"), bearer("expired"), denied("expired", ("read_file", "read", "src/main.rs")));
    b.mcp("tools/call: a revoked agent is denied", "files", read("src/main.rs"),
        json!({"token": "agent_a", "verifier": {"revocations": {"agents": ["agent:agent_a"]}}}), denied("revoked", ("read_file", "read", "src/main.rs")));
    b.mcp("tools/call: a token from another root is refused", "files", read("src/main.rs"), bearer("foreign"), error("unknown_root_key"));
    b.mcp("tools/call: no token at all", "files", read("src/main.rs"), json!({}), error("not_authorized"));
    b.mcp("tools/call: token in _meta (stdio)", "files", read("src/main.rs"), json!({"meta_token": "agent_a"}), allowed(Some(("read_file", "read", "src/main.rs"))));
    b.mcp("tools/call: two different tokens (bearer and _meta) are refused", "files", read("src/main.rs"),
        json!({"token": "agent_a", "meta_token": "orchestrator"}), error("invalid_request"));
    b.mcp("tools/call: two different proofs (header and _meta) are refused", "files",
        tool("read_file", json!({"path": "src/main.rs"})).as_object().map(|m| {
            let mut m = m.clone();
            m["params"]["_meta"] = json!({"marque/proof": "p1"});
            Value::Object(m)
        }).expect("object"),
        json!({"token": "agent_a", "proof": "p2"}), error("invalid_request"));
    b.mcp("tools/call: a proof is required and missing", "files", read("src/main.rs"),
        json!({"token": "agent_a", "verifier": {"require_proof": true}}), denied("invalid_proof", ("read_file", "read", "src/main.rs")));
    let ta = b.tokens["agent_a"].clone();
    let proof = ta.sign_proof(&key("agent_a"), &Request::new("read_file", "read", "src/main.rs"), Some(NOW)).expect("proof");
    b.mcp("tools/call: a proof is required and given (Marque-Proof)", "files", read("src/main.rs"),
        json!({"token": "agent_a", "proof": proof, "verifier": {"require_proof": true}}), allowed(Some(("read_file", "read", "src/main.rs"))));
    let wrong = ta.sign_proof(&key("agent_a"), &Request::new("read_file", "read", "src/lib.rs"), Some(NOW)).expect("proof");
    b.mcp("tools/call: a proof for another resource", "files", read("src/main.rs"),
        json!({"token": "agent_a", "proof": wrong, "verifier": {"require_proof": true}}), denied("invalid_proof", ("read_file", "read", "src/main.rs")));
    // Malformed tools/call.
    b.mcp("tools/call without an id is refused", "files",
        json!({"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "read_file", "arguments": {"path": "src/main.rs"}}}), bearer("agent_a"), error("invalid_request"));
    b.mcp("tools/call with a null id is refused", "files", call(Value::Null, "tools/call", json!({"name": "read_file", "arguments": {"path": "src/a"}})), bearer("agent_a"), error("invalid_request"));
    b.mcp("tools/call without params.name is refused", "files", call(json!(1), "tools/call", json!({"arguments": {"path": "src/a"}})), bearer("agent_a"), error("invalid_request"));
    b.mcp("tools/call with a non-string name is refused", "files", call(json!(1), "tools/call", json!({"name": 7})), bearer("agent_a"), error("invalid_request"));
    b.mcp("tools/call with array arguments is refused", "files", call(json!(1), "tools/call", json!({"name": "read_file", "arguments": ["src/a"]})), bearer("agent_a"), error("invalid_request"));
    b.mcp("tools/call with string arguments is refused", "files", call(json!(1), "tools/call", json!({"name": "read_file", "arguments": "src/a"})), bearer("agent_a"), error("invalid_request"));
    b.mcp("tools/call: the declared resource argument is missing", "files", tool("read_file", json!({"file": "src/a"})), bearer("agent_a"), error("invalid_request"));
    b.mcp("tools/call: the declared resource argument is not a string", "files", tool("read_file", json!({"path": ["src/a"]})), bearer("agent_a"), error("invalid_request"));
    b.mcp("tools/call: the declared argument wins over others", "files", tool("read_file", json!({"path": "src/a", "uri": "/etc/passwd"})), bearer("agent_a"),
        allowed(Some(("read_file", "read", "src/a"))));
    // Undeclared tools: no guessing between two resource arguments.
    b.mcp("tools/call: undeclared tool, one resource argument", "default", tool("run_tests", json!({"path": "tests/"})), bearer("orchestrator"),
        allowed(Some(("run_tests", "*", "tests/"))));
    b.mcp("tools/call: undeclared tool, no resource argument", "default", tool("run_tests", json!({"n": 1})), bearer("orchestrator"), allowed(Some(("run_tests", "*", "*"))));
    b.mcp("tools/call: undeclared tool, path and uri: refused, not guessed", "default", tool("read_file", json!({"path": "src/a", "uri": "/etc/passwd"})), bearer("agent_a"),
        error("invalid_request"));
    b.mcp("tools/call: undeclared tool, resource and url: refused", "default", tool("run_tests", json!({"resource": "a", "url": "b"})), bearer("orchestrator"),
        error("invalid_request"));
    b.mcp("tools/call: undeclared tool, a non-string resource argument", "default", tool("run_tests", json!({"path": {"p": "x"}})), bearer("orchestrator"), error("invalid_request"));
    b.mcp("tools/call: undeclared tool, operation is *", "default", tool("read_file", json!({"path": "src/a"})), bearer("agent_a"),
        denied("not_authorized", ("read_file", "*", "src/a")));
    // Headers (MCP 2026-07-28 Streamable HTTP).
    b.mcp("headers agree with the body", "files", read("src/main.rs"), json!({"token": "agent_a", "mcp_method": "tools/call", "mcp_name": "read_file"}),
        allowed(Some(("read_file", "read", "src/main.rs"))));
    b.mcp("Mcp-Name disagrees with the tool name", "files", tool("write_file", json!({"path": "src/a"})),
        json!({"token": "agent_a", "mcp_method": "tools/call", "mcp_name": "read_file"}), error("invalid_request"));
    b.mcp("Mcp-Method disagrees with the method", "files", read("src/main.rs"), json!({"token": "agent_a", "mcp_method": "tools/list"}), error("invalid_request"));
    b.mcp("Mcp-Name in the base64 form is decoded", "files", read("src/main.rs"), json!({"token": "agent_a", "mcp_name": "=?base64?cmVhZF9maWxl?="}),
        allowed(Some(("read_file", "read", "src/main.rs"))));
    b.mcp("Mcp-Name that is not base64", "files", read("src/main.rs"), json!({"token": "agent_a", "mcp_name": "=?base64?***?="}), error("invalid_request"));
    b.mcp("Mcp-Name on a method without a name", "files", call(json!(2), "tools/list", json!({})), json!({"token": "agent_a", "mcp_name": "read_file"}), error("invalid_request"));
    b.mcp("Mcp-Name must match a resource URI", "files", call(json!(2), "resources/read", json!({"uri": "file:///srv/docs/a.md"})),
        json!({"token": "orchestrator", "mcp_method": "resources/read", "mcp_name": "file:///srv/docs/b.md"}), error("invalid_request"));
    // resources, prompts, completion: authorized like tools.
    let res = |uri: &str| call(json!(3), "resources/read", json!({"uri": uri}));
    b.mcp("resources/read needs a right: a bearer token alone is not enough", "files", res("file:///srv/docs/a.md"), bearer("agent_a"),
        denied("not_authorized", ("resources/read", "read", "file:///srv/docs/a.md")));
    b.mcp("resources/read within the right", "files", res("file:///srv/docs/a.md"), json!({"token": "orchestrator", "mcp_method": "resources/read", "mcp_name": "file:///srv/docs/a.md"}),
        allowed(Some(("resources/read", "read", "file:///srv/docs/a.md"))));
    b.mcp("resources/read outside the right", "files", res("file:///etc/passwd"), bearer("orchestrator"), denied("not_authorized", ("resources/read", "read", "file:///etc/passwd")));
    b.mcp("resources/read: a proof is required and missing", "files", res("file:///srv/docs/a.md"), json!({"token": "orchestrator", "verifier": {"require_proof": true}}),
        denied("invalid_proof", ("resources/read", "read", "file:///srv/docs/a.md")));
    let t0 = b.tokens["orchestrator"].clone();
    let proof = t0.sign_proof(&key("orchestrator"), &Request::new("resources/read", "read", "file:///srv/docs/a.md"), Some(NOW)).expect("proof");
    b.mcp("resources/read: a proof is required and given", "files", res("file:///srv/docs/a.md"),
        json!({"token": "orchestrator", "proof": proof, "verifier": {"require_proof": true}}), allowed(Some(("resources/read", "read", "file:///srv/docs/a.md"))));
    b.mcp("resources/read without a uri is refused", "files", call(json!(3), "resources/read", json!({})), bearer("orchestrator"), error("invalid_request"));
    b.mcp("resources/subscribe is authorized", "files", call(json!(3), "resources/subscribe", json!({"uri": "file:///srv/docs/a.md"})), bearer("orchestrator"),
        denied("not_authorized", ("resources/subscribe", "subscribe", "file:///srv/docs/a.md")));
    let listen = |subs: Value| call(json!(3), "subscriptions/listen", json!({"notifications": {"toolsListChanged": true, "resourceSubscriptions": subs}}));
    b.mcp("subscriptions/listen without resources needs no right", "files", listen(json!([])), bearer("agent_a"), allowed(None));
    b.mcp("subscriptions/listen to one resource is a resources/subscribe", "files", listen(json!(["file:///srv/docs/a.md"])), bearer("agent_a"),
        denied("not_authorized", ("resources/subscribe", "subscribe", "file:///srv/docs/a.md")));
    b.mcp("subscriptions/listen to several resources is refused", "files", listen(json!(["file:///a", "file:///b"])), bearer("orchestrator"),
        error("invalid_request"));
    b.mcp("server/discover is allow-listed", "files", call(json!(0), "server/discover", json!({})), bearer("agent_a"), allowed(None));
    let prompt = |name: &str| call(json!(4), "prompts/get", json!({"name": name, "arguments": {"code": "x"}}));
    b.mcp("prompts/get within the right", "files", prompt("code_review"), bearer("orchestrator"), allowed(Some(("prompts/get", "get", "code_review"))));
    b.mcp("prompts/get outside the right", "files", prompt("exfiltrate"), bearer("orchestrator"), denied("not_authorized", ("prompts/get", "get", "exfiltrate")));
    b.mcp("prompts/get needs a right", "files", prompt("code_review"), bearer("agent_a"), denied("not_authorized", ("prompts/get", "get", "code_review")));
    b.mcp("prompts/get with array arguments is refused", "files", call(json!(4), "prompts/get", json!({"name": "code_review", "arguments": [1]})), bearer("orchestrator"),
        error("invalid_request"));
    let complete = |r: Value| call(json!(5), "completion/complete", json!({"ref": r, "argument": {"name": "a", "value": "b"}}));
    b.mcp("completion/complete of a prompt within the right", "files", complete(json!({"type": "ref/prompt", "name": "code_review"})), bearer("orchestrator"),
        allowed(Some(("completion/complete", "prompt", "code_review"))));
    b.mcp("completion/complete of a resource needs its own right", "files", complete(json!({"type": "ref/resource", "uri": "file:///srv/docs/{name}"})), bearer("orchestrator"),
        denied("not_authorized", ("completion/complete", "resource", "file:///srv/docs/{name}")));
    b.mcp("completion/complete with an unknown ref type is refused", "files", complete(json!({"type": "ref/tool", "name": "x"})), bearer("orchestrator"), error("invalid_request"));
    // Allow-listed methods: admitted, token still checked.
    b.mcp("tools/list is allow-listed", "files", call(json!(6), "tools/list", json!({})), json!({"token": "agent_a", "mcp_method": "tools/list"}), allowed(None));
    b.mcp("initialize is allow-listed", "files", call(json!(0), "initialize", json!({"protocolVersion": "2026-07-28", "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}})),
        bearer("agent_a"), allowed(None));
    b.mcp("tools/list with an expired token is refused", "files", call(json!(6), "tools/list", json!({})), bearer("expired"), error("expired"));
    b.mcp("tools/list with a revoked token is refused", "files", call(json!(6), "tools/list", json!({})),
        json!({"token": "agent_a", "verifier": {"revocations": {"agents": ["agent:agent_a"]}}}), error("revoked"));
    b.mcp("tools/list with a token from another root is refused", "files", call(json!(6), "tools/list", json!({})), bearer("foreign"), error("unknown_root_key"));
    b.mcp("tools/list is refused when not allow-listed", "strict", call(json!(6), "tools/list", json!({})), bearer("agent_a"), error("invalid_request"));
    b.mcp("a notification is allow-listed", "files", json!({"jsonrpc": "2.0", "method": "notifications/initialized"}), json!({}), allowed(None));
    b.mcp("a method that is neither mapped nor allow-listed is refused", "files", call(json!(7), "logging/setLevel", json!({"level": "debug"})), bearer("orchestrator"),
        error("invalid_request"));
    b.mcp("tasks/result is refused by default", "files", call(json!(7), "tasks/result", json!({"taskId": "t1"})), bearer("orchestrator"), error("invalid_request"));
    b.mcp("a JSON-RPC response is admitted", "files", json!({"jsonrpc": "2.0", "id": 9, "result": {}}), bearer("agent_a"), allowed(None));
    // Not one JSON-RPC 2.0 object.
    b.mcp("a batch is refused", "files", json!([read("src/main.rs")]), bearer("agent_a"), error("invalid_request"));
    b.mcp("a duplicate key is refused", "files",
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"write_file","arguments":{"path":"src/a"}}}"#.into(),
        bearer("orchestrator"), error("invalid_request"));
    b.mcp("a duplicate argument is refused", "files",
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"src/a","path":".env"}}}"#.into(),
        bearer("agent_a"), error("invalid_request"));
    b.mcp("not JSON is refused", "files", "{nope".into(), bearer("agent_a"), error("invalid_request"));
    b.mcp("JSON-RPC 1.0 is refused", "files", json!({"jsonrpc": "1.0", "id": 1, "method": "ping"}), bearer("agent_a"), error("invalid_request"));
    b.mcp("non-object params are refused", "files", call(json!(1), "ping", json!([])), bearer("agent_a"), error("invalid_request"));
    b.mcp("a non-object _meta is refused", "files", call(json!(1), "tools/call", json!({"name": "read_file", "arguments": {"path": "src/a"}, "_meta": "x"})),
        bearer("agent_a"), error("invalid_request"));
    b.mcp("other _meta entries are ignored", "files",
        call(json!("a"), "tools/call", json!({"name": "read_file", "arguments": {"path": "src/a"}, "_meta": {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "progressToken": 1}})),
        bearer("agent_a"), allowed(Some(("read_file", "read", "src/a"))));
}

fn other_cases(b: &mut Book) {
    let ok = |agent: &str, path: &str, chain: &[&str], scopes: &[&str], exp: u64| {
        json!({"ok": {"agent": agent, "path": path, "chain": chain, "scopes": scopes, "expires_at": exp}})
    };
    b.case(json!({"name": "admit: agent_a reports its narrowed rights, not the root's", "op": "admit", "token": "agent_a", "now": NOW,
        "expect": ok("agent:agent_a", "/root/agent_a", &["agent:orchestrator", "agent:agent_a"], &["read_file:read:src/"], NOW + 1800)}));
    b.case(json!({"name": "admit: agent_c is narrowed to one file", "op": "admit", "token": "agent_c", "now": NOW,
        "expect": ok("agent:agent_c", "/root/agent_a/agent_c", &["agent:orchestrator", "agent:agent_a", "agent:agent_c"], &["read_file:read:src/lib.rs/"], NOW + 1800)}));
    b.case(json!({"name": "admit: the orchestrator holds every right of the authority block", "op": "admit", "token": "orchestrator", "now": NOW,
        "expect": ok("agent:orchestrator", "/root", &["agent:orchestrator"], &["read_file:read:*", "write_file:write:src/", "run_tests:*:*",
            "resources/read:read:file:///srv/docs/", "prompts/get:get:code_review/", "completion/complete:prompt:code_review/"], NOW + 3600)}));
    b.case(json!({"name": "admit: expired", "op": "admit", "token": "expired", "now": NOW, "expect": error("expired")}));
    b.case(json!({"name": "admit: one second after expiry", "op": "admit", "token": "agent_a", "now": NOW + 1801, "expect": error("expired")}));
    b.case(json!({"name": "admit: garbage", "op": "admit", "raw": "AAAA", "now": NOW, "expect": error("invalid_token")}));
    b.case(json!({"name": "admit: another root", "op": "admit", "token": "foreign", "now": NOW, "expect": error("unknown_root_key")}));
    b.case(json!({"name": "admit: a revoked agent", "op": "admit", "token": "agent_c", "now": NOW,
        "verifier": {"revocations": {"agents": ["agent:agent_a"]}}, "expect": error("revoked")}));
    b.case(json!({"name": "admit: a revoked principal", "op": "admit", "token": "agent_a", "now": NOW,
        "verifier": {"revocations": {"principals": ["user:alice"]}}, "expect": error("revoked")}));
    let list = RevocationList::sign(&RevocationSet::new(), 1, Some(NOW - 100), &key("operator")).expect("list");
    let list: Value = serde_json::from_str(&list.to_json()).expect("json");
    b.case(json!({"name": "admit: no signed revocation list while one is required (fail closed)", "op": "admit", "token": "agent_a", "now": NOW,
        "verifier": {"operator": "operator", "max_revocation_staleness": 300}, "expect": error("revocation_list_stale")}));
    b.case(json!({"name": "admit: a fresh signed revocation list", "op": "admit", "token": "agent_a", "now": NOW,
        "verifier": {"operator": "operator", "max_revocation_staleness": 300, "revocation_list": list},
        "expect": ok("agent:agent_a", "/root/agent_a", &["agent:orchestrator", "agent:agent_a"], &["read_file:read:src/"], NOW + 1800)}));
    b.case(json!({"name": "admit: a stale signed revocation list", "op": "admit", "token": "agent_a", "now": NOW + 201,
        "verifier": {"operator": "operator", "max_revocation_staleness": 300, "revocation_list": list}, "expect": error("revocation_list_stale")}));
    b.case(json!({"name": "admit: staleness is checked before the token", "op": "admit", "raw": "AAAA", "now": NOW,
        "verifier": {"operator": "operator", "max_revocation_staleness": 300}, "expect": error("revocation_list_stale")}));

    let challenge = |name: &str, c: Value| {
        let parsed: Challenge = serde_json::from_value(c.clone()).expect("challenge");
        json!({"name": name, "op": "challenge", "challenge": c, "expect": {"header": parsed.to_header()}})
    };
    b.case(challenge("challenge: bare", json!({})));
    b.case(challenge("challenge: invalid_token with metadata", json!({"realm": "marque", "error": "invalid_token", "error_description": "the token expired at 1767225600",
        "resource_metadata": "https://api.example/.well-known/oauth-protected-resource/mcp"})));
    b.case(challenge("challenge: quotes, backslashes, CR LF and non-ASCII cannot break out", json!({"error": "invalid_token",
        "error_description": "bad \"sig\" \\\" \r\nSet-Cookie: a=b; caf\u{e9} \u{202e}", "realm": "r\"ealm"})));
    b.case(challenge("challenge: insufficient_scope with scopes", json!({"error": "insufficient_scope", "scope": ["read_file:read:src/", "a b"]})));
    b.case(challenge("challenge: a long description is cut", json!({"error": "invalid_request", "error_description": "x".repeat(400)})));
    for code in [None, Some("invalid_token"), Some("expired"), Some("revoked"), Some("not_authorized"), Some("depth_exceeded"), Some("invalid_proof"),
        Some("replayed_proof"), Some("invalid_request"), Some("invalid_argument"), Some("revocation_list_stale"), Some("unknown_root_key"), Some("approval_required"), Some("budget_exhausted"), Some("internal")]
    {
        let r = refusal(code);
        b.case(json!({"name": format!("refusal: {}", code.unwrap_or("no credentials")), "op": "refusal", "code": code,
            "expect": {"status": r.status, "error": r.error.map(|e| e.code())}}));
    }
    for (resource, expect) in [
        ("https://api.example/mcp", json!({"url": "https://api.example/.well-known/oauth-protected-resource/mcp"})),
        ("https://api.example", json!({"url": "https://api.example/.well-known/oauth-protected-resource"})),
        ("http://127.0.0.1:8000/a/b/?q=1#f", json!({"url": "http://127.0.0.1:8000/.well-known/oauth-protected-resource/a/b/"})),
        ("ftp://api.example/mcp", error("invalid_argument")),
        ("/mcp", error("invalid_argument")),
        ("https://user@api.example/mcp", error("invalid_argument")),
    ] {
        b.case(json!({"name": format!("metadata url: {resource}"), "op": "metadata_url", "resource": resource, "expect": expect}));
    }
    for (name, config, expect) in [
        ("config: empty", "{}", json!({"ok": true})),
        ("config: a tool mapping", r#"{"tools":{"t":{"tool":"x","operation":"read","resource_arg":"path"}}}"#, json!({"ok": true})),
        ("config: an unknown key", r#"{"tool":{}}"#, error("invalid_argument")),
        ("config: a camelCase key", r#"{"tools":{"t":{"resourceArg":"path"}}}"#, error("invalid_argument")),
        ("config: two resource declarations", r#"{"tools":{"t":{"resource_arg":"path","resource":"x"}}}"#, error("invalid_argument")),
        ("config: allow-listing every method", r#"{"allow":["*"]}"#, error("invalid_argument")),
        ("config: allow-listing tools/call", r#"{"allow":["tools/call"]}"#, error("invalid_argument")),
        ("config: allow-listing a prefix covering resources/read", r#"{"allow":["resources/*"]}"#, error("invalid_argument")),
        ("config: not an object", "[]", error("invalid_argument")),
        ("config: a server resource", r#"{"resource":"https://api.example/mcp"}"#, json!({"ok": true})),
        ("config: a resource with a fragment", r#"{"resource":"https://api.example/mcp#x"}"#, error("invalid_argument")),
        ("config: a resource that is not an absolute URI", r#"{"resource":"/mcp"}"#, error("invalid_argument")),
    ] {
        b.case(json!({"name": name, "op": "config", "config": config, "expect": expect}));
    }
}

fn generate() -> Value {
    let mut b = Book::default();
    tokens(&mut b);
    mcp_cases(&mut b);
    audience_cases(&mut b);
    attribute_cases(&mut b);
    other_cases(&mut b);
    let keys: BTreeMap<&str, Value> =
        KEYS.iter().map(|(n, _)| (*n, json!({"seed_hex": key(n).to_hex().as_str(), "public_hex": key(n).public_key().to_hex()}))).collect();
    let tokens: BTreeMap<&String, String> = b.tokens.iter().map(|(n, t)| (n, t.to_base64())).collect();
    json!({
        "version": 1,
        "description": "MCP vectors: every MCP message mapped to a marque request or refused, token admission, HTTP refusals and challenges (docs/SECURITY.md, MCP). Generated by core/tests/mcp_vectors.rs; replayed by every runtime and every MCP layer.",
        "now": NOW,
        "root": "root",
        "keys": keys,
        "tokens": tokens,
        "configs": b.configs,
        "cases": b.cases,
    })
}

fn seed(doc: &Value, name: &str) -> KeyPair {
    KeyPair::from_hex(doc["keys"][name]["seed_hex"].as_str().unwrap_or_else(|| panic!("unknown key {name}"))).expect("seed")
}

/// The message of an `mcp` case, with `meta_token` inserted as `params._meta["marque/token"]`.
fn message(doc: &Value, case: &Value) -> String {
    let text = case["message"].as_str().expect("message").to_string();
    let Some(name) = case["meta_token"].as_str() else { return text };
    let mut m: Value = serde_json::from_str(&text).expect("a meta_token case has a JSON message");
    m["params"]["_meta"]["marque/token"] = doc["tokens"][name].clone();
    m.to_string()
}

fn verifier(doc: &Value, v: &Value) -> Result<Verifier, marque::Error> {
    let mut verifier = Verifier::new([seed(doc, doc["root"].as_str().expect("root")).public_key()]);
    if v["require_proof"].as_bool() == Some(true) {
        verifier.set_require_proof(true);
    }
    if let Some(a) = v["audience"].as_str() {
        verifier.set_audience(Some(marque::audience::Audience::parse(a)?));
    }
    if !v["revocations"].is_null() {
        verifier.merge_revocations(&RevocationSet::from_json(&v["revocations"].to_string())?)?;
    }
    if let Some(op) = v["operator"].as_str() {
        verifier.add_operator_key(seed(doc, op).public_key());
    }
    if let Some(s) = v["max_revocation_staleness"].as_u64() {
        verifier.set_max_revocation_staleness(Some(s));
    }
    for p in v["policies"].as_array().into_iter().flatten() {
        verifier.add_policy(Policy::new(p["id"].as_str().expect("policy id"), p["source"].as_str().expect("policy source")))?;
    }
    if !v["revocation_list"].is_null() {
        verifier.load_revocation_list_json(&v["revocation_list"].to_string(), Some(doc["now"].as_u64().expect("now")))?;
    }
    Ok(verifier)
}

fn run(doc: &Value, case: &Value) -> Value {
    let outcome: Result<Value, marque::Error> = (|| match case["op"].as_str().expect("op") {
        "mcp" => {
            let config = McpConfig::from_json(&doc["configs"][case["config"].as_str().expect("config")].to_string())?;
            let text = message(doc, case);
            let mut call = McpCall::new(&text);
            call.mcp_method = case["mcp_method"].as_str();
            call.mcp_name = case["mcp_name"].as_str();
            call.token = case["token"].as_str().map(|n| doc["tokens"][n].as_str().expect("token"));
            call.proof = case["proof"].as_str();
            let o = verifier(doc, &case["verifier"])?.authorize_mcp(&config, &call, case["now"].as_u64())?;
            let request = o.request.map(|r| {
                let mut j = json!({"tool": r.tool, "operation": r.operation, "resource": r.resource});
                if !r.attributes.is_empty() {
                    j["attributes"] = json!(r.attributes);
                }
                j
            });
            Ok(json!({"allowed": o.allowed, "code": o.decision.and_then(|d| d.code), "request": request}))
        }
        "admit" => {
            let text = match case["token"].as_str() {
                Some(n) => doc["tokens"][n].as_str().expect("token").to_string(),
                None => case["raw"].as_str().expect("raw").to_string(),
            };
            let a = verifier(doc, &case["verifier"])?.admit_base64(&text, case["now"].as_u64())?;
            Ok(json!({"ok": {"agent": a.agent, "path": a.path, "chain": a.chain, "scopes": a.scopes, "expires_at": a.expires_at}}))
        }
        "challenge" => {
            let c: Challenge = serde_json::from_value(case["challenge"].clone()).expect("challenge");
            Ok(json!({"header": c.to_header()}))
        }
        "refusal" => {
            let r = refusal(case["code"].as_str());
            Ok(json!({"status": r.status, "error": r.error.map(|e| e.code())}))
        }
        "metadata_url" => Ok(json!({"url": resource_metadata_url(case["resource"].as_str().expect("resource"))?})),
        "config" => McpConfig::from_json(case["config"].as_str().expect("config")).map(|_| json!({"ok": true})),
        other => panic!("unknown op {other}"),
    })();
    outcome.unwrap_or_else(|e| json!({"error": e.code()}))
}

fn replay(doc: &Value, label: &str) {
    let failures: Vec<String> = doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|c| {
            let got = run(doc, c);
            (got != c["expect"]).then(|| format!("{}: expected {}, got {}", c["name"], c["expect"], got))
        })
        .collect();
    assert!(failures.is_empty(), "{label}: {} case(s) fail:\n{}", failures.len(), failures.join("\n"));
}

/// The cases without their random bytes (proof text), for the drift comparison.
fn shape(doc: &Value) -> Vec<Value> {
    doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if c["proof"].is_string() && c["proof"] != "p2" {
                c["proof"] = json!("<proof>");
            }
            c
        })
        .collect()
}

fn path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/mcp.json")
}

#[test]
fn mcp_vectors_hold_in_the_core_and_match_the_committed_file() {
    let fresh = generate();
    replay(&fresh, "generated cases");
    if std::env::var_os("MARQUE_REGEN_VECTORS").is_some() {
        std::fs::write(path(), serde_json::to_string_pretty(&fresh).expect("json") + "\n").expect("write tests/vectors/mcp.json");
    }
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(path()).expect("tests/vectors/mcp.json is missing: MARQUE_REGEN_VECTORS=1")).expect("JSON");
    replay(&committed, "committed tests/vectors/mcp.json");
    let (a, b) = (shape(&fresh), shape(&committed));
    let names = |v: &[Value]| v.iter().map(|c| c["name"].as_str().unwrap_or("?").to_string()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "mcp.json is stale: regenerate with MARQUE_REGEN_VECTORS=1");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "mcp.json case {} drifted: regenerate with MARQUE_REGEN_VECTORS=1", x["name"]);
    }
    assert_eq!(fresh["configs"], committed["configs"], "mcp.json configs drifted");
}
