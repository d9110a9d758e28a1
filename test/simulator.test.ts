import t from 'tap'
import { request } from 'undici'
import { startSimulator, simulatorOptionsFromEnv, type RunningSimulator, type StartSimulatorOptions } from '../src/simulator/server.ts'
import { createSimulatorState } from '../src/simulator/simulator-state.ts'

const key = 'dev-platform-key'
const authorization = `Bearer ${key}`

// The type of a subtest's `t` (tap names it only through its plugins).
type Test = Parameters<Parameters<typeof t.test>[0]>[0]

async function start (test: Test, options: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await startSimulator({ host: '127.0.0.1', port: 0, ...options })
  test.teardown(() => sim.close())
  return sim
}

let videoCounter = 0
/** A video id no other test uses, so every cut meets a live video. */
function freshVideo (): string {
  return `video-${++videoCounter}`
}

async function cut (sim: RunningSimulator, init: {
  projectId?: string
  videoId?: string
  headers?: Record<string, string>
  body?: unknown
  rawBody?: string
} = {}) {
  const { projectId = 'project-1', videoId = freshVideo(), headers = { authorization }, body = { videoVisibilityOptionId: 1 } } = init
  const response = await request(`${sim.url}/api/v2/${projectId}/live-videos/${videoId}/stop-and-cut`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: init.rawBody ?? JSON.stringify(body)
  })
  const text = await response.body.text()
  const isJson = String(response.headers['content-type']).startsWith('application/json')
  return { status: response.statusCode, headers: response.headers, text, json: isJson ? JSON.parse(text) : undefined, videoId }
}

function assertFailure (test: Test, answer: Awaited<ReturnType<typeof cut>>, status: number) {
  test.equal(answer.status, status, 'HTTP status')
  test.match(answer.json, { success: false, messages: Array, result: null, resultInfo: null, statusCode: status }, 'failure envelope')
  test.ok(Array.isArray(answer.json?.errors) && answer.json.errors.length > 0, 'errors names the problem')
}

/** Waits, without a clock, until the simulator has recorded `count` calls. */
async function untilRecorded (sim: RunningSimulator, count: number) {
  while (sim.app.simulator.calls().length < count) await new Promise((resolve) => setImmediate(resolve))
}

t.test('key check', async (t) => {
  const sim = await start(t)
  assertFailure(t, await cut(sim, { headers: {} }), 401)
  assertFailure(t, await cut(sim, { headers: { authorization: 'Bearer wrong-key' } }), 401)
  assertFailure(t, await cut(sim, { headers: { authorization: key } }), 401)
  t.equal((await cut(sim)).status, 200, 'the right key in the default header and scheme')

  const bare = await start(t, { apiKeys: ['k1', 'k2'], authScheme: '' })
  t.equal((await cut(bare, { headers: { authorization: 'k2' } })).status, 200, 'bare key accepted, any listed key')
  assertFailure(t, await cut(bare, { headers: { authorization: 'Bearer k2' } }), 401)

  const custom = await start(t, { authHeader: 'X-Api-Key', authScheme: '' })
  t.equal((await cut(custom, { headers: { 'x-api-key': key } })).status, 200, 'custom header')
  assertFailure(t, await cut(custom, { headers: { authorization } }), 401)
})

