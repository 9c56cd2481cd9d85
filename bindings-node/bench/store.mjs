// Authorize-with-proof through a replay store: in-memory vs a loopback redis-server, one and two
// processes (issue 17 §1). Run from bindings-node: `node bench/store.mjs` (needs `redis-server`
// on PATH; options: `--calls=N` measured calls per process and row, default 3000; `--warmup=N`,
// default 200). Prints a markdown table (docs/BENCH.md, "Replay store from Node and Python").
//
// It starts its own `redis-server` on a free 127.0.0.1 port (`--save '' --appendonly no`), killed
// on exit, on error and on Ctrl-C. Every row runs in child processes of this script (`--worker`):
// 1 or 2 at once against the same Redis, each with its own Verifier, its proofs signed beforehand
// (each used once), its verified-token cache warmed by the warm-up calls, then released together.
// Each reports its latencies; calls/s is all processes' calls over the wall time from the first
// start to the last end. The stores: the synchronous `authorize` (the process's own replay cache),
// `authorizeWithStore` with a JS Map (the async path's cost without a network), with node-redis
// `SET key 1 NX PX ttl` (the MCP guard's `store`), and with a budget token, so `spend` runs
// `redisSpendScript()` (one EVAL) after the claim. Rows with 16 calls in flight per process
// (pipelined on one connection, as a busy server has) are compared with the Map store at 16.
//
// Not a test, but numbers from a broken path are refused: every measured call must be allowed, a
// proof used again must be `replayed_proof` — with Redis also in the other process — and the
// budget counter in Redis must equal the calls made. Any failure exits 1 without a table.
import { fork, spawn, spawnSync } from 'node:child_process'
import net from 'node:net'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { createClient } from 'redis'
import { KeyPair, PublicKey, Token, Verifier, mint, redisSpendScript, signProof } from '../index.mjs'

const SELF = fileURLToPath(import.meta.url)
const IN_FLIGHT = 16

/** `--calls=N` / `--warmup=N` (positive integers); anything else is refused. */
function parseArgs(argv) {
  const out = { calls: 3000, warmup: 200, worker: false }
  for (const a of argv) {
    const m = /^--(calls|warmup)=([1-9][0-9]{0,6})$/.exec(a)
    if (m) out[m[1]] = Number(m[2])
    else if (a === '--worker') out.worker = true
    else throw new Error(`unknown argument ${JSON.stringify(a)} (expected --calls=N, --warmup=N)`)
  }
  return out
}

// ---- worker: one process of a row --------------------------------------------------------------

/** The store a row names, and its Redis client (to close), for this process. */
async function makeStore(kind, redisUrl) {
  if (kind === 'sync') return { store: null, client: null }
  if (kind === 'map') {
    const used = new Map() // no eviction: a few thousand keys per row
    const claim = async (key, ttlMs) => {
      const now = Date.now()
      if ((used.get(key) ?? 0) > now) return false
      used.set(key, now + ttlMs)
      return true
    }
    return { store: { claim }, client: null }
  }
  const client = createClient({ url: redisUrl, disableOfflineQueue: true })
  client.on('error', (e) => console.error(`worker ${process.pid}: redis: ${e.message}`))
  await client.connect()
  const script = redisSpendScript()
  const store = {
    claim: async (key, ttlMs) => (await client.set(key, '1', { NX: true, PX: ttlMs })) === 'OK',
    spend: (charges) => client.eval(script, {
      keys: charges.map((c) => c.key),
      arguments: charges.flatMap((c) => [String(c.limit), String(c.ttlMs)]),
    }),
  }
  return { store, client }
}

/** `calls` calls over `lanes` concurrent sequential loops; latencies in µs, epoch ms start/end. */
async function timed(call, proofs, from, calls, lanes) {
  const lat = new Float64Array(calls)
  let next = 0
  const lane = async () => {
    while (next < calls) {
      const i = next++
      const s = performance.now()
      const d = await call(proofs[from + i])
      lat[i] = (performance.now() - s) * 1000
      if (!d.allowed) throw new Error(`measured call ${i} refused: ${d.code}`)
    }
  }
  const start = performance.timeOrigin + performance.now()
  await Promise.all(Array.from({ length: lanes }, lane))
  const end = performance.timeOrigin + performance.now()
  return { lat: Array.from(lat), start, end }
}

