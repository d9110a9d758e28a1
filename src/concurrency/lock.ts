/**
 * In-flight lock: at most one cut per (projectId, videoId) at a time.
 *
 * `acquire(key, leaseMs)` returns a lease, or null while another holder's lease is live.
 * `release(lease)` frees the key only if that lease still holds it (token compare), so a
 * holder whose lease already ran out cannot free the lock of the request that took it over.
 * A lease expires on its own after `leaseMs`, so a crashed instance cannot hold a video
 * forever; the lease must therefore outlast the longest cut request (upstream deadline plus
 * audit writes), or a second cut could start while the first is still running.
 *
 * The route releases on every exit path (success, failure, timeout, client abort) in a
 * `finally`; a release that fails (store unreachable) leaves the lease to expire.
 * Both implementations fail closed: a store that cannot answer rejects with
 * `ConcurrencyStoreUnavailableError` (503), never grants a lock it cannot vouch for.
 * The Redis implementation is in `lock-redis.ts`.
 */
import { ConcurrencyStoreUnavailableError } from './errors.ts'
import { newToken, positiveMs } from './internal.ts'

/** Default lease of a video lock. */
export const LOCK_LEASE_MS = 60_000
/** Most locks the in-memory implementation holds at once. */
export const MEMORY_LOCK_MAX_ENTRIES = 100_000

export interface LockLease {
  readonly key: string
  readonly token: string
}

export interface InFlightLock {
  /** A lease on `key`, or null when it is held. `leaseMs` defaults to the implementation's setting. */
  acquire (key: string, leaseMs?: number): Promise<LockLease | null>
  /** Frees the key if `lease` still holds it; false when it had expired or been taken over. */
  release (lease: LockLease): Promise<boolean>
}

/** The lock key of one live video (ids are `[A-Za-z0-9_-]`, so `:` cannot be ambiguous). */
export function videoLockKey (projectId: string, videoId: string): string {
  return `${encodeURIComponent(projectId)}:${encodeURIComponent(videoId)}`
}

export interface MemoryLockOptions {
  /** Default lease (ms). Default `LOCK_LEASE_MS`. */
  leaseMs?: number
  /** Clock in ms; injected by tests. Default `Date.now`. */
  now?: () => number
  /** Default `MEMORY_LOCK_MAX_ENTRIES`; beyond it, `acquire` fails closed. */
  maxEntries?: number
}

/** Process-local locks (the default without `REDIS_URL`). */
export class MemoryInFlightLock implements InFlightLock {
  readonly #held = new Map<string, { token: string, expiresAt: number }>()
  readonly #now: () => number
  readonly #leaseMs: number
  readonly #maxEntries: number

  constructor (options: MemoryLockOptions = {}) {
    this.#now = options.now ?? Date.now
    this.#leaseMs = positiveMs('leaseMs', options.leaseMs ?? LOCK_LEASE_MS)
    this.#maxEntries = Math.max(1, Math.floor(options.maxEntries ?? MEMORY_LOCK_MAX_ENTRIES))
  }

  get size (): number {
    return this.#held.size
  }

  async acquire (key: string, leaseMs: number = this.#leaseMs): Promise<LockLease | null> {
    const lease = positiveMs('leaseMs', leaseMs)
    const now = this.#now()
    const current = this.#held.get(key)
    if (current !== undefined && current.expiresAt > now) return null
    if (current === undefined && this.#held.size >= this.#maxEntries) {
      for (const [k, v] of this.#held) if (v.expiresAt <= now) this.#held.delete(k)
      if (this.#held.size >= this.#maxEntries) {
        throw new ConcurrencyStoreUnavailableError('lock', 'acquire', `memory lock table full: ${this.#held.size} held`)
      }
    }
    const token = newToken()
    this.#held.set(key, { token, expiresAt: now + lease })
    return { key, token }
  }

  async release (lease: LockLease): Promise<boolean> {
    const current = this.#held.get(lease.key)
    if (current === undefined || current.token !== lease.token) return false
    this.#held.delete(lease.key)
    return current.expiresAt > this.#now()
  }
}
