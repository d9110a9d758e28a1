import createError from '@fastify/error'

export type ConcurrencyStoreKind = 'idempotency' | 'lock'

const StoreUnavailable = createError<'CONCURRENCY_STORE_UNAVAILABLE', 503, [message: string, options?: { cause: unknown }]>(
  'CONCURRENCY_STORE_UNAVAILABLE', '%s', 503)

/**
 * The one error the idempotency store and the in-flight lock throw when they cannot answer.
 *
 * Both FAIL CLOSED: when Redis is unreachable, slow, or answers something unexpected, the
 * operation rejects with this error instead of pretending the key or the lock is free, because
 * "free" would allow a double cut. The route answers 503 `dependency_unavailable` without
 * calling the platform. The in-memory stores throw it only when they are full of in-flight entries.
 */
export class ConcurrencyStoreUnavailableError extends StoreUnavailable {
  /** Which store failed. */
  readonly store: ConcurrencyStoreKind
  /** The operation that failed, e.g. `begin`, `complete`, `acquire`. */
  readonly operation: string

  constructor (store: ConcurrencyStoreKind, operation: string, cause?: unknown) {
    const reason = cause instanceof Error ? cause.message : cause === undefined ? 'unavailable' : String(cause)
    super(`${store} store unavailable (${operation}): ${reason}`, ...(cause === undefined ? [] : [{ cause }] as const))
    this.name = 'ConcurrencyStoreUnavailableError'
    this.store = store
    this.operation = operation
  }
}

export function isConcurrencyStoreUnavailableError (error: unknown): error is ConcurrencyStoreUnavailableError {
  return error instanceof ConcurrencyStoreUnavailableError
}

/** Redis did not become ready for commands (at start-up, or before a readiness deadline). */
export const RedisNotReadyError = createError<'REDIS_NOT_READY', 503, [detail: string]>('REDIS_NOT_READY', 'Redis not ready %s', 503)
