import { test } from 'node:test'
import assert from 'node:assert/strict'
import { marque, keys, scenario, verifier, thrown, NOW } from './helpers.mjs'

const { AuditLog, Envelope, MarqueError } = marque
const event = (i, extra = {}) => ({
  event_type: 'tool_call',
  agent_id: 'agent:reviewer',
  agent_key_fingerprint: keys.agentA.publicKey.fingerprint,
  principal: 'user:alice',
  action: 'read_file',
  resource: `src/${i}.rs`,
  decision: 'allow',
  policy_id: 'marque:rights',
  timestamp: NOW + i,
  ...extra,
})

function sampleLog(n = 4) {
  const log = new AuditLog()
  for (let i = 0; i < n; i++) log.append(keys.root, event(i))
  return log
}

test('append, verify, JSONL round trip, envelopes', () => {
  const log = sampleLog()
  assert.equal(log.length, 4)
  const report = log.verify([keys.root.publicKey])
  assert.deepEqual(report, { ok: true, entries: 4, head: log.head, problem: null })
  assert.match(log.head, /^[0-9a-f]{64}$/)
  const again = AuditLog.fromJsonl(log.toJsonl())
  assert.equal(again.toJsonl(), log.toJsonl())
  assert.equal(again.verify([keys.root.publicKey.toHex()], { expectedHead: log.head }).ok, true)
  const envs = log.envelopes()
  assert.ok(envs[0] instanceof Envelope)
  assert.equal(envs[0].seq, 0)
  assert.equal(envs[0].prev, '0'.repeat(64))
  assert.equal(envs[1].prev, envs[0].digest)
  assert.ok(envs[0].signer.equals(keys.root.publicKey))
  assert.equal(envs[0].signerFingerprint, keys.root.publicKey.fingerprint)
  assert.deepEqual(envs[2].event, { ...event(2), chain: [], attributes: {} })
  envs[0].verify([keys.root.publicKey])
  assert.equal(thrown(() => envs[0].verify([keys.other.publicKey])).code, 'invalid_signature')
  assert.equal(Envelope.fromJson(envs[3].toJson()).toJson(), envs[3].toJson())
  assert.equal(typeof envs[0].otelAttributes()['gen_ai.tool.name'], 'string')
})

test('envelopes are RFC 8785 canonical JSON', () => {
  const line = sampleLog(1).toJsonl().trim()
  const sortKeys = (v) => (Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])])) : v)
  assert.equal(line, JSON.stringify(sortKeys(JSON.parse(line))))
})

test('tampering is reported by index and kind; verifyOrThrow raises audit_chain_broken', () => {
  const log = sampleLog()
  const lines = log.toJsonl().trim().split('\n')
  const check = (text, index, kind, opts) => {
    const r = AuditLog.fromJsonl(text).verify([keys.root.publicKey], opts)
    assert.equal(r.ok, false)
    assert.equal(r.problem.index, index, JSON.stringify(r))
    assert.equal(r.problem.kind, kind, JSON.stringify(r))
    assert.equal(typeof r.problem.message, 'string')
    const e = thrown(() => AuditLog.fromJsonl(text).verifyOrThrow([keys.root.publicKey], opts))
    assert.ok(e instanceof MarqueError)
    assert.equal(e.code, 'audit_chain_broken')
  }
  check(log.toJsonl().replace('src/1.rs', 'src/9.rs'), 1, 'edited_entry')
  check([lines[0], lines[2], lines[3]].join('\n'), 1, 'removed_entry')
  check([lines[0], lines[2], lines[1], lines[3]].join('\n'), 1, 'reordered_entries')
  check(lines.slice(0, 3).join('\n'), 3, 'truncated_tail', { expectedHead: log.head })
  check([lines[0], '{"nope":1}', ...lines.slice(2)].join('\n'), 1, 'malformed_entry')
  const other = new AuditLog()
  other.append(keys.other, event(0))
  check(other.toJsonl(), 0, 'unknown_signer')
})

test('appendDecision records a decision with the core mapping (Decision::to_audit_event)', () => {
  const { c } = scenario()
  const v = verifier()
  const log = new AuditLog()
  const allowed = v.authorize(c, { tool: 'read_file', operation: 'read', resource: 'src/lib.rs', now: NOW + 1 })
  const denied = v.authorize(c, { tool: 'read_file', operation: 'read', resource: '.env', now: NOW + 2 })
  log.appendDecision(keys.root, allowed)
  const env = log.appendDecision(keys.root, denied, 'tool_call_denied')
  const [a, d] = log.envelopes().map((e) => e.event)
  assert.equal(a.event_type, 'authorization')
  assert.equal(a.decision, 'allow')
  assert.equal(a.agent_id, 'agent:agent_c')
  assert.deepEqual(a.chain, allowed.chain)
  assert.equal(a.action, 'read_file')
  assert.equal(a.operation, 'read')
  assert.equal(a.resource, 'src/lib.rs')
  assert.equal(a.policy_id, 'marque:rights')
  assert.equal(a.agent_key_fingerprint, keys.agentC.publicKey.fingerprint)
  assert.equal(a.principal, 'user:alice')
  assert.equal(a.task, 'fix-issue-42')
  assert.equal(a.token_id, allowed.tokenId)
  assert.equal(a.timestamp, NOW + 1)
  assert.equal(d.event_type, 'tool_call_denied')
  assert.equal(d.decision, 'deny')
  assert.equal(d.attributes.denial_code, 'not_authorized')
  assert.equal(d.policy_id, denied.policy ?? 'none')
  assert.deepEqual(d.attributes.reasons, denied.reasons)
  assert.equal(env.seq, 1)
  assert.equal(log.verify([keys.root.publicKey]).ok, true)
})

test('bad events and keys are typed errors', () => {
  const log = new AuditLog()
  assert.equal(thrown(() => log.append(keys.root, { ...event(0), unknown_member: 1 })).code, 'invalid_argument')
  assert.equal(thrown(() => log.append(keys.root, { ...event(0), decision: 'maybe' })).code, 'invalid_argument')
  assert.equal(thrown(() => log.append(keys.root, '{')).code, 'invalid_argument')
  const cyclic = event(0)
  cyclic.attributes = { self: null }
  cyclic.attributes.self = cyclic.attributes
  assert.equal(thrown(() => log.append(keys.root, cyclic)).code, 'invalid_argument')
  assert.equal(thrown(() => log.append(keys.root, { ...event(0), attributes: { n: 10n } })).code, 'invalid_argument')
  assert.equal(thrown(() => log.verify(['zz'])).code, 'invalid_key')
  assert.equal(log.length, 0)
  log.append(keys.root, JSON.stringify(event(0)))
  assert.equal(log.length, 1)
  assert.equal(thrown(() => Envelope.fromJson('{}')).code, 'invalid_argument')
})
