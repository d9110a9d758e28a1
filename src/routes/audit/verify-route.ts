import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ProblemError } from '../../problems/problem-error.ts'
import { AuditVerifyQuerySchema, AuditVerifySchema } from '../../schemas/audit.ts'
import { problemResponses } from '../../schemas/common.ts'
import { AUDIT_SCOPE } from './audit-routes.ts'

/**
 * `GET /v1/audit/verify` (scope audit:read): the chain checked off the request path, in full
 * or, with `mode=incremental`, from the newest checkpoint this instance verified before.
 */
const verifyRoute: FastifyPluginAsyncTypebox = async (fastify) => {
  const { auditStore } = fastify
  fastify.addHook('onRequest', fastify.requireAccess(AUDIT_SCOPE))

  fastify.get('/v1/audit/verify', {
    schema: {
      operationId: 'verifyAuditTrail',
      summary: 'Verify the hash chain of the whole trail and every stored checkpoint (or, incrementally, what follows the last one verified)',
      description: 'Runs off the request path (a background worker on its own snapshot); calls made while a verification runs share its answer ' +
        '(an incremental call shares a full run under way). An incremental run reads only the records from the newest checkpoint this instance ' +
        'verified since it started, which must still have its hash; changes before it are not seen, so run a full verification regularly.',
      tags: ['audit'],
      security: [{ bearerAuth: [AUDIT_SCOPE] }],
      querystring: AuditVerifyQuerySchema,
      response: { 200: AuditVerifySchema, ...problemResponses(400, 401, 403, 429, 503) }
    }
  }, async (request) => {
    let result
    try {
      result = await fastify.verifyAuditTrail(request.query.mode)
    } catch (err) {
      request.log.error({ err }, 'audit verification could not run')
      throw new ProblemError('audit_unavailable', 'The audit trail could not be read to verify it; nothing is known about the chain. Try again shortly.', { retryAfterSeconds: 5 })
    }
    if (result.ok || result.firstBad.entryId === null) return result
    // The chain spans every project; name the bad entry only to a caller who may see it.
    const visible = await auditStore.getEntry(result.firstBad.entryId, fastify.callerProjects(request))
    return visible === null ? { ...result, firstBad: { ...result.firstBad, entryId: null } } : result
  })
}

export default verifyRoute
