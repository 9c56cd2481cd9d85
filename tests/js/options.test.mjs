// A misspelt option never changes what a call does: for every options-taking function of the
// shared API, an unknown key and a snake_case spelling of a real key are refused with
// `invalid_argument` — naming the key and the spelling meant — in @marque/node and @marque/wasm
// alike (MARQUE_JS=node|wasm). `token.delegate(a, { to, toKey, resource_prefix: 'src/' })` once
// succeeded in @marque/node, delegating without the narrowing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { marque, RUNTIME } from './marque.mjs'

const { KeyPair, Verifier, RevocationList, AuditLog, MarqueError, mint, signProof, jwtIssue, jwtVerify } = marque
const NOW = 1_767_225_600
const kp = (n) => KeyPair.fromSeed(new Uint8Array(32).fill(n))
const [root, orch, agent, operator] = [kp(1), kp(2), kp(3), kp(5)]
const audit = JSON.parse(readFileSync(new URL('../vectors/audit.json', import.meta.url), 'utf8'))

const mintOptions = {
  agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:alice',
  rights: [{ tool: 'read_file', operation: 'read', resource: '*' }], ttlSeconds: 3600, now: NOW,
}
const token = mint(root, mintOptions)
const delegateOptions = { to: 'agent:a', toKey: agent.publicKey, resourcePrefix: 'src/', ttlSeconds: 600, now: NOW }
const child = token.delegate(orch, delegateOptions)
const proofOptions = { tool: 'read_file', operation: 'read', resource: 'src/a.rs', now: NOW }
const authorizeOptions = () => ({ ...proofOptions, proof: signProof(agent, child, proofOptions) })
const verifier = () => new Verifier({ rootKeys: [root.publicKey], operatorKeys: [operator.publicKey] })
const decision = verifier().authorize(child, { tool: 'read_file', operation: 'read', resource: 'src/a.rs', now: NOW })
const listOptions = { sequence: 1, signer: operator, issuedAt: NOW }
const list = RevocationList.sign({ agents: ['agent:rogue'] }, listOptions)
const jwt = jwtIssue(orch, { sub: 'agent:a', aud: 'tools', exp: NOW + 600 }, { kid: 'k1' })
const jwtVerifyOptions = { audience: 'tools', now: NOW }
const auditLog = () => {
  const log = new AuditLog()
  log.append(KeyPair.fromHex(audit.signer_seed_hex), audit.events[0])
  return log
}
const auditKeys = [KeyPair.fromHex(audit.signer_seed_hex).publicKey]

