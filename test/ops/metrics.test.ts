import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { request } from 'undici'
import { startSimulator } from '../../src/simulator/server.ts'
import { freePort } from '../helpers/redis-server.ts'
import { startServerProcess } from '../helpers/server-process.ts'
import { PLATFORM_KEY, startService } from '../helpers/service.ts'
import { injectCut } from '../helpers/cut-request.ts'

// The text exposition format: comments, or `name{labels} value`.
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? -?(\d+(\.\d+)?(e[+-]?\d+)?|NaN|\+Inf|-Inf)$/i

function parse (text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue
    if (!SAMPLE.test(line)) throw new Error(`not Prometheus text: ${line}`)
    const space = line.lastIndexOf(' ')
    samples.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return samples
}

t.test('/metrics parses as Prometheus text and its counters move', async (t) => {
  const { app, simulator } = await startService(t, { env: { RATE_LIMIT_CUT_MAX: '3' } })
  const scrape = async (): Promise<Map<string, number>> => {
    const response = await app.inject({ url: '/metrics' })
    t.equal(response.statusCode, 200)
    t.match(response.headers['content-type'], /^text\/plain/)
    return parse(response.body)
  }
  const cut = async (video: string) => await injectCut(app, { video, payload: null })

  const before = await scrape()
  t.equal(before.get('livecut_upstream_circuit_state'), 0, 'the circuit starts closed')
  t.ok([...before.keys()].some((name) => name.startsWith('process_cpu')), 'process metrics are there')

  t.equal((await cut('live-1')).statusCode, 200)
  simulator.app.simulator.script([{ kind: '503' }])
  t.equal((await cut('live-2')).statusCode, 200, 'a cut after one retry')
  t.equal((await cut('live-3')).statusCode, 200)
  t.equal((await cut('live-4')).statusCode, 429, 'a rejection by the per-subject limit')

  const after = await scrape()
  const cutRoute = 'route="/v1/projects/:projectId/live-videos/:videoId/cut"'
  t.equal(after.get(`livecut_http_requests_total{method="POST",${cutRoute},status="200"}`), 3)
  t.equal(after.get(`livecut_http_requests_total{method="POST",${cutRoute},status="429"}`), 1)
  t.equal(after.get('livecut_upstream_calls_total{result="succeeded"}'), 3)
  t.equal(after.get('livecut_upstream_attempts_total'), 4)
  t.equal(after.get('livecut_upstream_retries_total'), 1)
  t.equal(after.get('livecut_rate_limited_total{limit="subject"}'), 1)
  t.equal(after.get('livecut_audit_write_duration_seconds_count{record="intent"}'), 3)
  t.equal(after.get('livecut_audit_write_duration_seconds_count{record="final"}'), 4, 'three results and one rejection')
  t.equal(after.get(`livecut_http_request_duration_seconds_count{method="POST",${cutRoute}}`), 4)
  t.equal(after.get('livecut_upstream_call_duration_seconds_count'), 3)
})

t.test('the circuit state shows on /metrics', async (t) => {
  const { app, simulator } = await startService(t, { env: { BREAKER_FAILURE_THRESHOLD: '2', UPSTREAM_MAX_ATTEMPTS: '1' } })
  simulator.app.simulator.setFaults({ rate503: 1 })
  for (const video of ['a', 'b']) {
    await injectCut(app, { video, payload: null })
  }
  const samples = parse((await app.inject({ url: '/metrics' })).body)
  t.equal(samples.get('livecut_upstream_circuit_state'), 2, 'open')
  t.equal(samples.get('livecut_audit_write_failures_total{record="intent"}') ?? 0, 0)
})

t.test('METRICS_PORT: /metrics on its own listener alone, off the service\'s port; both close on SIGTERM', async (t) => {
  const simulator = await startSimulator({ apiKeys: [PLATFORM_KEY] })
  t.teardown(() => simulator.close())
  const metricsPort = await freePort()
  const { child, url } = await startServerProcess(t, simulator.url, { METRICS_PORT: String(metricsPort) })
  const metricsUrl = `http://127.0.0.1:${metricsPort}`
  // The server binds the metrics port right after its own.
  let listening = false
  for (let i = 0; i < 200 && !listening; i++) {
    listening = await request(`${metricsUrl}/metrics`).then((response) => { response.body.dump(); return true }, async () => { await sleep(10); return false })
  }
  t.ok(listening, 'the metrics listener is up')

  const health = await request(`${url}/healthz`)
  t.equal(health.statusCode, 200)
  await health.body.dump()
  const onService = await request(`${url}/metrics`)
  t.equal(onService.statusCode, 404, 'no /metrics on the service\'s port')
  t.match(onService.headers['content-type'], /^application\/problem\+json/)
  await onService.body.dump()

  const scraped = await request(`${metricsUrl}/metrics`)
  t.equal(scraped.statusCode, 200)
  t.match(scraped.headers['content-type'], /^text\/plain/)
  const samples = parse(await scraped.body.text())
  t.equal(samples.get('livecut_http_requests_total{method="GET",route="/healthz",status="200"}'), 1, 'it counts the service\'s requests')
  const elsewhere = await request(`${metricsUrl}/healthz`)
  t.equal(elsewhere.statusCode, 404, 'nothing else is served on the metrics port')
  t.match(elsewhere.headers['content-type'], /^application\/problem\+json/)
  await elsewhere.body.dump()

  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.equal(code, 0)
  await t.rejects(request(`${metricsUrl}/metrics`), 'the metrics listener is closed too')
})
