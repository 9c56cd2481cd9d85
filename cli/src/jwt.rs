//! `marque jwt issue|verify`: compact-mode EdDSA JWTs from the shell.

use marque::{jwt_issue, jwt_verify, JwtKeys, JwtOptions};

use crate::audit::{
    fail, load_keypair, one_line, parse_public_key, read_value, report, show, Args,
};

const USAGE: &str = "usage:
  marque jwt issue --key FILE --claims JSON|@FILE [--kid KID]
  marque jwt verify TOKEN|-|@FILE --key [KID=]KEY... [--aud AUD] [--iss ISS] [--leeway S] [--now T]";

/// Runs `marque jwt …`; `args` are the arguments after `jwt`. Exit codes: 0 ok (token or claims
/// on stdout), 1 the token is rejected (`verify`; code and reason on stderr), 2 usage or other
/// error (one line on stderr).
pub fn run(args: &[String]) -> i32 {
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("issue") => report(issue(rest)),
        Some("verify") => verify(rest),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            0
        }
        Some(other) => fail(&format!("unknown jwt command {other:?}\n{USAGE}")),
        None => fail(USAGE),
    }
}

fn issue(args: &[String]) -> Result<(), String> {
    let a = Args::parse(args, &["--key", "--claims", "--kid"], &[])?;
    a.no_positionals()?;
    let key = load_keypair(a.one("--key")?)?;
    let claims = marque::jcs::parse_strict(&read_value(a.one("--claims")?)?).map_err(show)?;
    let token = jwt_issue(&key, &claims, a.optional("--kid")?).map_err(show)?;
    println!("{token}");
    Ok(())
}

fn verify(args: &[String]) -> i32 {
    let setup = || -> Result<(String, JwtKeys, JwtOptions), String> {
        let a = Args::parse(args, &["--aud", "--iss", "--leeway", "--now"], &["--key"])?;
        let [token] = a.positionals.as_slice() else {
            return Err(format!("expected exactly one TOKEN\n{USAGE}"));
        };
        let mut keys = JwtKeys::new();
        for k in a.many("--key")? {
            // `KID=KEY` names the key; a bare key is used whatever kid the token carries when it
            // is the only one.
            match k.split_once('=').filter(|(kid, _)| !kid.is_empty() && !kid.starts_with('{')) {
                Some((kid, key)) if parse_public_key(key).is_ok() => {
                    keys.insert(Some(kid.to_string()), parse_public_key(key)?)
                }
                _ => keys.insert(None, parse_public_key(k)?),
            }
        }
        let number = |name: &str| -> Result<Option<u64>, String> {
            a.optional(name)?
                .map(|v| v.parse().map_err(|_| format!("{name} must be a number of seconds")))
                .transpose()
        };
        let now = number("--now")?.unwrap_or_else(marque::unix_now);
        let mut options = JwtOptions::new(now);
        options.audience = a.optional("--aud")?.map(String::from);
        options.issuer = a.optional("--iss")?.map(String::from);
        if let Some(leeway) = number("--leeway")? {
            options.leeway_seconds = leeway;
        }
        Ok((read_value(token)?.trim().to_string(), keys, options))
    };
    let (token, keys, options) = match setup() {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    match jwt_verify(&token, &keys, &options) {
        Ok(claims) => match serde_json::to_string(&claims) {
            Ok(json) => {
                println!("{json}");
                0
            }
            Err(e) => fail(&format!("cannot print the claims: {e}")),
        },
        Err(e) => {
            eprintln!("{}", one_line(&show(e)));
            1
        }
    }
}
