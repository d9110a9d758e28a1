/**
 * The one error the idempotency store and the in-flight lock throw when they cannot answer.
 *
 * Both FAIL CLOSED: when Redis is unreachable, slow, or answers something unexpected, the
 * operation rejects with this error instead of pretending the key or the lock is free, because
 * "free" would allow a double cut. The route maps it to 503 (`statusCode`) without calling
 * the platform. The in-memory stores throw it only when they are full of in-flight entries.
 */
export type ConcurrencyStoreKind = 'idempotency' | 'lock'

export class ConcurrencyStoreUnavailableError extends Error {
  override readonly name = 'ConcurrencyStoreUnavailableError'
  /** Stable machine-readable code. */
  readonly code = 'CONCURRENCY_STORE_UNAVAILABLE'
  /** The HTTP status the route answers with. */
  readonly statusCode = 503
  /** Which store failed. */
  readonly store: ConcurrencyStoreKind
  /** The operation that failed, e.g. `begin`, `complete`, `acquire`. */
  readonly operation: string

  constructor (store: ConcurrencyStoreKind, operation: string, cause?: unknown) {
    const reason = cause instanceof Error ? cause.message : cause === undefined ? 'unavailable' : String(cause)
    super(`${store} store unavailable (${operation}): ${reason}`, cause === undefined ? undefined : { cause })
    this.store = store
    this.operation = operation
  }
}

export function isConcurrencyStoreUnavailableError (error: unknown): error is ConcurrencyStoreUnavailableError {
  return error instanceof ConcurrencyStoreUnavailableError
}
