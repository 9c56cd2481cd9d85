//! `Verifier` and `Decision` (mirrors `marque::verify`).

use std::sync::{Arc, RwLock};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::audit::AuditEvent;
use crate::convert::{self, py_str_repr, TokenInput, Str};
use crate::errors::{no_panic, type_error, Result};
use crate::keys::PublicKey;
use crate::policy::{Limits, Policy};
use crate::revocation::{RevocationList, RevocationSet};
use crate::signer::Signer;
use crate::token::Token;

/// Checks tokens against trusted root keys, policies, limits, revocations and proofs.
///
/// Thread-safe: share one `Verifier` between threads; `authorize` releases the GIL while it
/// verifies. A bad signature, unknown root key or malformed token raises; a refusal is a
/// `Decision` with `allowed == False`.
#[pyclass(module = "marque", frozen)]
pub struct Verifier {
    pub(crate) inner: Arc<RwLock<marque::Verifier>>,
}

impl Verifier {
    /// The constructor options shared by `Verifier(...)` and `Verifier.from_jwks(...)`.
    #[allow(clippy::too_many_arguments)]
    fn configure(
        mut v: marque::Verifier,
        policies: Option<&Bound<'_, PyAny>>,
        limits: Option<PyRef<'_, Limits>>,
        require_proof: bool,
        revocations: Option<PyRef<'_, RevocationSet>>,
        operator_keys: Option<&Bound<'_, PyAny>>,
        max_revocation_staleness: Option<&Bound<'_, PyAny>>,
        replay_store: Option<&Bound<'_, PyAny>>,
        audience: Option<Str>,
        constraints: Constraints<'_, '_>,
    ) -> Result<Self> {
        constraints.apply(&mut v)?;
        if let Some(a) = audience {
            v.set_audience(Some(marque::audience::Audience::parse(&a.0)?));
        }
        if let Some(store) = replay_store.filter(|s| !s.is_none()) {
            v.set_replay_store(std::sync::Arc::new(crate::replay::PyReplayStore::extract(store)?));
        }
        if let Some(keys) = operator_keys {
            if !keys.is_none() {
                for key in convert::public_keys("operator_keys", keys)? {
                    v.add_operator_key(key);
                }
            }
        }
        v.set_max_revocation_staleness(convert::opt_seconds("max_revocation_staleness", max_revocation_staleness)?);
        if let Some(l) = limits {
            v.set_limits(l.inner.clone());
        }
        v.set_require_proof(require_proof);
        if let Some(ps) = policies {
            for p in ps.try_iter().map_err(|_| type_error("policies must be a list of Policy or (id, source) tuples"))? {
                let p = p?;
                let policy = if let Ok(p) = p.cast::<Policy>() {
                    p.get().inner.clone()
                } else {
                    let pair = p
                        .cast::<pyo3::types::PyTuple>()
                        .ok()
                        .filter(|t| t.len() == 2)
                        .ok_or_else(|| type_error("policies must be a list of Policy or (id, source) tuples"))?;
                    let id = convert::str_arg("a policy id", &pair.get_item(0)?)?;
                    let source = convert::str_arg("a policy source", &pair.get_item(1)?)?;
                    marque::Policy::new(id, source)
                };
                v.add_policy(policy)?;
            }
        }
        if let Some(r) = revocations {
            v.merge_revocations(&r.inner)?;
        }
        Ok(Verifier { inner: Arc::new(RwLock::new(v)) })
    }

    fn read<T>(&self, f: impl FnOnce(&marque::Verifier) -> T) -> T {
        match self.inner.read() {
            Ok(g) => f(&g),
            Err(p) => f(&p.into_inner()),
        }
    }
}

/// The constructor's constraint options: `approvers`, `approval_rules`, `counter_store`,
/// `rego`, `roles`.
struct Constraints<'a, 'py> {
    approvers: Option<&'a Bound<'py, PyAny>>,
    approval_rules: Option<&'a Bound<'py, PyAny>>,
    counter_store: Option<&'a Bound<'py, PyAny>>,
    rego: Option<&'a Bound<'py, PyAny>>,
    roles: Option<&'a Bound<'py, PyAny>>,
}

impl Constraints<'_, '_> {
    fn apply(&self, v: &mut marque::Verifier) -> Result<()> {
        if let Some(a) = self.approvers.filter(|a| !a.is_none()) {
            let d = a
                .cast::<PyDict>()
                .map_err(|_| type_error(format!("approvers must be a dict {{approver id: PublicKey}}, got {}", convert::type_name(a))))?;
            for (id, key) in d.iter() {
                v.add_approver(&convert::str_arg("an approver id", &id)?, convert::public_key(&key)?)?;
            }
        }
        for rule in convert::rights(self.approval_rules)? {
            v.add_approval_rule(rule)?;
        }
        if let Some(store) = self.counter_store.filter(|s| !s.is_none()) {
            v.set_counter_store(crate::budget::extract(store)?);
        }
        crate::rego::apply(v, crate::rego::specs(self.rego)?)?;
        v.set_roles(convert::str_map("roles", self.roles)?);
        Ok(())
    }
}

