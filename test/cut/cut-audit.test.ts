import { DatabaseSync } from 'node:sqlite'
import t from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import { BACKENDS, setUpTrail } from '../helpers/audit-fixtures.ts'
import { PLATFORM_KEY, startService } from '../helpers/service.ts'
import { injectCut } from '../helpers/cut-request.ts'
import { hsToken, TEST_JWT_SECRET } from '../helpers/tokens.ts'

interface Expected { status: number, outcome: string, reason: string | null }

for (const backend of BACKENDS) {
  t.test(`${backend}: every cut request leaves exactly one entry`, async (t) => {
    const trail = await setUpTrail(t, backend)
    const service = await startService(t, { env: { AUDIT_STORE_URL: trail.url, UPSTREAM_TIMEOUT_MS: '300' } })
    const { app, simulator } = service
    const sim = simulator.app.simulator
    const token = hsToken({ projects: ['proj-1'] })
    const expected = new Map<string, Expected>()
    let n = 0

    async function send (name: string, want: Expected, options: { video?: string, payload?: string, token?: string | null, contentType?: string, headers?: Record<string, string> } = {}) {
      const requestId = `${backend}-${name}-${++n}`
      const response = await injectCut(app, {
        video: options.video ?? `live-${n}`,
        requestId,
        token: options.token === undefined ? token : options.token,
        payload: options.payload ?? '{}',
        ...(options.contentType !== undefined && { contentType: options.contentType }),
        headers: { 'user-agent': 'console/2.1', cookie: 'session=cookie-value-123', ...options.headers }
      })
      t.equal(response.statusCode, want.status, `${name} answered ${want.status}`)
      expected.set(requestId, want)
      return response
    }

    await send('cut', { status: 200, outcome: 'succeeded', reason: null }, { payload: '{"startMs":1000,"endMs":5000,"visibility":"public"}', headers: { 'idempotency-key': 'key-1' } })
    await send('invalid', { status: 400, outcome: 'rejected', reason: 'validation' }, { payload: '{"startMS":1}' })
    await send('malformed', { status: 400, outcome: 'rejected', reason: 'malformed_json' }, { payload: '{' })
    await send('unauthenticated', { status: 401, outcome: 'rejected', reason: 'unauthenticated' }, { token: null })
    await send('bad-token', { status: 401, outcome: 'rejected', reason: 'unauthenticated' }, { token: hsToken({}, 'x'.repeat(40)) })
    await send('forbidden', { status: 403, outcome: 'rejected', reason: 'forbidden' }, { token: hsToken({ projects: ['proj-2'] }) })
    await send('too-large', { status: 413, outcome: 'rejected', reason: 'payload_too_large' }, { payload: `{"visibility":"${'x'.repeat(5000)}"}` })
    await send('not-json', { status: 415, outcome: 'rejected', reason: 'unsupported_media_type' }, { contentType: 'text/plain', payload: 'hello' })
    await send('missing', { status: 404, outcome: 'rejected', reason: 'upstream_not_found' }, { video: 'missing-1' })
    await send('first', { status: 200, outcome: 'succeeded', reason: null }, { video: 'live-twice' })
    await send('twice', { status: 422, outcome: 'rejected', reason: 'upstream_rejected' }, { video: 'live-twice' })
    sim.script([{ kind: '503' }, { kind: '503' }, { kind: '503' }, { kind: '503' }])
    await send('unavailable', { status: 503, outcome: 'failed', reason: 'upstream_unavailable' })
    sim.script([{ kind: '503' }, { kind: '503' }])
    await send('retried', { status: 200, outcome: 'succeeded', reason: null })
    sim.script([{ kind: '500' }])
    await send('broken', { status: 502, outcome: 'failed', reason: 'upstream_error' })
    sim.script([{ kind: 'hang' }])
    await send('timeout', { status: 504, outcome: 'unknown', reason: 'upstream_timeout' })

    const { items } = await trail.store.listEntries({ projectIds: '*' }, 500, null)
    t.equal(items.length, expected.size, 'as many entries as requests')
    const byRequest = new Map(items.map((entry) => [entry.requestId, entry]))
    t.equal(byRequest.size, expected.size, 'one entry per request id')
    for (const [requestId, want] of expected) {
      t.match(byRequest.get(requestId), { ...want, action: 'live-video.stop-and-cut', projectId: 'proj-1' }, requestId)
    }

    const cut = byRequest.get(`${backend}-cut-1`) as AuditEntry
    t.match(cut, {
      actor: { sub: 'user-1', clientId: 'web-console', ip: '127.0.0.1', userAgent: 'console/2.1' },
      request: { cut: { startMs: 1000, endMs: 5000, startTime: null, endTime: null }, visibility: 'public', idempotencyKey: 'key-1' },
      upstream: { attempts: 1, statuses: [200] },
      videoPublicId: String,
      durationMs: Number
    })
    t.match(byRequest.get(`${backend}-retried-13`), { upstream: { attempts: 3, statuses: [503, 503, 200] } })
    t.match(byRequest.get(`${backend}-unauthenticated-4`), { actor: { sub: null, clientId: null }, upstream: null })

    const trailText = JSON.stringify(items)
    t.notOk(trailText.includes(token), 'no bearer token in the trail')
    t.notOk(trailText.includes(PLATFORM_KEY), 'no platform key')
    t.notOk(trailText.includes(TEST_JWT_SECRET), 'no signing secret')
    t.notOk(trailText.includes('cookie-value-123'), 'no cookie')

    t.match(await trail.store.verify(), { ok: true, checked: items.length + items.filter((entry) => entry.upstream !== null).length },
      'the chain verifies: one record per rejection, two (intent and result) per platform call')
  })

  t.test(`${backend}: a store that cannot record means 503, and the platform is not called`, async (t) => {
    const trail = await setUpTrail(t, backend)
    const service = await startService(t, { env: { AUDIT_STORE_URL: trail.url } })
    await service.app.auditStore.close()
    const response = await service.app.inject({ method: 'POST', url: '/v1/projects/proj-1/live-videos/live-1/cut', headers: { authorization: `Bearer ${hsToken()}` } })
    t.equal(response.statusCode, 503)
    t.equal(response.json().type, 'urn:livecut:problem:audit_unavailable')
    t.match(response.headers['retry-after'], /^\d+$/)
    t.equal(service.simulator.app.simulator.calls().length, 0, 'the platform was not called')
    t.equal((await service.app.inject({ url: '/readyz' })).statusCode, 503, 'and the service says it is not ready')
  })
}

t.test('sqlite: another process holding the write lock makes the store unwritable at run time', async (t) => {
  const trail = await setUpTrail(t, 'sqlite')
  const service = await startService(t, { env: { AUDIT_STORE_URL: trail.url } })
  const intruder = new DatabaseSync(trail.url.slice('sqlite:'.length))
  t.teardown(() => intruder.close())
  intruder.exec('BEGIN EXCLUSIVE')
  const response = await service.app.inject({ method: 'POST', url: '/v1/projects/proj-1/live-videos/live-1/cut', headers: { authorization: `Bearer ${hsToken()}` } })
  t.equal(response.statusCode, 503)
  t.equal(service.simulator.app.simulator.calls().length, 0, 'the platform was not called')
  intruder.exec('ROLLBACK')
  const after = await service.app.inject({ method: 'POST', url: '/v1/projects/proj-1/live-videos/live-1/cut', headers: { authorization: `Bearer ${hsToken()}` } })
  t.equal(after.statusCode, 200, 'writes resume once the lock is gone')
})
