import fp from 'fastify-plugin'
import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config/load-config.ts'
import { ProblemError } from '../problems/problem-error.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** A hook for the cut route, after authentication: RATE_LIMIT_CUT_* per token subject. */
    limitCutsPerSubject: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  interface FastifyContextConfig {
    /** Probes and metrics are never throttled. */
    skipRateLimit?: boolean
  }
}

type Limit = Awaited<ReturnType<ReturnType<FastifyInstance['createRateLimit']>>>

function enforce (limit: Limit, reply: FastifyReply, name: 'address' | 'subject', detail: string): void {
  if (limit.isAllowed) return
  reply.header('x-ratelimit-limit', limit.max)
  reply.header('x-ratelimit-remaining', limit.remaining)
  reply.header('x-ratelimit-reset', limit.ttlInSeconds)
  if (!limit.isExceeded) return
  reply.server.metrics.rateLimited.inc({ limit: name })
  throw new ProblemError('rate_limited', detail, { retryAfterSeconds: limit.ttlInSeconds })
}

/**
 * Two limits: every request per client address (RATE_LIMIT_IP_*, before anything else, so
 * token guessing is throttled too), and cut requests per token subject (RATE_LIMIT_CUT_*).
 * Counted in Redis when REDIS_URL is set; they fail open when Redis is unreachable — the
 * idempotency keys and video locks, which fail closed, are what prevents double cuts.
 */
async function rateLimitPlugin (fastify: FastifyInstance, limits: Config['rateLimit']): Promise<void> {
  await fastify.register(fastifyRateLimit, {
    global: false,
    skipOnError: true,
    ...(fastify.redis !== null && { redis: fastify.redis, nameSpace: 'livecut:rate:' })
  })
  const perAddress = fastify.createRateLimit({
    max: limits.ipMax,
    timeWindow: limits.ipWindow,
    keyGenerator: (request) => `ip:${request.ip}`
  })
  const perSubject = fastify.createRateLimit({
    max: limits.cutMax,
    timeWindow: limits.cutWindow,
    keyGenerator: (request) => `sub:${String(request.user?.sub)}`
  })

  // A root hook, so it runs before any route's own hooks (authentication included).
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.skipRateLimit === true) return
    enforce(await perAddress(request), reply, 'address', 'Too many requests from this address; wait for Retry-After.')
  })
  fastify.decorate('limitCutsPerSubject', async (request: FastifyRequest, reply: FastifyReply) => {
    enforce(await perSubject(request), reply, 'subject', 'Too many cut requests for this caller; wait for Retry-After.')
  })
}

export default fp(rateLimitPlugin, { name: 'rate-limit', fastify: '5.x', dependencies: ['shared-state', 'auth', 'metrics'] })
