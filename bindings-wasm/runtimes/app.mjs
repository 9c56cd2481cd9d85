// The edge guard as a Workers-style module, the same in every runtime this directory's test runs
// it in (Deno, Bun, workerd): a read_file MCP tool call is forwarded to env.UPSTREAM only when the
// bearer token and its proof allow it.
import { Verifier } from '@marque/wasm'
import { guard } from '@marque/wasm/edge'

let verifier
export default {
  async fetch(request, env) {
    verifier ??= new Verifier({ rootKeys: [env.MARQUE_ROOT_KEY], requireProof: true })
    const r = await guard(request, { verifier, mcp: { tools: { read_file: { operation: 'read', resource_arg: 'path' } } } })
    if (r instanceof Response) return r
    const upstream = await fetch(new URL(new URL(request.url).pathname, env.UPSTREAM), r.request)
    return new Response(await upstream.text(), { status: upstream.status, headers: { 'marque-agent': r.decision.agent } })
  },
}
