/**
 * Fills an empty audit trail with a large, deterministic history, fast: the records the store
 * itself would append (its own `prepareRecord` and `planAppend`, so the hash chain verifies),
 * written in large transactions instead of one durable commit per record.
 *
 *   node bench/seed-audit.ts --url sqlite:/tmp/audit-1m.db [--entries 1000000] [--seed 1]
 *   node bench/seed-audit.ts --url 'postgres://postgres@127.0.0.1:5432/test?schema=bench_1m'
 *
 * The history (see `plannedEntries`): 200 projects of very different sizes, 5,000 subjects,
 * 400,000 video ids, and the outcomes a service sees: mostly cuts that succeeded (an intent and
 * its final record), some that failed, a few left `unknown` (intent only), and rejections
 * (400, 409, 401 without a subject) recorded as a lone final record.
 */
import { DatabaseSync } from 'node:sqlite'
import { parseArgs } from 'node:util'
import pg from 'pg'
import type { AuditEntry } from '../src/audit/audit-entry.ts'
import { type AuditRecordRow, planAppend, prepareRecord } from '../src/audit/audit-chain.ts'
import { insertRecordQuery, SQLITE_DIALECT } from '../src/audit/audit-query.ts'
import { openAuditStore } from '../src/audit/open-audit-store.ts'
import { batchInsertQuery } from '../src/audit/postgres-audit-store.ts'
import { sqlitePathOf } from '../src/audit/sqlite-audit-store.ts'
import { intentOf, makeEntry, seededRandom } from '../test/helpers/audit-fixtures.ts'

export const SEED_PROJECTS = 200
export const SEED_SUBJECTS = 5000
export const SEED_VIDEOS = 400_000
/** The table both stores keep their records in. */
const TABLE = 'audit_records'

export const projectName = (n: number): string => `p-${n}`
export const subjectName = (n: number): string => `user-${n}`
export const videoName = (n: number): string => `vid-${n}`

/** Entry `n` of the history and whether it has an intent record before its final one (or only an intent). */
interface PlannedEntry {
  entry: AuditEntry
  /** 'both': intent then final; 'final': a lone final (a rejection); 'intent': the process died. */
  records: 'both' | 'final' | 'intent'
}

/** The n-th entry, from a PRNG stream: projects skewed (the largest ~7 %, the smallest ~0.25 %), subjects and videos uniform. */
function plannedEntry (n: number, random: () => number): PlannedEntry {
  const project = projectName(Math.floor(SEED_PROJECTS * random() ** 2))
  const sub = subjectName(Math.floor(SEED_SUBJECTS * random()))
  const videoId = videoName(Math.floor(SEED_VIDEOS * random()))
  const base = makeEntry(n, { id: `seed-${n}`, projectId: project, videoId })
  const actor = { ...base.actor, sub }
  const draw = random()
  if (draw < 0.70) return { entry: { ...base, actor }, records: 'both' }
  if (draw < 0.75) {
    return {
      entry: { ...base, actor, outcome: 'failed', status: 502, reason: 'upstream_failed', upstream: { attempts: 1, statuses: [500], latencyMs: 40 }, videoPublicId: null },
      records: 'both'
    }
  }
  if (draw < 0.77) return { entry: intentOf({ ...base, actor }), records: 'intent' }
  const rejected = { ...base, actor, outcome: 'rejected' as const, upstream: null, videoPublicId: null }
  if (draw < 0.92) return { entry: { ...rejected, status: 400, reason: 'validation', request: { ...base.request, cut: null } }, records: 'final' }
  if (draw < 0.96) return { entry: { ...rejected, status: 409, reason: 'conflict' }, records: 'final' }
  return { entry: { ...rejected, actor: { ...actor, sub: null, clientId: null }, status: 401, reason: 'unauthenticated', request: { ...base.request, cut: null } }, records: 'final' }
}

/** The records of `entries` entries, in append order, chained from the genesis. */
export function * seedRecords (entries: number, seed = 1): Generator<AuditRecordRow> {
  const random = seededRandom(seed)
  let head: { seq: number, hash: string } | null = null
  for (let n = 1; n <= entries; n++) {
    const { entry, records } = plannedEntry(n, random)
    let intent: { seq: number, projectId: string | null, timeMs: number } | null = null
    if (records !== 'final') {
      const row = planAppend(prepareRecord(records === 'intent' ? entry : intentOf(entry), false), { head, intent: null, hasFinal: false })
      head = { seq: row.seq, hash: row.hash }
      intent = { seq: row.seq, projectId: row.projectId, timeMs: row.timeMs }
      yield row
    }
    if (records !== 'intent') {
      const row = planAppend(prepareRecord(entry, true), { head, intent, hasFinal: false })
      head = { seq: row.seq, hash: row.hash }
      yield row
    }
  }
}

