import t, { type Test } from 'tap'
import { startService } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'
import { injectCut } from '../helpers/cut-request.ts'

const service = await startService(t)
const { app, simulator } = service
let videoCounter = 0
const freshVideo = (): string => `live-${++videoCounter}`

interface CutOptions { project?: string, video?: string, headers?: Record<string, string>, token?: string, payload?: string }
async function cut (body: unknown, options: CutOptions = {}) {
  return await injectCut(app, { ...options, body, video: options.video ?? freshVideo() })
}

/** A 400 problem that names `field` in `part`, and the platform not called. */
async function rejects (t: Test, body: unknown, field: string, part = 'body', options: CutOptions = {}): Promise<void> {
  const before = simulator.app.simulator.calls().length
  const response = await cut(body, options)
  t.equal(response.statusCode, 400, 'answered 400')
  t.match(response.headers['content-type'], /^application\/problem\+json/)
  const problem = response.json()
  t.equal(problem.status, 400)
  t.equal(problem.requestId, response.headers['x-request-id'])
  t.ok(problem.errors.some((error: { field: string, in: string }) => error.field === field && error.in === part),
    `names ${part} field ${field}: ${JSON.stringify(problem.errors)}`)
  t.equal(simulator.app.simulator.calls().length, before, 'the platform was not called')
}

t.test('unknown fields are rejected, never dropped: a typo must not become a whole-stream cut', async (t) => {
  await rejects(t, { startMS: 600000, endMs: 900000 }, '/startMS')
  await rejects(t, { visibility: 'public', extra: true }, '/extra')
})

t.test('half a pair is rejected', async (t) => {
  await rejects(t, { startMs: 1 }, '/endMs')
  await rejects(t, { endMs: 5 }, '/startMs')
  await rejects(t, { startTime: '2024-01-01T12:00:00Z' }, '/endTime')
  await rejects(t, { endTime: '2024-01-01T12:00:00Z' }, '/startTime')
})

t.test('both pairs at once are rejected', async (t) => {
  await rejects(t, { startMs: 1, endMs: 5, startTime: '2024-01-01T12:00:00Z', endTime: '2024-01-01T12:15:00Z' }, '/startTime')
})

t.test('reversed and empty ranges are rejected', async (t) => {
  await rejects(t, { startMs: 10, endMs: 5 }, '/endMs')
  await rejects(t, { startMs: 5, endMs: 5 }, '/endMs')
  await rejects(t, { startTime: '2024-01-01T12:15:00Z', endTime: '2024-01-01T12:00:00Z' }, '/endTime')
  // The same instant written in two offsets is an empty range.
  await rejects(t, { startTime: '2024-01-01T13:00:00+01:00', endTime: '2024-01-01T12:00:00Z' }, '/endTime')
})

t.test('millisecond values must be integers within 0..2147483647, never coerced', async (t) => {
  await rejects(t, { startMs: -1, endMs: 5 }, '/startMs')
  await rejects(t, { startMs: 1.5, endMs: 5 }, '/startMs')
  await rejects(t, { startMs: true, endMs: 5 }, '/startMs')
  await rejects(t, { startMs: '5', endMs: 10 }, '/startMs')
  await rejects(t, { startMs: null, endMs: 10 }, '/startMs')
  await rejects(t, { startMs: 0, endMs: 2147483648 }, '/endMs')
})

t.test('datetimes must be RFC 3339 with an explicit offset', async (t) => {
  await rejects(t, { startTime: '2024-01-01T12:00:00', endTime: '2024-01-01T12:15:00Z' }, '/startTime')
  await rejects(t, { startTime: '2024-01-01T12:00:00+0100', endTime: '2024-01-01T12:15:00Z' }, '/startTime')
  await rejects(t, { startTime: '2024-02-30T12:00:00Z', endTime: '2024-03-01T12:15:00Z' }, '/startTime')
  await rejects(t, { startTime: 1704110400000, endTime: '2024-01-01T12:15:00Z' }, '/startTime')
})

t.test('endTime may lie at most 60 s in the future', async (t) => {
  const now = Date.now()
  await rejects(t, { startTime: new Date(now - 60_000).toISOString(), endTime: new Date(now + 120_000).toISOString() }, '/endTime')
  const response = await cut({ startTime: new Date(now - 60_000).toISOString(), endTime: new Date(now + 30_000).toISOString() })
  t.equal(response.statusCode, 200, 'within the leeway is accepted')
})

t.test('visibility must be one of VISIBILITY_OPTIONS', async (t) => {
  await rejects(t, { visibility: 'secret' }, '/visibility')
  await rejects(t, { visibility: 1 }, '/visibility')
})

t.test('the body must be a JSON object', async (t) => {
  await rejects(t, [], '/')
  await rejects(t, 'null', '/', 'body', { payload: 'null' })
})

t.test('malformed JSON is a 400 problem', async (t) => {
  const before = simulator.app.simulator.calls().length
  const response = await cut(undefined, { payload: '{"startMs": 1,' })
  t.equal(response.statusCode, 400)
  t.equal(response.json().type, 'urn:livecut:problem:malformed_json')
  t.equal(simulator.app.simulator.calls().length, before, 'the platform was not called')
})

t.test('prototype poisoning is refused', async (t) => {
  const response = await cut(undefined, { payload: '{"__proto__": {"startMs": 1}}' })
  t.equal(response.statusCode, 400)
})

