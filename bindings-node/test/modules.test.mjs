import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { skipUnlessCI } from './helpers.mjs'

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
const repo = join(pkg, '..')
const node = (args, cwd = repo) => execFileSync(process.execPath, args, { cwd, encoding: 'utf8' })

test('require("./bindings-node") works from the repo root', () => {
  const out = node(['-e', "const m = require('./bindings-node'); console.log(typeof m.mint, typeof m.Verifier, m.ERROR_CODES.length > 10)"])
  assert.equal(out.trim(), 'function function true')
})

test('ESM import works from the repo root (file and package exports)', () => {
  const out = node(['--input-type=module', '-e', "import { mint, MarqueError } from './bindings-node/index.mjs'; import m from './bindings-node/index.mjs'; console.log(typeof mint, typeof MarqueError, m.mint === mint)"])
  assert.equal(out.trim(), 'function function true')
  // Self-reference through the package name exercises the `exports` map (".", "./mcp").
  const viaName = node(['--input-type=module', '-e', "import { KeyPair } from '@marque/node'; import * as mcp from '@marque/node/mcp'; console.log(typeof KeyPair.generate, typeof mcp.marqueTokenVerifier)"], pkg)
  assert.equal(viaName.trim(), 'function function')
  const cjs = node(['-e', "const m = require('@marque/node'); const mcp = require('@marque/node/mcp'); console.log(typeof m.signProof, typeof mcp.guardTools)"], pkg)
  assert.equal(cjs.trim(), 'function function')
})

test('the ESM entry exports every CommonJS export', async () => {
  const { createRequire } = await import('node:module')
  const cjs = createRequire(import.meta.url)('../index.js')
  const esm = await import('../index.mjs')
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), Object.keys(cjs).sort())
})

test('tsc --noEmit type-checks the TypeScript example', () => {
  const tsc = join(pkg, 'node_modules', 'typescript', 'bin', 'tsc')
  execFileSync(process.execPath, [tsc, '-p', join(pkg, 'test', 'ts', 'tsconfig.json')], { cwd: pkg, encoding: 'utf8' })
})

test('tsc rejects misuse (the types are not `any`)', () => {
  const tsc = join(pkg, 'node_modules', 'typescript', 'bin', 'tsc')
  let out = ''
  try {
    execFileSync(process.execPath, [tsc, '-p', join(pkg, 'test', 'ts', 'tsconfig.bad.json')], { cwd: pkg, encoding: 'utf8' })
  } catch (e) {
    out = e.stdout
  }
  for (const line of ['bad.mts(5,', 'bad.mts(7,', 'bad.mts(9,', 'bad.mts(11,', 'bad.mts(13,', 'bad.mts(15,']) assert.ok(out.includes(line), `expected a type error at ${line}\n${out}`)
})

test('index.d.ts is what the Rust sources generate', { skip: skipUnlessCI(!existsSync(join(pkg, 'node_modules', '.bin', 'napi')) && 'napi CLI not installed') }, () => {
  const out = execFileSync(process.execPath, [join(pkg, 'scripts', 'check-dts.mjs'), ...(process.env.MARQUE_DTS_DEBUG ? ['--debug'] : [])], { cwd: pkg, encoding: 'utf8' })
  assert.match(out, /up to date/)
})
