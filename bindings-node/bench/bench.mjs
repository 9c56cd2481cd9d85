// Benchmarks @marque/node beside @biscuit-auth/biscuit-wasm (the same token work done with plain
// Biscuit in WebAssembly) and jose (EdDSA JWT), in one run. Prints medians, p90 and ratios as a
// markdown table. Run: `npm run bench` (add `-- --quick` for fewer iterations). No assertions.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// biscuit-wasm is built for bundlers: Node needs --experimental-wasm-modules to load it.
if (!process.execArgv.includes('--experimental-wasm-modules')) {
  const r = spawnSync(process.execPath, ['--experimental-wasm-modules', '--no-warnings', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(r.status ?? 1)
}

const marque = await import('../index.mjs')
const biscuit = await import('@biscuit-auth/biscuit-wasm')
const jose = await import('jose')
const os = await import('node:os')

const quick = process.argv.includes('--quick')
// The native core's medians for the same operations (core/examples/bench_native.rs --json).
const fs = await import('node:fs')
const native = process.env.MARQUE_NATIVE_BENCH && fs.existsSync(process.env.MARQUE_NATIVE_BENCH)
  ? JSON.parse(fs.readFileSync(process.env.MARQUE_NATIVE_BENCH, 'utf8'))
  : null
const N = quick ? 200 : 2000

function measure(fn, n = N) {
  for (let i = 0; i < Math.min(50, n); i++) fn(i)
  const t = []
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint()
    fn(i)
    t.push(Number(process.hrtime.bigint() - s) / 1000)
  }
  t.sort((a, b) => a - b)
  return { median: t[Math.floor(n / 2)], p90: t[Math.floor(n * 0.9)] }
}

async function measureAsync(fn, n = N) {
  for (let i = 0; i < Math.min(50, n); i++) await fn(i)
  const t = []
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint()
    await fn(i)
    t.push(Number(process.hrtime.bigint() - s) / 1000)
  }
  t.sort((a, b) => a - b)
  return { median: t[Math.floor(n / 2)], p90: t[Math.floor(n * 0.9)] }
}

// ---- marque ----------------------------------------------------------------------------
const { KeyPair, Verifier, mint, signProof, Token } = marque
const root = KeyPair.generate()
const orch = KeyPair.generate()
const child = KeyPair.generate()
const NOW = Math.floor(Date.now() / 1000)
const mintOpts = {
  agent: 'agent:orchestrator',
  agentKey: orch.publicKey,
  principal: 'user:alice',
  task: 'fix-issue-42',
  rights: [{ tool: 'read_file', operation: 'read' }, { tool: 'write_file', operation: 'write', resource: 'src/' }, 'run_tests'],
  ttlSeconds: 3600,
  now: NOW,
}
const delegOpts = { to: 'agent:agent_a', toKey: child.publicKey, tools: ['read_file'], resourcePrefix: 'src/', now: NOW }
const m0 = mint(root, mintOpts)
const m1 = m0.delegate(orch, delegOpts)
const m1b64 = m1.toBase64()
const request = { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW + 1 }
const limits = { replayCacheCapacity: 10_000_000, replayCachePerKey: 10_000_000, maxTimeMicros: 1_000_000 }
const verifier = new Verifier({ rootKeys: [root.publicKey], limits })

const rows = []
const nativeKey = {}
rows.push(['mint (authority block)', measure(() => mint(root, mintOpts)), 'biscuit']); nativeKey['mint (authority block)'] = 'mint'
rows.push(['delegate (1 hop, third-party block)', measure(() => m0.delegate(orch, delegOpts)), 'biscuit']); nativeKey['delegate (1 hop, third-party block)'] = 'delegate'
rows.push(['authorize cold (parse base64 + verify + Datalog, fresh verifier)', measure(() => new Verifier({ rootKeys: [root.publicKey], limits }).authorize(m1b64, request)), 'biscuit']); nativeKey['authorize cold (parse base64 + verify + Datalog, fresh verifier)'] = 'authorize_fresh_verifier'
rows.push(['authorize repeated (same verifier, same token text)', measure(() => verifier.authorize(m1b64, request)), 'biscuit']); nativeKey['authorize repeated (same verifier, same token text)'] = 'authorize_warm'
rows.push(['authorize repeated (parsed Token)', measure(() => verifier.authorize(m1, request)), null])
const proofs = Array.from({ length: N + 50 }, () => signProof(child, m1, request))
rows.push(['proof sign', measure(() => signProof(child, m1, request)), 'jose-sign']); nativeKey['proof sign'] = 'proof_sign'
let pi = 0
rows.push(['authorize + proof verify (+ replay cache)', measure(() => verifier.authorize(m1b64, { ...request, proof: proofs[pi++ % proofs.length] }), Math.min(N, proofs.length)), 'jose-verify']); nativeKey['authorize + proof verify (+ replay cache)'] = 'authorize_proof'
const { jwtIssue, jwtVerify } = marque
const jwtClaims = { sub: 'agent:agent_a', scope: 'read_file', act: { sub: 'agent:orchestrator' }, aud: 'mcp', iat: NOW, exp: NOW + 3600 }
const mjwt = jwtIssue(child, jwtClaims, { kid: 'k1' })
const jwtKeys = { k1: child.publicKey }
rows.push(['compact mode: jwtIssue (EdDSA JWT)', measure(() => jwtIssue(child, jwtClaims, { kid: 'k1' })), 'jose-sign']); nativeKey['compact mode: jwtIssue (EdDSA JWT)'] = 'jwt_issue'
rows.push(['compact mode: jwtVerify (strict EdDSA JWT)', measure(() => jwtVerify(mjwt, jwtKeys, { audience: 'mcp', now: NOW + 1 })), 'jose-verify']); nativeKey['compact mode: jwtVerify (strict EdDSA JWT)'] = 'jwt_verify'
rows.push(['authorizeAsync (thread pool, awaited one by one)', await measureAsync(() => verifier.authorizeAsync(m1b64, request)), null])

