import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client'
import type { StopAndCutOutcome } from '../upstream/stop-and-cut.ts'

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
    auditWrites: new Histogram({ name: 'livecut_audit_write_duration_seconds', help: 'Durable audit appends', labelNames: ['record'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers }),
    auditWriteFailures: new Counter({ name: 'livecut_audit_write_failures_total', help: 'Audit appends that failed', labelNames: ['record'], registers }),
    rateLimited: new Counter({ name: 'livecut_rate_limited_total', help: 'Requests refused by a rate limit', labelNames: ['limit'], registers })
  }
}

export type Metrics = ReturnType<typeof createMetrics>

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
