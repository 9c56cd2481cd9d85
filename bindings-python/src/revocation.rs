//! `RevocationSet` (mirrors `marque::revocation`).

use pyo3::prelude::*;

use crate::errors::Result;

/// A set of revoked block ids, agents, principals and tasks, serializable to JSON so a fleet
/// of verifiers can share it (`Verifier(revocations=…)`, `Verifier.merge_revocations`).
#[pyclass(module = "marque", eq)]
#[derive(Clone, Default, PartialEq)]
pub struct RevocationSet {
    pub inner: marque::RevocationSet,
}

#[pymethods]
impl RevocationSet {
    #[new]
    #[pyo3(signature = (*, ids = None, agents = None, principals = None, tasks = None))]
    fn new(
        ids: Option<Vec<String>>,
        agents: Option<Vec<String>>,
        principals: Option<Vec<String>>,
        tasks: Option<Vec<String>>,
    ) -> Self {
        let mut s = marque::RevocationSet::new();
        for i in ids.unwrap_or_default() {
            s.revoke(&i);
        }
        for a in agents.unwrap_or_default() {
            s.revoke_agent(&a);
        }
        for p in principals.unwrap_or_default() {
            s.revoke_principal(&p);
        }
        for t in tasks.unwrap_or_default() {
            s.revoke_task(&t);
        }
        RevocationSet { inner: s }
    }

    /// Revokes a block revocation id (hex) and everything delegated below it. Returns whether it was new.
    fn revoke(&mut self, revocation_id: &str) -> bool {
        self.inner.revoke(revocation_id)
    }
    /// Revokes every token naming this agent in its chain. Returns whether it was new.
    fn revoke_agent(&mut self, agent_id: &str) -> bool {
        self.inner.revoke_agent(agent_id)
    }
    /// Revokes every token issued for this principal. Returns whether it was new.
    fn revoke_principal(&mut self, principal: &str) -> bool {
        self.inner.revoke_principal(principal)
    }
    /// Revokes every token for this task. Returns whether it was new.
    fn revoke_task(&mut self, task: &str) -> bool {
        self.inner.revoke_task(task)
    }
    /// Adds every entry of `other`.
    fn merge(&mut self, other: PyRef<'_, RevocationSet>) {
        self.inner.merge(&other.inner)
    }
    /// Revoked block ids (sorted).
    #[getter]
    fn ids(&self) -> Vec<String> {
        self.inner.ids.iter().cloned().collect()
    }
    /// Revoked agent ids (sorted).
    #[getter]
    fn agents(&self) -> Vec<String> {
        self.inner.agents.iter().cloned().collect()
    }
    /// Revoked principals (sorted).
    #[getter]
    fn principals(&self) -> Vec<String> {
        self.inner.principals.iter().cloned().collect()
    }
    /// Revoked tasks (sorted).
    #[getter]
    fn tasks(&self) -> Vec<String> {
        self.inner.tasks.iter().cloned().collect()
    }
    /// `{"ids":[…],"agents":[…],"principals":[…],"tasks":[…]}` (sorted, stable).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// Parses the JSON form; unknown fields are refused (`InvalidArgument`).
    #[staticmethod]
    fn from_json(json: &str) -> Result<Self> {
        Ok(RevocationSet { inner: marque::RevocationSet::from_json(json)? })
    }
    fn __len__(&self) -> usize {
        self.inner.len()
    }
    fn __repr__(&self) -> String {
        format!(
            "RevocationSet(ids={}, agents={}, principals={}, tasks={})",
            self.inner.ids.len(),
            self.inner.agents.len(),
            self.inner.principals.len(),
            self.inner.tasks.len()
        )
    }
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((slf.get_type().getattr("from_json")?, (slf.borrow().inner.to_json(),)))
    }
}
