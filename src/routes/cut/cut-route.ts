import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError } from 'fastify'
import type { Config } from '../../config/load-config.ts'
import { ProblemError } from '../../problems/problem-error.ts'
import { PROBLEM_TYPES } from '../../problems/problem-types.ts'
import { sendProblem } from '../../problems/send-problem.ts'
import { toProblem } from '../../problems/to-problem.ts'
import { problemResponses } from '../../schemas/common.ts'
import { CutHeadersSchema, CutParamsSchema, CutResponseSchema, cutBodySchema } from '../../schemas/cut.ts'
import { recordFinal, recordIntent, startCutAudit } from './cut-audit.ts'
import { normaliseCut } from './normalise-cut.ts'
import { problemForUpstream } from './upstream-problem.ts'

export const CUT_BODY_LIMIT = 4096
export const CUT_SCOPE = 'live:cut'

/**
 * POST /v1/projects/:projectId/live-videos/:videoId/cut
 * request → authenticate → validate → audit the intent → call the platform → audit the result → reply.
 * Every way out, the error handler included, leaves exactly one audit entry.
 */
const cutRoute: FastifyPluginAsyncTypebox<{ config: Config }> = async (fastify, { config }) => {
  const { auditStore, stopAndCutClient } = fastify
  fastify.decorateRequest('cutAudit', null)

  // Scoped to this plugin: rejections of the cut route are audited, other routes' are not.
  fastify.setErrorHandler(async (error: FastifyError, request, reply) => {
    let problem = toProblem(error)
    if (problem.code === 'internal') request.log.error({ err: error }, 'cut: unexpected error')
    const state = startCutAudit(request)
    reply.code(problem.statusCode)
    const recorded = await recordFinal(auditStore, request, reply, PROBLEM_TYPES[problem.code].outcome, problem.code)
    if (!recorded && !state.intentRecorded) {
      // No entry at all would exist: answer as the store's failure, not as if all were well.
      problem = new ProblemError('audit_unavailable', 'The audit trail cannot record requests right now; nothing was done.', { retryAfterSeconds: 5 })
    }
    return sendProblem(reply, request, problem)
  })

  fastify.post('/v1/projects/:projectId/live-videos/:videoId/cut', {
    bodyLimit: CUT_BODY_LIMIT,
    schema: {
      operationId: 'stopAndCutLiveVideo',
      summary: 'Stop a live video and cut it (or a range of it) into a VOD',
      description: 'Cannot be undone. Send an Idempotency-Key to make client retries safe.',
      tags: ['cut'],
      security: [{ bearerAuth: [CUT_SCOPE] }],
      params: CutParamsSchema,
      headers: CutHeadersSchema,
      body: cutBodySchema(Object.keys(config.visibility.options)),
      response: {
        200: CutResponseSchema,
        ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503, 504)
      }
    },
    onRequest: [
      async (request) => { startCutAudit(request) },
      fastify.requireAccess(CUT_SCOPE, { projectParam: 'projectId' })
    ],
    // An absent body means {}: the whole stream.
    preValidation: async (request) => { if (request.body === undefined) request.body = {} }
  }, async (request, reply) => {
    const state = startCutAudit(request)
    state.idempotencyKey = request.headers['idempotency-key'] ?? null
    const { cut, visibility, upstreamBody } = normaliseCut(request.body, Date.now(), config.visibility)
    state.cut = cut
    state.visibility = visibility

    try {
      await recordIntent(auditStore, request, state)
    } catch (error) {
      request.log.error({ err: error }, 'audit: the intent could not be written; the platform is not called')
      throw new ProblemError('audit_unavailable', 'The audit trail cannot record requests right now, so the platform was not called.', { retryAfterSeconds: 5 })
    }

    const { projectId, videoId } = request.params
    const { result, ...upstream } = await stopAndCutClient.stopAndCut({ projectId, videoId, requestId: request.id, body: upstreamBody })
    state.upstream = upstream
    reply.header('x-upstream-attempts', String(upstream.attempts))
    if (result.type !== 'succeeded') throw problemForUpstream(result)

    state.videoPublicId = result.videoPublicId
    reply.code(200)
    await recordFinal(auditStore, request, reply, 'succeeded', null)
    return { videoPublicId: result.videoPublicId, requestId: request.id, auditId: state.entryId }
  })
}

export default cutRoute
