// Headless Chromium (the system's /usr/bin/chromium, driven by playwright-core; no browser is
// ever downloaded) loads the package with no bundler from a page served on 127.0.0.1:
// `await init()` fetches the .wasm by URL, the page authorizes a vector token (the first
// authorization after load) and mints + delegates + verifies with a proof, then mints with a
// `{ publicKey, sign }` signer, checks a signed revocation list (fail closed when missing,
// rollback refused) and a JWKS verifier, and reports back.
// Skipped with a message when Chromium or playwright-core is missing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, normalize, extname } from 'node:path'
import { PKG, vectors, skipUnlessCI } from './helpers.mjs'

const CHROMIUM = process.env.MARQUE_CHROMIUM ?? '/usr/bin/chromium'
let chromium = null
try {
  ;({ chromium } = await import('playwright-core'))
} catch {}
const skip = skipUnlessCI(!existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : chromium === null ? 'playwright-core is not installed (npm ci in bindings-wasm)' : false)

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' }
const CASE = vectors.cases.find((c) => c.name === 'agent_c reads its file')

const PAGE = `<!doctype html><meta charset="utf-8"><title>marque wasm</title>
<script type="module">
const out = {}
try {
  const t0 = performance.now()
  const m = await import('/pkg/index.js')
  await m.default()
  out.initMs = performance.now() - t0
  const v = new m.Verifier({ rootKeys: [${JSON.stringify(vectors.root.public_hex)}] })
  const t1 = performance.now()
  const d = v.authorize(${JSON.stringify(vectors.tokens[CASE.token])}, ${JSON.stringify({ ...CASE.request, now: CASE.now })})
  out.firstAuthorizeMs = performance.now() - t1
  out.decision = JSON.parse(JSON.stringify(d))
  // Mint, delegate, prove and verify in the browser (crypto.getRandomValues, Date.now()).
  const root = m.KeyPair.generate(), a = m.KeyPair.generate(), b = m.KeyPair.generate()
  const t = m.mint(root, { agent: 'agent:a', agentKey: a.publicKey, principal: 'user:web', rights: ['read_file:read:src/'], ttlSeconds: 60 })
    .delegate(a, { to: 'agent:b', toKey: b.publicKey, resourcePrefix: 'src/x.rs' })
  const proof = m.signProof(b, t, { tool: 'read_file', operation: 'read', resource: 'src/x.rs' })
  const v2 = new m.Verifier({ rootKeys: [root.publicKey] })
  out.minted = v2.authorize(t.toBase64(), { tool: 'read_file', operation: 'read', resource: 'src/x.rs', proof, now: new Date() })
  try { m.PublicKey.fromHex('nope') } catch (e) { out.error = { isMarque: e instanceof m.MarqueError, isError: e instanceof Error, code: e.code } }
  // Keys in operations: a key behind a sign() function, a signed revocation list with a maximum
  // staleness (fail closed), a verifier from a JWKS document, a misbehaving signer.
  const code = (f) => { try { f(); return null } catch (e) { return e.code } }
  const kms = { publicKey: root.publicKey, sign: (msg) => root.sign(msg) }
  const operator = m.KeyPair.generate()
  const viaKms = m.mint(kms, { agent: 'agent:a', agentKey: a.publicKey, principal: 'user:web', rights: ['read_file:read:src/'], ttlSeconds: 60 })
  const fleet = m.Verifier.fromJwks(m.toJwks([root.publicKey]), { operatorKeys: [operator.publicKey], maxRevocationStaleness: 60 })
  const req = { tool: 'read_file', operation: 'read', resource: 'src/x.rs' }
  out.ops = { stale: code(() => fleet.authorize(viaKms, req)) }
  const list = m.RevocationList.sign({ agents: ['agent:a'] }, { sequence: 1, signer: { publicKey: operator.publicKey, sign: (msg) => operator.sign(msg) } })
  out.ops.loaded = fleet.loadRevocationList(list.toJson())
  out.ops.revoked = fleet.authorize(viaKms, req).code
  out.ops.rollback = code(() => fleet.loadRevocationList(m.RevocationList.sign({}, { sequence: 0, signer: operator })))
  out.ops.liar = code(() => m.mint({ publicKey: root.publicKey, sign: () => new Uint8Array(64) }, { agent: 'agent:a', agentKey: a.publicKey, principal: 'u', rights: ['x'], ttlSeconds: 60 }))
  out.ops.throwing = code(() => m.signProof({ publicKey: a.publicKey, sign() { throw new Error('kms offline') } }, viaKms, req))
} catch (e) {
  out.failure = String(e && e.stack || e)
}
window.__result = out
</script>`

test('the package runs in headless Chromium from a plain page (no bundler)', { skip, timeout: 120_000 }, async () => {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' })
      return res.end(PAGE)
    }
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^\/pkg\//, '')
    const file = join(PKG, rel)
    if (!url.pathname.startsWith('/pkg/') || !file.startsWith(PKG) || !existsSync(file)) {
      res.writeHead(404)
      return res.end()
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
    res.end(readFileSync(file))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const profile = mkdtempSync(join(tmpdir(), 'marque-chromium-'))
  // A fresh profile directory (--user-data-dir) per run.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
    timeout: 60_000,
  })
  try {
    const page = await browser.newPage()
    const errors = []
    page.on('pageerror', (e) => errors.push(String(e)))
    await page.goto(`http://127.0.0.1:${server.address().port}/`, { timeout: 60_000 })
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 60_000 })
    const out = await page.evaluate(() => window.__result)
    assert.equal(out.failure, undefined, out.failure)
    assert.deepEqual(errors, [])
    const { decision } = out
    assert.deepEqual(
      { allowed: decision.allowed, code: decision.code, agent: decision.agent, path: decision.path, chain: decision.chain, policy: decision.policy },
      CASE.expect,
      'the first authorization after load is allowed',
    )
    assert.equal(out.minted.allowed, true)
    assert.equal(out.minted.proof_verified, true)
    assert.deepEqual(out.error, { isMarque: true, isError: true, code: 'invalid_key' })
    assert.deepEqual(out.ops, { stale: 'revocation_list_stale', loaded: true, revoked: 'revoked', rollback: 'revocation_list_rollback', liar: 'signer_failed', throwing: 'signer_failed' })
    console.log(`# chromium: init ${out.initMs.toFixed(1)} ms, first authorize ${out.firstAuthorizeMs.toFixed(2)} ms`)
  } finally {
    await browser.close()
    await new Promise((r) => server.close(r))
    rmSync(profile, { recursive: true, force: true })
  }
})
