"""marque: cryptographic identity and delegated authority for AI agents.

An orchestrator mints (or receives) a token, narrows it for each sub-agent with
``Token.delegate``, and each agent signs a proof of possession for every call with
``sign_proof``; a tool server checks both with a ``Verifier``::

    import marque
    root, orch, child = marque.KeyPair.generate(), marque.KeyPair.generate(), marque.KeyPair.generate()
    token = marque.mint(root, agent="agent:orch", agent_key=orch.public_key,
                        principal="user:alice", rights=["read_file:read:*"])
    sub = token.delegate(orch, to="agent:reader", to_key=child.public_key, resource_prefix="src/")
    proof = marque.sign_proof(child, sub, tool="read_file", operation="read", resource="src/a.py")
    decision = marque.Verifier([root.public_key]).authorize(
        sub, tool="read_file", operation="read", resource="src/a.py", proof=proof)
    assert decision.allowed and decision.path == "/root/reader"

Every decision can be recorded in a signed, hash-chained audit log and checked later::

    log = marque.AuditLog()
    log.append(server_key, decision.to_audit_event())
    report = log.verify([server_key.public_key])          # report.ok, .problem, .head

Compact mode (EdDSA JWTs) is ``jwt_issue`` / ``jwt_verify``, and ``Decision.to_compact_jwt``
exchanges an allowed decision for one.

Keys in operations: wherever marque signs, a ``KeyPair`` or any signer (``SignerLike``: a KMS or
HSM client, or ``Signer(public_key, sign_function)``) is accepted, and every external signature
is verified (``SignerFailed``). An operator publishes revocations as a signed
``RevocationList``; a ``Verifier(..., operator_keys=[...], max_revocation_staleness=...)``
loads it with ``load_revocation_list`` (``RevocationListInvalid``, ``RevocationListRollback``)
and fails closed (``RevocationListStale``) when it is too old. ``Verifier.from_jwks`` trusts
the root keys of a JWKS document; ``set_root_keys_from_jwks`` rotates them.

Everything here is implemented in Rust (``marque._native``); this package adds Python
idioms on top: the error-code ``Literal`` and the tool-call guard (``requires``,
``call_context``, with an optional ``audit_log``). The MCP integration lives in ``marque.mcp``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from marque._native import (
    AUDIT_DOMAIN,
    AUDIT_GENESIS,
    AUDIT_PROBLEM_KINDS,
    DEFAULT_MAX_DEPTH,
    MCP_DEFAULT_ALLOW,
    ERROR_CODES,
    IDENTITY_ENV_VAR,
    JWT_DEFAULT_LEEWAY_SECONDS,
    JWT_DEFAULT_MAX_SIZE,
    OTEL_EVENT_NAME,
    PROFILE_VERSION,
    REDIS_SPEND_SCRIPT,
    RIGHTS_POLICY_ID,
    Admission,
    AgentAssertion,
    AgentIdentity,
    AssertionVerifier,
    AuditEvent,
    AuditFile,
    AuditLog,
    AuditProblem,
    Decision,
    Envelope,
    Hop,
    KeyPair,
    Limits,
    MarqueError,
    McpConfig,
    McpMapped,
    McpOutcome,
    MemoryCounterStore,
    PendingAuthorization,
    Policy,
    PublicKey,
    RevocationFeedState,
    RevocationList,
    RevocationListInvalidError,
    RevocationListRollbackError,
    RevocationListStaleError,
    RevocationSet,
    Right,
    Signer,
    SignerFailedError,
    Token,
    Verifier,
    VerifyReport,
    __version__,
    act_to_chain,
    approve,
    chain_to_act,
    jcs_canonicalize,
    jcs_canonicalize_str,
    jwk_thumbprint,
    jwt_decode,
    jwt_issue,
    jwt_verify,
    mint,
    parse_jwks,
    request_digest,
    sign_agent_assertion,
    sign_proof,
    to_jwks,
    verify_agent_assertion,
    verify_audit_file,
)
from marque._native import (  # the exception classes, one per core ErrorKind
    # BEGIN generated error codes: py-names (core/tests/error_codes.rs)
    InvalidToken,
    InvalidSignature,
    UnknownRootKey,
    Expired,
    Revoked,
    NotAuthorized,
    InvalidProof,
    ReplayedProof,
    DepthExceeded,
    AttenuationWidens,
    LimitsExceeded,
    InvalidKey,
    InvalidJwt,
    AuditChainBroken,
    WrongHolderKey,
    Sealed,
    InvalidArgument,
    RevocationListStale,
    RevocationListInvalid,
    RevocationListRollback,
    SignerFailed,
    InvalidRequest,
    ReplayStoreUnavailable,
    ApprovalRequired,
    BudgetExhausted,
    InternalError,
    # END generated error codes
)
from marque.feed import RevocationFeed
from marque.context import CallContext, authorize_call, call_context, current_call, current_decision, requires

if TYPE_CHECKING:
    from marque._native import _Bytes, _PublicKeyLike


@runtime_checkable
class SignerLike(Protocol):
    """What marque accepts wherever it signs (``mint``, ``Token.delegate``, ``sign_proof``,
    ``AuditLog.append``, ``jwt_issue``, ``Decision.to_compact_jwt``, ``RevocationList.sign``):
    an object with a ``public_key`` and ``sign(message: bytes) -> bytes`` returning the 64-byte
    Ed25519 signature of ``message`` — a ``KeyPair``, a ``Signer`` wrapping a function, or a
    KMS/HSM client of your own. ``public_key`` may also be a method taking no argument. marque
    verifies every signature such a signer returns; a wrong one, or an exception raised by
    ``sign``, is ``SignerFailed`` (the exception is its ``__cause__``)."""

    @property
    def public_key(self) -> _PublicKeyLike:
        """The public key the signatures verify under (a ``PublicKey`` or any key form)."""
        ...

    def sign(self, message: bytes, /) -> _Bytes:
        """The Ed25519 signature of ``message`` (64 bytes)."""
        ...


#: Every stable error code (``MarqueError.code``); equals ``ERROR_CODES``, checked by the tests.
ErrorCode = Literal[
    # BEGIN generated error codes: py-codes (core/tests/error_codes.rs)
    "invalid_token",
    "invalid_signature",
    "unknown_root_key",
    "expired",
    "revoked",
    "not_authorized",
    "invalid_proof",
    "replayed_proof",
    "depth_exceeded",
    "attenuation_widens",
    "limits_exceeded",
    "invalid_key",
    "invalid_jwt",
    "audit_chain_broken",
    "wrong_holder_key",
    "sealed",
    "invalid_argument",
    "revocation_list_stale",
    "revocation_list_invalid",
    "revocation_list_rollback",
    "signer_failed",
    "invalid_request",
    "replay_store_unavailable",
    "approval_required",
    "budget_exhausted",
    "internal",
    # END generated error codes
]

#: What can be wrong with an audit log entry (``AuditProblem.kind``); equals ``AUDIT_PROBLEM_KINDS``.
ProblemKind = Literal[
    "forged_signature",
    "unknown_signer",
    "edited_entry",
    "removed_entry",
    "reordered_entries",
    "duplicate_entry",
    "truncated_tail",
    "malformed_entry",
]

__all__ = [
    # BEGIN generated error codes: py-quoted-names (core/tests/error_codes.rs)
    "InvalidToken",
    "InvalidSignature",
    "UnknownRootKey",
    "Expired",
    "Revoked",
    "NotAuthorized",
    "InvalidProof",
    "ReplayedProof",
    "DepthExceeded",
    "AttenuationWidens",
    "LimitsExceeded",
    "InvalidKey",
    "InvalidJwt",
    "AuditChainBroken",
    "WrongHolderKey",
    "Sealed",
    "InvalidArgument",
    "RevocationListStale",
    "RevocationListInvalid",
    "RevocationListRollback",
    "SignerFailed",
    "InvalidRequest",
    "ReplayStoreUnavailable",
    "ApprovalRequired",
    "BudgetExhausted",
    "InternalError",
    # END generated error codes
    "AUDIT_DOMAIN",
    "AUDIT_GENESIS",
    "AUDIT_PROBLEM_KINDS",
    "DEFAULT_MAX_DEPTH",
    "ERROR_CODES",
    "MCP_DEFAULT_ALLOW",
    "IDENTITY_ENV_VAR",
    "JWT_DEFAULT_LEEWAY_SECONDS",
    "JWT_DEFAULT_MAX_SIZE",
    "OTEL_EVENT_NAME",
    "PROFILE_VERSION",
    "REDIS_SPEND_SCRIPT",
    "RIGHTS_POLICY_ID",
    "Admission",
    "AgentAssertion",
    "AgentIdentity",
    "AssertionVerifier",
    "AuditEvent",
    "AuditFile",
    "AuditLog",
    "AuditProblem",
    "CallContext",
    "Decision",
    "Envelope",
    "ErrorCode",
    "Hop",
    "KeyPair",
    "Limits",
    "MarqueError",
    "McpConfig",
    "McpMapped",
    "McpOutcome",
    "MemoryCounterStore",
    "PendingAuthorization",
    "Policy",
    "ProblemKind",
    "PublicKey",
    "RevocationFeed",
    "RevocationFeedState",
    "RevocationList",
    "RevocationListInvalidError",
    "RevocationListRollbackError",
    "RevocationListStaleError",
    "RevocationSet",
    "Right",
    "Signer",
    "SignerFailedError",
    "SignerLike",
    "Token",
    "Verifier",
    "VerifyReport",
    "__version__",
    "act_to_chain",
    "approve",
    "authorize_call",
    "call_context",
    "chain_to_act",
    "current_call",
    "current_decision",
    "jcs_canonicalize",
    "jcs_canonicalize_str",
    "jwk_thumbprint",
    "jwt_decode",
    "jwt_issue",
    "jwt_verify",
    "mint",
    "parse_jwks",
    "request_digest",
    "requires",
    "sign_agent_assertion",
    "sign_proof",
    "to_jwks",
    "verify_agent_assertion",
    "verify_audit_file",
]
