// The `mcp` cases of tests/vectors/mcp.json through the edge guard, as HTTP requests with a
// bearer token: the same call gets the same decision at the edge as in the core, the Node
// guardTools and the Python MarqueGuard. (Cases without a bearer token are transport cases —
// stdio's `_meta` token — that an HTTP gateway answers 401 before any mapping.)
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { guard } from '../pkg/edge.js'
import { marque } from './helpers.mjs'

const doc = JSON.parse(readFileSync(new URL('../../tests/vectors/mcp.json', import.meta.url), 'utf8'))
const key = (name) => marque.KeyPair.fromHex(doc.keys[name].seed_hex)

function verifierOf(v = {}) {
  const verifier = new marque.Verifier({ rootKeys: [key(doc.root).publicKey], requireProof: v.require_proof === true, ...(v.audience ? { audience: v.audience } : {}), ...(v.policies ? { policies: v.policies } : {}) })
  if (v.revocations) verifier.mergeRevocations(v.revocations)
  return verifier
}

function body(c) {
  if (c.meta_token === undefined) return c.message
  const m = JSON.parse(c.message)
  m.params = { ...m.params, _meta: { ...m.params?._meta, 'marque/token': doc.tokens[c.meta_token] } }
  return JSON.stringify(m)
}

const cases = doc.cases.filter((c) => c.op === 'mcp' && c.token !== undefined)

test('the edge replays most MCP cases', () => assert.ok(cases.length > 50, String(cases.length)))

for (const c of cases) {
  test(`edge guard: ${c.name}`, async () => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${doc.tokens[c.token]}` }
    if (c.proof !== undefined) headers['marque-proof'] = c.proof
    if (c.mcp_method !== undefined) headers['mcp-method'] = c.mcp_method
    if (c.mcp_name !== undefined) headers['mcp-name'] = c.mcp_name
    const request = new Request('https://gw.example/mcp', { method: 'POST', headers, body: body(c) })
    const r = await guard(request, { verifier: verifierOf(c.verifier), mcp: doc.configs[c.config], now: c.now })
    if (c.expect.allowed === true) {
      assert.ok(!(r instanceof Response), r instanceof Response ? await r.text() : '')
      assert.deepEqual(r.mcp.request, c.expect.request)
    } else {
      assert.ok(r instanceof Response)
      const code = c.expect.code ?? c.expect.error
      assert.equal((await r.json()).error, code)
      assert.equal(r.status, marque.httpRefusal(code).status)
    }
  })
}
