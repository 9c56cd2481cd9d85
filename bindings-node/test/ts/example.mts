// Type-checked by `tsc --noEmit` in the test suite: the public API as a TypeScript user sees it.
import {
  KeyPair,
  PublicKey,
  Token,
  Verifier,
  Decision,
  MarqueError,
  RevocationList,
  mintAsync,
  parseJwks,
  toJwks,
  jwtIssueAsync,
  type AsyncSigner,
  type RootKey,
  type Signer,
  ERROR_CODES,
  mint,
  signProof,
  approve,
  requestDigest,
  type Approval,
  type ApprovalRequest,
  type ErrorCode,
  type DecisionJson,
  type Hop,
  type Jwk,
  type Right,
} from '@marque/node'

const root: KeyPair = KeyPair.generate()
const orch = KeyPair.fromHex('02'.repeat(32))
const child = KeyPair.fromPem(KeyPair.generate().toPem())
const pk: PublicKey = PublicKey.fromJwk(orch.publicKey.toJwk())
const jwk: Jwk = pk.toJwk()
const did: string = pk.toDid()
const fp: string = pk.fingerprint

const token: Token = mint(root, {
  agent: 'agent:orchestrator',
  agentKey: orch.publicKey,
  principal: 'user:alice',
  task: 'fix-issue-42',
  rights: [{ tool: 'read_file', operation: 'read' }, 'write_file:write:src/'],
  ttlSeconds: 3600,
  now: new Date(),
})
const delegated: Token = token.delegate(orch, {
  to: 'agent:agent_a',
  toKey: child.publicKey.toHex(),
  tools: ['read_file'],
  resourcePrefix: 'src/',
  ttlSeconds: 600,
})
const hops: Hop[] = delegated.chain
const ids: string[] = delegated.revocationIds
const rights: Right[] = delegated.rights
const text: string = delegated.toBase64()
const again: Token = Token.fromBase64(text)
const datalog: string = again.toDatalog()
const task: string | null = again.task

const verifier = new Verifier({ rootKeys: { '7': root.publicKey }, requireProof: false, limits: { proofWindowSeconds: 30 } })
new Verifier({ rootKeys: [root.publicKey.toPem(), root.publicKey.toBytes(), jwk] })
verifier.revoke(ids[1])
verifier.revokeAgent('agent:x')
verifier.revokePrincipal('user:mallory')
verifier.revokeTask('t')
const proof: string = signProof(child, delegated, { tool: 'read_file', resource: 'src/a.ts', operation: 'read', now: Date.now() / 1000 })
const decision: Decision = verifier.authorize(text, { tool: 'read_file', operation: 'read', resource: 'src/a.ts', proof })
const allowed: boolean = decision.allowed
const code: ErrorCode | null = decision.code
const chain: string[] = decision.chain
const json: DecisionJson = decision.toJSON()
const snake: number = json.expires_at
// Approvals and budgets.
const gated = new Verifier({ rootKeys: [root.publicKey], approvers: { 'user:alice': orch.publicKey }, approvalRules: ['read_file:*:src/'] })
const asked: ApprovalRequest | null = gated.authorize(text, { tool: 'read_file', resource: 'src/a.ts' }).approvalRequest
const digest: string = asked?.digest ?? requestDigest(text, { tool: 'read_file', resource: 'src/a.ts', attributes: { a: 'b' } })
const approval: string = approve(orch, { approver: 'user:alice', digest, ttlSeconds: 300 })
const used: Approval | null = gated.authorize(text, { tool: 'read_file', resource: 'src/a.ts', approval }).approval
const approvedBy: string | undefined = used?.keyFingerprint ?? decision.toJSON().approval?.key_fingerprint
const budgeted: Token = delegated.delegate(child, { to: 'agent:c', toKey: pk, maxCalls: 2, rate: { calls: 1, windowSeconds: 60 }, requireApproval: ['x:*:*'] })

async function later(): Promise<boolean> {
  const d: Decision = await verifier.authorizeAsync(delegated, { tool: 'read_file', resource: 'src/a.ts' })
  return d.allowed
}

try {
  Token.fromBase64('!')
} catch (e) {
  if (e instanceof MarqueError) {
    const c: ErrorCode = e.code
    const all: readonly ErrorCode[] = ERROR_CODES
    console.log(c, all.length, e.message, e.stack)
  }
}

// Keys in operations: a KMS-style signer, a signed revocation list, a JWKS verifier.
const kms: Signer = { publicKey: root.publicKey, sign: (m: Uint8Array): Uint8Array => root.sign(m) }
const asyncKms: AsyncSigner = { publicKey: root.publicKey.toHex(), sign: async (m: Uint8Array) => root.sign(m) }
const viaKms: Token = mint(kms, { agent: 'agent:o', agentKey: orch.publicKey, principal: 'p', rights: ['read_file'], ttlSeconds: 60 })
const list: RevocationList = RevocationList.sign({ agents: ['agent:rogue'] }, { sequence: 2, signer: kms, issuedAt: new Date() })
const listJson: string = list.toJson()
const seq: number = RevocationList.fromJson(JSON.parse(listJson)).sequence
const fleet = Verifier.fromJwks(toJwks([root.publicKey]), { operatorKeys: [root.publicKey], maxRevocationStaleness: 300 })
const loaded: boolean = fleet.loadRevocationList(listJson, { now: Date.now() / 1000 })
const current: RevocationList | null = fleet.revocationList
fleet.setRootKeysFromJwks({ keys: [root.publicKey.toJwk() as unknown as Record<string, unknown>] })
const roots: RootKey[] = parseJwks(toJwks({ '7': root.publicKey }))

async function kmsLater(): Promise<string> {
  const t: Token = await mintAsync(asyncKms, { agent: 'agent:o', agentKey: orch.publicKey, principal: 'p', rights: ['read_file'], ttlSeconds: 60 })
  const signed: RevocationList = await RevocationList.signAsync({}, { sequence: 3, signer: asyncKms })
  return (await jwtIssueAsync(asyncKms, { sub: t.agent, exp: 1 })) + signed.toJson()
}

export { viaKms, seq, loaded, current, roots, kmsLater }
export { allowed, code, chain, did, fp, hops, datalog, task, snake, later }