fn parse_root_keys(v: &Bound<'_, PyAny>) -> Result<Vec<(Option<u32>, marque::PublicKey)>> {
    if let Ok(d) = v.cast::<PyDict>() {
        let mut out = Vec::with_capacity(d.len());
        for (k, key) in d.iter() {
            out.push((Some(convert::uint::<u32>("root key id", &k)?), convert::public_key(&key)?));
        }
        return Ok(out);
    }
    // A single key (object or text) rather than a list of them.
    if v.is_instance_of::<PyString>() || v.cast::<PublicKey>().is_ok() || v.cast::<crate::keys::KeyPair>().is_ok() {
        return Ok(vec![(None, convert::public_key(v)?)]);
    }
    let iter = v
        .try_iter()
        .map_err(|_| type_error(format!("root_keys must be a list of PublicKey or a dict {{key_id: PublicKey}}, got {}", convert::type_name(v))))?;
    iter.map(|k| Ok((None, convert::public_key(&k?)?))).collect()
}

fn request(
    tool: String,
    resource: String,
    operation: String,
    attributes: Option<&Bound<'_, PyAny>>,
) -> Result<marque::Request> {
    let mut r = marque::Request::new(tool, operation, resource);
    r.attributes = convert::str_map("attributes", attributes)?;
    Ok(r)
}

