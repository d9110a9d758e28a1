/**
 * Circuit breaker in front of the platform: after a run of failures it fails fast (503)
 * instead of sending more load to a platform that is struggling, then probes carefully.
 *
 *   closed     every attempt goes through. `failureThreshold` consecutive failures → open.
 *              A success resets the count.
 *   open       no attempt goes through (`tryAcquire()` is false; `retryAfterMs()` says how
 *              long is left) until `cooldownMs` has passed since it opened → half_open.
 *              Results of attempts admitted before it opened are ignored.
 *   half_open  exactly one attempt (the probe) goes through; success → closed, failure →
 *              open again for another cool-down. If the probe's result is never reported
 *              (a bug), another probe is let through after `probeLeaseMs`, so the breaker
 *              cannot stick half-open.
 *
 * What the caller reports per attempt: `recordFailure()` for a 503 or a connection failure
 * (the platform is struggling or unreachable); `recordSuccess()` for any other answer from the
 * platform (2xx, 4xx, other 5xx: it is up and answering). Timeouts are the caller's choice:
 * the platform client reports them as failures, the cautious one, and so too a deadline that
 * ran out before the request was sent (the platform could not be reached in time).
 *
 * The state is computed lazily from the injected clock (no timers): the open → half_open
 * change happens, and is reported, the first time the breaker is consulted after the
 * cool-down. Every change is reported to `onStateChange` (for logs and metrics); exceptions
 * it throws are swallowed so that a logging problem cannot break a request.
 * Per process: each instance of the service has its own breaker.
 */

/** Consecutive failures that open the circuit. */
export const BREAKER_FAILURE_THRESHOLD = 5
/** How long the circuit stays open before a probe is let through. */
export const BREAKER_COOLDOWN_MS = 10_000
/** How long a half-open probe may stay unreported before another is let through. */
export const BREAKER_PROBE_LEASE_MS = 30_000

export type CircuitState = 'closed' | 'open' | 'half_open'

export type CircuitChangeReason = 'failure_threshold' | 'cooldown_elapsed' | 'probe_succeeded' | 'probe_failed'

export interface CircuitStateChange {
  from: CircuitState
  to: CircuitState
  reason: CircuitChangeReason
  /** Clock time of the change (ms). */
  at: number
  /** Consecutive failures counted when it happened. */
  consecutiveFailures: number
}

export interface CircuitBreakerOptions {
  failureThreshold?: number
  cooldownMs?: number
  probeLeaseMs?: number
  /** Clock in ms. Default `Date.now`. */
  now?: () => number
  onStateChange?: (change: CircuitStateChange) => void
}

export interface CircuitSnapshot {
  state: CircuitState
  consecutiveFailures: number
  /** When it last opened (ms), or null if it never did. */
  openedAt: number | null
  /** Whether a half-open probe is out. */
  probeInFlight: boolean
}

export class CircuitBreaker {
  readonly failureThreshold: number
  readonly cooldownMs: number
  readonly probeLeaseMs: number
  readonly #now: () => number
  readonly #onStateChange: ((change: CircuitStateChange) => void) | undefined
  #state: CircuitState = 'closed'
  #consecutiveFailures = 0
  #openedAt: number | null = null
  #probeStartedAt: number | null = null

  constructor (options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? BREAKER_FAILURE_THRESHOLD
    this.cooldownMs = options.cooldownMs ?? BREAKER_COOLDOWN_MS
    this.probeLeaseMs = options.probeLeaseMs ?? BREAKER_PROBE_LEASE_MS
    if (!Number.isInteger(this.failureThreshold) || this.failureThreshold < 1) {
      throw new RangeError(`failureThreshold must be an integer >= 1, got ${this.failureThreshold}`)
    }
    if (!(this.cooldownMs >= 0) || !Number.isFinite(this.cooldownMs)) throw new RangeError(`cooldownMs must be >= 0, got ${this.cooldownMs}`)
    if (!(this.probeLeaseMs > 0) || !Number.isFinite(this.probeLeaseMs)) throw new RangeError(`probeLeaseMs must be > 0, got ${this.probeLeaseMs}`)
    this.#now = options.now ?? Date.now
    this.#onStateChange = options.onStateChange
  }

  /** The current state (open turns half_open here once the cool-down has passed). */
  get state (): CircuitState {
    this.#refresh()
    return this.#state
  }

  snapshot (): CircuitSnapshot {
    this.#refresh()
    return {
      state: this.#state,
      consecutiveFailures: this.#consecutiveFailures,
      openedAt: this.#openedAt,
      probeInFlight: this.#probeOut()
    }
  }

  /** Whether an attempt may go to the platform now. In half_open, true for the probe only. */
  tryAcquire (): boolean {
    this.#refresh()
    switch (this.#state) {
      case 'closed':
        return true
      case 'open':
        return false
      case 'half_open':
        if (this.#probeOut()) return false
        this.#probeStartedAt = this.#now()
        return true
    }
  }

  /** Milliseconds until an attempt may be let through (for `Retry-After`); 0 when closed. */
  retryAfterMs (): number {
    this.#refresh()
    const now = this.#now()
    if (this.#state === 'open' && this.#openedAt !== null) return Math.max(0, this.#openedAt + this.cooldownMs - now)
    if (this.#state === 'half_open' && this.#probeStartedAt !== null && this.#probeOut()) {
      return Math.max(0, this.#probeStartedAt + this.probeLeaseMs - now)
    }
    return 0
  }

  /** The platform answered (anything but a 503). */
  recordSuccess (): void {
    this.#refresh()
    if (this.#state === 'open') return
    const failures = this.#consecutiveFailures
    this.#consecutiveFailures = 0
    if (this.#state === 'half_open') {
      this.#probeStartedAt = null
      this.#transition('closed', 'probe_succeeded', failures)
    }
  }

  /** The platform answered 503, or could not be reached. */
  recordFailure (): void {
    this.#refresh()
    if (this.#state === 'open') return
    this.#consecutiveFailures++
    if (this.#state === 'half_open') {
      this.#open('probe_failed')
    } else if (this.#consecutiveFailures >= this.failureThreshold) {
      this.#open('failure_threshold')
    }
  }

  #open (reason: CircuitChangeReason): void {
    this.#openedAt = this.#now()
    this.#probeStartedAt = null
    this.#transition('open', reason, this.#consecutiveFailures)
  }

  #probeOut (): boolean {
    return this.#state === 'half_open' && this.#probeStartedAt !== null && this.#now() < this.#probeStartedAt + this.probeLeaseMs
  }

  #refresh (): void {
    if (this.#state === 'open' && this.#openedAt !== null && this.#now() >= this.#openedAt + this.cooldownMs) {
      this.#probeStartedAt = null
      this.#transition('half_open', 'cooldown_elapsed', this.#consecutiveFailures)
    }
  }

  #transition (to: CircuitState, reason: CircuitChangeReason, consecutiveFailures: number): void {
    const from = this.#state
    this.#state = to
    if (this.#onStateChange === undefined) return
    try {
      this.#onStateChange({ from, to, reason, at: this.#now(), consecutiveFailures })
    } catch {
      // a failing listener must not break the request that triggered the change
    }
  }
}
