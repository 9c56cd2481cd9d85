//! Pending authorizations: a call decided up to its single-use state, for hosts whose stores
//! answer asynchronously.
//!
//! [`Verifier::authorize_begin`](crate::Verifier::authorize_begin) decides everything a call
//! needs except what may be used only once — the proof's nonce, then a human approval
//! ([`crate::approval`]), then the budgets of every hop ([`crate::budget`]) — in that order,
//! which [`PendingClaim`] keeps: the host claims [`PendingClaim::claim`] in its replay store and
//! hands the answer to [`PendingClaim::claimed`], as long as there is a claim (the nonce, then
//! the approval's own single-use key); if the call is still pending it spends
//! [`PendingClaim::charges`] — hashed counter keys, each hop's limit and time to live, no token
//! material — in its counter store (atomically, all or nothing: [`crate::budget::CounterStore`],
//! [`crate::budget::REDIS_SPEND_SCRIPT`]) and hands that answer to [`PendingClaim::spent`]. Every
//! answer that cannot be trusted fails closed: a store that errors is `replay_store_unavailable`
//! (the in-memory stores' `limits_exceeded` passes), an exhaustion naming a hop that has no
//! charge, an answer for a call with nothing to spend, or steps out of order are errors — never an
//! allow.
//!
//! ```
//! use marque::{KeyPair, Token, Verifier, DelegateParams, MintParams, Request, Right};
//! use marque::{budget::Spend, replay::Claim, verify::Authorization};
//! let (root, agent, worker) = (KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32]), KeyPair::from_seed(&[3; 32]));
//! let now = 1_767_225_600;
//! let token = Token::mint(&root, &MintParams::new("agent:a", agent.public_key(), "user:alice")
//!     .right(Right::new("read_file", "read", "*")).now(now))?
//!     .delegate(&agent, &DelegateParams::new("agent:w", worker.public_key()).max_calls(1).now(now))?;
//! let v = Verifier::new([root.public_key()]);
//! let req = Request::new("read_file", "read", "a.rs");
//! let proof = token.sign_proof(&worker, &req, Some(now))?;
//! let Authorization::Pending(p) = v.authorize_begin(token.to_bytes(), &req, Some(&proof), Some(now))? else { unreachable!() };
//! // First the nonce (the host's replay store answers)…
//! let Authorization::Pending(p) = p.claimed(Ok(Claim::Claimed))? else { unreachable!() };
//! // …then the budgets (the host's counter store answers).
//! assert_eq!(p.charges().len(), 1);
//! assert!(p.charges()[0].key().starts_with("marque:budget:"));
//! let d = p.spent(Ok(Spend::Exhausted { hop: 0 }))?;
//! assert_eq!(d.code.as_deref(), Some("budget_exhausted"));
//! assert!(d.reasons[0].contains("delegation 1 (agent:w)"));
//! # Ok::<(), marque::Error>(())
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::approval::VerifiedApproval;
use crate::budget::{redis_spend_reply, BudgetCharge, Spend};
use crate::error::{Error, ErrorKind, Result};
use crate::replay::{unavailable, Claim, ReplayClaim, ReplayStore};
use crate::verify::Decision;

/// The outcome of [`Verifier::authorize_begin`](crate::Verifier::authorize_begin) and of each
/// step of a [`PendingClaim`].
#[derive(Debug)]
#[must_use = "a pending authorization is not a decision: claim the nonce, spend the budgets"]
// Returned once per call and consumed at once, never stored: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Authorization {
    /// Decided: denied, or allowed with nothing (left) to claim or spend.
    Decided(Decision),
    /// Allowed if what it holds can still be claimed and spent.
    Pending(PendingClaim),
}

/// An otherwise-allowed call waiting for its single-use state (see the module doc).
#[derive(Debug)]
pub struct PendingClaim {
    decision: Decision,
    claim: Option<ReplayClaim>,
    approval: Option<VerifiedApproval>,
    charges: Vec<BudgetCharge>,
}

impl PendingClaim {
    /// An allowed `decision`: pending if it has a nonce, an approval or budgets, else decided.
    pub(crate) fn start(decision: Decision, claim: Option<ReplayClaim>, approval: Option<VerifiedApproval>, charges: Vec<BudgetCharge>) -> Authorization {
        PendingClaim { decision, claim, approval, charges }.next()
    }

    fn next(mut self) -> Authorization {
        // A verified approval always carries its single-use claim; one without is recorded as is.
        if self.approval.as_ref().is_some_and(|a| a.claim.is_none()) {
            self.decision.approval = self.approval.take();
        }
        if self.claim.is_none() && self.approval.is_none() && self.charges.is_empty() {
            Authorization::Decided(self.decision)
        } else {
            Authorization::Pending(self)
        }
    }

    /// The next single-use key to claim in the replay store ([`ReplayClaim::key`] for
    /// [`ReplayClaim::ttl_ms`]): the proof's nonce first, then the human approval's; `None`
    /// when there is nothing (left) to claim.
    pub fn claim(&self) -> Option<&ReplayClaim> {
        self.claim.as_ref().or_else(|| self.approval.as_ref().and_then(|a| a.claim.as_ref()))
    }

    /// The budget charges to spend once the nonce is claimed, in hop order (the order in which a
    /// store names the first exhausted one); empty when no hop has a budget.
    pub fn charges(&self) -> &[BudgetCharge] {
        &self.charges
    }

