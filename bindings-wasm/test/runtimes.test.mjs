// The edge guard in the runtimes it is written for: Deno, Bun and workerd (Cloudflare's runtime,
// through miniflare), each serving runtimes/app.mjs — a Workers-style module importing the
// installed @marque/wasm by its package name — in front of an upstream on loopback. Each runtime
// must forward an allowed MCP tools/call, answer 403 for a denied one, 401 without a token and
// 400 for a message whose Mcp-Name header disagrees with its body, so one guard decides alike
// everywhere. The runtimes are this package's devDependencies (npm `deno`, `bun`, `miniflare`);
// with CI set, a missing one fails instead of skipping.
//
// The same runtimes then serve runtimes/app-v2.mjs: the guard behind the MCP TypeScript SDK 2.x's
// runtime-neutral bearer auth (`requireBearerAuth` of @modelcontextprotocol/server with marque's
// `tokenVerifier`), whose proofs must be bound to the server's audience (RFC 8707): an allowed
// call is forwarded, a proof for another server or for none is 403 `invalid_proof`, a missing or
// expired token is the SDK's 401 challenge naming the RFC 9728 metadata. Node runs it as a plain
// fetch handler; workerd runs it bundled by Bun (the SDK as one module, @marque/wasm as is).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:http'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { marque, key, skipUnlessCI } from './helpers.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const PKG = join(HERE, '..', 'pkg')
const BIN = join(HERE, '..', 'node_modules', '.bin')
const { mint, signProof } = marque
const AUDIENCE = 'https://mcp.example/mcp'
const keys = { root: key('root'), orchestrator: key('orchestrator'), agentA: key('agent_a') }

// Tokens: the root (keys.root) grants read_file anywhere; the reader holds src/ only.
const token = mint(keys.root, { agent: 'agent:orchestrator', agentKey: keys.orchestrator.publicKey, principal: 'user:alice', rights: ['read_file:read:*'], ttlSeconds: 3600 })
const sub = token.delegate(keys.orchestrator, { to: 'agent:reader', toKey: keys.agentA.publicKey, resourcePrefix: 'src/', ttlSeconds: 1800 })

let upstream, upstreamUrl, dir
before(async () => {
  upstream = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => { body += c })
    req.on('end', () => {
      const msg = JSON.parse(body)
      res.end(`upstream: ${msg.params.name} ${msg.params.arguments.path}`)
    })
  })
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  upstreamUrl = `http://127.0.0.1:${upstream.address().port}`
  // A project with the package installed under its name, as a user has it.
  dir = mkdtempSync(join(tmpdir(), 'marque-runtimes-'))
  cpSync(join(HERE, '..', 'runtimes'), dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'edge-app', private: true, type: 'module' }))
  mkdirSync(join(dir, 'node_modules', '@marque'), { recursive: true })
  symlinkSync(PKG, join(dir, 'node_modules', '@marque', 'wasm'), 'dir')
  // The MCP SDK 2.x (a devDependency) for app-v2.mjs, installed beside it.
  for (const name of ['@modelcontextprotocol', 'zod']) {
    const from = join(HERE, '..', 'node_modules', name)
    if (existsSync(from)) symlinkSync(from, join(dir, 'node_modules', name), 'dir')
  }
})
after(() => {
  upstream?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

function call(base, path, { bearer = true, proof = true, mcpName = 'read_file', audience, token = sub } = {}) {
  const headers = { 'content-type': 'application/json', 'mcp-method': 'tools/call', 'mcp-name': mcpName }
  if (bearer) headers.authorization = `Bearer ${token.toBase64()}`
  if (proof) headers['marque-proof'] = signProof(keys.agentA, token, { tool: 'read_file', operation: 'read', resource: path, ...(audience ? { audience } : {}) })
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path } } })
  return { url: `${base}/mcp`, init: { method: 'POST', headers, body } }
}

