import type { AuditEntry, AuditOutcome, AuditResolution } from './audit-entry.ts'

/**
 * Filters of the review API and the CLI. `projectIds` is the caller's projects claim:
 * `'*'` for all projects, otherwise only entries of these projects are visible.
 */
export interface AuditFilter {
  projectIds: readonly string[] | '*'
  projectId?: string
  videoId?: string
  /** Actor subject. */
  actor?: string
  outcome?: AuditOutcome
  /** Entries with (true) or without (false) a resolution. */
  resolved?: boolean
  /** Inclusive lower bound on `time`, ISO 8601. */
  since?: string
  /** Exclusive upper bound on `time`, ISO 8601. */
  until?: string
}

export interface AuditPage {
  items: AuditEntry[]
  /** Opaque; null on the last page. */
  nextCursor: string | null
}

export type VerifyResult =
  | { ok: true, checked: number }
  | { ok: false, checked: number, firstBad: { seq: number, entryId: string | null, problem: string } }

/**
 * Append-only, hash-chained audit trail. An entry is written as one record when its outcome
 * is known at once (`final: true`), or as an open intent (`final: false`, outcome `unknown`)
 * before the platform is called and a closing record (`final: true`) after. Readers see the
 * newest record of each entry, so an intent whose process died reads `unknown` forever.
 */
export interface AuditStore {
  readonly kind: 'sqlite' | 'postgres'
  /** Durable when the promise resolves; rejects when the record could not be written. */
  append(entry: AuditEntry, final: boolean): Promise<void>
  getEntry(id: string, projectIds: readonly string[] | '*'): Promise<AuditEntry | null>
  /** Newest first. */
  listEntries(filter: AuditFilter, limit: number, cursor: string | null): Promise<AuditPage>
  /** Every match, newest first, without holding them all in memory. */
  streamEntries(filter: AuditFilter): AsyncIterable<AuditEntry>
  /**
   * Appends the resolution of entry `id`, whose newest record must read `unknown`, and returns
   * the entry with it. Rejects with AUDIT_ENTRY_NOT_FOUND (absent or outside `projectIds`),
   * AUDIT_ENTRY_RESOLVED (already resolved), AUDIT_OUTCOME_KNOWN (outcome not `unknown`).
   */
  resolve(id: string, resolution: AuditResolution, projectIds: readonly string[] | '*'): Promise<AuditEntry>
  verify(): Promise<VerifyResult>
  /** Rejects when the store cannot take writes (readiness probe). */
  checkWritable(): Promise<void>
  close(): Promise<void>
}
