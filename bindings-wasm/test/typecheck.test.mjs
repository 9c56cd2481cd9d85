// The hand-written declarations type-check against a user script (test/ts/example.ts).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { skipUnlessCI } from './helpers.mjs'

const dir = fileURLToPath(new URL('..', import.meta.url))
const tsc = `${dir}node_modules/typescript/bin/tsc`
const skip = skipUnlessCI(existsSync(tsc) ? false : 'typescript is not installed (npm ci in bindings-wasm)')

test('index.d.ts and edge.d.ts type-check a user script (tsc --strict)', { skip, timeout: 120_000 }, () => {
  const r = spawnSync(process.execPath, [tsc, '-p', 'test/ts/tsconfig.json'], { cwd: dir, encoding: 'utf8', timeout: 120_000 })
  assert.equal(r.status, 0, r.stdout + r.stderr)
})
