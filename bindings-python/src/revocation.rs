//! `RevocationSet` (mirrors `marque::revocation`).

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{self, py_str_repr, Str};
use crate::errors::{no_panic, Result};
use crate::keys::PublicKey;
use crate::signer::Signer;

/// A set of revoked block ids, agents, agent keys, principals and tasks, serializable to JSON
/// so a fleet of verifiers can share it (`Verifier(revocations=…)`, `Verifier.merge_revocations`).
///
/// Every entry is checked as it enters (`InvalidArgument`, nothing stored): a block id is the
/// whole 128-hex-digit revocation id (`Token.revocation_ids`; uppercase and surrounding spaces
/// are normalized), an agent a valid agent id, a key an Ed25519 public key.
#[pyclass(module = "marque", eq)]
#[derive(Clone, Default, PartialEq)]
pub struct RevocationSet {
    pub inner: marque::RevocationSet,
}

#[pymethods]
impl RevocationSet {
    #[new]
    #[pyo3(signature = (*, ids = None, agents = None, principals = None, tasks = None, keys = None))]
    fn new(
        ids: Option<Vec<Str>>,
        agents: Option<Vec<Str>>,
        principals: Option<Vec<Str>>,
        tasks: Option<Vec<Str>>,
        keys: Option<&Bound<'_, PyAny>>,
    ) -> Result<Self> {
        let mut s = marque::RevocationSet::new();
        for i in ids.unwrap_or_default() {
            s.revoke(&i)?;
        }
        for a in agents.unwrap_or_default() {
            s.revoke_agent(&a)?;
        }
        for p in principals.unwrap_or_default() {
            s.revoke_principal(&p)?;
        }
        for t in tasks.unwrap_or_default() {
            s.revoke_task(&t)?;
        }
        if let Some(keys) = keys.filter(|k| !k.is_none()) {
            for k in convert::public_keys("keys", keys)? {
                s.revoke_key(&k);
            }
        }
        Ok(RevocationSet { inner: s })
    }

    /// Revokes a block revocation id (the 128 hex digits of `Token.revocation_ids`) and
    /// everything delegated below it. Returns whether it was new; a malformed id (such as the
    /// 16-digit prefix a revocation reason shows) raises `InvalidArgument`.
    fn revoke(&mut self, revocation_id: Str) -> Result<bool> {
        Ok(self.inner.revoke(&revocation_id)?)
    }
    /// Revokes every token naming this agent in its chain. Returns whether it was new.
    fn revoke_agent(&mut self, agent_id: Str) -> Result<bool> {
        Ok(self.inner.revoke_agent(&agent_id)?)
    }
    /// Revokes every token whose chain holds this public key (a `PublicKey` or key text), under
    /// whatever agent id. Returns whether it was new.
    fn revoke_key(&mut self, key: &Bound<'_, PyAny>) -> Result<bool> {
        Ok(self.inner.revoke_key(&convert::public_key(key)?))
    }
    /// Revokes every token issued for this principal. Returns whether it was new.
    fn revoke_principal(&mut self, principal: Str) -> Result<bool> {
        Ok(self.inner.revoke_principal(&principal)?)
    }
    /// Revokes every token for this task. Returns whether it was new.
    fn revoke_task(&mut self, task: Str) -> Result<bool> {
        Ok(self.inner.revoke_task(&task)?)
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
    /// Revoked agent public keys, lowercase hex (sorted).
    #[getter]
    fn keys(&self) -> Vec<String> {
        self.inner.keys.iter().cloned().collect()
    }
    /// `{"ids":[…],"agents":[…],"principals":[…],"tasks":[…]}`, plus `"keys":[…]` when keys are
    /// revoked (sorted, stable).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// Parses the JSON form; unknown fields and malformed entries are refused (`InvalidArgument`).
    #[staticmethod]
    fn from_json(json: Str) -> Result<Self> {
        Ok(RevocationSet { inner: marque::RevocationSet::from_json(&json)? })
    }
    fn __len__(&self) -> usize {
        self.inner.len()
    }
    fn __repr__(&self) -> String {
        format!(
            "RevocationSet(ids={}, agents={}, principals={}, tasks={}, keys={})",
            self.inner.ids.len(),
            self.inner.agents.len(),
            self.inner.principals.len(),
            self.inner.tasks.len(),
            self.inner.keys.len()
        )
    }
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((slf.get_type().getattr("from_json")?, (slf.borrow().inner.to_json(),)))
    }
}

