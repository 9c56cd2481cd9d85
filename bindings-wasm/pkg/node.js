// @marque/wasm — Node ES module entry: the module is instantiated synchronously at import, so
// everything is usable at once (no `await init()` needed; calling it is harmless).
import { readFileSync } from 'node:fs'
import { initSync } from './index.js'

initSync(readFileSync(new URL('./marque_wasm_bg.wasm', import.meta.url)))

export * from './index.js'
export { default } from './index.js'
