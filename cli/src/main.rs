//! `marque`: keys, tokens, delegation, authorization and audit from the shell.
//!
//! Exit codes: 0 success (or "allowed"), 1 a negative answer (denied, tampered log), 2 an error,
//! printed as one line on stderr. A TOKEN argument may be `-` (stdin) or `@file`.
#![forbid(unsafe_code)]

/// `println!` / `print!` that never panic: output to a closed stdout (`marque inspect … | head`)
/// is dropped and the command keeps its own exit code; any other write error (a full disk under
/// `> file`) ends the command with exit code 2, so a token is never silently lost.
macro_rules! println {
    ($($t:tt)*) => { $crate::write_stdout(format_args!("{}\n", format_args!($($t)*))) };
}
macro_rules! print {
    ($($t:tt)*) => { $crate::write_stdout(format_args!($($t)*)) };
}

mod approve;
mod args;
mod audit;
mod demo;
mod jwt;
mod rego;
mod revoke;

use std::process::ExitCode;

use args::{read_arg, Args};
use marque::delegate::DelegateParams;
use marque::policy::{Request, Right};
use marque::token::MintParams;
use marque::audience::Audience;
use marque::{KeyPair, PublicKey, Token, Verifier};

const USAGE: &str = "usage: marque <command> [options]

commands:
  keygen [--out FILE]                         new key pair: PEM private key to FILE (or stdout), public hex on stdout
  mint --root-key FILE --agent ID --agent-key HEX --principal P [--task T] [--workspace W]
       --right TOOL[:OPERATION[:RESOURCE]]... --ttl SECONDS [--max-depth N] [--audience URI]...
  delegate --token TOKEN --key FILE --to ID --to-key HEX [--tool T]... [--operation O]...
       [--resource-prefix R] [--ttl S] [--max-depth N] [--max-calls N] [--rate CALLS/SECONDS]
       [--require-approval TOOL:OP:PREFIX]...
  inspect TOKEN [--datalog]                   what a token claims, as JSON (not verified)
  authorize (--root-pub HEX... | --jwks FILE) --token TOKEN --tool T [--operation O] --resource R
       [--attribute K=V]... [--audience URI] [--proof P] [--now SECS]
       [--revocation-list FILE --operator-key HEX... [--max-staleness SECS]]
       [--approval-rule TOOL:OP:PREFIX]... [--approver ID=HEX]... [--approval A] [--redis URL]
       [--rego FILE... [--rego-name N] [--rego-version V]] [--role AGENT=ROLE]...
                                              decision JSON; exit 0 allowed, 1 denied, 2 error
  revoke add --list FILE [--id HEX]... [--agent ID]... [--key PUBLIC_KEY]... [--principal P]... [--task T]...
  revoke sign --list FILE --key FILE (--sequence N | --previous SIGNED) [--now SECS] [--out FILE]
  revoke show FILE [--operator-key HEX]...    a revocation list; signed: signature (and issuer) checked
  revoke publish --list FILE --key FILE --out SERVED_FILE [--now SECS]
                                              the next signed list (sequence + 1), replaced atomically
  jwks ROOT_PUBLIC_KEY...                     a JWKS document of root keys (publish it; rotate by republishing)
  sign-proof --token TOKEN --key FILE --tool T [--operation O] --resource R [--audience URI]
  approve --key FILE --approver ID (--digest D | --token TOKEN --tool T [--operation O] --resource R
       [--attribute K=V]...) [--ttl SECS (300)]   a human approval of one exact call (single use)
  audit append --key FILE --log FILE --event JSON|@file
  audit verify FILE --key HEX... [--head HEX]   exit 0 ok, 1 tampered (index and kind), 2 error
  audit report LOG... --key HEX... [--by agent|path|task|principal|resource] [--json]
                                              totals (calls, allowed, denied by code, usage) of
                                              verified logs; exit 1 if one is tampered (no totals)
  jwt issue --key FILE --claims JSON|@file [--kid K]
  jwt verify TOKEN --key HEX... [--aud A]
  demo                                        the whole delegation story, readable

