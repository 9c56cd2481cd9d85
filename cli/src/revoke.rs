//! `marque revoke add|sign|show` and `marque jwks`: the operator side of signed revocation lists
//! and published root keys.
//!
//! `add` edits an unsigned revocation set (JSON, created if missing); `sign` turns it into a
//! signed revocation list for the fleet (the sequence is `--sequence N`, or the previous signed
//! list's plus one with `--previous FILE`); `show` prints a list (signed or not) and, signed,
//! checks its signature and — with `--operator-key` — that a trusted operator signed it.

use marque::verify::{derived_key_id, to_jwks};
use marque::{PublicKey, RevocationList, RevocationSet};

use crate::args::{read_file as read, Args};
use crate::{err, load_key, parse_u64};

const USAGE: &str = "usage:
  marque revoke add --list FILE [--id HEX]... [--agent ID]... [--key PUBLIC_KEY]... [--principal P]... [--task T]...
  marque revoke sign --list FILE --key FILE (--sequence N | --previous SIGNED) [--now SECS] [--out FILE]
  marque revoke show FILE [--operator-key HEX]...
  marque revoke publish --list FILE --key FILE --out SERVED_FILE [--now SECS]";

/// Runs `marque revoke …` (`args` after `revoke`).
pub fn run(args: &[String]) -> Result<u8, String> {
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("add") => add(Args::parse(rest, &["list", "id", "agent", "key", "principal", "task"], &[])?),
        Some("sign") => sign(Args::parse(rest, &["list", "key", "sequence", "previous", "now", "out"], &[])?),
        Some("publish") => publish(Args::parse(rest, &["list", "key", "out", "now"], &[])?),
        Some("show") => show(Args::parse(rest, &["operator-key"], &[])?),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(0)
        }
        Some(other) => Err(format!("unknown revoke command {other:?}; {}", USAGE.replace('\n', " "))),
        None => Err(USAGE.replace('\n', " ")),
    }
}

/// An unsigned set file, or the set of a signed list (so `add` can start from the last list).
fn read_set(path: &str) -> Result<RevocationSet, String> {
    let text = read(path)?;
    if text.contains("\"sig\"") {
        return Ok(RevocationList::from_json(&text).map_err(err)?.revoked().clone());
    }
    RevocationSet::from_json(&text).map_err(err)
}

fn add(a: Args) -> Result<u8, String> {
    let path = a.req("list")?;
    let mut set = match std::fs::metadata(path) {
        Ok(_) => read_set(path)?,
        Err(_) => RevocationSet::new(),
    };
    let mut added = 0;
    // Every entry is checked by the core (a malformed one is refused, nothing is written).
    for id in a.all("id") {
        added += usize::from(set.revoke(id).map_err(|e| format!("--id: {}", err(e)))?);
    }
    for agent in a.all("agent") {
        added += usize::from(set.revoke_agent(agent).map_err(|e| format!("--agent: {}", err(e)))?);
    }
    for key in a.all("key") {
        let key = PublicKey::parse(key).map_err(|e| format!("--key: {}", err(e)))?;
        added += usize::from(set.revoke_key(&key));
    }
    for p in a.all("principal") {
        added += usize::from(set.revoke_principal(p).map_err(|e| format!("--principal: {}", err(e)))?);
    }
    for t in a.all("task") {
        added += usize::from(set.revoke_task(t).map_err(|e| format!("--task: {}", err(e)))?);
    }
    if ["id", "agent", "key", "principal", "task"].iter().all(|k| a.all(k).is_empty()) {
        return Err("nothing to add: give --id, --agent, --key, --principal or --task".into());
    }
    std::fs::write(path, set.to_json() + "\n").map_err(|e| format!("cannot write {path}: {e}"))?;
    println!("{{\"added\":{added},\"entries\":{}}}", set.len());
    Ok(0)
}

