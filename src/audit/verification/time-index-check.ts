import type { BadRecord } from '../audit-chain.ts'
import { bucketOf, LATE_MS, type LateEntry, TIME_BUCKET_MS, type TimeIndex, type TimeMark } from '../audit-time-marks.ts'

/** What the check needs of a record that passed the chain and entry checks. */
export interface IndexedRecord {
  seq: number
  entryId: string
  kind: 'entry' | 'resolution'
  entrySeq: number
  timeMs: number
}

/**
 * The stored rows of one table, streamed in seq order, matched against the rows the records
 * imply as the walk reaches each seq. Holds the rows read ahead for the current chunk only.
 */
export class StoredRows<T> {
  readonly #table: string
  readonly #rows: AsyncIterator<T>
  readonly #seqOf: (row: T) => number
  readonly #describe: (row: T) => string
  /** Rows read and not matched yet, in seq order; the last may lie beyond the current chunk. */
  readonly #ahead: T[] = []
  #done = false

  constructor (table: string, rows: AsyncIterable<T>, seqOf: (row: T) => number, describe: (row: T) => string) {
    this.#table = table
    this.#rows = rows[Symbol.asyncIterator]()
    this.#seqOf = seqOf
    this.#describe = describe
  }

  /** Reads on until a row beyond `upTo` (or the end) is in hand. */
  async readThrough (upTo: number): Promise<void> {
    for (let last = this.#ahead.at(-1); !this.#done && (last === undefined || this.#seqOf(last) <= upTo); last = this.#ahead.at(-1)) {
      const next = await this.#rows.next()
      if (next.done === true) this.#done = true
      else this.#ahead.push(next.value)
    }
  }

  async close (): Promise<void> {
    if (!this.#done) await this.#rows.return?.()
  }

  /** Record `seq` (read through) implies `expected` (or no row): the stored rows up to `seq` must be exactly that. */
  check (seq: number, entryId: string, expected: T | null): BadRecord | null {
    const extra = this.#extra(seq - 1, null)
    if (extra !== null) return extra
    const row = this.#ahead[0]
    if (expected !== null) {
      if (row === undefined || this.#seqOf(row) !== seq) return { seq, entryId, problem: `${this.#table} lacks the row (${this.#describe(expected)}) that record ${seq} implies` }
      this.#ahead.shift()
      if (this.#describe(row) !== this.#describe(expected)) return { seq, entryId, problem: `${this.#table} has (${this.#describe(row)}) where record ${seq} implies (${this.#describe(expected)})` }
    }
    return this.#extra(seq, entryId)
  }

  /**
   * The stored row at `seq` (read through), taken, when a record may or may not imply one (its
   * entry is not done yet); `bad` when a row before it is one no record implies.
   */
  take (seq: number): { bad: BadRecord | null, row: T | null } {
    const bad = this.#extra(seq - 1, null)
    if (bad !== null) return { bad, row: null }
    const row = this.#ahead[0]
    if (row === undefined || this.#seqOf(row) !== seq) return { bad: null, row: null }
    this.#ahead.shift()
    return { bad: null, row }
  }

  /** The row as problems quote it; two rows with the same text are the same row. */
  describe (row: T): string {
    return this.#describe(row)
  }

  /** The walk reached the head: no stored row may be left. */
  async finish (): Promise<BadRecord | null> {
    await this.readThrough(Number.NEGATIVE_INFINITY)
    return this.#extra(Number.POSITIVE_INFINITY, null)
  }

  /** A stored row at or before `upTo` not matched yet: no record implies it. */
  #extra (upTo: number, entryId: string | null): BadRecord | null {
    const row = this.#ahead[0]
    if (row === undefined || this.#seqOf(row) > upTo) return null
    const seq = this.#seqOf(row)
    return { seq, entryId, problem: `${this.#table} has a row (${this.#describe(row)}) that no record implies` }
  }
}

/**
 * A full verification's check of the time-range tables (audit-time-marks.ts): fed every record
 * in seq order, it recomputes the running maximum bucket of entries' first records, so the marks
 * and late entries they imply (as `timeMarksSelect` and `lateEntriesSelect` define them), and
 * compares those with the stored rows, streamed alongside: `readThrough` each chunk's last seq
 * before checking its records, `close` when done. It keeps nothing per record, nor the tables.
 */
export class TimeIndexCheck {
  readonly #marks: StoredRows<TimeMark>
  readonly #late: StoredRows<LateEntry>
  #top: number | null = null

  constructor (stored: TimeIndex) {
    this.#marks = new StoredRows('audit_time_marks', stored.marks, (row) => row.seq, (row) => `bucket ${row.bucket}, seq ${row.seq}`)
    this.#late = new StoredRows('audit_late_entries', stored.late, (row) => row.entrySeq, (row) => `entry_seq ${row.entrySeq}, time_ms ${row.timeMs}`)
  }

  async readThrough (seq: number): Promise<void> {
    await this.#marks.readThrough(seq)
    await this.#late.readThrough(seq)
  }

  check (record: IndexedRecord): BadRecord | null {
    let mark: TimeMark | null = null
    let late: LateEntry | null = null
    if (record.kind === 'entry' && record.seq === record.entrySeq) {
      const bucket = bucketOf(record.timeMs)
      if (this.#top === null || bucket > this.#top) {
        this.#top = bucket
        mark = { bucket, seq: record.seq }
      }
      if (record.timeMs < this.#top * TIME_BUCKET_MS - LATE_MS) late = { entrySeq: record.seq, timeMs: record.timeMs }
    }
    return this.#marks.check(record.seq, record.entryId, mark) ?? this.#late.check(record.seq, record.entryId, late)
  }

  async finish (): Promise<BadRecord | null> {
    return await this.#marks.finish() ?? await this.#late.finish()
  }

  async close (): Promise<void> {
    await this.#marks.close()
    await this.#late.close()
  }
}
