import { setTimeout as delay } from 'node:timers/promises'
import { Pool } from 'undici'
import type { Dispatcher } from 'undici'
import type { UpstreamConfig } from '../config/load-config.ts'
import type { StopAndCutCall, StopAndCutOutcome, StopAndCutResult } from './stop-and-cut.ts'
import type { CircuitBreaker } from './circuit-breaker.ts'
import type { RetryBudget } from './retry-budget.ts'
import { backoffCeilingMs, decideRetry, type RetryBounds } from './retry-policy.ts'
import { createPlatformAttempt } from './platform-attempt.ts'
import { trace, type Tracer } from '@opentelemetry/api'
import { startAttemptSpan, type AttemptEnding } from '../tracing/platform-attempt-span.ts'
import { TRACER_NAME } from '../tracing/create-tracing.ts'

export interface StopAndCutClientDeps {
  /** Wall clock in ms: measures the deadline and latency, and dates a `Retry-After`. */
  now?: () => number
  /** Waits between attempts. */
  sleep?: (ms: number) => Promise<void>
  /** Uniform in [0, 1), for the backoff jitter. */
  random?: () => number
  /** Fails fast while the platform keeps failing; told the fate of every attempt. */
  breaker?: Pick<CircuitBreaker, 'tryAcquire' | 'retryAfterMs' | 'recordSuccess' | 'recordFailure'>
  /** Caps retries at a share of recent requests, so a 503 storm is not multiplied by the attempt count. */
  retryBudget?: Pick<RetryBudget, 'recordRequest' | 'tryRetry'>
  /** A span per attempt, child of the active context; the API's no-op tracer by default. */
  tracer?: Tracer
}

export interface StopAndCutClient {
  /** Calls the platform's stop-and-cut, retrying as the policy allows; never throws for a platform failure. */
  stopAndCut: (call: StopAndCutCall) => Promise<StopAndCutOutcome>
  /** Closes the connection pool once in-flight calls are done. */
  close: () => Promise<void>
}

/**
 * The platform client: one keep-alive undici Pool for the platform origin, and the retry loop
 * around one attempt (`platform-attempt.ts`), the circuit breaker, the retry budget and
 * `decideRetry`. Only what `StopAndCutCall` holds reaches the platform.
 */
