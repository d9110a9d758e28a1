import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isConcurrencyStoreUnavailableError } from '../../concurrency/errors.ts'
import { requestFingerprint } from '../../concurrency/fingerprint.ts'
import { pickReplayableHeaders, type IdempotencyClaim, type StoredResponse } from '../../concurrency/idempotency.ts'
import { videoLockKey, type LockLease } from '../../concurrency/lock.ts'
import { ProblemError } from '../../problems/problem-error.ts'
import type { ProblemCode } from '../../problems/problem-types.ts'

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyClaim: IdempotencyClaim | null
  }
}

/**
 * Answers whose replay is right for a retried key: the platform was called and answered (or
 * may have cut: 504). Anything else means nothing was attempted, so the key is released and a
 * retry with it tries again.
 */
const REPLAYED_PROBLEMS: ReadonlySet<ProblemCode> = new Set(['upstream_not_found', 'upstream_rejected', 'upstream_error', 'upstream_timeout'])

/** Redis (or a full memory table) failing is a 503: never a silently unguarded cut. */
async function failClosed<T> (operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    if (!isConcurrencyStoreUnavailableError(error)) throw error
    throw new ProblemError('dependency_unavailable', 'The shared state that prevents double cuts is unreachable; nothing was done.', { retryAfterSeconds: 2 })
  }
}

/**
 * Claims the Idempotency-Key for this subject. Returns the stored response when it is a
 * replay; throws 422 for the same key with another request, 409 while the first is in flight.
 */
export async function claimIdempotencyKey (fastify: FastifyInstance, request: FastifyRequest, key: string): Promise<StoredResponse | null> {
  const { projectId, videoId } = request.params as { projectId: string, videoId: string }
  const fingerprint = requestFingerprint({ method: 'POST', path: `/v1/projects/${projectId}/live-videos/${videoId}/cut`, body: request.body })
  const scope = { subject: String(request.user.sub), key }
  const begun = await failClosed(async () => await fastify.idempotencyStore.begin(scope, fingerprint))
  switch (begun.state) {
    case 'replay':
      return begun.response
    case 'mismatch':
      throw new ProblemError('idempotency_key_reused', 'This Idempotency-Key was used with another path or body; use a new key for a new request.')
    case 'in_flight':
      throw new ProblemError('idempotency_in_flight', 'The first request with this Idempotency-Key is still in flight; retry after it finished.', { retryAfterSeconds: 1 })
    case 'started':
      request.idempotencyClaim = begun.claim
      return null
  }
}

/** Stores the final answer for replay, or releases the key when nothing was attempted. */
export async function settleIdempotencyKey (fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply, body: unknown, problem: ProblemCode | null): Promise<void> {
  const claim = request.idempotencyClaim
  if (claim === null) return
  request.idempotencyClaim = null
  try {
    if (problem === null || REPLAYED_PROBLEMS.has(problem)) {
      await fastify.idempotencyStore.complete(claim, { status: reply.statusCode, headers: pickReplayableHeaders(reply.getHeaders()), body })
    } else {
      await fastify.idempotencyStore.abandon(claim)
    }
  } catch (error) {
    // The in-flight marker then expires with its lease; until then a retry is told 409.
    request.log.error({ err: error }, 'idempotency: the key could not be settled')
  }
}

/** Holds the one-cut-per-video lock; throws 409 while another cut of the video is in flight. */
export async function lockVideo (fastify: FastifyInstance, projectId: string, videoId: string): Promise<LockLease> {
  const lease = await failClosed(async () => await fastify.videoLock.acquire(videoLockKey(projectId, videoId)))
  if (lease === null) throw new ProblemError('conflict', 'Another cut of this live video is in flight; wait for it to finish.', { retryAfterSeconds: 1 })
  return lease
}

export async function unlockVideo (fastify: FastifyInstance, request: FastifyRequest, lease: LockLease): Promise<void> {
  try {
    await fastify.videoLock.release(lease)
  } catch (error) {
    request.log.error({ err: error }, 'lock: release failed; the lease will expire')
  }
}
