// Fails when regenerating the committed `index.d.ts` (or the `native.js` loader) from the Rust
// sources would change it.
//
// In a git checkout (the test suite, after scripts/build-node.sh): every build writes both files
// in place (`napi build --dts index.d.ts --js native.js`), so the check is that git sees no
// change to them. `--rebuild` (or outside git) builds into a temporary directory instead and
// compares, leaving the package's native module alone; it passes the arguments build-node.sh
// last built with (.napi-build-args: the zig cross-compile target on Linux x86_64), but napi's
// type-definition pass recompiles the binding crate itself (over a minute with LTO).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
const FILES = ['index.d.ts', 'native.js']
const stale = (files) => {
  console.error(`stale generated file(s): ${files.join(', ')} — run \`npm run build\` in bindings-node/ and commit the result`)
  process.exit(1)
}
const inGit = (() => {
  try {
    execFileSync('git', ['ls-files', '--error-unmatch', ...FILES], { cwd: pkg, stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
if (inGit && !process.argv.includes('--rebuild')) {
  const changed = execFileSync('git', ['diff', '--name-only', 'HEAD', '--', ...FILES], { cwd: pkg, encoding: 'utf8' }).split('\n').filter(Boolean)
  if (changed.length) stale(changed)
  console.log('index.d.ts and native.js are up to date (as the last build wrote them)')
  process.exit(0)
}
const out = mkdtempSync(join(tmpdir(), 'marque-dts-'))
try {
  const napi = join(pkg, 'node_modules', '.bin', 'napi')
  const profile = process.argv.includes('--debug') ? [] : ['--release']
  const argsFile = join(pkg, '.napi-build-args')
  const buildArgs = existsSync(argsFile) ? readFileSync(argsFile, 'utf8').split('\n').filter(Boolean) : []
  // cargo-zigbuild and zig come from the project venv, as in scripts/build-node.sh.
  const path = `${join(pkg, '..', '.venv', 'bin')}${delimiter}${process.env.PATH ?? ''}`
  execFileSync(napi, ['build', '--platform', ...profile, ...buildArgs, '--output-dir', out, '--js', 'native.js', '--dts', 'index.d.ts'], {
    cwd: pkg,
    env: { ...process.env, PATH: path },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const differ = FILES.filter((f) => readFileSync(join(out, f), 'utf8') !== readFileSync(join(pkg, f), 'utf8'))
  if (differ.length) stale(differ)
  console.log('index.d.ts and native.js are up to date')
} finally {
  rmSync(out, { recursive: true, force: true })
}
