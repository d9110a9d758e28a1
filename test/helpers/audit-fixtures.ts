import { randomBytes } from 'node:crypto'
import { DatabaseSync } from 'node:sqlite'
import { join } from 'node:path'
import pg from 'pg'
import type { Test } from 'tap'
import type { AuditEntry, AuditOutcome } from '../../src/audit/audit-entry.ts'
import type { AuditFilter } from '../../src/audit/audit-store.ts'
import { type ChainedAuditStore, planBatch, prepareRecord } from '../../src/audit/audit-chain.ts'
import { insertRecordQuery, POSTGRES_DIALECT } from '../../src/audit/audit-query.ts'
import { openAuditStore } from '../../src/audit/open-audit-store.ts'

/** The PostgreSQL the tests use; a test that cannot reach it fails, it never skips. */
export const PG_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

const BASE_TIME = Date.UTC(2025, 0, 1)

/** A well-formed entry; `n` spreads times one second apart. */
export function makeEntry (n: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: `entry-${n}`,
    requestId: `req-${n}`,
    time: new Date(BASE_TIME + n * 1000).toISOString(),
    actor: { sub: 'alice', clientId: 'web', ip: '192.0.2.1', userAgent: 'test-agent/1.0' },
    action: 'live-video.stop-and-cut',
    projectId: 'proj-a',
    videoId: 'video-1',
    request: {
      cut: { startMs: 1000, endMs: 61000, startTime: null, endTime: null },
      visibility: 'private',
      idempotencyKey: null
    },
    outcome: 'succeeded',
    status: 200,
    reason: null,
    upstream: { attempts: 1, statuses: [200], latencyMs: 12 },
    videoPublicId: `vod-${n}`,
    durationMs: 15,
    ...overrides
  }
}

/** The intent an entry starts with, before the platform is called. */
export function intentOf (entry: AuditEntry): AuditEntry {
  return { ...entry, outcome: 'unknown', status: null, reason: null, upstream: null, videoPublicId: null, durationMs: null }
}

/**
 * What readers must see, computed the plain way: every record appended, in order; an entry
 * reads as its newest record, entries ordered by their first record, newest first.
 */
export class TrailModel {
  readonly #order: string[] = []
  readonly #newest = new Map<string, AuditEntry>()

  record (entry: AuditEntry): void {
    if (!this.#newest.has(entry.id)) this.#order.push(entry.id)
    this.#newest.set(entry.id, entry)
  }

  get size (): number { return this.#order.length }

  /** Every entry matching the filter, newest first. */
  entries (filter: AuditFilter = { projectIds: '*' }): AuditEntry[] {
    const result: AuditEntry[] = []
    for (let i = this.#order.length - 1; i >= 0; i--) {
      const entry = this.#newest.get(this.#order[i] as string) as AuditEntry
      if (matches(entry, filter)) result.push(entry)
    }
    return result
  }

  /** Ids in the order readers see them, newest first. */
  ids (filter?: AuditFilter): string[] {
    return this.entries(filter).map((entry) => entry.id)
  }
}

export function matches (entry: AuditEntry, filter: AuditFilter): boolean {
  const time = Date.parse(entry.time)
  if (filter.projectIds !== '*' && (entry.projectId === null || !filter.projectIds.includes(entry.projectId))) return false
  if (filter.projectId !== undefined && entry.projectId !== filter.projectId) return false
  if (filter.videoId !== undefined && entry.videoId !== filter.videoId) return false
  if (filter.actor !== undefined && entry.actor.sub !== filter.actor) return false
  if (filter.outcome !== undefined && entry.outcome !== filter.outcome) return false
  if (filter.since !== undefined && time < Date.parse(filter.since)) return false
  if (filter.until !== undefined && time >= Date.parse(filter.until)) return false
  return true
}

/** Appends to the store and the model alike. */
export async function record (store: ChainedAuditStore, model: TrailModel, entry: AuditEntry, final: boolean): Promise<void> {
  await store.append(entry, final)
  model.record(entry)
}

export async function collect<T> (iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of iterable) items.push(item)
  return items
}

/**
 * Direct access to the database, as an attacker with DBA rights has it. SQL is written with
 * PostgreSQL placeholders ($1…); SQLite gets them as ?1….
 */
export interface RawAccess {
  table: string
  query: (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>
  exec: (sql: string, params?: unknown[]) => Promise<void>
  /** What the attacker does first: make the append-only triggers and the CHECK constraints go away. */
  disableGuards: () => Promise<void>
}

export interface TrailUnderTest {
  backend: Backend
  url: string
  store: ChainedAuditStore
  /** Another store instance on the same trail (closed at teardown). */
  open: (options?: { readOnly?: boolean }) => Promise<ChainedAuditStore>
  raw: RawAccess
}

export type Backend = 'sqlite' | 'postgres'
export const BACKENDS: readonly Backend[] = ['sqlite', 'postgres']

let schemaCounter = 0

async function pgClient (): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 })
  try {
    await client.connect()
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${PG_URL} (${(error as Error).message}). ` +
      'The audit tests need it: start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` ' +
      'or point TEST_POSTGRES_URL at one.')
  }
  return client
}

