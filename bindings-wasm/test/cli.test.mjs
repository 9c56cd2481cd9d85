// Cross-check with the core: a token minted and delegated here, with a proof signed here, is
// decided by the Rust CLI (`marque authorize`) exactly as by this package. Needs the CLI built
// (`cargo build -p marque-cli`); skipped with a message when it is not.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO, marque, key, skipUnlessCI } from './helpers.mjs'

const CLI = process.env.MARQUE_CLI ?? join(REPO, 'target/debug/marque')
const skip = skipUnlessCI(existsSync(CLI) ? false : `the CLI is not built (${CLI}); run cargo build -p marque-cli`)

test('wasm-minted tokens and proofs verify in the core CLI', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'marque-wasm-cli-'))
  try {
    const root = key('root')
    const orch = marque.KeyPair.generate()
    const child = marque.KeyPair.generate()
    const now = Math.floor(Date.now() / 1000)
    const token = marque
      .mint(root, { agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:alice', task: 't-1', rights: ['read_file:read:src/'], ttlSeconds: 600, now })
      .delegate(orch, { to: 'agent:child', toKey: child.publicKey, resourcePrefix: 'src/lib.rs', now })
    writeFileSync(join(dir, 'token'), token.toBase64())
    const cli = (resource, extra = []) => {
      const r = spawnSync(CLI, ['authorize', '--root-pub', root.publicKey.toHex(), '--token', `@${join(dir, 'token')}`,
        '--tool', 'read_file', '--operation', 'read', '--resource', resource, '--now', String(now + 1), ...extra], { encoding: 'utf8', timeout: 30_000 })
      return { status: r.status, decision: r.stdout ? JSON.parse(r.stdout) : null, stderr: r.stderr }
    }
    const verifier = new marque.Verifier({ rootKeys: [root.publicKey] })
    for (const resource of ['src/lib.rs', 'src/main.rs', 'src/lib.rsx']) {
      const got = cli(resource)
      const here = verifier.authorize(token, { tool: 'read_file', operation: 'read', resource, now: now + 1 })
      assert.equal(got.status, here.allowed ? 0 : 1, got.stderr)
      // The CLI prints the core's Decision JSON: the same object as this package's decision.
      assert.deepEqual(got.decision, JSON.parse(JSON.stringify(here)))
    }
    const proof = marque.signProof(child, token, { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now })
    writeFileSync(join(dir, 'proof'), proof)
    const withProof = cli('src/lib.rs', ['--proof', `@${join(dir, 'proof')}`])
    assert.equal(withProof.status, 0, withProof.stderr)
    assert.equal(withProof.decision.proof_verified, true)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a revocation list and a JWKS document made here (signed by a { publicKey, sign } signer) work in the core CLI', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'marque-wasm-cli-'))
  try {
    const root = key('root')
    const operator = marque.KeyPair.generate()
    const orch = marque.KeyPair.generate()
    const now = Math.floor(Date.now() / 1000)
    const kms = { publicKey: root.publicKey, sign: (m) => root.sign(m) }
    const token = marque.mint(kms, { agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:alice', rights: ['read_file:read:src/'], ttlSeconds: 600, now })
    writeFileSync(join(dir, 'token'), token.toBase64())
    writeFileSync(join(dir, 'jwks.json'), marque.toJwks([root.publicKey]))
    const list = marque.RevocationList.sign({ agents: ['agent:orchestrator'] }, { sequence: 1, issuedAt: now, signer: { publicKey: operator.publicKey, sign: (m) => operator.sign(m) } })
    writeFileSync(join(dir, 'list.json'), list.toJson())
    const cli = (args) => spawnSync(CLI, args, { encoding: 'utf8', timeout: 30_000 })
    const base = ['authorize', '--jwks', join(dir, 'jwks.json'), '--token', `@${join(dir, 'token')}`, '--tool', 'read_file', '--operation', 'read', '--resource', 'src/a.rs', '--now', String(now + 1)]
    const allowed = cli(base)
    assert.equal(allowed.status, 0, allowed.stderr)
    const revoked = cli([...base, '--revocation-list', join(dir, 'list.json'), '--operator-key', operator.publicKey.toHex(), '--max-staleness', '60'])
    assert.equal(revoked.status, 1, revoked.stderr)
    assert.equal(JSON.parse(revoked.stdout).code, 'revoked')
    const shown = cli(['revoke', 'show', join(dir, 'list.json'), '--operator-key', operator.publicKey.toHex()])
    assert.equal(shown.status, 0, shown.stderr)
    assert.match(shown.stdout, /agent:orchestrator/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
