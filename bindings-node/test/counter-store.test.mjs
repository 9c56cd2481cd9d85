// Budgets shared by a fleet through a loopback redis-server (Verifier.authorizeWithStore with a
// counter store): the store runs the core's script (`redisSpendScript()`, one EVAL, atomic on the
// server), spoken to with a small RESP client (with node-redis it is one `client.eval` line, see
// README). Two verifiers in two processes share one delegation's budget; Redis stopped → the call
// fails closed (`replay_store_unavailable`); restarted → it works again. The in-memory contract
// is tested for both packages in tests/js/counter-store.test.mjs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { marque, keys, scenario, verifier, skipUnlessCI, NOW } from './helpers.mjs'

const { signProof, redisSpendScript } = marque
const read = { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW }

/** One RESP command; resolves an integer (`:n`), true (`+OK`), a bulk string, null (nil); rejects on `-ERR`, a closed socket or a timeout. */
function command(port, args, timeoutMs = 500) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port })
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error('timeout')))
    sock.on('error', reject)
    sock.on('close', () => reject(new Error('closed')))
    sock.on('connect', () => sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')))
    let buf = ''
    sock.on('data', (d) => {
      buf += d
      if (!buf.includes('\r\n')) return
      if (buf.startsWith('$') && !buf.startsWith('$-1')) {
        const n = Number(buf.slice(1, buf.indexOf('\r\n')))
        const body = buf.slice(buf.indexOf('\r\n') + 2)
        if (Buffer.byteLength(body) < n + 2) return
        sock.end()
        return resolve(body.slice(0, n))
      }
      sock.end()
      if (buf.startsWith(':')) resolve(Number(buf.slice(1, buf.indexOf('\r\n'))))
      else if (buf.startsWith('+OK')) resolve(true)
      else if (buf.startsWith('$-1') || buf.startsWith('_')) resolve(null)
      else reject(new Error(`unexpected reply ${JSON.stringify(buf)}`))
    })
  })
}

/** Both stores on one Redis: SET NX PX for the nonce, the core's script for the budgets. */
export function redisStores(port) {
  const script = redisSpendScript()
  return {
    claim: async (key, ttlMs) => (await command(port, ['SET', key, '1', 'NX', 'PX', String(ttlMs)])) === true,
    spend: (charges) =>
      command(port, ['EVAL', script, String(charges.length), ...charges.map((c) => c.key), ...charges.flatMap((c) => [String(c.limit), String(c.ttlMs)])]),
  }
}

const hasRedis = spawnSync('redis-server', ['--version']).status === 0

async function startRedis(port) {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  for (let i = 0; i < 500; i++) {
    const up = await new Promise((r) => net.connect({ host: '127.0.0.1', port }).on('connect', function () { this.end(); r(true) }).on('error', () => r(false)))
    if (up) return proc
    await new Promise((r) => setTimeout(r, 20))
  }
  proc.kill('SIGKILL')
  throw new Error('redis-server did not start')
}

async function freePort() {
  const srv = net.createServer()
  await new Promise((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address()
  await new Promise((r) => srv.close(r))
  return port
}

/** Another verifier process: `calls` calls of `token` with fresh proofs, its outcomes as JSON. */
function otherProcess(port, token, calls) {
  const helpers = new URL('./helpers.mjs', import.meta.url).href
  const self = new URL('./counter-store.test.mjs', import.meta.url).href
  const code = `
    const { marque, keys, verifier, NOW } = await import(${JSON.stringify(helpers)})
    const { redisStoresFor } = await import(${JSON.stringify(self)} + '?child')
    const t = marque.Token.fromBase64(${JSON.stringify(token.toBase64())})
    const read = { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW }
    const v = verifier(), out = []
    for (let i = 0; i < ${calls}; i++) {
      const d = await v.authorizeWithStore(t, { ...read, proof: marque.signProof(keys.agentC, t, read) }, redisStoresFor(${port}))
      out.push(d.allowed ? 'allowed' : d.code)
    }
    console.log(JSON.stringify(out))`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)), env: { ...process.env, MARQUE_COUNTER_STORE_CHILD: '1' } })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}
export const redisStoresFor = redisStores

async function outcome(v, t, store) {
  try {
    const d = await v.authorizeWithStore(t, { ...read, proof: signProof(keys.agentC, t, read) }, store)
    return d.allowed ? 'allowed' : d.code
  } catch (e) {
    return e.code
  }
}

if (!process.env.MARQUE_COUNTER_STORE_CHILD) {
  test('loopback redis-server: two processes share a budget; down → replay_store_unavailable; back → works', { skip: skipUnlessCI(!hasRedis && 'redis-server is not installed') }, async () => {
    const port = await freePort()
    let proc = await startRedis(port)
    const stop = () => new Promise((r) => { proc.on('exit', r); proc.kill('SIGKILL') })
    try {
      const { a } = scenario()
      // agent_c's hop allows 3 calls, shared by this process and another one.
      const t = a.delegate(keys.agentA, { to: 'agent:agent_c', toKey: keys.agentC.publicKey, resourcePrefix: 'src/lib.rs', maxCalls: 3, now: NOW })
      const store = redisStores(port)
      const v = verifier()
      assert.equal(await outcome(v, t, store), 'allowed')
      assert.deepEqual(otherProcess(port, t, 3), ['allowed', 'allowed', 'budget_exhausted'])
      const d = await v.authorizeWithStore(t, { ...read, proof: signProof(keys.agentC, t, read) }, store)
      assert.equal(d.code, 'budget_exhausted')
      assert.match(d.reasons[0], /delegation 2 \(agent:agent_c\)/)
      // The counter is one hashed key holding the 3 calls.
      const step = v.authorizeBegin(t, read)
      const [charge] = step.charges
      assert.match(charge.key, /^marque:budget:[0-9a-f]{64}$/)
      assert.equal(await command(port, ['GET', charge.key]), '3', 'the refused calls counted nothing')
      // Redis down: closed, never allowed.
      await stop()
      const fresh = a.delegate(keys.agentA, { to: 'agent:agent_c', toKey: keys.agentC.publicKey, resourcePrefix: 'src/lib.rs', maxCalls: 1, now: NOW })
      assert.equal(await outcome(v, fresh, store), 'replay_store_unavailable')
      assert.equal(await outcome(v, fresh, { claim: async () => true, spend: store.spend }), 'replay_store_unavailable', 'the counter store alone down')
      // Back up (empty: a new server): works, and counts again.
      proc = await startRedis(port)
      assert.equal(await outcome(v, fresh, store), 'allowed')
      assert.equal(await outcome(verifier(), fresh, store), 'budget_exhausted')
    } finally {
      await stop()
    }
  })
}
