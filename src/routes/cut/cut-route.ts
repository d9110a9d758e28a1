import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyError } from 'fastify'
import type { Config } from '../../config/load-config.ts'
import { ProblemError } from '../../problems/problem-error.ts'
import { prepareProblemReply, problemBody } from '../../problems/send-problem.ts'
import { toProblem } from '../../problems/to-problem.ts'
import { observeUpstream } from '../../metrics/metrics.ts'
import { problemResponses } from '../../schemas/common.ts'
import { CutHeadersSchema, CutParamsSchema, CutResponseSchema, cutBodySchema } from '../../schemas/cut.ts'
import { pickReplayableHeaders } from '../../concurrency/idempotency.ts'
import { createCutGuards } from './cut-guards.ts'
import { CUT_ROUTE } from './cut-path.ts'
import { newCutState, type CutState } from './cut-state.ts'
import { normaliseCut } from './normalise-cut.ts'
import { problemForUpstream } from './upstream-problem.ts'
import { withRequestTrace } from '../../tracing/request-trace.ts'

export const CUT_BODY_LIMIT = 4096
export const CUT_SCOPE = 'live:cut'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the cut route's first hook; null before it (and on every other route). */
    cutState: CutState | null
  }
}

/**
 * POST CUT_ROUTE (/v1/projects/:projectId/live-videos/:videoId/cut)
 * authenticate → limit → validate → claim the Idempotency-Key → lock the video → audit the
 * intent → call the platform → audit the result → reply. Every way out, the error handler
 * included, leaves exactly one audit entry.
 */
const cutRoute: FastifyPluginAsyncTypebox<{ visibility: Config['visibility'] }> = async (fastify, options) => {
  const { stopAndCutClient, cutAuditRecorder: audit } = fastify
  const guards = createCutGuards({ idempotencyStore: fastify.idempotencyStore, videoLock: fastify.videoLock })
  fastify.decorateRequest('cutState', null)

  // Scoped to this plugin: rejections of the cut route are audited, other routes' are not.
  fastify.setErrorHandler(async (error: FastifyError, request, reply) => {
    // Root hooks (the per-address rate limit) run before the route's own: a request they refuse has no state yet.
    const state = request.cutState ?? newCutState()
    let problem = toProblem(error)
    if (problem.code === 'internal') request.log.error({ err: error }, 'cut: unexpected error')
    const recorded = await audit.recordRejection(request, state, problem)
    if (!recorded && !state.intentRecorded) {
      // No entry at all would exist: answer as the store's failure, not as if all were well.
      problem = new ProblemError('audit_unavailable', 'The audit trail cannot record requests right now; nothing was done.', { retryAfterSeconds: 5 })
    }
    prepareProblemReply(reply, problem)
    // Stored with the status and headers the client gets, so that a replay is the same answer.
    const body = problemBody(problem, request.id)
    await guards.settleIdempotencyKey(state, request.log, { status: problem.statusCode, headers: pickReplayableHeaders(reply.getHeaders()), body }, problem.code)
    return await reply.send(body as never)
  })

  fastify.post(CUT_ROUTE, {
    bodyLimit: CUT_BODY_LIMIT,
    schema: {
      operationId: 'stopAndCutLiveVideo',
      summary: 'Stop a live video and cut it (or a range of it) into a VOD',
      description: 'Cannot be undone. Send an Idempotency-Key to make client retries safe: the same key, subject, path and body within 24 h replay the first answer with Idempotent-Replayed: true.',
      tags: ['cut'],
      security: [{ bearerAuth: [CUT_SCOPE] }],
      params: CutParamsSchema,
      headers: CutHeadersSchema,
      body: cutBodySchema(Object.keys(options.visibility.options)),
      response: {
        200: CutResponseSchema,
        ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503, 504)
      }
    },
    onRequest: [
      async (request) => { request.cutState = newCutState() },
      fastify.requireAccess(CUT_SCOPE, { projectParam: 'projectId' }),
      fastify.limitCutsPerSubject
    ],
    // An absent body means {}: the whole stream.
    preValidation: async (request) => { if (request.body === undefined) request.body = {} }
  }, async (request, reply) => {
    // The first onRequest hook set it.
    const state = request.cutState as CutState
    const { projectId, videoId } = request.params
    const idempotencyKey = request.headers['idempotency-key'] ?? null
    state.idempotencyKey = idempotencyKey
    const { cut, visibility, upstreamBody } = normaliseCut(request.body, Date.now(), options.visibility)
    state.cut = cut
    state.visibility = visibility

    if (idempotencyKey !== null) {
      const replay = await guards.claimIdempotencyKey(state, { subject: String(request.user.sub), key: idempotencyKey, projectId, videoId, body: request.body })
      if (replay !== null) {
        state.videoPublicId = (replay.body as { videoPublicId?: string }).videoPublicId ?? null
        // Nothing was done by this request: it is audited as a rejected repeat of the first.
        await audit.recordFinal(request, state, { outcome: 'rejected', status: replay.status, reason: 'idempotent_replay' })
        // The stored answer may be any of the route's statuses; the type provider knows only 200's body.
        reply.code(replay.status as 200).headers(replay.headers).header('idempotent-replayed', 'true')
        return await reply.send(replay.body as never)
      }
    }

    const lease = await guards.lockVideo(projectId, videoId)
    try {
      try {
        await audit.recordIntent(request, state)
      } catch (error) {
        request.log.error({ err: error }, 'audit: the intent could not be written; the platform is not called')
        throw new ProblemError('audit_unavailable', 'The audit trail cannot record requests right now, so the platform was not called.', { retryAfterSeconds: 5 })
      }

      // In the request's trace: each platform attempt is a child span and carries its traceparent.
      const outcome = await withRequestTrace(request, () => stopAndCutClient.stopAndCut({ projectId, videoId, requestId: request.id, body: upstreamBody }))
      observeUpstream(fastify.metrics, outcome)
      const { result, ...upstream } = outcome
      state.upstream = upstream
      // For the request's log line, which the app writes when the response is done.
      request.log = request.log.child({ upstreamAttempts: upstream.attempts })
      reply.header('x-upstream-attempts', String(upstream.attempts))
      if (result.type !== 'succeeded') throw problemForUpstream(result)

      state.videoPublicId = result.videoPublicId
      await audit.recordFinal(request, state, { outcome: 'succeeded', status: 200, reason: null })
      const body = { videoPublicId: result.videoPublicId, requestId: request.id, auditId: state.entryId }
      await guards.settleIdempotencyKey(state, request.log, { status: 200, headers: pickReplayableHeaders(reply.getHeaders()), body }, null)
      return body
    } finally {
      // Released on every way out: success, failure, timeout, a client that went away.
      await guards.unlockVideo(lease, request.log)
    }
  })
}

export default cutRoute
