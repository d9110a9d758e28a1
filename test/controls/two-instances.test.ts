// Two instances of the service, each on its own port, sharing the real Redis (REDIS_URL): the
// per-subject and per-address limits, the Idempotency-Key records and the video locks hold
// across them. Both call one platform simulator, so its call count is the platform's.
import { randomInt } from 'node:crypto'
import t from 'tap'
import { startService, type ServiceUnderTest } from '../helpers/service.ts'
import { socketCutRequest, type Answer } from '../helpers/cut-request.ts'
import { auditByRequestId, callsFor, PlatformGate, uniqueId } from './support.ts'
import { deleteKeysAtTeardown, TEST_REDIS_URL } from '../helpers/redis.ts'

interface Instance { name: string, service: ServiceUnderTest, origin: string }

const CUT_MAX = 4
const IP_MAX = 3

t.test('two instances sharing Redis', async (t) => {
  const run = uniqueId('twin')
  deleteKeysAtTeardown(t, `*${run}*`)
  const gate = new PlatformGate()
  const shared = {
    REDIS_URL: TEST_REDIS_URL,
    // The instances sit behind a proxy on loopback: every request names its client, so the
    // per-address counts are this test's own even though other tests share the Redis.
    TRUST_PROXY: '127.0.0.1',
    RATE_LIMIT_CUT_MAX: String(CUT_MAX),
    RATE_LIMIT_IP_MAX: String(IP_MAX),
    UPSTREAM_TIMEOUT_MS: '30000',
    UPSTREAM_DEADLINE_MS: '60000'
  }
  const serviceA = await startService(t, { env: shared, simulator: { sleep: gate.sleep } })
  const serviceB = await startService(t, { env: { ...shared, UPSTREAM_BASE_URL: serviceA.simulator.url } })
  const a: Instance = { name: 'A', service: serviceA, origin: await serviceA.app.listen({ host: '127.0.0.1', port: 0 }) }
  const b: Instance = { name: 'B', service: serviceB, origin: await serviceB.app.listen({ host: '127.0.0.1', port: 0 }) }
  t.not(a.origin, b.origin, 'two ports')
  t.ok(serviceA.app.redis !== null && serviceB.app.redis !== null, 'both use Redis')
  const platform = serviceA.simulator.app.simulator

  // Client addresses from 198.18.0.0/15 (benchmarking range), unique to this run.
  const net = `198.${18 + randomInt(2)}.${randomInt(256)}`
  let host = 0
  const newClient = (): string => `${net}.${++host}`
  let n = 0

  async function send (instance: Instance, { client, ...options }: { sub: string, video: string, client?: string, key?: string, body?: unknown }): Promise<Answer> {
    return await socketCutRequest(instance.origin, { ...options, requestId: `${run}-${instance.name}-${++n}`, headers: { 'x-forwarded-for': client ?? newClient() } })
  }
  const video = (name: string): string => `${run}-${name}`

  t.test('the per-subject limit counts the cuts on both', async (t) => {
    const sub = `${run}-limited`
    const statuses: number[] = []
    const remaining: string[] = []
    for (let i = 0; i < CUT_MAX; i++) {
      const answer = await send(i % 2 === 0 ? a : b, { sub, video: video(`limited-${i}`) })
      statuses.push(answer.status)
      remaining.push(answer.headers['x-ratelimit-remaining'] as string)
    }
    t.same(statuses, [200, 200, 200, 200], 'four cuts, alternating A and B')
    t.same(remaining, ['3', '2', '1', '0'], 'one count for both instances')
    const onA = await send(a, { sub, video: video('limited-a') })
    const onB = await send(b, { sub, video: video('limited-b') })
    t.same([onA.status, onB.status], [429, 429], 'the fifth and sixth are limited on either instance')
    t.match(onB.body, { type: 'urn:livecut:problem:rate_limited' })
    t.equal(callsFor(serviceA, video('limited-a')) + callsFor(serviceA, video('limited-b')), 0, 'the limited cuts did not reach the platform')
    const audited = await auditByRequestId(serviceB)
    t.match(audited.get(onB.requestId), { status: 429, outcome: 'rejected', reason: 'rate_limited', actor: { sub } }, 'B audits its limited cut')
  })

  t.test('the per-address limit counts the requests on both', async (t) => {
    const client = newClient()
    const answers: Answer[] = []
    for (const [i, instance] of [a, b, a, b].entries()) {
      answers.push(await send(instance, { sub: `${run}-addr-${i}`, video: video(`addr-${i}`), client }))
    }
    t.same(answers.map((answer) => answer.status), [200, 200, 200, 429], 'the fourth request from one address is limited, wherever it lands')
    const limited = answers[3] as Answer
    t.equal(limited.headers['x-ratelimit-limit'], String(IP_MAX))
    const audited = await auditByRequestId(serviceB)
    t.match(audited.get(limited.requestId), { status: 429, reason: 'rate_limited', actor: { ip: client } })
    const elsewhere = await send(b, { sub: `${run}-addr-x`, video: video('addr-x') })
    t.equal(elsewhere.status, 200, 'another address is not limited')
  })

  t.test('an Idempotency-Key used on A replays on B', async (t) => {
    const sub = `${run}-idem`
    const v = video('idem')
    const body = { startMs: 0, endMs: 60_000 }
    const first = await send(a, { sub, video: v, key: 'twin-key', body })
    t.equal(first.status, 200)
    const replay = await send(b, { sub, video: v, key: 'twin-key', body })
    t.equal(replay.status, 200)
    t.equal(replay.headers['idempotent-replayed'], 'true', 'B replays')
    t.same(replay.body, first.body, 'A\'s answer')
    t.equal(callsFor(serviceA, v), 1, 'the platform was called once')
    const reused = await send(b, { sub, video: v, key: 'twin-key', body: { startMs: 0, endMs: 1000 } })
    t.equal(reused.status, 422, 'another body on B is a reuse of A\'s key')
    t.match(reused.body, { type: 'urn:livecut:problem:idempotency_key_reused' })
    t.equal(callsFor(serviceA, v), 1)
    const audited = await auditByRequestId(serviceB)
    t.match(audited.get(replay.requestId), { status: 200, outcome: 'rejected', reason: 'idempotent_replay', videoPublicId: first.body.videoPublicId })
  })

  t.test('while A is in flight, B answers 409: for the key, and for the video', async (t) => {
    const sub = `${run}-busy`
    const v = video('busy')
    platform.script([{ kind: 'delay', ms: 60_000 }])
    const firstPending = send(a, { sub, video: v, key: 'busy-key' })
    await gate.holds(1)
    const sameKey = await send(b, { sub, video: v, key: 'busy-key' })
    t.equal(sameKey.status, 409)
    t.match(sameKey.body, { type: 'urn:livecut:problem:idempotency_in_flight' })
    const sameVideo = await send(b, { sub: `${run}-busy-other`, video: v })
    t.equal(sameVideo.status, 409)
    t.match(sameVideo.body, { type: 'urn:livecut:problem:conflict' })
    const sameVideoNewKey = await send(b, { sub, video: v, key: 'busy-key-2' })
    t.equal(sameVideoNewKey.status, 409, 'a new key does not get past the video lock')
    t.match(sameVideoNewKey.body, { type: 'urn:livecut:problem:conflict' })
    t.equal(callsFor(serviceA, v), 1, 'only A\'s cut reached the platform')
    gate.release()
    const first = await firstPending
    t.equal(first.status, 200)
    const replay = await send(b, { sub, video: v, key: 'busy-key' })
    t.equal(replay.headers['idempotent-replayed'], 'true')
    t.same(replay.body, first.body)
    t.equal(callsFor(serviceA, v), 1)
    const audited = await auditByRequestId(serviceB)
    t.match(audited.get(sameKey.requestId), { status: 409, reason: 'idempotency_in_flight' })
    t.match(audited.get(sameVideo.requestId), { status: 409, reason: 'conflict' })
    t.match(audited.get(sameVideoNewKey.requestId), { status: 409, reason: 'conflict' })
  })
})
