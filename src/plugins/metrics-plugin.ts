import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { sendNotFound } from '../problems/send-problem.ts'
import type { StopAndCutOutcome } from '../upstream/stop-and-cut.ts'

const CIRCUIT_STATES = { closed: 0, half_open: 1, open: 2 } as const

/** The service's Prometheus metrics, in a registry of its own (several apps may share a process in tests). */
export function createMetrics () {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const registers = [registry]
  return {
    registry,
    httpRequests: new Counter({ name: 'livecut_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers }),
    httpDuration: new Histogram({ name: 'livecut_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method', 'route'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20], registers }),
    upstreamCalls: new Counter({ name: 'livecut_upstream_calls_total', help: 'Stop-and-cut calls by final result', labelNames: ['result'], registers }),
    upstreamAttempts: new Counter({ name: 'livecut_upstream_attempts_total', help: 'Attempts at the platform, retries included', registers }),
    upstreamRetries: new Counter({ name: 'livecut_upstream_retries_total', help: 'Attempts beyond the first', registers }),
    upstreamDuration: new Histogram({ name: 'livecut_upstream_call_duration_seconds', help: 'A stop-and-cut call, all attempts and waits', buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20], registers }),
    circuitState: new Gauge({ name: 'livecut_upstream_circuit_state', help: 'Platform circuit breaker: 0 closed, 1 half-open, 2 open', registers }),
    auditWrites: new Histogram({ name: 'livecut_audit_write_duration_seconds', help: 'Durable audit appends', labelNames: ['record'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers }),
    auditWriteFailures: new Counter({ name: 'livecut_audit_write_failures_total', help: 'Audit appends that failed', labelNames: ['record'], registers }),
    rateLimited: new Counter({ name: 'livecut_rate_limited_total', help: 'Requests refused by a rate limit', labelNames: ['limit'], registers })
  }
}

export type Metrics = ReturnType<typeof createMetrics>

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
    /** With METRICS_PORT: the listener that alone serves `/metrics` (the server starts it); else null. */
    metricsServer: FastifyInstance | null
  }
}

export function observeUpstream (metrics: Metrics, outcome: StopAndCutOutcome): void {
  metrics.upstreamCalls.inc({ result: outcome.result.type })
  metrics.upstreamAttempts.inc(outcome.attempts)
  metrics.upstreamRetries.inc(Math.max(0, outcome.attempts - 1))
  metrics.upstreamDuration.observe(outcome.latencyMs / 1000)
}

/** Times one audit append and counts its failure. */
export async function timedAuditWrite (metrics: Metrics, record: 'intent' | 'final', write: () => Promise<void>): Promise<void> {
  const end = metrics.auditWrites.startTimer({ record })
  try {
    await write()
  } catch (error) {
    metrics.auditWriteFailures.inc({ record })
    throw error
  } finally {
    end()
  }
}

async function metricsPlugin (fastify: FastifyInstance, options: { separatePort: boolean }): Promise<void> {
  const metrics = createMetrics()
  fastify.decorate('metrics', metrics)

  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.httpRequests.inc({ method: request.method, route, status: reply.statusCode })
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000)
  })

  const scrape = async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    metrics.circuitState.set(CIRCUIT_STATES[fastify.circuitBreaker.state])
    return await reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  }
  if (!options.separatePort) {
    fastify.decorate('metricsServer', null)
    fastify.get('/metrics', {
      config: { skipRateLimit: true },
      schema: { operationId: 'metrics', summary: 'Prometheus metrics', tags: ['operations'], security: [], produces: ['text/plain'] }
    }, scrape)
    return
  }
  // Its own listener: nothing else is routed there, and the service's port has no /metrics.
  const server = Fastify({ loggerInstance: fastify.log.child({ listener: 'metrics' }) })
  server.get('/metrics', scrape)
  server.setNotFoundHandler(sendNotFound)
  fastify.decorate('metricsServer', server)
  fastify.addHook('onClose', async () => { await server.close() })
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' })