/** A fresh, empty trail on the backend: a file in the test's directory, or a new PostgreSQL schema. */
export async function setUpTrail (t: Test, backend: Backend): Promise<TrailUnderTest> {
  const opened: ChainedAuditStore[] = []
  const open = async (url: string, options?: { readOnly?: boolean }): Promise<ChainedAuditStore> => {
    const store = await openAuditStore(url, options)
    opened.push(store)
    return store
  }
  t.teardown(async () => { for (const store of opened) await store.close() })

  if (backend === 'sqlite') {
    const file = join(t.testdir(), 'audit.db')
    const url = `sqlite:${file}`
    const store = await open(url)
    const db = new DatabaseSync(file, { timeout: 5000 })
    t.teardown(() => db.close())
    const toSqlite = (sql: string): string => sql.replace(/\$(\d+)/g, '?$1')
    const raw: RawAccess = {
      table: 'audit_records',
      query: async (sql, params = []) => db.prepare(toSqlite(sql)).all(...(params as never[])) as Array<Record<string, unknown>>,
      exec: async (sql, params = []) => { db.prepare(toSqlite(sql)).run(...(params as never[])) },
      disableGuards: async () => {
        for (const name of ['audit_records_no_update', 'audit_records_no_delete', 'audit_records_no_intent_after_final']) {
          db.exec(`DROP TRIGGER IF EXISTS ${name}`)
        }
        db.exec('PRAGMA ignore_check_constraints = ON')
      }
    }
    return { backend, url, store, open: async (options) => await open(url, options), raw }
  }

  const client = await pgClient()
  const schema = `audit_test_${process.pid}_${++schemaCounter}_${randomBytes(3).toString('hex')}`
  t.teardown(async () => {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await client.end()
  })
  const url = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}`
  const store = await open(url)
  const raw: RawAccess = {
    table: `"${schema}".audit_records`,
    query: async (sql, params = []) => (await client.query(sql, params)).rows,
    exec: async (sql, params = []) => { await client.query(sql, params) },
    disableGuards: async () => {
      await client.query(`ALTER TABLE "${schema}".audit_records DISABLE TRIGGER USER`)
      const { rows } = await client.query('SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = \'c\'', [`"${schema}".audit_records`])
      for (const { conname } of rows) await client.query(`ALTER TABLE "${schema}".audit_records DROP CONSTRAINT "${conname}"`)
    }
  }
  return { backend, url, store, open: async (options) => await open(url, options), raw }
}

/**
 * Fills an empty trail quickly: the records the store would append (the same planBatch), written
 * in one transaction instead of one durable commit each. For data sets the claim is not about.
 */
export async function seedTrail (trail: TrailUnderTest, model: TrailModel, ops: Array<[AuditEntry, boolean]>): Promise<void> {
  const { raw } = trail
  const rows = planBatch(ops.map(([entry, final]) => prepareRecord(entry, final)), { head: null, known: [] })
  await raw.exec('BEGIN')
  for (const row of rows) {
    const { text, values } = insertRecordQuery(raw.table, row, POSTGRES_DIALECT)
    await raw.exec(text, values)
  }
  await raw.exec('COMMIT')
  for (const [entry] of ops) model.record(entry)
}

/** A small deterministic PRNG (mulberry32), so data sets and choices repeat run to run. */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = state
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** RFC 4180, enough to read back what the export writes. */
export function parseCsv (text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++ } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') {
      quoted = true
    } else if (c === ',') {
      row.push(cell); cell = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell); rows.push(row); row = []; cell = ''; i++
    } else {
      cell += c
    }
  }
  if (cell !== '' || row.length > 0) { row.push(cell); rows.push(row) }
  return rows
}

export const OUTCOMES: readonly AuditOutcome[] = ['succeeded', 'rejected', 'failed', 'unknown']