// ---- concurrency: authorizeAsync runs on the libuv thread pool ----------------------------
// Calls per second with `lanes` chains of awaited calls in flight at once (1 vs 2 on 2 cores).
async function lanesThroughput(fn, lanes, perLane) {
  const s = process.hrtime.bigint()
  await Promise.all(Array.from({ length: lanes }, async () => {
    for (let i = 0; i < perLane; i++) await fn()
  }))
  return (lanes * perLane) / (Number(process.hrtime.bigint() - s) / 1e9)
}
const median3 = async (f) => {
  const r = [await f(), await f(), await f()].sort((a, b) => a - b)
  return r[1]
}
const concurrency = []
for (const [label, fn, per] of [
  ['authorizeAsync, fresh verifier each call (cold)', () => new Verifier({ rootKeys: [root.publicKey], limits }).authorizeAsync(m1b64, request), Math.max(100, N / 2)],
  ['authorizeAsync, repeated token (verified cache)', () => verifier.authorizeAsync(m1b64, request), Math.max(400, N * 2)],
]) {
  await lanesThroughput(fn, 1, per / 10)
  const one = await median3(() => lanesThroughput(fn, 1, per))
  const two = await median3(() => lanesThroughput(fn, 2, per))
  concurrency.push([label, one, two])
}

// worker_threads: each worker is its own JS thread with its own Verifier, calling the
// synchronous authorize, so no main thread sits between the calls.
const { Worker } = await import('node:worker_threads')
async function workersThroughput(workers, perWorker, fresh) {
  const data = { rootKey: root.publicKey.toHex(), token: m1b64, request, limits, fresh, count: perWorker }
  const ws = Array.from({ length: workers }, () => new Worker(new URL('./authorize-worker.mjs', import.meta.url), { workerData: data }))
  await Promise.all(ws.map((w) => new Promise((resolve) => w.once('message', resolve))))
  const s = process.hrtime.bigint()
  const done = ws.map((w) => new Promise((resolve) => w.once('message', resolve)))
  for (const w of ws) w.postMessage('go')
  await Promise.all(done)
  const perSecond = (workers * perWorker) / (Number(process.hrtime.bigint() - s) / 1e9)
  await Promise.all(ws.map((w) => w.terminate()))
  return perSecond
}
for (const [label, fresh, per] of [
  ['worker_threads, fresh verifier each call (cold)', true, Math.max(200, N)],
  ['worker_threads, repeated token (verified cache)', false, Math.max(1000, N * 4)],
]) {
  const one = await median3(() => workersThroughput(1, per, fresh))
  const two = await median3(() => workersThroughput(2, per, fresh))
  concurrency.push([label, one, two])
}

