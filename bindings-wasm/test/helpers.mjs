// Shared helpers of the @marque/wasm tests (node --test bindings-wasm/test/).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import assert from 'node:assert/strict'

// MARQUE_WASM_PKG=pkg-verify runs the tests that need no minting against the verifier-only build.
export const PKG = fileURLToPath(new URL(`../${process.env.MARQUE_WASM_PKG ?? 'pkg'}/`, import.meta.url))
export const REPO = fileURLToPath(new URL('../../', import.meta.url))
export const marque = await import(new URL('node.js', `file://${PKG}`).href)

/** The shared vectors, read as text so the tokens are used byte for byte. */
export const vectors = JSON.parse(readFileSync(new URL('../../tests/vectors/tokens.json', import.meta.url), 'utf8'))
export const NOW = vectors.now

/** The vectors' key pairs by name (root, orchestrator, agent_a, agent_c, other_root). */
export function key(name) {
  return marque.KeyPair.fromHex(vectors.keys[name].seed_hex)
}

/** Asserts `fn` throws a MarqueError with `code`. */
export function throwsCode(fn, code, message) {
  let thrown
  try {
    fn()
  } catch (e) {
    thrown = e
  }
  assert.ok(thrown !== undefined, message ?? `expected a MarqueError ${code}, nothing was thrown`)
  assert.ok(thrown instanceof marque.MarqueError, `expected a MarqueError, got ${thrown}`)
  assert.ok(thrown instanceof Error)
  assert.equal(thrown.code, code, `${message ?? ''} (message: ${thrown.message})`)
  return thrown
}

/** A minted orchestrator token with a two-hop chain below it, at `NOW`. */
export function chain() {
  const root = key('root')
  const orch = key('orchestrator')
  const a = key('agent_a')
  const c = key('agent_c')
  const t0 = marque.mint(root, {
    agent: 'agent:orchestrator',
    agentKey: orch.publicKey,
    principal: 'user:alice',
    task: 'fix-issue-42',
    workspace: 'acme/web',
    rights: [{ tool: 'read_file', operation: 'read', resource: '*' }, 'write_file:write'],
    ttlSeconds: 3600,
    now: NOW,
  })
  const ta = t0.delegate(orch, {
    to: 'agent:agent_a',
    toKey: a.publicKey,
    tools: ['read_file'],
    operations: ['read'],
    resourcePrefix: 'src/',
    ttlSeconds: 1800,
    now: NOW,
  })
  const tc = ta.delegate(a, { to: 'agent:agent_c', toKey: c.publicKey.toHex(), resourcePrefix: 'src/main.rs', now: NOW })
  const verifier = new marque.Verifier({ rootKeys: [root.publicKey] })
  return { root, orch, a, c, t0, ta, tc, verifier }
}

/**
 * A test's `skip` value: `reason` (a string) or `false`. With `CI` set, a reason throws instead,
 * so a check whose tool is missing fails in CI rather than passing by not running.
 */
export function skipUnlessCI(reason) {
  if (reason && process.env.CI) throw new Error(`CI is set, so this test may not skip: ${reason}`)
  return reason || false
}
