//! `marque approve`: a human approver signs one exact call.
//!
//! The approver should see what they approve, so the command can compute the request digest
//! itself from the token and the request (`--token`, `--tool`, `--operation`, `--resource`,
//! `--attribute K=V`) and print what it signs on stderr; a `--digest` copied from an
//! `approval_required` denial is accepted too, and when both are given they must agree.

use marque::approval::{request_digest, sign_approval};
use marque::policy::Request;
use marque::Token;

use crate::args::{read_arg, Args};
use crate::{err, load_key, parse_u64};

pub fn run(a: Args) -> Result<u8, String> {
    let key = load_key(a.req("key")?)?;
    let approver = a.req("approver")?;
    let computed = match a.one("token") {
        Some(t) => {
            let token = Token::from_base64(&read_arg(t)?).map_err(err)?;
            let mut request = Request::new(a.req("tool")?, a.one("operation").unwrap_or("*"), a.req("resource")?);
            for kv in a.all("attribute") {
                let (k, v) = kv.split_once('=').ok_or_else(|| format!("--attribute must be KEY=VALUE, got {kv:?}"))?;
                request = request.attribute(k, v);
            }
            eprintln!(
                "approving for {} (path {}, principal {}): {}:{} on {:?}",
                token.agent(),
                token.path(),
                token.principal(),
                request.tool,
                request.operation,
                request.resource
            );
            Some(request_digest(token.to_bytes(), &request))
        }
        None if a.one("tool").is_some() || a.one("resource").is_some() || !a.all("attribute").is_empty() => {
            return Err("--tool/--resource/--attribute describe a request: give its --token too".into())
        }
        None => None,
    };
    let digest = match (computed, a.one("digest")) {
        (Some(c), Some(d)) if c != d => return Err("--digest does not match the token and request given: refusing to sign".into()),
        (Some(c), _) => c,
        (None, Some(d)) => d.to_string(),
        (None, None) => return Err("give --digest D, or the --token and request to approve".into()),
    };
    let ttl = a.one("ttl").map(|t| parse_u64("--ttl", t)).transpose()?.unwrap_or(300);
    let now = match a.one("now") {
        Some(n) => parse_u64("--now", n)?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| "the system clock is before 1970".to_string())?
            .as_secs(),
    };
    println!("{}", sign_approval(&key, approver, &digest, now, ttl).map_err(err)?);
    Ok(0)
}
