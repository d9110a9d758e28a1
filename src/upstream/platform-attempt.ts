import createError from '@fastify/error'
import type { Dispatcher } from 'undici'
import type { UpstreamConfig } from '../config/load-config.ts'
import type { StopAndCutResult } from './stop-and-cut.ts'
import { parseRetryAfter } from './retry-after.ts'
import type { AttemptOutcome } from './retry-policy.ts'
import { observeRequestSent } from './observe-request-sent.ts'
import { mapPlatformAnswer, needsBody, type PlatformBody } from './map-platform-answer.ts'

/** A platform body larger than this is not read in full (the envelope is a few hundred bytes). */
const MAX_BODY_BYTES = 1024 * 1024
/** setTimeout's ceiling: a longer delay would fire at once. */
const MAX_TIMER_MS = 2_147_483_647
/** Local failures: the request was never made, and making it again will not help. */
const LOCAL_FAILURE_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED'])
const UNKNOWN_OUTCOME = 'the outcome at the platform is unknown'

/** The abort reason when the deadline cuts an attempt off. */
const DeadlineExceededError = createError('LIVECUT_UPSTREAM_DEADLINE', 'upstream deadline exceeded', 504)

/** How one attempt ended: `result` is set when it is final; otherwise the retry policy decides. */
export interface Attempt {
  status: number | null
  outcome: AttemptOutcome
  result: StopAndCutResult | null
  /** The deadline cut the attempt off before the request was sent. */
  deadlineBeforeSend: boolean
}

/**
 * One request to the platform and how it ended, as a value: never throws for a platform failure.
 * What follows it (retry, give up) is the caller's loop; this knows only whether the request was
 * sent, what came back, and the time it was given.
 */
export function createPlatformAttempt (dispatcher: Dispatcher, config: Pick<UpstreamConfig, 'timeoutMs' | 'deadlineMs'>, now: () => number) {
  return async function attempt (options: Dispatcher.RequestOptions, remainingMs: number): Promise<Attempt> {
    let sent = false
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(new DeadlineExceededError()), Math.min(remainingMs, MAX_TIMER_MS))
    try {
      let response: Dispatcher.ResponseData
      try {
        // undici 8 also aborts a request still queued or connecting when the signal fires.
        response = await dispatcher.compose(observeRequestSent(() => { sent = true }))
          .request({ ...options, signal: deadline.signal })
      } catch (error) {
        return attemptFailed(error, sent, deadline.signal.aborted, config)
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
}

export type PlatformAttempt = ReturnType<typeof createPlatformAttempt>

function attemptFailed (error: unknown, sent: boolean, deadlineHit: boolean, config: Pick<UpstreamConfig, 'timeoutMs' | 'deadlineMs'>): Attempt {
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
