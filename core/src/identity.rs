//! Agent identities: stable ids, spawn-tree paths and agent identity records.
//!
//! An agent is named by a stable id such as `agent:code-reviewer` and placed in the spawn tree by
//! a path: the agent a token is minted for sits at `/root`, and each delegation appends the
//! child's *name* (the part of its id after the last `:`), e.g. `/root/agent_a/agent_c`. Ids are
//! short printable strings without control characters, quotes or backslashes, so they can be
//! embedded in Datalog, JSON and log lines without escaping surprises.
//!
//! ```
//! use marque::identity::{validate_agent_id, child_path, ROOT_PATH};
//! validate_agent_id("agent:code-reviewer")?;
//! assert_eq!(child_path(ROOT_PATH, "agent:agent_a")?, "/root/agent_a");
//! assert!(validate_agent_id("bad\"id").is_err());
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::format;
use alloc::string::String;

use crate::error::{Error, Result};

/// The path of the agent a token is minted for.
pub const ROOT_PATH: &str = "/root";

/// Longest accepted agent id, principal, task or workspace name, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// Checks that `value` is a usable name (agent id, principal, task, workspace): 1 to 256 bytes,
/// no control characters, no `"` or `\`.
pub fn validate_name(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid_argument(format!("{what} must not be empty")));
    }
    if value.len() > MAX_NAME_LEN {
        return Err(Error::invalid_argument(format!(
            "{what} is {} bytes long; at most {MAX_NAME_LEN} are allowed",
            value.len()
        )));
    }
    if value.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
        return Err(Error::invalid_argument(format!(
            "{what} must not contain control characters, quotes or backslashes"
        )));
    }
    Ok(())
}

/// Checks an agent id: a valid name whose last `:`-separated part (the agent's *name* in the
/// spawn tree) is non-empty and has no `/`.
pub fn validate_agent_id(id: &str) -> Result<()> {
    validate_name("agent id", id)?;
    let name = agent_name(id);
    if name.is_empty() || name.contains('/') || name.trim() != name {
        return Err(Error::invalid_argument(format!(
            "agent id {id:?} must end in a name without '/' or surrounding spaces (e.g. \"agent:reviewer\")"
        )));
    }
    Ok(())
}

/// The agent's name in the spawn tree: the part of its id after the last `:`.
pub fn agent_name(id: &str) -> &str {
    id.rsplit(':').next().unwrap_or(id)
}

/// The path of a child agent `child_id` delegated to by the agent at `parent_path`.
pub fn child_path(parent_path: &str, child_id: &str) -> Result<String> {
    validate_agent_id(child_id)?;
    Ok(format!("{parent_path}/{}", agent_name(child_id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(agent_name("agent:a:b"), "b");
        assert_eq!(agent_name("plain"), "plain");
        assert_eq!(child_path("/root/x", "agent:y").unwrap(), "/root/x/y");
        for bad in ["", "agent:", "agent:a/b", "a\"b", "a\\b", "a\nb", "agent: x"] {
            assert_eq!(validate_agent_id(bad).unwrap_err().code(), "invalid_argument", "{bad:?}");
        }
        assert!(validate_name("principal", &"x".repeat(257)).is_err());
    }
}
