// Rate limits through the real app: per token subject on the cut route (RATE_LIMIT_CUT_*), per
// client address on every route (RATE_LIMIT_IP_*), 429 as problem+json with Retry-After and the
// x-ratelimit-* headers, every limited cut audited; TRUST_PROXY decides whose address counts.
import t, { type Test } from 'tap'
import { Agent } from 'undici'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import { startService, type ServiceUnderTest } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'
import { cutRequest, flatHeaders, socketCutRequest, type Answer } from '../helpers/cut-request.ts'
import { auditByRequestId, callsFor, PROBLEM_JSON } from './support.ts'

const WRONG_SECRET = 'not-the-secret-the-service-verifies-with!!'

async function listen (t: Test, service: ServiceUnderTest): Promise<string> {
  const address = await service.app.listen({ host: '127.0.0.1', port: 0 })
  t.ok(address.startsWith('http://127.0.0.1:'), 'listening on loopback')
  return address
}

function assertRateLimited (t: Test, answer: Omit<Answer, 'requestId'>, limit: number, what: string): void {
  t.equal(answer.status, 429, `${what}: 429`)
  t.equal(answer.headers['content-type'], PROBLEM_JSON, `${what}: problem+json`)
  t.match(answer.body, { type: 'urn:livecut:problem:rate_limited', status: 429, title: String, detail: String, requestId: String }, `${what}: problem body`)
  const retryAfter = Number(answer.headers['retry-after'])
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `${what}: Retry-After is whole seconds within the window (${answer.headers['retry-after']})`)
  t.equal(answer.headers['x-ratelimit-limit'], String(limit), `${what}: x-ratelimit-limit`)
  t.equal(answer.headers['x-ratelimit-remaining'], '0', `${what}: x-ratelimit-remaining`)
  const reset = Number(answer.headers['x-ratelimit-reset'])
  t.ok(Number.isInteger(reset) && reset >= 1 && reset <= 60, `${what}: x-ratelimit-reset within the window (${answer.headers['x-ratelimit-reset']})`)
}

t.test('per subject: the third cut by one subject in the window is 429, audited; another subject still cuts', async (t) => {
  const service = await startService(t, { env: { RATE_LIMIT_CUT_MAX: '2' } })
  const alice = hsToken({ sub: 'alice' })
  const bob = hsToken({ sub: 'bob' })

  const first = await cutRequest(service, { token: alice, video: 'sub-v1', requestId: 'sub-1' })
  t.equal(first.status, 200, 'first cut by alice')
  t.equal(first.headers['x-ratelimit-limit'], '2', 'the subject limit is announced')
  t.equal(first.headers['x-ratelimit-remaining'], '1', 'one cut left')
  const second = await cutRequest(service, { token: alice, video: 'sub-v2', requestId: 'sub-2' })
  t.equal(second.status, 200, 'second cut by alice')
  t.equal(second.headers['x-ratelimit-remaining'], '0', 'no cut left')

  const third = await cutRequest(service, { token: alice, video: 'sub-v3', requestId: 'sub-3' })
  assertRateLimited(t, third, 2, 'third cut by alice')
  t.equal(callsFor(service, 'sub-v3'), 0, 'the platform was not called for the limited cut')
  const keyed = await cutRequest(service, { token: alice, video: 'sub-v4', requestId: 'sub-4', key: 'alice-key-1' })
  assertRateLimited(t, keyed, 2, 'a limited cut with an Idempotency-Key')
  t.equal(callsFor(service, 'sub-v4'), 0, 'not called either')

  const other = await cutRequest(service, { token: bob, video: 'sub-v5', requestId: 'sub-5' })
  t.equal(other.status, 200, 'bob has his own limit')
  t.equal(other.headers['x-ratelimit-remaining'], '1', 'and his own count')

  const entries = await auditByRequestId(service)
  t.match(entries.get('sub-3'), { status: 429, outcome: 'rejected', reason: 'rate_limited', actor: { sub: 'alice', ip: '127.0.0.1' }, projectId: 'proj-1', videoId: 'sub-v3', upstream: null }, 'the limited cut is audited')
  t.match(entries.get('sub-4'), { status: 429, outcome: 'rejected', reason: 'rate_limited', actor: { sub: 'alice' }, videoId: 'sub-v4' }, 'the limited keyed cut is audited')
  t.match(entries.get('sub-1'), { status: 200, outcome: 'succeeded', reason: null })
  t.match(entries.get('sub-5'), { status: 200, outcome: 'succeeded', actor: { sub: 'bob' } })
  t.equal([...entries.values()].filter((entry) => entry.reason === 'rate_limited').length, 2, 'exactly the two limited requests read rate_limited')
  t.equal(entries.size, 5, 'one entry per request')
})

