// Each marked line must be a type error (checked by test/modules.test.mjs).
import { KeyPair, Verifier, mint, Token } from '@marque/node'
const k = KeyPair.generate()
// error: ttlSeconds is a number
mint(k, { agent: 'a', agentKey: k.publicKey, principal: 'p', rights: [], ttlSeconds: '1' })
// error: unknown option
new Verifier({ rootKeys: [k.publicKey], rootkeys: [] })
// error: decision.allowed is boolean
const n: number = new Verifier({ rootKeys: [] }).authorize('t', { tool: 't', resource: 'r' }).allowed
// error: delegate needs a KeyPair or a Signer
Token.fromBase64('x').delegate(k.publicKey, { to: 'a', toKey: k.publicKey })
// error: a right needs a tool
mint(k, { agent: 'a', agentKey: k.publicKey, principal: 'p', rights: [{ operation: 'read' }], ttlSeconds: 1 })
// error: a synchronous Signer cannot return a Promise (that is an AsyncSigner, for mintAsync)
mint({ publicKey: k.publicKey, sign: async (m: Uint8Array) => k.sign(m) }, { agent: 'a', agentKey: k.publicKey, principal: 'p', rights: [], ttlSeconds: 1 })
export { n }
