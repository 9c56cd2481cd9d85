// The delegation story, as a user of an installed marque npm package writes it in TypeScript.
// tests/dist/run.sh copies it into a fresh npm project outside the repository where the package
// was installed from its tarball (for @marque/wasm with '@marque/node' replaced by
// '@marque/wasm'), type-checks it with `tsc --strict` against the package's own declarations,
// and runs the emitted JavaScript. Exits non-zero when a step does not hold.
import { createRequire } from 'node:module'
import { AuditLog, KeyPair, MarqueError, Verifier, mint, signProof } from '@marque/node'
import type { Decision, ErrorCode, Token } from '@marque/node'

const PACKAGE = '@marque/node'
const loadedFrom: string = createRequire(import.meta.url).resolve(PACKAGE)
console.log(`${PACKAGE} from ${loadedFrom}`)

const [root, orch, reader, server] = [KeyPair.generate(), KeyPair.generate(), KeyPair.generate(), KeyPair.generate()]
// Mint for the orchestrator, then delegate offline: read-only, src/ only, 10 minutes.
const token: Token = mint(root, {
  agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:alice', task: 'fix-issue-42',
  rights: ['read_file:read:*', 'write_file:write:src/'], ttlSeconds: 3600,
})
const sub: Token = token.delegate(orch, {
  to: 'agent:reader', toKey: reader.publicKey, tools: ['read_file'], resourcePrefix: 'src/', ttlSeconds: 600,
})

const verifier = new Verifier({ rootKeys: [root.publicKey], requireProof: true })
const log = new AuditLog()
function call(tool: string, operation: string, resource: string): Decision {
  const proof: string = signProof(reader, sub, { tool, operation, resource })
  const decision: Decision = verifier.authorize(sub, { tool, operation, resource, proof })
  log.appendDecision(server, decision)
  return decision
}
const allowed = call('read_file', 'read', 'src/app.py')
const denied = call('write_file', 'write', 'src/app.py')
const deniedCode: ErrorCode | null = denied.code
console.log(`read  src/app.py by ${allowed.agent}: ${allowed.allowed ? 'ALLOWED' : allowed.code}`)
console.log(`write src/app.py by ${denied.agent}: ${denied.allowed ? 'ALLOWED' : deniedCode}`)

// A refusal is a typed MarqueError with a stable code.
let refused: string | null = null
try {
  KeyPair.fromHex('not a key')
} catch (e) {
  if (e instanceof MarqueError) refused = e.code
}

const report = log.verify([server.publicKey])
console.log(`audit: ${log.length} signed entries, verify ok: ${report.ok}; bad key refused: ${refused}`)

const ok = allowed.allowed && allowed.chain.join(' > ') === 'agent:orchestrator > agent:reader' &&
  !denied.allowed && deniedCode === 'not_authorized' && refused === 'invalid_key' && report.ok && log.length === 2
console.log(ok ? 'story: ok' : 'story: FAILED')
process.exit(ok ? 0 : 1)
