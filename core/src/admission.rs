//! Token admission at the door: may this bearer token enter at all?
//!
//! An HTTP layer (an MCP server's bearer middleware, an edge gateway) admits a token before any
//! request is decided. [`Verifier::admit`] applies, in this order and failing closed, every rule
//! that does not depend on a request: the revocation-list staleness rule
//! (`revocation_list_stale`), the token's signatures and structure (`invalid_token`,
//! `invalid_signature`, `unknown_root_key`, `limits_exceeded`, …), its expiry (`expired`),
//! revocation (`revoked`) and delegation depth (`depth_exceeded`). It returns an [`Admission`]:
//! who holds the token (agent, path, chain, principal, task), until when, and its *effective*
//! rights — the authority block's rights narrowed by every hop's tools, operations and resource
//! prefix ([`effective_rights`]) — as OAuth scope strings `tool:operation:resource`. Admission
//! grants nothing by itself: every request is still decided by
//! [`Verifier::authorize`](crate::Verifier::authorize) (rights, delegation checks, policies,
//! proofs). The HTTP side of admission (parsing `Authorization`, `WWW-Authenticate` challenges,
//! status codes, RFC 9728 metadata) is [`crate::bearer`].
//!
//! ```
//! use marque::{DelegateParams, KeyPair, MintParams, Right, Token, Verifier};
//! let (root, orch, reader) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]));
//! let now = 1_767_225_600;
//! let token = Token::mint(&root, &MintParams::new("agent:orch", orch.public_key(), "user:alice")
//!     .right(Right::new("*", "*", "*")).now(now))?
//!     .delegate(&orch, &DelegateParams::new("agent:reader", reader.public_key())
//!         .tools(["read_file"]).operations(["read"]).resource_prefix("src/").now(now))?;
//! let verifier = Verifier::new([root.public_key()]);
//! let admitted = verifier.admit(token.to_bytes(), Some(now))?;
//! assert_eq!(admitted.agent, "agent:reader");
//! assert_eq!(admitted.scopes, ["read_file:read:src/"]); // not the root's "*:*:*"
//! verifier.revoke_agent("agent:reader");
//! assert_eq!(verifier.admit(token.to_bytes(), Some(now)).unwrap_err().code(), "revoked");
//! # Ok::<(), marque::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::policy::{Request, Right, ANY};
use crate::token::{decode_base64, resolve_now, Claims, Token};
use crate::verify::Verifier;

/// Most scopes an [`Admission`] reports (the first ones in the authority block's order); the
/// rights beyond are still honoured by `authorize`, they are only not listed.
pub const MAX_SCOPES: usize = 256;

/// What [`Verifier::admit`] returns for an admitted token: the holder's identity and effective
/// rights. JSON form: these field names, snake_case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admission {
    /// The acting agent (the last hop).
    pub agent: String,
    /// Its path in the spawn tree.
    pub path: String,
    /// The acting agent's key fingerprint.
    pub agent_key_fingerprint: String,
    /// The acting agent's public key (hex).
    pub agent_key: String,
    /// On whose behalf.
    pub principal: String,
    /// The task, if any.
    pub task: Option<String>,
    /// The workspace, if any.
    pub workspace: Option<String>,
    /// Agent ids of the delegation chain, root first.
    pub chain: Vec<String>,
    /// When the authority block was issued.
    pub issued_at: u64,
    /// The token's effective expiry (the earliest of every block's).
    pub expires_at: u64,
    /// The root key id the token names, if any.
    pub root_key_id: Option<u32>,
    /// The token id: the revocation id of the last block.
    pub token_id: String,
    /// Revocation ids of every block, authority first.
    pub revocation_ids: Vec<String>,
    /// The effective rights as scope strings `tool:operation:resource` ([`effective_rights`]),
    /// at most [`MAX_SCOPES`]; empty when the hops narrowed the rights to nothing.
    pub scopes: Vec<String>,
    /// The time used for the admission.
    pub time: u64,
}