t.test('per address on every route: token guessing is throttled; probes never are', async (t) => {
  const service = await startService(t, { env: { RATE_LIMIT_IP_MAX: '3' } })
  const guess = hsToken({}, WRONG_SECRET)

  for (let i = 1; i <= 3; i++) {
    const answer = await cutRequest(service, { token: guess, video: `ip-v${i}`, requestId: `guess-${i}` })
    t.equal(answer.status, 401, `guess ${i} is refused as unauthenticated`)
    t.equal(answer.headers['x-ratelimit-remaining'], String(3 - i), `guess ${i}: the address count goes down`)
  }
  const fourth = await cutRequest(service, { token: guess, video: 'ip-v4', requestId: 'guess-4' })
  assertRateLimited(t, fourth, 3, 'the fourth guess')

  const valid = await cutRequest(service, { token: hsToken(), video: 'ip-v5', requestId: 'ip-valid' })
  assertRateLimited(t, valid, 3, 'a valid token from the same address')
  t.equal(service.simulator.app.simulator.calls().length, 0, 'the platform was never called')

  const review = await service.app.inject({ method: 'GET', url: '/v1/audit/events', headers: { authorization: `Bearer ${hsToken({ scope: 'audit:read', projects: '*' })}` } })
  assertRateLimited(t, { status: review.statusCode, headers: flatHeaders(review.headers), body: review.json() }, 3, 'the review API from the same address')
  const unknown = await service.app.inject({ method: 'GET', url: '/no/such/route' })
  t.equal(unknown.statusCode, 429, 'even an unknown route is throttled')

  for (let i = 0; i < 10; i++) {
    const health = await service.app.inject({ method: 'GET', url: '/healthz' })
    const ready = await service.app.inject({ method: 'GET', url: '/readyz' })
    t.same([health.statusCode, ready.statusCode], [200, 200], `probe round ${i + 1} is never throttled`)
  }

  const elsewhere = await cutRequest(service, { token: hsToken(), video: 'ip-v6', requestId: 'ip-elsewhere', remoteAddress: '10.20.30.40' })
  t.equal(elsewhere.status, 200, 'another address has its own limit')

  const entries = await auditByRequestId(service)
  for (let i = 1; i <= 3; i++) t.match(entries.get(`guess-${i}`), { status: 401, outcome: 'rejected', reason: 'unauthenticated', actor: { sub: null, ip: '127.0.0.1' } })
  t.match(entries.get('guess-4'), { status: 429, outcome: 'rejected', reason: 'rate_limited', actor: { sub: null, ip: '127.0.0.1' }, videoId: 'ip-v4' }, 'the throttled guess is audited')
  t.match(entries.get('ip-valid'), { status: 429, outcome: 'rejected', reason: 'rate_limited', videoId: 'ip-v5' }, 'the throttled valid cut is audited')
  t.match(entries.get('ip-elsewhere'), { status: 200, outcome: 'succeeded', actor: { ip: '10.20.30.40' } })
  t.equal(entries.size, 6, 'one entry per cut request, none for the other routes')
})