async function worker({ calls, warmup }) {
  const cfg = JSON.parse(process.env.MARQUE_STORE_BENCH)
  process.on('disconnect', () => process.exit(1)) // the parent is gone
  const agent = KeyPair.fromHex(cfg.agentKey)
  const token = Token.fromBase64(cfg.token)
  const request = { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: cfg.now }
  const verifier = new Verifier({ rootKeys: [PublicKey.fromHex(cfg.rootKey)] })
  const { store, client } = await makeStore(cfg.store, cfg.redisUrl)
  const call = store === null
    ? async (proof) => verifier.authorize(token, { ...request, proof })
    : (proof) => verifier.authorizeWithStore(token, { ...request, proof }, store)
  const proofs = Array.from({ length: warmup + calls }, () => signProof(agent, token, request))
  for (let i = 0; i < warmup; i++) {
    const d = await call(proofs[i])
    if (!d.allowed) throw new Error(`warm-up call refused: ${d.code}`)
  }
  const next = (type) => new Promise((resolve) => process.once('message', (m) => { if (m.type !== type) throw new Error(`expected ${type}, got ${m.type}`); resolve(m) }))
  process.send({ type: 'ready' })
  await next('go')
  const res = await timed(call, proofs, warmup, calls, cfg.lanes)
  const again = await call(proofs[warmup])
  if (again.code !== 'replayed_proof') throw new Error(`a proof used twice was ${again.allowed ? 'allowed' : again.code}, not replayed_proof`)
  process.send({ type: 'done', ...res, allowed: warmup + calls, firstProof: proofs[warmup] })
  const { proof } = await next('replay')
  const other = proof === null ? null : await call(proof)
  process.send({ type: 'replayed', code: other === null ? null : other.allowed ? 'allowed' : other.code })
  await next('exit')
  await client?.close()
  process.exit(0)
}

// ---- parent: redis-server, the rows, the table -------------------------------------------------

async function freePort() {
  const srv = net.createServer()
  await new Promise((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address()
  await new Promise((r) => srv.close(r))
  return port
}

const children = new Set()
let redisProc = null
function cleanup() {
  for (const c of children) c.kill('SIGKILL')
  redisProc?.kill('SIGKILL')
}

async function startRedis() {
  if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('redis-server is not installed (Debian: apt-get install redis-server)')
  const port = await freePort()
  redisProc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  redisProc.on('exit', (code, sig) => { if (redisProc !== null) console.error(`redis-server exited (${code ?? sig})`) })
  for (let i = 0; i < 250; i++) {
    const up = await new Promise((r) => net.connect({ host: '127.0.0.1', port }).on('connect', function () { this.end(); r(true) }).on('error', () => r(false)))
    if (up) return `redis://127.0.0.1:${port}`
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error('redis-server did not start within 5 s')
}

/** The next message of `type` from `child`; rejects if the child exits first. */
function expect(child, type) {
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`a worker exited (${code}) before '${type}'`))
    child.once('exit', onExit)
    child.once('message', (m) => {
      child.off('exit', onExit)
      if (m.type === type) resolve(m)
      else reject(new Error(`expected '${type}' from a worker, got '${m.type}'`))
    })
  })
}

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]
}

/** One row: `procs` workers released together; the merged latencies and the checks. */
async function runRow(row, procs, shared, args) {
  await shared.redis.flushAll()
  const env = { ...process.env, MARQUE_STORE_BENCH: JSON.stringify({ ...shared.cfg, token: row.token, store: row.store, lanes: row.lanes }) }
  const workers = Array.from({ length: procs }, () => {
    const c = fork(SELF, ['--worker', `--calls=${args.calls}`, `--warmup=${args.warmup}`], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    children.add(c)
    c.on('exit', () => children.delete(c))
    return c
  })
  await Promise.all(workers.map((w) => expect(w, 'ready')))
  const done = workers.map((w) => expect(w, 'done'))
  for (const w of workers) w.send({ type: 'go' })
  const results = await Promise.all(done)
  // With Redis, a proof one process used is refused in the other one too.
  const shares = row.store === 'redis' && procs === 2
  const replayed = workers.map((w) => expect(w, 'replayed'))
  workers.forEach((w, i) => w.send({ type: 'replay', proof: shares ? results[(i + 1) % procs].firstProof : null }))
  for (const r of await Promise.all(replayed)) {
    if (shares && r.code !== 'replayed_proof') throw new Error(`a proof used by the other process was ${r.code} here, not replayed_proof`)
  }
  if (row.budget) {
    const spent = Number(await shared.redis.get(shared.budgetKey))
    const made = results.reduce((n, r) => n + r.allowed, 0)
    if (spent !== made) throw new Error(`the budget counter holds ${spent}, but ${made} calls were allowed`)
  }
  const exits = workers.map((w) => new Promise((r) => w.once('exit', r)))
  for (const w of workers) w.send({ type: 'exit' })
  const codes = await Promise.all(exits)
  if (codes.some((c) => c !== 0)) throw new Error(`a worker exited with ${codes}`)
  const lat = results.flatMap((r) => r.lat).sort((a, b) => a - b)
  const wall = Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start))
  return { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), perSec: lat.length / (wall / 1000) }
}