    /// The replay store's answer to [`claim`](Self::claim): [`Claim::Claimed`] → decided
    /// (allowed) or still pending (an approval to claim, budgets to spend);
    /// [`Claim::AlreadyUsed`] → denied `replayed_proof` for the nonce, `approval_required`
    /// (asking for a new approval of this call) for the approval; an error →
    /// `replay_store_unavailable` (`limits_exceeded` passes). An answer when there is nothing
    /// to claim is `invalid_argument`.
    pub fn claimed(mut self, outcome: Result<Claim>) -> Result<Authorization> {
        if self.claim.take().is_none() {
            return self.approval_claimed(outcome);
        }
        match outcome.map_err(store_error)? {
            Claim::Claimed => Ok(self.next()),
            Claim::AlreadyUsed => {
                let mut decision = self.decision;
                decision.proof_verified = false;
                decision.policy = None;
                Ok(Authorization::Decided(deny(decision, ErrorKind::ReplayedProof, "this proof was already used".into())))
            }
        }
    }

    /// [`claimed`](Self::claimed) for a call without budgets, to its decision: a call still
    /// pending after the claim (budgets to spend) is `invalid_argument` — never allowed unspent.
    pub fn finish(self, outcome: Result<Claim>) -> Result<Decision> {
        match self.claimed(outcome)? {
            Authorization::Decided(d) => Ok(d),
            Authorization::Pending(_) => Err(Error::invalid_argument(
                "this call is still pending (an approval to claim, or call budgets to spend): use claimed, then spent, instead of finish",
            )),
        }
    }

    /// The answer for the approval's claim, once the nonce is claimed: a used approval denies
    /// `approval_required`, asking for a new one.
    fn approval_claimed(mut self, outcome: Result<Claim>) -> Result<Authorization> {
        let mut a = match self.approval.take() {
            Some(a) if a.claim.is_some() => a,
            _ => return Err(Error::invalid_argument("this pending authorization has nothing left to claim")),
        };
        let asked = a.request.take();
        a.claim = None;
        match outcome.map_err(store_error)? {
            Claim::Claimed => {
                self.decision.approval = Some(a);
                Ok(self.next())
            }
            Claim::AlreadyUsed => {
                // The caller can act on it: a new approval of this call is what it needs.
                let mut decision = self.decision;
                decision.approval_request = asked;
                let reason = "approval refused: it was already used".into();
                Ok(Authorization::Decided(deny(decision, ErrorKind::ApprovalRequired, reason)))
            }
        }
    }

    /// Claims what is left to claim (the approval, once the nonce is claimed) in `replay`: the
    /// synchronous path.
    pub(crate) fn claim_in(self, replay: &dyn ReplayStore) -> Result<Authorization> {
        let mut step = self;
        loop {
            let outcome = match step.claim() {
                Some(claim) => replay.claim(claim),
                None => return Ok(step.next()),
            };
            match step.claimed(outcome)? {
                Authorization::Pending(p) => step = p,
                decided => return Ok(decided),
            }
        }
    }

    /// The counter store's answer to spending [`charges`](Self::charges), once the nonce is
    /// claimed: [`Spend::Spent`] → allowed; [`Spend::Exhausted`] → denied `budget_exhausted`
    /// naming the delegation. Fails closed (an error, never an allow) when the store errored
    /// (`replay_store_unavailable`; `limits_exceeded` passes), when the exhausted hop has no
    /// charge, when there is nothing to spend, or when the nonce is not claimed yet.
    pub fn spent(self, outcome: Result<Spend>) -> Result<Decision> {
        if self.claim.is_some() || self.approval.is_some() {
            return Err(Error::invalid_argument("claim the proof's nonce before spending the budgets"));
        }
        if self.charges.is_empty() {
            return Err(unavailable("the counter store answered for a call with no budget to spend"));
        }
        let mut decision = self.decision;
        match outcome.map_err(store_error)? {
            Spend::Spent => Ok(decision),
            Spend::Exhausted { hop } if self.charges.iter().any(|c| c.hop() == hop) => {
                let who = decision.chain.get(hop + 1).cloned().unwrap_or_default();
                let reason = format!("the call budget of delegation {} ({who}) is exhausted", hop + 1);
                decision.approval = None;
                Ok(deny(decision, ErrorKind::BudgetExhausted, reason))
            }
            Spend::Exhausted { hop } => Err(unavailable(format!("the counter store named hop {hop}, which has no budget in this call"))),
        }
    }

    /// The error that ends a call whose store could not answer (rejected, timed out, answered
    /// something else) at whichever step is next: `replay_store_unavailable` (the in-memory
    /// stores' `limits_exceeded` passes). Consumes the pending call: nothing is allowed.
    pub fn failed(self, error: Error) -> Error {
        store_error(error)
    }

    /// [`spent`](Self::spent) given the store's raw answer in the protocol of
    /// [`REDIS_SPEND_SCRIPT`](crate::budget::REDIS_SPEND_SCRIPT) (0: spent; `i`: the `i`-th
    /// charge, 1-based, is exhausted; anything else fails closed).
    pub fn spent_reply(self, reply: i64) -> Result<Decision> {
        let outcome = redis_spend_reply(&self.charges, reply);
        self.spent(outcome)
    }
}

/// A store's error as the verifier reports it: the bounded in-memory stores' `limits_exceeded`
/// and `replay_store_unavailable` pass; anything else becomes `replay_store_unavailable`.
pub(crate) fn store_error(e: Error) -> Error {
    match e.kind() {
        ErrorKind::LimitsExceeded | ErrorKind::ReplayStoreUnavailable => e,
        _ => unavailable(format!("replay store failed: {}: {}", e.code(), e.message())),
    }
}

/// `decision`, denied with this code and reason.
pub(crate) fn deny(mut decision: Decision, kind: ErrorKind, reason: String) -> Decision {
    decision.allowed = false;
    decision.code = Some(kind.code().into());
    decision.reasons = alloc::vec![reason];
    decision
}
