/**
 * Idempotency records in Redis, shared by every instance of the service.
 *
 * Key: `<prefix>idem:<subject>:<Idempotency-Key>` (both parts URI-encoded, so `:` separates
 * them unambiguously; default prefix `livecut:`). Value: a hash
 *   state        'in_flight' | 'done'
 *   fp           the request fingerprint
 *   token        the owner's random token
 *   response     (done only) the final response as JSON
 * with PEXPIRE = lease while in flight, ttl once done. Every operation is one Lua script, so
 * check-and-set is atomic across instances; expiry runs on the Redis server's clock.
 *
 * Any Redis failure (unreachable, timeout, unexpected reply) rejects with
 * `ConcurrencyStoreUnavailableError`: fail closed. See `idempotency.ts` for the semantics.
 */
import type { Redis } from 'ioredis'
import { ConcurrencyStoreUnavailableError } from './errors.ts'
import {
  IDEMPOTENCY_LEASE_MS,
  IDEMPOTENCY_TTL_MS,
  parseResponse,
  serialiseResponse,
  type BeginResult,
  type IdempotencyClaim,
  type IdempotencyScope,
  type IdempotencyStore,
  type IdempotencyTimings,
  type StoredResponse
} from './idempotency.ts'
import { newToken, positiveMs } from './internal.ts'
import { keyPart, REDIS_KEY_PREFIX, RedisScript } from './redis-connection.ts'
import type { RedisDataGuard } from './redis-data-guard.ts'

// KEYS[1] record; ARGV fingerprint, token, leaseMs
const BEGIN = new RedisScript(`
local rec = redis.call('HMGET', KEYS[1], 'state', 'fp', 'response')
if not rec[1] then
  redis.call('HSET', KEYS[1], 'state', 'in_flight', 'fp', ARGV[1], 'token', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'started'}
end
if rec[2] ~= ARGV[1] then return {'mismatch'} end
if rec[1] == 'done' and rec[3] then return {'replay', rec[3]} end
return {'in_flight'}
`)

// KEYS[1] record; ARGV fingerprint, token, response, ttlMs
const COMPLETE = new RedisScript(`
local rec = redis.call('HMGET', KEYS[1], 'state', 'token')
if rec[1] and not (rec[1] == 'in_flight' and rec[2] == ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'done', 'fp', ARGV[1], 'token', ARGV[2], 'response', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// KEYS[1] record; ARGV token
const ABANDON = new RedisScript(`
local rec = redis.call('HMGET', KEYS[1], 'state', 'token')
if rec[1] == 'in_flight' and rec[2] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

export interface RedisIdempotencyOptions extends IdempotencyTimings {
  /** From `createRedisConnection()`; the store never closes it. */
  redis: Redis
  /** Prefix of every key. Default `REDIS_KEY_PREFIX` (`livecut:`). */
  prefix?: string
  /** When given, no key is begun while Redis may have lost the in-flight keys of cuts still running. */
  guard?: RedisDataGuard
}

export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #redis: Redis
  readonly #prefix: string
  readonly #ttlMs: number
  readonly #leaseMs: number
  readonly #guard: RedisDataGuard | undefined

  constructor (options: RedisIdempotencyOptions) {
    this.#redis = options.redis
    this.#guard = options.guard
    this.#prefix = options.prefix ?? REDIS_KEY_PREFIX
    this.#ttlMs = positiveMs('ttlMs', options.ttlMs ?? IDEMPOTENCY_TTL_MS)
    this.#leaseMs = positiveMs('leaseMs', options.leaseMs ?? IDEMPOTENCY_LEASE_MS)
  }

  /** The Redis key of a scope (exposed for tests and operators). */
  keyOf (scope: IdempotencyScope): string {
    return `${this.#prefix}idem:${keyPart(scope.subject)}:${keyPart(scope.key)}`
  }

  async begin (scope: IdempotencyScope, fingerprint: string): Promise<BeginResult> {
    await this.#guard?.assertTrusted('idempotency', 'begin')
    const token = newToken()
    const reply = await this.#run('begin', BEGIN, this.keyOf(scope), [fingerprint, token, this.#leaseMs])
    if (!Array.isArray(reply)) throw unexpected('begin', reply)
    const [state, response] = reply as unknown[]
    switch (state) {
      case 'started':
        return { state: 'started', claim: { scope: { ...scope }, fingerprint, token } }
      case 'mismatch':
        return { state: 'mismatch' }
      case 'in_flight':
        return { state: 'in_flight' }
      case 'replay':
        if (typeof response !== 'string') throw unexpected('begin', reply)
        try {
          return { state: 'replay', response: parseResponse(response) }
        } catch (error) {
          throw new ConcurrencyStoreUnavailableError('idempotency', 'begin', error)
        }
      default:
        throw unexpected('begin', reply)
    }
  }

  async complete (claim: IdempotencyClaim, response: StoredResponse): Promise<boolean> {
    const serialised = serialiseResponse(response)
    const reply = await this.#run('complete', COMPLETE, this.keyOf(claim.scope), [claim.fingerprint, claim.token, serialised, this.#ttlMs])
    return flag('complete', reply)
  }

  async abandon (claim: IdempotencyClaim): Promise<boolean> {
    const reply = await this.#run('abandon', ABANDON, this.keyOf(claim.scope), [claim.token])
    return flag('abandon', reply)
  }

  async #run (operation: string, script: RedisScript, key: string, args: Array<string | number>): Promise<unknown> {
    try {
      return await script.run(this.#redis, [key], args)
    } catch (error) {
      throw new ConcurrencyStoreUnavailableError('idempotency', operation, error)
    }
  }
}

function flag (operation: string, reply: unknown): boolean {
  if (reply === 1) return true
  if (reply === 0) return false
  throw unexpected(operation, reply)
}

function unexpected (operation: string, reply: unknown): ConcurrencyStoreUnavailableError {
  return new ConcurrencyStoreUnavailableError('idempotency', operation, `unexpected Redis reply ${JSON.stringify(reply)}`)
}
