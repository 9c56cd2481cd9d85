// Benchmark of @marque/wasm beside @biscuit-auth/biscuit-wasm (same Node process, same machine):
// mint, delegate, authorize (cold and warm), proof sign / verify; medians, p90 and ratios as
// markdown; and WebAssembly.Memory before/after 100 000 authorizations (must stay flat).
//
//   node bench/bench.mjs [--quick]
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const QUICK = process.argv.includes('--quick')
const N = QUICK ? 200 : 2000
// MARQUE_WASM_PKG=<dir> benchmarks another build of the package (e.g. another opt-level).
const PKG = process.env.MARQUE_WASM_PKG ?? fileURLToPath(new URL('../pkg/', import.meta.url))
const m = await import(`${PKG}/node.js`)

// --- biscuit-wasm (bundler target): instantiate it by hand, so Node needs no flags ---------------
async function loadBiscuitWasm() {
  const dir = fileURLToPath(new URL('../node_modules/@biscuit-auth/biscuit-wasm/module/', import.meta.url))
  const bg = await import(`${dir}biscuit_bg.js`)
  const snippet = await import(`${dir}snippets/biscuit-auth-314ca57174ae0e6d/inline0.js`).catch(() => ({}))
  const module = new WebAssembly.Module(readFileSync(`${dir}biscuit_bg.wasm`))
  const imports = {}
  for (const { module: name } of WebAssembly.Module.imports(module)) {
    imports[name] = name === './biscuit_bg.js' ? bg : snippet
  }
  const instance = new WebAssembly.Instance(module, imports)
  bg.__wbg_set_wasm(instance.exports)
  // Its start function logs "biscuit-wasm loading" with console.log: keep stdout the report.
  const log = console.log
  console.log = () => {}
  try {
    instance.exports.__wbindgen_start?.()
  } finally {
    console.log = log
  }
  return { b: bg, memory: instance.exports.memory }
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b)
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))]
  return { median: q(0.5), p90: q(0.9) }
}
function time(fn, n = N) {
  for (let i = 0; i < Math.min(50, n); i++) fn(i) // warm
  const out = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    fn(i)
    out.push((performance.now() - t0) * 1000)
  }
  return stats(out)
}
const us = (x) => (x === undefined ? '–' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0))

