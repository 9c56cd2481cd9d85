// The hand-written declarations (pkg/index.d.ts, pkg/edge.d.ts) against the real module: every
// exported value, every class with its static and instance methods and accessors, declared on
// both sides — a missing or extra name fails — and the `ErrorCode` union equals the core's
// codes (`errorCodes()`, i.e. `ErrorKind::ALL`). The declarations are parsed with the TypeScript
// compiler API (a devDependency; with `CI` set its absence fails).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { PKG, marque, skipUnlessCI } from './helpers.mjs'

const dir = fileURLToPath(new URL('..', import.meta.url))
const tsPath = `${dir}node_modules/typescript/lib/typescript.js`
const skip = skipUnlessCI(existsSync(tsPath) ? false : 'typescript is not installed (npm ci in bindings-wasm)')
const VERIFY_ONLY = (process.env.MARQUE_WASM_PKG ?? 'pkg') !== 'pkg'
const ts = skip ? null : createRequire(import.meta.url)(tsPath)

// What every class carries that is not API: a function's own `length`/`name`/`prototype`, the
// prototype's `constructor`, wasm-bindgen's `__wrap`/`__destroy_into_raw`…, symbols
// (`Symbol.dispose`). (`free` is declared.)
const STATIC_PLUMBING = new Set(['length', 'name', 'prototype'])
const isPlumbing = (k, statics) => typeof k === 'symbol' || k.startsWith('__') || (statics ? STATIC_PLUMBING.has(k) : k === 'constructor')

const has = (node, kind) => (ts.getModifiers?.(node) ?? node.modifiers ?? []).some((m) => m.kind === kind)

/** The runtime surface a declaration file describes. */
function declared(file) {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const values = new Set() // exported runtime values (functions, constants, classes, `default`)
  const functions = new Set()
  const classes = new Map() // class name -> { exported, statics: Set, members: Set }
  const types = new Map() // exported type alias name -> node
  for (const s of src.statements) {
    const exported = has(s, ts.SyntaxKind.ExportKeyword)
    const isDefault = has(s, ts.SyntaxKind.DefaultKeyword)
    if (ts.isFunctionDeclaration(s) && exported) {
      values.add(isDefault ? 'default' : s.name.text)
      functions.add(isDefault ? 'default' : s.name.text)
    } else if (ts.isVariableStatement(s) && exported) {
      for (const d of s.declarationList.declarations) values.add(d.name.text)
    } else if (ts.isClassDeclaration(s)) {
      if (exported) values.add(s.name.text)
      const statics = new Set()
      const members = new Set()
      const fields = new Set()
      for (const m of s.members) {
        if (ts.isConstructorDeclaration(m) || !m.name) continue
        const name = m.name.text
        if (ts.isPropertyDeclaration(m)) fields.add(name)
        else (has(m, ts.SyntaxKind.StaticKeyword) ? statics : members).add(name)
      }
      classes.set(s.name.text, { exported, statics, members, fields })
    } else if (ts.isTypeAliasDeclaration(s) && exported) {
      types.set(s.name.text, s)
    } else if (ts.isExportDeclaration(s) || ts.isExportAssignment(s)) {
      throw new Error(`${file}: re-export statements are not understood by this test; declare the names`)
    }
  }
  return { values, functions, classes, types }
}

/** Own method/accessor names of a prototype or constructor, without plumbing. */
function ownNames(obj, statics) {
  return new Set(Reflect.ownKeys(obj).filter((k) => !isPlumbing(k, statics)))
}

function sameSet(actual, expected, what) {
  const missing = [...expected].filter((n) => !actual.has(n)).sort()
  const extra = [...actual].filter((n) => !expected.has(n)).sort()
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `${what}: declared but absent (missing) / present but not declared (extra)`)
}

function checkModule(mod, decl, glue, label) {
  sameSet(new Set(Object.keys(mod)), decl.values, `${label} exports`)
  for (const name of decl.values) {
    // The verifier-only build (MARQUE_WASM_PKG=pkg-verify) exports `mint`/`signProof` as undefined.
    if (VERIFY_ONLY && ['mint', 'signProof'].includes(name)) continue
    assert.notEqual(mod[name], undefined, `${label}: ${name} is declared but undefined at run time`)
    if (decl.functions.has(name) || decl.classes.has(name)) assert.equal(typeof mod[name], 'function', `${label}: ${name}`)
  }
  for (const [name, c] of decl.classes) {
    // A class only returned by the API (not exported) is checked on the generated glue.
    const Class = c.exported ? mod[name] : glue[name]
    if (Class === undefined) {
      assert.ok(!c.exported, `${label}: class ${name} is not exported`)
      continue
    }
    assert.equal(typeof Class, 'function', `${label}: ${name} is not a class`)
    sameSet(ownNames(Class, true), c.statics, `${label} ${name} static members`)
    const proto = ownNames(Class.prototype, false)
    for (const f of c.fields) proto.delete(f) // fields may live on the prototype (`name`) or the instance
    sameSet(proto, c.members, `${label} ${name}.prototype members`)
  }
}

test('index.d.ts declares exactly what the module exports (values, classes, members)', { skip }, async () => {
  const glue = await import(new URL('marque_wasm.js', `file://${PKG}`).href)
  const decl = declared(`${PKG}index.d.ts`)
  checkModule(marque, decl, glue, 'index.d.ts')
  // Every class the glue defines is declared (exported or as a class returned by the API).
  for (const [name, value] of Object.entries(glue)) {
    if (typeof value === 'function' && /^[A-Z]/.test(name)) assert.ok(decl.classes.has(name), `glue class ${name} is not declared in index.d.ts`)
  }
})

test('edge.d.ts declares exactly what edge.js exports', { skip }, async () => {
  const edge = await import(new URL('edge.js', `file://${PKG}`).href)
  checkModule(edge, declared(`${PKG}edge.d.ts`), {}, 'edge.d.ts')
})

test("index.d.ts's ErrorCode union is the core's code list, in order", { skip }, () => {
  const alias = declared(`${PKG}index.d.ts`).types.get('ErrorCode')
  assert.ok(alias && ts.isUnionTypeNode(alias.type), 'ErrorCode is a union type')
  const codes = alias.type.types.map((t) => {
    assert.ok(ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal), `ErrorCode member ${t.getText()} is not a string literal`)
    return t.literal.text
  })
  assert.deepEqual(codes, marque.errorCodes())
  assert.deepEqual(codes, [...marque.ERROR_CODES])
})