t.test('body rules', async (t) => {
  const sim = await start(t)
  const rejected = [
    ['both kinds', { fromMilisecond: 0, toMilisecond: 10, dateTimeFrom: '2024-01-01T12:00:00Z', dateTimeTo: '2024-01-01T12:15:00Z', videoVisibilityOptionId: 1 }],
    ['half a millisecond pair', { fromMilisecond: null, toMilisecond: 900000, videoVisibilityOptionId: 1 }],
    ['half a datetime pair', { dateTimeFrom: '2024-01-01T12:00:00Z', dateTimeTo: null, videoVisibilityOptionId: 1 }],
    ['from equal to to', { fromMilisecond: 600000, toMilisecond: 600000, videoVisibilityOptionId: 1 }],
    ['datetimes reversed', { dateTimeFrom: '2024-01-01T12:15:00Z', dateTimeTo: '2024-01-01T12:00:00Z', videoVisibilityOptionId: 1 }],
    ['unknown visibility', { videoVisibilityOptionId: 9 }],
    ['no visibility', {}],
    ['milliseconds as a string', { fromMilisecond: '600000', toMilisecond: 900000, videoVisibilityOptionId: 1 }],
    ['a datetime that is not one', { dateTimeFrom: 'noon', dateTimeTo: '2024-01-01T12:15:00Z', videoVisibilityOptionId: 1 }]
  ] as const
  for (const [name, body] of rejected) {
    t.test(name, async (t) => {
      const answer = await cut(sim, { body })
      assertFailure(t, answer, 400)
      t.notOk(sim.app.simulator.isStopped('project-1', answer.videoId), 'a refused cut leaves the video live')
    })
  }
  t.test('invalid JSON', async (t) => assertFailure(t, await cut(sim, { rawBody: '{"videoVisibilityOptionId":' }), 400))

  const accepted = [
    ['milliseconds', { fromMilisecond: 600000, toMilisecond: 900000, videoVisibilityOptionId: 1 }],
    ['datetimes', { dateTimeFrom: '2024-01-01T12:00:00Z', dateTimeTo: '2024-01-01T12:15:00Z', videoVisibilityOptionId: 2 }],
    ['all null: the whole stream', { fromMilisecond: null, toMilisecond: null, dateTimeFrom: null, dateTimeTo: null, videoVisibilityOptionId: 3 }]
  ] as const
  for (const [name, body] of accepted) {
    t.test(name, async (t) => {
      const answer = await cut(sim, { body })
      t.equal(answer.status, 200)
      t.ok(sim.app.simulator.isStopped('project-1', answer.videoId), 'the video is stopped')
    })
  }
  const narrow = await start(t, { visibilityOptionIds: [7] })
  t.equal((await cut(narrow, { body: { videoVisibilityOptionId: 7 } })).status, 200, 'configured visibility ids')
  assertFailure(t, await cut(narrow, { body: { videoVisibilityOptionId: 1 } }), 400)
})

t.test('success envelope, unique public ids', async (t) => {
  const sim = await start(t)
  const first = await cut(sim)
  const second = await cut(sim)
  for (const answer of [first, second]) {
    t.equal(answer.status, 200)
    t.match(answer.json, { success: true, errors: [], messages: [], result: { videoPublicId: /\S/ }, resultInfo: null, statusCode: 200 })
  }
  t.not(first.json.result.videoPublicId, second.json.result.videoPublicId)
})

t.test('a live video is stopped once, per project', async (t) => {
  const sim = await start(t)
  const videoId = freshVideo()
  t.equal((await cut(sim, { videoId })).status, 200)
  const again = await cut(sim, { videoId })
  assertFailure(t, again, 400)
  t.same(again.json.errors, ['Live video is not live'])
  t.equal((await cut(sim, { videoId, projectId: 'project-2' })).status, 200, 'same id in another project is another video')
})

t.test('missing videos', async (t) => {
  const sim = await start(t)
  assertFailure(t, await cut(sim, { videoId: 'missing-42' }), 404)
  const custom = await start(t, { missingVideoPattern: /^gone-/g })
  assertFailure(t, await cut(custom, { videoId: 'gone-1' }), 404)
  assertFailure(t, await cut(custom, { videoId: 'gone-1' }), 404) // a g flag does not make it alternate
  t.equal((await cut(custom, { videoId: 'missing-1' })).status, 200)
})

