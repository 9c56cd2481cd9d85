//! Revocation (the core's `revocation` module): revoke a block (and everything delegated below
//! it), an agent, an agent key, a principal or a task (every entry checked: `invalid_argument`); share the set between verifiers as plain JSON, or as a
//! `RevocationList` signed by an operator key (sequence number, issue time) that verifiers load
//! only from trusted operators and only forward (`revocation_list_rollback`).

use marque::RevocationSet;
use wasm_bindgen::prelude::*;

use crate::convert::{instance, json_text, string, to_js, Options};
use crate::errors::JsResult;
use crate::keys::PublicKey;
use crate::verify::Verifier;

/// A revocation set signed by an operator key. Parsing checks the signature against the issuer
/// it names; whether the issuer is trusted is the verifier's decision (`operatorKeys`).
#[wasm_bindgen]
#[derive(Clone)]
pub struct RevocationList {
    inner: marque::RevocationList,
}

fn set(v: &JsValue) -> JsResult<RevocationSet> {
    Ok(RevocationSet::from_json(&json_text(v, "revocation set")?)?)
}

#[wasm_bindgen]
impl RevocationList {
    /// Signs `revocations` (`{ids?, agents?, principals?, tasks?, keys?}` or its JSON text) as list
    /// number `options.sequence`, issued at `options.issuedAt` (default: now), with
    /// `options.signer` (a `KeyPair` or `{publicKey, sign}`). Not in the verifier-only build.
    #[cfg(feature = "full")]
    pub fn sign(revocations: JsValue, options: JsValue) -> JsResult<RevocationList> {
        let revoked = set(&revocations)?;
        let mut o = Options::new(&options, "revocation list options")?;
        let sequence = o.opt_uint("sequence")?.ok_or_else(|| {
            crate::errors::JsError::argument("revocation list options: `sequence` is required")
        })?;
        let signer =
            crate::signer::signer(&o.required("signer")?, "revocation list options.signer")?;
        let issued_at = match o.get("issuedAt")? {
            Some(v) => crate::convert::time(&v, "revocation list options.issuedAt")?,
            None => crate::convert::clock_now(),
        };
        o.finish()?;
        Ok(RevocationList {
            inner: marque::RevocationList::sign(&revoked, sequence, Some(issued_at), signer.get())?,
        })
    }

    /// Parses a signed list (JSON text or the parsed object) and checks its signature:
    /// `revocation_list_invalid` when malformed, `invalid_signature` when it does not verify.
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(json: JsValue) -> JsResult<RevocationList> {
        Ok(RevocationList {
            inner: marque::RevocationList::from_json(&json_text(&json, "revocation list")?)?,
        })
    }

    /// The signed document (RFC 8785 canonical JSON).
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// `JSON.stringify(list)` gives the signed document.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json_value(&self) -> JsValue {
        js_sys::JSON::parse(&self.inner.to_json()).unwrap_or(JsValue::NULL)
    }

    /// The operator key that signed it.
    #[wasm_bindgen(getter)]
    pub fn issuer(&self) -> PublicKey {
        PublicKey {
            inner: *self.inner.issuer(),
        }
    }

    /// When it was issued (seconds since the epoch).
    #[wasm_bindgen(getter, js_name = issuedAt)]
    pub fn issued_at(&self) -> f64 {
        self.inner.issued_at() as f64
    }

    /// Its sequence number.
    #[wasm_bindgen(getter)]
    pub fn sequence(&self) -> f64 {
        self.inner.sequence() as f64
    }

    /// What it revokes: `{ids, agents, principals, tasks}`, plus `keys` when keys are revoked.
    #[wasm_bindgen(getter)]
    pub fn revoked(&self) -> JsResult<JsValue> {
        to_js(self.inner.revoked())
    }

    /// Internal: a second handle on the same list (see `convert::instance`).
    #[wasm_bindgen(js_name = "__clone")]
    pub fn clone_handle(&self) -> RevocationList {
        self.clone()
    }
}

#[wasm_bindgen]
impl Verifier {
    /// Revokes a block revocation id (and everything delegated below that block): the 128 hex
    /// digits of `token.revocationIds`. A malformed id — such as the 16-digit prefix a
    /// revocation reason shows — throws `invalid_argument` (it would revoke nothing).
    pub fn revoke(&self, revocation_id: JsValue) -> JsResult<()> {
        Ok(self.inner.revoke(&string(&revocation_id, "revocationId")?)?)
    }

    /// Revokes every token naming this agent in its chain (`invalid_argument` unless it is an
    /// agent id).
    #[wasm_bindgen(js_name = revokeAgent)]
    pub fn revoke_agent(&self, agent_id: JsValue) -> JsResult<()> {
        Ok(self.inner.revoke_agent(&string(&agent_id, "agentId")?)?)
    }

    /// Revokes every token whose chain holds this public key (a `PublicKey`, key text, 32 bytes
    /// or a JWK) — the root agent's or any hop's — under whatever agent id it was delegated.
    #[wasm_bindgen(js_name = revokeKey)]
    pub fn revoke_key(&self, key: JsValue) -> JsResult<()> {
        self.inner.revoke_key(&crate::keys::public_key(&key, "key")?);
        Ok(())
    }

    /// Revokes every token issued on behalf of this principal.
    #[wasm_bindgen(js_name = revokePrincipal)]
    pub fn revoke_principal(&self, principal: JsValue) -> JsResult<()> {
        Ok(self.inner.revoke_principal(&string(&principal, "principal")?)?)
    }

    /// Revokes every token for this task.
    #[wasm_bindgen(js_name = revokeTask)]
    pub fn revoke_task(&self, task: JsValue) -> JsResult<()> {
        Ok(self.inner.revoke_task(&string(&task, "task")?)?)
    }

    /// A copy of the revocation set: `{ids, agents, principals, tasks}`, plus `keys` when keys
    /// are revoked.
    #[wasm_bindgen(getter)]
    pub fn revocations(&self) -> JsResult<JsValue> {
        to_js(&self.inner.revocations())
    }

    /// Adds every entry of `set` (an object like `revocations`, or its JSON text).
    #[wasm_bindgen(js_name = mergeRevocations)]
    pub fn merge_revocations(&self, revocations: JsValue) -> JsResult<()> {
        Ok(self.inner.merge_revocations(&set(&revocations)?)?)
    }

    /// Loads a signed revocation list (a `RevocationList` or its JSON), replacing the previous
    /// one: `revocation_list_invalid` unless a trusted operator key signed it (or when it is
    /// issued more than 5 minutes after `options.now`), `revocation_list_rollback` unless it
    /// moves forward. `false` when it is the list already loaded.
    #[wasm_bindgen(js_name = loadRevocationList)]
    pub fn load_revocation_list(&self, list: JsValue, options: JsValue) -> JsResult<bool> {
        let list = match instance::<RevocationList>(&list) {
            Some(l) => l.inner,
            None => marque::RevocationList::from_json(&json_text(&list, "revocation list")?)?,
        };
        let mut o = Options::optional(&options, "loadRevocationList options")?;
        let now = o.now()?;
        o.finish()?;
        Ok(self.inner.load_revocation_list(&list, Some(now))?)
    }

    /// The signed revocation list in force, or `null`.
    #[wasm_bindgen(getter, js_name = revocationList, unchecked_return_type = "RevocationList | null")]
    pub fn revocation_list(&self) -> JsValue {
        self.inner
            .revocation_list()
            .map(|inner| RevocationList { inner }.into())
            .unwrap_or(JsValue::NULL)
    }
}
