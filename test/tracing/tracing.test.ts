import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SpanKind } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config/load-config.ts'
import { otlpSpanProcessor } from '../../src/tracing/otlp-span-processor.ts'
import { PLATFORM_KEY, startService } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const CALLER_SPAN_ID = '00f067aa0ba902b7'
const traceparent = `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/

async function tracedService (t: Parameters<typeof startService>[0], options: Parameters<typeof startService>[1] = {}) {
  const exporter = new InMemorySpanExporter()
  const service = await startService(t, { ...options, build: { spanProcessor: new SimpleSpanProcessor(exporter) } })
  return { ...service, exporter }
}

function cut (videoId: string, headers: Record<string, string> = {}) {
  return {
    method: 'POST' as const,
    url: `/v1/projects/proj-1/live-videos/${videoId}/cut`,
    headers: { authorization: `Bearer ${hsToken()}`, 'content-type': 'application/json', ...headers },
    payload: { startMs: 600000, endMs: 900000 }
  }
}

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId
const byName = (spans: ReadableSpan[], name: string): ReadableSpan[] => spans.filter((span) => span.name === name)

t.test('one cut with a 503 retry: the request span continues the caller\'s trace, and parents the audit writes and both attempts', async (t) => {
  const service = await tracedService(t, { simulator: { script: [{ kind: '503' }] } })
  const response = await service.app.inject(cut('live-1', { traceparent }))
  t.equal(response.statusCode, 200)

  const spans = service.exporter.getFinishedSpans()
  const [request] = spans.filter((span) => span.kind === SpanKind.SERVER)
  if (request === undefined) throw new Error('no server span')
  t.equal(request.spanContext().traceId, TRACE_ID, 'the caller\'s trace')
  t.equal(parentOf(request), CALLER_SPAN_ID, 'a child of the caller\'s span')
  t.equal(request.attributes['http.route'], '/v1/projects/:projectId/live-videos/:videoId/cut')
  t.equal(request.attributes['http.request.method'], 'POST')
  t.equal(request.attributes['http.response.status_code'], 200)

  const attempts = byName(spans, 'POST')
  t.same(spans.map((span) => span.name).sort(), ['POST', 'POST', 'audit intent', 'audit result', 'request'], 'these spans and no others')
  for (const span of spans.filter((span) => span !== request)) {
    t.equal(span.spanContext().traceId, TRACE_ID, `${span.name} is in the trace`)
    t.equal(parentOf(span), request.spanContext().spanId, `${span.name} is a child of the request`)
  }
  const [intent] = byName(spans, 'audit intent')
  const [result] = byName(spans, 'audit result')
  const auditId = (response.json() as { auditId: string }).auditId
  t.equal(intent?.attributes['livecut.audit.entry_id'], auditId)
  t.equal(intent?.attributes['livecut.audit.outcome'], 'unknown')
  t.equal(result?.attributes['livecut.audit.outcome'], 'succeeded')
  // In time order: intent, first attempt, second attempt, result.
  const order = [intent, attempts[0], attempts[1], result].map((span) => span?.startTime[0] as number * 1e9 + (span?.startTime[1] as number))
  t.same(order, [...order].sort((a, b) => a - b), 'intent → attempts → result')

  const [first, second] = attempts
  t.equal(first?.kind, SpanKind.CLIENT)
  t.match(first?.attributes, {
    'livecut.upstream.attempt': 1,
    'http.response.status_code': 503,
    'error.type': '503',
    'livecut.upstream.retry.decision': 'retry',
    'url.template': '/api/v2/{projectId}/live-videos/{id}/stop-and-cut',
    'server.address': '127.0.0.1'
  })
  t.type(first?.attributes['livecut.upstream.retry.wait_ms'], 'number', 'the wait before the retry')
  t.notOk('http.request.resend_count' in (first?.attributes ?? {}))
  t.match(second?.attributes, { 'livecut.upstream.attempt': 2, 'http.request.resend_count': 1, 'http.response.status_code': 200, 'livecut.upstream.retry.decision': 'final' })
  t.notOk('error.type' in (second?.attributes ?? {}))

  // What the platform received: each attempt carried its own span as the parent, in this trace.
  const received = service.simulator.app.simulator.calls().map((call) => call.headers.traceparent)
  t.same(received, attempts.map((span) => `00-${TRACE_ID}-${span.spanContext().spanId}-01`), 'the traceparent of each attempt reached the platform')

  const line = service.logs.records.find((record) => record.msg === 'request completed')
  t.equal(line?.traceId, TRACE_ID, 'the request log line carries the traceId')
})

t.test('without a traceparent a trace starts, and reaches the platform and the log', async (t) => {
  const service = await tracedService(t)
  t.equal((await service.app.inject(cut('live-2'))).statusCode, 200)
  const [request] = service.exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.SERVER)
  t.equal(parentOf(request as ReadableSpan), undefined, 'a root span')
  const traceId = request?.spanContext().traceId
  t.match(service.simulator.app.simulator.calls()[0]?.headers.traceparent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))
  t.equal(service.logs.records.find((record) => record.msg === 'request completed')?.traceId, traceId)
})

t.test('with no exporter (the default) nothing is recorded, but the trace context still goes through', async (t) => {
  const service = await startService(t)
  t.equal((await service.app.inject(cut('live-3', { traceparent }))).statusCode, 200)
  const [continued] = service.simulator.app.simulator.calls().map((call) => TRACEPARENT.exec(String(call.headers.traceparent)))
  t.equal(continued?.[1], TRACE_ID, 'the caller\'s trace is passed to the platform')
  t.not(continued?.[2], CALLER_SPAN_ID, 'under a span of this service')
  t.equal(service.logs.records.find((record) => record.msg === 'request completed')?.traceId, TRACE_ID)

  t.equal((await service.app.inject(cut('live-4'))).statusCode, 200)
  const started = TRACEPARENT.exec(String(service.simulator.app.simulator.calls()[1]?.headers.traceparent))
  t.ok(started !== null && started[1] !== TRACE_ID, 'without one, a new trace starts')
  t.equal(service.logs.records.filter((record) => record.msg === 'request completed')[1]?.traceId, started?.[1])
})

t.test('OTEL_SDK_DISABLED: nothing recorded even with an exporter, an incoming traceparent still passed on', async (t) => {
  const service = await tracedService(t, { env: { OTEL_SDK_DISABLED: 'true' } })
  t.equal((await service.app.inject(cut('live-5', { traceparent }))).statusCode, 200)
  t.equal(service.simulator.app.simulator.calls()[0]?.headers.traceparent, traceparent, 'the caller\'s context, unchanged')
  t.same(service.exporter.getFinishedSpans(), [], 'no span')
})

t.test('probes and /metrics are not traced; the review API is', async (t) => {
  const service = await tracedService(t)
  for (const url of ['/healthz', '/readyz', '/metrics', '/healthz?verbose=1']) {
    t.equal((await service.app.inject({ url, headers: { traceparent } })).statusCode, 200, url)
  }
  t.same(service.exporter.getFinishedSpans(), [], 'no span for probes and scrapes')
  await service.app.inject({ url: '/v1/audit/events?limit=5', headers: { authorization: `Bearer ${hsToken({ scope: 'audit:read' })}` } })
  const [span] = service.exporter.getFinishedSpans()
  t.equal(span?.attributes['http.route'], '/v1/audit/events')
  t.equal(span?.attributes['url.path'], '/v1/audit/events', 'the path without its query')
})

t.test('no platform key, bearer token, cookie or idempotency key in any span attribute', async (t) => {
  const service = await tracedService(t, { simulator: { script: [{ kind: '503' }, { kind: 'status', status: 400, body: { success: false, errors: [`bad key ${PLATFORM_KEY}`], messages: [], result: null, resultInfo: null, statusCode: 400 } }] } })
  const token = hsToken()
  const secrets = { token, platformKey: PLATFORM_KEY, cookie: 'session=cookie-value-9f3a', idempotencyKey: 'idem-key-7c1e' }
  const sensitive = { authorization: `Bearer ${token}`, cookie: secrets.cookie, 'idempotency-key': secrets.idempotencyKey, traceparent }
  const statuses = [
    (await service.app.inject(cut('live-6', sensitive))).statusCode, // 503 then the platform's 400: a 422
    (await service.app.inject({ ...cut('live-7', sensitive), payload: { startMS: 1 } })).statusCode,
    (await service.app.inject({ ...cut('live-8', { ...sensitive, authorization: `Bearer ${token}x` }) })).statusCode,
    (await service.app.inject({ ...cut('live-9', { ...sensitive, 'idempotency-key': `${secrets.idempotencyKey}-2` }), url: `/v1/projects/proj-1/live-videos/live-9/cut?access_token=${token}` })).statusCode
  ]
  t.same(statuses, [422, 400, 401, 200])
  const spans = service.exporter.getFinishedSpans()
  t.ok(spans.length >= 10, `${spans.length} spans looked at`)
  const recorded = JSON.stringify(spans.map((span) => ({ attributes: span.attributes, events: span.events, status: span.status, resource: span.resource.attributes, name: span.name })))
  for (const [what, secret] of Object.entries(secrets)) t.notOk(recorded.includes(secret), `no ${what}`)
  t.ok(recorded.includes('/v1/projects/proj-1/live-videos/live-9/cut'), 'the attributes were looked at')
})

t.test('the server\'s exporter: OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces, flushed when the app closes', async (t) => {
  const received: Array<{ url: string | undefined, type: string | undefined, body: Buffer }> = []
  const collector = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      received.push({ url: request.url, type: request.headers['content-type'], body: Buffer.concat(chunks) })
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  collector.listen(0, '127.0.0.1')
  await once(collector, 'listening')
  t.teardown(() => new Promise((resolve) => collector.close(resolve)))
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/otlp`
  const { config } = loadConfig({ NODE_ENV: 'test', AUDIT_STORE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'livecut-under-test' })
  const app = await buildApp(config, { spanProcessor: otlpSpanProcessor(config.tracing) })
  await app.inject({ url: '/v1/audit/events', headers: { traceparent } })
  await app.close()
  t.equal(received.length, 1, 'one export')
  t.equal(received[0]?.url, '/otlp/v1/traces')
  t.match(received[0]?.type, /^application\/(x-protobuf|json)/)
  t.ok(received[0]?.body.includes('livecut-under-test'), 'with OTEL_SERVICE_NAME')
  const body = received[0]?.body ?? Buffer.alloc(0)
  t.ok(body.includes(Buffer.from(TRACE_ID, 'hex')) || body.includes(TRACE_ID), 'the caller\'s trace')

  t.equal(otlpSpanProcessor(loadConfig({ NODE_ENV: 'test', AUDIT_STORE_URL: 'sqlite::memory:', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' }).config.tracing), undefined, 'none when disabled')
  t.equal(otlpSpanProcessor(loadConfig({ NODE_ENV: 'test', AUDIT_STORE_URL: 'sqlite::memory:' }).config.tracing), undefined, 'none without an endpoint')
})
