// The edge guard behind the MCP TypeScript SDK 2.x's runtime-neutral bearer auth, as a
// Workers-style module (the same in Node, Deno, Bun and workerd): the SDK's `requireBearerAuth`
// gate admits the bearer token through marque (`tokenVerifier`, 401 + the SDK's challenge with
// `resource_metadata` otherwise), then `guard` decides the MCP message — its proof must be bound
// to this server (the verifier's audience, RFC 8707) — and an allowed tools/call is forwarded to
// env.UPSTREAM.
import * as sdk from '@modelcontextprotocol/server'
import { Verifier } from '@marque/wasm'
import { guard, tokenVerifier } from '@marque/wasm/edge'

let state
function setup(env) {
  // A generous Datalog time limit (as the vector replayers use): the test machine is loaded, and a
  // wall-clock limit must not turn its allowed calls into limits_exceeded.
  const verifier = new Verifier({ rootKeys: [env.MARQUE_ROOT_KEY], requireProof: true, audience: env.AUDIENCE, limits: { maxTimeMicros: 2_000_000 } })
  const resource = new URL(verifier.audience)
  const resourceMetadataUrl = sdk.getOAuthProtectedResourceMetadataUrl(resource)
  const gate = sdk.requireBearerAuth({ verifier: tokenVerifier(verifier, { sdk }), expectedResource: resource, resourceMetadataUrl })
  const mcp = { resource: verifier.audience, tools: { read_file: { operation: 'read', resource_arg: 'path' } } }
  return { verifier, gate, mcp, resourceMetadataUrl }
}

export default {
  async fetch(request, env) {
    state ??= setup(env)
    const auth = await state.gate(request)
    if (auth instanceof Response) return auth
    const r = await guard(request, { verifier: state.verifier, mcp: state.mcp, resourceMetadata: state.resourceMetadataUrl })
    if (r instanceof Response) return r
    const upstream = await fetch(new URL(new URL(request.url).pathname, env.UPSTREAM), r.request)
    return new Response(await upstream.text(), { status: upstream.status, headers: { 'marque-agent': auth.clientId, 'marque-resource': String(auth.resource) } })
  },
}
