// What both JS packages share, written once and copied:
// - types/shared.d.ts (the TypeScript types both declare the same way) into
//   bindings-node/types/header.d.ts and bindings-wasm/pkg/index.d.ts, between the "shared types"
//   markers;
// - bindings-wasm/pkg/errors.cjs (the MarqueError class and the glue of both packages, CommonJS:
//   node.cjs and @marque/node's errors.js) into its ES module form bindings-wasm/pkg/errors.js
//   (browsers, Deno, workerd): the same code, with `export` instead of `module.exports`.
// `--check`: exit 1 when a copy differs (tests/js/twins.test.mjs runs the same check).
import { readFileSync, writeFileSync } from 'node:fs'

const REPO = new URL('../', import.meta.url)
const BEGIN = '// BEGIN shared types (types/shared.d.ts; node scripts/shared-types.mjs)\n'
const END = '// END shared types\n'
export const TARGETS = ['bindings-node/types/header.d.ts', 'bindings-wasm/pkg/index.d.ts', 'bindings-wasm/pkg/errors.js']

/** The shared declarations (without the file's own header comment). */
export function shared() {
  const text = readFileSync(new URL('types/shared.d.ts', REPO), 'utf8')
  return text.slice(text.indexOf('\n\n') + 2)
}

/** errors.js: errors.cjs as an ES module. */
function esmErrors() {
  const cjs = readFileSync(new URL('bindings-wasm/pkg/errors.cjs', REPO), 'utf8')
  const exportsLine = cjs.split('\n').find((l) => l.startsWith('module.exports = {'))
  if (!exportsLine) throw new Error('errors.cjs: no module.exports line')
  const names = exportsLine.replace(/^module\.exports = \{|\}\s*$/g, '').split(',').map((n) => n.trim())
  const lines = ['// Generated from errors.cjs by scripts/shared-types.mjs: edit errors.cjs, then run it.']
  for (const line of cjs.split('\n')) {
    if (line === "'use strict'" || line === exportsLine) continue
    const declared = /^(?:const|class|function) ([A-Za-z_$][\w$]*)/.exec(line)
    lines.push(declared && names.includes(declared[1]) ? `export ${line}` : line)
  }
  return lines.join('\n').replace(/\n+$/, '\n')
}

/** `path`'s text with the shared block replaced by the current one. */
export function updated(path) {
  if (path.endsWith('errors.js')) return esmErrors()
  const text = readFileSync(new URL(path, REPO), 'utf8')
  const a = text.indexOf(BEGIN)
  const b = text.indexOf(END, a)
  if (a < 0 || b < 0) throw new Error(`${path}: no shared-types markers`)
  return text.slice(0, a + BEGIN.length) + shared() + text.slice(b)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check')
  let stale = false
  for (const path of TARGETS) {
    const want = updated(path)
    if (readFileSync(new URL(path, REPO), 'utf8') === want) continue
    if (check) {
      console.error(`${path}: the shared types differ from types/shared.d.ts (run node scripts/shared-types.mjs)`)
      stale = true
    } else {
      writeFileSync(new URL(path, REPO), want)
      console.log(`updated ${path}`)
    }
  }
  process.exit(stale ? 1 : 0)
}