// --- marque ----------------------------------------------------------------------------------------
const NOW = Math.floor(Date.now() / 1000)
const root = m.KeyPair.generate()
const orch = m.KeyPair.generate()
const child = m.KeyPair.generate()
const mintOpts = { agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:alice', task: 't', rights: ['read_file:read:*', 'write_file:write:*'], ttlSeconds: 3600, now: NOW }
const t0 = m.mint(root, mintOpts)
const t1 = t0.delegate(orch, { to: 'agent:a', toKey: child.publicKey, tools: ['read_file'], resourcePrefix: 'src/', now: NOW })
const t1b64 = t1.toBase64()
// A generous Datalog time limit (as for biscuit-wasm below): the limit is wall-clock, and on a
// loaded machine one of 100 000 calls can be descheduled past the 50 ms default (limits_exceeded).
const verifier = new m.Verifier({ rootKeys: [root.publicKey], limits: { replayCacheCapacity: 10_000_000, replayCachePerKey: 10_000_000, maxTimeMicros: 10_000_000 } })
// The same without the core's cache of verified tokens: every call checks every signature.
const uncached = new m.Verifier({ rootKeys: [root.publicKey], limits: { replayCacheCapacity: 10_000_000, replayCachePerKey: 10_000_000, verifiedCacheCapacity: 0, prefixCacheCapacity: 0, maxTimeMicros: 10_000_000 } })
const req = { tool: 'read_file', operation: 'read', resource: 'src/main.rs', now: NOW }
const rows = []

const mq = {
  mint: time(() => m.mint(root, mintOpts).free()),
  delegate: time(() => t0.delegate(orch, { to: 'agent:a', toKey: child.publicKey, tools: ['read_file'], resourcePrefix: 'src/', now: NOW }).free()),
  authorize: time(() => verifier.authorize(t1b64, req)),
  authorizeUncached: time(() => uncached.authorize(t1b64, req)),
  sign: time(() => m.signProof(child, t1, { ...req })),
}
const proofs = Array.from({ length: N + 50 }, () => m.signProof(child, t1, { ...req }))
mq.authorizeProof = time((i) => verifier.authorize(t1b64, { ...req, proof: proofs[i] }), N)
const proofs2 = Array.from({ length: N + 50 }, () => m.signProof(child, t1, { ...req }))
mq.authorizeProofUncached = time((i) => uncached.authorize(t1b64, { ...req, proof: proofs2[i] }), N)

// --- biscuit-wasm ------------------------------------------------------------------------------------
let bw = {}
let biscuitMemory = null
try {
  const { b, memory } = await loadBiscuitWasm()
  biscuitMemory = memory
  const rootKp = new b.KeyPair(b.SignatureAlgorithm.Ed25519)
  const date = new Date(NOW * 1000).toISOString().replace(/\.\d+Z$/, 'Z')
  const exp = new Date((NOW + 3600) * 1000).toISOString().replace(/\.\d+Z$/, 'Z')
  const authority = `agent("agent:orchestrator"); principal("user:alice"); right("read_file", "read", "*"); right("write_file", "write", "*");
    check if time($t), $t <= ${exp};`
  const mintB = () => {
    const builder = b.Biscuit.builder()
    builder.addCode(authority)
    return builder.build(rootKp.getPrivateKey())
  }
  const tok = mintB()
  const attenuate = () => {
    const blk = new b.BlockBuilder()
    blk.addCode('check if tool($tool), ["read_file"].contains($tool); check if resource($r), ($r + "/").starts_with("src/");')
    return tok.appendBlock(blk)
  }
  const tokBytes = attenuate().toBytes()
  // A generous time limit: its first run is cold too (the same lazy-compilation effect as ours).
  const limits = { max_facts: 1000, max_iterations: 100, max_time_micro: 10_000_000 }
  const authorizeB = () => {
    const t = b.Biscuit.fromBytes(tokBytes, rootKp.getPublicKey())
    const az = new b.AuthorizerBuilder()
    az.addCode(`time(${date}); tool("read_file"); operation("read"); resource("src/main.rs");
      allow if tool($tool), operation($op), resource($res), right($rt, $ro, $rr), ($rt == "*" || $rt == $tool), ($ro == "*" || $ro == $op), ($rr == "*" || ($res + "/").starts_with($rr));`)
    const a = az.buildAuthenticated(t)
    a.authorizeWithLimits(limits)
    a.free()
    t.free()
  }
  authorizeB()
  bw = { mint: time(() => mintB().free()), delegate: time(() => attenuate().free()), authorize: time(authorizeB) }
} catch (e) {
  console.error(`biscuit-wasm could not run here: ${e?.message ?? JSON.stringify(e)}`)
}

// --- cold start: a fresh process each time ----------------------------------------------------------
function cold(warmUp) {
  const script = `
    const t0 = performance.now()
    const { readFileSync } = await import('node:fs')
    const glue = await import(${JSON.stringify(`${PKG}/marque_wasm.js`)})
    glue.initSync({ module: readFileSync(${JSON.stringify(`${PKG}/marque_wasm_bg.wasm`)}) })
    const t1 = performance.now()
    ${warmUp ? 'glue.__warmUp()' : ''}
    const t2 = performance.now()
    const v = new glue.Verifier({ rootKeys: [${JSON.stringify(root.publicKey.toHex())}], limits: { maxTimeMicros: 10000000 } })
    const t3 = performance.now()
    const d = v.authorize(${JSON.stringify(t1b64)}, ${JSON.stringify(req)})
    const t4 = performance.now()
    const v2 = new glue.Verifier({ rootKeys: [${JSON.stringify(root.publicKey.toHex())}] })
    let ok
    try { ok = v2.authorize(${JSON.stringify(t1b64)}, ${JSON.stringify(req)}).allowed } catch (e) { ok = e.code }
    console.log(JSON.stringify({ load: t1 - t0, warm: t2 - t1, first: t4 - t3, allowed: d.allowed, secondWithDefaultLimit: ok }))`
  const runs = []
  for (let i = 0; i < (QUICK ? 3 : 7); i++) {
    runs.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })))
  }
  const med = (k) => stats(runs.map((r) => r[k])).median
  return { load: med('load'), warm: med('warm'), first: med('first'), allowed: runs.every((r) => r.allowed) }
}
const coldNoWarm = cold(false)
const coldWarm = cold(true)

