/**
 * How long one durable commit takes on this machine: the floor under every audited cut, which
 * makes two of them in a row (the intent before the platform call, the result before the reply).
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import { summariseLatencies, type LatencySummary } from './load.ts'

const ROW = 'x'.repeat(600)

/** Single-row transactions on a scratch SQLite file, as the store opens it (WAL, synchronous=FULL). */
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
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
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
