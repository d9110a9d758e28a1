import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config/load-config.ts'
import type { ChainedAuditStore } from '../audit/audit-chain.ts'
import { createCheckpointSigner, type CheckpointSigner } from '../audit/audit-checkpoint.ts'
import { type CheckpointClock, CheckpointSchedule } from '../audit/checkpoint-schedule.ts'
import { openAuditStore } from '../audit/open-audit-store.ts'
import { sharedVerification } from '../audit/verification/shared-verification.ts'

declare module 'fastify' {
  interface FastifyInstance {
    auditStore: ChainedAuditStore
    auditCheckpoints: { signer: CheckpointSigner, schedule: CheckpointSchedule }
    /** Verifies the whole trail off the event loop; calls made while one runs share its answer. */
    verifyAuditTrail: ReturnType<typeof sharedVerification>
  }
}

export interface AuditStorePluginOptions {
  url: string
  checkpoints: Config['auditCheckpoints']
  /** The checkpoint schedule's clock and timer (tests fire it by hand). */
  clock?: CheckpointClock
}

/**
 * Opens the audit store named by AUDIT_STORE_URL, signs its checkpoints on schedule, and
 * closes it with the app: the last checkpoint is signed first, once in-flight requests are done.
 */
async function auditStorePlugin (fastify: FastifyInstance, { url, checkpoints, clock }: AuditStorePluginOptions): Promise<void> {
  const store = await openAuditStore(url)
  const signer = createCheckpointSigner(checkpoints.signingKey)
  const schedule = new CheckpointSchedule({
    store,
    signer,
    records: checkpoints.records,
    intervalMs: checkpoints.intervalMs,
    clock,
    onCheckpoint: (checkpoint) => { fastify.log.info({ checkpoint }, 'audit checkpoint') },
    onError: (err) => { fastify.log.warn({ err }, 'audit checkpoint not signed: will retry') }
  })
  fastify.decorate('auditStore', store)
  fastify.decorate('auditCheckpoints', { signer, schedule })
  fastify.decorate('verifyAuditTrail', sharedVerification(store, url, signer))
  fastify.addHook('onClose', async () => {
    await schedule.close()
    await store.close()
  })
}

export default fp(auditStorePlugin, { name: 'audit-store', fastify: '5.x' })
