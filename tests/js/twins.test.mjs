// bindings-wasm/pkg/errors.js (ES module: browsers, Deno, workerd) and errors.cjs (CommonJS:
// node.cjs, and @marque/node's errors.js) are one file in two module syntaxes — the MarqueError
// class, the class guard, the replay-store and revocation-feed glue of both packages. This
// checks that their code is the same line for line (comments, `export`, `module.exports` and
// `'use strict'` aside), so a fix cannot land in one only.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { REPO } from './marque.mjs'

function code(path) {
  let inBlock = false
  const out = []
  for (const raw of readFileSync(REPO + path, 'utf8').split('\n')) {
    const line = raw.trim()
    if (inBlock) {
      if (line.includes('*/')) inBlock = false
      continue
    }
    if (line.startsWith('/*')) {
      inBlock = !line.includes('*/')
      continue
    }
    if (line === '' || line.startsWith('//') || line === "'use strict'" || line.startsWith('module.exports')) continue
    out.push(line.replace(/^export /, ''))
  }
  return out
}

test('errors.js and errors.cjs hold the same code', () => {
  const esm = code('bindings-wasm/pkg/errors.js')
  const cjs = code('bindings-wasm/pkg/errors.cjs')
  assert.ok(esm.length > 100, 'nothing read')
  assert.deepEqual(esm, cjs)
})

test('the shared TypeScript types are written once (types/shared.d.ts) and copied into both packages', async () => {
  const { TARGETS, updated } = await import(new URL('../../scripts/shared-types.mjs', import.meta.url).href)
  for (const path of TARGETS) {
    assert.equal(readFileSync(REPO + path, 'utf8'), updated(path), `${path}: run node scripts/shared-types.mjs`)
  }
})
