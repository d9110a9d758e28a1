/** What `bench/seed-audit.ts` needs of a trail to fill it, whichever the store. */
import type { AuditRecordRow } from '../src/audit/audit-chain.ts'
import type { StoredRecord } from './seed-history.ts'

export const TABLE = 'audit_records'

export interface SeedTrail {
  /** The last stored seq; 0 when empty. */
  headSeq (): Promise<number>
  record (seq: number): Promise<StoredRecord>
  /**
   * Out of the way of a bulk load: the indexes and triggers the migrations define for the
   * records (each would otherwise be maintained or run row by row); `finish` puts them back.
   */
  prepareLoad (): Promise<void>
  /** Appends the rows, `batch` to a committed transaction, `onCommit(rows committed so far)` after each. */
  load (rows: Iterator<AuditRecordRow>, batch: number, onCommit: (committed: number) => void): Promise<number>
  /** Creates what the migrations define and the trail lacks (after a load, or a load that was killed); what it created. */
  finish (): Promise<string[]>
  close (): Promise<void>
}

/** Up to `count` more items of `source`, leaving it open for the next batch (a for…of would close it). */
export function * take<T> (source: Iterator<T>, count: number): Generator<T> {
  for (let i = 0; i < count; i++) {
    const next = source.next()
    if (next.done === true) return
    yield next.value
  }
}
