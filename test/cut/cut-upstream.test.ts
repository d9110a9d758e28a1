import t from 'tap'
import { PLATFORM_KEY, startService } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'
import { injectCut } from '../helpers/cut-request.ts'

const service = await startService(t, { env: { UPSTREAM_TIMEOUT_MS: '300', UPSTREAM_API_KEYS: '{"proj-2":"key-of-project-two"}' } })
const { app, simulator, logs } = service
const sim = simulator.app.simulator
let counter = 0

async function cut (body: object = {}, options: { project?: string, video?: string, headers?: Record<string, string> } = {}) {
  return await injectCut(app, { ...options, body, video: options.video ?? `live-${++counter}`, token: hsToken({ projects: ['proj-1', 'proj-2'] }) })
}

t.beforeEach(() => { sim.reset() })

t.test('the platform receives exactly the request the service builds', async (t) => {
  const response = await cut({ startMs: 1000, endMs: 2000 }, {
    video: 'live-exact',
    headers: { cookie: 'session=abc', 'x-custom': 'from-client', 'x-forwarded-for': '10.1.1.1', 'x-request-id': 'client-req-42' }
  })
  t.equal(response.statusCode, 200)
  const [call, ...others] = sim.calls()
  t.equal(others.length, 0, 'one call')
  t.equal(call?.method, 'POST')
  t.equal(call?.path, '/api/v2/proj-1/live-videos/live-exact/stop-and-cut')
  t.equal(call?.headers.authorization, `Bearer ${PLATFORM_KEY}`, 'the platform key, not the client token')
  t.equal(call?.headers['x-request-id'], 'client-req-42', 'the request id propagates')
  t.match(call?.headers['content-type'], /^application\/json/)
  for (const header of ['cookie', 'x-custom', 'x-forwarded-for']) t.notOk(header in (call?.headers ?? {}), `${header} is not forwarded`)
  t.equal(response.headers['x-request-id'], 'client-req-42')
  t.equal(response.headers['x-upstream-attempts'], '1')
  const body = response.json()
  t.match(body, { videoPublicId: String, requestId: 'client-req-42', auditId: String })
  t.match(body.auditId, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a time-ordered UUID (version 7)')
})

t.test('a request id that is not sane is replaced', async (t) => {
  const response = await cut({}, { headers: { 'x-request-id': 'has spaces and "quotes"' } })
  t.not(response.headers['x-request-id'], 'has spaces and "quotes"')
  t.equal(sim.calls()[0]?.headers['x-request-id'], response.headers['x-request-id'])
})

t.test('a project listed in UPSTREAM_API_KEYS uses its own key', async (t) => {
  sim.reset()
  // The simulator accepts only PLATFORM_KEY, so the per-project key is refused: our key is wrong → 502.
  const response = await cut({}, { project: 'proj-2' })
  t.equal(sim.calls()[0]?.headers.authorization, 'Bearer key-of-project-two')
  t.equal(response.statusCode, 502)
  t.equal(response.json().type, 'urn:livecut:problem:upstream_error')
  t.notOk(response.body.includes('key-of-project-two'), 'the key is not in the answer')
})

t.test('404 when the platform does not know the video', async (t) => {
  const response = await cut({}, { video: 'missing-video' })
  t.equal(response.statusCode, 404)
  t.equal(response.json().type, 'urn:livecut:problem:upstream_not_found')
  t.equal(response.headers['x-upstream-attempts'], '1')
})

t.test('422 with upstreamErrors when the platform refuses: a video stopped twice', async (t) => {
  t.equal((await cut({}, { video: 'live-twice' })).statusCode, 200)
  const second = await cut({}, { video: 'live-twice' })
  t.equal(second.statusCode, 422)
  t.equal(second.json().type, 'urn:livecut:problem:upstream_rejected')
  t.same(second.json().upstreamErrors, ['Live video is not live'])
})

t.test('422 when the platform answers 200 with success: false', async (t) => {
  sim.script([{ kind: 'status', status: 200, body: { success: false, errors: ['range outside the recording'], messages: ['try again'], result: null, resultInfo: null, statusCode: 200 } }])
  const response = await cut()
  t.equal(response.statusCode, 422)
  t.same(response.json().upstreamErrors, ['range outside the recording', 'try again'])
})

t.test('503s are retried: 503, 503, then a cut', async (t) => {
  sim.script([{ kind: '503' }, { kind: '503' }])
  const response = await cut()
  t.equal(response.statusCode, 200)
  t.equal(response.headers['x-upstream-attempts'], '3')
  t.equal(sim.calls().length, 3)
})

t.test('still 503 after the last attempt: 503 with Retry-After', async (t) => {
  sim.script([{ kind: '503' }, { kind: '503' }, { kind: '503' }, { kind: '503' }, { kind: '503' }])
  const response = await cut()
  t.equal(response.statusCode, 503)
  t.equal(response.json().type, 'urn:livecut:problem:upstream_unavailable')
  t.match(response.headers['retry-after'], /^\d+$/)
  t.equal(response.headers['x-upstream-attempts'], '4', 'UPSTREAM_MAX_ATTEMPTS in all')
  t.equal(sim.calls().length, 4)
})

t.test('no retry on a 500: 502', async (t) => {
  sim.script([{ kind: '500' }])
  const response = await cut()
  t.equal(response.statusCode, 502)
  t.equal(sim.calls().length, 1)
})

t.test('no retry after a timeout: 504, the outcome unknown', async (t) => {
  sim.script([{ kind: 'hang' }])
  const response = await cut()
  t.equal(response.statusCode, 504)
  t.equal(response.json().type, 'urn:livecut:problem:upstream_timeout')
  t.match(response.json().detail, /unknown/)
  t.equal(response.headers['x-upstream-attempts'], '1')
  t.equal(sim.calls().length, 1)
})

t.test('no retry after a reset once the request was sent: 504', async (t) => {
  sim.script([{ kind: 'reset', afterCut: true }])
  const response = await cut({}, { video: 'live-reset' })
  t.equal(response.statusCode, 504)
  t.equal(sim.calls().length, 1)
  t.ok(sim.isStopped('proj-1', 'live-reset'), 'the platform did cut: that is why a retry would be wrong')
})

t.test('an unreadable answer from the platform is a 502', async (t) => {
  sim.script([{ kind: 'status', status: 502, body: '<html>bad gateway</html>' }])
  t.equal((await cut()).statusCode, 502)
})

t.test('the platform key never appears in a response or a log line', async (t) => {
  t.ok(logs.lines.length > 10, 'there are log lines to search')
  t.notOk(logs.text.includes(PLATFORM_KEY), 'not in the logs')
  t.notOk(logs.text.includes('key-of-project-two'), 'nor the per-project key')
})

t.test('one log line per request, with what an operator needs', async (t) => {
  const completed = logs.records.filter((record) => record.msg === 'request completed' && record.reqId === 'client-req-42')
  t.equal(completed.length, 1)
  t.match(completed[0], { status: 200, sub: 'user-1', projectId: 'proj-1', videoId: 'live-exact', upstreamAttempts: '1', durationMs: Number })
})