// Each case: the options object a call accepts, and the call. `misspelt` is a snake_case (or,
// for snake_case records, camelCase) spelling of one of its keys and the key it stands for.
const cases = [
  { name: 'mint', options: mintOptions, misspelt: ['ttl_seconds', 'ttlSeconds'], call: (o) => mint(root, o) },
  {
    name: 'mint: a right given as an object',
    options: { tool: 'read_file', operation: 'read', resource: 'src/' },
    misspelt: ['Resource', 'resource'],
    call: (o) => mint(root, { ...mintOptions, rights: [o] }),
  },
  {
    name: 'token.delegate', options: delegateOptions, misspelt: ['resource_prefix', 'resourcePrefix'],
    call: (o) => token.delegate(orch, o),
  },
  { name: 'signProof', options: proofOptions, misspelt: ['resource_', 'resource'], call: (o) => signProof(agent, child, o) },
  {
    name: 'new Verifier', options: { rootKeys: [root.publicKey], requireProof: true },
    misspelt: ['require_proof', 'requireProof'], call: (o) => new Verifier(o),
  },
  {
    name: 'new Verifier: limits', options: { maxTokenBytes: 8192, replayCachePerKey: 10 },
    misspelt: ['max_token_bytes', 'maxTokenBytes'], call: (o) => new Verifier({ rootKeys: [root.publicKey], limits: o }),
  },
  {
    name: 'new Verifier: a policy', options: { id: 'no-etc', source: 'deny if resource($r), $r.starts_with("etc/");' },
    misspelt: ['ID', 'id'], call: (o) => new Verifier({ rootKeys: [root.publicKey], policies: [o] }),
  },
  {
    name: 'Verifier.fromJwks', options: { requireProof: true }, misspelt: ['require_proof', 'requireProof'],
    call: (o) => Verifier.fromJwks(marque.toJwks([root.publicKey]), o),
  },
  {
    name: 'verifier.authorize', options: proofOptions, misspelt: ['Tool', 'tool'],
    fresh: authorizeOptions, call: (o) => verifier().authorize(child, o),
  },
  {
    name: 'verifier.authorizeOrThrow', options: proofOptions, misspelt: ['resourse', 'resource'],
    fresh: authorizeOptions, call: (o) => verifier().authorizeOrThrow(child, o),
  },
  {
    name: 'verifier.loadRevocationList', options: { now: NOW }, misspelt: ['NOW', 'now'],
    call: (o) => verifier().loadRevocationList(list, o),
  },
  {
    name: 'verifier.checkRevocationListFresh', options: { now: NOW }, misspelt: ['no_w', 'now'],
    call: (o) => verifier().checkRevocationListFresh(o),
  },
  {
    name: 'verifier.mergeRevocations', options: { agents: ['agent:rogue'] }, misspelt: ['agnets', 'agents'],
    call: (o) => verifier().mergeRevocations(o),
  },
  { name: 'RevocationList.sign: options', options: listOptions, misspelt: ['issued_at', 'issuedAt'], call: (o) => RevocationList.sign({}, o) },
  {
    name: 'RevocationList.sign: the set', options: { tasks: ['t-1'] }, misspelt: ['task', 'tasks'],
    call: (o) => RevocationList.sign(o, listOptions),
  },
  { name: 'jwtIssue', options: { kid: 'k1' }, misspelt: ['key_id', null], call: (o) => jwtIssue(orch, { exp: NOW + 60 }, o) },
  {
    name: 'jwtVerify', options: jwtVerifyOptions, misspelt: ['leeway_seconds', 'leewaySeconds'],
    call: (o) => jwtVerify(jwt, { k1: orch.publicKey }, o),
  },
  {
    name: 'decision.toCompactJwt', options: { issuerName: 'gateway', audience: 'tools', ttlSeconds: 60 },
    misspelt: ['issuer_name', 'issuerName'], call: (o) => decision.toCompactJwt(orch, o),
  },
  { name: 'auditLog.verify', options: {}, misspelt: ['expected_head', 'expectedHead'], call: (o) => auditLog().verify(auditKeys, o) },
  {
    name: 'auditLog.verifyOrThrow', options: {}, misspelt: ['expectedHeads', 'expectedHead'],
    call: (o) => auditLog().verifyOrThrow(auditKeys, o),
  },
  {
    name: 'auditLog.append: the event (snake_case wire form)', options: audit.events[0], misspelt: ['eventType', 'event_type'],
    call: (o) => new AuditLog().append(KeyPair.fromHex(audit.signer_seed_hex), o),
  },
  { name: 'verifier.admit', options: { now: NOW }, misspelt: ['Now', 'now'], call: (o) => verifier().admit(child, o) },
  {
    name: 'verifier.authorizeMcp', options: { token: child, mcpMethod: 'tools/list', now: NOW }, misspelt: ['mcp_method', 'mcpMethod'],
    call: (o) => verifier().authorizeMcp(new marque.McpConfig(), { jsonrpc: '2.0', id: 1, method: 'tools/list' }, o),
  },
  {
    name: 'mcpConfig.map', options: { mcpMethod: 'tools/list' }, misspelt: ['mcp_name', 'mcpName'],
    call: (o) => new marque.McpConfig().map({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, o),
  },
  {
    name: 'mcpConfig.clientHeaders', options: { now: NOW }, misspelt: ['NOW', 'now'],
    call: (o) => new marque.McpConfig().clientHeaders({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, child, agent, o),
  },
  {
    name: 'wwwAuthenticate', options: { realm: 'mcp', error: 'invalid_token', errorDescription: 'expired' },
    misspelt: ['error_description', 'errorDescription'], call: (o) => marque.wwwAuthenticate(o),
  },
  {
    name: 'protectedResourceMetadata', options: { resource: 'https://mcp.example.com/mcp', scopesSupported: ['read_file:read:*'] },
    misspelt: ['scopes_supported', 'scopesSupported'], call: (o) => marque.protectedResourceMetadata(o),
  },
]

// @marque/node only: the `*Async` variants (wasm runs on the JS thread and has none) take the same
// options objects.
if (typeof marque.mintAsync === 'function') {
  cases.push(
    { name: 'mintAsync', options: mintOptions, misspelt: ['max_depth', 'maxDepth'], call: (o) => marque.mintAsync(root, o) },
    {
      name: 'token.delegateAsync', options: delegateOptions, misspelt: ['resource_prefix', 'resourcePrefix'],
      call: (o) => token.delegateAsync(orch, o),
    },
    { name: 'signProofAsync', options: proofOptions, misspelt: ['resource_', 'resource'], call: (o) => marque.signProofAsync(agent, child, o) },
    {
      name: 'verifier.authorizeAsync', options: proofOptions, misspelt: ['Tool', 'tool'],
      fresh: authorizeOptions, call: (o) => verifier().authorizeAsync(child, o),
    },
    { name: 'RevocationList.signAsync', options: listOptions, misspelt: ['issued_at', 'issuedAt'], call: (o) => RevocationList.signAsync({}, o) },
  )
}

/** Runs `fn` (sync or async); resolves to what it threw, or undefined. */
async function thrown(fn) {
  try {
    await fn()
  } catch (e) {
    return e
  }
  return undefined
}

async function refused(c, options, key, meant) {
  const e = await thrown(() => c.call(options))
  assert.ok(e instanceof MarqueError, `${c.name} with ${JSON.stringify(key)}: expected a MarqueError, got ${e}`)
  assert.equal(e.code, 'invalid_argument', `${c.name}: ${e.message}`)
  assert.ok(e.message.includes(`\`${key}\``), `${c.name}: the message names the key: ${e.message}`)
  if (meant) assert.ok(e.message.includes(`did you mean \`${meant}\``), `${c.name}: the message suggests ${meant}: ${e.message}`)
  return e
}

for (const c of cases) {
  test(`options (${RUNTIME}): ${c.name} refuses an unknown key and a misspelling`, async () => {
    const options = () => (c.fresh ? c.fresh() : { ...c.options })
    // The options themselves are fine (so a refusal below is about the extra key alone).
    assert.equal(await thrown(() => c.call(options())), undefined, `${c.name}: the valid options must work`)
    await refused(c, { ...options(), bogus_option: 1 }, 'bogus_option', null)
    const [wrong, meant] = c.misspelt
    await refused(c, { ...options(), [wrong]: c.options[meant] ?? 'x' }, wrong, meant)
  })
}

/** What `fn` throws (synchronously), or undefined. */
function throwsSync(fn) {
  try {
    fn()
  } catch (e) {
    return e
  }
  return undefined
}

test(`options (${RUNTIME}): a misspelt narrowing never delegates more`, () => {
  const { to, toKey, now } = delegateOptions
  for (const wrong of ['resource_prefix', 'resourceprefix', 'ResourcePrefix', 'prefix']) {
    const e = throwsSync(() => token.delegate(orch, { to, toKey, now, [wrong]: 'src/' }))
    assert.ok(e instanceof MarqueError, `${wrong}: expected a refusal, got ${e}`)
    assert.equal(e.code, 'invalid_argument', `${wrong}: ${e.message}`)
  }
  const e = throwsSync(() => token.delegate(orch, { to, toKey, now, resource_prefix: 'src/' }))
  assert.match(e.message, /unknown key `resource_prefix` \(did you mean `resourcePrefix`\?\)/)
})

test(`options (${RUNTIME}): require_proof is not silently ignored`, () => {
  const e = throwsSync(() => new Verifier({ rootKeys: [root.publicKey], require_proof: true }))
  assert.ok(e instanceof MarqueError, `expected a refusal, got ${e}`)
  assert.equal(e.code, 'invalid_argument')
  // With the right spelling a call without a proof is denied.
  const v = new Verifier({ rootKeys: [root.publicKey], requireProof: true })
  assert.equal(v.authorize(child, proofOptions).code, 'invalid_proof')
})

test(`options (${RUNTIME}): keys inherited or symbol-keyed are not options; arrays and null are not options objects`, () => {
  const inherited = Object.create({ bogus: 1 })
  Object.assign(inherited, delegateOptions)
  assert.equal(token.delegate(orch, inherited).path, '/root/a')
  assert.equal(token.delegate(orch, { ...delegateOptions, [Symbol('x')]: 1 }).path, '/root/a')
  for (const bad of [[], null, 'to=agent:a']) {
    const e = throwsSync(() => token.delegate(orch, bad))
    assert.ok(e instanceof MarqueError, `${JSON.stringify(bad)}: ${e}`)
    assert.equal(e.code, 'invalid_argument', `${JSON.stringify(bad)}: ${e.message}`)
  }
})