t.test('scripted faults, consumed in order, before the key check', async (t) => {
  const retryAt = new Date('2030-01-01T00:00:02Z')
  const sim = await start(t, {
    script: [
      { kind: '503', retryAfter: 2 },
      { kind: '503', retryAfter: retryAt },
      { kind: '503', retryAfter: 'Wed, 21 Oct 2015 07:28:00 GMT' },
      { kind: '503' },
      { kind: '500' },
      { kind: 'status', status: 200, body: { success: false, errors: ['odd'], messages: [], result: null, resultInfo: null, statusCode: 200 } },
      { kind: 'status', status: 502, body: '<html>bad gateway</html>', headers: { 'content-type': 'text/html' } }
    ]
  })
  const first = await cut(sim, { headers: {} })
  t.equal(first.status, 503, 'fault before key check')
  t.equal(first.headers['retry-after'], '2')
  t.match(first.text, /Backend fetch failed/)
  const second = await cut(sim)
  t.equal(second.status, 503)
  t.equal(second.headers['retry-after'], retryAt.toUTCString())
  t.equal((await cut(sim)).headers['retry-after'], 'Wed, 21 Oct 2015 07:28:00 GMT')
  const plain = await cut(sim)
  t.equal(plain.status, 503)
  t.equal(plain.headers['retry-after'], undefined, 'no Retry-After unless scripted')
  assertFailure(t, await cut(sim), 500)
  const odd = await cut(sim)
  t.equal(odd.status, 200)
  t.same(odd.json, { success: false, errors: ['odd'], messages: [], result: null, resultInfo: null, statusCode: 200 })
  const html = await cut(sim)
  t.equal(html.status, 502)
  t.equal(html.text, '<html>bad gateway</html>')
  t.match(html.headers['content-type'], /^text\/html/)
  t.equal((await cut(sim)).status, 200, 'script used up: normal handling')
  t.equal(sim.app.simulator.calls().length, 8)
})

t.test('reset: the client sees its socket closed', async (t) => {
  const sim = await start(t, { script: [{ kind: 'reset' }, { kind: 'reset', afterCut: true }] })
  const videoId = freshVideo()
  await t.rejects(cut(sim, { videoId }), { code: 'UND_ERR_SOCKET' })
  t.notOk(sim.app.simulator.isStopped('project-1', videoId), 'a plain reset happens before the cut')
  await t.rejects(cut(sim, { videoId }), { code: 'UND_ERR_SOCKET' })
  t.ok(sim.app.simulator.isStopped('project-1', videoId), 'afterCut: the cut was made, the answer lost')
  t.same((await cut(sim, { videoId })).json.errors, ['Live video is not live'])
})

t.test('delay and latency wait on the injected sleep, then answer normally', async (t) => {
  const waits: number[] = []
  let wake = () => {}
  const sleep = async (ms: number) => {
    waits.push(ms)
    await new Promise<void>((resolve) => { wake = resolve })
  }
  const sim = await start(t, { sleep, script: [{ kind: 'delay', ms: 250 }] })
  let answered = false
  const pending = cut(sim).then((answer) => { answered = true; return answer })
  while (waits.length < 1 && !answered) await new Promise((resolve) => setImmediate(resolve))
  t.same(waits, [250])
  t.notOk(answered, 'no answer before the delay ends')
  wake()
  t.equal((await pending).status, 200)

  sim.app.simulator.setFaults({ latencyMs: 40 })
  let slowAnswered = false
  const slow = cut(sim).finally(() => { slowAnswered = true })
  while (waits.length < 2 && !slowAnswered) await new Promise((resolve) => setImmediate(resolve))
  t.same(waits, [250, 40], 'latency share applies to every call')
  wake()
  t.equal((await slow).status, 200)
})

t.test('hang: no answer until the simulator closes', async (t) => {
  const sim = await startSimulator({ port: 0, script: [{ kind: 'hang' }] })
  let settled = false
  const pending = cut(sim).finally(() => { settled = true })
  await untilRecorded(sim, 1)
  await new Promise((resolve) => setImmediate(resolve))
  t.notOk(settled, 'still waiting for an answer')
  await sim.close()
  await t.rejects(pending, { code: 'UND_ERR_SOCKET' }, 'closing drops the hung connection')
})

t.test('shares draw once per call from the injected random', async (t) => {
  const draws = [0.05, 0.15, 0.25, 0.35]
  const sim = await start(t, {
    rate503: 0.1,
    retryAfterSeconds: 3,
    rate500: 0.1,
    rateReset: 0.1,
    random: () => draws.shift() ?? 0.99
  })
  const unavailable = await cut(sim)
  t.equal(unavailable.status, 503)
  t.equal(unavailable.headers['retry-after'], '3')
  assertFailure(t, await cut(sim), 500)
  await t.rejects(cut(sim), { code: 'UND_ERR_SOCKET' })
  t.equal((await cut(sim)).status, 200, 'a draw above every share')
  t.same(draws, [], 'one draw per call')
  t.throws(() => sim.app.simulator.setFaults({ rate500: 0.95 }), RangeError, 'shares adding up past 1 are refused')
})

