// A budget counter store shared by verifiers, through `Verifier.authorizeWithStore(token, options,
// store)` with the JS object contract `{ spend(charges) → Promise<number> }` beside
// `{ claim(key, ttlMs) → Promise<boolean> }` (what a Workers user backs with a Durable Object, a
// Node user with Redis and `redisSpendScript()`). In-memory JS implementation here (the one the
// READMEs show); the Node package also tests a loopback redis-server
// (bindings-node/test/counter-store.test.mjs). Runs against @marque/node and @marque/wasm.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, RUNTIME } from './marque.mjs'

const { KeyPair, Verifier, MarqueError, PendingAuthorization, mint, signProof, redisSpendScript } = marque
const NOW = 1_767_225_600
const root = KeyPair.fromHex('01'.repeat(32))
const orch = KeyPair.fromHex('02'.repeat(32))
const lead = KeyPair.fromHex('03'.repeat(32))
const worker = KeyPair.fromHex('04'.repeat(32))
const token = mint(root, { agent: 'agent:orch', agentKey: orch.publicKey, principal: 'user:alice', rights: ['read_file:read:src/'], ttlSeconds: 600, now: NOW })
// orch → lead (no budget) → worker (2 calls): the exhaustion names delegation 2, the worker.
const leadToken = token.delegate(orch, { to: 'agent:lead', toKey: lead.publicKey, now: NOW })
const budgeted = leadToken.delegate(lead, { to: 'agent:worker', toKey: worker.publicKey, maxCalls: 2, now: NOW })
const read = { tool: 'read_file', operation: 'read', resource: 'src/a.rs', now: NOW }
const verifier = () => new Verifier({ rootKeys: [root.publicKey] })

/** The in-memory store of the READMEs (a Durable Object holds one): set-if-absent and all-or-nothing counters. */
function memoryStore() {
  const held = new Map()
  const counters = new Map()
  const spends = []
  return {
    spends,
    async claim(key, ttlMs) {
      if (held.has(key)) return false
      held.set(key, Date.now() + ttlMs)
      return true
    },
    async spend(charges) {
      spends.push(charges)
      const now = Date.now()
      const count = (key) => {
        const c = counters.get(key)
        return c && c.until > now ? c.n : 0
      }
      const full = charges.findIndex((c) => count(c.key) >= c.limit)
      if (full >= 0) return full + 1
      for (const c of charges) {
        const n = count(c.key)
        counters.set(c.key, { n: n + 1, until: n === 0 ? now + c.ttlMs : counters.get(c.key).until })
      }
      return 0
    },
  }
}

async function outcome(v, store, { proof = true, storeOptions, t = budgeted } = {}) {
  const options = proof ? { ...read, proof: signProof(worker, t, read) } : read
  try {
    const d = await v.authorizeWithStore(t, options, store, storeOptions)
    return d.allowed ? 'allowed' : d.code
  } catch (e) {
    assert.ok(e instanceof MarqueError, String(e))
    return e.code
  }
}

test(`counter store (${RUNTIME}): two verifiers sharing a store share the budget; exhausted names the hop`, async () => {
  const store = memoryStore()
  const [one, two] = [verifier(), verifier()]
  assert.equal(await outcome(one, store), 'allowed')
  assert.equal(await outcome(two, store), 'allowed')
  const v = verifier()
  const d = await v.authorizeWithStore(budgeted, { ...read, proof: signProof(worker, budgeted, read) }, store)
  assert.equal(d.code, 'budget_exhausted')
  assert.match(d.reasons[0], /delegation 2 \(agent:worker\)/)
  // Without a proof the budget is still spent in the store: never skipped.
  assert.equal(await outcome(two, store, { proof: false }), 'budget_exhausted')
  // Control: each verifier's own memory (the sync path) has not counted these calls.
  assert.equal(one.authorize(budgeted, read).allowed, true)
  // The store sees hashed keys, the limit and a time to live: no token material.
  for (const charges of store.spends) {
    assert.equal(charges.length, 1)
    assert.match(charges[0].key, /^marque:budget:[0-9a-f]{64}$/)
    assert.equal(charges[0].limit, 2)
    assert.equal(charges[0].ttlMs, 660_000)
  }
})

test(`counter store (${RUNTIME}): the nonce is claimed before the budget; a replay spends nothing`, async () => {
  const store = memoryStore()
  const v = verifier()
  const p = signProof(worker, budgeted, read)
  assert.ok((await v.authorizeWithStore(budgeted, { ...read, proof: p }, store)).allowed)
  assert.equal((await v.authorizeWithStore(budgeted, { ...read, proof: p }, store)).code, 'replayed_proof')
  assert.equal(store.spends.length, 1)
  // A token without budgets never reaches spend; a denied call reaches no store.
  const plain = { ...read, proof: signProof(orch, token, read) }
  assert.ok((await v.authorizeWithStore(token, plain, store)).allowed)
  const outside = { ...read, resource: 'secrets/key' }
  assert.equal((await v.authorizeWithStore(budgeted, { ...outside, proof: signProof(worker, budgeted, outside) }, store)).code, 'not_authorized')
  assert.equal(store.spends.length, 1)
  // The steps, by hand: claim, then spend; a spend before the claim is refused.
  const step = v.authorizeBegin(budgeted, { ...read, proof: signProof(worker, budgeted, read) })
  assert.ok(step instanceof PendingAuthorization)
  assert.match(step.key, /^marque:replay:/)
  assert.equal(step.charges.length, 1)
  assert.throws(() => step.spent(0), { code: 'invalid_argument' })
})