impl Admission {
    /// JSON form (stable field names).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The OAuth `AuthInfo` a bearer-auth layer records for this admission of the bearer text
    /// `token`, bound to the server `resource` (the verifier's audience, if any). See [`AuthInfo`].
    pub fn auth_info(&self, token: &str, resource: Option<&str>) -> AuthInfo {
        AuthInfo {
            token: token.to_string(),
            client_id: self.agent.clone(),
            scopes: self.scopes.clone(),
            expires_at: self.expires_at,
            resource: resource.map(str::to_string),
            extra: AuthInfoExtra {
                marque: AgentIdentity {
                    agent: self.agent.clone(),
                    path: self.path.clone(),
                    principal: self.principal.clone(),
                    task: self.task.clone(),
                    workspace: self.workspace.clone(),
                    agent_key_fingerprint: self.agent_key_fingerprint.clone(),
                    agent_key: self.agent_key.clone(),
                    chain: self.chain.clone(),
                    token_id: self.token_id.clone(),
                    revocation_ids: self.revocation_ids.clone(),
                },
            },
        }
    }
}

/// What an admitted bearer token is to an OAuth bearer-auth layer: the record the MCP SDKs call
/// `AuthInfo` (`token`, `clientId`, `scopes`, `expiresAt`, `resource`, `extra`), built once here
/// for every binding (the Node MCP helpers and the Wasm edge both return it). `clientId` is the
/// acting agent, `scopes` its effective narrowed rights ([`Admission::scopes`]), `resource` the
/// server the verifier is for (RFC 8707: the SDK's `expectedResource` check compares it) and
/// `extra.marque` the agent identity. JSON form: these camelCase names (the SDKs'); `resource`
/// is left out when the verifier has no audience. It grants nothing: every call is still
/// authorized by [`Verifier::authorize`](crate::Verifier::authorize).
///
/// ```
/// use marque::{audience::Audience, KeyPair, MintParams, Right, Token, Verifier};
/// let (root, agent) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]));
/// let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:alice")
///     .right(Right::new("read_file", "read", "src/")).now(1_767_225_600))?.to_base64();
/// let verifier = Verifier::new([root.public_key()]).with_audience(Some(Audience::parse("https://mcp.example.com/mcp")?));
/// let info = verifier.auth_info(&token, Some(1_767_225_600))?;
/// assert_eq!((info.client_id.as_str(), info.resource.as_deref()), ("agent:a", Some("https://mcp.example.com/mcp")));
/// assert!(info.to_json().starts_with(r#"{"token":"#));
/// # Ok::<(), marque::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthInfo {
    /// The bearer token, as given.
    pub token: String,
    /// The acting agent.
    pub client_id: String,
    /// The effective rights, `tool:operation:resource`.
    pub scopes: Vec<String>,
    /// The token's effective expiry (seconds).
    pub expires_at: u64,
    /// The server the verifier is for (its audience), if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// `{ marque: AgentIdentity }`.
    pub extra: AuthInfoExtra,
}

/// [`AuthInfo::extra`]: marque's part under the key `marque`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuthInfoExtra {
    /// The agent identity.
    pub marque: AgentIdentity,
}

/// Who holds an admitted token, as [`AuthInfo`] carries it (camelCase JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentIdentity {
    /// The acting agent.
    pub agent: String,
    /// Its path in the spawn tree.
    pub path: String,
    /// On whose behalf.
    pub principal: String,
    /// The task, if any (`null` in JSON otherwise).
    pub task: Option<String>,
    /// The workspace, if any.
    pub workspace: Option<String>,
    /// The acting agent's key fingerprint.
    pub agent_key_fingerprint: String,
    /// The acting agent's public key (hex).
    pub agent_key: String,
    /// Agent ids of the delegation chain, root first.
    pub chain: Vec<String>,
    /// The token id (the last block's revocation id).
    pub token_id: String,
    /// Revocation ids of every block, authority first.
    pub revocation_ids: Vec<String>,
}

