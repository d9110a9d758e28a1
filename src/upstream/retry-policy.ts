/** How one attempt ended, as far as retrying is concerned. */
export type AttemptOutcome =
  /** The platform answered 503; `retryAfterMs` is its parsed `Retry-After`, if any. */
  | { kind: 'unavailable', retryAfterMs: number | null }
  /** The connection failed before the request was sent: the platform cannot have acted on it. */
  | { kind: 'not_sent' }
  /** Anything else: an answer, a timeout, a reset after sending. */
  | { kind: 'final' }

export interface RetryBounds {
  /** Attempts in all, the first included. */
  maxAttempts: number
  /** All attempts and waits together, from the start of the first attempt. */
  deadlineMs: number
  retryBaseMs: number
  retryMaxMs: number
}

export interface RetryInput {
  outcome: AttemptOutcome
  /** Attempts made so far, the one that just ended included (1 after the first). */
  attempt: number
  /** Time since the first attempt started. */
  elapsedMs: number
  bounds: RetryBounds
  /** Uniform in [0, 1), injected so that tests fix it. */
  random: () => number
}

export type RetryDecision =
  | { action: 'retry', waitMs: number }
  /** Not a retryable outcome: the cut is not idempotent, so an answer or a sent request is final. */
  | { action: 'stop', reason: 'not_retryable' }
  /** Retryable, but out of attempts or time; `waitMs` is what the next wait would have been. */
  | { action: 'stop', reason: 'max_attempts' | 'deadline', waitMs: number }

/** The upper bound of the wait before the `retry`-th retry (1-based): base doubled per retry, capped at max. */
export function backoffCeilingMs (retry: number, bounds: Pick<RetryBounds, 'retryBaseMs' | 'retryMaxMs'>): number {
  const doubled = bounds.retryBaseMs * 2 ** Math.max(0, retry - 1)
  return Math.max(bounds.retryBaseMs, Math.min(bounds.retryMaxMs, doubled))
}

/**
 * Decides, given how an attempt ended and the clock, whether to retry and after how long.
 * Retries only a 503 or a connection that failed before sending; never past maxAttempts or the deadline.
 */
export function decideRetry ({ outcome, attempt, elapsedMs, bounds, random }: RetryInput): RetryDecision {
  if (outcome.kind === 'final') return { action: 'stop', reason: 'not_retryable' }
  const waitMs = outcome.kind === 'unavailable' && outcome.retryAfterMs !== null
    // The platform's own Retry-After wins, even above retryMaxMs: the deadline still bounds it.
    ? outcome.retryAfterMs
    // Full jitter: the n-th retry waits an integer uniform in [base, min(max, base·2^(n-1))] ms.
    : jitteredWaitMs(backoffCeilingMs(attempt, bounds), bounds.retryBaseMs, random)
  if (attempt >= bounds.maxAttempts) return { action: 'stop', reason: 'max_attempts', waitMs }
  // The next attempt would start when the wait ends: at or past the deadline, it must not start.
  if (elapsedMs + waitMs >= bounds.deadlineMs) return { action: 'stop', reason: 'deadline', waitMs }
  return { action: 'retry', waitMs }
}

function jitteredWaitMs (ceilingMs: number, baseMs: number, random: () => number): number {
  return Math.min(ceilingMs, baseMs + Math.floor(random() * (ceilingMs - baseMs + 1)))
}
