//! Revocation (the core's `revocation` module): revoke a block (and everything delegated below
//! it), an agent, a principal or a task; share the set between verifiers as plain JSON.

use marque::RevocationSet;
use wasm_bindgen::prelude::*;

use crate::convert::{string, to_js};
use crate::errors::{JsError, JsResult};
use crate::verify::Verifier;

#[wasm_bindgen]
impl Verifier {
    /// Revokes a block revocation id (and everything delegated below that block).
    pub fn revoke(&self, revocation_id: JsValue) -> JsResult<()> {
        self.inner.revoke(&string(&revocation_id, "revocationId")?);
        Ok(())
    }

    /// Revokes every token naming this agent in its chain.
    #[wasm_bindgen(js_name = revokeAgent)]
    pub fn revoke_agent(&self, agent_id: JsValue) -> JsResult<()> {
        self.inner.revoke_agent(&string(&agent_id, "agentId")?);
        Ok(())
    }

    /// Revokes every token issued on behalf of this principal.
    #[wasm_bindgen(js_name = revokePrincipal)]
    pub fn revoke_principal(&self, principal: JsValue) -> JsResult<()> {
        self.inner
            .revoke_principal(&string(&principal, "principal")?);
        Ok(())
    }

    /// Revokes every token for this task.
    #[wasm_bindgen(js_name = revokeTask)]
    pub fn revoke_task(&self, task: JsValue) -> JsResult<()> {
        self.inner.revoke_task(&string(&task, "task")?);
        Ok(())
    }

    /// A copy of the revocation set: `{ids, agents, principals, tasks}`.
    #[wasm_bindgen(getter)]
    pub fn revocations(&self) -> JsResult<JsValue> {
        to_js(&self.inner.revocations())
    }

    /// Adds every entry of `set` (an object like `revocations`, or its JSON text).
    #[wasm_bindgen(js_name = mergeRevocations)]
    pub fn merge_revocations(&self, set: JsValue) -> JsResult<()> {
        let json = match set.as_string() {
            Some(s) => s,
            None if set.is_object() => js_sys::JSON::stringify(&set)
                .ok()
                .and_then(|s| s.as_string())
                .ok_or_else(|| JsError::argument("revocation set is not JSON-serializable"))?,
            None => {
                return Err(JsError::argument(
                    "revocation set must be an object or JSON text",
                ))
            }
        };
        self.inner
            .merge_revocations(&RevocationSet::from_json(&json)?);
        Ok(())
    }
}