/// A `RevocationSet` signed by an operator key, with an issue time and a sequence number: the
/// document an operator publishes to a fleet of verifiers (`Verifier.load_revocation_list`).
///
/// `RevocationList.sign(revocations, sequence=, signer=)` makes one; `from_json` parses one and
/// checks its signature against the issuer it names (`InvalidSignature`; a malformed document
/// is `RevocationListInvalid`); whether that issuer is trusted is the verifier's decision.
/// `to_json()` is canonical (the same list always gives the same bytes).
#[pyclass(module = "marque", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct RevocationList {
    pub inner: marque::RevocationList,
}

#[pymethods]
impl RevocationList {
    /// Signs `revocations` as list number `sequence` (it must grow with every list published),
    /// issued at `issued_at` (default: the clock), with `signer` (a `KeyPair` or any signer).
    #[staticmethod]
    #[pyo3(signature = (revocations, *, sequence, signer, issued_at = None))]
    fn sign(
        py: Python<'_>,
        revocations: PyRef<'_, RevocationSet>,
        sequence: &Bound<'_, PyAny>,
        signer: &Bound<'_, PyAny>,
        issued_at: Option<&Bound<'_, PyAny>>,
    ) -> Result<Self> {
        let set = revocations.inner.clone();
        let sequence = convert::uint::<u64>("sequence", sequence)?;
        let issued_at = convert::now(issued_at)?;
        let signer = Signer::extract("signer", signer)?;
        let list = py.detach(|| {
            signer.finish(no_panic(|| marque::RevocationList::sign(&set, sequence, issued_at, signer.core())))
        })?;
        Ok(RevocationList { inner: list })
    }
    /// Parses a signed list and checks its signature against its issuer.
    #[staticmethod]
    fn from_json(py: Python<'_>, json: &Bound<'_, PyAny>) -> Result<Self> {
        let text = convert::to_json_text(json)?;
        Ok(RevocationList { inner: py.detach(|| no_panic(|| marque::RevocationList::from_json(&text)))? })
    }
    /// The signed JSON document (canonical).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// The operator key that signed the list.
    #[getter]
    fn issuer(&self) -> PublicKey {
        PublicKey { inner: *self.inner.issuer() }
    }
    /// When the list was issued (seconds since the epoch).
    #[getter]
    fn issued_at(&self) -> u64 {
        self.inner.issued_at()
    }
    /// The list's sequence number.
    #[getter]
    fn sequence(&self) -> u64 {
        self.inner.sequence()
    }
    /// What the list revokes (a copy).
    #[getter]
    fn revoked(&self) -> RevocationSet {
        RevocationSet { inner: self.inner.revoked().clone() }
    }
    /// The 64-byte signature.
    #[getter]
    fn signature<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.signature().to_bytes())
    }
    /// Raises `RevocationListInvalid` unless the issuer is one of `trusted_keys` (a key or a list).
    fn check_issuer(&self, trusted_keys: &Bound<'_, PyAny>) -> Result<()> {
        let keys = convert::public_keys("trusted_keys", trusted_keys)?;
        Ok(self.inner.check_issuer(&keys)?)
    }
    fn __repr__(&self) -> String {
        format!(
            "RevocationList(issuer={}, sequence={}, issued_at={}, entries={})",
            py_str_repr(&self.inner.issuer().fingerprint()),
            self.inner.sequence(),
            self.inner.issued_at(),
            self.inner.revoked().len()
        )
    }
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((slf.get_type().getattr("from_json")?, (slf.get().inner.to_json(),)))
    }
}
