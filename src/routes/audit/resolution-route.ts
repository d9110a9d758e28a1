import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ProblemError } from '../../problems/problem-error.ts'
import { AuditResolutionBodySchema } from '../../schemas/audit.ts'
import { problemResponses } from '../../schemas/common.ts'

export const RESOLVE_SCOPE = 'audit:resolve'

/** The store's refusals, as the problems a resolver gets. */
function problemOf (error: unknown): unknown {
  switch ((error as { code?: unknown }).code) {
    case 'AUDIT_ENTRY_NOT_FOUND': return new ProblemError('not_found', 'No audit entry with this id in your projects.')
    case 'AUDIT_ENTRY_RESOLVED': return new ProblemError('already_resolved', 'This entry already has a resolution; it cannot be changed.')
    case 'AUDIT_OUTCOME_KNOWN': return new ProblemError('outcome_known', 'This entry\'s outcome is not unknown: there is nothing to resolve.')
    // What the schema cannot see: text the trail cannot hold (a lone surrogate).
    case 'AUDIT_INVALID_ENTRY': return new ProblemError('validation', (error as Error).message)
    default: return error
  }
}

/**
 * An auditor who checked the platform records what became of a cut whose outcome the trail
 * could not know: scope audit:resolve, only in the caller's projects. Its own encapsulated
 * context, so the review routes' audit:read does not apply here.
 */
const resolutionRoute: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addHook('onRequest', fastify.requireAccess(RESOLVE_SCOPE))

  fastify.post('/v1/audit/events/:id/resolution', {
    schema: {
      operationId: 'resolveAuditEvent',
      summary: 'Resolve an entry whose outcome is unknown (appends a chained record; the entry itself is unchanged)',
      tags: ['audit'],
      security: [{ bearerAuth: [RESOLVE_SCOPE] }],
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
      body: AuditResolutionBodySchema,
      response: {
        201: { description: 'The entry, read back with its resolution', content: { 'application/json': { schema: Type.Ref('AuditEntry') } } },
        ...problemResponses(400, 401, 403, 404, 409, 415, 422, 429)
      }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const { outcome, note, videoPublicId } = request.body
    const by = typeof request.user.sub === 'string' ? request.user.sub : null
    try {
      const entry = await fastify.auditStore.resolve(id, { outcome, note, videoPublicId: videoPublicId ?? null, by, time: new Date().toISOString() }, fastify.callerProjects(request))
      return await reply.code(201).header('location', `/v1/audit/events/${encodeURIComponent(id)}`).send(entry)
    } catch (error) {
      throw problemOf(error)
    }
  })
}

export default resolutionRoute