#[pymethods]
impl Verifier {
    /// A verifier trusting `root_keys`: a list of `PublicKey` (or key text), or a dict
    /// `{key_id: PublicKey}` for explicit root key ids (rotation). `operator_keys`: the keys
    /// trusted to sign revocation lists (`load_revocation_list`); `max_revocation_staleness`
    /// (seconds): fail closed (`RevocationListStale`) while no signed list is loaded or the
    /// loaded one is older than that. `audience`: this server's canonical URI (RFC 8707): proofs
    /// must name it, and without it a proof naming any server is refused. `replay_store`: where used proofs are remembered — by
    /// default this verifier's own memory; give every worker of a fleet the same sync
    /// `redis.Redis` client (or any object with `set(name, value, *, nx=True, px=ms)`
    /// returning True / None) and a proof accepted by one is refused by all. A store that raises
    /// (set the client's `socket_timeout`) makes the call raise `ReplayStoreUnavailable`.
    /// `approvers`: `{approver id: PublicKey}`, the humans (or signers) whose approvals this
    /// verifier accepts; `approval_rules`: rights (`"deploy:*:production/"`) whose calls need an
    /// approval whatever the token says (denied `approval_required` until retried with
    /// `approval=`). `counter_store`: where delegation budgets (`max_calls`, `rate`) are counted —
    /// by default this verifier's memory; a `MemoryCounterStore` shared by several verifiers, or
    /// a sync `redis.Redis` client (any object with `eval(script, numkeys, *keys_and_args)`) for
    /// a fleet; a store that raises makes the call raise `ReplayStoreUnavailable`.
    /// `rego`: operator policies in Rego (OPA), a list of dicts `{"name", "version"?, "source",
    /// "data"?}` — each checked now (a bad one raises `InvalidArgument`, an oversized one
    /// `LimitsExceeded`) and run on every call the token allows: `require_approval` → denied
    /// `approval_required`, `allow` → allowed, neither → denied `not_authorized`; the decision's
    /// `policy` names `name@version#rule`. `roles`: `{agent path or id: role}`, the policies'
    /// `input.agent.role` (a path wins over an id).
    #[new]
    #[pyo3(signature = (root_keys, *, policies = None, limits = None, require_proof = false, revocations = None,
                        operator_keys = None, max_revocation_staleness = None, replay_store = None, audience = None,
                        approvers = None, approval_rules = None, counter_store = None, rego = None, roles = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        root_keys: &Bound<'_, PyAny>,
        policies: Option<&Bound<'_, PyAny>>,
        limits: Option<PyRef<'_, Limits>>,
        require_proof: bool,
        revocations: Option<PyRef<'_, RevocationSet>>,
        operator_keys: Option<&Bound<'_, PyAny>>,
        max_revocation_staleness: Option<&Bound<'_, PyAny>>,
        replay_store: Option<&Bound<'_, PyAny>>,
        audience: Option<Str>,
        approvers: Option<&Bound<'_, PyAny>>,
        approval_rules: Option<&Bound<'_, PyAny>>,
        counter_store: Option<&Bound<'_, PyAny>>,
        rego: Option<&Bound<'_, PyAny>>,
        roles: Option<&Bound<'_, PyAny>>,
    ) -> Result<Self> {
        let mut v = marque::Verifier::new([]);
        for (id, key) in parse_root_keys(root_keys)? {
            v.add_root_key(id, key);
        }
        let constraints = Constraints { approvers, approval_rules, counter_store, rego, roles };
        Self::configure(v, policies, limits, require_proof, revocations, operator_keys, max_revocation_staleness, replay_store, audience, constraints)
    }

    /// A verifier trusting the root keys of a JWKS document (`{"keys": [...]}`, a str or a
    /// dict; see `parse_jwks`), with the same options as the constructor. Rotating the root key
    /// is publishing a new document (`set_root_keys_from_jwks`).
    #[staticmethod]
    #[pyo3(signature = (jwks, *, policies = None, limits = None, require_proof = false, revocations = None,
                        operator_keys = None, max_revocation_staleness = None, replay_store = None, audience = None,
                        approvers = None, approval_rules = None, counter_store = None, rego = None, roles = None))]
    #[allow(clippy::too_many_arguments)]
    fn from_jwks(
        jwks: &Bound<'_, PyAny>,
        policies: Option<&Bound<'_, PyAny>>,
        limits: Option<PyRef<'_, Limits>>,
        require_proof: bool,
        revocations: Option<PyRef<'_, RevocationSet>>,
        operator_keys: Option<&Bound<'_, PyAny>>,
        max_revocation_staleness: Option<&Bound<'_, PyAny>>,
        replay_store: Option<&Bound<'_, PyAny>>,
        audience: Option<Str>,
        approvers: Option<&Bound<'_, PyAny>>,
        approval_rules: Option<&Bound<'_, PyAny>>,
        counter_store: Option<&Bound<'_, PyAny>>,
        rego: Option<&Bound<'_, PyAny>>,
        roles: Option<&Bound<'_, PyAny>>,
    ) -> Result<Self> {
        let v = marque::Verifier::from_jwks(&convert::to_json_text(jwks)?)?;
        let constraints = Constraints { approvers, approval_rules, counter_store, rego, roles };
        Self::configure(v, policies, limits, require_proof, revocations, operator_keys, max_revocation_staleness, replay_store, audience, constraints)
    }

    /// Replaces every trusted root key with those of a JWKS document (policies, limits,
    /// revocations and the signed list stay). Tokens of a removed root then raise
    /// `UnknownRootKey`. A bad document raises `InvalidKey` and changes nothing.
    fn set_root_keys_from_jwks(&self, py: Python<'_>, jwks: &Bound<'_, PyAny>) -> Result<()> {
        let doc = convert::to_json_text(jwks)?;
        let inner = self.inner.clone();
        Ok(py.detach(move || {
            no_panic(|| {
                let mut v = match inner.write() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                v.set_root_keys_from_jwks(&doc)
            })
        })?)
    }

    /// Trusts `key` to sign revocation lists.
    fn add_operator_key(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> Result<()> {
        let key = convert::public_key(key)?;
        let inner = self.inner.clone();
        py.detach(move || write_guard(&inner).add_operator_key(key));
        Ok(())
    }
    /// The operator keys trusted to sign revocation lists.
    #[getter]
    fn operator_keys(&self) -> Vec<PublicKey> {
        self.read(|v| v.operator_keys().iter().map(|k| PublicKey { inner: *k }).collect())
    }
    /// Sets (or, with `None`, removes) the maximum age in seconds of the signed revocation
    /// list; past it, or while none is loaded, `authorize` raises `RevocationListStale`.
    #[pyo3(signature = (seconds))]
    fn set_max_revocation_staleness(&self, py: Python<'_>, seconds: Option<&Bound<'_, PyAny>>) -> Result<()> {
        let seconds = convert::opt_seconds("seconds", seconds)?;
        let inner = self.inner.clone();
        py.detach(move || write_guard(&inner).set_max_revocation_staleness(seconds));
        Ok(())
    }
    /// This verifier's audience: the canonical URI of the server it guards (RFC 8707), or
    /// `None`. With one, a proof must name exactly it (`InvalidProof` otherwise); without one, a
    /// proof naming any server is refused.
    #[getter]
    fn audience(&self) -> Option<String> {
        self.read(|v| v.audience().map(|a| a.as_str().to_string()))
    }
    /// The maximum age of the signed revocation list, in seconds (`None`: not required).
    #[getter]
    fn max_revocation_staleness(&self) -> Option<u64> {
        self.read(|v| v.max_revocation_staleness())
    }
    /// Loads a signed revocation list (a `RevocationList`, or its JSON as str or dict),
    /// replacing the previous one. Raises `RevocationListInvalid` unless a trusted operator key
    /// signed it (or when it is issued more than 5 minutes after `now`, default: the clock),
    /// `RevocationListRollback` when it goes backwards (lower sequence, older issue time, or the
    /// loaded sequence with other content), `InvalidSignature` for a forged document. Returns
    /// `False` when it is the list already loaded. Safe while other threads authorize.
    #[pyo3(signature = (revocation_list, *, now = None))]
    fn load_revocation_list(&self, py: Python<'_>, revocation_list: &Bound<'_, PyAny>, now: Option<&Bound<'_, PyAny>>) -> Result<bool> {
        let now = convert::now(now)?;
        let list = if let Ok(l) = revocation_list.cast::<RevocationList>() {
            Ok(l.get().inner.clone())
        } else if revocation_list.is_instance_of::<PyString>() || revocation_list.is_instance_of::<PyDict>() {
            Err(convert::to_json_text(revocation_list)?)
        } else {
            return Err(type_error(format!(
                "revocation_list must be a marque.RevocationList or its JSON (str or dict), got {}",
                convert::type_name(revocation_list)
            )));
        };
        let inner = self.inner.clone();
        Ok(py.detach(move || {
            no_panic(|| {
                let v = read_guard(&inner);
                match &list {
                    Ok(l) => v.load_revocation_list(l, now),
                    Err(json) => v.load_revocation_list_json(json, now),
                }
            })
        })?)
    }
    /// The signed revocation list in force, if any.
    #[getter]
    fn revocation_list(&self) -> Option<RevocationList> {
        self.read(|v| v.revocation_list().map(|inner| RevocationList { inner }))
    }

    /// Verifies `token` (a `Token`, base64url str or bytes) and decides the request at `now`
    /// (default: the clock). `proof` is a proof of possession from `sign_proof`; `approval` a
    /// human approval of this exact call (`approve`), for a call the verifier's
    /// `approval_rules` or a delegation's `require_approval` cover (single use).
    /// Returns a `Decision`; raises on a bad signature, unknown root key, malformed token or a hit limit.
    #[pyo3(signature = (token, *, tool, resource, operation = Str::from("*"), proof = None, now = None, attributes = None, approval = None),
        text_signature = "($self, token, *, tool, resource, operation='*', proof=None, now=None, attributes=None, approval=None)")]
    #[allow(clippy::too_many_arguments)]
    fn authorize(
        &self,
        py: Python<'_>,
        token: &Bound<'_, PyAny>,
        tool: Str,
        resource: Str,
        operation: Str,
        proof: Option<Str>,
        now: Option<&Bound<'_, PyAny>>,
        attributes: Option<&Bound<'_, PyAny>>,
        approval: Option<Str>,
    ) -> Result<Decision> {
        let token = TokenInput::extract(token)?;
        let request = request(tool.0, resource.0, operation.0, attributes)?;
        let now = convert::now(now)?;
        let inner = self.inner.clone();
        let decision = py.detach(move || {
            no_panic(|| {
                let v = match inner.read() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                let proof = proof.as_deref();
                match (&token, approval.as_deref()) {
                    (TokenInput::Parsed(t), None) => v.authorize_token(t, &request, proof, now),
                    (TokenInput::Bytes(b), None) => v.authorize(b, &request, proof, now),
                    (TokenInput::Text(s), None) => v.authorize_base64(s, &request, proof, now),
                    (TokenInput::Parsed(t), Some(a)) => v.authorize_with_approval(t.to_bytes(), &request, proof, Some(a), now),
                    (TokenInput::Bytes(b), Some(a)) => v.authorize_with_approval(b, &request, proof, Some(a), now),
                    (TokenInput::Text(s), Some(a)) => {
                        v.authorize_with_approval(marque::Token::from_base64(s)?.to_bytes(), &request, proof, Some(a), now)
                    }
                }
            })
        })?;
        Ok(Decision { inner: decision })
    }

    /// `authorize` for asyncio, with the call's single-use state in shared `redis.asyncio`
    /// stores: `await verifier.authorize_async(token, tool=..., resource=..., proof=...,
    /// replay_store=client, counter_store=client)`. The proof's nonce is claimed with
    /// `replay_store.set(key, "1", nx=True, px=ms)`, then every hop's budget is spent with
    /// `counter_store.eval(REDIS_SPEND_SCRIPT, n, *keys_and_args)` (atomic on the server), only
    /// for an otherwise-allowed call. Each answer may take `timeout` seconds (default 2); a store
    /// that raises, times out or answers anything else raises `ReplayStoreUnavailable` (never an
    /// allow). A call that needs a store not given raises `InvalidArgument` before anything is
    /// claimed. The verifier's own stores are not used. `approval=`: a human approval of this
    /// exact call, claimed once in `replay_store` after the proof's nonce (a used one is denied
    /// `approval_required`, asking for a new one).
    #[pyo3(signature = (token, *, tool, resource, operation = Str::from("*"), proof = None, now = None, attributes = None,
                        replay_store = None, counter_store = None, timeout = None, approval = None),
        text_signature = "($self, token, *, tool, resource, operation='*', proof=None, now=None, attributes=None, replay_store=None, counter_store=None, timeout=2.0, approval=None)")]
    #[allow(clippy::too_many_arguments)]
    fn authorize_async<'py>(
        &self,
        py: Python<'py>,
        token: &Bound<'py, PyAny>,
        tool: Str,
        resource: Str,
        operation: Str,
        proof: Option<Str>,
        now: Option<&Bound<'py, PyAny>>,
        attributes: Option<&Bound<'py, PyAny>>,
        replay_store: Option<&Bound<'py, PyAny>>,
        counter_store: Option<&Bound<'py, PyAny>>,
        timeout: Option<&Bound<'py, PyAny>>,
        approval: Option<Str>,
    ) -> Result<Bound<'py, PyAny>> {
        use crate::pending;
        let replay_set = pending::method(replay_store, "set", "replay_store", "a redis.asyncio.Redis client or an object with set(name, value, *, nx, px)")?;
        let counter_eval = pending::method(counter_store, "eval", "counter_store", "a redis.asyncio.Redis client or an object with eval(script, numkeys, *keys_and_args)")?;
        let timeout = pending::timeout(timeout)?;
        let token = TokenInput::extract(token)?;
        let request = request(tool.0, resource.0, operation.0, attributes)?;
        let now = convert::now(now)?;
        let inner = self.inner.clone();
        let step = py.detach(move || {
            no_panic(|| {
                let v = match inner.read() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                let (proof, approval) = (proof.as_deref(), approval.as_deref());
                match &token {
                    TokenInput::Parsed(t) => v.authorize_begin_with_approval(t.to_bytes(), &request, proof, approval, now),
                    TokenInput::Bytes(b) => v.authorize_begin_with_approval(b, &request, proof, approval, now),
                    TokenInput::Text(s) => v.authorize_begin_base64_with_approval(s, &request, proof, approval, now),
                }
            })
        })?;
        pending::settle(py, step, replay_set, counter_eval, timeout)
    }

    /// Like `authorize`, but a denial raises the exception of its code (`NotAuthorized`,
    /// `Expired`, `Revoked`, `InvalidProof`, …) instead of returning a denied `Decision`.
    #[pyo3(signature = (token, *, tool, resource, operation = Str::from("*"), proof = None, now = None, attributes = None, approval = None),
        text_signature = "($self, token, *, tool, resource, operation='*', proof=None, now=None, attributes=None, approval=None)")]
    #[allow(clippy::too_many_arguments)]
    fn authorize_or_raise(
        &self,
        py: Python<'_>,
        token: &Bound<'_, PyAny>,
        tool: Str,
        resource: Str,
        operation: Str,
        proof: Option<Str>,
        now: Option<&Bound<'_, PyAny>>,
        attributes: Option<&Bound<'_, PyAny>>,
        approval: Option<Str>,
    ) -> Result<Decision> {
        let d = self.authorize(py, token, tool, resource, operation, proof, now, attributes, approval)?;
        Ok(Decision { inner: d.inner.into_result()? })
    }

    /// Verifies signatures and structure only (no policy, no revocation), returning the token.
    fn verify(&self, py: Python<'_>, token: &Bound<'_, PyAny>) -> Result<Token> {
        let token = TokenInput::extract(token)?;
        let inner = self.inner.clone();
        let t = py.detach(move || {
            no_panic(|| {
                let v = match inner.read() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                let bytes = match token {
                    TokenInput::Bytes(b) => b,
                    other => other.parse()?.to_bytes().to_vec(),
                };
                v.verify(&bytes)
            })
        })?;
        Ok(Token::new(t))
    }

    /// Admits `token` at the door at `now` (default: the clock): the revocation-list staleness
    /// rule, signatures, expiry, revocation and depth, failing closed with the matching
    /// exception (`RevocationListStale`, `InvalidToken`, `Expired`, `Revoked`, …). Returns an
    /// `Admission` with the holder's identity and effective (narrowed) rights as `scopes`.
    #[pyo3(signature = (token, *, now = None))]
    fn admit(&self, py: Python<'_>, token: &Bound<'_, PyAny>, now: Option<&Bound<'_, PyAny>>) -> Result<crate::mcp::Admission> {
        crate::mcp::admit(py, &self.inner, TokenInput::extract(token)?, convert::now(now)?)
    }

    /// Maps one MCP message (a dict or JSON text) with `config` (default `McpConfig()`) and
    /// decides it: a `tools/call`, `resources/read`, `prompts/get`, `completion/complete` … is
    /// authorized with the token (`token`, the bearer token, or `_meta["marque/token"]`) and
    /// proof (`proof`, the `Marque-Proof` header, or `_meta["marque/proof"]`) and approval
    /// (`_meta["marque/approval"]`, the retry of an `approval_required` call); an allow-listed
    /// method is admitted (its token, if any, through `admit`). `mcp_method` / `mcp_name` are
    /// the HTTP headers (they must agree with the body); `resource` the application's resource
    /// for a tool that declares none. Raises `InvalidRequest` for a message marque refuses,
    /// `NotAuthorized` for a mapped message without a token.
    #[pyo3(signature = (message, *, config = None, token = None, proof = None, mcp_method = None, mcp_name = None,
                        resource = None, now = None))]
    #[allow(clippy::too_many_arguments)]
    fn authorize_mcp(
        &self,
        py: Python<'_>,
        message: &Bound<'_, PyAny>,
        config: Option<PyRef<'_, crate::mcp::McpConfig>>,
        token: Option<&Bound<'_, PyAny>>,
        proof: Option<Str>,
        mcp_method: Option<Str>,
        mcp_name: Option<Str>,
        resource: Option<Str>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> Result<crate::mcp::McpOutcome> {
        let args = crate::mcp::CallArgs::new(message, token, proof, mcp_method, mcp_name, resource)?;
        crate::mcp::authorize_mcp(py, &self.inner, config, args, convert::now(now)?)
    }

    /// Revokes a block revocation id (and everything delegated below that block): the 128 hex
    /// digits of `Token.revocation_ids`. A malformed id — such as the 16-digit prefix a revocation
    /// reason shows — raises `InvalidArgument` (it would revoke nothing).
    fn revoke(&self, py: Python<'_>, revocation_id: Str) -> Result<()> {
        let inner = self.inner.clone();
        Ok(py.detach(move || read_guard(&inner).revoke(&revocation_id))?)
    }
    /// Revokes every token naming `agent_id` in its chain (`InvalidArgument` unless it is an
    /// agent id).
    fn revoke_agent(&self, py: Python<'_>, agent_id: Str) -> Result<()> {
        let inner = self.inner.clone();
        Ok(py.detach(move || read_guard(&inner).revoke_agent(&agent_id))?)
    }
    /// Revokes every token whose chain holds `key` (a `PublicKey` or key text) — the root
    /// agent's key or any hop's — under whatever agent id it was delegated.
    fn revoke_key(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> Result<()> {
        let key = convert::public_key(key)?;
        let inner = self.inner.clone();
        py.detach(move || read_guard(&inner).revoke_key(&key));
        Ok(())
    }
    /// Revokes every token issued for `principal`.
    fn revoke_principal(&self, py: Python<'_>, principal: Str) -> Result<()> {
        let inner = self.inner.clone();
        Ok(py.detach(move || read_guard(&inner).revoke_principal(&principal))?)
    }
    /// Revokes every token for `task`.
    fn revoke_task(&self, py: Python<'_>, task: Str) -> Result<()> {
        let inner = self.inner.clone();
        Ok(py.detach(move || read_guard(&inner).revoke_task(&task))?)
    }
    /// Adds every entry of a `RevocationSet` (e.g. one shared by a fleet).
    fn merge_revocations(&self, py: Python<'_>, revocations: PyRef<'_, RevocationSet>) -> Result<()> {
        let set = revocations.inner.clone();
        let inner = self.inner.clone();
        Ok(py.detach(move || read_guard(&inner).merge_revocations(&set))?)
    }
    /// A copy of the verifier's revocation set.
    #[getter]
    fn revocations(&self) -> RevocationSet {
        RevocationSet { inner: self.read(|v| v.revocations()) }
    }

    /// Adds a user policy (Datalog `allow if` / `deny if` / `check if`; facts and rules are
    /// refused). User policies run before the default rights policy, in the order added.
    #[pyo3(signature = (id, source))]
    fn add_policy(&self, py: Python<'_>, id: Str, source: Str) -> Result<()> {
        let inner = self.inner.clone();
        Ok(py.detach(move || {
            no_panic(|| {
                let mut v = match inner.write() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                v.add_policy(marque::Policy::new(id, source))
            })
        })?)
    }

    /// Raises `RevocationListStale` when `max_revocation_staleness` is set and the signed list is
    /// missing or older than that at `now` (default: the clock): the check `authorize` makes
    /// first, for layers that admit a token without a tool call.
    #[pyo3(signature = (*, now = None))]
    fn check_revocation_list_fresh(&self, now: Option<&Bound<'_, PyAny>>) -> Result<()> {
        let now = convert::now(now)?;
        self.read(|v| no_panic(|| v.check_revocation_list_fresh(now)))?;
        Ok(())
    }

    /// Why `token` is revoked under the verifier's current revocation set (a readable reason),
    /// or `None`. The token is parsed, not verified, and no policy runs: a cheap check for an
    /// HTTP layer before any tool call is decided.
    fn revocation_reason(&self, py: Python<'_>, token: &Bound<'_, PyAny>) -> Result<Option<String>> {
        let token = TokenInput::extract(token)?;
        let inner = self.inner.clone();
        Ok(py.detach(move || no_panic(|| Ok(read_guard(&inner).revocation_reason(&*token.parse()?))))?)
    }

    /// How many verified tokens the verifier remembers (`Limits.verified_cache_capacity`): a
    /// remembered token skips parsing and signature checks on the next `authorize`.
    fn verified_cache_len(&self) -> usize {
        self.read(|v| v.verified_cache_len())
    }

    /// The user policies, in evaluation order.
    #[getter]
    fn policies(&self) -> Vec<Policy> {
        self.read(|v| v.policies().iter().map(|p| Policy { inner: p.clone() }).collect())
    }
    /// The limits in force.
    #[getter]
    fn limits(&self) -> Limits {
        Limits { inner: self.read(|v| v.limits().clone()) }
    }
    /// The trusted root keys by key id.
    #[getter]
    fn root_keys(&self) -> std::collections::BTreeMap<u32, PublicKey> {
        self.read(|v| v.root_keys().into_iter().map(|(id, k)| (id, PublicKey { inner: k })).collect())
    }

    fn __repr__(&self) -> String {
        self.read(|v| {
            let roots: Vec<String> = v.root_keys().iter().map(|(_, k)| py_str_repr(&k.fingerprint())).collect();
            let policies: Vec<String> = v.policies().iter().map(|p| py_str_repr(&p.id)).collect();
            format!("Verifier(root_keys=[{}], policies=[{}])", roots.join(", "), policies.join(", "))
        })
    }
}

fn write_guard(inner: &RwLock<marque::Verifier>) -> std::sync::RwLockWriteGuard<'_, marque::Verifier> {
    match inner.write() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

pub(crate) fn read_guard(inner: &RwLock<marque::Verifier>) -> std::sync::RwLockReadGuard<'_, marque::Verifier> {
    match inner.read() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// The outcome of an authorization: allowed or denied, and everything an audit needs.
///
/// `bool(decision)` is `decision.allowed`. Denial is data: `code` (`not_authorized`,
/// `expired`, `revoked`, `depth_exceeded`, `invalid_proof`, `replayed_proof`) and readable
/// `reasons`. `into_result()` raises the matching exception when denied. Picklable (as a
/// record: unpickling re-verifies nothing).
#[pyclass(module = "marque", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Decision {
    pub inner: marque::Decision,
}