fn sign(a: Args) -> Result<u8, String> {
    let set = read_set(a.req("list")?)?;
    let key = load_key(a.req("key")?)?;
    let sequence = match (a.one("sequence"), a.one("previous")) {
        (Some(n), None) => n.parse::<u64>().map_err(|_| format!("--sequence must be a whole number, got {n:?}"))?,
        (None, Some(prev)) => {
            let prev = RevocationList::from_json(&read(prev)?).map_err(err)?;
            if prev.issuer() != &key.public_key() {
                return Err(format!(
                    "the previous list was signed by {}, not by this key ({})",
                    prev.issuer().fingerprint(),
                    key.public_key().fingerprint()
                ));
            }
            prev.sequence().checked_add(1).ok_or("the previous sequence is at its maximum")?
        }
        _ => return Err("give exactly one of --sequence N or --previous SIGNED_LIST".into()),
    };
    let now = a.one("now").map(|n| parse_u64("--now", n)).transpose()?;
    let list = RevocationList::sign(&set, sequence, now, &key).map_err(err)?;
    let json = list.to_json();
    match a.one("out") {
        Some(path) => std::fs::write(path, json + "\n").map_err(|e| format!("cannot write {path}: {e}"))?,
        None => println!("{json}"),
    }
    Ok(0)
}

/// Signs the next list where a static server or object store serves it: the sequence follows the
/// list already at `--out` (1 when there is none; one signed by another key is refused), and the
/// file is replaced atomically (a poller never reads half a list).
fn publish(a: Args) -> Result<u8, String> {
    let set = read_set(a.req("list")?)?;
    let key = load_key(a.req("key")?)?;
    let out = a.req("out")?;
    let sequence = match std::fs::read_to_string(out) {
        Ok(text) => {
            let prev = RevocationList::from_json(&text).map_err(|e| format!("{out}: {}", err(e)))?;
            if prev.issuer() != &key.public_key() {
                return Err(format!("{out} was signed by {}, not by this key ({})", prev.issuer().fingerprint(), key.public_key().fingerprint()));
            }
            prev.sequence().checked_add(1).ok_or("the published sequence is at its maximum")?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 1,
        Err(e) => return Err(format!("cannot read {out}: {e}")),
    };
    let now = a.one("now").map(|n| parse_u64("--now", n)).transpose()?;
    let list = RevocationList::sign(&set, sequence, now, &key).map_err(err)?;
    marque::feed::persist(std::path::Path::new(out), &list).map_err(err)?;
    println!("{{\"sequence\":{sequence},\"entries\":{},\"issued_at\":{}}}", set.len(), list.issued_at());
    Ok(0)
}

fn show(a: Args) -> Result<u8, String> {
    let [path] = a.positional() else {
        return Err("usage: marque revoke show FILE [--operator-key HEX]...".into());
    };
    let text = if path == "-" { crate::args::read_arg("-")? } else { read(path)? };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{path} is not JSON: {e}"))?;
    if value.get("sig").is_none() {
        let set = RevocationSet::from_json(&text).map_err(err)?;
        let out = serde_json::json!({ "signed": false, "entries": set.len(), "revoked": set });
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
        return Ok(0);
    }
    let list = RevocationList::from_json(&text).map_err(err)?;
    let trusted: Result<Vec<PublicKey>, String> =
        a.all("operator-key").iter().map(|k| PublicKey::parse(k).map_err(err)).collect();
    let trusted = trusted?;
    if !trusted.is_empty() {
        list.check_issuer(&trusted).map_err(err)?;
    }
    let out = serde_json::json!({
        "signed": true,
        "signature": "valid",
        "issuer": list.issuer().to_hex(),
        "issuer_fingerprint": list.issuer().fingerprint(),
        "issuer_trusted": if trusted.is_empty() { serde_json::Value::Null } else { true.into() },
        "issued_at": list.issued_at(),
        "sequence": list.sequence(),
        "entries": list.revoked().len(),
        "revoked": list.revoked(),
    });
    println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
    Ok(0)
}

/// `marque jwks KEY...`: a JWKS document of root public keys (each under its derived key id).
pub fn jwks(a: Args) -> Result<u8, String> {
    if a.positional().is_empty() {
        return Err("usage: marque jwks ROOT_PUBLIC_KEY...".into());
    }
    let keys: Result<Vec<(u32, PublicKey)>, String> = a
        .positional()
        .iter()
        .map(|k| PublicKey::parse(k).map(|k| (derived_key_id(&k), k)).map_err(err))
        .collect();
    println!("{}", to_jwks(&keys?));
    Ok(0)
}
