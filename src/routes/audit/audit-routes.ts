import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { EXPORT_CONTENT_TYPES, EXPORT_DISPOSITIONS, exportChunks, type ExportFormat } from '../../audit/audit-export-format.ts'
import type { AuditFilter } from '../../audit/audit-store.ts'
import { ProblemError } from '../../problems/problem-error.ts'
import {
  AuditCheckpointPageSchema, AuditCheckpointsQuerySchema, AuditEventsQuerySchema, AuditPageSchema, AuditPublicKeySchema,
  DEFAULT_AUDIT_PAGE, type AuditEventsQuery
} from '../../schemas/audit.ts'
import { problemResponses } from '../../schemas/common.ts'

export const AUDIT_SCOPE = 'audit:read'

/** The export a client asked for with Accept, if any; JSON pages otherwise. */
function exportFormatOf (accept: string | undefined): ExportFormat | null {
  if (accept === undefined) return null
  if (accept.includes('application/x-ndjson')) return 'ndjson'
  if (accept.includes('text/csv')) return 'csv'
  return null
}

/**
 * The review API for auditors: scope audit:read, and only the projects of the caller's
 * projects claim — an auditor of project A never sees project B.
 */
const auditRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { auditStore } = fastify
  fastify.addHook('onRequest', fastify.requireAccess(AUDIT_SCOPE))
  const security = [{ bearerAuth: [AUDIT_SCOPE] }]

  const filterOf = (query: AuditEventsQuery, projectIds: AuditFilter['projectIds']): AuditFilter => {
    if (query.projectId !== undefined && projectIds !== '*' && !projectIds.includes(query.projectId)) {
      throw new ProblemError('forbidden', 'The token does not grant access to this project.')
    }
    const { limit: _limit, cursor: _cursor, ...filters } = query
    return { ...filters, projectIds }
  }

  fastify.get('/v1/audit/events', {
    schema: {
      operationId: 'listAuditEvents',
      summary: 'Audit entries, newest first; Accept: application/x-ndjson or text/csv streams every match',
      tags: ['audit'],
      security,
      querystring: AuditEventsQuerySchema,
      response: {
        200: {
          description: 'A page of entries (JSON), or every match (NDJSON, CSV)',
          content: {
            'application/json': { schema: AuditPageSchema },
            'application/x-ndjson': { schema: Type.String({ description: 'one AuditEntry per line' }) },
            'text/csv': { schema: Type.String({ description: 'a header line, then one row per entry' }) }
          }
        },
        ...problemResponses(400, 401, 403, 429)
      }
    }
  }, async (request, reply) => {
    const filter = filterOf(request.query, fastify.callerProjects(request))
    const format = exportFormatOf(request.headers.accept)
    if (format !== null) {
      // Streamed from keyset pages: every match, without holding them all in memory.
      // (The type provider knows only the schemas' body types, not streams.)
      const stream = Readable.from(exportChunks(auditStore.streamEntries(filter), format))
      return await reply.type(EXPORT_CONTENT_TYPES[format]).header('content-disposition', EXPORT_DISPOSITIONS[format]).send(stream as unknown as string)
    }
    return await auditStore.listEntries(filter, request.query.limit ?? DEFAULT_AUDIT_PAGE, request.query.cursor ?? null)
  })

  fastify.get('/v1/audit/events/:id', {
    schema: {
      operationId: 'getAuditEvent',
      summary: 'One audit entry',
      tags: ['audit'],
      security,
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
      response: { 200: Type.Ref('AuditEntry'), ...problemResponses(401, 403, 404, 429) }
    }
  }, async (request) => {
    const entry = await auditStore.getEntry(request.params.id, fastify.callerProjects(request))
    if (entry === null) throw new ProblemError('not_found', 'No audit entry with this id in your projects.')
    return entry
  })

  fastify.get('/v1/audit/checkpoints', {
    schema: {
      operationId: 'listAuditCheckpoints',
      summary: 'Signed checkpoints of the chain\'s head, newest first',
      tags: ['audit'],
      security,
      querystring: AuditCheckpointsQuerySchema,
      response: { 200: AuditCheckpointPageSchema, ...problemResponses(400, 401, 403, 429) }
    }
  }, async (request) => await auditStore.listCheckpoints(request.query.limit ?? DEFAULT_AUDIT_PAGE, request.query.cursor ?? null))

  fastify.get('/v1/audit/public-key', {
    schema: {
      operationId: 'getAuditPublicKey',
      summary: 'The public key that verifies this service\'s checkpoints (JWK)',
      tags: ['audit'],
      security,
      response: { 200: AuditPublicKeySchema, ...problemResponses(401, 403, 429) }
    }
  }, async () => fastify.auditCheckpoints.signer.publicJwk)
}

export default auditRoutes
