// Constraints beyond rights, in @marque/node and @marque/wasm alike (MARQUE_JS=node|wasm): human
// approvals (`approvers` / `approvalRules` on the verifier, `requireApproval` on a delegation,
// `approve`, `requestDigest`, the `approval` authorize option, `decision.approval` and
// `decision.approvalRequest`) and call budgets (`maxCalls`, `rate` on a delegation). The rules
// live in the core (core/src/constraints.rs, approval.rs, budget.rs; core/tests/constraints.rs):
// these tests pin that both packages expose them with one behaviour and refuse wrong shapes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, RUNTIME } from './marque.mjs'

const { KeyPair, Verifier, MarqueError, mint, approve, requestDigest } = marque
const NOW = 1_767_225_600
const kp = (n) => KeyPair.fromSeed(new Uint8Array(32).fill(n))
const [root, orch, agent, alice, mallory, grandchild] = [kp(1), kp(2), kp(3), kp(7), kp(8), kp(9)]

const token = mint(root, {
  agent: 'agent:orchestrator', agentKey: orch.publicKey, principal: 'user:bob',
  rights: [{ tool: 'deploy', operation: '*', resource: '*' }], ttlSeconds: 3600, now: NOW,
})
const prod = { tool: 'deploy', operation: 'deploy', resource: 'production/web' }
const staging = { tool: 'deploy', operation: 'deploy', resource: 'staging/web' }
const gated = () => new Verifier({
  rootKeys: [root.publicKey],
  approvers: { 'user:alice': alice.publicKey },
  approvalRules: ['deploy:*:production/'],
})

function thrown(fn) {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof MarqueError, `not a MarqueError: ${e}`)
    return e
  }
  assert.fail('expected a throw')
}

test(`constraints (${RUNTIME}): a call an approval rule matches is denied approval_required with the digest and the approvers`, () => {
  const d = gated().authorize(token, { ...prod, now: NOW })
  assert.equal(d.allowed, false)
  assert.equal(d.code, 'approval_required')
  assert.equal(d.approval, null)
  assert.deepEqual(d.approvalRequest.approvers, ['user:alice'])
  assert.equal(d.approvalRequest.digest, requestDigest(token, prod))
  assert.equal(typeof d.approvalRequest.reason, 'string')
  // The JSON form is the core's: `approval_request` present, snake_case.
  assert.deepEqual(JSON.parse(JSON.stringify(d)).approval_request.approvers, ['user:alice'])
  // Another call, the same token: another digest; a call no rule matches needs nothing.
  assert.notEqual(requestDigest(token, staging), d.approvalRequest.digest)
  assert.notEqual(requestDigest(token, { ...prod, attributes: { change: '42' } }), d.approvalRequest.digest)
  const s = gated().authorize(token, { ...staging, now: NOW })
  assert.equal(s.allowed, true)
  assert.equal(s.approvalRequest, null)
  assert.equal('approval_request' in JSON.parse(JSON.stringify(s)), false)
})

test(`constraints (${RUNTIME}): an approval of that exact call allows it once, and the decision records who approved`, () => {
  const v = gated()
  const { digest } = v.authorize(token, { ...prod, now: NOW }).approvalRequest
  const approval = approve(alice, { approver: 'user:alice', digest, now: NOW })
  assert.equal(typeof approval, 'string')
  const d = v.authorize(token, { ...prod, approval, now: NOW + 5 })
  assert.equal(d.allowed, true, d.reasons.join('; '))
  assert.equal(d.approval.approver, 'user:alice')
  assert.equal(d.approval.keyFingerprint, alice.publicKey.fingerprint)
  assert.equal(d.approval.iat, NOW)
  assert.equal(d.approval.exp, NOW + 300)
  assert.deepEqual(JSON.parse(JSON.stringify(d)).approval, { approver: 'user:alice', key_fingerprint: alice.publicKey.fingerprint, iat: NOW, exp: NOW + 300 })
  assert.equal(JSON.stringify(d), d.toJSON ? JSON.stringify(d.toJSON()) : JSON.stringify(d))
  // Reused: refused, with a fresh request to approve.
  const again = v.authorize(token, { ...prod, approval, now: NOW + 6 })
  assert.equal(again.code, 'approval_required')
  assert.equal(again.approvalRequest.digest, digest)
  assert.equal(thrown(() => v.authorizeOrThrow(token, { ...prod, approval, now: NOW + 7 })).code, 'approval_required')
})

