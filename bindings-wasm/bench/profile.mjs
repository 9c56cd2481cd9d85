// Where the time of one operation goes in Node: samples V8's CPU profiler (node:inspector) while
// the operation runs N times, then adds up self time by function and by crate. Needs a build whose
// .wasm keeps its name section (the shipped build strips it; `scripts/build-wasm.sh --names`
// builds the same module with it into pkg-names/, for profiling only).
//
//   node bench/profile.mjs pkg-names [authorize|delegate|mint|cached] [N]
//
// The token is the bench's: an authority block with two rights and a task, one delegation hop
// (2 blocks), authorized by a verifier with both caches off (every signature, every block).
import { Session } from 'node:inspector/promises'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const [dir, op = 'authorize', nArg = '3000'] = process.argv.slice(2)
if (!dir || !['authorize', 'delegate', 'mint', 'cached'].includes(op) || !(+nArg > 0)) {
  console.error('usage: node bench/profile.mjs PKG_DIR [authorize|delegate|mint|cached] [N]')
  process.exit(2)
}
const N = +nArg
const m = await import(pathToFileURL(resolve(dir, 'node.js')).href)
const NOW = Math.floor(Date.now() / 1000)
const root = m.KeyPair.generate(), orch = m.KeyPair.generate(), child = m.KeyPair.generate()
const mintOpts = { agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:alice', task: 't', rights: ['read_file:read:*', 'write_file:write:*'], ttlSeconds: 3600, now: NOW }
const t0 = m.mint(root, mintOpts)
const dOpts = { to: 'agent:a', toKey: child.publicKey, tools: ['read_file'], resourcePrefix: 'src/', now: NOW }
const t1b64 = t0.delegate(orch, dOpts).toBase64()
const cold = new m.Verifier({ rootKeys: [root.publicKey], limits: { verifiedCacheCapacity: 0, prefixCacheCapacity: 0, maxTimeMicros: 10_000_000 } })
const cached = new m.Verifier({ rootKeys: [root.publicKey], limits: { maxTimeMicros: 10_000_000 } })
const req = { tool: 'read_file', operation: 'read', resource: 'src/main.rs', now: NOW }
const run = {
  authorize: () => { if (!cold.authorize(t1b64, req).allowed) throw new Error('denied') },
  cached: () => { if (!cached.authorize(t1b64, req).allowed) throw new Error('denied') },
  delegate: () => t0.delegate(orch, dOpts).free(),
  mint: () => m.mint(root, mintOpts).free(),
}[op]
for (let i = 0; i < 200; i++) run() // compiled by V8's optimising tier before sampling

const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.setSamplingInterval', { interval: 50 })
await session.post('Profiler.start')
const t = performance.now()
for (let i = 0; i < N; i++) run()
const wall = performance.now() - t
const { profile } = await session.post('Profiler.stop')
session.disconnect()

// Self time per node from the sample stream (timeDeltas[i] is the time before sample i).
const self = new Map()
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0))
}
const crateOf = (name, url) => {
  if (!url.startsWith('wasm://')) return name === '(garbage collector)' ? '(gc)' : ['(program)', '(idle)', '(root)'].includes(name) ? name : '(JavaScript glue)'
  const s = name.replace(/^\$/, '')
  const v0 = s.startsWith('_R') && /C(?:s[0-9A-Za-z]*_)?(\d+)/.exec(s.slice(2))
  if (v0) return s.slice(2 + v0.index + v0[0].length, 2 + v0.index + v0[0].length + +v0[1])
  const legacy = /^_ZN(\d+)/.exec(s)
  if (legacy) return s.slice(legacy[0].length, legacy[0].length + +legacy[1])
  // Demangled names, with or without the crate hash: `<&curve25519_dalek[556c…]::backend::…`.
  const plain = /^(?:dyn |mut |const |[<&*(])*([A-Za-z_][A-Za-z0-9_]*)(?:\[[0-9a-f]+\])?(::|<| as )/.exec(s)
  if (plain) return plain[1]
  return / shim|^__wbg|^__wbindgen/.test(s) ? '(wasm-bindgen shims)' : `(wasm: ${s.slice(0, 30)})`
}
const fnTime = new Map(), crateTime = new Map()
let total = 0
for (const [id, us] of self) {
  const { functionName, url } = byId.get(id).callFrame
  const name = functionName || '(anonymous)'
  const crate = crateOf(name, url)
  if (crate === '(idle)') continue
  total += us
  fnTime.set(name, (fnTime.get(name) ?? 0) + us)
  crateTime.set(crate, (crateTime.get(crate) ?? 0) + us)
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)} %`
console.log(`${op}: ${N} calls, ${((wall * 1000) / N).toFixed(1)} µs per call (profiled; sampling adds a little), ${profile.samples.length} samples`)
console.log('\nself time by crate')
for (const [c, us] of [...crateTime].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${pct(us)}  ${((us / N)).toFixed(1).padStart(7)} µs/call  ${c}`)
console.log('\nself time by function (top 25)')
for (const [f, us] of [...fnTime].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${pct(us)}  ${f.length > 110 ? f.slice(0, 107) + '...' : f}`)
