import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { closeRedisConnection, createRedisConnection, waitForRedisReady, type RedisConnectionOptions } from '../../src/concurrency/redis-connection.ts'

/** The shared Redis the tests use; a test that cannot reach it fails, it never skips. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

interface Teardown { teardown: (fn: () => unknown) => void }

/** A ready connection, closed at teardown. */
export async function connectRedis (t: Teardown, url = TEST_REDIS_URL, options: RedisConnectionOptions = {}): Promise<Redis> {
  const redis = createRedisConnection(url, options)
  t.teardown(() => closeRedisConnection(redis))
  try {
    await waitForRedisReady(redis, 3000)
  } catch (error) {
    throw new Error(`these tests need the real Redis at ${url} (TEST_REDIS_URL) and could not reach it: ${(error as Error).message}`)
  }
  return redis
}

/** Deletes, at teardown, every key of the shared Redis that matches `pattern`. */
export function deleteKeysAtTeardown (t: Teardown, pattern: string, url = TEST_REDIS_URL): void {
  t.teardown(async () => {
    const redis = createRedisConnection(url)
    try {
      await waitForRedisReady(redis, 3000)
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
        cursor = next
        if (keys.length > 0) await redis.del(...keys)
      } while (cursor !== '0')
    } catch {
      // Redis unreachable: the tests using it have failed already.
    } finally {
      await closeRedisConnection(redis)
    }
  })
}

/** A key prefix of this run alone, its keys deleted at teardown, so parallel test files never meet. */
export function runKeyPrefix (t: Teardown): string {
  const prefix = `livecut-test:${randomUUID()}:`
  deleteKeysAtTeardown(t, `${prefix}*`)
  return prefix
}
