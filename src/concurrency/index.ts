/**
 * The guards against a double cut, free of any web framework: idempotency records and
 * in-flight locks, each in memory or in Redis.
 */
import type { Redis } from 'ioredis'
import type { IdempotencyStore, IdempotencyTimings } from './idempotency.ts'
import { IDEMPOTENCY_LEASE_MS, MemoryIdempotencyStore } from './idempotency.ts'
import { RedisIdempotencyStore } from './idempotency-redis.ts'
import type { InFlightLock } from './lock.ts'
import { LOCK_LEASE_MS, MemoryInFlightLock } from './lock.ts'
import { RedisInFlightLock } from './lock-redis.ts'
import { RedisDataGuard } from './redis-data-guard.ts'

export * from './errors.ts'
export * from './fingerprint.ts'
export * from './redis-connection.ts'
export * from './idempotency.ts'
export * from './idempotency-redis.ts'
export * from './lock.ts'
export * from './lock-redis.ts'
export * from './redis-data-guard.ts'

export interface ConcurrencyStoresOptions {
  /** A connection from `createRedisConnection()`: both stores are then shared through Redis. Absent: in memory. */
  redis?: Redis
  /** Redis key prefix. Default `livecut:`. */
  prefix?: string
  idempotency?: IdempotencyTimings
  /** Default lease of a video lock (ms). */
  lockLeaseMs?: number
  /** Clock (ms) of the in-memory stores and of the quarantine after Redis restarted or lost data (Redis keeps its own time for its leases). Default `Date.now`. */
  now?: () => number
  /** Told when Redis is found restarted or without its data, with the quarantine left (ms). */
  onDataLoss?: (quarantineMs: number) => void
}

export interface ConcurrencyStores {
  idempotency: IdempotencyStore
  lock: InFlightLock
  /** With Redis: what keeps both stores shut after Redis restarted or lost data. */
  guard: RedisDataGuard | null
}

/** The idempotency store and the in-flight lock, both in Redis when a connection is given, else both in memory. */
export function createConcurrencyStores (options: ConcurrencyStoresOptions = {}): ConcurrencyStores {
  const { redis, prefix, idempotency = {}, lockLeaseMs, now, onDataLoss } = options
  if (redis !== undefined) {
    // One lease of either store: by then no cut that held a lost lock or key is still running.
    const quarantineMs = Math.max(lockLeaseMs ?? LOCK_LEASE_MS, idempotency.leaseMs ?? IDEMPOTENCY_LEASE_MS)
    const guard = new RedisDataGuard({ redis, prefix, quarantineMs, now, onDataLoss })
    return {
      guard,
      idempotency: new RedisIdempotencyStore({ redis, prefix, guard, ...idempotency }),
      lock: new RedisInFlightLock({ redis, prefix, guard, leaseMs: lockLeaseMs })
    }
  }
  return {
    guard: null,
    idempotency: new MemoryIdempotencyStore({ ...idempotency, now }),
    lock: new MemoryInFlightLock({ leaseMs: lockLeaseMs, now })
  }
}
