import type { ChainedAuditStore } from './audit-chain.ts'
import { AuditStoreUrlError } from './audit-errors.ts'

export const DEFAULT_AUDIT_STORE_URL = 'sqlite:./data/audit.db'

export interface OpenAuditStoreOptions {
  /** Open an existing trail for reading only: nothing is created, migrated or written. */
  readOnly?: boolean
}

/**
 * Opens the store an `AUDIT_STORE_URL` names: `sqlite:<path>` (file and directory created on
 * first open; `sqlite::memory:` for tests) or `postgres://…` / `postgresql://…` (schema created
 * or migrated; an optional `?schema=<name>` picks the schema, default `public`).
 */
export async function openAuditStore (url: string, options: OpenAuditStoreOptions = {}): Promise<ChainedAuditStore> {
  // Each driver is loaded only when its URL is used: a SQLite service never loads pg.
  if (url.startsWith('sqlite:')) {
    const { openSqliteAuditStore, sqlitePathOf } = await import('./sqlite-audit-store.ts')
    let path: string
    try {
      path = sqlitePathOf(url)
    } catch (error) {
      throw new AuditStoreUrlError((error as Error).message)
    }
    return await openSqliteAuditStore(path, options)
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPostgresAuditStore } = await import('./postgres-audit-store.ts')
    return await openPostgresAuditStore(url, options)
  }
  throw new AuditStoreUrlError(`${JSON.stringify(redactUrl(url))} is neither sqlite:<path> nor postgres://…`)
}

/** The URL without its password, for messages. */
export function redactUrl (url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*:)[^@/]*@/i, '$1***@')
}