// --- memory: 100 000 authorizations ------------------------------------------------------------------
// The module's own WebAssembly.Memory (the same instance as `m`'s: node.js initialises the web glue).
const glue = await import(`${PKG}/marque_wasm.js`)
const wasmBytes = () => glue.__wasmMemory().buffer.byteLength
const memBefore = process.memoryUsage()
const wasmBefore = wasmBytes()
const MANY = QUICK ? 10_000 : 100_000
for (let i = 0; i < MANY; i++) verifier.authorize(t1b64, req)
const wasmAfter = wasmBytes()
const memAfter = process.memoryUsage()

// --- report ------------------------------------------------------------------------------------------
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) + '×' : '–')
console.log(`@marque/wasm beside @biscuit-auth/biscuit-wasm 0.6.0 in the same process (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${N} samples, µs):\n`)
console.log('| operation | marque median | marque p90 | biscuit-wasm median | biscuit-wasm p90 | marque / biscuit-wasm |')
console.log('|---|---:|---:|---:|---:|---:|')
const row = (name, a, b) => console.log(`| ${name} | ${us(a?.median)} | ${us(a?.p90)} | ${us(b?.median)} | ${us(b?.p90)} | ${ratio(a?.median, b?.median)} |`)
row('mint (authority block, 2 rights)', mq.mint, bw.mint)
row('delegate (marque: third-party block signed by the agent; biscuit-wasm: first-party block)', mq.delegate, bw.delegate)
row('authorize, warm, verified-token cache off (parse + every signature + Datalog; biscuit-wasm: parse + verify + authorizer)', mq.authorizeUncached, bw.authorize)
row('authorize, warm, verified-token cache hit (default)', mq.authorize, undefined)
row('sign proof of possession', mq.sign, undefined)
row('authorize with proof, cache off (+ proof signature + replay cache)', mq.authorizeProofUncached, undefined)
row('authorize with proof, cache hit', mq.authorizeProof, undefined)
console.log('\n| cold start (fresh process, medians, ms) | instantiate | warm-up | first authorize |')
console.log('|---|---:|---:|---:|')
console.log(`| without warm-up | ${coldNoWarm.load.toFixed(1)} | – | ${coldNoWarm.first.toFixed(1)} |`)
console.log(`| with warm-up (what the entry points do) | ${coldWarm.load.toFixed(1)} | ${coldWarm.warm.toFixed(1)} | ${coldWarm.first.toFixed(1)} |`)
console.log(`\nWebAssembly.Memory: ${wasmBefore} bytes before ${MANY.toLocaleString('en')} authorizations, ${wasmAfter} after (${wasmAfter === wasmBefore ? 'flat' : 'GREW'}); Node RSS ${(memBefore.rss / 2 ** 20).toFixed(0)} → ${(memAfter.rss / 2 ** 20).toFixed(0)} MiB.`)
if (biscuitMemory) console.log(`biscuit-wasm WebAssembly.Memory after its runs: ${biscuitMemory.buffer.byteLength} bytes.`)
if (wasmAfter !== wasmBefore) process.exitCode = 1
