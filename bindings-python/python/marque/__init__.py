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

Everything here is implemented in Rust (``marque._native``); this package adds Python
idioms on top: the error-code ``Literal`` and the tool-call guard (``requires``,
``call_context``). The MCP integration lives in ``marque.mcp``.
"""

from __future__ import annotations

from typing import Literal

from marque._native import (
    DEFAULT_MAX_DEPTH,
    ERROR_CODES,
    PROFILE_VERSION,
    RIGHTS_POLICY_ID,
    AttenuationWidens,
    AuditChainBroken,
    Decision,
    DepthExceeded,
    Expired,
    Hop,
    InternalError,
    InvalidArgument,
    InvalidJwt,
    InvalidKey,
    InvalidProof,
    InvalidSignature,
    InvalidToken,
    KeyPair,
    Limits,
    LimitsExceeded,
    MarqueError,
    NotAuthorized,
    Policy,
    PublicKey,
    ReplayedProof,
    RevocationListStale,
    RevocationSet,
    Revoked,
    Right,
    Sealed,
    Token,
    UnknownRootKey,
    Verifier,
    WrongHolderKey,
    __version__,
    mint,
    sign_proof,
)
from marque.context import CallContext, authorize_call, call_context, current_call, current_decision, requires

#: Every stable error code (``MarqueError.code``); equals ``ERROR_CODES``, checked by the tests.
ErrorCode = Literal[
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
    "internal",
]

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "ERROR_CODES",
    "PROFILE_VERSION",
    "RIGHTS_POLICY_ID",
    "AttenuationWidens",
    "AuditChainBroken",
    "CallContext",
    "Decision",
    "DepthExceeded",
    "ErrorCode",
    "Expired",
    "Hop",
    "InternalError",
    "InvalidArgument",
    "InvalidJwt",
    "InvalidKey",
    "InvalidProof",
    "InvalidSignature",
    "InvalidToken",
    "KeyPair",
    "Limits",
    "LimitsExceeded",
    "MarqueError",
    "NotAuthorized",
    "Policy",
    "PublicKey",
    "ReplayedProof",
    "RevocationListStale",
    "RevocationSet",
    "Revoked",
    "Right",
    "Sealed",
    "Token",
    "UnknownRootKey",
    "Verifier",
    "WrongHolderKey",
    "__version__",
    "call_context",
    "authorize_call",
    "current_call",
    "current_decision",
    "mint",
    "requires",
    "sign_proof",
]
