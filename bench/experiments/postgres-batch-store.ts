/**
 * PROTOTYPE, not the service's code: the PostgreSQL store as it is (reads, verification,
 * checks, the group commit from src/audit/group-commit.ts), except how a batch is written.
 *
 * src writes a batch of k records in 2k + 2 round trips, all under the chain's advisory lock:
 * per record, the append-context query and the INSERT, each parsed and planned again. Here a
 * batch takes four, whatever its size: BEGIN + lock; one query for the head and for every record
 * the batch's entries already have; one INSERT of all rows (array parameters, a named
 * statement planned once per connection); COMMIT. The chain is planned in JavaScript with the
 * same `planAppend`, so the rows are the ones src would write.
 */
import pg from 'pg'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import { type AppendContext, type AuditRecordRow, planAppend, prepareRecord, type PreparedRecord } from '../../src/audit/audit-chain.ts'
import { GroupCommit } from '../../src/audit/group-commit.ts'
import { PostgresAuditStore, type PostgresAuditStoreOptions } from '../../src/audit/postgres-audit-store.ts'
import { postgresBatchInsert } from '../seed-audit.ts'

export * from '../../src/audit/postgres-audit-store.ts'

/** The store's own advisory lock class for appends (src/audit/postgres-audit-store.ts). */
const APPEND_LOCK_CLASS = 1819042049

export class BatchedPostgresAuditStore extends PostgresAuditStore {
  readonly #writer: pg.Pool
  readonly #table: string
  readonly #groupCommit = new GroupCommit(async (records) => { await this.#writeBatch(records) })

  constructor (url: string, options: PostgresAuditStoreOptions = {}) {
    super(url, options)
    const parsed = new URL(url)
    parsed.searchParams.delete('schema')
    this.#table = `"${this.schema}".audit_records`
    // One connection is enough: batches are written one after another anyway (the lock).
    this.#writer = new pg.Pool({ connectionString: parsed.toString(), max: 1, application_name: 'livecut-bff audit (batch prototype)' })
    this.#writer.on('error', () => {})
  }

  override async append (entry: AuditEntry, final: boolean): Promise<void> {
    await this.#groupCommit.append(prepareRecord(entry, final))
  }

  async #writeBatch (records: PreparedRecord[]): Promise<void> {
    const client = await this.#writer.connect()
    let broken: Error | undefined
    try {
      await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK_CLASS}, hashtext('${this.schema}'))`)
      const { rows: known } = await client.query<{ head_seq: string | null, head_hash: string | null, entry_id: string | null, final: boolean | null, seq: string | null, project_id: string | null, time_ms: string | null }>({
        name: `bench-batch-context-${this.schema}`,
        text: `SELECT h.seq AS head_seq, h.hash AS head_hash, r.entry_id, r.final, r.seq, r.project_id, r.time_ms
          FROM (SELECT seq, hash FROM ${this.#table} ORDER BY seq DESC LIMIT 1) h
          LEFT JOIN ${this.#table} r ON r.entry_id = ANY($1::text[])`,
        values: [[...new Set(records.map((record) => record.entryId))]]
      })
      const first = known[0]
      let head: AppendContext['head'] = first?.head_seq != null ? { seq: Number(first.head_seq), hash: first.head_hash as string } : null
      const intents = new Map<string, NonNullable<AppendContext['intent']>>()
      const finals = new Set<string>()
      for (const row of known) {
        if (row.entry_id === null) continue
        if (row.final === true) finals.add(row.entry_id)
        else intents.set(row.entry_id, { seq: Number(row.seq), projectId: row.project_id, timeMs: Number(row.time_ms) })
      }
      const rows: AuditRecordRow[] = []
      for (const record of records) {
        // Throws for a bad record: GroupCommit then writes the batch's records one by one.
        const row = planAppend(record, { head, intent: intents.get(record.entryId) ?? null, hasFinal: finals.has(record.entryId) })
        rows.push(row)
        head = { seq: row.seq, hash: row.hash }
        if (row.final) finals.add(row.entryId)
        else intents.set(row.entryId, { seq: row.seq, projectId: row.projectId, timeMs: row.timeMs })
      }
      const insert = postgresBatchInsert(this.#table, rows)
      await client.query({ name: `bench-batch-insert-${this.schema}`, text: insert.text, values: insert.values })
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => { broken = rollbackError })
      throw error
    } finally {
      client.release(broken)
    }
  }

  override async close (): Promise<void> {
    await this.#writer.end().catch(() => {})
    await super.close()
  }
}

export async function openPostgresAuditStore (url: string, options: PostgresAuditStoreOptions = {}): Promise<PostgresAuditStore> {
  const store = new BatchedPostgresAuditStore(url, options)
  await store.open()
  return store
}