// ---- biscuit-wasm: the same token work --------------------------------------------------
// Frees wasm-side objects (nothing there is garbage-collected); objects a call consumed are
// already gone and refuse a second free.
function freeAll(...objects) {
  for (const o of objects) {
    try {
      o.free()
    } catch {}
  }
}
const { Biscuit, KeyPair: BKeyPair, SignatureAlgorithm, AuthorizerBuilder, BlockBuilder, PublicKey: BPublicKey } = biscuit
const broot = new BKeyPair(SignatureAlgorithm.Ed25519)
const borch = new BKeyPair(SignatureAlgorithm.Ed25519)
const exp = new Date((NOW + 3600) * 1000).toISOString()
const authority = `agent("agent:orchestrator"); principal("user:alice"); task("fix-issue-42");
right("read_file", "read", "*"); right("write_file", "write", "src/"); right("run_tests", "*", "*");
check if time($t), $t <= ${exp}; check if depth($d), $d <= 4;`
const bmint = () => {
  const b = Biscuit.builder()
  b.addCode(authority)
  const key = broot.getPrivateKey()
  const t = b.build(key)
  key.free?.()
  return t
}
const hopCode = `hop(1, "agent:agent_a", "/root/agent_a"); check if time($t), $t <= ${exp};
check if tool($tool), ["read_file"].contains($tool); check if resource($r), ($r + "/").starts_with("src/");`
const bdelegate = (tok) => {
  const req = tok.getThirdPartyRequest()
  const bb = new BlockBuilder()
  bb.addCode(hopCode)
  const key = borch.getPrivateKey()
  const pub = borch.getPublicKey()
  const blk = req.createBlock(key, bb)
  const out = tok.appendThirdPartyBlock(pub, blk)
  freeAll(req, bb, key, pub, blk)
  return out
}
const b0 = bmint()
const b1 = bdelegate(b0)
const b1b64 = b1.toBase64()
const policy = `allow if tool($tool), operation($op), resource($res), right($rt, $ro, $rr), ($rt == "*" || $rt == $tool), ($ro == "*" || $ro == $op), ($rr == "*" || ($res + "/").starts_with($rr));`
const bauthorize = () => {
  const rootPub = broot.getPublicKey()
  const tok = Biscuit.fromBase64(b1b64, rootPub)
  rootPub.free?.()
  const ab = new AuthorizerBuilder()
  ab.addCode(`time(${new Date((NOW + 1) * 1000).toISOString()}); tool("read_file"); operation("read"); resource("src/lib.rs"); depth(1); ${policy}`)
  // marque's fact and iteration bounds; the time budget is wide so that a preempted run on a
  // busy machine is measured rather than aborted (biscuit-wasm's default is 1 ms).
  const authorizer = ab.buildAuthenticated(tok)
  try {
    return authorizer.authorizeWithLimits({ max_facts: 1000, max_iterations: 100, max_time_micro: 1_000_000 })
  } finally {
    // Free wasm memory as a careful user would (nothing is garbage-collected on the wasm side).
    freeAll(authorizer, ab, tok)
  }
}
// The first runs of the wasm Datalog engine are slow (lazy wasm compilation) and can trip the
// time limit: warm up outside the measurement.
for (let i = 0; i < 5; i++) {
  try {
    bauthorize()
  } catch {}
}
const other = {
  biscuit: {
    'mint (authority block)': measure(() => bmint().free()),
    'delegate (1 hop, third-party block)': measure(() => bdelegate(b0).free()),
    'authorize cold (parse base64 + verify + Datalog, fresh verifier)': measure(() => bauthorize()),
  },
}
other.biscuit['authorize repeated (same verifier, same token text)'] = other.biscuit['authorize cold (parse base64 + verify + Datalog, fresh verifier)']

// ---- jose: EdDSA JWT ---------------------------------------------------------------------
const { publicKey, privateKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519' })
const claims = { sub: 'agent:agent_a', scope: 'read_file', act: { sub: 'agent:orchestrator' } }
const jwt = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).setIssuedAt().setExpirationTime('1h').setAudience('mcp').sign(privateKey)
other.jose = {
  sign: await measureAsync(() => new jose.SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).setIssuedAt().setExpirationTime('1h').setAudience('mcp').sign(privateKey)),
  verify: await measureAsync(() => jose.jwtVerify(jwt, publicKey, { audience: 'mcp' })),
}

// ---- report ------------------------------------------------------------------------------
const us = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(1)} µs`)
console.log(`\n@marque/node ${JSON.parse((await import('node:fs')).readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version} · ${process.version} · ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length} · ${N} iterations each · ${new Date().toISOString().slice(0, 10)}\n`)
console.log('| operation | marque median | marque p90 | native core median | marque / native | comparison | its median | its p90 | ratio (it / marque) |')
console.log('|---|---:|---:|---:|---:|---|---:|---:|---:|')
for (const [name, r, cmp] of rows) {
  let c = ['', '', '', '']
  if (cmp === 'biscuit' && other.biscuit[name]) {
    const o = other.biscuit[name]
    c = ['biscuit-wasm 0.6.0 (same Datalog)', us(o.median), us(o.p90), `${(o.median / r.median).toFixed(2)}×`]
  } else if (cmp === 'jose-sign' || cmp === 'jose-verify') {
    const o = other.jose[cmp === 'jose-sign' ? 'sign' : 'verify']
    c = [`jose 6 EdDSA JWT ${cmp === 'jose-sign' ? 'sign' : 'verify'}`, us(o.median), us(o.p90), `${(o.median / r.median).toFixed(2)}×`]
  }
  const nat = native?.ops?.[nativeKey[name]]
  const n = nat ? [us(nat.median_us), `${(r.median / nat.median_us).toFixed(2)}×`] : ['n/a', '']
  console.log(`| ${name} | ${us(r.median)} | ${us(r.p90)} | ${n.join(' | ')} | ${c.join(' | ')} |`)
}
if (native) console.log(`\nNative core: the same operations timed by \`core/examples/bench_native.rs\` earlier in the same \`scripts/bench.sh\` run (load average then: ${native.load}).`)
console.log('\n| concurrency: authorizeAsync calls in flight (libuv pool), or worker threads | 1 (calls/s) | 2 (calls/s) | speed-up |')
console.log('|---|---:|---:|---:|')
for (const [label, one, two] of concurrency) console.log(`| ${label} | ${one.toFixed(0)} | ${two.toFixed(0)} | ${(two / one).toFixed(2)}× |`)
console.log('\nbiscuit-wasm has no verifier object to reuse, so its "repeated" row repeats the cold work. marque\'s authorize also checks that each hop was signed by the key the previous hop named, the revocation set and, with a proof, the replay cache.')
