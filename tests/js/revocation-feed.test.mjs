// The revocation feed in both JS packages: `RevocationFeed` (errors.cjs, shared) polls a loopback
// HTTP server (ETag / If-None-Match, started and stopped here) for the operator's signed list, and
// the core's `RevocationFeedState` decides: a new list is enforced, a 304 keeps it, a failing or
// vanished publisher keeps the list in force and backs off, an older list is refused, options in
// the wrong unit or with a typo are refused. Runs against @marque/node and @marque/wasm.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { marque, RUNTIME } from './marque.mjs'

const { KeyPair, MarqueError, RevocationFeed, RevocationFeedState, RevocationList, Verifier, mint } = marque
const kp = (n) => KeyPair.fromSeed(new Uint8Array(32).fill(n))
const root = kp(1)
const agent = kp(2)
const operator = kp(5)
const now = () => Math.floor(Date.now() / 1000)
const token = mint(root, { agent: 'agent:a', agentKey: agent.publicKey, principal: 'user:alice', rights: ['read_file:read:*'], ttlSeconds: 3600 })
const refused = (f, code) => assert.throws(f, (e) => e instanceof MarqueError && e.code === code, String(f))

function signed(sequence, agents = [], issuedAt = now()) {
  return RevocationList.sign({ agents }, { sequence, signer: operator, issuedAt }).toJson()
}

/** A static server for one document, with ETag / If-None-Match and a switch to fail. */
async function publisher(body) {
  const p = { body, status: null, requests: [] }
  p.server = createServer((req, res) => {
    p.requests.push({ ifNoneMatch: req.headers['if-none-match'] ?? null })
    if (p.status !== null) return res.writeHead(p.status).end()
    const etag = `"${createHash('sha256').update(p.body).digest('hex').slice(0, 16)}"`
    if (req.headers['if-none-match'] === etag) return res.writeHead(304, { ETag: etag }).end()
    res.writeHead(200, { ETag: etag, 'Content-Type': 'application/json' }).end(p.body)
  })
  await new Promise((resolve) => p.server.listen(0, '127.0.0.1', resolve))
  p.url = `http://127.0.0.1:${p.server.address().port}/revocations.json`
  p.close = () => new Promise((resolve) => { p.server.closeAllConnections?.(); p.server.close(resolve) })
  return p
}

function verifier(staleness = 600) {
  return new Verifier({ rootKeys: [root.publicKey], operatorKeys: [operator.publicKey], maxRevocationStaleness: staleness })
}

function read(v, at) {
  try {
    const d = v.authorize(token, { tool: 'read_file', operation: 'read', resource: 'a', ...(at ? { now: at } : {}) })
    return d.allowed ? 'allowed' : d.code
  } catch (e) {
    return e.code
  }
}

test(`revocation feed (${RUNTIME}): a published revocation is enforced, 304 keeps the list`, async () => {
  const p = await publisher(signed(1))
  try {
    const v = verifier()
    const feed = new RevocationFeed(v, p.url, { interval: 1 })
    assert.equal(read(v), 'revocation_list_stale')
    assert.deepEqual(await feed.pollOnce(), { loaded: 1, error: null, nextPollIn: 1 })
    assert.equal(read(v), 'allowed')
    assert.deepEqual(await feed.pollOnce(), { loaded: null, error: null, nextPollIn: 1 })
    assert.equal(p.requests.at(-1).ifNoneMatch, feed.state.etag)
    p.body = signed(2, ['agent:a'])
    assert.equal((await feed.pollOnce()).loaded, 2)
    assert.equal(read(v), 'revoked')
    assert.ok(feed.freshness() < 60)
  } finally {
    await p.close()
  }
})

