/**
 * Bulk load of a SQLite trail. Measured on 175,000 records (BENCHMARKS.md, seeding): a rollback
 * journal instead of WAL writes each appended page once instead of twice (5 µs a record
 * instead of 26); without its indexes and triggers an insert is an append to the table, and
 * each index is then built by one sort.
 */
import { DatabaseSync } from 'node:sqlite'
import type { AuditRecordRow } from '../src/audit/audit-chain.ts'
import { insertRecordQuery, SQLITE_DIALECT } from '../src/audit/audit-query.ts'
import { companionTable, rebuildTimeMarksSql } from '../src/audit/audit-time-marks.ts'
import { rebuildUnknownEntriesSql } from '../src/audit/audit-unknown-entries.ts'
import { MIGRATIONS } from '../src/audit/sqlite-audit-store.ts'
import { type SeedTrail, TABLE, take } from './seed-trail.ts'

interface SchemaObject { type: 'index' | 'trigger', name: string, sql: string }

function objectsOf (db: DatabaseSync): SchemaObject[] {
  return db.prepare(`SELECT type, name, sql FROM sqlite_master WHERE tbl_name = '${TABLE}' AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name`)
    .all() as unknown as SchemaObject[]
}

/** The indexes and triggers of the records as the store's migrations create them: run on an empty database, read back. */
function migratedObjects (): SchemaObject[] {
  const db = new DatabaseSync(':memory:')
  try {
    for (const migration of MIGRATIONS) db.exec(migration)
    return objectsOf(db)
  } finally {
    db.close()
  }
}

export function openSqliteSeedTrail (path: string): SeedTrail {
  const db = new DatabaseSync(path, { timeout: 5000 })
  const migrated = migratedObjects()
  const missing = (): SchemaObject[] => {
    const present = new Set(objectsOf(db).map((object) => object.name))
    return migrated.filter((object) => !present.has(object.name))
  }
  // For this connection only: a power cut while seeding may lose the seed, nothing else; a
  // killed seeder leaves its last transaction in the journal, rolled back at the next open.
  // The store sets WAL again whenever it opens the file.
  db.exec('PRAGMA journal_mode = DELETE')
  db.exec('PRAGMA synchronous = OFF')
  db.exec('PRAGMA cache_size = -524288')
  return {
    headSeq: async () => Number((db.prepare(`SELECT coalesce(max(seq), 0) AS head FROM ${TABLE}`).get() as { head: number }).head),
    record: async (seq) => {
      const row = db.prepare(`SELECT seq, entry_id, final, body, prev_hash, hash FROM ${TABLE} WHERE seq = ?`).get(seq) as Record<string, unknown>
      return { seq: Number(row.seq), entryId: row.entry_id as string, final: row.final === 1, body: row.body as string, prevHash: row.prev_hash as string, hash: row.hash as string }
    },
    prepareLoad: async () => {
      const names = new Set(migrated.map((object) => object.name))
      const present = objectsOf(db).filter((object) => names.has(object.name))
      db.exec('BEGIN')
      // Triggers first: one of them reads the unique index.
      for (const type of ['trigger', 'index']) {
        for (const object of present.filter((o) => o.type === type)) db.exec(`DROP ${type} "${object.name}"`)
      }
      db.exec('COMMIT')
    },
    load: async (rows, batch, onCommit) => {
      let insert: ReturnType<DatabaseSync['prepare']> | null = null
      let committed = 0
      for (;;) {
        let count = 0
        db.exec('BEGIN')
        for (const row of take<AuditRecordRow>(rows, batch)) {
          const query = insertRecordQuery(TABLE, row, SQLITE_DIALECT)
          insert ??= db.prepare(query.text)
          insert.run(...(query.values as never[]))
          count++
        }
        db.exec('COMMIT')
        if (count === 0) return committed
        committed += count
        onCommit(committed)
        if (count < batch) return committed
      }
    },
    finish: async () => {
      const created: string[] = []
      const loaded = missing().some((object) => object.type === 'trigger')
      // Indexes first, each in a transaction of its own: a killed seeder keeps what it built.
      const build = (type: SchemaObject['type']): void => {
        for (const object of missing().filter((o) => o.type === type)) {
          db.exec(object.sql)
          created.push(object.name)
        }
      }
      build('index')
      // The derived tables are filled by insert triggers, absent while loading: built here from
      // the records in one pass each, as the migrations that made them do, before the triggers
      // (a resumed seeder that finds the time-range tables filled leaves them; the entries that
      // read unknown are built anew, along the unique index just built).
      const filled = (['audit_time_marks', 'audit_late_entries'] as const).some((name) => db.prepare(`SELECT 1 FROM ${companionTable(TABLE, name)} LIMIT 1`).get() !== undefined)
      if (loaded) {
        db.exec('BEGIN')
        if (!filled) {
          db.exec(rebuildTimeMarksSql(TABLE))
          created.push('time-range tables')
        }
        db.exec(rebuildUnknownEntriesSql(TABLE))
        db.exec('COMMIT')
        created.push('unknown entries')
      }
      build('trigger')
      db.exec('PRAGMA journal_mode = WAL')
      return created
    },
    close: async () => {
      if (db.isTransaction) db.exec('ROLLBACK')
      db.close()
    }
  }
}
