//! Minting and reading tokens (`mint`, `Token`), mirroring `marque::token`.

use napi::bindgen_prelude::{Buffer, FromNapiValue, Object};
use napi::Env;
use napi_derive::napi;

use marque_node_derive::Options;

use crate::convert::{loose_arg, opt_now, seconds, type_of, BytesInput, KeyInput, Text, TimeInput};
use crate::errors::{no_panic, OrThrow, Result};
use crate::keys::PublicKey;
use crate::signer::{AsyncSignerInput, SignerInput};

/// A right a token grants: a tool, an operation and a resource prefix (`"*"` = any).
#[napi(object)]
#[derive(Clone)]
pub struct Right {
    /// Tool name, or `"*"`.
    pub tool: String,
    /// Operation, or `"*"`.
    pub operation: String,
    /// Resource prefix, matched on segment boundaries (`"src/"` covers `src/main.rs`, never
    /// `src2/x`), or `"*"`.
    pub resource: String,
}

/// A right as given to `mint`: `operation` and `resource` default to `"*"`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct RightInit {
    /// Tool name, or `"*"`.
    pub tool: String,
    /// Operation (default `"*"`).
    pub operation: Option<String>,
    /// Resource prefix (default `"*"`).
    pub resource: Option<String>,
}

/// A right as given to `mint`: its text or a [`RightInit`]. (Not napi's `Either`, which would
/// replace the object's own error — an unknown key, say — by "none of these types".)
pub enum RightInput {
    /// `"TOOL[:OPERATION[:RESOURCE]]"`.
    Text(String),
    /// An object.
    Object(RightInit),
}

loose_arg!(RightInput, "RightInit | string");

impl FromNapiValue for RightInput {
    unsafe fn from_napi_value(env: napi::sys::napi_env, v: napi::sys::napi_value) -> napi::Result<Self> {
        if type_of(env, v)? == napi::ValueType::String {
            // SAFETY: `v` is a string (napi_typeof above); handles of the running call.
            Ok(RightInput::Text(unsafe { String::from_napi_value(env, v) }?))
        } else {
            // SAFETY: `v` is a handle of the running call; the derived conversion checks it is an object with string fields.
            Ok(RightInput::Object(unsafe { RightInit::from_napi_value(env, v) }?))
        }
    }
}

/// One agent of a token's delegation chain.
#[napi(object)]
pub struct Hop {
    /// Agent id, e.g. `agent:reviewer`.
    pub agent: String,
    /// Path in the spawn tree, e.g. `/root/agent_a`.
    pub path: String,
    /// The agent's public key (hex).
    pub key: String,
    /// The key's fingerprint.
    pub fingerprint: String,
}

/// Options of [`mint`].
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Options)]
pub struct MintOptions {
    /// The agent the token is for (it sits at `/root`), e.g. `agent:orchestrator`.
    pub agent: String,
    /// That agent's public key.
    pub agent_key: KeyInput,
    /// On whose behalf, e.g. `user:alice`.
    pub principal: String,
    /// Task id.
    pub task: Option<String>,
    /// Workspace.
    pub workspace: Option<String>,
    /// Rights granted: objects, or `"TOOL[:OPERATION[:RESOURCE]]"` strings.
    #[napi(ts_type = "Array<RightInit | string>")]
    pub rights: Vec<RightInput>,
    /// Lifetime in seconds from `now`.
    pub ttl_seconds: f64,
    /// Maximum delegation depth (default 4).
    pub max_depth: Option<u32>,
    /// Issue time: seconds since the epoch or a `Date` (default: now).
    pub now: Option<TimeInput>,
    /// Root key id written into the token (default: derived from the root key).
    pub root_key_id: Option<u32>,
    /// The server(s) the token is for (RFC 8707 resource URIs, at most 16): a verifier whose
    /// `audience` is not one of them refuses it (`invalid_token`), and so does one without.
    #[napi(ts_type = "string | string[]")]
    pub audience: Option<napi::Either<String, Vec<String>>>,
}

pub(crate) fn right_to_js(r: &marque::Right) -> Right {
    Right {
        tool: r.tool.clone(),
        operation: r.operation.clone(),
        resource: r.resource.clone(),
    }
}

fn mint_params(options: MintOptions) -> Result<marque::MintParams> {
    let mut params = marque::MintParams::new(
        options.agent,
        options.agent_key.resolve()?,
        options.principal,
    );
    params.task = options.task;
    params.workspace = options.workspace;
    for r in options.rights {
        params.rights.push(match r {
            RightInput::Text(text) => marque::Right::parse(&text).or_throw()?,
            RightInput::Object(o) => marque::Right::new(
                o.tool,
                o.operation.unwrap_or_else(|| "*".into()),
                o.resource.unwrap_or_else(|| "*".into()),
            ),
        });
    }
    params.ttl_seconds = seconds("ttlSeconds", options.ttl_seconds)?;
    if let Some(d) = options.max_depth {
        params.max_depth = d;
    }
    params.now = opt_now(options.now)?;
    params.root_key_id = options.root_key_id;
    let audiences = match options.audience {
        None => Vec::new(),
        Some(napi::Either::A(one)) => vec![one],
        Some(napi::Either::B(many)) => many,
    };
    for uri in audiences {
        params.audiences.push(marque::audience::Audience::parse(&uri).or_throw()?);
    }
    Ok(params)
}

/// Mints a token for `options.agent`, signed by the root: a `KeyPair`, or a `Signer` whose key
/// lives elsewhere (a KMS, an HSM); a signer that fails or returns a bad signature throws
/// `signer_failed`.
#[napi]
pub fn mint(root: SignerInput, options: MintOptions) -> Result<Token> {
    let params = mint_params(options)?;
    root.with(|s| marque::Token::mint(s, &params))
        .map(Token::wrap)
}

