import { setTimeout as delay } from 'node:timers/promises'
import createError from '@fastify/error'
import { Pool } from 'undici'
import type { Dispatcher } from 'undici'
import type { UpstreamConfig } from '../config/load-config.ts'
import type { StopAndCutCall, StopAndCutOutcome, StopAndCutResult } from './stop-and-cut.ts'
import { parseRetryAfter } from './retry-after.ts'
import type { CircuitBreaker } from './circuit-breaker.ts'
import type { RetryBudget } from './retry-budget.ts'
import { backoffCeilingMs, decideRetry, type AttemptOutcome, type RetryBounds } from './retry-policy.ts'
import { observeRequestSent } from './observe-request-sent.ts'
import { mapPlatformAnswer, needsBody, type PlatformBody } from './map-platform-answer.ts'
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

/** A platform body larger than this is not read in full (the envelope is a few hundred bytes). */
const MAX_BODY_BYTES = 1024 * 1024
/** setTimeout's ceiling: a longer delay would fire at once. */
const MAX_TIMER_MS = 2_147_483_647
/** Local failures: the request was never made, and making it again will not help. */
const LOCAL_FAILURE_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED'])
const UNKNOWN_OUTCOME = 'the outcome at the platform is unknown'

/** How one attempt ended: `result` is set when it is final; otherwise the policy decides. */
interface Attempt {
  status: number | null
  outcome: AttemptOutcome
  result: StopAndCutResult | null
  /** The deadline cut the attempt off before the request was sent. */
  deadlineBeforeSend: boolean
}

/** The abort reason when the deadline cuts an attempt off. */
const DeadlineExceededError = createError('LIVECUT_UPSTREAM_DEADLINE', 'upstream deadline exceeded', 504)

/**
 * The platform client: one keep-alive undici Pool for the platform origin, and the retry
 * loop around `decideRetry`. Only what `StopAndCutCall` holds reaches the platform.
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

  function authorizationFor (projectId: string): string | null {
    // hasOwn: a project called "constructor" must not find Object.prototype's.
    const key = Object.hasOwn(config.apiKeys, projectId) ? config.apiKeys[projectId] : config.apiKey
    if (key === undefined || key === null || key === '') return null
    return config.authScheme.trim() === '' ? key : `${config.authScheme.trim()} ${key}`
  }

  async function attemptOnce (options: Dispatcher.RequestOptions, remainingMs: number): Promise<Attempt> {
    let sent = false
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(new DeadlineExceededError()), Math.min(remainingMs, MAX_TIMER_MS))
    try {
      let response: Dispatcher.ResponseData
      try {
        // undici 8 also aborts a request still queued or connecting when the signal fires.
        response = await pool.compose(observeRequestSent(() => { sent = true }))
          .request({ ...options, signal: deadline.signal })
      } catch (error) {
        return attemptFailed(error, sent, deadline.signal.aborted)
      }
      const status = response.statusCode
      if (status === 503) {
        const retryAfterMs = parseRetryAfter(response.headers['retry-after'], now())
        await discardBody(response.body)
        return { status, outcome: { kind: 'unavailable', retryAfterMs }, result: null, deadlineBeforeSend: false }
      }
      let body: PlatformBody = null
      if (needsBody(status)) body = await readBody(response.body)
      else await discardBody(response.body)
      return { status, outcome: { kind: 'final' }, result: mapPlatformAnswer(status, body), deadlineBeforeSend: false }
    } finally {
      clearTimeout(timer)
    }
  }

  function attemptFailed (error: unknown, sent: boolean, deadlineHit: boolean): Attempt {
    const code = errorCodeOf(error)
    const final = (result: StopAndCutResult): Attempt => ({ status: null, outcome: { kind: 'final' }, result, deadlineBeforeSend: false })
    if (deadlineHit) {
      if (!sent) return { status: null, outcome: { kind: 'not_sent' }, result: null, deadlineBeforeSend: true }
      return final({ type: 'unknown', detail: `the deadline of ${config.deadlineMs} ms ran out while waiting for the platform: ${UNKNOWN_OUTCOME}` })
    }
    if (LOCAL_FAILURE_CODES.has(code)) return final({ type: 'bad_gateway', detail: `the platform request could not be made (${code})` })
    // Nothing left the socket: the platform cannot have acted, so this one may be retried.
    if (!sent) return { status: null, outcome: { kind: 'not_sent' }, result: null, deadlineBeforeSend: false }
    if (code === 'UND_ERR_HEADERS_TIMEOUT') {
      return final({ type: 'unknown', detail: `the platform sent no response headers within ${config.timeoutMs} ms: ${UNKNOWN_OUTCOME}` })
    }
    return final({ type: 'unknown', detail: `the connection to the platform failed after the request was sent (${code}): ${UNKNOWN_OUTCOME}` })
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
    const { body } = call
    const options: Dispatcher.RequestOptions = {
      method: 'POST',
      path: `${basePath}/api/v2/${encodeURIComponent(call.projectId)}/live-videos/${encodeURIComponent(call.videoId)}/stop-and-cut`,
      headers: {
        'content-type': 'application/json',
        [config.authHeader]: authorization,
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
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs
    }

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

/** The body as text, or null if it failed, timed out or was too large part-way. */
async function readBody (body: Dispatcher.ResponseData['body']): Promise<PlatformBody> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length
      if (size > MAX_BODY_BYTES) {
        body.destroy()
        return null
      }
      chunks.push(chunk as Buffer)
    }
  } catch {
    return null
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Drains an unread body so the socket goes back to the pool; a failure here changes nothing. */
async function discardBody (body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump({ limit: MAX_BODY_BYTES })
  } catch {
    // The status already says what happened.
  }
}

/** An error's code when it is a plain identifier (never a message, which might quote a header). */
function errorCodeOf (error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? code : 'UNKNOWN'
}
