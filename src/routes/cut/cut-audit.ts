import { randomUUIDv7 } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AuditedCut, AuditEntry, AuditOutcome } from '../../audit/audit-entry.ts'
import { timedAuditWrite } from '../../plugins/metrics-plugin.ts'
import type { ProblemError } from '../../problems/problem-error.ts'
import { PROBLEM_TYPES } from '../../problems/problem-types.ts'
import { prepareProblemReply } from '../../problems/send-problem.ts'
import { clientIdOf } from '../../auth/token-claims.ts'
import type { StopAndCutOutcome } from '../../upstream/stop-and-cut.ts'
import { traceAuditWrite } from '../../tracing/audit-write-span.ts'

// Client-supplied strings are stored bounded, so a caller cannot bloat the trail.
const MAX_USER_AGENT = 512
const MAX_PATH_ID = 128
const bounded = (value: string | undefined, max: number): string | null => value === undefined ? null : value.slice(0, max)

/** What the cut route learns about one request on its way, to write its one audit entry. */
export interface CutAuditState {
  entryId: string
  time: string
  startedAt: number
  cut: AuditedCut | null
  visibility: string | null
  idempotencyKey: string | null
  upstream: Omit<StopAndCutOutcome, 'result'> | null
  videoPublicId: string | null
  intentRecorded: boolean
  finalRecorded: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    cutAudit: CutAuditState | null
  }
}

export function startCutAudit (request: FastifyRequest): CutAuditState {
  request.cutAudit ??= {
    // Time-ordered (RFC 9562 v7): the trail's unique index on entry ids grows at its end instead
    // of at random pages (the benchmark's "audit store alone" probe compares v7 with v4).
    entryId: randomUUIDv7(),
    time: new Date().toISOString(),
    startedAt: performance.now(),
    cut: null,
    visibility: null,
    idempotencyKey: null,
    upstream: null,
    videoPublicId: null,
    intentRecorded: false,
    finalRecorded: false
  }
  return request.cutAudit
}

function entryOf (request: FastifyRequest, state: CutAuditState, outcome: AuditOutcome, status: number | null, reason: string | null): AuditEntry {
  // Absent when the URL could not even be decoded.
  const params = (request.params ?? {}) as Record<string, string | undefined>
  // Null (or, before routing, absent) until a token verified.
  const claims = (request.user as FastifyRequest['user'] | undefined) ?? null
  const userAgent = request.headers['user-agent']
  return {
    id: state.entryId,
    requestId: request.id,
    time: state.time,
    actor: {
      sub: typeof claims?.sub === 'string' ? claims.sub : null,
      clientId: claims === null ? null : clientIdOf(claims),
      ip: request.ip,
      userAgent: bounded(userAgent, MAX_USER_AGENT)
    },
    action: 'live-video.stop-and-cut',
    projectId: bounded(params.projectId, MAX_PATH_ID),
    videoId: bounded(params.videoId, MAX_PATH_ID),
    request: { cut: state.cut, visibility: state.visibility, idempotencyKey: state.idempotencyKey },
    outcome,
    status,
    reason,
    upstream: state.upstream,
    videoPublicId: state.videoPublicId,
    durationMs: status === null ? null : Math.round(performance.now() - state.startedAt)
  }
}

/** Records the intent before the platform is called; if this throws, the platform must not be called. */
export async function recordIntent (fastify: FastifyInstance, request: FastifyRequest, state: CutAuditState): Promise<void> {
  const entry = entryOf(request, state, 'unknown', null, null)
  await traceAuditWrite(fastify.tracer, request, 'intent', entry, () => timedAuditWrite(fastify.metrics, 'intent', async () => { await fastify.auditStore.append(entry, false) }))
  state.intentRecorded = true
}

/**
 * Records how the request ended, once. Returns false (and logs) when the store failed: an
 * entry whose intent was recorded then reads `unknown`, which is what the trail can vouch for.
 */
export async function recordFinal (fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, outcome: AuditOutcome, reason: string | null): Promise<boolean> {
  const state = startCutAudit(request)
  if (state.finalRecorded) return true
  const entry = entryOf(request, state, outcome, reply.statusCode, reason)
  try {
    await traceAuditWrite(fastify.tracer, request, 'result', entry, () => timedAuditWrite(fastify.metrics, 'final', async () => { await fastify.auditStore.append(entry, true) }))
    state.finalRecorded = true
    return true
  } catch (error) {
    request.log.error({ err: error, auditId: state.entryId }, 'audit: the final record could not be written')
    return false
  }
}

/** One final entry for a request refused before the cut route's own handlers ran. */
export async function recordRejection (fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, problem: ProblemError): Promise<boolean> {
  prepareProblemReply(reply, problem)
  return await recordFinal(fastify, request, reply, PROBLEM_TYPES[problem.code].outcome, problem.code)
}
