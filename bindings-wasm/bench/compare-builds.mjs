// Compare builds of the package (e.g. two wasm-release profiles) with each other and with
// @biscuit-auth/biscuit-wasm, interleaved in one Node process so that load from other work on the
// machine hits every variant alike. Copy each build's pkg/ somewhere first, then:
//
//   ROUNDS=8 N=150 node bench/compare-builds.mjs /tmp/pkg-a /tmp/pkg-b
//
// Prints medians (µs) and the ratio to biscuit-wasm for mint, delegate, authorize with the
// verified-token cache off, authorize with it (cachedAuth) and proof signing.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
const names = process.argv.slice(2)
const ROUNDS = +(process.env.ROUNDS ?? 8), N = +(process.env.N ?? 150)
async function loadBiscuitWasm() {
  const dir = fileURLToPath(new URL('../node_modules/@biscuit-auth/biscuit-wasm/module/', import.meta.url))
  const bg = await import(`${dir}biscuit_bg.js`)
  const snippet = await import(`${dir}snippets/biscuit-auth-314ca57174ae0e6d/inline0.js`).catch(() => ({}))
  const module = new WebAssembly.Module(readFileSync(`${dir}biscuit_bg.wasm`))
  const imports = {}
  for (const { module: name } of WebAssembly.Module.imports(module)) imports[name] = name === './biscuit_bg.js' ? bg : snippet
  const instance = new WebAssembly.Instance(module, imports)
  bg.__wbg_set_wasm(instance.exports)
  const log = console.log; console.log = () => {}
  try { instance.exports.__wbindgen_start?.() } finally { console.log = log }
  return bg
}
const NOW = Math.floor(Date.now() / 1000)
const variants = {}
for (const n of names) {
  const m = await import(pathToFileURL(resolve(n, 'node.js')).href)
  const root = m.KeyPair.generate(), orch = m.KeyPair.generate(), child = m.KeyPair.generate()
  const mintOpts = { agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:alice', task: 't', rights: ['read_file:read:*', 'write_file:write:*'], ttlSeconds: 3600, now: NOW }
  const t0 = m.mint(root, mintOpts)
  const dOpts = { to: 'agent:a', toKey: child.publicKey, tools: ['read_file'], resourcePrefix: 'src/', now: NOW }
  const t1 = t0.delegate(orch, dOpts), t1b64 = t1.toBase64()
  const unc = new m.Verifier({ rootKeys: [root.publicKey], limits: { verifiedCacheCapacity: 0, prefixCacheCapacity: 0, maxTimeMicros: 10_000_000 } })
  const cached = new m.Verifier({ rootKeys: [root.publicKey], limits: { maxTimeMicros: 10_000_000 } })
  const req = { tool: 'read_file', operation: 'read', resource: 'src/main.rs', now: NOW }
  variants[n] = { mint: () => m.mint(root, mintOpts).free(), delegate: () => t0.delegate(orch, dOpts).free(),
    authorize: () => unc.authorize(t1b64, req), cachedAuth: () => cached.authorize(t1b64, req), sign: () => m.signProof(child, t1, req) }
}
{
  const b = await loadBiscuitWasm()
  const rootKp = new b.KeyPair(b.SignatureAlgorithm.Ed25519)
  const date = new Date(NOW * 1000).toISOString().replace(/\.\d+Z$/, 'Z')
  const exp = new Date((NOW + 3600) * 1000).toISOString().replace(/\.\d+Z$/, 'Z')
  const authority = `agent("agent:orchestrator"); principal("user:alice"); right("read_file", "read", "*"); right("write_file", "write", "*");
    check if time($t), $t <= ${exp};`
  const mintB = () => { const builder = b.Biscuit.builder(); builder.addCode(authority); return builder.build(rootKp.getPrivateKey()) }
  const tok = mintB()
  const attenuate = () => { const blk = new b.BlockBuilder(); blk.addCode('check if tool($tool), ["read_file"].contains($tool); check if resource($r), ($r + "/").starts_with("src/");'); return tok.appendBlock(blk) }
  const tokBytes = attenuate().toBytes()
  const limits = { max_facts: 1000, max_iterations: 100, max_time_micro: 10_000_000 }
  const authorizeB = () => {
    const t = b.Biscuit.fromBytes(tokBytes, rootKp.getPublicKey())
    const az = new b.AuthorizerBuilder()
    az.addCode(`time(${date}); tool("read_file"); operation("read"); resource("src/main.rs");
      allow if tool($tool), operation($op), resource($res), right($rt, $ro, $rr), ($rt == "*" || $rt == $tool), ($ro == "*" || $ro == $op), ($rr == "*" || ($res + "/").starts_with($rr));`)
    const a = az.buildAuthenticated(t); a.authorizeWithLimits(limits); a.free(); t.free()
  }
  variants.biscuit = { mint: () => mintB().free(), delegate: () => attenuate().free(), authorize: authorizeB }
}
const samples = {}
for (let r = 0; r < ROUNDS; r++) for (const [vn, ops] of Object.entries(variants)) for (const [on, f] of Object.entries(ops)) {
  for (let i = 0; i < 10; i++) f()
  const s = (samples[`${vn}.${on}`] ??= [])
  for (let i = 0; i < N; i++) { const t = performance.now(); f(); s.push((performance.now() - t) * 1000) }
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1] }
const ops = ['mint', 'delegate', 'authorize', 'cachedAuth', 'sign']
const w = Math.max(10, ...Object.keys(variants).map((k) => k.length + 1))
console.log('variant'.padEnd(w), ops.map((o) => o.padStart(18)).join(''))
for (const vn of Object.keys(variants)) {
  console.log(vn.padEnd(w), ops.map((o) => { const s = samples[`${vn}.${o}`]; if (!s) return '–'.padStart(18)
    const b = samples[`biscuit.${o}`]; return `${med(s).toFixed(0)}${b && vn !== 'biscuit' ? ` (${(med(s) / med(b)).toFixed(2)}×)` : ''}`.padStart(18) }).join(''))
}
