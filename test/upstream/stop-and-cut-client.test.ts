import t from 'tap'
import { loadConfig, type UpstreamConfig } from '../../src/config/load-config.ts'
import type { StopAndCutCall } from '../../src/upstream/stop-and-cut.ts'
import { createStopAndCutClient } from '../../src/upstream/stop-and-cut-client.ts'
import { closedPortUrl, startScriptedPlatform, startSilentServer, type ScriptStep } from '../helpers/scripted-platform.ts'

const START = Date.UTC(2024, 0, 1, 12, 0, 0) // Mon, 01 Jan 2024 12:00:00 GMT
const OK = { status: 200, body: { success: true, errors: [], messages: [], result: { videoPublicId: 'vod-123' }, resultInfo: null, statusCode: 200 } }

const call: StopAndCutCall = {
  projectId: 'proj-1',
  videoId: 'live_42',
  requestId: 'req-abc',
  body: { fromMilisecond: 600000, toMilisecond: 900000, dateTimeFrom: null, dateTimeTo: null, videoVisibilityOptionId: 1 }
}

/** The service's default upstream settings (as configuration loads them), pointed at `baseUrl`. */
function configFor (baseUrl: string, overrides: Partial<UpstreamConfig> = {}): UpstreamConfig {
  return {
    ...loadConfig({ UPSTREAM_BASE_URL: baseUrl, UPSTREAM_API_KEY: 'default-key' }).config.upstream,
    ...overrides
  }
}

/**
 * A clock that only moves when the client sleeps: waits are recorded, never spent. A sleep
 * still lets the event loop turn once, as any real wait would, so that undici can hand the
 * drained socket back to its pool before the next attempt.
 */
function fakeTime () {
  const waits: number[] = []
  let clock = START
  return {
    waits,
    now: () => clock,
    sleep: async (ms: number) => {
      waits.push(ms)
      clock += ms
      await new Promise((resolve) => setImmediate(resolve))
    },
    random: () => 0.5
  }
}

/** Starts the scripted platform and a client for it; both are closed when the test ends. */
async function setUp (t: { teardown: (fn: () => Promise<void>) => void }, script: ScriptStep[], overrides: Partial<UpstreamConfig> = {}) {
  const platform = await startScriptedPlatform(script)
  const time = fakeTime()
  const client = createStopAndCutClient(configFor(platform.url, overrides), time)
  t.teardown(async () => {
    await platform.close()
    await client.close()
  })
  return { platform, client, time }
}

t.test('sends exactly the platform request: path, headers and body', async (t) => {
  const { platform, client } = await setUp(t, [OK])
  const outcome = await client.stopAndCut(call)
  t.same(outcome, { result: { type: 'succeeded', videoPublicId: 'vod-123' }, attempts: 1, statuses: [200], latencyMs: 0 })
  t.equal(platform.received.length, 1)
  const [request] = platform.received
  t.equal(request?.method, 'POST')
  t.equal(request?.path, '/api/v2/proj-1/live-videos/live_42/stop-and-cut')
  t.same(request?.headers, {
    host: platform.url.slice('http://'.length),
    connection: 'keep-alive',
    'content-length': String(Buffer.byteLength(request?.body ?? '')),
    'content-type': 'application/json',
    authorization: 'Bearer default-key',
    'x-request-id': 'req-abc',
    accept: 'application/json'
  }, 'only these headers: nothing else reaches the platform')
  t.same(JSON.parse(request?.body ?? ''), call.body)
})

t.test('path segments are percent-encoded', async (t) => {
  const { platform, client } = await setUp(t, [OK])
  await client.stopAndCut({ ...call, projectId: 'a/b?c', videoId: 'd e#f' })
  t.equal(platform.received[0]?.path, '/api/v2/a%2Fb%3Fc/live-videos/d%20e%23f/stop-and-cut')
})

t.test('a base URL with a path prefix keeps it', async (t) => {
  const platform = await startScriptedPlatform([OK])
  const client = createStopAndCutClient(configFor(`${platform.url}/platform/`), fakeTime())
  t.teardown(async () => { await platform.close(); await client.close() })
  await client.stopAndCut(call)
  t.equal(platform.received[0]?.path, '/platform/api/v2/proj-1/live-videos/live_42/stop-and-cut')
})

t.test('only the five body fields are sent, whatever else the object carries', async (t) => {
  const { platform, client } = await setUp(t, [OK])
  const body = { ...call.body, dateTimeFrom: '2024-01-01T12:00:00.000Z', dateTimeTo: '2024-01-01T12:15:00.000Z', fromMilisecond: null, toMilisecond: null, cookie: 'x' }
  await client.stopAndCut({ ...call, body })
  t.same(JSON.parse(platform.received[0]?.body ?? ''), {
    fromMilisecond: null, toMilisecond: null, dateTimeFrom: '2024-01-01T12:00:00.000Z', dateTimeTo: '2024-01-01T12:15:00.000Z', videoVisibilityOptionId: 1
  })
})

