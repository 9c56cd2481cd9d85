// A replay store shared by verifiers (Verifier.authorizeWithStore): an in-memory JS store shared
// by two verifiers, stores that reject / hang-then-reject / answer nonsense (fail closed,
// `replay_store_unavailable`), denied calls that never claim, and a loopback redis-server (a
// real server started and stopped by the test, spoken to with a 20-line RESP client: the
// adapter for node-redis/ioredis is the same one line, see README).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import net from 'node:net'
import { marque, keys, scenario, verifier, skipUnlessCI, NOW } from './helpers.mjs'

const { signProof, Decision, PendingAuthorization } = marque
const read = { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW }

/** The store contract on a Map (one process): set-if-absent. */
function memoryStore() {
  const held = new Map()
  const calls = []
  return {
    calls,
    async claim(key, ttlMs) {
      calls.push([key, ttlMs])
      if (held.has(key)) return false
      held.set(key, ttlMs)
      return true
    },
  }
}

async function outcome(v, c, proof, store) {
  try {
    const d = await v.authorizeWithStore(c, { ...read, proof }, store)
    return d.allowed ? 'allowed' : d.code
  } catch (e) {
    return e.code
  }
}

test('two verifiers sharing a store refuse the second use; the store sees hashes and the window', async () => {
  const { c } = scenario()
  const store = memoryStore()
  const [one, two] = [verifier(), verifier()]
  const p = signProof(keys.agentC, c, read)
  assert.equal(await outcome(one, c, p, store), 'allowed')
  assert.equal(await outcome(two, c, p, store), 'replayed_proof')
  assert.equal(await outcome(one, c, p, store), 'replayed_proof')
  // Control: without the shared store the other verifier's own memory accepts it.
  assert.equal(two.authorize(c, { ...read, proof: p }).allowed, true)
  assert.equal(store.calls.length, 3)
  for (const [key, ttl] of store.calls) {
    assert.match(key, /^marque:replay:[0-9a-f]{64}$/)
    assert.equal(ttl, 65_000)
  }
})

test('a denied call never claims; a call without a proof is decided without the store', async () => {
  const { c } = scenario()
  const store = memoryStore()
  const v = verifier()
  const outside = { ...read, resource: 'secrets/key' }
  const d = await v.authorizeWithStore(c, { ...outside, proof: signProof(keys.agentC, c, outside) }, store)
  assert.equal(d.code, 'not_authorized')
  assert.ok((await v.authorizeWithStore(c, read, store)).allowed)
  assert.equal(store.calls.length, 0)
  assert.ok(v.authorizeBegin(c, read) instanceof Decision)
})

test('a store that rejects or answers anything but a boolean fails closed; recovery is automatic', async () => {
  const { c } = scenario()
  const v = verifier()
  const p = signProof(keys.agentC, c, read)
  let down = true
  const inner = memoryStore()
  const flaky = { claim: (k, t) => (down ? Promise.reject(new Error('ECONNREFUSED')) : inner.claim(k, t)) }
  assert.equal(await outcome(v, c, p, flaky), 'replay_store_unavailable')
  for (const answer of [1, 0, 'OK', null, undefined, {}]) {
    assert.equal(await outcome(v, c, p, { claim: async () => answer }), 'replay_store_unavailable', String(answer))
  }
  assert.equal(await outcome(v, c, p, { claim: () => { throw new Error('sync throw') } }), 'replay_store_unavailable')
  down = false
  assert.equal(await outcome(v, c, p, flaky), 'allowed')
  assert.equal(await outcome(v, c, p, flaky), 'replayed_proof')
  // Not a store at all.
  for (const bad of [null, {}, { claim: 1 }, 'redis://x']) {
    await assert.rejects(v.authorizeWithStore(c, { ...read, proof: p }, bad), { code: 'invalid_argument' })
  }
  // A pending authorization is finished once.
  const step = v.authorizeBegin(c, { ...read, proof: signProof(keys.agentC, c, read) })
  assert.ok(step instanceof PendingAuthorization)
  assert.ok(step.finish(true).allowed)
  assert.throws(() => step.finish(true), { code: 'invalid_argument' })
})

// ---- a real Redis on loopback ------------------------------------------------------------

/** SET key 1 NX PX ttl over RESP; resolves true (+OK) / false (nil), rejects on error or timeout. */
function redisStore(port, timeoutMs = 500) {
  return {
    claim(key, ttlMs) {
      return new Promise((resolve, reject) => {
        const args = ['SET', key, '1', 'NX', 'PX', String(ttlMs)]
        const sock = net.connect({ host: '127.0.0.1', port })
        sock.setTimeout(timeoutMs, () => sock.destroy(new Error('timeout')))
        sock.on('error', reject)
        sock.on('connect', () => sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')))
        let buf = ''
        sock.on('data', (d) => {
          buf += d
          if (!buf.includes('\r\n')) return
          sock.end()
          if (buf.startsWith('+OK')) resolve(true)
          else if (buf.startsWith('$-1') || buf.startsWith('_')) resolve(false)
          else reject(new Error(`unexpected reply ${JSON.stringify(buf)}`))
        })
      })
    },
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

test('loopback redis-server: one use across verifiers; down → replay_store_unavailable; back → works', { skip: skipUnlessCI(!hasRedis && 'redis-server is not installed') }, async () => {
  const port = await freePort()
  let proc = await startRedis(port)
  const stop = () => new Promise((r) => { proc.on('exit', r); proc.kill('SIGKILL') })
  try {
    const { c } = scenario()
    const [one, two] = [verifier(), verifier()]
    const store = redisStore(port)
    const p = signProof(keys.agentC, c, read)
    assert.equal(await outcome(one, c, p, store), 'allowed')
    assert.equal(await outcome(two, c, p, redisStore(port)), 'replayed_proof')
    await stop()
    const q = signProof(keys.agentC, c, read)
    assert.equal(await outcome(one, c, q, store), 'replay_store_unavailable')
    proc = await startRedis(port)
    assert.equal(await outcome(two, c, q, store), 'allowed')
    assert.equal(await outcome(one, c, q, store), 'replayed_proof')
  } finally {
    await stop()
  }
})
