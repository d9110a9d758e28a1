import { companionTable } from './audit-time-marks.ts'

/**
 * The entries that read `unknown`, apart from the records. An entry's outcome is its newest
 * record's, and an intent reads `unknown`: the outcome indexes of the records hold every intent,
 * closed or not (three in four entries have one), so an `outcome=unknown` page read along them
 * checks each closed intent for its final. `audit_unknown_entries (seq, entry_seq, project_id,
 * actor_sub, time_ms)` holds one row per entry whose newest entry record reads `unknown` (an
 * open intent, or a final that reads `unknown`), with that record's seq and columns; such a page
 * is read along its indexes (by project, by actor, by entry_seq) and joins each row's record by
 * seq. An insert trigger keeps it in the records' transaction: an entry's first `unknown` record
 * adds its row, its final takes the row away (and adds its own when it reads `unknown`). It is a
 * derived index, not the trail: rows leave it; a full verification compares it with the records
 * (verification/unknown-entries-check.ts).
 */

export const UNKNOWN_ENTRIES = 'audit_unknown_entries'

export function unknownEntriesTable (table: string): string {
  return companionTable(table, UNKNOWN_ENTRIES)
}

/** The columns of a row, in this order everywhere. */
const COLUMNS = 'seq, entry_seq, project_id, actor_sub, time_ms'

/** The trigger's condition: an entry record that may add or take away a row. */
export const TRACKED_RECORD = 'NEW.kind = \'entry\' AND (NEW.outcome = \'unknown\' OR NEW.seq <> NEW.entry_seq)'

/** The row a record adds, from the trigger's NEW. */
export const NEW_ROW = 'NEW.seq, NEW.entry_seq, NEW.project_id, NEW.actor_sub, NEW.time_ms'

/** The rows as the trigger writes them, from the records alone: one pass, a probe of the unique index per intent. */
export function unknownEntriesSelect (table: string): string {
  return `SELECT ${COLUMNS} FROM ${table} r WHERE r.kind = 'entry' AND r.outcome = 'unknown'
    AND (r.final = TRUE OR NOT EXISTS (SELECT 1 FROM ${table} f WHERE f.entry_id = r.entry_id AND f.kind = 'entry' AND f.final = TRUE))`
}

/** The statements that build the table again from the trail as found. */
export function rebuildUnknownEntriesStatements (table: string): string[] {
  return [`DELETE FROM ${unknownEntriesTable(table)}`, `INSERT INTO ${unknownEntriesTable(table)} (${COLUMNS}) ${unknownEntriesSelect(table)}`]
}

/** Them as one script (migration 7 and the seeders after a load). */
export function rebuildUnknownEntriesSql (table: string): string {
  return rebuildUnknownEntriesStatements(table).map((statement) => `${statement};\n`).join('')
}

export interface UnknownEntry { seq: number, entrySeq: number, projectId: string | null, actorSub: string | null, timeMs: number }

/** The stored rows in seq order (what a full verification compares with the records). */
export function unknownEntriesQuery (table: string): string {
  return `SELECT ${COLUMNS} FROM ${unknownEntriesTable(table)} ORDER BY seq`
}

export async function * unknownEntriesFromRows (rows: Iterable<unknown> | AsyncIterable<unknown>): AsyncGenerator<UnknownEntry> {
  for await (const row of rows as AsyncIterable<Record<string, unknown>>) {
    yield { seq: Number(row.seq), entrySeq: Number(row.entry_seq), projectId: (row.project_id ?? null) as string | null, actorSub: (row.actor_sub ?? null) as string | null, timeMs: Number(row.time_ms) }
  }
}
