import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { UpstreamConfig } from '../config/load-config.ts'
import { createStopAndCutClient, type StopAndCutClientDeps } from '../upstream/stop-and-cut-client.ts'

declare module 'fastify' {
  interface FastifyInstance {
    stopAndCutClient: ReturnType<typeof createStopAndCutClient>
  }
}

/** The platform client: one keep-alive pool for the app's life. */
async function stopAndCutClientPlugin (fastify: FastifyInstance, { config, deps }: { config: UpstreamConfig, deps?: StopAndCutClientDeps }): Promise<void> {
  const client = createStopAndCutClient(config, deps)
  fastify.decorate('stopAndCutClient', client)
  fastify.addHook('onClose', async () => { await client.close() })
}

export default fp(stopAndCutClientPlugin, { name: 'stop-and-cut-client', fastify: '5.x' })