/** The four requests every runtime must answer alike; `send` delivers one `{url, init}`. */
async function story(send) {
  const ok = await send(call('http://127.0.0.1', 'src/a.rs'))
  assert.equal(ok.status, 200, await ok.clone().text())
  assert.equal(await ok.text(), 'upstream: read_file src/a.rs')
  assert.equal(ok.headers.get('marque-agent'), 'agent:reader')
  const denied = await send(call('http://127.0.0.1', '.env'))
  assert.equal(denied.status, 403)
  assert.match(await denied.text(), /not_authorized/)
  const anonymous = await send(call('http://127.0.0.1', 'src/a.rs', { bearer: false, proof: false }))
  assert.equal(anonymous.status, 401)
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/)
  const mismatch = await send(call('http://127.0.0.1', 'src/a.rs', { mcpName: 'write_file' }))
  assert.equal(mismatch.status, 400)
}

/** The SDK 2.x story (app-v2.mjs): the SDK's gate, then the guard with audience-bound proofs. */
async function storyV2(send) {
  const ok = await send(call('http://127.0.0.1', 'src/a.rs', { audience: AUDIENCE }))
  assert.equal(ok.status, 200, await ok.clone().text())
  assert.equal(await ok.text(), 'upstream: read_file src/a.rs')
  assert.equal(ok.headers.get('marque-agent'), 'agent:reader')
  assert.equal(ok.headers.get('marque-resource'), AUDIENCE)
  // Spelt differently, the same server.
  assert.equal((await send(call('http://127.0.0.1', 'src/b.rs', { audience: 'HTTPS://MCP.example:443/mcp/' }))).status, 200)
  const denied = await send(call('http://127.0.0.1', '.env', { audience: AUDIENCE }))
  assert.equal(denied.status, 403)
  assert.equal((await denied.json()).error, 'not_authorized')
  for (const audience of ['https://other.example/mcp', 'https://mcp.example/MCP', undefined]) {
    const elsewhere = await send(call('http://127.0.0.1', 'src/a.rs', { audience }))
    assert.equal(elsewhere.status, 403, String(audience))
    assert.equal((await elsewhere.json()).error, 'invalid_proof', String(audience))
  }
  // No token, or an expired one: the SDK's gate answers, with its RFC 9728 challenge.
  const metadata = 'https://mcp.example/.well-known/oauth-protected-resource/mcp'
  for (const c of [call('http://127.0.0.1', 'src/a.rs', { bearer: false, proof: false }), call('http://127.0.0.1', 'src/a.rs', { token: expired, audience: AUDIENCE })]) {
    const refused = await send(c)
    assert.equal(refused.status, 401)
    const challenge = refused.headers.get('www-authenticate') ?? ''
    assert.match(challenge, /^Bearer error="invalid_token"/)
    assert.ok(challenge.includes(`resource_metadata="${metadata}"`), challenge)
  }
}

const now = Math.floor(Date.now() / 1000)
const expired = mint(keys.root, { agent: 'agent:late', agentKey: keys.agentA.publicKey, principal: 'user:alice', rights: ['read_file:read:*'], ttlSeconds: 60, now: now - 3600 })

const env = () => ({ MARQUE_ROOT_KEY: keys.root.publicKey.toHex(), UPSTREAM: upstreamUrl, AUDIENCE })

/** Starts `argv` serving on a free port; resolves to its base URL once it says `listening`. */
async function serve(t, argv, extraEnv = {}) {
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) })
  })
  const child = spawn(argv[0], argv.slice(1), { cwd: dir, env: { ...process.env, ...env(), ...extraEnv, PORT: String(port), NO_COLOR: '1' } })
  t.after(() => child.kill())
  let output = ''
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${argv[0]} did not start:\n${output}`)), 60_000)
    const onData = (d) => {
      output += d
      if (output.includes('listening')) { clearTimeout(timer); resolve() }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${argv[0]} exited ${code}:\n${output}`)) })
  })
  return `http://127.0.0.1:${port}`
}

const fetchVia = (base) => ({ url, init }) => fetch(url.replace('http://127.0.0.1', base), init)

function tool(t, name) {
  const bin = join(BIN, name)
  if (!existsSync(bin)) {
    t.skip(skipUnlessCI(`${name} is not installed (npm install in bindings-wasm)`))
    return null
  }
  return bin
}

test('Deno serves the edge guard from the installed package', async (t) => {
  const deno = tool(t, 'deno')
  if (!deno) return
  const base = await serve(t, [deno, 'run', '--quiet', '--allow-net=127.0.0.1', '--allow-env', '--allow-read', 'serve-deno.mjs'])
  await story(fetchVia(base))
})