export function createStopAndCutClient (config: UpstreamConfig, deps: StopAndCutClientDeps = {}): StopAndCutClient {
  const now = deps.now ?? Date.now
  const sleep = deps.sleep ?? ((ms: number) => delay(ms))
  const random = deps.random ?? Math.random
  const tracer = deps.tracer ?? trace.getTracer(TRACER_NAME)
  // loadConfig has checked it: http(s), no credentials, query or fragment.
  const baseUrl = new URL(config.baseUrl)
  const basePath = baseUrl.pathname.replace(/\/+$/, '')
  const bounds: RetryBounds = {
    maxAttempts: config.maxAttempts,
    deadlineMs: config.deadlineMs,
    retryBaseMs: config.retryBaseMs,
    retryMaxMs: config.retryMaxMs
  }
  const pool = new Pool(baseUrl.origin, {
    connectTimeout: config.timeoutMs,
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs
  })
  const attemptOnce = createPlatformAttempt(pool, config, now)

  function authorizationFor (projectId: string): string | null {
    // hasOwn: a project called "constructor" must not find Object.prototype's.
    const key = Object.hasOwn(config.apiKeys, projectId) ? config.apiKeys[projectId] : config.apiKey
    if (key === undefined || key === null || key === '') return null
    return config.authScheme.trim() === '' ? key : `${config.authScheme.trim()} ${key}`
  }

  async function stopAndCut (call: StopAndCutCall): Promise<StopAndCutOutcome> {
    const startedAt = now()
    const statuses: number[] = []
    let attempts = 0
    const finish = (result: StopAndCutResult): StopAndCutOutcome =>
      ({ result, attempts, statuses, latencyMs: Math.max(0, now() - startedAt) })
    const unavailable = (waitMs: number): StopAndCutOutcome =>
      finish({ type: 'unavailable', retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) })

    const authorization = authorizationFor(call.projectId)
    if (authorization === null) {
      return finish({ type: 'bad_gateway', detail: `no platform key is configured for project ${call.projectId}` })
    }
    const options = stopAndCutRequest(call, { authHeader: config.authHeader, timeoutMs: config.timeoutMs, basePath, authorization })

    const { breaker, retryBudget } = deps
    retryBudget?.recordRequest()
    while (true) {
      if (breaker !== undefined && !breaker.tryAcquire()) {
        return finish({ type: 'circuit_open', retryAfterSeconds: Math.max(1, Math.ceil(breaker.retryAfterMs() / 1000)) })
      }
      attempts += 1
      const span = startAttemptSpan(tracer, { origin: baseUrl.origin, path: options.path }, attempts)
      const attempt = await attemptOnce({ ...options, headers: { ...options.headers as Record<string, string>, ...span.headers } }, config.deadlineMs - (now() - startedAt))
      const ended = (ending: Pick<AttemptEnding, 'decision' | 'reason' | 'waitMs'>): void =>
        span.end({ status: attempt.status, failure: attempt.result?.type === 'succeeded' ? null : attempt.result?.type ?? attempt.outcome.kind, ...ending })
      if (attempt.status !== null) statuses.push(attempt.status)
      // 503s, connection failures and answers that never came count against the platform.
      if (attempt.result === null || attempt.result.type === 'unknown') breaker?.recordFailure()
      else breaker?.recordSuccess()
      if (attempt.result !== null) {
        ended({ decision: 'final' })
        return finish(attempt.result)
      }
      // Cut off before anything was sent: the platform never saw this attempt, so no outcome is unknown.
      if (attempt.deadlineBeforeSend) {
        ended({ decision: 'stop', reason: 'deadline' })
        return unavailable(backoffCeilingMs(attempts, bounds))
      }
      const retryAfterMs = attempt.outcome.kind === 'unavailable' ? attempt.outcome.retryAfterMs : null
      const decision = decideRetry({ outcome: attempt.outcome, attempt: attempts, elapsedMs: now() - startedAt, bounds, random })
      if (decision.action === 'stop') {
        ended({ decision: 'stop', reason: decision.reason, ...('waitMs' in decision ? { waitMs: decision.waitMs } : {}) })
        // Suggest the platform's own Retry-After, else the next backoff's upper bound, to our caller.
        return unavailable(retryAfterMs ?? backoffCeilingMs(attempts, bounds))
      }
      if (retryBudget !== undefined && !retryBudget.tryRetry()) {
        ended({ decision: 'stop', reason: 'retry_budget', waitMs: decision.waitMs })
        return unavailable(retryAfterMs ?? decision.waitMs)
      }
      ended({ decision: 'retry', waitMs: decision.waitMs })
      await sleep(decision.waitMs)
    }
  }

  return {
    stopAndCut,
    close: () => pool.close()
  }
}

/** The platform's stop-and-cut request for one call: our headers and the five body fields, nothing of the client's. */
function stopAndCutRequest (call: StopAndCutCall, settings: Pick<UpstreamConfig, 'authHeader' | 'timeoutMs'> & { basePath: string, authorization: string }): Dispatcher.RequestOptions {
  const { body } = call
  return {
    method: 'POST',
    path: `${settings.basePath}/api/v2/${encodeURIComponent(call.projectId)}/live-videos/${encodeURIComponent(call.videoId)}/stop-and-cut`,
    headers: {
      'content-type': 'application/json',
      [settings.authHeader]: settings.authorization,
      'x-request-id': call.requestId,
      accept: 'application/json'
    },
    // The five fields, and only those, whatever else the object carries at run time.
    body: JSON.stringify({
      fromMilisecond: body.fromMilisecond,
      toMilisecond: body.toMilisecond,
      dateTimeFrom: body.dateTimeFrom,
      dateTimeTo: body.dateTimeTo,
      videoVisibilityOptionId: body.videoVisibilityOptionId
    }),
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs
  }
}
