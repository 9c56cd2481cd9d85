// Copies types/shared.d.ts (the TypeScript types both JS packages declare the same way) into
// bindings-node/types/header.d.ts and bindings-wasm/pkg/index.d.ts, between the "shared types"
// markers. `--check`: exit 1 when a copy differs (tests/js/twins.test.mjs runs the same check).
import { readFileSync, writeFileSync } from 'node:fs'

const REPO = new URL('../', import.meta.url)
const BEGIN = '// BEGIN shared types (types/shared.d.ts; node scripts/shared-types.mjs)\n'
const END = '// END shared types\n'
export const TARGETS = ['bindings-node/types/header.d.ts', 'bindings-wasm/pkg/index.d.ts']

/** The shared declarations (without the file's own header comment). */
export function shared() {
  const text = readFileSync(new URL('types/shared.d.ts', REPO), 'utf8')
  return text.slice(text.indexOf('\n\n') + 2)
}

/** `path`'s text with the shared block replaced by the current one. */
export function updated(path) {
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
