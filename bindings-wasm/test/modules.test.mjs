// Loading the package: Node ESM and CJS without flags (sync), the web entry from bytes (async and
// sync), and the exports map resolved through the package name.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, symlinkSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PKG, vectors } from './helpers.mjs'

const run = (file, cwd) => execFileSync(process.execPath, [file], { cwd, encoding: 'utf8', timeout: 30_000 }).trim()

function withPackage(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'marque-wasm-pkg-'))
  try {
    mkdirSync(join(dir, 'node_modules', '@marque'), { recursive: true })
    symlinkSync(PKG, join(dir, 'node_modules', '@marque', 'wasm'), 'dir')
    return fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const CASE = vectors.cases[0]
const AUTHORIZE = `
const v = new m.Verifier({ rootKeys: [${JSON.stringify(vectors.root.public_hex)}] })
const d = v.authorize(${JSON.stringify(vectors.tokens[CASE.token])}, ${JSON.stringify({ ...CASE.request, now: CASE.now })})
console.log(JSON.stringify({ allowed: d.allowed, agent: d.agent, gen: typeof m.KeyPair.generate, edge: typeof edge?.guard }))`

test('import "@marque/wasm" in Node: sync, no flags, no init', () => {
  withPackage((dir) => {
    writeFileSync(join(dir, 'esm.mjs'), `import * as m from '@marque/wasm'\nimport * as edge from '@marque/wasm/edge'\n${AUTHORIZE}`)
    assert.deepEqual(JSON.parse(run('esm.mjs', dir)), { allowed: true, agent: 'agent:agent_c', gen: 'function', edge: 'function' })
  })
})

test('require("@marque/wasm") in Node: sync, no flags', () => {
  withPackage((dir) => {
    writeFileSync(join(dir, 'cjs.cjs'), `const m = require('@marque/wasm')\nconst edge = undefined\n${AUTHORIZE}`)
    assert.deepEqual(JSON.parse(run('cjs.cjs', dir)), { allowed: true, agent: 'agent:agent_c', gen: 'function', edge: 'undefined' })
  })
})

test('the browser/default entry: await init(bytes), then initSync is harmless', async () => {
  withPackage((dir) => {
    writeFileSync(join(dir, 'web.mjs'), `
import { readFileSync } from 'node:fs'
const m = await import(new URL('./node_modules/@marque/wasm/index.js', import.meta.url))
let before = 'usable'
try { new m.Verifier({ rootKeys: [] }) } catch (e) { before = 'not initialised' }
await m.default(readFileSync(new URL('./node_modules/@marque/wasm/marque_wasm_bg.wasm', import.meta.url)))
await m.init()
const edge = await import('@marque/wasm/edge')
${AUTHORIZE.replace('console.log(JSON.stringify({', 'console.log(JSON.stringify({ before,')}`)
    assert.deepEqual(JSON.parse(run('web.mjs', dir)), { before: 'not initialised', allowed: true, agent: 'agent:agent_c', gen: 'function', edge: 'function' })
  })
})

test('the browser/default entry: initSync(WebAssembly.Module)', () => {
  withPackage((dir) => {
    writeFileSync(join(dir, 'websync.mjs'), `
import { readFileSync } from 'node:fs'
import * as m from './node_modules/@marque/wasm/index.js'
m.initSync(new WebAssembly.Module(readFileSync(new URL('./node_modules/@marque/wasm/marque_wasm_bg.wasm', import.meta.url))))
const edge = null
${AUTHORIZE}`)
    assert.equal(JSON.parse(run('websync.mjs', dir)).allowed, true)
  })
})

test('package.json: exports map and files cover every entry', () => {
  const pj = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'))
  assert.equal(pj.name, '@marque/wasm')
  const dot = pj.exports['.']
  assert.deepEqual(Object.keys(dot), ['types', 'node', 'workerd', 'browser', 'default'])
  assert.deepEqual(dot.node, { import: './node.js', require: './node.cjs' })
  for (const f of ['index.js', 'node.js', 'node.cjs', 'workerd.js', 'edge.js', 'edge.d.ts', 'index.d.ts', 'errors.js', 'errors.cjs', 'marque_wasm_bg.wasm']) {
    assert.ok(pj.files.includes(f), f)
    readFileSync(join(PKG, f))
  }
})

test('npm pack ships every entry point, the glue, the .wasm and the snippets', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PKG, encoding: 'utf8', timeout: 60_000 })
  const files = new Set(JSON.parse(out)[0].files.map((f) => f.path))
  for (const f of ['package.json', 'index.js', 'index.d.ts', 'node.js', 'node.cjs', 'workerd.js', 'errors.js', 'errors.cjs',
    'edge.js', 'edge.d.ts', 'marque_wasm.js', 'marque_wasm_node.cjs', 'marque_wasm_bg.wasm']) {
    assert.ok(files.has(f), `${f} is not in the package`)
  }
  assert.ok([...files].some((f) => f.startsWith('snippets/') && f.endsWith('.cjs')))
  assert.ok([...files].some((f) => f.startsWith('snippets/') && f.endsWith('.js')))
})
