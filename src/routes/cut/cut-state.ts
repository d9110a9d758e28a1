import { randomUUIDv7 } from 'node:crypto'
import type { AuditedCut } from '../../audit/audit-entry.ts'
import type { IdempotencyClaim } from '../../concurrency/idempotency.ts'
import type { StopAndCutOutcome } from '../../upstream/stop-and-cut.ts'

/** What the cut route learns about one request on its way: enough to write its one audit entry and settle its key. */
export interface CutState {
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
  /** The Idempotency-Key this request holds until its answer is settled. */
  idempotencyClaim: IdempotencyClaim | null
}

export function newCutState (): CutState {
  return {
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
    finalRecorded: false,
    idempotencyClaim: null
  }
}
