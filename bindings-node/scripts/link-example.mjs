// Links examples/mcp-server/node_modules to this package and to its installed dependencies, so
// the example runs from the repo with exactly one copy of the MCP SDK (the one @marque/node/mcp
// imports). In your own project, `npm install @marque/node @modelcontextprotocol/sdk express zod`
// instead.
import { mkdirSync, rmSync, symlinkSync, lstatSync, readlinkSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
const example = join(pkg, '..', 'examples', 'mcp-server')
const links = {
  '@marque/node': pkg,
  '@modelcontextprotocol/sdk': join(pkg, 'node_modules', '@modelcontextprotocol', 'sdk'),
  express: join(pkg, 'node_modules', 'express'),
  zod: join(pkg, 'node_modules', 'zod'),
}

export function linkExample() {
  for (const [name, target] of Object.entries(links)) {
    const at = join(example, 'node_modules', name)
    const rel = relative(dirname(at), target)
    try {
      if (lstatSync(at).isSymbolicLink() && readlinkSync(at) === rel) continue
      rmSync(at, { recursive: true, force: true })
    } catch {}
    mkdirSync(dirname(at), { recursive: true })
    symlinkSync(rel, at, 'dir')
  }
  return example
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(`linked ${linkExample()}/node_modules`)
