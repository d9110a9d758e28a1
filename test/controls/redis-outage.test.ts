// Redis going away, on a redis-server of this test's own (the shared one on 6379 is left alone):
// the idempotency keys and video locks fail CLOSED (503 dependency_unavailable, the platform not
// called, with or without a key), the rate limits fail OPEN (no 429 counted, no 500), and
// service resumes on its own once Redis is back on the same port.
import t, { type Test } from 'tap'
import { createRedisServer } from '../helpers/redis-server.ts'
import { startService, type ServiceUnderTest } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'
import { cutter, type Answer } from '../helpers/cut-request.ts'
import { auditByRequestId, callsFor, eventually, PlatformGate, PROBLEM_JSON } from './support.ts'

function assertFailsClosed (t: Test, answer: Answer, what: string): void {
  t.equal(answer.status, 503, `${what}: 503`)
  t.equal(answer.headers['content-type'], PROBLEM_JSON, `${what}: problem+json`)
  t.match(answer.body, { type: 'urn:livecut:problem:dependency_unavailable', status: 503 }, `${what}: dependency_unavailable`)
  t.ok(Number(answer.headers['retry-after']) >= 1, `${what}: Retry-After`)
}

async function redisDown (service: ServiceUnderTest): Promise<void> {
  await eventually('the service\'s Redis client saw the connection go', () => service.app.redis?.status !== 'ready')
}

async function redisBack (service: ServiceUnderTest): Promise<void> {
  await eventually('the service\'s Redis client reconnected', () => service.app.redis?.status === 'ready', 20_000)
}

t.test('Redis killed and restarted mid-test', async (t) => {
  const redis = await createRedisServer(t)
  await redis.start()
  const service = await startService(t, { env: { REDIS_URL: redis.url, RATE_LIMIT_CUT_MAX: '2', RATE_LIMIT_IP_MAX: '3' } })
  const cut = cutter(service, 'outage', { sub: 'alice' })

  // Up: both limits count in Redis (2 cuts per subject, 3 requests per address).
  const first = await cut({ video: 'up-1', key: 'key-up' })
  t.equal(first.status, 200)
  const replay = await cut({ video: 'up-1', key: 'key-up' })
  t.equal(replay.headers['idempotent-replayed'], 'true', 'keys work while Redis is up')
  const limited = await cut({ video: 'up-2' })
  t.equal(limited.status, 429, 'the subject\'s third cut is limited while Redis is up')

  await redis.kill()
  await redisDown(service)

  const keyed = await cut({ video: 'down-1', key: 'key-down' })
  assertFailsClosed(t, keyed, 'a cut with an Idempotency-Key')
  t.equal(callsFor(service, 'down-1'), 0, 'the platform was not called')
  const unkeyed = await cut({ video: 'down-2' })
  assertFailsClosed(t, unkeyed, 'a cut without a key (the video lock fails closed)')
  t.equal(callsFor(service, 'down-2'), 0, 'the platform was not called')
  // Both were over the subject's limit and the address's: neither 429 nor 500 means the limits failed open.
  const review = await service.app.inject({ method: 'GET', url: '/v1/audit/events', headers: { authorization: `Bearer ${hsToken({ scope: 'audit:read', projects: '*' })}` } })
  t.equal(review.statusCode, 200, 'the per-address limit fails open on other routes (the sixth request from the address)')
  t.equal((await service.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)

  const entries = await auditByRequestId(service)
  for (const answer of [keyed, unkeyed]) {
    t.match(entries.get(answer.requestId), { status: 503, outcome: 'failed', reason: 'dependency_unavailable', upstream: null }, 'the refused cut is audited')
  }
  t.match(entries.get(keyed.requestId), { request: { idempotencyKey: 'key-down' } })
  t.equal(service.simulator.app.simulator.calls().length, 1, 'the platform saw only the cut made while Redis was up')

  await redis.start()
  await redisBack(service)
  const again = await cut({ video: 'back-1', key: 'key-back' })
  t.equal(again.status, 200, 'cuts work again (the restarted Redis is empty: fresh counts)')
  const againReplay = await cut({ video: 'back-1', key: 'key-back' })
  t.equal(againReplay.headers['idempotent-replayed'], 'true', 'keys work again')
  t.same(againReplay.body, again.body)
  const third = await cut({ video: 'back-2' })
  t.equal(third.status, 429, 'and the subject limit counts again')
  t.equal(callsFor(service, 'back-1'), 1)
})

t.test('Redis dies while a cut is at the platform: the done cut is still a 200; the next is refused', async (t) => {
  const redis = await createRedisServer(t)
  await redis.start()
  const gate = new PlatformGate()
  const service = await startService(t, {
    env: { REDIS_URL: redis.url, UPSTREAM_TIMEOUT_MS: '30000', UPSTREAM_DEADLINE_MS: '60000' },
    simulator: { sleep: gate.sleep }
  })
  const cut = cutter(service, 'midcut', { sub: 'alice' })
  service.simulator.app.simulator.script([{ kind: 'delay', ms: 60_000 }])
  const pending = cut({ video: 'mid-1', key: 'key-mid' })
  await gate.holds(1)
  await redis.kill()
  await redisDown(service)
  gate.release()
  const done = await pending
  t.equal(done.status, 200, 'the platform cut, and the caller is told so')
  t.match(done.body, { videoPublicId: String })
  const entries = await auditByRequestId(service)
  t.match(entries.get(done.requestId), { status: 200, outcome: 'succeeded' })
  const retry = await cut({ video: 'mid-1', key: 'key-mid' })
  assertFailsClosed(t, retry, 'a retry with the key while Redis is down')
  t.equal(callsFor(service, 'mid-1'), 1, 'the retry did not reach the platform')
})

t.test('Redis unreachable at start-up: the service starts, refuses cuts, and cuts once Redis appears', async (t) => {
  const redis = await createRedisServer(t)
  const service = await startService(t, { env: { REDIS_URL: redis.url } })
  t.not(service.app.redis?.status, 'ready', 'Redis is not there')
  const cut = cutter(service, 'startup', { sub: 'alice' })
  assertFailsClosed(t, await cut({ video: 'early-1', key: 'key-early' }), 'a cut with a key')
  assertFailsClosed(t, await cut({ video: 'early-2' }), 'a cut without a key')
  t.equal(service.simulator.app.simulator.calls().length, 0, 'the platform was not called')
  t.equal((await service.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'alive')

  await redis.start()
  await redisBack(service)
  const later = await cut({ video: 'early-2', key: 'key-early' })
  t.equal(later.status, 200, 'the key and the video refused earlier can be used now')
  t.equal(callsFor(service, 'early-2'), 1)
})
