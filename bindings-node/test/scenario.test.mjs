// The seed scenario, end to end: user → /root orchestrator → /root/agent_a (read-only src/) →
// /root/agent_a/agent_c (a single file), each hop passing its token on and each call signed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, keys, NOW } from './helpers.mjs'

const { KeyPair, Token, Verifier, mint, signProof } = marque

test('seed scenario', () => {
  // The operator's root key and the tool server's verifier (it only knows the root public key).
  const rootPem = keys.root.toPem()
  const verifier = new Verifier({ rootKeys: [KeyPair.fromPem(rootPem).publicKey.toPem()] })

  // Alice's orchestrator gets a token.
  const orchestrator = KeyPair.generate()
  const t0 = mint(KeyPair.fromPem(rootPem), {
    agent: 'agent:orchestrator',
    agentKey: orchestrator.publicKey.toDid(),
    principal: 'user:alice',
    task: 'fix-issue-42',
    rights: [{ tool: 'read_file', operation: 'read' }, { tool: 'write_file', operation: 'write', resource: 'src/' }],
    ttlSeconds: 3600,
    now: NOW,
  })

  // It spawns agent_a, read-only on src/; the token travels as text.
  const agentA = KeyPair.generate()
  const wireA = t0.delegate(orchestrator, { to: 'agent:agent_a', toKey: agentA.publicKey.toHex(), tools: ['read_file'], operations: ['read'], resourcePrefix: 'src/', now: NOW }).toBase64()

  // agent_a spawns agent_c for a single file, for ten minutes.
  const agentC = KeyPair.generate()
  const tokenA = Token.fromBase64(wireA)
  assert.equal(tokenA.path, '/root/agent_a')
  const wireC = tokenA.delegate(agentA, { to: 'agent:agent_c', toKey: agentC.publicKey.toJwk(), resourcePrefix: 'src/auth/login.ts', ttlSeconds: 600, now: NOW }).toBase64()

  const call = (wire, signer, resource, tool = 'read_file', operation = 'read', now = NOW + 5) => {
    const proof = signProof(signer, wire, { tool, operation, resource, now })
    return verifier.authorize(wire, { tool, operation, resource, proof, now })
  }

  // The orchestrator may write src/, agent_a may read src/, agent_c may read its one file.
  assert.equal(call(t0, orchestrator, 'src/index.ts', 'write_file', 'write').allowed, true)
  assert.equal(call(wireA, agentA, 'src/index.ts').allowed, true)
  const ok = call(wireC, agentC, 'src/auth/login.ts')
  assert.equal(ok.allowed, true)
  assert.equal(ok.proofVerified, true)
  assert.equal(ok.agent, 'agent:agent_c')
  assert.equal(ok.path, '/root/agent_a/agent_c')
  assert.deepEqual(ok.chain, ['agent:orchestrator', 'agent:agent_a', 'agent:agent_c'])
  assert.equal(ok.principal, 'user:alice')
  assert.equal(ok.task, 'fix-issue-42')

  // Outside the delegation: denied as data, with the failing hop named.
  const wrongFile = call(wireC, agentC, 'src/auth/session.ts')
  assert.equal(wrongFile.allowed, false)
  assert.equal(wrongFile.code, 'not_authorized')
  assert.ok(wrongFile.reasons.some((r) => r.includes('agent:agent_a → agent:agent_c')))
  const write = call(wireA, agentA, 'src/index.ts', 'write_file', 'write')
  assert.equal(write.allowed, false)
  const readme = call(wireA, agentA, 'README.md')
  assert.equal(readme.allowed, false)

  // agent_c cannot widen what it holds, nor can agent_a sign for agent_c.
  assert.throws(() => Token.fromBase64(wireC).delegate(agentC, { to: 'agent:d', toKey: KeyPair.generate().publicKey, resourcePrefix: 'src/' }), { code: 'attenuation_widens' })
  assert.throws(() => signProof(agentA, wireC, { tool: 'read_file', operation: 'read', resource: 'src/auth/login.ts' }), { code: 'wrong_holder_key' })

  // A stolen token without agent_c's key is useless when proofs are required.
  const strict = new Verifier({ rootKeys: [keys.root.publicKey], requireProof: true })
  assert.equal(strict.authorize(wireC, { tool: 'read_file', operation: 'read', resource: 'src/auth/login.ts', now: NOW }).code, 'invalid_proof')

  // After ten minutes agent_c's token has expired; agent_a's has not.
  assert.equal(call(wireC, agentC, 'src/auth/login.ts', 'read_file', 'read', NOW + 601).code, 'expired')
  assert.equal(call(wireA, agentA, 'src/index.ts', 'read_file', 'read', NOW + 601).allowed, true)

  // Revoking agent_a's hop kills agent_c's token too, but not the orchestrator's.
  verifier.revoke(tokenA.revocationIds[1])
  assert.equal(call(wireC, agentC, 'src/auth/login.ts').code, 'revoked')
  assert.equal(call(t0, orchestrator, 'src/index.ts').allowed, true)
})
