"""The marque story in Python: mint → delegate → delegate → authorize (allowed, denied) →
proof replay → a human approval → a call budget running out → revocation → a signed audit log
of every decision, and tamper detection. Run by scripts/setup.sh; `.venv/bin/python examples/demo.py`."""

from __future__ import annotations

import marque


def show(label: str, d: marque.Decision) -> None:
    verdict = "ALLOWED" if d.allowed else f"DENIED ({d.code})"
    print(f"  {label:<44} {verdict}  agent={d.agent} path={d.path}")
    for reason in d.reasons:
        print(f"      reason: {reason}")


def main() -> None:
    root, orch, a, c = (marque.KeyPair.generate() for _ in range(4))
    print("root key      ", root.public_key.fingerprint)

    token = marque.mint(root, agent="agent:orchestrator", agent_key=orch.public_key, principal="user:alice",
                        task="fix-issue-42", rights=["read_file:read:*", "write_file:write:src/"], ttl_seconds=3600)
    a_token = token.delegate(orch, to="agent:agent_a", to_key=a.public_key, tools=["read_file"],
                             resource_prefix="src/")
    c_token = a_token.delegate(a, to="agent:agent_c", to_key=c.public_key, resource_prefix="src/main.rs",
                               ttl_seconds=600)
    print("chain         ", " → ".join(f"{h.agent} ({h.path})" for h in c_token.chain))
    print("token size    ", len(c_token), "bytes,", len(str(c_token)), "base64 characters\n")

    # The operator signs the fleet's revocation list; the server fails closed when it is older
    # than 5 minutes.
    # Writes under src/release/ need a human approval (user:bob's key), whatever the token says.
    operator, bob = marque.KeyPair.generate(), marque.KeyPair.generate()
    verifier = marque.Verifier([root.public_key], require_proof=True, operator_keys=[operator.public_key],
                               max_revocation_staleness=300, approvers={"user:bob": bob.public_key},
                               approval_rules=["write_file:write:src/release/"])
    verifier.load_revocation_list(marque.RevocationList.sign(marque.RevocationSet(), sequence=1, signer=operator))
    server = marque.KeyPair.generate()  # the tool server's audit key
    log = marque.AuditLog()

    def call(tok: marque.Token, key: marque.KeyPair, tool: str, op: str, res: str,
             approval: str | None = None) -> marque.Decision:
        proof = marque.sign_proof(key, tok, tool=tool, operation=op, resource=res)
        decision = verifier.authorize(str(tok), tool=tool, operation=op, resource=res, proof=proof, approval=approval)
        log.append(server, decision.to_audit_event())
        return decision

    show("agent_c reads src/main.rs", call(c_token, c, "read_file", "read", "src/main.rs"))
    show("agent_c reads src/lib.rs", call(c_token, c, "read_file", "read", "src/lib.rs"))
    show("agent_a writes src/lib.rs", call(a_token, a, "write_file", "write", "src/lib.rs"))
    show("orchestrator writes src/lib.rs", call(token, orch, "write_file", "write", "src/lib.rs"))

    proof = marque.sign_proof(c, c_token, tool="read_file", operation="read", resource="src/main.rs")
    verifier.authorize(c_token, tool="read_file", operation="read", resource="src/main.rs", proof=proof)
    show("the same proof, replayed", verifier.authorize(c_token, tool="read_file", operation="read",
                                                        resource="src/main.rs", proof=proof))
    try:
        marque.sign_proof(a, c_token, tool="read_file", operation="read", resource="src/main.rs")
    except marque.WrongHolderKey as e:
        print(f"  {'agent_a signs for agent_c':<44} REFUSED ({e.code})")

    print("\nwrites under src/release/ need user:bob's approval of the exact call (single use)")
    asked = call(token, orch, "write_file", "write", "src/release/notes.md")
    show("orchestrator writes src/release/notes.md", asked)
    assert asked.approval_request is not None
    approval = marque.approve(bob, approver="user:bob", digest=asked.approval_request["digest"], ttl_seconds=300)
    show("… retried with user:bob's approval", call(token, orch, "write_file", "write", "src/release/notes.md", approval))
    show("… the same approval again", call(token, orch, "write_file", "write", "src/release/notes.md", approval))

    b = marque.KeyPair.generate()
    b_token = token.delegate(orch, to="agent:agent_b", to_key=b.public_key, tools=["read_file"], max_calls=2)
    print("\nagent_b's delegation carries a budget: 2 calls in all (for it and everything it delegates)")
    for n in (1, 2, 3):
        show(f"agent_b reads docs/{n}.md", call(b_token, b, "read_file", "read", f"docs/{n}.md"))

    revoked = marque.RevocationSet(ids=[a_token.revocation_ids[1]])
    verifier.load_revocation_list(marque.RevocationList.sign(revoked, sequence=2, signer=operator))
    print("\nthe operator's signed revocation list #2 revokes agent_a's hop (and everything below it)")
    show("agent_c reads src/main.rs", call(c_token, c, "read_file", "read", "src/main.rs"))
    show("orchestrator reads README.md", call(token, orch, "read_file", "read", "README.md"))

    report = log.verify([server.public_key], log.head)
    print(f"\naudit log: {len(log)} signed entries, verified: {report.ok}, head {report.head[:16]}…")
    tampered = marque.AuditLog.from_jsonl(log.to_jsonl().replace('"decision":"deny"', '"decision":"allow"', 1))
    problem = tampered.verify([server.public_key], log.head).problem
    assert problem is not None
    print(f"one denial rewritten as allowed: entry {problem.index}: {problem.kind}")


if __name__ == "__main__":
    main()
