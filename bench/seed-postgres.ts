/**
 * Bulk load of a PostgreSQL trail: COPY FROM STDIN (pg-copy-streams), one COPY a committed
 * batch, `synchronous_commit` off; the records' triggers disabled and their secondary indexes
 * dropped meanwhile, then the table analysed and each index built by one sort.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { AuditRecordRow } from '../src/audit/audit-chain.ts'
import { migrationsFor } from '../src/audit/postgres-audit-store.ts'
import { companionTable, rebuildTimeMarksSql } from '../src/audit/audit-time-marks.ts'
import { rebuildUnknownEntriesSql, unknownEntriesTable } from '../src/audit/audit-unknown-entries.ts'
import { type SeedTrail, TABLE, take } from './seed-trail.ts'

const COLUMNS = ['seq', 'entry_id', 'kind', 'final', 'entry_seq', 'project_id', 'video_id', 'actor_sub', 'outcome', 'time_ms', 'body', 'prev_hash', 'hash'] as const
/** Rows per write to the COPY stream: generating the next ones overlaps the server's parsing of these. */
const ROWS_PER_CHUNK = 500

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }
const NEEDS_ESCAPE = /[\\\t\n\r]/

/** A value in COPY's text format: NULL as \N, backslash and the delimiters escaped. */
function copyText (value: string | null): string {
  if (value === null) return '\\N'
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c] as string) : value
}

function copyLine (row: AuditRecordRow): string {
  return `${row.seq}\t${copyText(row.entryId)}\t${copyText(row.kind)}\t${row.final ? 't' : 'f'}\t${row.entrySeq}\t${copyText(row.projectId)}\t${copyText(row.videoId)}\t` +
    `${copyText(row.actorSub)}\t${copyText(row.outcome)}\t${row.timeMs}\t${copyText(row.body)}\t${copyText(row.prevHash)}\t${copyText(row.hash)}\n`
}

async function * copyChunks (rows: Iterable<AuditRecordRow>, counted: (rows: number) => void): AsyncGenerator<string> {
  let chunk = ''
  let lines = 0
  for (const row of rows) {
    chunk += copyLine(row)
    if (++lines % ROWS_PER_CHUNK === 0) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk !== '') yield chunk
  counted(lines)
}

interface Index { name: string, definition: string }

/** Secondary indexes of the records (not a constraint's), as `pg_indexes` defines them, in `schema`. */
async function secondaryIndexes (client: pg.Client, schema: string): Promise<Index[]> {
  const { rows } = await client.query<Index>(`SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
    WHERE i.schemaname = $1 AND i.tablename = '${TABLE}'
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)
    ORDER BY i.indexname`, [schema])
  return rows
}

/**
 * The secondary indexes the store's migrations create, for `schema`: the migrations run in a
 * scratch schema inside a transaction that is rolled back, and their definitions read back.
 */
async function migratedIndexes (client: pg.Client, schema: string): Promise<Index[]> {
  const scratch = `seed_reference_${process.pid}_${Date.now()}`
  await client.query('BEGIN')
  try {
    await client.query(`CREATE SCHEMA "${scratch}"`)
    for (const migration of migrationsFor(scratch)) await client.query(migration)
    const indexes = await secondaryIndexes(client, scratch)
    const target = `ON "${schema}".${TABLE} `
    return indexes.map(({ name, definition }) => ({ name, definition: definition.replace(`ON ${scratch}.${TABLE} `, target) }))
  } finally {
    await client.query('ROLLBACK')
  }
}

export async function openPostgresSeedTrail (url: string): Promise<SeedTrail> {
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema') ?? 'public'
  parsed.searchParams.delete('schema')
  const table = `"${schema}".${TABLE}`
  // Its own connection, without the service's statement timeout: an index build takes minutes.
  const client = new pg.Client({ connectionString: parsed.toString() })
  await client.connect()
  try {
    await client.query('SET synchronous_commit = off')
    // This session's sorts only (the index builds): fewer, larger runs to merge.
    await client.query('SET maintenance_work_mem = \'512MB\'')
    const migrated = await migratedIndexes(client, schema)
    const missing = async (): Promise<Index[]> => {
      const present = new Set((await secondaryIndexes(client, schema)).map((index) => index.name))
      return migrated.filter((index) => !present.has(index.name))
    }
    const disabledTriggers = async (): Promise<number> => (await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal AND tgenabled = \'D\'', [table])).rows[0]?.n ?? 0
    return {
      headSeq: async () => Number((await client.query<{ head: string }>(`SELECT coalesce(max(seq), 0) AS head FROM ${table}`)).rows[0]?.head ?? 0),
      record: async (seq) => {
        const { rows: [row] } = await client.query(`SELECT seq, entry_id, final, body, prev_hash, hash FROM ${table} WHERE seq = $1`, [seq])
        return { seq: Number(row.seq), entryId: row.entry_id, final: row.final, body: row.body, prevHash: row.prev_hash, hash: row.hash }
      },
      prepareLoad: async () => {
        const names = new Set(migrated.map((index) => index.name))
        await client.query('BEGIN')
        await client.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`)
        for (const index of await secondaryIndexes(client, schema)) {
          if (names.has(index.name)) await client.query(`DROP INDEX "${schema}"."${index.name}"`)
        }
        await client.query('COMMIT')
      },
      load: async (rows, batch, onCommit) => {
        let committed = 0
        for (;;) {
          let count = 0
          // One COPY, one transaction (autocommit).
          const copy = client.query(copyFrom(`COPY ${table} (${COLUMNS.join(', ')}) FROM STDIN`))
          await pipeline(Readable.from(copyChunks(take(rows, batch), (n) => { count = n })), copy)
          if (count === 0) return committed
          committed += count
          onCommit(committed)
          if (count < batch) return committed
        }
      },
      finish: async () => {
        const absent = await missing()
        const disabled = await disabledTriggers()
        if (absent.length === 0 && disabled === 0) return []
        // Statistics first: a trail with every index and its triggers on is taken for finished.
        await client.query(`ANALYZE ${table}`)
        for (const index of absent) await client.query(index.definition)
        // The derived tables are filled by insert triggers, disabled while loading: built from the
        // records in one pass each, as the migrations that made them do, in the transaction that
        // enables the triggers again (so a resumed seeder never builds the time-range tables
        // twice; the entries that read unknown are built anew).
        let rebuilt = false
        if (disabled > 0) {
          await client.query('BEGIN')
          const { rows: [marks] } = await client.query(`SELECT (SELECT count(*) FROM ${companionTable(table, 'audit_time_marks')}) + (SELECT count(*) FROM ${companionTable(table, 'audit_late_entries')}) AS n`)
          if (Number(marks?.n) === 0) {
            await client.query(rebuildTimeMarksSql(table))
            rebuilt = true
          }
          await client.query(rebuildUnknownEntriesSql(table))
          await client.query(`ANALYZE ${unknownEntriesTable(table)}`)
          await client.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`)
          await client.query('COMMIT')
        }
        return [...absent.map((index) => index.name), ...(rebuilt ? ['time-range tables'] : []), ...(disabled > 0 ? ['unknown entries', 'triggers enabled'] : [])]
      },
      close: async () => { await client.end() }
    }
  } catch (error) {
    await client.end()
    throw error
  }
}
