// Type-checked by `tsc --noEmit` in the test suite: the public API as a TypeScript user sees it.
import {
  KeyPair,
  PublicKey,
  Token,
  Verifier,
  Decision,
  MarqueError,
  ERROR_CODES,
  mint,
  signProof,
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

export { allowed, code, chain, did, fp, hops, datalog, task, snake, later }