TOKEN may be `-` (stdin) or `@file`.";

fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_fmt(args).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("marque: cannot write to stdout: {e}");
            std::process::exit(2)
        }
        _ => {}
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let code = match run(&argv) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("marque: {}", msg.lines().next().unwrap_or("error"));
            2
        }
    };
    ExitCode::from(code)
}

fn run(argv: &[String]) -> Result<u8, String> {
    let Some((cmd, rest)) = argv.split_first() else {
        println!("{USAGE}");
        return Ok(2);
    };
    match cmd.as_str() {
        "keygen" => keygen(Args::parse(rest, &["out"], &[])?),
        "mint" => mint(Args::parse(rest, &["root-key", "agent", "agent-key", "principal", "task", "workspace", "right", "ttl", "max-depth", "now", "audience"], &[])?),
        "delegate" => delegate(Args::parse(
            rest,
            &["token", "key", "to", "to-key", "tool", "operation", "resource-prefix", "ttl", "max-depth", "now", "max-calls", "rate",
              "require-approval"],
            &[],
        )?),
        "inspect" => inspect(Args::parse(rest, &[], &["datalog"])?),
        "authorize" => authorize(Args::parse(
            rest,
            &[
                "root-pub", "jwks", "token", "tool", "operation", "resource", "attribute", "audience", "proof", "now",
                "revocation-list", "operator-key", "max-staleness", "approval", "approver", "approval-rule", "redis",
                "rego", "rego-name", "rego-version", "role",
            ],
            &[],
        )?),
        "revoke" => revoke::run(rest),
        "jwks" => revoke::jwks(Args::parse(rest, &[], &[])?),
        "approve" => approve::run(Args::parse(
            rest,
            &["key", "approver", "digest", "token", "tool", "operation", "resource", "attribute", "ttl", "now"],
            &[],
        )?),
        "sign-proof" => sign_proof(Args::parse(rest, &["token", "key", "tool", "operation", "resource", "now", "audience"], &[])?),
        "audit" => Ok(exit_code(audit::run(rest))),
        "jwt" => Ok(exit_code(jwt::run(rest))),
        "demo" => demo::run().map(|_| 0),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(0)
        }
        other => Err(format!("unknown command {other:?} (try `marque help`)")),
    }
}

fn exit_code(code: i32) -> u8 {
    u8::try_from(code).unwrap_or(2)
}

fn err(e: marque::Error) -> String {
    e.to_string()
}

fn load_key(path: &str) -> Result<KeyPair, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read key file {path}: {e}"))?;
    KeyPair::from_pem(&text).or_else(|_| KeyPair::from_hex(&text)).map_err(err)
}

fn parse_u64(what: &str, v: &str) -> Result<u64, String> {
    v.parse().map_err(|_| format!("{what} must be a whole number of seconds, got {v:?}"))
}

fn parse_count(what: &str, v: &str) -> Result<u64, String> {
    v.parse().map_err(|_| format!("{what} must be a whole number of calls, got {v:?}"))
}

fn keygen(a: Args) -> Result<u8, String> {
    let kp = KeyPair::generate().map_err(err)?;
    let pem = kp.to_pem().map_err(err)?;
    match a.one("out") {
        Some(path) => write_secret_file(path, pem.as_bytes())?,
        None => print!("{}", &*pem),
    }
    println!("{}", kp.public_key().to_hex());
    Ok(0)
}

fn write_secret_file(path: &str, data: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| format!("cannot create {path}: {e} (refusing to overwrite a key)"))?;
    f.write_all(data).map_err(|e| format!("cannot write {path}: {e}"))
}