#[pymethods]
impl Decision {
    /// Whether the request is allowed.
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.allowed
    }
    /// When denied: the stable denial code; `None` when allowed.
    #[getter]
    fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }
    /// The acting agent (the last hop).
    #[getter]
    fn agent(&self) -> &str {
        &self.inner.agent
    }
    /// Its path in the spawn tree.
    #[getter]
    fn path(&self) -> &str {
        &self.inner.path
    }
    /// The acting agent's key fingerprint.
    #[getter]
    fn agent_key_fingerprint(&self) -> &str {
        &self.inner.agent_key_fingerprint
    }
    /// On whose behalf.
    #[getter]
    fn principal(&self) -> &str {
        &self.inner.principal
    }
    /// The task, if any.
    #[getter]
    fn task(&self) -> Option<&str> {
        self.inner.task.as_deref()
    }
    /// The workspace, if any.
    #[getter]
    fn workspace(&self) -> Option<&str> {
        self.inner.workspace.as_deref()
    }
    /// Agent ids of the delegation chain, root first.
    #[getter]
    fn chain(&self) -> Vec<String> {
        self.inner.chain.clone()
    }
    /// Key fingerprints of the delegation chain, root first (one per agent of `chain`).
    #[getter]
    fn chain_key_fingerprints(&self) -> Vec<String> {
        self.inner.chain_key_fingerprints.clone()
    }
    /// The policy that decided, if one did: a Datalog policy's id (allow or deny), or a Rego
    /// policy's `name@version#rule`.
    #[getter]
    fn policy(&self) -> Option<&str> {
        self.inner.policy.as_deref()
    }
    /// Readable reasons when denied.
    #[getter]
    fn reasons(&self) -> Vec<String> {
        self.inner.reasons.clone()
    }
    /// Revocation ids of every block, authority first.
    #[getter]
    fn revocation_ids(&self) -> Vec<String> {
        self.inner.revocation_ids.clone()
    }
    /// The acting agent's public key.
    #[getter]
    fn agent_key(&self) -> Result<Option<PublicKey>> {
        // Empty in decision records written before the field existed.
        if self.inner.agent_key.is_empty() {
            return Ok(None);
        }
        Ok(Some(PublicKey { inner: marque::PublicKey::from_hex(&self.inner.agent_key)? }))
    }
    /// The token id for audit: the revocation id of the last block.
    #[getter]
    fn token_id(&self) -> Option<&str> {
        self.inner.token_id()
    }
    /// The tool of the decided request.
    #[getter]
    fn tool(&self) -> &str {
        &self.inner.request.tool
    }
    /// The operation of the decided request.
    #[getter]
    fn operation(&self) -> &str {
        &self.inner.request.operation
    }
    /// The resource of the decided request.
    #[getter]
    fn resource(&self) -> &str {
        &self.inner.request.resource
    }
    /// The time used for the decision (seconds since the epoch).
    #[getter]
    fn time(&self) -> u64 {
        self.inner.time
    }
    /// The token's effective expiry.
    #[getter]
    fn expires_at(&self) -> u64 {
        self.inner.expires_at
    }
    /// Whether a proof of possession was verified for this decision.
    #[getter]
    fn proof_verified(&self) -> bool {
        self.inner.proof_verified
    }
    /// The approval that allowed this call, if one was needed: `{"approver", "key_fingerprint",
    /// "iat", "exp"}` (also in its audit event); else `None`.
    #[getter]
    fn approval<'py>(&self, py: Python<'py>) -> Result<Option<Bound<'py, PyAny>>> {
        self.inner
            .approval
            .as_ref()
            .map(|a| {
                let v = serde_json::json!({"approver": a.approver, "key_fingerprint": a.key_fingerprint, "iat": a.iat, "exp": a.exp});
                convert::value_to_py(py, &v)
            })
            .transpose()
    }
    /// For an `approval_required` denial: what to approve, `{"digest", "approvers", "reason"}`
    /// (an approver signs `digest` with `marque.approve`, the call is retried with
    /// `approval=`); else `None`.
    #[getter]
    fn approval_request<'py>(&self, py: Python<'py>) -> Result<Option<Bound<'py, PyAny>>> {
        self.inner
            .approval_request
            .as_ref()
            .map(|r| convert::value_to_py(py, &serde_json::json!({"digest": r.digest, "approvers": r.approvers, "reason": r.reason})))
            .transpose()
    }

    /// The `AuditEvent` recording this decision (`event_type` `"authorization"`; the denial
    /// code and reasons go into `attributes`). Append it to an `AuditLog`.
    fn to_audit_event(&self) -> AuditEvent {
        AuditEvent { inner: self.inner.to_audit_event() }
    }
    /// Token exchange: a short-lived compact EdDSA JWT (signed by `issuer`, `kid` = its
    /// fingerprint) that lets one downstream service (`audience`) accept this *allowed*
    /// decision: `sub` = acting agent, `act` = the delegation chain, `scope` =
    /// `tool:operation`, `resource` = the resource decided, `cnf.jkt` = the agent key's thumbprint, `exp` = decision time +
    /// `ttl_seconds`, never past the token's expiry. A denied decision raises `NotAuthorized`.
    #[pyo3(signature = (issuer, *, issuer_name, audience, ttl_seconds))]
    fn to_compact_jwt(
        &self,
        py: Python<'_>,
        issuer: &Bound<'_, PyAny>,
        issuer_name: Str,
        audience: Str,
        ttl_seconds: &Bound<'_, PyAny>,
    ) -> Result<String> {
        let signer = Signer::extract("issuer", issuer)?;
        let ttl = convert::seconds("ttl_seconds", ttl_seconds)?;
        let decision = &self.inner;
        py.detach(|| signer.finish(no_panic(|| decision.to_compact_jwt(signer.core(), &issuer_name, &audience, ttl))))
    }

    /// JSON text with stable field names (the core's form, byte for byte).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// The JSON form as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        convert::json_to_py(py, &self.inner.to_json())
    }
    /// Reads back `to_json()` output (a record only: it re-verifies nothing).
    #[staticmethod]
    fn from_json(json: Str) -> Result<Self> {
        Ok(Decision { inner: marque::Decision::from_json(&json)? })
    }
    /// Returns `self` when allowed; raises the exception of the denial code otherwise.
    fn into_result(slf: Py<Self>) -> Result<Py<Self>> {
        slf.get().inner.clone().into_result()?;
        Ok(slf)
    }
    fn __bool__(&self) -> bool {
        self.inner.allowed
    }
    fn __repr__(&self) -> String {
        let d = &self.inner;
        format!(
            "Decision(allowed={}, code={}, agent={}, path={}, tool={}, operation={}, resource={}, policy={})",
            if d.allowed { "True" } else { "False" },
            d.code.as_deref().map(py_str_repr).unwrap_or_else(|| "None".into()),
            py_str_repr(&d.agent),
            py_str_repr(&d.path),
            py_str_repr(&d.request.tool),
            py_str_repr(&d.request.operation),
            py_str_repr(&d.request.resource),
            d.policy.as_deref().map(py_str_repr).unwrap_or_else(|| "None".into()),
        )
    }
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((slf.get_type().getattr("from_json")?, (slf.get().inner.to_json(),)))
    }
}

