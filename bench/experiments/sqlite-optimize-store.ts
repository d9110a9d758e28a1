/**
 * PROTOTYPE, not the service's code: the SQLite store as it is, except that an existing trail
 * gets query-planner statistics before the store opens it (`PRAGMA optimize` with a bounded
 * `analysis_limit`, as SQLite recommends for long-lived databases).
 *
 * Without statistics SQLite cannot tell that `actor_sub = ?` selects a few hundred rows and
 * `outcome = ?` hundreds of thousands; for `?actor=…&outcome=…` it may walk the outcome index.
 */
import { existsSync } from 'node:fs'
import { DatabaseSync } from 'node:sqlite'
import { openSqliteAuditStore as openRealStore, type SqliteAuditStore, type SqliteAuditStoreOptions } from '../../src/audit/sqlite-audit-store.ts'

export * from '../../src/audit/sqlite-audit-store.ts'

/** Rows sampled per index: bounds the time on a large trail. */
const ANALYSIS_LIMIT = 400

export async function openSqliteAuditStore (location: string, options: SqliteAuditStoreOptions = {}): Promise<SqliteAuditStore> {
  if (options.readOnly !== true && location !== ':memory:' && existsSync(location)) {
    const startedAt = performance.now()
    const db = new DatabaseSync(location, { timeout: options.busyTimeoutMs ?? 5000 })
    try {
      db.exec(`PRAGMA analysis_limit = ${ANALYSIS_LIMIT}`)
      // 0x10002: analyse every table that needs it, even on a connection that ran no query yet.
      db.exec('PRAGMA optimize = 0x10002')
    } finally {
      db.close()
    }
    console.error(`sqlite-optimize: statistics gathered in ${Math.round(performance.now() - startedAt)} ms`)
  }
  return await openRealStore(location, options)
}
