//! Revocation: kill a hop and everything below it, or an agent, a principal or a task.
//!
//! Every block of a token has a revocation id (the hex of its signature). Revoking the id of
//! hop *k* revokes every token that contains that block — hop *k* and everything delegated below
//! it — while its siblings (other tokens delegated from the same parent) stay valid. Revocation
//! by agent id, principal or task kills every token whose chain names them. A [`RevocationSet`]
//! serializes to JSON so a fleet of verifiers can share it; the verifier checks it before any
//! Datalog runs.
//!
//! ```
//! use marque::revocation::RevocationSet;
//! let mut set = RevocationSet::default();
//! set.revoke_agent("agent:compromised");
//! let json = set.to_json();
//! assert_eq!(RevocationSet::from_json(&json)?, set);
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A set of revoked block ids, agents, principals and tasks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RevocationSet {
    /// Revoked block revocation ids (lowercase hex).
    pub ids: BTreeSet<String>,
    /// Revoked agent ids (any hop naming them).
    pub agents: BTreeSet<String>,
    /// Revoked principals.
    pub principals: BTreeSet<String>,
    /// Revoked tasks.
    pub tasks: BTreeSet<String>,
}

/// Why a token is revoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revoked {
    /// Block `index` has a revoked id.
    Block {
        /// Block index (0 = authority).
        index: usize,
        /// The revoked id.
        id: String,
    },
    /// An agent of the chain is revoked.
    Agent(String),
    /// The principal is revoked.
    Principal(String),
    /// The task is revoked.
    Task(String),
}

impl core::fmt::Display for Revoked {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Revoked::Block { index, id } => {
                let short: String = id.chars().take(16).collect();
                write!(f, "block {index} is revoked (revocation id {short}…)")
            }
            Revoked::Agent(a) => write!(f, "agent {a} is revoked"),
            Revoked::Principal(p) => write!(f, "principal {p} is revoked"),
            Revoked::Task(t) => write!(f, "task {t} is revoked"),
        }
    }
}

impl RevocationSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }
    /// Revokes a block id (hex; case-insensitive). Returns whether it was new.
    pub fn revoke(&mut self, revocation_id: &str) -> bool {
        self.ids.insert(revocation_id.trim().to_ascii_lowercase())
    }
    /// Revokes every token naming this agent anywhere in its chain.
    pub fn revoke_agent(&mut self, agent_id: &str) -> bool {
        self.agents.insert(agent_id.to_string())
    }
    /// Revokes every token issued on behalf of this principal.
    pub fn revoke_principal(&mut self, principal: &str) -> bool {
        self.principals.insert(principal.to_string())
    }
    /// Revokes every token for this task.
    pub fn revoke_task(&mut self, task: &str) -> bool {
        self.tasks.insert(task.to_string())
    }
    /// Adds everything of `other`.
    pub fn merge(&mut self, other: &RevocationSet) {
        self.ids.extend(other.ids.iter().cloned());
        self.agents.extend(other.agents.iter().cloned());
        self.principals.extend(other.principals.iter().cloned());
        self.tasks.extend(other.tasks.iter().cloned());
    }
    /// Whether nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.agents.is_empty() && self.principals.is_empty() && self.tasks.is_empty()
    }
    /// Total number of entries.
    pub fn len(&self) -> usize {
        self.ids.len() + self.agents.len() + self.principals.len() + self.tasks.len()
    }

    /// Checks a token's block ids, chain agents, principal and task; the first match wins.
    pub fn check<'a>(
        &self,
        block_ids: impl IntoIterator<Item = &'a str>,
        agents: impl IntoIterator<Item = &'a str>,
        principal: &str,
        task: Option<&str>,
    ) -> Option<Revoked> {
        if self.is_empty() {
            return None;
        }
        for (index, id) in block_ids.into_iter().enumerate() {
            if self.ids.contains(id) {
                return Some(Revoked::Block { index, id: id.to_string() });
            }
        }
        for a in agents {
            if self.agents.contains(a) {
                return Some(Revoked::Agent(a.to_string()));
            }
        }
        if self.principals.contains(principal) {
            return Some(Revoked::Principal(principal.to_string()));
        }
        if let Some(t) = task {
            if self.tasks.contains(t) {
                return Some(Revoked::Task(t.to_string()));
            }
        }
        None
    }

    /// JSON: `{"ids":[…],"agents":[…],"principals":[…],"tasks":[…]}` (sorted, stable).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
    /// Parses the JSON form; unknown fields are refused.
    pub fn from_json(json: &str) -> Result<Self> {
        let mut set: RevocationSet = serde_json::from_str(json)
            .map_err(|e| Error::invalid_argument(format!("revocation set is not valid JSON: {e}")))?;
        set.ids = set.ids.into_iter().map(|i| i.to_ascii_lowercase()).collect();
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_each_kind() {
        let mut s = RevocationSet::new();
        assert_eq!(s.check(["aa"], ["agent:x"], "user:a", Some("t")), None);
        s.revoke("BB");
        assert!(!s.revoke("bb"), "duplicate ids are one entry");
        assert_eq!(
            s.check(["aa", "bb"], ["agent:x"], "user:a", None),
            Some(Revoked::Block { index: 1, id: "bb".into() })
        );
        let mut s = RevocationSet::new();
        s.revoke_task("t");
        assert_eq!(s.check(["aa"], ["agent:x"], "user:a", Some("t")), Some(Revoked::Task("t".into())));
        s.revoke_principal("user:a");
        assert_eq!(s.check(["aa"], ["agent:x"], "user:a", Some("t")), Some(Revoked::Principal("user:a".into())));
        assert!(RevocationSet::from_json("{\"nope\":[]}").is_err());
    }
}