fn mint(a: Args) -> Result<u8, String> {
    let root = load_key(a.req("root-key")?)?;
    let agent_key = PublicKey::parse(a.req("agent-key")?).map_err(err)?;
    let mut p = MintParams::new(a.req("agent")?, agent_key, a.req("principal")?)
        .ttl_seconds(parse_u64("--ttl", a.req("ttl")?)?);
    if let Some(t) = a.one("task") {
        p = p.task(t);
    }
    if let Some(w) = a.one("workspace") {
        p = p.workspace(w);
    }
    if let Some(d) = a.one("max-depth") {
        p = p.max_depth(u32::try_from(parse_u64("--max-depth", d)?).map_err(|_| "--max-depth is too large")?);
    }
    if let Some(n) = a.one("now") {
        p = p.now(parse_u64("--now", n)?);
    }
    for uri in a.all("audience") {
        p = p.audience(Audience::parse(uri).map_err(err)?);
    }
    let rights = a.all("right");
    if rights.is_empty() {
        return Err("at least one --right TOOL[:OPERATION[:RESOURCE]] is required".into());
    }
    for r in rights {
        p = p.right(Right::parse(r).map_err(err)?);
    }
    let token = Token::mint(&root, &p).map_err(err)?;
    println!("{}", token.to_base64());
    Ok(0)
}

fn delegate(a: Args) -> Result<u8, String> {
    let token = Token::from_base64(&read_arg(a.req("token")?)?).map_err(err)?;
    let key = load_key(a.req("key")?)?;
    let mut p = DelegateParams::new(a.req("to")?, PublicKey::parse(a.req("to-key")?).map_err(err)?);
    if !a.all("tool").is_empty() {
        p = p.tools(a.all("tool").iter().cloned());
    }
    if !a.all("operation").is_empty() {
        p = p.operations(a.all("operation").iter().cloned());
    }
    if let Some(r) = a.one("resource-prefix") {
        p = p.resource_prefix(r);
    }
    if let Some(t) = a.one("ttl") {
        p = p.ttl_seconds(parse_u64("--ttl", t)?);
    }
    if let Some(d) = a.one("max-depth") {
        p = p.max_depth(u32::try_from(parse_u64("--max-depth", d)?).map_err(|_| "--max-depth is too large")?);
    }
    if let Some(n) = a.one("max-calls") {
        p = p.max_calls(parse_count("--max-calls", n)?);
    }
    if let Some(r) = a.one("rate") {
        let (calls, window) = r.split_once('/').ok_or_else(|| format!("--rate must be CALLS/SECONDS (e.g. 10/60), got {r:?}"))?;
        p = p.rate(parse_count("--rate calls", calls)?, parse_u64("--rate window", window)?);
    }
    for rule in a.all("require-approval") {
        p = p.require_approval(Right::parse(rule).map_err(err)?);
    }
    if let Some(n) = a.one("now") {
        p = p.now(parse_u64("--now", n)?);
    }
    println!("{}", token.delegate(&key, &p).map_err(err)?.to_base64());
    Ok(0)
}

fn inspect(a: Args) -> Result<u8, String> {
    let [arg] = a.positional() else {
        return Err("usage: marque inspect TOKEN [--datalog]".into());
    };
    let token = Token::from_base64(&read_arg(arg)?).map_err(err)?;
    if a.flag("datalog") {
        print!("{}", token.to_datalog());
    } else {
        let mut v = token.to_json();
        v["datalog"] = serde_json::Value::String(token.to_datalog());
        println!("{}", serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?);
    }
    Ok(0)
}

