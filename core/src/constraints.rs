//! Constraints beyond rights: what the verifier asks of a call the token's Datalog allows.
//!
//! Rights say *what* an agent may do; constraints say *under which conditions*. After the
//! Datalog allows a call, the verifier applies, in this order: the operator's **Rego policies**
//! (feature `rego`: `allow` / `require_approval` / deny, the `rego` module); **approval rules**
//! — the operator's ([`Verifier::add_approval_rule`](crate::Verifier::add_approval_rule), e.g.
//! `deploy:*:production/`) and those a delegation added for its subtree
//! ([`DelegateParams::require_approval`](crate::DelegateParams::require_approval)) — and, when one matches or a policy
//! asks, a valid **approval** of this exact call ([`crate::approval`]); then the **budgets** of
//! every hop ([`crate::budget`]), spent only once everything else allowed the call. Each can
//! only refuse: a constraint never turns a denial into an allow. Every refusal is a denial with
//! a code — `not_authorized` (a Rego policy denied: the decision names `policy@version` and
//! the rule), `approval_required` (the decision carries the [`ApprovalRequest`]: the digest to
//! approve and who may approve it), `budget_exhausted` (naming the hop) — and an evaluation
//! failure is an error, never an allow.
//!
//! ```
//! use marque::{KeyPair, Token, Verifier, MintParams, Request, Right};
//! use marque::approval::sign_approval_with_nonce;
//! let (root, agent, alice) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[7; 32]));
//! let now = 1_767_225_600;
//! let token = Token::mint(&root, &MintParams::new("agent:deployer", agent.public_key(), "user:bob")
//!     .right(Right::new("deploy", "*", "*")).now(now))?;
//! let mut verifier = Verifier::new([root.public_key()]);
//! verifier.add_approver("user:alice", alice.public_key())?;
//! verifier.add_approval_rule(Right::parse("deploy:*:production/")?)?;
//!
//! let call = Request::new("deploy", "deploy", "production/web");
//! let first = verifier.authorize(token.to_bytes(), &call, None, Some(now))?;
//! assert_eq!(first.code.as_deref(), Some("approval_required"));
//! let asked = first.approval_request.expect("what to approve");
//! assert_eq!(asked.approvers, ["user:alice"]);
//!
//! // A human approves that exact call; the agent retries with the approval, once.
//! let approval = sign_approval_with_nonce(&alice, "user:alice", &asked.digest, now, 300, [9; 16])?;
//! let second = verifier.authorize_with_approval(token.to_bytes(), &call, None, Some(&approval), Some(now + 5))?;
//! assert!(second.allowed);
//! assert_eq!(second.approval.as_ref().map(|a| a.approver.as_str()), Some("user:alice"));
//! let again = verifier.authorize_with_approval(token.to_bytes(), &call, None, Some(&approval), Some(now + 6))?;
//! assert_eq!(again.code.as_deref(), Some("approval_required")); // single use
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::approval::{request_digest, verify_approval, ApprovalRequest, Approvers, VerifiedApproval};
use crate::budget::{charges, BudgetCharge};
use crate::error::{ErrorKind, Result};
use crate::policy::{Request, Right};
use crate::token::Claims;

/// Most operator approval rules one verifier holds.
pub const MAX_APPROVAL_RULES: usize = 256;

/// The verifier's constraints configuration (see the module doc).
#[derive(Clone, Debug, Default)]
pub(crate) struct Constraints {
    pub approvers: Approvers,
    pub approval_rules: Vec<Right>,
    #[cfg(feature = "rego")]
    pub rego: Vec<crate::rego::RegoPolicy>,
    pub roles: BTreeMap<String, String>,
}

/// What the constraints decided for an otherwise allowed call.
// Returned once per call and consumed at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Gate {
    /// Go on: spend these budget charges and, if any, claim this approval once.
    Pass { approval: Option<VerifiedApproval>, charges: Vec<BudgetCharge>, policy: Option<String> },
    /// Denied with this code and reason.
    Deny { kind: ErrorKind, reason: String, policy: Option<String>, request: Option<ApprovalRequest> },
}

impl Constraints {
    /// Whether nothing is configured (the common case: one branch, no work).
    pub fn is_empty(&self) -> bool {
        #[cfg(feature = "rego")]
        let rego = self.rego.is_empty();
        #[cfg(not(feature = "rego"))]
        let rego = true;
        rego && self.approval_rules.is_empty()
    }

    /// Applies the constraints to a call the Datalog allowed.
    pub fn gate(&self, token: &[u8], claims: &Claims, request: &Request, approval: Option<&str>, now: u64, skew: u64) -> Result<Gate> {
        let mut needs: Vec<String> = Vec::new();
        #[allow(unused_mut)]
        let mut policy = None;
        // One input for every policy (it depends on the call, not on the policy), built only
        // when there is a policy.
        #[cfg(feature = "rego")]
        if !self.rego.is_empty() {
            let input = crate::rego::RegoInput::from_claims(claims, request, now, &self.roles);
            for p in &self.rego {
                use crate::rego::RegoOutcome;
                let verdict = p.evaluate(&input)?;
                let label = format!("{}#{}", verdict.policy, verdict.rule);
                match verdict.outcome {
                    RegoOutcome::Allow => policy = Some(label),
                    RegoOutcome::ApprovalRequired => {
                        needs.push(format!("rego policy {} requires approval", verdict.policy));
                        policy = Some(label);
                    }
                    RegoOutcome::Deny => {
                        let reason = format!("denied by rego policy {} (no allow rule held)", verdict.policy);
                        return Ok(Gate::Deny { kind: ErrorKind::NotAuthorized, reason, policy: Some(label), request: None });
                    }
                }
            }
        }
        for rule in &self.approval_rules {
            if rule.covers(request) {
                needs.push(format!("operator rule {}:{}:{} requires approval", rule.tool, rule.operation, rule.resource));
            }
        }
        for (i, hop) in claims.hops.iter().enumerate() {
            for rule in &hop.approval {
                if rule.covers(request) {
                    needs.push(format!(
                        "delegation {} ({}) requires approval for {}:{}:{}",
                        i + 1,
                        hop.agent,
                        rule.tool,
                        rule.operation,
                        rule.resource
                    ));
                }
            }
        }
        let approval = if needs.is_empty() {
            None
        } else {
            let digest = request_digest(token, request);
            let asked = ApprovalRequest { digest: digest.clone(), approvers: self.approvers.ids(), reason: needs.join("; ") };
            let refused = |why: String| Gate::Deny {
                kind: ErrorKind::ApprovalRequired,
                reason: why,
                policy: policy.clone(),
                request: Some(asked.clone()),
            };
            match approval {
                None => return Ok(refused(needs.join("; "))),
                Some(a) => match verify_approval(a, &self.approvers, &digest, now, skew) {
                    // Kept for the denial should the approval be found used when it is claimed.
                    Ok(v) => Some(VerifiedApproval { request: Some(asked.clone()), ..v }),
                    Err(e) if e.kind() == ErrorKind::ApprovalRequired => return Ok(refused(e.message().to_string())),
                    Err(e) => return Err(e),
                },
            }
        };
        // Every hop, budget or not: a charge's hop index is its place in the chain (a hop
        // without a budget gives no charge), so an exhaustion names the right delegation.
        let budgets = claims.hops.iter().zip(claims.revocation_ids.iter().skip(1));
        let charges = charges(budgets.map(|(h, rev)| (rev.as_str(), &h.budget)), now, claims.expires_at())?;
        Ok(Gate::Pass { approval, charges, policy })
    }
}
