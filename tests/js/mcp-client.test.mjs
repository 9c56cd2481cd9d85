// The agent side of MCP, in both JS packages (MARQUE_JS=node|wasm): `McpConfig.clientHeaders`
// gives the headers a server with the same configuration needs — its `authorizeMcp`, reading
// exactly those headers, allows the call with proofs required — and refuses before sending what
// the server would refuse. (The rule is the core's `McpConfig::client_headers`.)
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, RUNTIME } from './marque.mjs'

const { KeyPair, McpConfig, Verifier, MarqueError, mint } = marque
const NOW = 1_767_225_600
const kp = (n) => KeyPair.fromSeed(new Uint8Array(32).fill(n))
const [root, agent, other] = [kp(1), kp(2), kp(3)]
const token = mint(root, { agent: 'agent:a', agentKey: agent.publicKey, principal: 'user:u', rights: ['read_file:read:src/', 'prompts/get:get:review'], ttlSeconds: 3600, now: NOW })
const config = new McpConfig({ tools: { read_file: { operation: 'read', resource_arg: 'path' } } })
const verifier = new Verifier({ rootKeys: [root.publicKey], requireProof: true })
const msg = (method, params) => ({ jsonrpc: '2.0', id: 1, method, params })

function serverSees(message, headers) {
  return verifier.authorizeMcp(config, message, {
    token: headers.Authorization.replace(/^Bearer /, ''), proof: headers['Marque-Proof'],
    mcpMethod: headers['Mcp-Method'], mcpName: headers['Mcp-Name'], now: NOW,
  })
}

test(`mcp client (${RUNTIME}): clientHeaders are what the server maps`, () => {
  for (const [message, name, allowed] of [
    [msg('tools/call', { name: 'read_file', arguments: { path: 'src/a.rs' } }), 'read_file', true],
    [msg('tools/call', { name: 'read_file', arguments: { path: '.env' } }), 'read_file', false],
    [msg('prompts/get', { name: 'review' }), 'review', true],
  ]) {
    const h = config.clientHeaders(message, token, agent, { now: NOW })
    assert.deepEqual(Object.keys(h).sort(), ['Authorization', 'Marque-Proof', 'Mcp-Method', 'Mcp-Name'])
    assert.equal(h['Mcp-Method'], message.method)
    assert.equal(h['Mcp-Name'], name)
    const outcome = serverSees(message, h)
    assert.equal(outcome.allowed, allowed, JSON.stringify(outcome.decision))
    if (!allowed) assert.equal(outcome.decision.code, 'not_authorized')
  }
  // Allow-listed: the bearer token only.
  const list = config.clientHeaders(msg('tools/list', {}), token, agent, { now: NOW })
  assert.deepEqual(Object.keys(list).sort(), ['Authorization', 'Mcp-Method'])
  assert.equal(serverSees(msg('tools/list', {}), list).allowed, true)
})

test(`mcp client (${RUNTIME}): refused before it leaves`, () => {
  const noId = { jsonrpc: '2.0', method: 'tools/call', params: { name: 'read_file', arguments: { path: 'x' } } }
  for (const [fn, code] of [
    [() => config.clientHeaders(noId, token, agent), 'invalid_request'],
    [() => config.clientHeaders(msg('logging/setLevel', { level: 'debug' }), token, agent), 'invalid_request'],
    [() => config.clientHeaders(msg('tools/call', { name: 'read_file', arguments: { path: 'src/a' } }), token, other), 'wrong_holder_key'],
    [() => config.clientHeaders(msg('tools/list', {}), token, agent, { now: NOW * 1000 }), 'invalid_argument'],
    [() => config.clientHeaders(msg('tools/list', {}), token, agent, { noww: NOW }), 'invalid_argument'],
  ]) {
    assert.throws(fn, (e) => e instanceof MarqueError && e.code === code, code)
  }
})