test(`constraints (${RUNTIME}): an approval of another call, by an untrusted key or expired is refused`, () => {
  const v = gated()
  const other = { ...prod, resource: 'production/db' }
  const forOther = approve(alice, { approver: 'user:alice', digest: requestDigest(token, other), now: NOW })
  assert.equal(v.authorize(token, { ...prod, approval: forOther, now: NOW + 1 }).code, 'approval_required')
  const digest = requestDigest(token, prod)
  // Mallory signs as alice; mallory signs as herself (an id the verifier does not trust).
  const forged = approve(mallory, { approver: 'user:alice', digest, now: NOW })
  assert.equal(v.authorize(token, { ...prod, approval: forged, now: NOW + 1 }).code, 'approval_required')
  const untrusted = approve(mallory, { approver: 'user:mallory', digest, now: NOW })
  assert.equal(v.authorize(token, { ...prod, approval: untrusted, now: NOW + 1 }).code, 'approval_required')
  const short = approve(alice, { approver: 'user:alice', digest, ttlSeconds: 60, now: NOW })
  assert.equal(v.authorize(token, { ...prod, approval: short, now: NOW + 120 }).code, 'approval_required')
  // None of them was consumed by its refusal: a valid approval still works once.
  const ok = approve(alice, { approver: 'user:alice', digest, now: NOW })
  assert.equal(v.authorize(token, { ...prod, approval: ok, now: NOW + 2 }).allowed, true)
})

test(`constraints (${RUNTIME}): a delegation's requireApproval narrows its subtree`, () => {
  const child = token.delegate(orch, { to: 'agent:a', toKey: agent.publicKey, requireApproval: ['deploy:*:staging/'], now: NOW })
  const v = new Verifier({ rootKeys: [root.publicKey], approvers: { 'user:alice': alice.publicKey } })
  const d = v.authorize(child, { ...staging, now: NOW })
  assert.equal(d.code, 'approval_required')
  const approval = approve(alice, { approver: 'user:alice', digest: d.approvalRequest.digest, now: NOW })
  assert.equal(v.authorize(child, { ...staging, approval, now: NOW + 1 }).allowed, true)
  // The parent's token is not bound by its child's rule.
  assert.equal(v.authorize(token, { ...staging, now: NOW }).allowed, true)
})

test(`constraints (${RUNTIME}): maxCalls counts every call against the hop, and the third of two is budget_exhausted naming it`, () => {
  const child = token.delegate(orch, { to: 'agent:a', toKey: agent.publicKey, maxCalls: 2, now: NOW })
  const v = new Verifier({ rootKeys: [root.publicKey] })
  assert.equal(v.authorize(child, { ...staging, now: NOW }).allowed, true)
  assert.equal(v.authorize(child, { ...staging, now: NOW + 1 }).allowed, true)
  const third = v.authorize(child, { ...staging, now: NOW + 2 })
  assert.equal(third.allowed, false)
  assert.equal(third.code, 'budget_exhausted')
  assert.match(third.reasons.join('; '), /delegation 1 \(agent:a\)/)
  assert.equal(thrown(() => v.authorizeOrThrow(child, { ...staging, now: NOW + 3 })).code, 'budget_exhausted')
  // A grandchild shares its parent's budget: the hop named is the one that ran out.
  const g = child.delegate(agent, { to: 'agent:b', toKey: grandchild.publicKey, now: NOW })
  assert.match(v.authorize(g, { ...staging, now: NOW + 4 }).reasons.join('; '), /delegation 1 \(agent:a\)/)
  // Another verifier (its own in-memory counter store) counts from zero.
  assert.equal(new Verifier({ rootKeys: [root.publicKey] }).authorize(child, { ...staging, now: NOW }).allowed, true)
})

test(`constraints (${RUNTIME}): a rate budget refuses the call past its window's calls`, () => {
  const child = token.delegate(orch, { to: 'agent:a', toKey: agent.publicKey, rate: { calls: 1, windowSeconds: 60 }, now: NOW })
  const v = new Verifier({ rootKeys: [root.publicKey] })
  assert.equal(v.authorize(child, { ...staging, now: NOW }).allowed, true)
  assert.equal(v.authorize(child, { ...staging, now: NOW + 1 }).code, 'budget_exhausted')
})

test(`constraints (${RUNTIME}): a child's budget above its parent's is attenuation_widens`, () => {
  const child = token.delegate(orch, { to: 'agent:a', toKey: agent.publicKey, maxCalls: 2, rate: { calls: 5, windowSeconds: 60 }, now: NOW })
  const widen = (extra) => thrown(() => child.delegate(agent, { to: 'agent:b', toKey: grandchild.publicKey, now: NOW, ...extra })).code
  assert.equal(widen({ maxCalls: 3 }), 'attenuation_widens')
  assert.equal(widen({ rate: { calls: 6, windowSeconds: 60 } }), 'attenuation_widens')
  assert.equal(widen({ rate: { calls: 5, windowSeconds: 30 } }), 'attenuation_widens')
  assert.ok(child.delegate(agent, { to: 'agent:b', toKey: grandchild.publicKey, maxCalls: 1, now: NOW }))
})