t.test('a body that is not JSON is 415', async (t) => {
  const response = await cut(undefined, { payload: 'startMs=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(response.statusCode, 415)
  t.match(response.headers['content-type'], /^application\/problem\+json/)
  t.equal(response.json().status, 415)
})

t.test('the body may be 4 KiB, not a byte more', async (t) => {
  const exactly4KiB = '{}' + ' '.repeat(4096 - 2)
  const accepted = await cut(undefined, { payload: exactly4KiB })
  t.equal(accepted.statusCode, 200, '4096 bytes are accepted')
  const tooLarge = await cut(undefined, { payload: exactly4KiB + ' ' })
  t.equal(tooLarge.statusCode, 413, '4097 bytes are not')
  t.equal(tooLarge.json().type, 'urn:livecut:problem:payload_too_large')
})

t.test('path ids: 1–64 of A-Z a-z 0-9 _ -, the first alphanumeric', async (t) => {
  const anyProject = hsToken({ projects: '*' })
  await rejects(t, {}, '/projectId', 'path', { project: '-proj', video: 'live-1', token: anyProject })
  await rejects(t, {}, '/projectId', 'path', { project: 'p'.repeat(65), video: 'live-1', token: anyProject })
  await rejects(t, {}, '/videoId', 'path', { project: 'proj-1', video: 'live.1', token: anyProject })
  await rejects(t, {}, '/videoId', 'path', { project: 'proj-1', video: '_live', token: anyProject })
  const longest = await cut({}, { project: 'p'.repeat(64), video: 'v'.repeat(64), token: anyProject })
  t.equal(longest.statusCode, 200, '64 characters are accepted')
})

t.test('Idempotency-Key: 1–255 printable ASCII characters', async (t) => {
  await rejects(t, {}, '/idempotency-key', 'header', { headers: { 'idempotency-key': 'k'.repeat(256) } })
  await rejects(t, {}, '/idempotency-key', 'header', { headers: { 'idempotency-key': '' } })
})

t.test('several broken rules are all named at once', async (t) => {
  const response = await cut({ startMs: -1, endMs: 'x', visibility: 'nope' })
  t.equal(response.statusCode, 400)
  const fields = response.json().errors.map((error: { field: string }) => error.field)
  t.ok(fields.includes('/startMs') && fields.includes('/endMs') && fields.includes('/visibility'), JSON.stringify(fields))
})

t.test('what the platform receives for each accepted body', async (t) => {
  simulator.app.simulator.reset()
  const cases: Array<[unknown, Record<string, unknown>]> = [
    [{ startMs: 600000, endMs: 900000, visibility: 'public' },
      { fromMilisecond: 600000, toMilisecond: 900000, dateTimeFrom: null, dateTimeTo: null, videoVisibilityOptionId: 1 }],
    [{ startTime: '2024-01-01T13:00:00+01:00', endTime: '2024-01-01T12:15:00.5Z' },
      { fromMilisecond: null, toMilisecond: null, dateTimeFrom: '2024-01-01T12:00:00.000Z', dateTimeTo: '2024-01-01T12:15:00.500Z', videoVisibilityOptionId: 2 }],
    [{ startMs: 0, endMs: 2147483647, visibility: 'unlisted' },
      { fromMilisecond: 0, toMilisecond: 2147483647, dateTimeFrom: null, dateTimeTo: null, videoVisibilityOptionId: 3 }],
    [{}, { fromMilisecond: null, toMilisecond: null, dateTimeFrom: null, dateTimeTo: null, videoVisibilityOptionId: 2 }]
  ]
  for (const [body, expected] of cases) {
    const response = await cut(body)
    t.equal(response.statusCode, 200, JSON.stringify(body))
    t.same(simulator.app.simulator.calls().at(-1)?.body, expected, `platform body for ${JSON.stringify(body)}`)
  }
})

t.test('an absent body, or an empty JSON body, cuts the whole stream', async (t) => {
  simulator.app.simulator.reset()
  const noBody = await injectCut(app, { video: freshVideo(), payload: null })
  t.equal(noBody.statusCode, 200, 'no body, no content type')
  const emptyJson = await cut(undefined, { payload: '' })
  t.equal(emptyJson.statusCode, 200, 'empty body with application/json')
  const whole = { fromMilisecond: null, toMilisecond: null, dateTimeFrom: null, dateTimeTo: null, videoVisibilityOptionId: 2 }
  t.same(simulator.app.simulator.calls().map((call) => call.body), [whole, whole])
})

t.test('a URL that cannot be decoded is a 400 problem, and audited when meant for the cut route', async (t) => {
  const before = (await app.auditStore.listEntries({ projectIds: '*' }, 500, null)).items.length
  const response = await app.inject({ method: 'POST', url: '/v1/projects/%zz/live-videos/live-1/cut', headers: { authorization: `Bearer ${hsToken()}`, 'x-request-id': 'bad-url-1' } })
  t.equal(response.statusCode, 400)
  t.match(response.headers['content-type'], /^application\/problem\+json/)
  t.equal(response.json().type, 'urn:livecut:problem:validation')
  t.equal(response.headers['x-request-id'], 'bad-url-1')
  const { items } = await app.auditStore.listEntries({ projectIds: '*' }, 500, null)
  t.equal(items.length, before + 1, 'one entry')
  t.match(items[0], { requestId: 'bad-url-1', outcome: 'rejected', status: 400, reason: 'validation', projectId: null })
  const elsewhere = await app.inject({ method: 'GET', url: '/v1/audit/events/%zz' })
  t.equal(elsewhere.statusCode, 400, 'other routes answer the same problem')
  t.equal((await app.auditStore.listEntries({ projectIds: '*' }, 500, null)).items.length, before + 1, 'without an audit entry')
})
