// A Redis that restarts empty while a cut is at the platform: its video lock and in-flight
// Idempotency-Key are gone. Two instances share a redis-server of this test's own (the shared
// one is left alone): A's cut is held at the platform, Redis is killed and started again
// without persistence, and the same video and key on B must not reach the platform. Both
// instances refuse cuts (503 dependency_unavailable, /readyz 503, a log line, a metric) for one
// lease, then trust Redis again. The instances' clock is injected and ticked.
import t from 'tap'
import { createRedisServer } from '../helpers/redis-server.ts'
import { startService, type ServiceUnderTest } from '../helpers/service.ts'
import { socketCutRequest, type Answer } from '../helpers/cut-request.ts'
import { callsFor, eventually, PlatformGate } from './support.ts'

t.test('Redis restarted empty during a cut: the same video and key on another instance are refused until the lease is over', async (t) => {
  const redis = await createRedisServer(t)
  await redis.start()
  const gate = new PlatformGate()
  let time = Date.now()
  const build = { now: () => time }
  const env = { REDIS_URL: redis.url, UPSTREAM_TIMEOUT_MS: '30000', UPSTREAM_DEADLINE_MS: '60000' }
  const serviceA = await startService(t, { env, simulator: { sleep: gate.sleep }, build })
  const serviceB = await startService(t, { env: { ...env, UPSTREAM_BASE_URL: serviceA.simulator.url }, build })
  const originA = await serviceA.app.listen({ host: '127.0.0.1', port: 0 })
  const originB = await serviceB.app.listen({ host: '127.0.0.1', port: 0 })
  let n = 0
  const send = async (origin: string, video: string, key?: string): Promise<Answer> =>
    await socketCutRequest(origin, { sub: 'alice', video, requestId: `loss-${++n}`, ...(key !== undefined && { key }) })
  const ready = async (service: ServiceUnderTest): Promise<number> => (await service.app.inject({ url: '/readyz' })).statusCode

  t.equal((await send(originB, 'warm-up')).status, 200, 'B cuts while Redis is up')
  t.same([await ready(serviceA), await ready(serviceB)], [200, 200])

  serviceA.simulator.app.simulator.script([{ kind: 'delay', ms: 60_000 }])
  const pending = send(originA, 'live-7', 'key-7')
  await gate.holds(1)

  await redis.kill()
  await redis.start()
  for (const service of [serviceA, serviceB]) {
    await eventually('both instances reconnected to the empty Redis', () => service.app.redis?.status === 'ready', 20_000)
  }

  const sameKey = await send(originB, 'live-7', 'key-7')
  t.equal(sameKey.status, 503, 'the same video and key on B: 503')
  t.match(sameKey.body, { type: 'urn:livecut:problem:dependency_unavailable' })
  t.ok(Number(sameKey.headers['retry-after']) >= 1, 'with Retry-After')
  const sameVideo = await send(originB, 'live-7')
  t.equal(sameVideo.status, 503, 'the same video without a key on B: 503 (the lost lock is not trusted)')
  t.equal(callsFor(serviceA, 'live-7'), 1, 'the platform was called once')
  t.equal((await send(originA, 'live-8')).status, 503, 'A refuses new cuts too')
  t.equal(callsFor(serviceA, 'live-8'), 0)
  t.same([await ready(serviceA), await ready(serviceB)], [503, 503], '/readyz says 503 on both')
  const readiness = (await serviceB.app.inject({ url: '/readyz' })).json()
  t.match(readiness, { status: 'unavailable', reason: /redis restarted or lost data/ })
  await eventually('B logged the loss', () => serviceB.logs.text.includes('redis: restarted or lost data'))
  const metrics = (await serviceB.app.inject({ url: '/metrics' })).body
  t.match(metrics, /^livecut_redis_data_losses_total 1$/m, 'and counted it')

  gate.release()
  const first = await pending
  t.equal(first.status, 200, 'A\'s cut, held at the platform, completes')

  const left = Math.max(...[serviceA, serviceB].map((service) => service.app.redisGuard?.quarantineLeftMs() ?? 0))
  t.ok(left > 60_000, `the quarantine lasts a lease, longer than the deadline (${left} ms left)`)
  time += left - 1000
  t.equal((await send(originB, 'live-9')).status, 503, 'still refused a second before the lease ends')
  time += 1000
  const replay = await send(originB, 'live-7', 'key-7')
  t.equal(replay.status, 200, 'after the lease, B trusts Redis again')
  t.equal(replay.headers['idempotent-replayed'], 'true', 'and replays A\'s answer, which A stored in the new Redis')
  t.same(replay.body, first.body)
  t.equal(callsFor(serviceA, 'live-7'), 1, 'the platform was still called once for live-7')
  t.equal((await send(originB, 'live-9')).status, 200, 'new cuts go through')
  t.same([await ready(serviceA), await ready(serviceB)], [200, 200], '/readyz is 200 again')
})
