import type { FastifyBaseLogger } from 'fastify'
import { isConcurrencyStoreUnavailableError } from '../../concurrency/errors.ts'
import { requestFingerprint } from '../../concurrency/fingerprint.ts'
import type { IdempotencyStore, StoredResponse } from '../../concurrency/idempotency.ts'
import { videoLockKey, type InFlightLock, type LockLease } from '../../concurrency/lock.ts'
import { ProblemError } from '../../problems/problem-error.ts'
import { PROBLEM_TYPES, type ProblemCode } from '../../problems/problem-types.ts'
import { cutPath } from './cut-path.ts'
import type { CutState } from './cut-state.ts'

/** Redis (or a full memory table) failing is a 503: never a silently unguarded cut. */
async function failClosed<T> (operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    if (!isConcurrencyStoreUnavailableError(error)) throw error
    throw new ProblemError('dependency_unavailable', 'The shared state that prevents double cuts is unreachable; nothing was done.', { retryAfterSeconds: 2 })
  }
}

/** One cut request, as its Idempotency-Key is bound to it. */
export interface KeyedCut {
  subject: string
  key: string
  projectId: string
  videoId: string
  body: unknown
}

/** The guards against a double cut, built once from the stores they hold keys and locks in. */
export function createCutGuards ({ idempotencyStore, videoLock }: { idempotencyStore: IdempotencyStore, videoLock: InFlightLock }) {
  /**
   * Claims the Idempotency-Key for this subject (the claim is kept in `state`). Returns the stored
   * response when it is a replay; throws 422 for the same key with another request, 409 while the
   * first is in flight.
   */
  async function claimIdempotencyKey (state: CutState, cut: KeyedCut): Promise<StoredResponse | null> {
    const fingerprint = requestFingerprint({ method: 'POST', path: cutPath(cut.projectId, cut.videoId), body: cut.body })
    const begun = await failClosed(async () => await idempotencyStore.begin({ subject: cut.subject, key: cut.key }, fingerprint))
    switch (begun.state) {
      case 'replay':
        return begun.response
      case 'mismatch':
        throw new ProblemError('idempotency_key_reused', 'This Idempotency-Key was used with another path or body; use a new key for a new request.')
      case 'in_flight':
        throw new ProblemError('idempotency_in_flight', 'The first request with this Idempotency-Key is still in flight; retry after it finished.', { retryAfterSeconds: 1 })
      case 'started':
        state.idempotencyClaim = begun.claim
        return null
    }
  }

  /** Stores the final answer for replay, or releases the key when nothing was attempted (the problem table says which). */
  async function settleIdempotencyKey (state: CutState, log: FastifyBaseLogger, answer: StoredResponse, problem: ProblemCode | null): Promise<void> {
    const claim = state.idempotencyClaim
    if (claim === null) return
    state.idempotencyClaim = null
    try {
      if (problem === null || PROBLEM_TYPES[problem].replayed) {
        await idempotencyStore.complete(claim, answer)
      } else {
        await idempotencyStore.abandon(claim)
      }
    } catch (error) {
      // The in-flight marker then expires with its lease; until then a retry is told 409.
      log.error({ err: error }, 'idempotency: the key could not be settled')
    }
  }

  /** Holds the one-cut-per-video lock; throws 409 while another cut of the video is in flight. */
  async function lockVideo (projectId: string, videoId: string): Promise<LockLease> {
    const lease = await failClosed(async () => await videoLock.acquire(videoLockKey(projectId, videoId)))
    if (lease === null) throw new ProblemError('conflict', 'Another cut of this live video is in flight; wait for it to finish.', { retryAfterSeconds: 1 })
    return lease
  }

  async function unlockVideo (lease: LockLease, log: FastifyBaseLogger): Promise<void> {
    try {
      await videoLock.release(lease)
    } catch (error) {
      log.error({ err: error }, 'lock: release failed; the lease will expire')
    }
  }

  return { claimIdempotencyKey, settleIdempotencyKey, lockVideo, unlockVideo }
}

export type CutGuards = ReturnType<typeof createCutGuards>