test(`constraints (${RUNTIME}): the asynchronous path needs a counter store for budgets and claims an approval as a key`, async () => {
  const child = token.delegate(orch, { to: 'agent:a', toKey: agent.publicKey, maxCalls: 2, now: NOW })
  const v = new Verifier({ rootKeys: [root.publicKey] })
  // A replay store alone cannot spend budgets: refused, never an unspent allow (shared counter
  // stores: counter-store.test.mjs).
  const store = { claim: async () => true }
  await assert.rejects(v.authorizeWithStore(child, { ...staging, now: NOW }, store), (e) => e instanceof MarqueError && e.code === 'invalid_argument' && /budget/.test(e.message))
  const step = v.authorizeBegin(child, { ...staging, now: NOW })
  assert.equal(step.key, null)
  assert.equal(step.charges.length, 1)
  const approval = approve(alice, { approver: 'user:alice', digest: requestDigest(token, prod), now: NOW })
  // No proof: the approval's own key is the one claim; its store's answer decides.
  const pending = gated().authorizeBegin(token, { ...prod, approval, now: NOW })
  assert.match(pending.key, /^marque:replay:[0-9a-f]{64}$/)
  const used = gated().authorizeBegin(token, { ...prod, approval, now: NOW }).claimed(false)
  assert.equal(used.code, 'approval_required')
  assert.equal(used.approvalRequest.digest, requestDigest(token, prod))
  const allowed = pending.claimed(true)
  assert.equal(allowed.allowed, true)
  assert.equal(allowed.approval.approver, 'user:alice')
  // Without an approval, the asynchronous path still denies with what to approve.
  const d = gated().authorizeBegin(token, { ...prod, now: NOW })
  assert.equal(d.code, 'approval_required')
  assert.equal(d.approvalRequest.digest, requestDigest(token, prod))
})

test(`constraints (${RUNTIME}): wrong shapes, units and misspelt keys are refused`, () => {
  const del = (extra) => thrown(() => token.delegate(orch, { to: 'agent:a', toKey: agent.publicKey, now: NOW, ...extra }))
  for (const bad of [
    { maxCalls: 0 }, { maxCalls: 1.5 }, { maxCalls: -1 }, { maxCalls: '2' }, { maxCalls: Number.NaN },
    { rate: { calls: 1 } }, { rate: { windowSeconds: 60 } }, { rate: 5 }, { rate: [1, 60] },
    { rate: { calls: 1.5, windowSeconds: 60 } }, { rate: { calls: 1, windowSeconds: 0.5 } },
    { rate: { calls: 1, windowSeconds: 60, window: 60 } }, { rate: { calls: 1, window_seconds: 60 } },
    // Milliseconds: 60 000 000 "seconds" is beyond the longest window (30 days).
    { rate: { calls: 1, windowSeconds: 60_000_000 } },
    { requireApproval: 'deploy:*:production/' }, { requireApproval: ['deploy:*:../x'] }, { requireApproval: [''] },
    { max_calls: 2 }, { require_approval: ['deploy'] },
  ]) {
    assert.equal(del(bad).code, 'invalid_argument', JSON.stringify(bad))
  }
  const ver = (extra) => thrown(() => new Verifier({ rootKeys: [root.publicKey], ...extra }))
  assert.equal(ver({ approvers: { 'user:alice': 'zz' } }).code, 'invalid_key')
  for (const bad of [
    { approvers: [alice.publicKey] }, { approvers: 'user:alice' }, { approvers: { '': alice.publicKey } },
    { approvalRules: 'deploy:*:production/' }, { approvalRules: [''] }, { approval_rules: ['deploy'] },
  ]) {
    assert.equal(ver(bad).code, 'invalid_argument', JSON.stringify(bad))
  }
  const digest = requestDigest(token, prod)
  const app = (o) => thrown(() => approve(alice, { approver: 'user:alice', digest, now: NOW, ...o })).code
  for (const bad of [
    { ttlSeconds: 0 }, { ttlSeconds: 1.5 }, { ttlSeconds: 300_000 }, { now: NOW * 1000 },
    { digest: 'abc' }, { approver: '' }, { ttl_seconds: 60 }, { approver: undefined },
  ]) {
    assert.equal(app(bad), 'invalid_argument', JSON.stringify(bad))
  }
  assert.equal(thrown(() => requestDigest(token, { ...prod, attrs: {} })).code, 'invalid_argument')
  assert.equal(thrown(() => gated().authorize(token, { ...prod, approval: 42, now: NOW })).code, 'invalid_argument')
  // A garbled approval is a denial (approval_required), never an allow or a crash.
  assert.equal(gated().authorize(token, { ...prod, approval: 'not.an-approval', now: NOW }).code, 'approval_required')
})