/// The root keys of a JWKS document (`{"keys": [...]}`, a str or a dict) as `(key_id, key)`
/// pairs: Ed25519 (`OKP`) keys only (other key types and `use` other than `sig` are skipped);
/// `kid` is the key's fingerprint (or absent: the key's derived id) or a decimal root key id.
/// A private key, a duplicate id, a bad `kid` or `alg`, or no Ed25519 key at all raises
/// `InvalidKey`.
#[pyfunction]
pub fn parse_jwks(jwks: &Bound<'_, PyAny>) -> Result<Vec<(u32, PublicKey)>> {
    let doc = convert::to_json_text(jwks)?;
    Ok(marque::verify::parse_jwks(&doc)?.into_iter().map(|(id, inner)| (id, PublicKey { inner })).collect())
}

/// A JWKS document (JSON text) publishing root keys: `keys` is a dict `{key_id: key}`, or a
/// list of `(key_id, key)` pairs or of keys (a bare key gets its derived id). The inverse of
/// `parse_jwks`.
#[pyfunction]
pub fn to_jwks(keys: &Bound<'_, PyAny>) -> Result<String> {
    let pairs = if keys.is_instance_of::<PyDict>() {
        parse_root_keys(keys)?
    } else {
        let iter = keys.try_iter().map_err(|_| {
            type_error(format!("keys must be a dict {{key_id: key}} or a list, got {}", convert::type_name(keys)))
        })?;
        let mut pairs = Vec::new();
        for item in iter {
            let item = item?;
            pairs.push(match item.cast::<pyo3::types::PyTuple>() {
                Ok(t) if t.len() == 2 => {
                    (Some(convert::uint::<u32>("root key id", &t.get_item(0)?)?), convert::public_key(&t.get_item(1)?)?)
                }
                _ => (None, convert::public_key(&item)?),
            });
        }
        pairs
    };
    let out: Vec<(u32, marque::PublicKey)> = pairs
        .into_iter()
        .map(|(id, key)| (id.unwrap_or_else(|| marque::verify::derived_key_id(&key)), key))
        .collect();
    Ok(marque::verify::to_jwks(&out))
}
