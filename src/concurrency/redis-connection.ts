/**
 * The Redis connection shared by the idempotency store, the in-flight lock and (later) the
 * rate limiter, configured to FAIL FAST while Redis is unreachable.
 *
 * Why each ioredis setting:
 * - `enableOfflineQueue: false` — a command issued while the client is not connected is
 *   rejected at once ("Stream isn't writeable…") instead of being queued until Redis comes
 *   back. A queued idempotency check would hold the HTTP request open for as long as Redis is
 *   down and then run against state that may have changed: we would rather answer 503 now.
 *   Consequence: right after start-up, until the first connection is ready, commands fail;
 *   `waitForRedisReady()` lets the server wait for it before listening.
 * - `maxRetriesPerRequest: 0` — commands already written when the connection drops are
 *   rejected on that first close rather than kept for up to 20 reconnect attempts (the default).
 * - `autoResendUnfulfilledCommands: false` — and never re-sent after a reconnect: our Lua
 *   scripts are not idempotent (a re-sent `begin` would find its own in-flight marker and
 *   answer `in_flight`), and the caller has already been told the command failed.
 * - `commandTimeout` (default 1000 ms) — a Redis that accepts the connection but does not
 *   answer (overloaded, paused, network black hole) rejects the command after this long.
 *   The command may still have run on the server; a `begin` or `acquire` that ran but was
 *   reported as failed leaves its key held by nobody until the lease ends (fail closed).
 * - `connectTimeout` (default 1000 ms) — a connection attempt that hangs is abandoned.
 * - `retryStrategy` — reconnect in the background forever, backing off up to 2 s, so that
 *   service resumes on its own when Redis returns. Requests in the meantime fail fast.
 * - an `error` listener is always attached (the caller's `onError`, else a no-op): ioredis
 *   otherwise prints every failed reconnect to stderr as "Unhandled error event". Failures
 *   still reach the callers of each command as rejections.
 */
import { createHash } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import { RedisNotReadyError } from './errors.ts'

const REDIS_CONNECT_TIMEOUT_MS = 1000
const REDIS_COMMAND_TIMEOUT_MS = 1000
/** Longest pause between background reconnect attempts. */
const REDIS_RECONNECT_MAX_DELAY_MS = 2000
/** Default prefix of every key the concurrency stores write. */
export const REDIS_KEY_PREFIX = 'livecut:'

export interface RedisConnectionOptions {
  connectTimeoutMs?: number
  commandTimeoutMs?: number
  /** Shown in `CLIENT LIST`. */
  connectionName?: string
  /** Called with connection and reconnect errors (for logs); they are swallowed otherwise. */
  onError?: (error: Error) => void
}

/** A Redis client for `url` (`redis://` or `rediss://`) that connects in the background and fails fast. */
export function createRedisConnection (url: string, options: RedisConnectionOptions = {}): Redis {
  const redisOptions: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: options.connectTimeoutMs ?? REDIS_CONNECT_TIMEOUT_MS,
    commandTimeout: options.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), REDIS_RECONNECT_MAX_DELAY_MS),
    enableReadyCheck: true,
    lazyConnect: false
  }
  if (options.connectionName !== undefined) redisOptions.connectionName = options.connectionName
  const redis = new Redis(url, redisOptions)
  const onError = options.onError ?? (() => {})
  redis.on('error', onError)
  return redis
}

/** Resolves once `redis` is ready for commands; rejects after `timeoutMs` or if the client ends. */
export async function waitForRedisReady (redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return
  if (redis.status === 'end') throw new RedisNotReadyError('(the connection has ended)')
  await new Promise<void>((resolve, reject) => {
    const onReady = (): void => { cleanup(); resolve() }
    const onEnd = (): void => { cleanup(); reject(new RedisNotReadyError('(the connection ended before it was ready)')) }
    const timer = setTimeout(() => {
      cleanup()
      reject(new RedisNotReadyError(`after ${timeoutMs} ms (status: ${redis.status})`))
    }, timeoutMs)
    function cleanup (): void {
      clearTimeout(timer)
      redis.off('ready', onReady)
      redis.off('end', onEnd)
    }
    redis.on('ready', onReady)
    redis.on('end', onEnd)
  })
}

/** Closes the connection: QUIT when connected, otherwise just stops reconnecting. */
export async function closeRedisConnection (redis: Redis): Promise<void> {
  if (redis.status === 'end') return
  if (redis.status === 'ready') {
    try {
      await redis.quit()
      return
    } catch {
      // fall through to a hard disconnect
    }
  }
  redis.disconnect(false)
}

/**
 * A Lua script run by EVALSHA, falling back to EVAL when the server does not have it cached
 * (first use, after a restart or SCRIPT FLUSH).
 */
export class RedisScript {
  readonly source: string
  readonly sha: string

  constructor (source: string) {
    this.source = source
    this.sha = createHash('sha1').update(source).digest('hex')
  }

  async run (redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return await redis.eval(this.source, keys.length, ...keys, ...args)
      }
      throw error
    }
  }
}

/** Encodes one component of a Redis key so that `:` can separate components unambiguously. */
export function keyPart (value: string): string {
  return encodeURIComponent(value)
}