t.test('a project listed in apiKeys uses its own key, others the default', async (t) => {
  const { platform, client } = await setUp(t, [OK, OK, OK], { apiKeys: { 'proj-1': 'key-for-1' } })
  await client.stopAndCut(call)
  await client.stopAndCut({ ...call, projectId: 'proj-2' })
  await client.stopAndCut({ ...call, projectId: 'constructor' })
  t.same(platform.received.map((r) => r.headers.authorization), ['Bearer key-for-1', 'Bearer default-key', 'Bearer default-key'],
    'a project id named like an Object.prototype property still gets the default key')
})

t.test('a custom key header with an empty scheme sends the bare key there', async (t) => {
  const { platform, client } = await setUp(t, [OK], { authHeader: 'X-Api-Key', authScheme: '' })
  await client.stopAndCut(call)
  const headers = platform.received[0]?.headers ?? {}
  t.equal(headers['x-api-key'], 'default-key')
  t.notOk('authorization' in headers, 'no Authorization header at all')
})

t.test('no key for the project: bad_gateway without calling the platform', async (t) => {
  const { platform, client } = await setUp(t, [OK], { apiKey: null, apiKeys: { other: 'k' } })
  const outcome = await client.stopAndCut(call)
  t.equal(outcome.result.type, 'bad_gateway')
  t.equal(outcome.attempts, 0)
  t.same(outcome.statuses, [])
  t.equal(platform.received.length, 0)
})

t.test('503, 503, 200: retried with the policy\'s waits, on one kept-alive connection', async (t) => {
  // A body larger than undici buffers on its own: unless it is drained, the socket stays busy.
  const { platform, client, time } = await setUp(t, [{ status: 503 }, { status: 503, body: 'busy '.repeat(100_000) }, OK])
  const outcome = await client.stopAndCut(call)
  t.same(outcome, { result: { type: 'succeeded', videoPublicId: 'vod-123' }, attempts: 3, statuses: [503, 503, 200], latencyMs: 250 + 375 })
  // random() is 0.5: the first retry waits the base, the second the middle of [250, 500].
  t.same(time.waits, [250, 375])
  t.equal(platform.received.length, 3)
  t.same(platform.received.map((r) => r.connection), [1, 1, 1], 'bodies are drained, so the socket is reused')
  t.same(platform.received.map((r) => r.headers['x-request-id']), ['req-abc', 'req-abc', 'req-abc'])
})

t.test('a Retry-After in seconds is the wait', async (t) => {
  const { client, time } = await setUp(t, [{ status: 503, headers: { 'retry-after': '3' } }, OK])
  const outcome = await client.stopAndCut(call)
  t.equal(outcome.result.type, 'succeeded')
  t.same(time.waits, [3000])
})

t.test('a Retry-After HTTP date is the time until then, by the injected clock', async (t) => {
  const { client, time } = await setUp(t, [{ status: 503, headers: { 'retry-after': 'Mon, 01 Jan 2024 12:00:05 GMT' } }, OK])
  const outcome = await client.stopAndCut(call)
  t.equal(outcome.result.type, 'succeeded')
  t.same(time.waits, [5000])
})

t.test('a Retry-After longer than the time left: stop, unavailable, with the platform\'s Retry-After', async (t) => {
  const { platform, client, time } = await setUp(t, [{ status: 503, headers: { 'retry-after': '20' } }, OK])
  const outcome = await client.stopAndCut(call)
  t.same(outcome.result, { type: 'unavailable', retryAfterSeconds: 20 })
  t.equal(outcome.attempts, 1)
  t.same(outcome.statuses, [503])
  t.same(time.waits, [], 'no wait runs past the deadline')
  t.equal(platform.received.length, 1)
})

t.test('the deadline also stops backoff waits that would end past it', async (t) => {
  const { client, time } = await setUp(t, [{ status: 503, headers: { 'retry-after': '8' } }, { status: 503 }, OK], { deadlineMs: 8100 })
  const outcome = await client.stopAndCut(call)
  // 8000 ms spent waiting; the next backoff (375 ms with random 0.5) would end past 8100.
  t.same(time.waits, [8000])
  t.same(outcome.result, { type: 'unavailable', retryAfterSeconds: 1 })
  t.equal(outcome.attempts, 2)
})

