// The package under test, chosen by MARQUE_JS: `node` (@marque/node, the napi binding) or `wasm`
// (@marque/wasm, its Node entry). One JS suite runs against both packages; a test that only
// applies to one runtime checks `RUNTIME`.
import { fileURLToPath } from 'node:url'

export const RUNTIME = process.env.MARQUE_JS ?? 'node'
const entries = {
  node: '../../bindings-node/index.mjs',
  wasm: `../../bindings-wasm/${process.env.MARQUE_WASM_PKG ?? 'pkg'}/node.js`,
}
if (!(RUNTIME in entries)) throw new Error(`MARQUE_JS must be node or wasm, not ${RUNTIME}`)
export const marque = await import(new URL(entries[RUNTIME], import.meta.url).href)
export const REPO = fileURLToPath(new URL('../../', import.meta.url))
