/**
 * The guards against a double cut, free of any web framework: idempotency records and
 * in-flight locks, each in memory or in Redis.
 */
import type { Redis } from 'ioredis'
import type { IdempotencyStore, IdempotencyTimings } from './idempotency.ts'
import { MemoryIdempotencyStore } from './idempotency.ts'
import { RedisIdempotencyStore } from './idempotency-redis.ts'
import type { InFlightLock } from './lock.ts'
import { MemoryInFlightLock } from './lock.ts'
import { RedisInFlightLock } from './lock-redis.ts'

export * from './errors.ts'
export * from './fingerprint.ts'
export * from './redis-connection.ts'
export * from './idempotency.ts'
export * from './idempotency-redis.ts'
export * from './lock.ts'
export * from './lock-redis.ts'

export interface ConcurrencyStoresOptions {
  /** A connection from `createRedisConnection()`: both stores are then shared through Redis. Absent: in memory. */
  redis?: Redis
  /** Redis key prefix. Default `livecut:`. */
  prefix?: string
  idempotency?: IdempotencyTimings
  /** Default lease of a video lock (ms). */
  lockLeaseMs?: number
  /** Clock (ms) of the in-memory stores (Redis keeps its own time). Default `Date.now`. */
  now?: () => number
}

export interface ConcurrencyStores {
  idempotency: IdempotencyStore
  lock: InFlightLock
}

/** The idempotency store and the in-flight lock, both in Redis when a connection is given, else both in memory. */
export function createConcurrencyStores (options: ConcurrencyStoresOptions = {}): ConcurrencyStores {
  const { redis, prefix, idempotency = {}, lockLeaseMs, now } = options
  if (redis !== undefined) {
    return {
      idempotency: new RedisIdempotencyStore({ redis, prefix, ...idempotency }),
      lock: new RedisInFlightLock({ redis, prefix, leaseMs: lockLeaseMs })
    }
  }
  return {
    idempotency: new MemoryIdempotencyStore({ ...idempotency, now }),
    lock: new MemoryInFlightLock({ leaseMs: lockLeaseMs, now })
  }
}