t.test('maxAttempts reached: unavailable, attempts = max', async (t) => {
  const { platform, client, time } = await setUp(t, [{ status: 503 }, { status: 503 }, { status: 503 }, OK], { maxAttempts: 3 })
  const outcome = await client.stopAndCut(call)
  t.same(outcome.result, { type: 'unavailable', retryAfterSeconds: 1 }, 'the next backoff ceiling (1000 ms) rounded up to seconds')
  t.equal(outcome.attempts, 3)
  t.same(outcome.statuses, [503, 503, 503])
  t.same(time.waits, [250, 375])
  t.equal(platform.received.length, 3)
})

t.test('the last 503\'s Retry-After is passed on when attempts run out', async (t) => {
  const { client } = await setUp(t, [{ status: 503 }, { status: 503, headers: { 'retry-after': '2' } }], { maxAttempts: 2 })
  const outcome = await client.stopAndCut(call)
  t.same(outcome.result, { type: 'unavailable', retryAfterSeconds: 2 })
})

t.test('no retry after any other status', async (t) => {
  const cases: Array<{ step: ScriptStep, type: string }> = [
    { step: { status: 500, body: 'boom' }, type: 'bad_gateway' },
    { step: { status: 502 }, type: 'bad_gateway' },
    { step: { status: 400, body: { success: false, errors: ['bad range'], messages: [] } }, type: 'rejected' },
    { step: { status: 404, body: { success: false, errors: ['no such video'], messages: [] } }, type: 'not_found' },
    { step: { status: 401 }, type: 'bad_gateway' },
    { step: { status: 403 }, type: 'bad_gateway' },
    { step: { status: 429, headers: { 'retry-after': '1' } }, type: 'bad_gateway' }
  ]
  for (const { step, type } of cases) {
    const status = (step as { status: number }).status
    await t.test(`HTTP ${status}`, async (t) => {
      const { platform, client, time } = await setUp(t, [step, OK])
      const outcome = await client.stopAndCut(call)
      t.equal(outcome.result.type, type)
      t.equal(outcome.attempts, 1)
      t.same(outcome.statuses, [status])
      t.same(time.waits, [])
      t.equal(platform.received.length, 1)
    })
  }
})

t.test('400 and 404 pass on the platform\'s errors and messages', async (t) => {
  const { client } = await setUp(t, [
    { status: 400, body: { success: false, errors: ['fromMilisecond too large'], messages: [{ code: 'E1' }], statusCode: 400 } },
    { status: 404, body: { success: false, errors: [], messages: ['not found'] } },
    { status: 400, body: '<html>bad request</html>' }
  ])
  t.same((await client.stopAndCut(call)).result, { type: 'rejected', upstreamErrors: ['fromMilisecond too large', { code: 'E1' }] })
  t.same((await client.stopAndCut(call)).result, { type: 'not_found', upstreamErrors: ['not found'] })
  t.same((await client.stopAndCut(call)).result, { type: 'rejected', upstreamErrors: [] }, 'a 400 is a refusal even when its body is not the envelope')
})

t.test('200 with success: false is rejected, with errors then messages', async (t) => {
  const { client } = await setUp(t, [{ status: 200, body: { success: false, errors: ['video is not live'], messages: ['try later'], result: null, statusCode: 400 } }])
  const outcome = await client.stopAndCut(call)
  t.same(outcome.result, { type: 'rejected', upstreamErrors: ['video is not live', 'try later'] })
  t.equal(outcome.attempts, 1)
})

t.test('201 with the envelope succeeds', async (t) => {
  const { client } = await setUp(t, [{ ...OK, status: 201 }])
  t.same((await client.stopAndCut(call)).result, { type: 'succeeded', videoPublicId: 'vod-123' })
})

t.test('a 2xx that is not the envelope is bad_gateway', async (t) => {
  const { client } = await setUp(t, [
    { status: 200, body: 'not json{' },
    { status: 200, body: { success: true, result: {} } },
    { status: 200, body: { success: true, result: { videoPublicId: 42 } } },
    { status: 200, body: [] }
  ])
  for (let i = 0; i < 4; i++) {
    const outcome = await client.stopAndCut(call)
    t.equal(outcome.result.type, 'bad_gateway')
    t.equal(outcome.attempts, 1)
  }
})

t.test('a 2xx whose body breaks off is unknown: the cut may have happened', async (t) => {
  const { client } = await setUp(t, [{ status: 200, truncateBody: '{"success":tr', contentLength: 200 }, OK])
  const outcome = await client.stopAndCut(call)
  t.equal(outcome.result.type, 'unknown')
  t.match((outcome.result as { detail: string }).detail, /may have happened.*unknown/)
  t.equal(outcome.attempts, 1)
  t.same(outcome.statuses, [200])
})