impl AuthInfo {
    /// JSON form (the SDKs' camelCase names).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Verifier {
    /// Admits `token` (raw bytes) at `now` (default: the clock): staleness of the signed
    /// revocation list, signatures and structure, expiry, revocation and depth, in that order.
    /// Every refusal is an error with its stable code; see the [module](crate::admission) docs.
    pub fn admit(&self, token: &[u8], now: Option<u64>) -> Result<Admission> {
        let now = resolve_now(now)?;
        self.check_revocation_list_fresh(Some(now))?;
        let verified = self.verify_cached(token)?;
        let claims = &verified.claims;
        let expires_at = claims.expires_at();
        if now > expires_at {
            return Err(Error::new(ErrorKind::Expired, format!("the token expired at {expires_at} (now {now})")));
        }
        if let Some(r) = self.revoked(claims) {
            return Err(Error::new(ErrorKind::Revoked, r.to_string()));
        }
        if claims.depth() > claims.max_depth() {
            return Err(Error::new(
                ErrorKind::DepthExceeded,
                format!("the token has {} delegation hop(s); it allows {}", claims.depth(), claims.max_depth()),
            ));
        }
        let holder = claims.holder();
        Ok(Admission {
            agent: holder.agent.clone(),
            path: holder.path.clone(),
            agent_key_fingerprint: holder.key.fingerprint(),
            agent_key: holder.key.to_hex(),
            principal: claims.authority.principal.clone(),
            task: claims.authority.task.clone(),
            workspace: claims.authority.workspace.clone(),
            chain: claims.chain.iter().map(|h| h.agent.clone()).collect(),
            issued_at: claims.authority.iat,
            expires_at,
            root_key_id: verified.biscuit.root_key_id(),
            token_id: claims.revocation_ids.last().cloned().unwrap_or_default(),
            revocation_ids: claims.revocation_ids.clone(),
            scopes: narrowed(claims).iter().take(MAX_SCOPES).map(Right::to_string).collect(),
            time: now,
        })
    }

    /// [`Verifier::admit`] for a token given as base64url text (a bearer token).
    pub fn admit_base64(&self, token: &str, now: Option<u64>) -> Result<Admission> {
        let bytes = decode_base64(token, self.limits())?;
        self.admit(&bytes, now)
    }

    /// Admits the bearer text `token` ([`Verifier::admit_base64`]) and returns the [`AuthInfo`]
    /// a bearer-auth layer records, its `resource` this verifier's audience.
    pub fn auth_info(&self, token: &str, now: Option<u64>) -> Result<AuthInfo> {
        let admitted = self.admit_base64(token, now)?;
        Ok(admitted.auth_info(token, self.audience().map(|a| a.as_str())))
    }
}

/// The rights `token` effectively carries: each right of its authority block narrowed by every
/// hop's tools, operations and resource prefix, the way the verifier's Datalog checks them
/// (a hop's lists are exact names; a prefix covers what [`Right::covers`] says). A right that a
/// hop narrows to nothing is dropped, so a token whose hops exclude every right has none.
/// Duplicates are removed; the order is the authority block's.
///
/// ```
/// use marque::{admission::effective_rights, DelegateParams, KeyPair, MintParams, Right, Token};
/// let (root, orch, child) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]));
/// let token = Token::mint(&root, &MintParams::new("agent:o", orch.public_key(), "user:u")
///     .right(Right::new("read_file", "*", "*")).right(Right::new("write_file", "write", "src/")).now(1_767_225_600))?
///     .delegate(&orch, &DelegateParams::new("agent:c", child.public_key()).resource_prefix("src/lib/").now(1_767_225_600))?;
/// let rights: Vec<String> = effective_rights(&token).iter().map(|r| r.to_string()).collect();
/// assert_eq!(rights, ["read_file:*:src/lib/", "write_file:write:src/lib/"]);
/// # Ok::<(), marque::Error>(())
/// ```
pub fn effective_rights(token: &Token) -> Vec<Right> {
    narrowed(token.claims())
}

