/**
 * How long one durable commit takes on this machine: the floor under every audited cut, which
 * makes two of them in a row (the intent before the platform call, the result before the reply).
 * And what the SQLite audit store costs per entry, beside the floor under it: a raw INSERT of
 * the very rows it wrote, in transactions of the same size.
 */
import { randomUUID, randomUUIDv7 } from 'node:crypto'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import { recordFromRow, type AuditRecordRow } from '../src/audit/audit-chain.ts'
import { insertRecordQuery, SQLITE_DIALECT } from '../src/audit/audit-query.ts'
import { SqliteAuditStore } from '../src/audit/sqlite-audit-store.ts'
import { intentOf, makeEntry } from '../test/helpers/audit-fixtures.ts'
import { summariseLatencies, type LatencySummary } from './load.ts'

const ROW = 'x'.repeat(600)

/** A SQLite database file and its WAL companions, if any. */
export function removeSqliteFiles (file: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
}

/** Single-row durable transactions on a scratch SQLite file (WAL, synchronous=FULL: the WAL sync inside COMMIT that the store runs after it, off the event loop). */
export function probeSqliteCommit (dir: string, commits = 200): LatencySummary {
  const file = join(dir, 'commit-probe.db')
  const db = new DatabaseSync(file)
  try {
    db.exec('PRAGMA journal_mode = WAL')
    db.exec('PRAGMA synchronous = FULL')
    db.exec('CREATE TABLE probe (id INTEGER PRIMARY KEY, body TEXT NOT NULL)')
    const insert = db.prepare('INSERT INTO probe (body) VALUES (?)')
    const times: number[] = []
    for (let i = 0; i < commits; i++) {
      const startedAt = performance.now()
      db.exec('BEGIN IMMEDIATE')
      insert.run(ROW)
      db.exec('COMMIT')
      times.push(performance.now() - startedAt)
    }
    return summariseLatencies(times)
  } finally {
    db.close()
    removeSqliteFiles(file)
  }
}

/** Single-row autocommit INSERTs into a logged table of a scratch schema (round trip included). */
export async function probePostgresCommit (url: string, schema: string, commits = 200): Promise<LatencySummary> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    await client.query(`CREATE SCHEMA "${schema}"`)
    await client.query(`CREATE TABLE "${schema}".probe (id bigserial PRIMARY KEY, body text NOT NULL)`)
    const times: number[] = []
    for (let i = 0; i < commits; i++) {
      const startedAt = performance.now()
      await client.query(`INSERT INTO "${schema}".probe (body) VALUES ($1)`, [ROW])
      times.push(performance.now() - startedAt)
    }
    return summariseLatencies(times)
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {})
    await client.end()
  }
}

export interface AppendProbe {
  ids: 'v7' | 'v4'
  entries: number
  entriesPerSecond: number
  cpuMicrosPerEntry: number
  /** The same rows inserted raw: what storing them costs without the store (only with `floor`). */
  floor?: RawInsertFloor
}

export interface RawInsertFloor {
  records: number
  /** Records per transaction: one per appender, the size of the store's group commits under this load. */
  recordsPerTransaction: number
  cpuMicrosPerEntry: number
  /** The store's CPU per entry over the floor's. */
  ratio: number
}

/**
 * The SQLite audit store alone, without HTTP: `appenders` concurrent writers each append an
 * entry's intent and then its final record, as the cut route does, into a fresh trail. Run with
 * time-ordered entry ids (UUID v7, what the route uses) and with random ones (v4), to show what
 * the ids' order costs the trail's unique index. CPU is this process's, user + system.
 */
export async function probeSqliteAppend (dir: string, entries: number, ids: AppendProbe['ids'], options: { appenders?: number, floor?: boolean } = {}): Promise<AppendProbe> {
  const appenders = options.appenders ?? 50
  const file = join(dir, `append-probe-${ids}.db`)
  const store = new SqliteAuditStore(file)
  const newId = ids === 'v7' ? randomUUIDv7 : randomUUID
  let next = 0
  const appender = async (): Promise<void> => {
    while (next < entries) {
      const n = next++
      const entry = makeEntry(n, { id: newId(), videoId: `probe-video-${n}` })
      await store.append(intentOf(entry), false)
      await store.append(entry, true)
    }
  }
  try {
    const cpuBefore = process.cpuUsage()
    const startedAt = performance.now()
    await Promise.all(Array.from({ length: appenders }, appender))
    const seconds = (performance.now() - startedAt) / 1000
    const cpu = process.cpuUsage(cpuBefore)
    const cpuMicrosPerEntry = (cpu.user + cpu.system) / entries
    const probe: AppendProbe = { ids, entries, entriesPerSecond: entries / seconds, cpuMicrosPerEntry }
    if (options.floor === true) {
      const rows = readRows(file)
      const floorMicros = await rawInsertCpuMicros(join(dir, `raw-insert-${ids}.db`), rows, appenders) / entries
      probe.floor = { records: rows.length, recordsPerTransaction: appenders, cpuMicrosPerEntry: floorMicros, ratio: cpuMicrosPerEntry / floorMicros }
    }
    return probe
  } finally {
    await store.close()
    removeSqliteFiles(file)
  }
}

function readRows (file: string): AuditRecordRow[] {
  const db = new DatabaseSync(file, { readOnly: true })
  try {
    return db.prepare('SELECT * FROM audit_records ORDER BY seq').all().map((row) => recordFromRow(row as Record<string, unknown>))
  } finally {
    db.close()
  }
}

/**
 * CPU (µs, this process) to insert `rows` into a fresh trail (the store's schema, indexes and
 * triggers, WAL, synchronous=FULL: each commit durable, as the store's) with one prepared INSERT, `perTransaction` rows a commit.
 */
async function rawInsertCpuMicros (file: string, rows: readonly AuditRecordRow[], perTransaction: number): Promise<number> {
  await new SqliteAuditStore(file).close()
  const db = new DatabaseSync(file)
  try {
    db.exec('PRAGMA journal_mode = WAL')
    db.exec('PRAGMA synchronous = FULL')
    const queries = rows.map((row) => insertRecordQuery('audit_records', row, SQLITE_DIALECT))
    const insert = db.prepare((queries[0] as { text: string }).text)
    const cpuBefore = process.cpuUsage()
    for (let i = 0; i < queries.length; i += perTransaction) {
      db.exec('BEGIN IMMEDIATE')
      for (const { values } of queries.slice(i, i + perTransaction)) insert.run(...(values as never[]))
      db.exec('COMMIT')
    }
    const cpu = process.cpuUsage(cpuBefore)
    return cpu.user + cpu.system
  } finally {
    db.close()
    removeSqliteFiles(file)
  }
}
