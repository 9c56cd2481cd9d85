//! `marque authorize --rego FILE --role AGENT=ROLE`: operator policies in Rego (OPA).
//!
//! Each `--rego FILE` is one Rego module, checked when it is loaded (the core's
//! `marque::rego::RegoPolicy`: size, syntax, a package, an `allow` rule) and run on the call
//! after the token's Datalog allows it. The policy is named by `--rego-name` (default: the
//! file's stem) and `--rego-version`, which label the decision (`policy`: `name@version#rule`);
//! with several files those two options cannot say which file they name, so they are refused.
//! `--role AGENT=ROLE` (agent path or id) feeds `input.agent.role`.

use std::collections::BTreeMap;
use std::path::Path;

use marque::rego::RegoPolicy;
use marque::Verifier;

use crate::args::{read_file, Args};
use crate::err;

/// Loads the `--rego` policies and the `--role` map into `verifier`.
pub fn configure(verifier: &mut Verifier, a: &Args) -> Result<(), String> {
    let files = a.all("rego");
    let (name, version) = (a.one("rego-name"), a.one("rego-version"));
    if files.len() != 1 && (name.is_some() || version.is_some()) {
        return Err("--rego-name and --rego-version name one --rego FILE: give exactly one".into());
    }
    for path in files {
        let source = read_file(path)?;
        let stem = Path::new(path).file_stem().and_then(|s| s.to_str()).unwrap_or("rego");
        let policy = RegoPolicy::new(name.unwrap_or(stem), version, &source).map_err(err)?;
        verifier.add_rego_policy(policy);
    }
    let mut roles = BTreeMap::new();
    for spec in a.all("role") {
        let (agent, role) = spec.split_once('=').filter(|(a, r)| !a.is_empty() && !r.is_empty())
            .ok_or_else(|| format!("--role must be AGENT=ROLE (an agent path or id), got {spec:?}"))?;
        if roles.insert(agent.to_string(), role.to_string()).is_some() {
            return Err(format!("--role gives {agent:?} two roles"));
        }
    }
    verifier.set_roles(roles);
    Ok(())
}
