import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'

const StatusSchema = Type.Object({ status: Type.String() })
const NotReadySchema = Type.Object({ status: Type.String(), reason: Type.String() })

/** Probes for the orchestrator: no token, no rate limit, no audit, nothing about the configuration. */
const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { auditStore, redis, redisGuard } = fastify

  fastify.get('/healthz', {
    config: { skipRateLimit: true },
    schema: { operationId: 'liveness', security: [], summary: 'Liveness', tags: ['operations'], response: { 200: StatusSchema } }
  }, async () => ({ status: 'ok' }))

  fastify.get('/readyz', {
    config: { skipRateLimit: true },
    schema: {
      operationId: 'readiness',
      security: [],
      summary: 'Readiness: the audit store takes writes and Redis (when configured) answers',
      tags: ['operations'],
      response: { 200: StatusSchema, 503: NotReadySchema }
    }
  }, async (request, reply) => {
    try {
      await auditStore.checkWritable()
    } catch (error) {
      request.log.warn({ err: error }, 'readiness: the audit store is not writable')
      return await reply.code(503).send({ status: 'unavailable', reason: 'audit store not writable' })
    }
    if (redis !== null) {
      try {
        await redis.ping()
      } catch (error) {
        request.log.warn({ err: error }, 'readiness: redis does not answer')
        return await reply.code(503).send({ status: 'unavailable', reason: 'redis unreachable' })
      }
    }
    if ((redisGuard?.quarantineLeftMs() ?? 0) > 0) {
      return await reply.code(503).send({ status: 'unavailable', reason: 'redis restarted or lost data: cuts refused until the leases of locks it may have lost end' })
    }
    return { status: 'ready' }
  })
}

export default healthRoutes
