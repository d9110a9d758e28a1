// One cut per live video at a time, on the in-process lock and on the shared Redis: a second cut
// of the same video while the first is in flight is 409 `conflict` (audited), and the lock is
// released on every way out — success, platform failure, timeout, a client that went away.
import t, { type Test } from 'tap'
import { startService, type ServiceUnderTest } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'
import { cutter, socketCutRequest, type Answer, type Cut } from '../helpers/cut-request.ts'
import { auditByRequestId, callsFor, eventually, PlatformGate, PROBLEM_JSON, uniqueId } from './support.ts'
import { deleteKeysAtTeardown, TEST_REDIS_URL } from '../helpers/redis.ts'

/** Generous platform timeouts: a call held by the gate must not time out while a test looks at it. */
const PATIENT = { UPSTREAM_TIMEOUT_MS: '30000', UPSTREAM_DEADLINE_MS: '60000' }

/** Cuts by one caller allowed in proj-1 and proj-2, request ids `${run}-r-1`, `${run}-r-2`, … */
function lockCutter (service: ServiceUnderTest, run: string): Cut {
  return cutter(service, `${run}-r`, { token: hsToken({ projects: ['proj-1', 'proj-2'] }) })
}

function assertConflict (t: Test, answer: Answer, what: string): void {
  t.equal(answer.status, 409, `${what}: 409`)
  t.equal(answer.headers['content-type'], PROBLEM_JSON, `${what}: problem+json`)
  t.match(answer.body, { type: 'urn:livecut:problem:conflict', status: 409, requestId: answer.requestId }, `${what}: conflict`)
  t.ok(Number(answer.headers['retry-after']) >= 1, `${what}: Retry-After`)
}

/** A cut of `video` fails with `status` and problem `type`; the next cut of it goes through (the lock was released). */
async function assertReleasedAfterFailure (t: Test, service: ServiceUnderTest, cut: Cut, video: string, status: number, type: string): Promise<void> {
  const failed = await cut({ video })
  t.equal(failed.status, status)
  t.match(failed.body, { type })
  const again = await cut({ video })
  t.equal(again.status, 200, 'the next cut of the video goes through')
  t.equal(callsFor(service, video), 2)
}

