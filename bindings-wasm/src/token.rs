//! `Token` and `mint` (the core's `token` module): a Biscuit v3 token following the marque
//! profile. A parsed `Token` is not trusted; only a `Verifier` decides.

use std::rc::Rc;

use marque::policy::Right;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::convert::{bytes, instance, string, to_js, Options};
use crate::errors::{JsError, JsResult};
use crate::keys::PublicKey;

/// A marque token. Parsed, not trusted.
#[wasm_bindgen]
pub struct Token {
    pub(crate) inner: Rc<marque::Token>,
}

impl Token {
    pub(crate) fn wrap(t: marque::Token) -> Token {
        Token { inner: Rc::new(t) }
    }
}

/// One hop of the delegation chain, as JavaScript sees it.
#[derive(Serialize)]
struct HopJs<'a> {
    agent: &'a str,
    path: &'a str,
    key: String,
    fingerprint: String,
}

#[wasm_bindgen]
impl Token {
    /// Parses base64url text (padded or not). Does not verify signatures.
    #[wasm_bindgen(js_name = fromBase64)]
    pub fn from_base64(text: JsValue) -> JsResult<Token> {
        Ok(Token::wrap(marque::Token::from_base64(&string(
            &text, "text",
        )?)?))
    }

    /// Parses raw bytes. Does not verify signatures.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(raw: JsValue) -> JsResult<Token> {
        Ok(Token::wrap(marque::Token::from_bytes(&bytes(
            &raw, "bytes",
        )?)?))
    }

    /// base64url with padding.
    #[wasm_bindgen(js_name = toBase64)]
    pub fn to_base64(&self) -> String {
        self.inner.to_base64()
    }

    /// The raw bytes.
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes().to_vec()
    }

    /// `JSON.stringify(token)` gives the base64url text.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> String {
        self.inner.to_base64()
    }

    /// The base64url text.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        self.inner.to_base64()
    }

    /// Readable Datalog of every block.
    #[wasm_bindgen(js_name = toDatalog)]
    pub fn to_datalog(&self) -> String {
        self.inner.to_datalog()
    }

    /// What the token claims, as a plain object (the CLI's `marque inspect` JSON).
    pub fn inspect(&self) -> JsResult<JsValue> {
        to_js(&self.inner.to_json())
    }

    /// The agent holding the token (the last hop).
    #[wasm_bindgen(getter)]
    pub fn agent(&self) -> String {
        self.inner.agent().to_owned()
    }

    /// The holder's path, e.g. `/root/agent_a`.
    #[wasm_bindgen(getter)]
    pub fn path(&self) -> String {
        self.inner.path().to_owned()
    }

    /// The holder's public key.
    #[wasm_bindgen(getter, js_name = holderKey)]
    pub fn holder_key(&self) -> PublicKey {
        PublicKey {
            inner: *self.inner.holder_key(),
        }
    }

    /// On whose behalf.
    #[wasm_bindgen(getter)]
    pub fn principal(&self) -> String {
        self.inner.principal().to_owned()
    }

    /// The task, or `null` (as in `@marque/node` and in decisions).
    #[wasm_bindgen(getter, unchecked_return_type = "string | null")]
    pub fn task(&self) -> JsValue {
        self.inner
            .task()
            .map(JsValue::from_str)
            .unwrap_or(JsValue::NULL)
    }

    /// The workspace, or `null`.
    #[wasm_bindgen(getter, unchecked_return_type = "string | null")]
    pub fn workspace(&self) -> JsValue {
        self.inner
            .workspace()
            .map(JsValue::from_str)
            .unwrap_or(JsValue::NULL)
    }

    /// Rights of the authority block.
    #[wasm_bindgen(getter)]
    pub fn rights(&self) -> JsResult<JsValue> {
        to_js(self.inner.rights())
    }

    /// Issue time (seconds since the epoch).
    #[wasm_bindgen(getter, js_name = issuedAt)]
    pub fn issued_at(&self) -> f64 {
        self.inner.issued_at() as f64
    }

    /// Effective expiry (seconds since the epoch).
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> f64 {
        self.inner.expires_at() as f64
    }

    /// Number of delegation hops so far.
    #[wasm_bindgen(getter)]
    pub fn depth(&self) -> u32 {
        self.inner.depth()
    }

    /// Effective maximum depth.
    #[wasm_bindgen(getter, js_name = maxDepth)]
    pub fn max_depth(&self) -> u32 {
        self.inner.max_depth()
    }

    /// Whether the token is sealed.
    #[wasm_bindgen(getter)]
    pub fn sealed(&self) -> bool {
        self.inner.is_sealed()
    }

    /// The root key id written at mint time, or `null`.
    #[wasm_bindgen(getter, js_name = rootKeyId, unchecked_return_type = "number | null")]
    pub fn root_key_id(&self) -> JsValue {
        self.inner
            .root_key_id()
            .map(|id| JsValue::from_f64(f64::from(id)))
            .unwrap_or(JsValue::NULL)
    }

    /// The delegation chain, root first: `{agent, path, key, fingerprint}` objects.
    #[wasm_bindgen(getter)]
    pub fn chain(&self) -> JsResult<JsValue> {
        let hops: Vec<HopJs<'_>> = self
            .inner
            .chain()
            .iter()
            .map(|h| HopJs {
                agent: &h.agent,
                path: &h.path,
                key: h.key.to_hex(),
                fingerprint: h.fingerprint(),
            })
            .collect();
        to_js(&hops)
    }

    /// The servers the token is bound to (RFC 8707), canonical; empty: any server.
    #[wasm_bindgen(getter)]
    pub fn audience(&self) -> Vec<String> {
        self.inner.audience().iter().map(|a| a.as_str().to_string()).collect()
    }

    /// Revocation ids (hex), one per block, authority first.
    #[wasm_bindgen(getter, js_name = revocationIds)]
    pub fn revocation_ids(&self) -> Vec<String> {
        self.inner.revocation_ids().to_vec()
    }

    /// Seals the token: nobody can delegate it further.
    #[cfg(feature = "full")]
    pub fn seal(&self) -> JsResult<Token> {
        Ok(Token::wrap(self.inner.seal()?))
    }

    /// Internal: a second handle on the same token (see `convert::instance`).
    #[wasm_bindgen(js_name = "__clone")]
    pub fn clone_handle(&self) -> Token {
        Token {
            inner: Rc::clone(&self.inner),
        }
    }
}