test('Bun serves the edge guard from the installed package', async (t) => {
  const bun = tool(t, 'bun')
  if (!bun) return
  const base = await serve(t, [bun, 'serve-bun.mjs'])
  await story(fetchVia(base))
})

/** The installed package as workerd modules: every file under its package path, the package
 * entry points named as a bundler resolves them (the `workerd` export condition). */
function workerdModules(main = join(dir, 'app.mjs')) {
  const modules = [{ type: 'ESModule', path: main }]
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.wasm')) modules.push({ type: 'CompiledWasm', path: join(dir, '@marque/wasm', relative(PKG, p)), contents: readFileSync(p) })
      else if (e.name.endsWith('.js') && e.name !== 'node.js') modules.push({ type: 'ESModule', path: join(dir, '@marque/wasm', relative(PKG, p)), contents: readFileSync(p, 'utf8') })
    }
  }
  walk(PKG)
  modules.push({ type: 'ESModule', path: join(dir, '@marque/wasm'), contents: "export * from './wasm/workerd.js'\nexport { default } from './wasm/workerd.js'\n" })
  modules.push({ type: 'ESModule', path: join(dir, '@marque/wasm/edge'), contents: "export * from './edge.js'\n" })
  return modules
}

test('workerd (miniflare) runs the edge guard as a Worker', async (t) => {
  if (!tool(t, 'miniflare')) return
  const { Miniflare } = await import('miniflare')
  const mf = new Miniflare({ modules: workerdModules(), modulesRoot: dir, bindings: env(), compatibilityDate: '2026-07-30' })
  t.after(() => mf.dispose())
  await story(({ url, init }) => mf.dispatchFetch(url, init))
})

/** Whether the SDK 2.x is installed for app-v2.mjs (a devDependency); skips (or fails on CI). */
function sdk2(t) {
  if (existsSync(join(HERE, '..', 'node_modules', '@modelcontextprotocol', 'server'))) return true
  t.skip(skipUnlessCI('@modelcontextprotocol/server is not installed (npm install in bindings-wasm)'))
  return false
}

test('Node: the guard behind the SDK 2.x bearer gate, as a plain fetch handler', async (t) => {
  if (!sdk2(t)) return
  const { default: app } = await import(pathToFileURL(join(dir, 'app-v2.mjs')).href)
  await storyV2(({ url, init }) => app.fetch(new Request(url, init), env()))
})

test('Deno: the guard behind the SDK 2.x bearer gate', async (t) => {
  const deno = tool(t, 'deno')
  if (!deno || !sdk2(t)) return
  const base = await serve(t, [deno, 'run', '--quiet', '--allow-net=127.0.0.1', '--allow-env', '--allow-read', 'serve-deno.mjs'], { APP: './app-v2.mjs' })
  await storyV2(fetchVia(base))
})

test('Bun: the guard behind the SDK 2.x bearer gate', async (t) => {
  const bun = tool(t, 'bun')
  if (!bun || !sdk2(t)) return
  const base = await serve(t, [bun, 'serve-bun.mjs'], { APP: './app-v2.mjs' })
  await storyV2(fetchVia(base))
})

test('workerd (miniflare): the guard behind the SDK 2.x bearer gate, bundled by Bun', async (t) => {
  const bun = tool(t, 'bun')
  if (!bun || !tool(t, 'miniflare') || !sdk2(t)) return
  // The SDK and its dependencies as one module (workerd resolves no packages); @marque/wasm stays
  // the installed package, loaded as for app.mjs.
  const out = join(dir, 'app-v2.bundle.mjs')
  const build = spawnSync(bun, ['build', 'app-v2.mjs', '--target=browser', '--conditions=workerd', '--external', '@marque/wasm', '--external', '@marque/wasm/edge', '--outfile', out], { cwd: dir, encoding: 'utf8' })
  assert.equal(build.status, 0, build.stderr + build.stdout)
  const { Miniflare } = await import('miniflare')
  const mf = new Miniflare({ modules: workerdModules(out), modulesRoot: dir, bindings: env(), compatibilityDate: '2026-07-30', compatibilityFlags: ['nodejs_compat'] })
  t.after(() => mf.dispose())
  await storyV2(({ url, init }) => mf.dispatchFetch(url, init))
})
