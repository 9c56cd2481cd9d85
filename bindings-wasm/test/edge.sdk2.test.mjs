// `tokenVerifier`: @marque/wasm/edge as the OAuthTokenVerifier of the MCP SDK 2.x's
// runtime-neutral bearer auth (`verifyBearerToken` / `requireBearerAuth` of
// @modelcontextprotocol/server). A marque refusal must become the SDK's own error class (else the
// SDK answers 500), fail closed on a stale revocation list, and report the verifier's audience as
// the resource. The end-to-end story (Node, Deno, Bun, workerd) is runtimes.test.mjs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { tokenVerifier } from '../pkg/edge.js'
import { marque, key, skipUnlessCI } from './helpers.mjs'

const installed = existsSync(new URL('../node_modules/@modelcontextprotocol/server/package.json', import.meta.url))
const skip = skipUnlessCI(installed ? false : '@modelcontextprotocol/server is not installed (npm install in bindings-wasm)')
const sdk = installed ? await import('@modelcontextprotocol/server') : null

const root = key('root')
const agent = marque.KeyPair.generate()
const mint = (extra = {}) => marque.mint(root, { agent: 'agent:a', agentKey: agent.publicKey, principal: 'user:alice', rights: ['read_file:read:src/'], ttlSeconds: 600, ...extra })
const AUDIENCE = 'https://files.example/mcp'

test('an admitted token is the SDK AuthInfo; the resource is the verifier audience', { skip }, async () => {
  const verifier = new marque.Verifier({ rootKeys: [root.publicKey], audience: 'HTTPS://Files.example/mcp/' })
  const token = mint().toBase64()
  const info = await sdk.verifyBearerToken(`Bearer ${token}`, { verifier: tokenVerifier(verifier, { sdk }), expectedResource: new URL(AUDIENCE) })
  assert.equal(info.clientId, 'agent:a')
  assert.deepEqual(info.scopes, ['read_file:read:src/'])
  assert.equal(String(info.resource), AUDIENCE)
  assert.equal(info.extra.marque.path, '/root')
  // Another expected resource: the SDK refuses (its own rule, on the audience marque reports).
  await assert.rejects(sdk.verifyBearerToken(`Bearer ${token}`, { verifier: tokenVerifier(verifier, { sdk }), expectedResource: new URL('https://other.example/mcp') }),
    (e) => e instanceof sdk.OAuthError && e.code === sdk.OAuthErrorCode.InvalidToken)
})

test('refusals are the SDK errors: invalid_token (401) and, fail closed, server_error', { skip }, async () => {
  const gate = (verifier) => sdk.requireBearerAuth({ verifier: tokenVerifier(verifier, { sdk }), resourceMetadataUrl: 'https://files.example/.well-known/oauth-protected-resource/mcp' })
  const request = (token) => new Request('https://files.example/mcp', { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  const verifier = new marque.Verifier({ rootKeys: [root.publicKey] })
  const expired = mint({ ttlSeconds: 60, now: Math.floor(Date.now() / 1000) - 3600 }).toBase64()
  for (const bad of ['not-a-token', expired]) {
    const r = await gate(verifier)(request(bad))
    assert.ok(r instanceof Response)
    assert.equal(r.status, 401)
    assert.match(r.headers.get('www-authenticate'), /^Bearer error="invalid_token", error_description="marque: (invalid_token|expired): /)
    assert.match(r.headers.get('www-authenticate'), /resource_metadata="https:\/\/files.example\/.well-known\/oauth-protected-resource\/mcp"/)
  }
  // A required signed revocation list that is missing: 500, never an admission.
  const fleet = new marque.Verifier({ rootKeys: [root.publicKey], operatorKeys: [key('orchestrator').publicKey], maxRevocationStaleness: 300 })
  const stale = await gate(fleet)(request(mint().toBase64()))
  assert.equal(stale.status, 500)
})

test('tokenVerifier options are checked', { skip }, () => {
  const verifier = new marque.Verifier({ rootKeys: [root.publicKey] })
  for (const [v, o] of [[verifier, {}], [verifier, { sdk: {} }], [{}, { sdk }], [verifier, { sdk, sdK: sdk }]]) {
    assert.throws(() => tokenVerifier(v, o), (e) => e instanceof marque.MarqueError && e.code === 'invalid_argument')
  }
})
