// Shared fixtures: deterministic keys and a fixed clock.
import * as marque from '../index.mjs'

export { marque }

/** The `MarqueError` code that `fn` throws; anything else thrown, or nothing, fails the test. */
export function thrownCode(fn) {
  try {
    fn()
  } catch (e) {
    if (!(e instanceof marque.MarqueError)) throw e
    return e.code
  }
  throw new Error('expected a MarqueError')
}
export const NOW = 1_700_000_000
export const seed = (n) => n.toString(16).padStart(2, '0').repeat(32)
export const keys = {
  root: marque.KeyPair.fromHex(seed(1)),
  orch: marque.KeyPair.fromHex(seed(2)),
  agentA: marque.KeyPair.fromHex(seed(3)),
  agentC: marque.KeyPair.fromHex(seed(4)),
  other: marque.KeyPair.fromHex(seed(5)),
}

/** The seed scenario: user → /root orchestrator → /root/agent_a (read-only src/) → /root/agent_a/agent_c (one file). */
export function scenario(now = NOW) {
  const root = marque.mint(keys.root, {
    agent: 'agent:orchestrator',
    agentKey: keys.orch.publicKey,
    principal: 'user:alice',
    task: 'fix-issue-42',
    workspace: 'acme/web',
    rights: [
      { tool: 'read_file', operation: 'read', resource: '*' },
      { tool: 'write_file', operation: 'write', resource: 'src/' },
      'run_tests',
    ],
    ttlSeconds: 3600,
    now,
  })
  const a = root.delegate(keys.orch, {
    to: 'agent:agent_a',
    toKey: keys.agentA.publicKey,
    tools: ['read_file'],
    operations: ['read'],
    resourcePrefix: 'src/',
    now,
  })
  const c = a.delegate(keys.agentA, {
    to: 'agent:agent_c',
    toKey: keys.agentC.publicKey,
    resourcePrefix: 'src/lib.rs',
    ttlSeconds: 600,
    now,
  })
  return { root, a, c }
}

export const verifier = (opts = {}) => new marque.Verifier({ rootKeys: [keys.root.publicKey], ...opts })

/** Runs `fn` and returns the thrown error (fails if nothing is thrown). */
export function thrown(fn) {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected an exception')
}

/**
 * A test's `skip` value: `reason` (a string) or `false`. With `CI` set, a reason throws instead,
 * so a check whose tool is missing fails in CI rather than passing by not running.
 */
export function skipUnlessCI(reason) {
  if (reason && process.env.CI) throw new Error(`CI is set, so this test may not skip: ${reason}`)
  return reason || false
}