test(`revocation feed (${RUNTIME}): a failing publisher keeps the list, backs off, an older list is refused`, async (t) => {
  const p = await publisher(signed(5))
  t.after(() => p.close())
  const v = verifier(120)
  const feed = new RevocationFeed(v, p.url, { interval: 2, maxBackoff: 8 })
  await feed.pollOnce()
  p.status = 503
  const waits = []
  for (let i = 0; i < 4; i++) waits.push((await feed.pollOnce()).nextPollIn)
  assert.deepEqual(waits, [4, 8, 8, 8])
  assert.match(feed.state.lastError, /HTTP 503/)
  p.status = 302 // a redirect is not followed: the feed polls the URL it was given
  assert.match((await feed.pollOnce()).error, /HTTP 302/)
  p.status = null
  p.body = signed(4)
  const out = await feed.pollOnce()
  assert.equal(out.loaded, null)
  assert.match(out.error, /revocation_list_rollback/)
  p.body = '<html>'
  assert.match((await feed.pollOnce()).error, /revocation_list_invalid/)
  assert.equal(read(v), 'allowed', 'list 5 still in force')
  await p.close()
  const gone = await feed.pollOnce()
  assert.ok(gone.error && gone.loaded === null, JSON.stringify(gone))
  assert.equal(read(v, now() + 200), 'revocation_list_stale', 'too old: closed')
})

test(`revocation feed (${RUNTIME}): start() polls on a timer until stop()`, async () => {
  const p = await publisher(signed(1))
  try {
    const v = verifier()
    const feed = new RevocationFeed(v, p.url, { interval: 1 }).start()
    const until = async (want) => {
      const deadline = Date.now() + 10_000
      while (read(v) !== want) {
        assert.ok(Date.now() < deadline, `never ${want}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    await until('allowed')
    p.body = signed(2, ['agent:a'])
    await until('revoked')
    await feed.stop()
    assert.equal(feed.running, false)
    assert.ok(feed.polls >= 2)
  } finally {
    await p.close()
  }
})

test(`revocation feed (${RUNTIME}): the state file carries the rollback rule across a restart`, { skip: RUNTIME === 'wasm' && 'no file system at the edge (documented)' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'marque-feed-'))
  const p = await publisher(signed(3, ['agent:a']))
  try {
    const stateFile = join(dir, 'last.json')
    const feed = new RevocationFeed(verifier(), p.url, { stateFile })
    assert.equal(feed.restored, null)
    assert.equal((await feed.pollOnce()).loaded, 3)
    const v2 = verifier()
    const again = new RevocationFeed(v2, p.url, { stateFile })
    assert.equal(again.restored, 3)
    assert.equal(read(v2), 'revoked')
    p.body = signed(2)
    assert.match((await again.pollOnce()).error, /revocation_list_rollback/)
  } finally {
    await p.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test(`revocation feed (${RUNTIME}): wrong URLs, units, types and option names are refused`, () => {
  const v = verifier()
  for (const url of ['file:///etc/passwd', 'https://user:pw@ops.example/r.json', 'ftp://x/r', 'https://x/r#f']) {
    refused(() => new RevocationFeed(v, url), 'invalid_argument')
  }
  refused(() => new RevocationFeed(v, 'https://x/r', { interval: 30_000 }), 'invalid_argument') // milliseconds meant
  refused(() => new RevocationFeed(v, 'https://x/r', { interval: 30, maxBackoff: 10 }), 'invalid_argument')
  refused(() => new RevocationFeed(v, 'https://x/r', { intervall: 30 }), 'invalid_argument')
  refused(() => new RevocationFeed(v, 'https://x/r', { timeoutSeconds: 5000 }), 'invalid_argument')
  refused(() => new RevocationFeed({}, 'https://x/r'), 'invalid_argument')
  refused(() => RevocationFeed(v, 'https://x/r'), 'invalid_argument')
  refused(() => new RevocationFeedState('https://x/r', { interval: -1 }), 'invalid_argument')
  if (RUNTIME === 'wasm') refused(() => new RevocationFeed(v, 'https://x/r', { stateFile: '/tmp/x' }), 'invalid_argument')
})
