/**
 * In-flight locks in Redis, shared by every instance of the service.
 *
 * Key: `<prefix>lock:<lock key>` (default prefix `livecut:`; for a video the lock key is
 * `videoLockKey(projectId, videoId)` = `<projectId>:<videoId>`). Value: the holder's random
 * token. Acquire is `SET key token PX leaseMs NX` (atomic; the lease runs on the Redis
 * server's clock); release is a Lua compare-and-delete on the token.
 *
 * Any Redis failure rejects with `ConcurrencyStoreUnavailableError`: fail closed.
 */
import type { Redis } from 'ioredis'
import { ConcurrencyStoreUnavailableError } from './errors.ts'
import { newToken, positiveMs } from './internal.ts'
import { LOCK_LEASE_MS, type InFlightLock, type LockLease } from './lock.ts'
import { REDIS_KEY_PREFIX, RedisScript } from './redis-connection.ts'
import type { RedisDataGuard } from './redis-data-guard.ts'

const RELEASE = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

export interface RedisLockOptions {
  /** From `createRedisConnection()`; the lock never closes it. */
  redis: Redis
  /** Prefix of every key. Default `REDIS_KEY_PREFIX` (`livecut:`). */
  prefix?: string
  /** Default lease (ms). Default `LOCK_LEASE_MS`. */
  leaseMs?: number
  /** When given, no lock is granted while Redis may have lost the locks of cuts still running. */
  guard?: RedisDataGuard
}

export class RedisInFlightLock implements InFlightLock {
  readonly #redis: Redis
  readonly #prefix: string
  readonly #leaseMs: number
  readonly #guard: RedisDataGuard | undefined

  constructor (options: RedisLockOptions) {
    this.#redis = options.redis
    this.#guard = options.guard
    this.#prefix = options.prefix ?? REDIS_KEY_PREFIX
    this.#leaseMs = positiveMs('leaseMs', options.leaseMs ?? LOCK_LEASE_MS)
  }

  /** The Redis key of a lock key (exposed for tests and operators). */
  redisKeyOf (key: string): string {
    return `${this.#prefix}lock:${key}`
  }

  async acquire (key: string, leaseMs: number = this.#leaseMs): Promise<LockLease | null> {
    const lease = positiveMs('leaseMs', leaseMs)
    await this.#guard?.assertTrusted('lock', 'acquire')
    const token = newToken()
    let reply: unknown
    try {
      reply = await this.#redis.set(this.redisKeyOf(key), token, 'PX', lease, 'NX')
    } catch (error) {
      throw new ConcurrencyStoreUnavailableError('lock', 'acquire', error)
    }
    if (reply === 'OK') return { key, token }
    if (reply === null) return null
    throw new ConcurrencyStoreUnavailableError('lock', 'acquire', `unexpected Redis reply ${JSON.stringify(reply)}`)
  }

  async release (lease: LockLease): Promise<boolean> {
    let reply: unknown
    try {
      reply = await RELEASE.run(this.#redis, [this.redisKeyOf(lease.key)], [lease.token])
    } catch (error) {
      throw new ConcurrencyStoreUnavailableError('lock', 'release', error)
    }
    if (reply === 1) return true
    if (reply === 0) return false
    throw new ConcurrencyStoreUnavailableError('lock', 'release', `unexpected Redis reply ${JSON.stringify(reply)}`)
  }
}
