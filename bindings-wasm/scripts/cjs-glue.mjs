// Turns wasm-bindgen's `--target nodejs` glue into the package's CommonJS glue:
// its `require('./snippets/…/inlineN.js')` calls (ES modules written by wasm-bindgen) are
// pointed at CommonJS twins written next to them. Fails loudly on any snippet form it does not
// know, so a wasm-bindgen upgrade cannot silently produce a broken package.
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const [glueIn, glueOut, pkgDir] = process.argv.slice(2)
let glue = readFileSync(glueIn, 'utf8')
glue = glue.replace(/require\("(\.\/snippets\/[^"]+)\.js"\)/g, (_, rel) => {
  const src = join(pkgDir, `${rel}.js`)
  if (!existsSync(src)) throw new Error(`snippet ${src} is missing`)
  const esm = readFileSync(src, 'utf8')
  const names = []
  const cjs = esm.replace(/^export function (\w+)\s*\(/gm, (_m, name) => {
    names.push(name)
    return `function ${name}(`
  })
  if (/^\s*(export|import)\b/m.test(cjs)) throw new Error(`snippet ${src} uses an ES module form this script does not convert`)
  writeFileSync(join(pkgDir, `${rel}.cjs`), `'use strict'\n${cjs}\nmodule.exports = { ${names.join(', ')} }\n`)
  return `require("${rel}.cjs")`
})
if (/require\("\.\/snippets\/[^"]+\.js"\)/.test(glue)) throw new Error('unconverted snippet require left in the glue')
writeFileSync(glueOut, glue)