t.test('control endpoints', async (t) => {
  const sim = await start(t)
  const post = async (path: string, body?: unknown) => {
    const response = await request(`${sim.url}/__simulator/${path}`, {
      method: 'POST',
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    })
    const text = await response.body.text()
    return { status: response.statusCode, json: text === '' ? undefined : JSON.parse(text) }
  }
  const get = async (path: string) => (await request(`${sim.url}/__simulator/${path}`)).body.json()

  const videoId = freshVideo()
  await cut(sim, { videoId, body: { fromMilisecond: 1, toMilisecond: 2, videoVisibilityOptionId: 1 } })
  const calls = await get('calls') as unknown[]
  t.equal(calls.length, 1)
  t.match(calls[0], {
    method: 'POST',
    path: `/api/v2/project-1/live-videos/${videoId}/stop-and-cut`,
    headers: { authorization, 'content-type': 'application/json' },
    body: { fromMilisecond: 1, toMilisecond: 2, videoVisibilityOptionId: 1 }
  }, 'GET /__simulator/calls: what the platform received')

  const set = await post('faults', { rate503: 0.5, retryAfterSeconds: 1, script: [{ kind: '500' }, { kind: '503', retryAfter: 4 }] })
  t.equal(set.status, 200)
  t.match(set.json, { rate503: 0.5, retryAfterSeconds: 1, rate500: 0, script: [{ kind: '500' }, { kind: '503', retryAfter: 4 }] })
  t.same(await get('faults'), set.json, 'GET /__simulator/faults shows the same')
  assertFailure(t, await cut(sim), 500)
  t.equal((await cut(sim)).headers['retry-after'], '4')
  t.match((await post('faults', { rate503: 0, retryAfterSeconds: null })).json, { rate503: 0, retryAfterSeconds: null, script: [] })

  const refused = await post('faults', { rate503: 2 })
  t.equal(refused.status, 400)
  t.match(refused.json, { success: false, statusCode: 400, errors: [/rate503/] })
  t.equal((await post('faults', { script: [{ kind: 'explode' }] })).status, 400, 'unknown fault kinds are refused')
  t.match(await get('faults'), { rate503: 0, script: [] }, 'a refused update changes nothing')

  await post('faults', { script: [{ kind: '500' }] })
  t.equal((await post('reset')).status, 204)
  t.same(await get('calls'), [], 'reset clears the calls')
  t.equal((await cut(sim, { videoId })).status, 200, 'reset clears stopped videos, and the script')
})

t.test('the calls record is bounded, and can be off', async (t) => {
  const sim = await start(t, { maxRecordedCalls: 3 })
  const videoIds: string[] = []
  for (let i = 0; i < 5; i++) videoIds.push((await cut(sim)).videoId)
  t.same(sim.app.simulator.calls().map((call) => call.path.split('/')[5]), videoIds.slice(2), 'the newest three, oldest first')

  const quiet = await start(t, { recordCalls: false })
  await cut(quiet)
  t.same(quiet.app.simulator.calls(), [])

  const state = createSimulatorState()
  for (let i = 0; i < 1005; i++) state.record({ method: 'POST', path: `/${i}`, headers: {}, body: null })
  const kept = state.calls()
  t.equal(kept.length, 1000, 'default bound: 1000')
  t.equal(kept[0]?.path, '/5')
})

t.test('options from the environment', async (t) => {
  t.match(simulatorOptionsFromEnv({}), { host: '127.0.0.1', port: 4010, apiKeys: ['dev-platform-key'], rate503: undefined })
  t.match(simulatorOptionsFromEnv({
    SIMULATOR_PORT: '0',
    SIMULATOR_API_KEY: 'a, b',
    SIMULATOR_AUTH_SCHEME: '',
    SIMULATOR_RATE_503: '0.25',
    SIMULATOR_RETRY_AFTER_SECONDS: '2',
    SIMULATOR_LATENCY_MS: ''
  }), { port: 0, apiKeys: ['a', 'b'], authScheme: '', rate503: 0.25, retryAfterSeconds: 2, latencyMs: undefined })
  t.throws(() => simulatorOptionsFromEnv({ SIMULATOR_RATE_500: 'lots' }), /SIMULATOR_RATE_500/)
})
