import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { AuditStore } from '../audit/audit-store.ts'
import { openAuditStore } from '../audit/open-audit-store.ts'

declare module 'fastify' {
  interface FastifyInstance {
    auditStore: AuditStore
  }
}

/** Opens the audit store named by AUDIT_STORE_URL and closes it with the app. */
async function auditStorePlugin (fastify: FastifyInstance, { url }: { url: string }): Promise<void> {
  const store = await openAuditStore(url)
  fastify.decorate('auditStore', store)
  fastify.addHook('onClose', async () => { await store.close() })
}

export default fp(auditStorePlugin, { name: 'audit-store', fastify: '5.x' })
