import type { BadRecord } from '../audit-chain.ts'
import { UNKNOWN_ENTRIES, type UnknownEntry } from '../audit-unknown-entries.ts'
import { type IndexedRecord, StoredRows } from './time-index-check.ts'

/** What the check needs of a record beyond the time check's. */
export interface UnknownIndexedRecord extends IndexedRecord {
  final: boolean
  unknown: boolean
  projectId: string | null
  actorSub: string | null
}

function rowOf (record: UnknownIndexedRecord): UnknownEntry {
  return { seq: record.seq, entrySeq: record.entrySeq, projectId: record.projectId, actorSub: record.actorSub, timeMs: record.timeMs }
}

/**
 * A full verification's check of the entries that read unknown (audit-unknown-entries.ts): fed
 * every record in seq order, it compares the stored rows, streamed in seq order alongside, with
 * the rows the records imply. A final's row is known at its seq (it reads `unknown` or not); an
 * intent's depends on whether its final comes later: an intent with a row must get none, one
 * without must get one by the head. It holds the entry_seqs of the intents not closed yet at the
 * walk's point (as EntryCheck does), not the table.
 */
export class UnknownEntriesCheck {
  readonly #stored: StoredRows<UnknownEntry>
  /** Intents with a stored row: no final may follow. */
  readonly #open = new Set<number>()
  /** Intents without one: their final must follow. */
  readonly #closing = new Set<number>()

  constructor (stored: AsyncIterable<UnknownEntry>) {
    this.#stored = new StoredRows(UNKNOWN_ENTRIES, stored, (row) => row.seq,
      (row) => `seq ${row.seq}, entry_seq ${row.entrySeq}, project_id ${String(row.projectId)}, actor_sub ${String(row.actorSub)}, time_ms ${row.timeMs}`)
  }

  async readThrough (seq: number): Promise<void> {
    await this.#stored.readThrough(seq)
  }

  check (record: UnknownIndexedRecord): BadRecord | null {
    if (record.kind === 'entry' && !record.final) {
      const { bad, row } = this.#stored.take(record.seq)
      if (bad !== null) return bad
      if (row === null) {
        this.#closing.add(record.entrySeq)
        return null
      }
      const found = this.#stored.describe(row)
      const implied = this.#stored.describe(rowOf(record))
      if (found !== implied) {
        return { seq: record.seq, entryId: record.entryId, problem: `${UNKNOWN_ENTRIES} has (${found}) where record ${record.seq} implies (${implied})` }
      }
      this.#open.add(record.entrySeq)
      return null
    }
    if (record.kind === 'entry' && record.seq !== record.entrySeq) {
      if (this.#open.delete(record.entrySeq)) {
        return { seq: record.seq, entryId: record.entryId, problem: `${UNKNOWN_ENTRIES} has a row (seq ${record.entrySeq}) for the intent that record ${record.seq} closed` }
      }
      this.#closing.delete(record.entrySeq)
    }
    return this.#stored.check(record.seq, record.entryId, record.kind === 'entry' && record.unknown ? rowOf(record) : null)
  }

  async finish (): Promise<BadRecord | null> {
    const extra = await this.#stored.finish()
    if (extra !== null) return extra
    const [entrySeq] = this.#closing
    return entrySeq === undefined ? null : { seq: entrySeq, entryId: null, problem: `${UNKNOWN_ENTRIES} lacks the row (seq ${entrySeq}) of the intent open at the head` }
  }

  async close (): Promise<void> {
    await this.#stored.close()
  }
}
