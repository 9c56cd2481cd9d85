// Fails when regenerating the committed `index.d.ts` (or the `native.js` loader) from the Rust
// sources would change it. Builds into a temporary directory, so the package's own native
// module is left alone. It passes the arguments scripts/build-node.sh last built with
// (.napi-build-args: the zig cross-compile target on Linux x86_64), so with an up-to-date
// release build cargo has nothing to recompile.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
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
  let stale = []
  for (const f of ['index.d.ts', 'native.js']) {
    if (readFileSync(join(out, f), 'utf8') !== readFileSync(join(pkg, f), 'utf8')) stale.push(f)
  }
  if (stale.length) {
    console.error(`stale generated file(s): ${stale.join(', ')} — run \`npm run build\` in bindings-node/ and commit the result`)
    process.exit(1)
  }
  console.log('index.d.ts and native.js are up to date')
} finally {
  rmSync(out, { recursive: true, force: true })
}