/// The narrowing every hop applies, combined: the tools and operations every hop lists (None:
/// no hop narrows that axis) and the most specific resource prefix (`Err(())`: two hops' prefixes
/// are disjoint, so no resource passes).
struct Narrowing<'a> {
    tools: Option<Vec<&'a str>>,
    operations: Option<Vec<&'a str>>,
    prefix: core::result::Result<Option<&'a str>, ()>,
}

fn narrowed(claims: &Claims) -> Vec<Right> {
    let n = Narrowing {
        tools: common(claims.hops.iter().filter_map(|h| h.tools.as_deref())),
        operations: common(claims.hops.iter().filter_map(|h| h.operations.as_deref())),
        prefix: claims
            .hops
            .iter()
            .filter_map(|h| h.resource_prefix.as_deref())
            .try_fold(None, |acc: Option<&str>, p| match acc {
                None => Ok(Some(p)),
                Some(q) => meet(q, p).map(Some).ok_or(()),
            }),
    };
    let Ok(prefix) = n.prefix else { return Vec::new() };
    let mut out: Vec<Right> = Vec::new();
    for right in &claims.authority.rights {
        let resource = match prefix {
            None => right.resource.clone(),
            // A literal "*" prefix only covers resources starting with "*": under-report it.
            Some(ANY) => continue,
            Some(p) if right.resource == ANY => p.to_string(),
            Some(p) => match meet(&right.resource, p) {
                Some(r) => r.to_string(),
                None => continue,
            },
        };
        for tool in axis(&right.tool, n.tools.as_deref()) {
            for operation in axis(&right.operation, n.operations.as_deref()) {
                let r = Right::new(tool, operation, resource.clone());
                if !out.contains(&r) {
                    out.push(r);
                }
                if out.len() >= MAX_SCOPES {
                    return out;
                }
            }
        }
    }
    out
}

/// The names every list contains (in the first list's order); a literal `"*"` entry only ever
/// matches a request naming `"*"`, so it is left out.
fn common<'a>(mut lists: impl Iterator<Item = &'a [String]>) -> Option<Vec<&'a str>> {
    let first = lists.next()?;
    let mut names: Vec<&str> = first.iter().map(String::as_str).filter(|n| *n != ANY).collect();
    for list in lists {
        names.retain(|n| list.iter().any(|m| m == n));
    }
    Some(names)
}