/// A token argument: a `Token`, its base64url text or its raw bytes.
pub enum TokenArg {
    /// base64url text (decoded under the verifier's limits).
    Text(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A parsed token.
    Parsed(Rc<marque::Token>),
}

impl TokenArg {
    /// Reads a token argument.
    pub fn from_js(v: &JsValue, what: &str) -> JsResult<TokenArg> {
        if let Some(s) = v.as_string() {
            return Ok(TokenArg::Text(s));
        }
        if let Some(t) = instance::<Token>(v) {
            return Ok(TokenArg::Parsed(t.inner));
        }
        if v.is_instance_of::<js_sys::Uint8Array>() {
            return Ok(TokenArg::Bytes(bytes(v, what)?));
        }
        Err(JsError::argument(format!(
            "{what} must be a Token, base64url text or a Uint8Array"
        )))
    }

    /// Parses it (not trusted).
    #[cfg_attr(not(feature = "full"), allow(dead_code))]
    pub fn parse(self) -> JsResult<Rc<marque::Token>> {
        Ok(match self {
            TokenArg::Text(s) => Rc::new(marque::Token::from_base64(&s)?),
            TokenArg::Bytes(b) => Rc::new(marque::Token::from_bytes(&b)?),
            TokenArg::Parsed(t) => t,
        })
    }
}

/// A right: `{tool, operation?, resource?}` or `"TOOL[:OPERATION[:RESOURCE]]"`.
pub fn right(v: &JsValue, what: &'static str) -> JsResult<Right> {
    if let Some(text) = v.as_string() {
        return Ok(Right::parse(&text)?);
    }
    let mut o = Options::new(v, what)?;
    let tool = o.string("tool")?;
    let operation = o.opt_string("operation")?.unwrap_or_else(|| "*".into());
    let resource = o.opt_string("resource")?.unwrap_or_else(|| "*".into());
    o.finish()?;
    let r = Right::new(tool, operation, resource);
    r.validate()?;
    Ok(r)
}

/// Mints a token for `options.agent`, signed by the root signer (`KeyPair` or `{publicKey, sign}`).
#[cfg(feature = "full")]
#[wasm_bindgen]
pub fn mint(root: JsValue, options: JsValue) -> JsResult<Token> {
    use marque::token::MintParams;
    let root = crate::signer::signer(&root, "root")?;
    let mut o = Options::new(&options, "mint options")?;
    let agent = o.string("agent")?;
    let agent_key = crate::keys::public_key(&o.required("agentKey")?, "mint options.agentKey")?;
    let principal = o.string("principal")?;
    let mut params = MintParams::new(agent, agent_key, principal);
    params.task = o.opt_string("task")?;
    params.workspace = o.opt_string("workspace")?;
    let rights = crate::convert::array(&o.required("rights")?, "mint options.rights")?;
    params.rights = rights
        .iter()
        .map(|r| right(r, "mint options.rights[]"))
        .collect::<JsResult<_>>()?;
    params.ttl_seconds = o
        .opt_uint("ttlSeconds")?
        .ok_or_else(|| JsError::argument("mint options: `ttlSeconds` is required"))?;
    if let Some(d) = o.opt_uint("maxDepth")? {
        params.max_depth = u32::try_from(d)
            .map_err(|_| JsError::argument("mint options.maxDepth is too large"))?;
    }
    if let Some(id) = o.opt_uint("rootKeyId")? {
        params.root_key_id = Some(
            u32::try_from(id)
                .map_err(|_| JsError::argument("mint options.rootKeyId must fit in 32 bits"))?,
        );
    }
    if let Some(v) = o.get("audience")? {
        let uris = match v.as_string() {
            Some(one) => vec![one],
            None => crate::convert::strings(&v, "mint options.audience")?,
        };
        for uri in uris {
            params.audiences.push(marque::audience::Audience::parse(&uri)?);
        }
    }
    params.now = Some(o.now()?);
    o.finish()?;
    Ok(Token::wrap(marque::Token::mint(root.get(), &params)?))
}