fn authorize(a: Args) -> Result<u8, String> {
    let roots: Result<Vec<PublicKey>, String> = a.all("root-pub").iter().map(|k| PublicKey::parse(k).map_err(err)).collect();
    let roots = roots?;
    let mut verifier = match (roots.is_empty(), a.one("jwks")) {
        (false, None) => Verifier::new(roots),
        (true, Some(path)) => {
            let doc = args::read_file(path)?;
            Verifier::from_jwks(&doc).map_err(err)?
        }
        _ => return Err("give the root keys with --root-pub HEX... or --jwks FILE (one of them)".into()),
    };
    match a.all("audience") {
        [] => {}
        [uri] => verifier.set_audience(Some(Audience::parse(uri).map_err(err)?)),
        _ => return Err("--audience names this verifier's one server: give it once".into()),
    }
    let mut request = Request::new(a.req("tool")?, a.one("operation").unwrap_or("*"), a.req("resource")?);
    for kv in a.all("attribute") {
        let (k, v) = kv.split_once('=').ok_or_else(|| format!("--attribute must be KEY=VALUE, got {kv:?}"))?;
        request = request.attribute(k, v);
    }
    let now = a.one("now").map(|n| parse_u64("--now", n)).transpose()?;
    for spec in a.all("approver") {
        let (id, key) = spec.split_once('=').ok_or_else(|| format!("--approver must be ID=PUBLIC_KEY_HEX, got {spec:?}"))?;
        verifier.add_approver(id, PublicKey::parse(key).map_err(err)?).map_err(err)?;
    }
    for rule in a.all("approval-rule") {
        verifier.add_approval_rule(Right::parse(rule).map_err(err)?).map_err(err)?;
    }
    rego::configure(&mut verifier, &a)?;
    for k in a.all("operator-key") {
        verifier.add_operator_key(PublicKey::parse(k).map_err(err)?);
    }
    if let Some(s) = a.one("max-staleness") {
        verifier.set_max_revocation_staleness(Some(parse_u64("--max-staleness", s)?));
    }
    match a.one("revocation-list") {
        Some(path) => {
            if a.all("operator-key").is_empty() {
                return Err("--revocation-list needs the --operator-key that signs it".into());
            }
            let doc = args::read_file(path)?;
            verifier.load_revocation_list_json(&doc, now).map_err(err)?;
        }
        None if a.one("max-staleness").is_some() => {
            return Err("--max-staleness needs a --revocation-list (without one every request fails closed)".into())
        }
        None => {}
    }
    let proof = a.one("proof").map(read_arg).transpose()?;
    let token = read_arg(a.req("token")?)?;
    let approval = a.one("approval").map(read_arg).transpose()?;
    let bytes = Token::from_base64(&token).map_err(err)?;
    shared_state(&mut verifier, &bytes, a.one("redis"))?;
    let d = verifier.authorize_with_approval(bytes.to_bytes(), &request, proof.as_deref(), approval.as_deref(), now).map_err(err)?;
    println!("{}", d.to_json());
    Ok(if d.allowed { 0 } else { 1 })
}

/// Where single-use proofs and approvals and call budgets are counted. One `marque authorize` is
/// one process: without `--redis` its replay cache and counters die with it, so proofs and
/// approvals are checked but not single-use across invocations (said in the usage), and a token
/// carrying call budgets is refused — counting each call from zero would never exhaust them.
fn shared_state(verifier: &mut Verifier, token: &Token, redis: Option<&str>) -> Result<(), String> {
    match redis {
        Some(url) => {
            let timeout = std::time::Duration::from_secs(2);
            let replay = marque_redis::RedisReplayStore::open(url).and_then(|s| s.with_timeout(timeout)).map_err(err)?;
            let counters = marque_redis::RedisCounterStore::open(url).and_then(|s| s.with_timeout(timeout)).map_err(err)?;
            verifier.set_replay_store(std::sync::Arc::new(replay));
            verifier.set_counter_store(std::sync::Arc::new(counters));
            Ok(())
        }
        None if token.carries_budgets() => Err(
            "this token carries call budgets: give --redis URL so every invocation counts against the same budget \
             (one process alone would count each call from zero)"
                .into(),
        ),
        None => Ok(()),
    }
}

fn sign_proof(a: Args) -> Result<u8, String> {
    let token = Token::from_base64(&read_arg(a.req("token")?)?).map_err(err)?;
    let key = load_key(a.req("key")?)?;
    let audience = match a.all("audience") {
        [] => None,
        [uri] => Some(Audience::parse(uri).map_err(err)?),
        _ => return Err("--audience names the one server the proof is for: give it once".into()),
    };
    let request = Request::new(a.req("tool")?, a.one("operation").unwrap_or("*"), a.req("resource")?);
    let now = a.one("now").map(|n| parse_u64("--now", n)).transpose()?;
    println!("{}", token.sign_proof_for(&key, &request, audience.as_ref(), now).map_err(err)?);
    Ok(0)
}
