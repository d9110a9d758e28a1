import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { createConcurrencyStores } from '../concurrency/index.ts'
import type { IdempotencyStore } from '../concurrency/idempotency.ts'
import type { InFlightLock } from '../concurrency/lock.ts'
import { closeRedisConnection, createRedisConnection, waitForRedisReady } from '../concurrency/redis-connection.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The shared Redis, when REDIS_URL is set; rate limits use it too. */
    redis: Redis | null
    idempotencyStore: IdempotencyStore
    videoLock: InFlightLock
  }
}

// A lock or in-flight key must outlive the longest cut: the deadline plus the audit writes.
const LEASE_MARGIN_MS = 30_000

/**
 * Idempotency records and in-flight video locks: in this process by default, in Redis when
 * REDIS_URL is set so that every instance shares them. Both fail closed (503) when Redis is
 * unreachable: a double cut is worse than a refused one.
 */
async function sharedStatePlugin (fastify: FastifyInstance, { redisUrl, upstreamDeadlineMs, now }: { redisUrl: string | null, upstreamDeadlineMs: number, now: () => number }): Promise<void> {
  let redis: Redis | null = null
  if (redisUrl !== null) {
    redis = createRedisConnection(redisUrl, {
      connectionName: 'livecut-bff',
      onError: (error) => { fastify.log.warn({ err: error }, 'redis: connection error') }
    })
    try {
      await waitForRedisReady(redis)
    } catch (error) {
      // Start anyway: /readyz says not ready, cuts answer 503, and the client keeps reconnecting.
      fastify.log.error({ err: error }, 'redis: unreachable at start-up')
    }
    const connection = redis
    fastify.addHook('onClose', async () => { await closeRedisConnection(connection) })
  }
  const leaseMs = upstreamDeadlineMs + LEASE_MARGIN_MS
  const stores = createConcurrencyStores({ redis: redis ?? undefined, idempotency: { leaseMs }, lockLeaseMs: leaseMs, now })
  fastify.decorate('redis', redis)
  fastify.decorate('idempotencyStore', stores.idempotency)
  fastify.decorate('videoLock', stores.lock)
}

export default fp(sharedStatePlugin, { name: 'shared-state', fastify: '5.x' })
