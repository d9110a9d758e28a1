/**
 * Where a time range lies in the entry order. Pages are ordered by `entry_seq`; an entry's time
 * (taken when its request arrived, appended later, by instances with their own clocks) rises
 * with it nearly but not strictly. Two tables derived from the trail's first records make a
 * range an `entry_seq` window, exactly, whatever the skew:
 *
 * - `audit_time_marks (bucket, seq)`: the running maximum of entry times, in buckets of
 *   TIME_BUCKET_MS; a row where it first reaches a new bucket, with the seq of that entry. So
 *   every entry before `seq` has a time below `bucket * TIME_BUCKET_MS`, and every entry from it
 *   on was appended when the maximum was at least that.
 * - `audit_late_entries (entry_seq, time_ms)`: entries whose time was more than LATE_MS below
 *   the maximum's bucket when they were appended; rare while clocks agree.
 *
 * For `since`, entries before the last mark with `bucket * TIME_BUCKET_MS <= since` are all
 * older: the window starts there. For `until`, an entry from the first mark with
 * `bucket * TIME_BUCKET_MS >= until + LATE_MS` on whose time is before `until` is late: the window
 * ends there, and the late ones above it are read from their own table. Both tables are written by
 * an insert trigger on the records (the same transaction); `timeMarksSelect` and
 * `lateEntriesSelect` compute them from the records alone, as the migration that made them did.
 */

export const TIME_BUCKET_MS = 10_000
export const LATE_MS = 10_000

/** A companion table of the records table, in the same schema. */
export function companionTable (table: string, name: 'audit_time_marks' | 'audit_late_entries' | 'audit_unknown_entries'): string {
  if (!table.endsWith('audit_records')) throw new TypeError(`${table} is not an audit_records table`)
  return `${table.slice(0, -'audit_records'.length)}${name}`
}

/** The bucket of a time column, rounded down (for times before 1970 too), in SQL both stores run. */
export function bucketSql (column: string): string {
  return `((${column} - ((${column} % ${TIME_BUCKET_MS}) + ${TIME_BUCKET_MS}) % ${TIME_BUCKET_MS}) / ${TIME_BUCKET_MS})`
}

/**
 * The bucket of a time, as `bucketSql` computes it: the last bucket whose start is at or before
 * it (a range's `since` is looked up with it; verification recomputes the tables with it).
 */
export function bucketOf (timeMs: number): number {
  return (timeMs - ((timeMs % TIME_BUCKET_MS) + TIME_BUCKET_MS) % TIME_BUCKET_MS) / TIME_BUCKET_MS
}

/** The first bucket whose start is at or after `untilMs + LATE_MS`. */
export function untilBucket (untilMs: number): number {
  return Math.ceil((untilMs + LATE_MS) / TIME_BUCKET_MS)
}

/** Every first record in seq order, with the running maximum of their buckets (window functions: one pass). */
function runningTop (table: string): string {
  return `SELECT seq, time_ms, max(${bucketSql('time_ms')}) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) AS top
    FROM ${table} WHERE kind = 'entry' AND seq = entry_seq`
}

/** The rows of `audit_time_marks` as the trigger writes them, from the records alone. */
export function timeMarksSelect (table: string): string {
  return `SELECT top AS bucket, seq FROM (SELECT seq, top, lag(top) OVER (ORDER BY seq) AS before FROM (${runningTop(table)}) m) b
    WHERE before IS NULL OR top > before`
}

/** The rows of `audit_late_entries` as the trigger writes them, from the records alone. */
export function lateEntriesSelect (table: string): string {
  return `SELECT seq AS entry_seq, time_ms FROM (${runningTop(table)}) m WHERE time_ms < top * ${TIME_BUCKET_MS} - ${LATE_MS}`
}

/** Both tables built from the trail as found (the migration that made them ran this). */
export function rebuildTimeMarksSql (table: string): string {
  return `
    INSERT INTO ${companionTable(table, 'audit_time_marks')} (bucket, seq) ${timeMarksSelect(table)};
    INSERT INTO ${companionTable(table, 'audit_late_entries')} (entry_seq, time_ms) ${lateEntriesSelect(table)};
  `
}

export interface TimeMark { bucket: number, seq: number }
export interface LateEntry { entrySeq: number, timeMs: number }

/** Both tables as stored, each streamed in seq order (what a full verification compares with the records). */
export interface TimeIndex { marks: AsyncIterable<TimeMark>, late: AsyncIterable<LateEntry> }

/** The queries behind a snapshot's `timeIndex`, in the SQL both stores run. */
export function timeIndexQueries (table: string): { marks: string, late: string } {
  return {
    marks: `SELECT bucket, seq FROM ${companionTable(table, 'audit_time_marks')} ORDER BY seq, bucket`,
    late: `SELECT entry_seq, time_ms FROM ${companionTable(table, 'audit_late_entries')} ORDER BY entry_seq`
  }
}

type Rows = Iterable<unknown> | AsyncIterable<unknown>

/** The rows of `timeIndexQueries`, as the store's driver reads them. */
export function timeIndexFromRows (marks: Rows, late: Rows): TimeIndex {
  return {
    marks: mapRows(marks, (row) => ({ bucket: Number(row.bucket), seq: Number(row.seq) })),
    late: mapRows(late, (row) => ({ entrySeq: Number(row.entry_seq), timeMs: Number(row.time_ms) }))
  }
}

async function * mapRows<T> (rows: Rows, map: (row: Record<string, unknown>) => T): AsyncGenerator<T> {
  for await (const row of rows) yield map(row as Record<string, unknown>)
}
