// Idempotency-Key through the real app, on the in-process store and on the shared Redis:
// replay of the first final response (200 and a platform 422), 422 for the same key with another
// body or path, independent per subject, 409 while the first is in flight, a double tap reaching
// the platform once, a 503 after every retry releasing the key; every request audited.
import t, { type Test } from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import { failureEnvelope } from '../../src/simulator/simulator-app.ts'
import { startService } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'
import { cutter, type Answer } from '../helpers/cut-request.ts'
import { auditByRequestId, callsFor, eventually, PlatformGate, PROBLEM_JSON, uniqueId } from './support.ts'
import { deleteKeysAtTeardown, TEST_REDIS_URL } from '../helpers/redis.ts'

const DAY_MS = 24 * 60 * 60 * 1000

for (const backend of ['memory', 'redis'] as const) {
  t.test(`${backend}: Idempotency-Key`, async (t) => {
    const run = uniqueId('idem')
    if (backend === 'redis') deleteKeysAtTeardown(t, `*${run}*`)
    const gate = new PlatformGate()
    const service = await startService(t, {
      env: backend === 'redis' ? { REDIS_URL: TEST_REDIS_URL } : {},
      simulator: { sleep: gate.sleep }
    })
    const sim = service.simulator.app.simulator
    t.equal(service.app.redis === null, backend === 'memory', `the ${backend} store is in use`)
    const alice = `${run}-alice`
    const bob = `${run}-bob`
    const bobToken = hsToken({ sub: bob })
    const video = (name: string): string => `${run}-${name}`
    // Alice's unless another token is given.
    const cut = cutter(service, `${run}-r`, { token: hsToken({ sub: alice }) })

    function assertReplay (t: Test, replay: Answer, first: Answer, what: string): void {
      t.equal(replay.status, first.status, `${what}: the first status`)
      t.same(replay.body, first.body, `${what}: the first body, byte for byte`)
      t.equal(replay.headers['idempotent-replayed'], 'true', `${what}: Idempotent-Replayed: true`)
      t.equal(replay.headers['content-type'], first.headers['content-type'], `${what}: the first content type`)
      t.equal(replay.headers['x-upstream-attempts'], first.headers['x-upstream-attempts'], `${what}: the first x-upstream-attempts`)
      t.not(replay.headers['x-request-id'], first.headers['x-request-id'], `${what}: its own request id`)
    }

    async function audited (): Promise<Map<string, AuditEntry>> { return await auditByRequestId(service) }

    t.test('a 200 is replayed without calling the platform again', async (t) => {
      const v = video('ok')
      const body = { startMs: 1000, endMs: 5000, visibility: 'public' }
      const first = await cut({ video: v, key: 'key-ok', body })
      t.equal(first.status, 200)
      t.match(first.body, { videoPublicId: String, requestId: first.requestId, auditId: String })
      t.equal(first.headers['idempotent-replayed'], undefined, 'the first answer is not a replay')
      const second = await cut({ video: v, key: 'key-ok', body })
      assertReplay(t, second, first, 'second')
      const third = await cut({ video: v, key: 'key-ok', body: { visibility: 'public', endMs: 5000, startMs: 1000 } })
      assertReplay(t, third, first, 'third, the same body with its fields in another order')
      t.equal(callsFor(service, v), 1, 'the platform was called once in all')

      const entries = await audited()
      t.match(entries.get(first.requestId), { status: 200, outcome: 'succeeded', reason: null, request: { idempotencyKey: 'key-ok' } })
      for (const replay of [second, third]) {
        t.match(entries.get(replay.requestId), {
          status: 200,
          outcome: 'rejected',
          reason: 'idempotent_replay',
          videoPublicId: first.body.videoPublicId,
          request: { idempotencyKey: 'key-ok' },
          actor: { sub: alice }
        }, 'a replay is audited as idempotent_replay')
      }
      if (backend === 'redis') {
        const ttl = await service.app.redis?.pttl(`livecut:idem:${alice}:key-ok`) ?? -1
        t.ok(ttl > DAY_MS - 60_000 && ttl <= DAY_MS, `the record expires after 24 h (PTTL ${ttl})`)
      }
    })

    t.test('a platform 422 is replayed too', async (t) => {
      const v = video('rejected')
      sim.script([{ kind: 'status', status: 400, body: failureEnvelope(400, ['Live video is not live']) }])
      const first = await cut({ video: v, key: 'key-422' })
      t.equal(first.status, 422)
      t.equal(first.headers['content-type'], PROBLEM_JSON)
      t.match(first.body, { type: 'urn:livecut:problem:upstream_rejected', status: 422, upstreamErrors: Array })
      const second = await cut({ video: v, key: 'key-422' })
      assertReplay(t, second, first, 'the replayed 422')
      t.equal(callsFor(service, v), 1, 'the platform was called once in all (it would now cut: the video is live)')
      const entries = await audited()
      t.match(entries.get(first.requestId), { status: 422, outcome: 'rejected', reason: 'upstream_rejected' })
      t.match(entries.get(second.requestId), { status: 422, outcome: 'rejected', reason: 'idempotent_replay', request: { idempotencyKey: 'key-422' } })
    })

    t.test('the same key with another body or path is 422; another subject\'s key is its own', async (t) => {
      const v = video('reuse')
      const first = await cut({ video: v, key: 'key-reuse', body: { startMs: 0, endMs: 1000 } })
      t.equal(first.status, 200)
      const otherBody = await cut({ video: v, key: 'key-reuse', body: { startMs: 0, endMs: 2000 } })
      t.equal(otherBody.status, 422, 'another body')
      t.equal(otherBody.headers['content-type'], PROBLEM_JSON)
      t.match(otherBody.body, { type: 'urn:livecut:problem:idempotency_key_reused', status: 422 })
      t.equal(otherBody.headers['idempotent-replayed'], undefined)
      const otherVideo = video('reuse-elsewhere')
      const otherPath = await cut({ video: otherVideo, key: 'key-reuse', body: { startMs: 0, endMs: 1000 } })
      t.equal(otherPath.status, 422, 'another path')
      t.match(otherPath.body, { type: 'urn:livecut:problem:idempotency_key_reused' })
      t.equal(callsFor(service, v), 1, 'the platform was not called for another body')
      t.equal(callsFor(service, otherVideo), 0, 'nor for another path')

      // Bob's key-reuse is not Alice's: neither a replay nor a reuse, and it leaves hers alone.
      const bobSame = await cut({ token: bobToken, video: v, key: 'key-reuse', body: { startMs: 0, endMs: 1000 } })
      t.equal(bobSame.headers['idempotent-replayed'], undefined, 'alice\'s answer is not replayed to bob')
      t.equal(bobSame.status, 422, 'bob\'s request went to the platform, which refuses a second cut of the video')
      t.match(bobSame.body, { type: 'urn:livecut:problem:upstream_rejected' })
      t.equal(callsFor(service, v), 2, 'the platform was called for bob')
      const aliceAgain = await cut({ video: v, key: 'key-reuse', body: { startMs: 0, endMs: 1000 } })
      assertReplay(t, aliceAgain, first, 'alice\'s key after bob used the same one')
      t.equal(callsFor(service, v), 2)

      const entries = await audited()
      for (const refused of [otherBody, otherPath]) {
        t.match(entries.get(refused.requestId), { status: 422, outcome: 'rejected', reason: 'idempotency_key_reused', request: { idempotencyKey: 'key-reuse' }, upstream: null })
      }
      t.match(entries.get(bobSame.requestId), { status: 422, reason: 'upstream_rejected', actor: { sub: bob } })
    })

    t.test('while the first is in flight: 409, then the replay', async (t) => {
      const v = video('inflight')
      sim.script([{ kind: 'delay', ms: 60_000 }])
      const firstPending = cut({ video: v, key: 'key-inflight' })
      await gate.holds(1)
      const second = await cut({ video: v, key: 'key-inflight' })
      t.equal(second.status, 409)
      t.equal(second.headers['content-type'], PROBLEM_JSON)
      t.match(second.body, { type: 'urn:livecut:problem:idempotency_in_flight', status: 409 })
      t.ok(Number(second.headers['retry-after']) >= 1, 'with Retry-After')
      const reused = await cut({ video: v, key: 'key-inflight', body: { startMs: 1, endMs: 2 } })
      t.equal(reused.status, 422, 'another body with the key in flight is still a reuse')
      if (backend === 'redis') {
        const ttl = await service.app.redis?.pttl(`livecut:idem:${alice}:key-inflight`) ?? -1
        const leaseMs = service.config.upstream.deadlineMs + 30_000
        t.ok(ttl > 0 && ttl <= leaseMs, `the in-flight marker is a lease that expires on its own (PTTL ${ttl} of ${leaseMs})`)
      }
      t.equal(gate.holding, 1, 'the first is still held at the platform')
      gate.release()
      const first = await firstPending
      t.equal(first.status, 200)
      const third = await cut({ video: v, key: 'key-inflight' })
      assertReplay(t, third, first, 'after the first finished')
      t.equal(callsFor(service, v), 1, 'the platform was called once')
      const entries = await audited()
      t.match(entries.get(second.requestId), { status: 409, outcome: 'rejected', reason: 'idempotency_in_flight', request: { idempotencyKey: 'key-inflight' }, upstream: null })
      t.match(entries.get(reused.requestId), { status: 422, reason: 'idempotency_key_reused' })
      t.match(entries.get(third.requestId), { status: 200, reason: 'idempotent_replay' })
    })

    t.test('a double tap reaches the platform exactly once', async (t) => {
      const v = video('tap2')
      const taps = await Promise.all([cut({ video: v, key: 'key-tap2' }), cut({ video: v, key: 'key-tap2' })])
      const original = taps.filter((tap) => tap.status === 200 && tap.headers['idempotent-replayed'] === undefined)
      t.equal(original.length, 1, 'one tap cut')
      const other = taps.find((tap) => !original.includes(tap)) as Answer
      const refusedInFlight = other.status === 409 && (other.body.type === 'urn:livecut:problem:idempotency_in_flight')
      const replayed = other.status === 200 && other.headers['idempotent-replayed'] === 'true'
      t.ok(refusedInFlight || replayed, `the other tap is told the first is in flight, or gets its replay (${other.status} ${String(other.body.type)})`)
      t.equal(callsFor(service, v), 1, 'one platform call')
    })

    t.test('five taps while the first is held at the platform: four 409s, one call', async (t) => {
      const v = video('tap5')
      sim.script([{ kind: 'delay', ms: 60_000 }])
      let answered = 0
      const taps = Array.from({ length: 5 }, async () => {
        const answer = await cut({ video: v, key: 'key-tap5' })
        answered++
        return answer
      })
      await gate.holds(1)
      await eventually('four taps answered', () => answered >= 4)
      t.equal(callsFor(service, v), 1, 'only one tap reached the platform')
      gate.release()
      const answers = await Promise.all(taps)
      t.same(answers.map((answer) => answer.status).sort(), [200, 409, 409, 409, 409])
      t.equal(answers.filter((answer) => answer.body.type === 'urn:livecut:problem:idempotency_in_flight').length, 4)
      t.equal(callsFor(service, v), 1, 'still one call')
      const entries = await audited()
      t.equal(answers.filter((answer) => entries.get(answer.requestId)?.reason === 'idempotency_in_flight').length, 4, 'the four refused taps are audited')
    })

    t.test('a 503 after every retry releases the key: a retry with it calls the platform again', async (t) => {
      const v = video('unavailable')
      sim.script([{ kind: '503' }, { kind: '503' }, { kind: '503' }, { kind: '503' }])
      const first = await cut({ video: v, key: 'key-503' })
      t.equal(first.status, 503)
      t.match(first.body, { type: 'urn:livecut:problem:upstream_unavailable' })
      t.equal(first.headers['x-upstream-attempts'], '4')
      t.equal(callsFor(service, v), 4)
      const retry = await cut({ video: v, key: 'key-503' })
      t.equal(retry.status, 200, 'the retry with the same key cut')
      t.equal(retry.headers['idempotent-replayed'], undefined, 'it is not a replay of the 503')
      t.equal(callsFor(service, v), 5, 'the platform was called again')
      const replay = await cut({ video: v, key: 'key-503' })
      assertReplay(t, replay, retry, 'the 200 is what is replayed now')
      t.equal(callsFor(service, v), 5)
      const entries = await audited()
      t.match(entries.get(first.requestId), { status: 503, outcome: 'failed', reason: 'upstream_unavailable', upstream: { attempts: 4 }, request: { idempotencyKey: 'key-503' } })
      t.match(entries.get(retry.requestId), { status: 200, outcome: 'succeeded', reason: null })
      t.match(entries.get(replay.requestId), { status: 200, outcome: 'rejected', reason: 'idempotent_replay' })
    })
  })
}
