// @marque/wasm — entry for workerd (Cloudflare Workers) and bundlers that import `.wasm` files
// as a `WebAssembly.Module`: instantiated synchronously at import.
import wasmModule from './marque_wasm_bg.wasm'
import { initSync } from './index.js'

initSync(wasmModule)

export * from './index.js'
export { default } from './index.js'
