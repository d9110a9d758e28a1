import type { FastifyRequest } from 'fastify'
import type { AuditEntry, AuditOutcome } from '../../audit/audit-entry.ts'
import type { AuditStore } from '../../audit/audit-store.ts'
import { timedAuditWrite, type Metrics } from '../../metrics/metrics.ts'
import type { ProblemError } from '../../problems/problem-error.ts'
import { PROBLEM_TYPES } from '../../problems/problem-types.ts'
import { clientIdOf } from '../../auth/token-claims.ts'
import type { CutState } from './cut-state.ts'
import { traceAuditWrite } from '../../tracing/audit-write-span.ts'
import type { Tracer } from '@opentelemetry/api'

// Client-supplied strings are stored bounded, so a caller cannot bloat the trail.
const MAX_USER_AGENT = 512
const MAX_PATH_ID = 128
const bounded = (value: string | undefined, max: number): string | null => value === undefined ? null : value.slice(0, max)

/** How a cut request ended, as its final audit record says. */
export interface CutEnding {
  outcome: AuditOutcome
  /** The HTTP status the client gets. */
  status: number
  /** The problem code, or null for a success. */
  reason: string | null
}

function entryOf (request: FastifyRequest, state: CutState, outcome: AuditOutcome, status: number | null, reason: string | null): AuditEntry {
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

/** The cut route's audit writes, built once from the store they append to. */
export function createCutAuditRecorder ({ auditStore, metrics, tracer }: { auditStore: Pick<AuditStore, 'append'>, metrics: Metrics, tracer: Tracer }) {
  /** Records the intent before the platform is called; if this throws, the platform must not be called. */
  async function recordIntent (request: FastifyRequest, state: CutState): Promise<void> {
    const entry = entryOf(request, state, 'unknown', null, null)
    await traceAuditWrite(tracer, request, 'intent', entry, () => timedAuditWrite(metrics, 'intent', async () => { await auditStore.append(entry, false) }))
    state.intentRecorded = true
  }

  /**
   * Records how the request ended, once. Returns false (and logs) when the store failed: an
   * entry whose intent was recorded then reads `unknown`, which is what the trail can vouch for.
   */
  async function recordFinal (request: FastifyRequest, state: CutState, ending: CutEnding): Promise<boolean> {
    if (state.finalRecorded) return true
    const entry = entryOf(request, state, ending.outcome, ending.status, ending.reason)
    try {
      await traceAuditWrite(tracer, request, 'result', entry, () => timedAuditWrite(metrics, 'final', async () => { await auditStore.append(entry, true) }))
      state.finalRecorded = true
      return true
    } catch (error) {
      request.log.error({ err: error, auditId: state.entryId }, 'audit: the final record could not be written')
      return false
    }
  }

  /** The final record of a request that ends with `problem`. */
  async function recordRejection (request: FastifyRequest, state: CutState, problem: ProblemError): Promise<boolean> {
    return await recordFinal(request, state, { outcome: PROBLEM_TYPES[problem.code].outcome, status: problem.statusCode, reason: problem.code })
  }

  return { recordIntent, recordFinal, recordRejection }
}

export type CutAuditRecorder = ReturnType<typeof createCutAuditRecorder>
