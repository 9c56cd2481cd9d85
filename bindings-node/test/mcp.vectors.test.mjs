// The `mcp` cases of tests/vectors/mcp.json through the Node MCP layer (`authorizeMcpRequest`,
// what `guardTools` runs before every handler), as the SDK hands messages over: the same call
// gets the same decision here as in the core, the Python MarqueGuard and the edge guard.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { authorizeMcpRequest, mcpConfig } from '@marque/node/mcp'
import { marque } from './helpers.mjs'

const doc = JSON.parse(readFileSync(new URL('../../tests/vectors/mcp.json', import.meta.url), 'utf8'))
const key = (name) => marque.KeyPair.fromHex(doc.keys[name].seed_hex)

function verifierOf(v = {}) {
  const verifier = new marque.Verifier({ rootKeys: [key(doc.root).publicKey], requireProof: v.require_proof === true, ...(v.audience ? { audience: v.audience } : {}), ...(v.policies ? { policies: v.policies } : {}) })
  if (v.revocations) verifier.mergeRevocations(v.revocations)
  return verifier
}

/** The message as the SDK's Protocol hands it to a handler, or null when it never would. */
function sdkMessage(c) {
  let m
  try {
    m = JSON.parse(c.message)
  } catch {
    return null
  }
  // JSON.parse keeps the last of two duplicate keys: such a message is refused by the core on
  // the wire (the edge) and never reaches an SDK handler intact, so it is not replayed here.
  const keys = (text) => (text.match(/"[^"]*":/g) ?? []).length
  if (keys(JSON.stringify(m)) !== keys(c.message)) return null
  if (m === null || typeof m !== 'object' || Array.isArray(m) || m.jsonrpc !== '2.0' || typeof m.method !== 'string') return null
  if (c.meta_token !== undefined) m.params = { ...m.params, _meta: { ...m.params?._meta, 'marque/token': doc.tokens[c.meta_token] } }
  return m
}

const cases = doc.cases.filter((c) => c.op === 'mcp' && sdkMessage(c) !== null)

test('the Node layer replays most MCP cases', () => assert.ok(cases.length > 50, String(cases.length)))

for (const c of cases) {
  test(`Node MCP layer: ${c.name}`, async () => {
    const headers = {}
    if (c.proof !== undefined) headers['marque-proof'] = c.proof
    if (c.mcp_method !== undefined) headers['mcp-method'] = c.mcp_method
    if (c.mcp_name !== undefined) headers['mcp-name'] = c.mcp_name
    const extra = {
      ...(c.token !== undefined ? { authInfo: { token: doc.tokens[c.token], clientId: 'x', scopes: [] } } : {}),
      requestInfo: { headers },
    }
    const config = doc.configs[c.config]
    const { outcome, refusal } = await authorizeMcpRequest(verifierOf(c.verifier), sdkMessage(c), extra, { config: mcpConfig(config), now: c.now })
    if (c.expect.allowed === true) {
      assert.equal(refusal, undefined, refusal?.message)
      assert.equal(outcome.allowed, true)
    } else {
      assert.equal(refusal?.code, c.expect.code ?? c.expect.error, JSON.stringify(outcome ?? refusal))
    }
  })
}
