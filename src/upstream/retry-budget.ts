/**
 * Retry budget: retries are allowed only up to a share of recent first attempts, so that when
 * the platform answers 503 to everything, the load we send it grows by at most that share
 * instead of being multiplied by `UPSTREAM_MAX_ATTEMPTS`.
 *
 * In any sliding window of `windowMs`, retries are allowed while
 *   retries < max(minRetriesPerWindow, floor(ratio × first attempts))
 * The minimum keeps retries possible at low traffic (a single request can still use its
 * attempts); the ratio bounds them under load. The window is kept as `buckets` counters of
 * `windowMs / buckets` each, so it slides in steps of one bucket (its span is between
 * `windowMs − bucket` and `windowMs`). Pure: no timers, the clock is injected.
 * Per process: each instance of the service has its own budget.
 *
 * Use: `recordRequest()` once per request before its first attempt; `tryRetry()` before each
 * retry — true means go ahead (and the retry is counted), false means give up now and answer
 * with the last response.
 */

/** Retries allowed per first attempt in the window (20 %). */
export const RETRY_BUDGET_RATIO = 0.2
/** Length of the sliding window. */
export const RETRY_BUDGET_WINDOW_MS = 10_000
/** Retries always allowed per window, whatever the traffic. */
export const RETRY_BUDGET_MIN_RETRIES = 10
/** Resolution of the sliding window. */
export const RETRY_BUDGET_BUCKETS = 10

export interface RetryBudgetOptions {
  ratio?: number
  windowMs?: number
  minRetriesPerWindow?: number
  buckets?: number
  /** Clock in ms. Default `Date.now`. */
  now?: () => number
}

export interface RetryBudgetSnapshot {
  /** First attempts in the window. */
  requests: number
  /** Retries granted in the window. */
  retries: number
  /** Retries the window allows in all. */
  allowed: number
  /** Retries still available now. */
  remaining: number
}

export class RetryBudget {
  readonly ratio: number
  readonly windowMs: number
  readonly minRetriesPerWindow: number
  readonly #bucketMs: number
  readonly #now: () => number
  readonly #epochs: number[]
  readonly #requests: number[]
  readonly #retries: number[]

  constructor (options: RetryBudgetOptions = {}) {
    this.ratio = options.ratio ?? RETRY_BUDGET_RATIO
    this.windowMs = options.windowMs ?? RETRY_BUDGET_WINDOW_MS
    this.minRetriesPerWindow = options.minRetriesPerWindow ?? RETRY_BUDGET_MIN_RETRIES
    const buckets = options.buckets ?? RETRY_BUDGET_BUCKETS
    if (!(this.ratio >= 0) || !Number.isFinite(this.ratio)) throw new RangeError(`ratio must be >= 0, got ${this.ratio}`)
    if (!(this.windowMs > 0) || !Number.isFinite(this.windowMs)) throw new RangeError(`windowMs must be > 0, got ${this.windowMs}`)
    if (!Number.isInteger(this.minRetriesPerWindow) || this.minRetriesPerWindow < 0) {
      throw new RangeError(`minRetriesPerWindow must be an integer >= 0, got ${this.minRetriesPerWindow}`)
    }
    if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`buckets must be an integer >= 1, got ${buckets}`)
    this.#bucketMs = this.windowMs / buckets
    this.#now = options.now ?? Date.now
    this.#epochs = new Array<number>(buckets).fill(Number.NEGATIVE_INFINITY)
    this.#requests = new Array<number>(buckets).fill(0)
    this.#retries = new Array<number>(buckets).fill(0)
  }

  /** Counts one first attempt. */
  recordRequest (): void {
    const index = this.#current()
    this.#requests[index] = (this.#requests[index] ?? 0) + 1
  }

  /** Grants (and counts) one retry if the budget allows it. */
  tryRetry (): boolean {
    const index = this.#current()
    const { remaining } = this.snapshot()
    if (remaining <= 0) return false
    this.#retries[index] = (this.#retries[index] ?? 0) + 1
    return true
  }

  snapshot (): RetryBudgetSnapshot {
    const epoch = this.#epoch()
    let requests = 0
    let retries = 0
    for (let i = 0; i < this.#epochs.length; i++) {
      const e = this.#epochs[i] ?? Number.NEGATIVE_INFINITY
      if (e <= epoch && e > epoch - this.#epochs.length) {
        requests += this.#requests[i] ?? 0
        retries += this.#retries[i] ?? 0
      }
    }
    const allowed = Math.max(this.minRetriesPerWindow, Math.floor(this.ratio * requests + 1e-9))
    return { requests, retries, allowed, remaining: Math.max(0, allowed - retries) }
  }

  #epoch (): number {
    return Math.floor(this.#now() / this.#bucketMs)
  }

  /** Index of the current bucket, cleared if it last held an older epoch. */
  #current (): number {
    const epoch = this.#epoch()
    const size = this.#epochs.length
    const index = ((epoch % size) + size) % size
    if (this.#epochs[index] !== epoch) {
      this.#epochs[index] = epoch
      this.#requests[index] = 0
      this.#retries[index] = 0
    }
    return index
  }
}