/// `mint` with an `AsyncSigner` (whose `sign` may return a Promise, as a KMS client's does),
/// run off the JS thread; resolves to the `Token`, rejects with a `MarqueError`.
#[napi(strict, ts_return_type = "Promise<Token>")]
pub fn mint_async<'env>(
    env: &'env Env,
    root: AsyncSignerInput,
    options: MintOptions,
) -> Result<Object<'env>> {
    crate::errors::settle(env, (|| {
        let params = mint_params(options)?;
        root.spawn(env, move |s| marque::Token::mint(s, &params), Token::wrap)
    })())
}

/// A marque token (Biscuit v3). Parsed, *not trusted*: only a `Verifier` decides.
#[napi]
#[derive(Clone)]
pub struct Token {
    /// Shared, not copied, when a `Token` is passed back into a call (proofs, authorize…).
    pub(crate) inner: std::sync::Arc<marque::Token>,
}

impl Token {
    pub(crate) fn wrap(inner: marque::Token) -> Self {
        Token { inner: std::sync::Arc::new(inner) }
    }
}

#[napi]
impl Token {
    /// Parses base64url text (padded or not). Does not verify signatures.
    #[napi(factory)]
    pub fn from_base64(#[napi(ts_arg_type = "string")] text: Text) -> Result<Self> {
        let text = text.0;
        no_panic(|| marque::Token::from_base64(&text).or_throw().map(Self::wrap))
    }

    /// Parses raw bytes. Does not verify signatures.
    #[napi(factory)]
    pub fn from_bytes(#[napi(ts_arg_type = "Uint8Array")] bytes: BytesInput) -> Result<Self> {
        no_panic(|| {
            marque::Token::from_bytes(&bytes.into_vec())
                .or_throw()
                .map(Self::wrap)
        })
    }

    /// base64url with padding.
    #[napi]
    pub fn to_base64(&self) -> String {
        self.inner.to_base64()
    }

    /// The raw bytes.
    #[napi]
    pub fn to_bytes(&self) -> Buffer {
        self.inner.to_bytes().to_vec().into()
    }

    /// `JSON.stringify(token)` gives the base64url text.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> String {
        self.inner.to_base64()
    }

    /// Readable Datalog of every block.
    #[napi]
    pub fn to_datalog(&self) -> String {
        self.inner.to_datalog()
    }

    /// The agent holding the token (the last hop).
    #[napi(getter)]
    pub fn agent(&self) -> String {
        self.inner.agent().to_string()
    }

    /// The holder's path, e.g. `/root/agent_a`.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.inner.path().to_string()
    }

    /// The holder's public key.
    #[napi(getter)]
    pub fn holder_key(&self) -> PublicKey {
        PublicKey::wrap(*self.inner.holder_key())
    }

    /// On whose behalf.
    #[napi(getter)]
    pub fn principal(&self) -> String {
        self.inner.principal().to_string()
    }

    /// The task, if any.
    #[napi(getter)]
    pub fn task(&self) -> Option<String> {
        self.inner.task().map(str::to_string)
    }

    /// The workspace, if any.
    #[napi(getter)]
    pub fn workspace(&self) -> Option<String> {
        self.inner.workspace().map(str::to_string)
    }

    /// Rights of the authority block (delegations narrow them further).
    #[napi(getter)]
    pub fn rights(&self) -> Vec<Right> {
        self.inner.rights().iter().map(right_to_js).collect()
    }

    /// Issue time of the authority block (seconds since the epoch).
    #[napi(getter)]
    pub fn issued_at(&self) -> f64 {
        self.inner.issued_at() as f64
    }

    /// The effective expiry (earliest of all blocks; seconds since the epoch).
    #[napi(getter)]
    pub fn expires_at(&self) -> f64 {
        self.inner.expires_at() as f64
    }

    /// Number of delegation hops so far.
    #[napi(getter)]
    pub fn depth(&self) -> u32 {
        self.inner.depth()
    }

    /// The effective maximum depth.
    #[napi(getter)]
    pub fn max_depth(&self) -> u32 {
        self.inner.max_depth()
    }

    /// Whether the token is sealed (cannot be delegated further).
    #[napi(getter)]
    pub fn sealed(&self) -> bool {
        self.inner.is_sealed()
    }

    /// The root key id written at mint time, if any.
    #[napi(getter)]
    pub fn root_key_id(&self) -> Option<u32> {
        self.inner.root_key_id()
    }

    /// The servers the token is bound to (RFC 8707), canonical; empty: any server.
    #[napi(getter)]
    pub fn audience(&self) -> Vec<String> {
        self.inner.audience().iter().map(|a| a.as_str().to_string()).collect()
    }

    /// The delegation chain, root first.
    #[napi(getter)]
    pub fn chain(&self) -> Vec<Hop> {
        self.inner
            .chain()
            .iter()
            .map(|h| Hop {
                agent: h.agent.clone(),
                path: h.path.clone(),
                key: h.key.to_hex(),
                fingerprint: h.fingerprint(),
            })
            .collect()
    }

    /// Revocation ids (hex), one per block, authority first.
    #[napi(getter)]
    pub fn revocation_ids(&self) -> Vec<String> {
        self.inner.revocation_ids().to_vec()
    }

    /// Seals the token: nobody can delegate it further.
    #[napi]
    pub fn seal(&self) -> Result<Token> {
        no_panic(|| self.inner.seal().or_throw().map(Token::wrap))
    }
}