test(`counter store (${RUNTIME}): a store that throws, answers nonsense or never answers fails closed`, async () => {
  const v = verifier()
  const ok = memoryStore()
  const claimOnly = { claim: ok.claim }
  const spending = (spend) => ({ claim: ok.claim, spend })
  assert.equal(await outcome(v, spending(() => Promise.reject(new Error('ECONNREFUSED')))), 'replay_store_unavailable')
  assert.equal(await outcome(v, spending(() => { throw new Error('sync') })), 'replay_store_unavailable')
  for (const answer of [-1, 2, 0.5, NaN, '0', null, undefined, true, {}, [0]]) {
    assert.equal(await outcome(v, spending(async () => answer)), 'replay_store_unavailable', String(answer))
  }
  // Never answers: the timeout ends the call, closed.
  const never = spending(() => new Promise(() => {}))
  assert.equal(await outcome(v, never, { storeOptions: { timeoutMs: 50 } }), 'replay_store_unavailable')
  assert.equal(await outcome(v, { claim: () => new Promise(() => {}), spend: ok.spend }, { storeOptions: { timeoutMs: 50 } }), 'replay_store_unavailable')
  // A budget token with a store that cannot spend is refused before its nonce is claimed.
  const p = signProof(worker, budgeted, read)
  await assert.rejects(v.authorizeWithStore(budgeted, { ...read, proof: p }, claimOnly), { code: 'invalid_argument' })
  await assert.rejects(v.authorizeWithStore(budgeted, { ...read, proof: p }, { spend: ok.spend }), { code: 'invalid_argument' })
  assert.ok((await v.authorizeWithStore(budgeted, { ...read, proof: p }, ok)).allowed, 'the nonce was not burnt')
  // A counter store alone serves calls without a proof.
  assert.ok((await v.authorizeWithStore(budgeted, read, { spend: ok.spend })).allowed)
  // Store options are checked.
  for (const bad of [{ timeout: 5 }, { timeoutMs: 0 }, { timeoutMs: 60_001 }, { timeoutMs: '5' }, 'fast']) {
    await assert.rejects(v.authorizeWithStore(budgeted, read, ok, bad), { code: 'invalid_argument' }, JSON.stringify(bad))
  }
  // After all this, a healthy store still counts exactly the allowed calls: 2 of 2 spent.
  assert.equal(await outcome(v, ok), 'budget_exhausted')
})

test(`counter store (${RUNTIME}): redisSpendScript is the core's script`, () => {
  const script = redisSpendScript()
  assert.match(script, /redis\.call\('INCR', KEYS\[i\]\)/)
  assert.match(script, /PEXPIRE/)
})

test(`counter store (${RUNTIME}): authorizeWithStore claims an approval once, after the nonce, in the shared store`, async () => {
  const alice = KeyPair.fromHex('07'.repeat(32))
  const gated = () => new Verifier({ rootKeys: [root.publicKey], approvers: { 'user:alice': alice.publicKey }, approvalRules: ['read_file:*:src/'] })
  const store = memoryStore()
  const claimed = []
  const watched = { claim: (key, ttlMs) => { claimed.push(key); return store.claim(key, ttlMs) }, spend: (c) => store.spend(c) }
  const call = (v, approval) => v.authorizeWithStore(budgeted, { ...read, proof: signProof(worker, budgeted, read), ...(approval ? { approval } : {}) }, watched)
  const asked = await call(gated())
  assert.equal(asked.code, 'approval_required')
  assert.deepEqual(claimed, [], 'a denied call claims nothing')
  const approval = marque.approve(alice, { approver: 'user:alice', digest: asked.approvalRequest.digest, now: NOW })
  const ok = await call(gated(), approval)
  assert.equal(ok.allowed, true, ok.reasons?.join())
  assert.equal(ok.approval.approver, 'user:alice')
  assert.equal(claimed.length, 2, 'the nonce, then the approval')
  assert.ok(claimed.every((k) => /^marque:replay:[0-9a-f]{64}$/.test(k)) && claimed[0] !== claimed[1])
  assert.equal(store.spends.length, 1, 'then the budget')
  // Another verifier sharing the store: the approval is used.
  const again = await call(gated(), approval)
  assert.equal(again.code, 'approval_required')
  assert.match(again.reasons[0], /already used/)
  assert.equal(again.approvalRequest.digest, asked.approvalRequest.digest)
  assert.equal(store.spends.length, 1, 'a refused approval spends no budget')
  // A store that fails on the approval's claim fails closed.
  const fresh = marque.approve(alice, { approver: 'user:alice', digest: asked.approvalRequest.digest, now: NOW })
  let n = 0
  const flaky = { claim: async () => { n += 1; if (n > 1) throw new Error('down'); return true }, spend: async () => 0 }
  await assert.rejects(gated().authorizeWithStore(budgeted, { ...read, proof: signProof(worker, budgeted, read), approval: fresh }, flaky), (e) => e instanceof MarqueError && e.code === 'replay_store_unavailable')
})