for (const backend of ['memory', 'redis'] as const) {
  t.test(`${backend}: one cut per video`, async (t) => {
    const run = uniqueId('lock')
    if (backend === 'redis') deleteKeysAtTeardown(t, `*${run}*`)
    const gate = new PlatformGate()
    const service = await startService(t, {
      env: { ...PATIENT, ...(backend === 'redis' && { REDIS_URL: TEST_REDIS_URL }) },
      simulator: { sleep: gate.sleep }
    })
    t.equal(service.app.redis === null, backend === 'memory', `the ${backend} lock is in use`)
    const sim = service.simulator.app.simulator
    const cut = lockCutter(service, run)
    const video = (name: string): string => `${run}-${name}`

    t.test('two cuts of one video at once: the second is 409 conflict, audited', async (t) => {
      const v = video('busy')
      // Run-unique: the shared Redis keeps a key's record for 24 h.
      const duringConflictKey = `${run}-key-during-conflict`
      sim.script([{ kind: 'delay', ms: 60_000 }])
      const firstPending = cut({ video: v })
      await gate.holds(1)
      const second = await cut({ video: v })
      assertConflict(t, second, 'the second cut')
      const keyed = await cut({ video: v, key: duringConflictKey })
      assertConflict(t, keyed, 'a second cut with an Idempotency-Key')
      const otherVideo = await cut({ video: video('busy-neighbour') })
      t.equal(otherVideo.status, 200, 'another video of the project is not locked')
      const otherProject = await cut({ video: v, project: 'proj-2' })
      t.equal(otherProject.status, 200, 'the same video id in another project is not locked')
      if (backend === 'redis') {
        const ttl = await service.app.redis?.pttl(`livecut:lock:proj-1:${v}`) ?? -1
        const leaseMs = service.config.upstream.deadlineMs + 30_000
        t.ok(ttl > 0 && ttl <= leaseMs, `the lock is a lease that expires on its own (PTTL ${ttl} of ${leaseMs})`)
      }
      t.equal(callsFor(service, v), 2, 'only the first cut of proj-1 and the proj-2 cut reached the platform')
      gate.release()
      const first = await firstPending
      t.equal(first.status, 200, 'the first cut succeeded')

      // The conflict did not burn the key: it is free for a real attempt (the video is now stopped).
      const withKey = await cut({ video: v, key: duringConflictKey })
      t.equal(withKey.status, 422, 'the key refused by the conflict is tried for real')
      t.match(withKey.body, { type: 'urn:livecut:problem:upstream_rejected' })
      t.equal(withKey.headers['idempotent-replayed'], undefined)

      const entries = await auditByRequestId(service)
      for (const refused of [second, keyed]) {
        t.match(entries.get(refused.requestId), { status: 409, outcome: 'rejected', reason: 'conflict', videoId: v, upstream: null }, 'the 409 is audited as conflict')
      }
      t.match(entries.get(keyed.requestId), { request: { idempotencyKey: duringConflictKey } })
      t.match(entries.get(first.requestId), { status: 200, outcome: 'succeeded' })
    })

    t.test('released after success', async (t) => {
      const v = video('after-success')
      t.equal((await cut({ video: v })).status, 200)
      const again = await cut({ video: v })
      t.not(again.status, 409, 'the next cut of the video is not refused as a conflict')
      t.equal(again.status, 422, 'it reaches the platform, which says the video is no longer live')
      t.equal(callsFor(service, v), 2)
    })

    t.test('released after a platform failure', async (t) => {
      const v = video('after-500')
      sim.script([{ kind: '500' }])
      await assertReleasedAfterFailure(t, service, cut, v, 502, 'urn:livecut:problem:upstream_error')
    })

    t.test('released after a client that went away', async (t) => {
      const origin = await service.app.listen({ host: '127.0.0.1', port: 0 })
      const v = video('abandoned')
      const requestId = `${run}-abandoned`
      sim.script([{ kind: 'delay', ms: 60_000 }])
      const abort = new AbortController()
      const abandoned = socketCutRequest(origin, { token: hsToken(), video: v, requestId, signal: abort.signal })
      await gate.holds(1)
      abort.abort()
      await t.rejects(abandoned, 'the client gave up')

      const whileRunning = await cut({ video: v })
      assertConflict(t, whileRunning, 'a cut while the abandoned one is still at the platform')
      gate.release()
      await eventually('the abandoned request is finished and audited', async () => {
        const entry = (await auditByRequestId(service)).get(requestId)
        return entry !== undefined && entry.status !== null
      })
      const entry = (await auditByRequestId(service)).get(requestId)
      t.match(entry, { outcome: 'succeeded', status: 200, videoPublicId: String }, 'the trail says the video was cut, though nobody heard the answer')

      const after = await cut({ video: v })
      t.not(after.status, 409, 'once it finished, the video is not locked')
      t.equal(after.status, 422, 'the next cut reaches the platform (which says the video was already cut)')
      t.equal(callsFor(service, v), 2)
    })

    if (backend === 'redis') {
      t.test('a lock left by a crashed instance ends with its lease', async (t) => {
        const v = video('crashed-holder')
        const redis = service.app.redis
        if (redis === null) throw new Error('no Redis')
        t.equal(await redis.set(`livecut:lock:proj-1:${v}`, 'token-of-a-dead-instance', 'PX', 300, 'NX'), 'OK')
        assertConflict(t, await cut({ video: v }), 'while the dead instance\'s lease runs')
        t.equal(callsFor(service, v), 0)
        await eventually('the lease ran out', async () => await redis.exists(`livecut:lock:proj-1:${v}`) === 0, 5000)
        t.equal((await cut({ video: v })).status, 200, 'then the video can be cut')
      })
    }
  })

  t.test(`${backend}: released after a platform timeout`, async (t) => {
    const run = uniqueId('lock-timeout')
    if (backend === 'redis') deleteKeysAtTeardown(t, `*${run}*`)
    const service = await startService(t, {
      env: { UPSTREAM_TIMEOUT_MS: '100', ...(backend === 'redis' && { REDIS_URL: TEST_REDIS_URL }) }
    })
    const cut = lockCutter(service, run)
    const v = `${run}-hang`
    service.simulator.app.simulator.script([{ kind: 'hang' }])
    await assertReleasedAfterFailure(t, service, cut, v, 504, 'urn:livecut:problem:upstream_timeout')
  })
}
