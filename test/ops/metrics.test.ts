import t from 'tap'
import { startService } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'

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
  const cut = async (video: string) => await app.inject({ method: 'POST', url: `/v1/projects/proj-1/live-videos/${video}/cut`, headers: { authorization: `Bearer ${hsToken()}` } })

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
    await app.inject({ method: 'POST', url: `/v1/projects/proj-1/live-videos/${video}/cut`, headers: { authorization: `Bearer ${hsToken()}` } })
  }
  const samples = parse((await app.inject({ url: '/metrics' })).body)
  t.equal(samples.get('livecut_upstream_circuit_state'), 2, 'open')
  t.equal(samples.get('livecut_audit_write_failures_total{record="intent"}') ?? 0, 0)
})