export interface SeedResult {
  entries: number
  records: number
  seconds: number
}

export interface SeedOptions {
  url: string
  entries: number
  seed?: number
  /** Records per transaction. */
  batch?: number
  onProgress?: (entriesDone: number, recordsDone: number) => void
}

/** Seeds the (empty or new) trail at `url`; refuses a trail that already holds records. */
export async function seedAuditTrail (options: SeedOptions): Promise<SeedResult> {
  const startedAt = performance.now()
  // The store creates (or migrates) the schema, exactly as the service would at start-up.
  const store = await openAuditStore(options.url)
  await store.close()
  const records = options.url.startsWith('sqlite:')
    ? seedSqlite(sqlitePathOf(options.url), options)
    : await seedPostgres(options.url, options)
  return { entries: options.entries, records, seconds: (performance.now() - startedAt) / 1000 }
}

function seedSqlite (path: string, options: SeedOptions): number {
  const batch = options.batch ?? 50_000
  const db = new DatabaseSync(path, { timeout: 5000 })
  try {
    const { count } = db.prepare(`SELECT count(*) AS count FROM ${TABLE}`).get() as { count: number }
    if (Number(count) !== 0) throw new Error(`${path} already holds ${count} records; seed an empty trail`)
    // For this connection only: a crash while seeding loses the seed, nothing else.
    db.exec('PRAGMA synchronous = OFF')
    db.exec('PRAGMA cache_size = -262144')
    let insert: ReturnType<DatabaseSync['prepare']> | null = null
    let done = 0
    let entriesDone = 0
    db.exec('BEGIN')
    for (const row of seedRecords(options.entries, options.seed)) {
      const query = insertRecordQuery(TABLE, row, SQLITE_DIALECT)
      insert ??= db.prepare(query.text)
      insert.run(...(query.values as never[]))
      if (row.final || row.outcome === 'unknown') entriesDone = Number(row.entryId.slice('seed-'.length))
      if (++done % batch === 0) {
        db.exec('COMMIT')
        options.onProgress?.(entriesDone, done)
        db.exec('BEGIN')
      }
    }
    db.exec('COMMIT')
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    options.onProgress?.(options.entries, done)
    return done
  } finally {
    if (db.isTransaction) db.exec('ROLLBACK')
    db.close()
  }
}

/** PostgreSQL: one multi-row INSERT … SELECT FROM unnest(arrays) per batch, in one transaction. */
async function seedPostgres (url: string, options: SeedOptions): Promise<number> {
  const batch = options.batch ?? 5000
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema') ?? 'public'
  parsed.searchParams.delete('schema')
  const table = `"${schema}".${TABLE}`
  const client = new pg.Client({ connectionString: parsed.toString() })
  await client.connect()
  try {
    const { rows: [existing] } = await client.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table}`)
    const count = existing?.count ?? 0
    if (count !== 0) throw new Error(`${table} already holds ${count} records; seed an empty trail`)
    await client.query('SET synchronous_commit = off')
    let rows: AuditRecordRow[] = []
    let done = 0
    let entriesDone = 0
    const flush = async (): Promise<void> => {
      const insert = batchInsertQuery(table, rows)
      await client.query(insert.text, insert.values)
      rows = []
      options.onProgress?.(entriesDone, done)
    }
    await client.query('BEGIN')
    for (const row of seedRecords(options.entries, options.seed)) {
      rows.push(row)
      if (row.final || row.outcome === 'unknown') entriesDone = Number(row.entryId.slice('seed-'.length))
      if (++done % batch === 0) await flush()
    }
    if (rows.length > 0) await flush()
    await client.query('COMMIT')
    await client.query(`ANALYZE ${table}`)
    return done
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    await client.end()
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      entries: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' }
    }
  })
  if (values.url === undefined) {
    console.error('usage: node bench/seed-audit.ts --url sqlite:<file>|postgres://…?schema=<name> [--entries 1000000] [--seed 1]')
    process.exit(2)
  }
  const entries = Number(values.entries)
  let lastPrint = 0
  const result = await seedAuditTrail({
    url: values.url,
    entries,
    seed: Number(values.seed),
    onProgress: (entriesDone, records) => {
      if (performance.now() - lastPrint < 5000 && entriesDone < entries) return
      lastPrint = performance.now()
      console.log(`  ${entriesDone.toLocaleString('en')} entries, ${records.toLocaleString('en')} records`)
    }
  })
  console.log(`seeded ${result.entries.toLocaleString('en')} entries (${result.records.toLocaleString('en')} records) in ${result.seconds.toFixed(1)} s`)
}
