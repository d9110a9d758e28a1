/** The body the platform's stop-and-cut endpoint takes (its spelling: `Milisecond`). */
export interface StopAndCutBody {
  fromMilisecond: number | null
  toMilisecond: number | null
  dateTimeFrom: string | null
  dateTimeTo: string | null
  videoVisibilityOptionId: number
}

export interface StopAndCutCall {
  projectId: string
  videoId: string
  requestId: string
  body: StopAndCutBody
}

/** What the platform did with the call, after every retry. */
export type StopAndCutResult =
  | { type: 'succeeded', videoPublicId: string }
  /** The platform says the video does not exist (404). */
  | { type: 'not_found', upstreamErrors: unknown[] }
  /** The platform refused the cut (its 400, or `success: false`). */
  | { type: 'rejected', upstreamErrors: unknown[] }
  /** Still 503 (or unreachable before sending) when attempts, the deadline or the retry budget ran out. */
  | { type: 'unavailable', retryAfterSeconds: number }
  /** Not tried: the circuit breaker is open after repeated failures. */
  | { type: 'circuit_open', retryAfterSeconds: number }
  /** Any other failure with a known answer: other 5xx, 401/403 (our key), unreadable body. */
  | { type: 'bad_gateway', detail: string }
  /** Timeout, deadline, or a reset after sending: the platform may or may not have cut. */
  | { type: 'unknown', detail: string }

export interface StopAndCutOutcome {
  result: StopAndCutResult
  attempts: number
  /** HTTP status of each attempt that got one, in order. */
  statuses: number[]
  latencyMs: number
}