t.test('no response headers within timeoutMs: unknown, not retried', async (t) => {
  const { platform, client, time } = await setUp(t, [{ hang: true }, OK], { timeoutMs: 100 })
  const outcome = await client.stopAndCut(call)
  t.equal(outcome.result.type, 'unknown')
  t.match((outcome.result as { detail: string }).detail, /outcome at the platform is unknown/)
  t.equal(outcome.attempts, 1)
  t.same(outcome.statuses, [])
  t.same(time.waits, [])
  t.equal(platform.received.length, 1)
})

t.test('the deadline aborts an attempt in flight: unknown, not retried', async (t) => {
  // The real clock here: the deadline timer must fire while the platform hangs.
  const platform = await startScriptedPlatform([{ hang: true }, OK])
  const waits: number[] = []
  const client = createStopAndCutClient(configFor(platform.url, { timeoutMs: 5000, deadlineMs: 100 }),
    { sleep: async (ms) => { waits.push(ms) } })
  t.teardown(async () => { await platform.close(); await client.close() })
  const outcome = await client.stopAndCut(call)
  t.equal(outcome.result.type, 'unknown')
  t.match((outcome.result as { detail: string }).detail, /deadline.*outcome at the platform is unknown/)
  t.equal(outcome.attempts, 1)
  t.same(waits, [])
  t.equal(platform.received.length, 1)
})

t.test('a reset after the request was read: unknown, not retried', async (t) => {
  const { platform, client, time } = await setUp(t, [{ destroy: true }, OK])
  const outcome = await client.stopAndCut(call)
  t.equal(outcome.result.type, 'unknown')
  t.match((outcome.result as { detail: string }).detail, /after the request was sent.*outcome at the platform is unknown/)
  t.equal(outcome.attempts, 1)
  t.same(outcome.statuses, [])
  t.same(time.waits, [])
  t.equal(platform.received.length, 1)
})

t.test('connection refused is never sent: retried, then unavailable', async (t) => {
  const time = fakeTime()
  const client = createStopAndCutClient(configFor(await closedPortUrl()), time)
  t.teardown(() => client.close())
  const outcome = await client.stopAndCut(call)
  t.same(outcome.result, { type: 'unavailable', retryAfterSeconds: 2 }, 'the next backoff ceiling (2000 ms) in seconds')
  t.equal(outcome.attempts, 4)
  t.same(outcome.statuses, [])
  t.same(time.waits, [250, 375, 625])
})

t.test('a connect timeout is never sent: retried, then unavailable', async (t) => {
  const silent = await startSilentServer()
  const time = fakeTime()
  const client = createStopAndCutClient(configFor(silent.url, { timeoutMs: 100, maxAttempts: 2 }), time)
  t.teardown(async () => { await client.close(); await silent.close() })
  const outcome = await client.stopAndCut(call)
  t.same(outcome.result, { type: 'unavailable', retryAfterSeconds: 1 })
  t.equal(outcome.attempts, 2)
  t.same(outcome.statuses, [])
  t.same(time.waits, [250])
  t.equal(silent.connections(), 2)
})

t.test('the deadline falling while connecting ends the call at once: unavailable, nothing was sent', { timeout: 10_000 }, async (t) => {
  // Real clock; the connect timeout is far beyond the test's own timeout, so waiting for it fails the test.
  const silent = await startSilentServer()
  const waits: number[] = []
  const client = createStopAndCutClient(configFor(silent.url, { timeoutMs: 60_000, deadlineMs: 100 }),
    { sleep: async (ms) => { waits.push(ms) } })
  // The silent server goes first: the abandoned connection attempt then fails, and close() can finish.
  t.teardown(async () => { await silent.close(); await client.close() })
  const outcome = await client.stopAndCut(call)
  t.equal(outcome.result.type, 'unavailable')
  t.equal(outcome.attempts, 1)
  t.same(waits, [])
})

t.test('no detail ever carries the key', async (t) => {
  const key = 'sk-very-secret-platform-key'
  const { client } = await setUp(t, [{ status: 401, body: { errors: [key] } }, { status: 403 }, { destroy: true }, { status: 500, body: key }], { apiKey: key })
  for (let i = 0; i < 4; i++) {
    const outcome = await client.stopAndCut(call)
    t.notMatch(JSON.stringify(outcome), key)
  }
})

t.test('a key that cannot be a header value is a bad_gateway that does not echo it', async (t) => {
  const key = 'bad\nkey'
  const { platform, client } = await setUp(t, [OK], { apiKey: key })
  const outcome = await client.stopAndCut(call)
  t.equal(outcome.result.type, 'bad_gateway')
  t.notMatch(JSON.stringify(outcome), 'bad\\nkey')
  t.equal(platform.received.length, 0)
})
