// The marque story in JavaScript, with either package: `node examples/demo.mjs node` (@marque/node,
// napi) or `node examples/demo.mjs wasm` (@marque/wasm, the build edge runtimes use): mint → attenuate
// twice → authorize (allowed and denied) → a thief without the key → revoke (a signed revocation
// list) → a call held for a human approval, then approved → a call budget running out → a signed
// audit log.
// Run by scripts/setup.sh and scripts/test.sh.
const which = process.argv[2] ?? 'node'
const entry = { node: '../bindings-node/index.mjs', wasm: '../bindings-wasm/pkg/node.js' }[which]
if (!entry) throw new Error('usage: node examples/demo.mjs node|wasm')
const { AuditLog, KeyPair, RevocationList, Verifier, approve, mint, signProof } = await import(entry)
console.log(`[${which === 'node' ? '@marque/node' : '@marque/wasm'}]`)

const [root, orch, agentA, agentC, server] = Array.from({ length: 5 }, () => KeyPair.generate())
const token = mint(root, {
  agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:alice', task: 'fix-issue-42',
  rights: ['read_file:read:*', 'write_file:write:src/'], ttlSeconds: 3600,
})
const forA = token.delegate(orch, { to: 'agent:agent_a', toKey: agentA.publicKey, tools: ['read_file'], resourcePrefix: 'src/', ttlSeconds: 900 })
const forC = forA.delegate(agentA, { to: 'agent:agent_c', toKey: agentC.publicKey, resourcePrefix: 'src/main.rs' })
console.log(`minted for ${token.path}, delegated to ${forA.path}, then to ${forC.path}`)

// The operator signs the fleet's revocation list; the server fails closed when it is older than 5 minutes.
const operator = KeyPair.generate()
const verifier = new Verifier({ rootKeys: [root.publicKey], requireProof: true, operatorKeys: [operator.publicKey], maxRevocationStaleness: 300 })
verifier.loadRevocationList(RevocationList.sign({}, { sequence: 1, signer: operator }))
const log = new AuditLog()
for (const [tool, operation, resource] of [['read_file', 'read', 'src/main.rs'], ['write_file', 'write', 'src/main.rs']]) {
  const proof = signProof(agentC, forC, { tool, operation, resource })
  const d = verifier.authorize(forC, { tool, operation, resource, proof })
  console.log(`  ${d.allowed ? 'ALLOWED' : `DENIED (${d.code})`} ${tool}:${operation} ${resource} by ${d.agent} (chain ${d.chain.join(' → ')})`)
  for (const r of d.reasons) console.log(`      reason: ${r}`)
  log.appendDecision(server, d)
}
const stolen = verifier.authorize(forC, { tool: 'read_file', operation: 'read', resource: 'src/main.rs' })
console.log(`  a thief without agent_c's key: ${stolen.allowed ? 'ALLOWED' : `DENIED (${stolen.code})`}`)

verifier.loadRevocationList(RevocationList.sign({ ids: [forA.revocationIds[1]] }, { sequence: 2, signer: operator }))
const proof = signProof(agentC, forC, { tool: 'read_file', operation: 'read', resource: 'src/main.rs' })
const after = verifier.authorize(forC, { tool: 'read_file', operation: 'read', resource: 'src/main.rs', proof })
console.log(`  after the operator's signed list #2 revokes agent_a's hop: ${after.allowed ? 'ALLOWED' : `DENIED (${after.code})`}`)
log.appendDecision(server, after)

// A human in the loop: releases need alice's approval of that exact call; agent_d may call twice.
const alice = KeyPair.generate()
const gate = new Verifier({ rootKeys: [root.publicKey], approvers: { 'user:alice': alice.publicKey }, approvalRules: ['write_file:*:src/release/'] })
const release = { tool: 'write_file', operation: 'write', resource: 'src/release/notes.md' }
const held = gate.authorize(token, release)
console.log(`  ${release.tool} ${release.resource}: DENIED (${held.code}) until ${held.approvalRequest.approvers.join(', ')} approves digest ${held.approvalRequest.digest.slice(0, 12)}…`)
const approval = approve(alice, { approver: 'user:alice', digest: held.approvalRequest.digest, ttlSeconds: 300 })
const approved = gate.authorize(token, { ...release, approval })
const reused = gate.authorize(token, { ...release, approval })
console.log(`  retried with ${approved.approval?.approver}'s approval: ${approved.allowed ? 'ALLOWED' : `DENIED (${approved.code})`}; the same approval again: DENIED (${reused.code})`)
log.appendDecision(server, approved)
const forD = token.delegate(orch, { to: 'agent:agent_d', toKey: KeyPair.generate().publicKey, tools: ['read_file'], maxCalls: 2 })
const calls = [1, 2, 3].map(() => gate.authorize(forD, { tool: 'read_file', operation: 'read', resource: 'README.md' }))
console.log(`  agent_d with maxCalls 2: ${calls.map((d) => (d.allowed ? 'ALLOWED' : `DENIED (${d.code})`)).join(', ')}: ${calls[2].reasons[0]}`)
log.appendDecision(server, calls[2])
if (!approved.allowed || reused.allowed || calls[2].code !== 'budget_exhausted') process.exit(1)

const report = log.verify([server.publicKey])
console.log(`audit: ${report.entries} signed, hash-chained entries; verify → ${report.ok ? 'ok' : 'BROKEN'}`)
const tampered = AuditLog.fromJsonl(log.toJsonl().replace('"deny"', '"allow"')).verify([server.publicKey])
console.log(`  a denial rewritten into an allow → entry ${tampered.problem?.index} flagged: ${tampered.problem?.kind}`)
if (!report.ok || tampered.ok) process.exit(1)
