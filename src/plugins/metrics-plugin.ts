import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { sendNotFound } from '../problems/send-problem.ts'
import { createMetrics, type Metrics } from '../metrics/metrics.ts'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
    /** With METRICS_PORT: the listener that alone serves `/metrics` (the server starts it); else null. */
    metricsServer: FastifyInstance | null
  }
}

async function metricsPlugin (fastify: FastifyInstance, options: { separatePort: boolean }): Promise<void> {
  const metrics = createMetrics()
  fastify.decorate('metrics', metrics)

  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    metrics.httpRequests.inc({ method: request.method, route, status: reply.statusCode })
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000)
  })

  const scrape = async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
    await reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  if (!options.separatePort) {
    fastify.decorate('metricsServer', null)
    fastify.get('/metrics', {
      config: { skipRateLimit: true },
      schema: { operationId: 'metrics', summary: 'Prometheus metrics', tags: ['operations'], security: [], produces: ['text/plain'] }
    }, scrape)
    return
  }
  // Its own listener: nothing else is routed there, and the service's port has no /metrics.
  const server = Fastify({ loggerInstance: fastify.log.child({ listener: 'metrics' }) })
  server.get('/metrics', scrape)
  server.setNotFoundHandler(sendNotFound)
  fastify.decorate('metricsServer', server)
  fastify.addHook('onClose', async () => { await server.close() })
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' })