t.test('TRUST_PROXY off: X-Forwarded-For is ignored; the socket address is limited and audited', async (t) => {
  const service = await startService(t, { env: { RATE_LIMIT_IP_MAX: '2' } })
  t.equal(service.config.trustProxy, false, 'off by default')
  const origin = await listen(t, service)
  const token = hsToken()

  const answers: Answer[] = []
  for (let i = 1; i <= 3; i++) {
    answers.push(await socketCutRequest(origin, { token, video: `off-v${i}`, requestId: `off-${i}`, headers: { 'x-forwarded-for': `203.0.113.${i}` } }))
  }
  t.same(answers.map((answer) => answer.status), [200, 200, 429], 'a new forwarded address per request does not escape the limit')
  assertRateLimited(t, answers[2] as Answer, 2, 'the third request')

  const entries = await auditByRequestId(service)
  for (let i = 1; i <= 3; i++) {
    t.equal(entries.get(`off-${i}`)?.actor.ip, '127.0.0.1', `request ${i} is audited with the socket address, not the forwarded one`)
  }
})

t.test('TRUST_PROXY=127.0.0.1: X-Forwarded-For is honoured from that hop only', async (t) => {
  const service = await startService(t, { env: { RATE_LIMIT_IP_MAX: '2', TRUST_PROXY: '127.0.0.1' } })
  const origin = await listen(t, service)
  const token = hsToken()
  const viaProxy = async (requestId: string, forwardedFor: string): Promise<Answer> =>
    await socketCutRequest(origin, { token, video: `proxy-${requestId}`, requestId, headers: { 'x-forwarded-for': forwardedFor } })

  const a1 = await viaProxy('a-1', '203.0.113.10')
  const a2 = await viaProxy('a-2', '203.0.113.10')
  const a3 = await viaProxy('a-3', '203.0.113.10')
  t.same([a1.status, a2.status, a3.status], [200, 200, 429], 'the forwarded client is limited')
  assertRateLimited(t, a3, 2, 'the forwarded client\'s third request')
  const b1 = await viaProxy('b-1', '203.0.113.20')
  t.equal(b1.status, 200, 'another forwarded client has its own limit, though the proxy is the same peer')
  // A client that sends its own X-Forwarded-For: the proxy appends the address it saw.
  const spoof = await viaProxy('a-spoof', '198.51.100.77, 203.0.113.10')
  t.equal(spoof.status, 429, 'an address the client prepended itself is not believed')

  // A peer that is not the trusted proxy: its X-Forwarded-For is ignored.
  const stranger = new Agent({ localAddress: '127.0.0.2' })
  t.teardown(() => stranger.close())
  const fromStranger: Answer[] = []
  for (let i = 1; i <= 3; i++) {
    fromStranger.push(await socketCutRequest(origin, { token, video: `stranger-v${i}`, requestId: `s-${i}`, headers: { 'x-forwarded-for': `203.0.113.${100 + i}` }, dispatcher: stranger }))
  }
  t.same(fromStranger.map((answer) => answer.status), [200, 200, 429], 'an untrusted peer is limited by its own address whatever it forwards')

  const entries = await auditByRequestId(service)
  const ip = (requestId: string): string | undefined => (entries.get(requestId) as AuditEntry | undefined)?.actor.ip ?? undefined
  t.same([ip('a-1'), ip('a-2'), ip('a-3')], ['203.0.113.10', '203.0.113.10', '203.0.113.10'], 'the forwarded address is audited')
  t.equal(ip('b-1'), '203.0.113.20')
  t.equal(ip('a-spoof'), '203.0.113.10', 'the spoofed left-most address is not audited as the client')
  t.same([ip('s-1'), ip('s-2'), ip('s-3')], ['127.0.0.2', '127.0.0.2', '127.0.0.2'], 'the untrusted peer is audited with its socket address')
  t.match(entries.get('a-3'), { status: 429, outcome: 'rejected', reason: 'rate_limited' })
})