/// The values one axis of a right takes under a hop list.
fn axis<'a>(held: &'a str, narrowed_to: Option<&[&'a str]>) -> Vec<&'a str> {
    match narrowed_to {
        None => vec![held],
        Some(list) if held == ANY => list.to_vec(),
        Some(list) => list.iter().copied().filter(|n| *n == held).collect(),
    }
}

/// The more specific of two resource prefixes when one covers the other, else None.
fn meet<'a>(a: &'a str, b: &'a str) -> Option<&'a str> {
    let covers = |prefix: &str, resource: &str| Right::new(ANY, ANY, prefix).covers(&Request::new(ANY, ANY, resource));
    if covers(a, b) {
        Some(b)
    } else if covers(b, a) {
        Some(a)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DelegateParams, KeyPair, MintParams, RevocationList, RevocationSet};

    const NOW: u64 = 1_767_225_600;

    fn keys() -> (KeyPair, KeyPair, KeyPair, KeyPair) {
        (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]), KeyPair::from_seed(&[4; 32]))
    }

    fn scopes(token: &Token) -> Vec<String> {
        effective_rights(token).iter().map(Right::to_string).collect()
    }

    #[test]
    fn effective_rights_narrow_by_every_hop() {
        let (root, o, a, c) = keys();
        let t0 = Token::mint(
            &root,
            &MintParams::new("agent:o", o.public_key(), "user:u")
                .right(Right::new("read_file", "read", "*"))
                .right(Right::new("write_file", "write", "src/"))
                .right(Right::new("*", "*", "docs/"))
                .now(NOW),
        )
        .unwrap();
        assert_eq!(scopes(&t0), ["read_file:read:*", "write_file:write:src/", "*:*:docs/"]);
        let ta = t0
            .delegate(&o, &DelegateParams::new("agent:a", a.public_key()).tools(["read_file", "write_file"]).resource_prefix("src/").now(NOW))
            .unwrap();
        // docs/ and src/ are disjoint: the wildcard right is gone.
        assert_eq!(scopes(&ta), ["read_file:read:src/", "write_file:write:src/"]);
        let tc = ta
            .delegate(&a, &DelegateParams::new("agent:c", c.public_key()).operations(["read"]).resource_prefix("src/lib.rs").now(NOW))
            .unwrap();
        assert_eq!(scopes(&tc), ["read_file:read:src/lib.rs/"]);
        // Narrowed to nothing: no scopes at all, never the root's.
        let t1 = Token::mint(
            &root,
            &MintParams::new("agent:o", o.public_key(), "user:u")
                .right(Right::new("read_file", "read", "*"))
                .right(Right::new("write_file", "write", "*"))
                .now(NOW),
        )
        .unwrap();
        let none = t1
            .delegate(&o, &DelegateParams::new("agent:n", a.public_key()).tools(["read_file"]).operations(["write"]).now(NOW))
            .unwrap();
        assert!(scopes(&none).is_empty(), "{:?}", scopes(&none));
    }

    #[test]
    fn wildcard_tools_expand_to_the_hop_lists() {
        let (root, o, a, _) = keys();
        let t = Token::mint(&root, &MintParams::new("agent:o", o.public_key(), "user:u").right(Right::new("*", "*", "*")).now(NOW))
            .unwrap()
            .delegate(&o, &DelegateParams::new("agent:a", a.public_key()).tools(["b", "a"]).operations(["read"]).now(NOW))
            .unwrap();
        assert_eq!(scopes(&t), ["a:read:*", "b:read:*"]);
    }

    #[test]
    fn admission_fails_closed() {
        let (root, o, a, _) = keys();
        let t = Token::mint(&root, &MintParams::new("agent:o", o.public_key(), "user:u").right(Right::new("*", "*", "*")).ttl_seconds(60).now(NOW))
            .unwrap()
            .delegate(&o, &DelegateParams::new("agent:a", a.public_key()).resource_prefix("src/").now(NOW))
            .unwrap();
        let v = Verifier::new([root.public_key()]);
        let ok = v.admit(t.to_bytes(), Some(NOW)).unwrap();
        assert_eq!((ok.agent.as_str(), ok.path.as_str()), ("agent:a", "/root/a"));
        assert_eq!(ok.chain, ["agent:o", "agent:a"]);
        assert_eq!(ok.scopes, ["*:*:src/"]);
        assert_eq!(ok.token_id, t.revocation_ids()[1]);
        assert_eq!(v.admit_base64(&t.to_base64(), Some(NOW)).unwrap(), ok);
        assert_eq!(v.admit(t.to_bytes(), Some(NOW + 61)).unwrap_err().code(), "expired");
        assert_eq!(v.admit(b"garbage", Some(NOW)).unwrap_err().code(), "invalid_token");
        assert_eq!(Verifier::new([o.public_key()]).admit(t.to_bytes(), Some(NOW)).unwrap_err().code(), "unknown_root_key");
        v.revoke(&t.revocation_ids()[0]).unwrap();
        assert_eq!(v.admit(t.to_bytes(), Some(NOW)).unwrap_err().code(), "revoked");
        // Staleness comes first, before any token work (even garbage).
        let operator = KeyPair::from_seed(&[7; 32]);
        let mut v = Verifier::new([root.public_key()]).with_max_revocation_staleness(300);
        v.add_operator_key(operator.public_key());
        assert_eq!(v.admit(b"garbage", Some(NOW)).unwrap_err().code(), "revocation_list_stale");
        v.load_revocation_list(&RevocationList::sign(&RevocationSet::new(), 1, Some(NOW), &operator).unwrap(), Some(NOW)).unwrap();
        assert!(v.admit(t.to_bytes(), Some(NOW + 10)).is_ok());
        assert_eq!(v.admit(t.to_bytes(), Some(NOW + 301)).unwrap_err().code(), "revocation_list_stale");
    }
}
