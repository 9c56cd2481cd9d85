"""The delegation story, as a user of the installed `marque` package writes it.

Run by tests/dist/run.sh from a directory outside the repository, in a fresh venv where the wheel
(or the sdist) was installed from its file; also type-checked there with `mypy --strict` against
the installed package (its py.typed and .pyi). Exits non-zero when a step does not hold.
"""

from __future__ import annotations

import pathlib
import sys

import marque
from marque import AuditLog, Decision, KeyPair, Token, Verifier


def call(verifier: Verifier, log: AuditLog, server: KeyPair, token: Token, key: KeyPair, tool: str,
         operation: str, resource: str) -> Decision:
    proof: str = marque.sign_proof(key, token, tool=tool, operation=operation, resource=resource)
    decision = verifier.authorize(token, tool=tool, operation=operation, resource=resource, proof=proof)
    log.append(server, decision.to_audit_event())
    return decision


def main() -> int:
    where = pathlib.Path(marque.__file__).resolve()
    print(f"marque {marque.__version__} from {where.parent}")

    root, orch, reader, server = (KeyPair.generate() for _ in range(4))
    # Mint for the orchestrator, then delegate offline: read-only, src/ only, 10 minutes.
    token = marque.mint(root, agent="agent:orchestrator", agent_key=orch.public_key, principal="user:alice",
                        task="fix-issue-42", rights=["read_file:read:*", "write_file:write:src/"],
                        ttl_seconds=3600)
    sub = token.delegate(orch, to="agent:reader", to_key=reader.public_key, tools=["read_file"],
                         resource_prefix="src/", ttl_seconds=600)

    verifier = Verifier([root.public_key], require_proof=True)
    log = AuditLog()
    allowed = call(verifier, log, server, sub, reader, "read_file", "read", "src/app.py")
    denied = call(verifier, log, server, sub, reader, "write_file", "write", "src/app.py")
    print(f"read  src/app.py by {allowed.agent}: {'ALLOWED' if allowed.allowed else allowed.code}")
    print(f"write src/app.py by {denied.agent}: {'ALLOWED' if denied.allowed else denied.code}")

    report = log.verify([server.public_key])
    print(f"audit: {len(log)} signed entries, verify ok: {report.ok}")

    ok = (allowed.allowed and allowed.chain == ["agent:orchestrator", "agent:reader"]
          and not denied.allowed and denied.code == "not_authorized"
          and report.ok and len(log) == 2)
    print("story: ok" if ok else "story: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
