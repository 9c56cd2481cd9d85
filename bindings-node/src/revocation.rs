//! Revocation sets as plain objects, mirroring `marque::revocation`.

use napi_derive::napi;

/// A revocation set: block revocation ids, agents, principals and tasks (sorted).
#[napi(object)]
pub struct Revocations {
    /// Revoked block revocation ids (lowercase hex).
    pub ids: Vec<String>,
    /// Revoked agent ids.
    pub agents: Vec<String>,
    /// Revoked principals.
    pub principals: Vec<String>,
    /// Revoked tasks.
    pub tasks: Vec<String>,
}

/// A revocation set to merge into a verifier; every list is optional.
#[napi(object, object_to_js = false)]
pub struct RevocationsInit {
    /// Block revocation ids (hex).
    pub ids: Option<Vec<String>>,
    /// Agent ids.
    pub agents: Option<Vec<String>>,
    /// Principals.
    pub principals: Option<Vec<String>>,
    /// Tasks.
    pub tasks: Option<Vec<String>>,
}

impl Revocations {
    pub(crate) fn from_core(set: &marque::RevocationSet) -> Self {
        Revocations {
            ids: set.ids.iter().cloned().collect(),
            agents: set.agents.iter().cloned().collect(),
            principals: set.principals.iter().cloned().collect(),
            tasks: set.tasks.iter().cloned().collect(),
        }
    }
}

impl RevocationsInit {
    pub(crate) fn into_core(self) -> marque::RevocationSet {
        let mut set = marque::RevocationSet::new();
        for id in self.ids.unwrap_or_default() {
            set.revoke(&id);
        }
        for a in self.agents.unwrap_or_default() {
            set.revoke_agent(&a);
        }
        for p in self.principals.unwrap_or_default() {
            set.revoke_principal(&p);
        }
        for t in self.tasks.unwrap_or_default() {
            set.revoke_task(&t);
        }
        set
    }
}
