// Type-checks the hand-written declarations (pkg/index.d.ts, pkg/edge.d.ts) against a user
// script: `npm run typecheck` (tsc --noEmit). Not executed.
import init, { initSync, KeyPair, PublicKey, Token, Verifier, mint, signProof, MarqueError, ERROR_CODES, AuditLog, jwtIssue, jwtVerify, RevocationList, parseJwks, toJwks, McpConfig, wwwAuthenticate, httpRefusal, approve, requestDigest } from '../../pkg/index.js'
import type { Admission, Approval, ApprovalRequest, Decision, ErrorCode, Limits, McpOutcome, Signer } from '../../pkg/index.js'
import { guard, mcpMessage } from '../../pkg/edge.js'

export async function main(bytes: Uint8Array, request: Request): Promise<Response> {
  await init(bytes)
  initSync(bytes)
  const root: KeyPair = KeyPair.generate()
  const agent = KeyPair.fromHex(root.toHex())
  const pk: PublicKey = PublicKey.parse(agent.publicKey.toPem())
  const token: Token = mint(root, { agent: 'agent:a', agentKey: pk, principal: 'user:x', rights: ['read_file', { tool: 'x', resource: 'src/' }], ttlSeconds: 60, now: new Date() })
  const child = token.delegate(agent, { to: 'agent:b', toKey: KeyPair.generate().publicKey.toHex(), resourcePrefix: 'src/a' })
  const verifier = new Verifier({ rootKeys: [root.publicKey], limits: { maxTimeMicros: 50_000 } })
  const proof: string = signProof(agent, child, { tool: 'x', resource: 'src/a.rs' })
  const d: Decision = verifier.authorize(child.toBase64(), { tool: 'x', resource: 'src/a.rs', proof, now: 1_700_000_000 })
  const code: ErrorCode | null = d.code
  // Approvals and budgets.
  const gated = new Verifier({ rootKeys: [root.publicKey], approvers: { 'user:alice': agent.publicKey }, approvalRules: ['x:*:src/'] })
  const asked: ApprovalRequest | null = gated.authorize(child, { tool: 'x', resource: 'src/a.rs' }).approvalRequest
  const digest: string = asked?.digest ?? requestDigest(child, { tool: 'x', resource: 'src/a.rs', attributes: { a: 'b' } })
  const approval: string = approve(agent, { approver: 'user:alice', digest, ttlSeconds: 300 })
  const used: Approval | null = gated.authorize(child, { tool: 'x', resource: 'src/a.rs', approval }).approval
  console.log(used?.keyFingerprint, used?.iat, child.delegate(agent, { to: 'agent:c', toKey: pk, maxCalls: 2, rate: { calls: 1, windowSeconds: 60 }, requireApproval: ['x:*:*'] }).path)
  const ids: string[] = d.revocationIds.concat(d.revocation_ids)
  const limits: Limits = verifier.limits
  try {
    verifier.authorizeOrThrow(child, { tool: 'x', resource: 'y' })
  } catch (e) {
    if (e instanceof MarqueError && ERROR_CODES.includes(e.code)) console.log(e.code, code, ids, limits.maxBlocks)
  }
  const log = new AuditLog()
  log.appendDecision(root, d)
  const report = log.verify([root.publicKey])
  const jwt = jwtIssue(root, { sub: 'agent:a', exp: 1 }, { kid: 'k' })
  const claims = jwtVerify(jwt, { k: root.publicKey }, { leewaySeconds: 5 })
  console.log(report.ok, claims.sub, child.chain[0]?.fingerprint, await mcpMessage(request))
  // Keys in operations: a KMS-style signer, a signed revocation list, JWKS root keys.
  const kms: Signer = { publicKey: root.publicKey, sign: (m: Uint8Array) => root.sign(m) }
  const viaKms: Token = mint(kms, { agent: 'agent:a', agentKey: pk, principal: 'user:x', rights: ['x'], ttlSeconds: 60 })
  const list: RevocationList = RevocationList.sign({ agents: ['agent:rogue'] }, { sequence: 1, signer: kms, issuedAt: new Date() })
  const fleet = Verifier.fromJwks(toJwks([root.publicKey]), { operatorKeys: [root.publicKey], maxRevocationStaleness: 300 })
  const loaded: boolean = fleet.loadRevocationList(RevocationList.fromJson(list.toJson()), { now: list.issuedAt })
  fleet.setRootKeysFromJwks({ keys: [root.publicKey.toJwk()] })
  const roots: Record<string, PublicKey> = parseJwks(toJwks({ 7: root.publicKey }))
  const exchanged: string = fleet.authorize(viaKms, { tool: 'x', resource: 'y' }).toCompactJwt(kms, { issuerName: 'gw', audience: 'svc', ttlSeconds: 60 })
  console.log(loaded, fleet.revocationList?.sequence, fleet.maxRevocationStaleness, list.revoked.agents, roots, exchanged)
  const config = new McpConfig({ tools: { read_file: { operation: 'read', resource_arg: 'path' } } })
  const admitted: Admission = verifier.admit(child, { now: 1_700_000_000 })
  const outcome: McpOutcome = verifier.authorizeMcp(config, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { token: child, mcpMethod: 'tools/list' })
  const challenge: string = wwwAuthenticate({ error: 'invalid_token', errorDescription: 'x', scope: admitted.scopes })
  console.log(outcome.allowed, outcome.decision?.code, challenge, httpRefusal('expired').status)
  const r = await guard(request, { verifier, mcp: config, toolFromRequest: (req) => ({ tool: 'http', resource: new URL(req.url).pathname }) })
  if (r instanceof Response) return r
  return fetch('http://127.0.0.1:1/', { method: r.request.method, body: r.request.body })
}