const us = (v) => (v < 1000 ? `${v.toFixed(0)} µs` : `${(v / 1000).toFixed(2)} ms`)
const int = (v) => Math.round(v).toLocaleString('en-US').replace(/,/g, ' ')

async function main(args) {
  const root = KeyPair.generate()
  const orch = KeyPair.generate()
  const agent = KeyPair.generate()
  const now = Math.floor(Date.now() / 1000)
  const m0 = mint(root, { agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:alice', rights: [{ tool: 'read_file', operation: 'read' }], ttlSeconds: 3600, now })
  const hop = { to: 'agent:reader', toKey: agent.publicKey, tools: ['read_file'], resourcePrefix: 'src/', now }
  const plain = m0.delegate(orch, hop)
  const budgeted = m0.delegate(orch, { ...hop, maxCalls: 1_000_000 })
  const request = { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now }
  const step = new Verifier({ rootKeys: [root.publicKey] }).authorizeBegin(budgeted, request)
  if (step.charges?.length !== 1) throw new Error('the budget token has no charge to spend')
  const budgetKey = step.charges[0].key

  const redisUrl = await startRedis()
  const redis = createClient({ url: redisUrl })
  redis.on('error', () => {})
  await redis.connect()
  const info = await redis.info('server')
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '?'
  const shared = { redis, budgetKey, cfg: { redisUrl, now, rootKey: root.publicKey.toHex(), agentKey: agent.toHex() } }

  const rows = [
    { name: 'memory, sync `authorize` (own replay cache)', store: 'sync', lanes: 1, token: plain.toBase64(), base: true },
    { name: 'memory, `authorizeWithStore` + JS Map', store: 'map', lanes: 1, token: plain.toBase64() },
    { name: 'Redis, `authorizeWithStore` + node-redis `SET NX PX`', store: 'redis', lanes: 1, token: plain.toBase64() },
    { name: 'Redis, budget token: `SET NX PX` + `spend` (EVAL)', store: 'redis', lanes: 1, token: budgeted.toBase64(), budget: true },
    { name: `memory, JS Map, ${IN_FLIGHT} in flight`, store: 'map', lanes: IN_FLIGHT, token: plain.toBase64(), base: true },
    { name: `Redis \`SET NX PX\`, ${IN_FLIGHT} in flight`, store: 'redis', lanes: IN_FLIGHT, token: plain.toBase64() },
  ]
  const load0 = os.loadavg()
  const out = []
  for (const procs of [1, 2]) {
    let base = null
    for (const row of rows) {
      const r = await runRow(row, procs, shared, args)
      if (row.base) base = r
      out.push(`| ${row.name} | ${procs} | ${us(r.p50)} | ${(r.p50 / base.p50).toFixed(2)}× | ${us(r.p99)} | ${int(r.perSec)} |`)
    }
  }
  const load1 = os.loadavg()
  await redis.close()
  const cpu = os.cpus()
  console.log(`${args.calls} measured calls per process and row after ${args.warmup} warm-up calls; ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, redis-server ${redisVersion}, ${cpu.length} cores (${cpu[0]?.model.trim()}), load average ${load0.map((v) => v.toFixed(2)).join(' ')} before, ${load1.map((v) => v.toFixed(2)).join(' ')} after.`)
  console.log()
  console.log('| store | processes | p50 | p50 vs memory | p99 | calls/s (all processes) |')
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const line of out) console.log(line)
  console.log()
  console.log(`p50 vs memory: the sequential rows against the sync \`authorize\` row, the ${IN_FLIGHT}-in-flight rows against the Map store at ${IN_FLIGHT}, same process count.`)
}

const args = parseArgs(process.argv.slice(2))
if (args.worker) {
  worker(args).catch((e) => {
    console.error(`worker ${process.pid}: ${e.stack ?? e}`)
    process.exit(1)
  })
} else {
  process.on('exit', cleanup)
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))
  // Exit either way (the 'exit' handler kills redis-server and any worker left).
  main(args).then(
    async () => {
      const p = redisProc
      redisProc = null
      const gone = new Promise((r) => p.once('exit', r))
      p.kill('SIGKILL')
      await gone
      process.exit(0)
    },
    (e) => { console.error(`bench/store.mjs: ${e.stack ?? e}`); process.exit(1) },
  )
}
