import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createCutAuditRecorder } from '../routes/cut/cut-audit.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The cut route's audit writes; also used for cut requests refused before routing (an undecodable URL). */
    cutAuditRecorder: ReturnType<typeof createCutAuditRecorder>
  }
}

async function cutAuditPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('cutAuditRecorder', createCutAuditRecorder({ auditStore: fastify.auditStore, metrics: fastify.metrics, tracer: fastify.tracer }))
}

export default fp(cutAuditPlugin, { name: 'cut-audit', fastify: '5.x', dependencies: ['audit-store', 'metrics', 'tracing'] })
