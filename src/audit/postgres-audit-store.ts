import pg from 'pg'
import type { AuditEntry, AuditResolution } from './audit-entry.ts'
import type { AuditFilter, AuditPage } from './audit-store.ts'
import {
  type AuditRecordRow, type ChainedAuditStore, type ChainHead, type ChainSnapshot, type ChainVerifyResult, type CheckpointPage, planBatch,
  prepareRecord, type PreparedRecord, prepareResolution, recordFromRow, spanningEntriesFromRows, spanningEntriesQuery, verifyChain, type VerifyOptions
} from './audit-chain.ts'
import {
  batchContextFromRows, batchContextQuery, entryByIdQuery, headQuery, insertRecordQuery, planResolutionOf, POSTGRES_DIALECT, readEntry,
  readEntryPage, resolutionConflict, type SqlQuery, streamEntryPages
} from './audit-query.ts'
import { AuditStoreNotWritableError, AuditStoreOpenError, AuditStoreUnavailableError, AuditStoreUrlError } from './audit-errors.ts'
import { DEFAULT_APPEND_DEADLINE_MS, GroupCommit } from './group-commit.ts'
import { WriteHealth } from './write-health.ts'
import { bucketSql, LATE_MS, rebuildTimeMarksSql, TIME_BUCKET_MS, timeIndexFromRows, timeIndexQueries } from './audit-time-marks.ts'
import type { Checkpoint } from './audit-checkpoint.ts'
import { NEW_ROW, rebuildUnknownEntriesSql, TRACKED_RECORD, unknownEntriesFromRows, unknownEntriesQuery } from './audit-unknown-entries.ts'
import { allCheckpointsQuery, checkpointFromRow, headToSign, headToSignQuery, insertCheckpointQuery, readCheckpointPage } from './checkpoint-query.ts'

/*
 * PostgreSQL store: the same records, chain and queries as SQLite; only the SQL dialect and the
 * transactions differ.
 *
 * Several service instances append to one chain: each append runs in a transaction that first
 * takes a transaction-scoped advisory lock (one per schema), then reads the head, then inserts
 * seq = head + 1. The lock is taken in its own statement so that, under READ COMMITTED, the
 * statement that reads the head sees every append committed before the lock was granted.
 *
 * The database itself rejects UPDATE, DELETE and TRUNCATE of audit_records (triggers). A role
 * that owns the table can still disable those triggers, so in production let another role own
 * the schema and give the service only what it needs:
 *
 *   -- as the owner (e.g. a migration role), after one start-up with it (or the CLI) created the schema:
 *   GRANT USAGE ON SCHEMA audit TO livecut_service;
 *   GRANT SELECT ON audit.audit_schema_migrations TO livecut_service;
 *   GRANT SELECT, INSERT ON audit.audit_records, audit.audit_checkpoints, audit.audit_time_marks, audit.audit_late_entries TO livecut_service;
 *   REVOKE UPDATE, DELETE, TRUNCATE ON audit.audit_records, audit.audit_checkpoints, audit.audit_time_marks, audit.audit_late_entries FROM livecut_service;
 *   -- a derived index the records' insert trigger keeps (rows leave it); full verification checks it:
 *   GRANT SELECT, INSERT, DELETE ON audit.audit_unknown_entries TO livecut_service;
 *
 * Start-up skips every DDL statement when the schema is already at the current version, so the
 * service starts with only these grants; `checkWritable` reports a missing INSERT privilege.
 */

/** Advisory lock classes (first key); the second key is hashtext(schema). */
const APPEND_LOCK_CLASS = 1819042049
const MIGRATION_LOCK_CLASS = 1819042050
export const DEFAULT_POOL_SIZE = 4

/*
 * Every wait on the database is bounded, so a dropped or silent database turns into errors
 * (503s) within seconds instead of requests that hang: SPEC answers such a cut within 15 s.
 */
/** Getting a connection: a free one from the pool, or a new one through TCP and authentication. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 5000
/** Client side, every query: a server that stopped answering (a partition) fails the query, and its connection is dropped. */
export const DEFAULT_QUERY_TIMEOUT_MS = 5000
/** Server side, every statement (the append lock's wait included): the server gives up before the append's deadline. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 2000
/**
 * The server settings of the store's sessions (libpq `options`). Every read is a keyset page along
 * an index, a lookup or a range of seq; two planner features only hurt them (10 M entries):
 * - JIT compiles any query whose estimate passes jit_above_cost: 16 of 44 ms of a review page of
 *   52 projects was compiling.
 * - A bitmap scan gathers every match and sorts them: a project's page in a time range, whose
 *   window bounds the planner cannot see, was read that way once the table was vacuumed (12,601
 *   records for 51, 30–74 ms, where the ordered index scan takes 0.4 ms).
 */
export const SESSION_OPTIONS = '-c jit=off -c enable_bitmapscan=off'
/**
 * Server side: a session idle inside a transaction this long is ended. After a partition the
 * server may never hear that the client went away; this frees the append lock its transaction held.
 */
export const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000
/** TCP keep-alive on every connection, so an idle one whose peer vanished is found out. */
export const DEFAULT_KEEPALIVE_DELAY_MS = 10_000
/** A migration may rewrite a large table: its statements have this long instead. */
const MIGRATION_QUERY_TIMEOUT_MS = 30 * 60_000
const VERIFY_FETCH_SIZE = 1000
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** Version 2 adds records of kind `resolution`, as in the SQLite store (see its MIGRATIONS). */
export function migrationsFor (schema: string): readonly string[] {
  const s = `"${schema}"`
  return [`
    CREATE TABLE ${s}.audit_records (
      seq bigint PRIMARY KEY CHECK (seq >= 1),
      entry_id text NOT NULL,
      final boolean NOT NULL,
      entry_seq bigint NOT NULL CHECK (entry_seq BETWEEN 1 AND seq),
      project_id text,
      video_id text,
      actor_sub text,
      outcome text NOT NULL CHECK (outcome IN ('succeeded', 'rejected', 'failed', 'unknown')),
      time_ms bigint NOT NULL,
      body text NOT NULL,
      prev_hash text NOT NULL,
      hash text NOT NULL
    );
    CREATE UNIQUE INDEX audit_records_one_per_kind ON ${s}.audit_records (entry_id, final);
    CREATE INDEX audit_records_by_entry_seq ON ${s}.audit_records (entry_seq);
    CREATE INDEX audit_records_by_project ON ${s}.audit_records (project_id, entry_seq);
    CREATE INDEX audit_records_by_video ON ${s}.audit_records (video_id, project_id, entry_seq);
    CREATE INDEX audit_records_by_actor ON ${s}.audit_records (actor_sub, entry_seq);
    CREATE INDEX audit_records_by_outcome ON ${s}.audit_records (outcome, entry_seq);
    CREATE FUNCTION ${s}.audit_records_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_records is append-only: % rejected', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$;
    CREATE TRIGGER audit_records_no_update_delete BEFORE UPDATE OR DELETE ON ${s}.audit_records
      FOR EACH ROW EXECUTE FUNCTION ${s}.audit_records_reject_change();
    CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON ${s}.audit_records
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_records_reject_change();
    CREATE FUNCTION ${s}.audit_records_check_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NOT NEW.final AND EXISTS (SELECT 1 FROM ${s}.audit_records WHERE entry_id = NEW.entry_id AND final) THEN
          RAISE EXCEPTION 'audit_records: an intent after the final record is rejected' USING ERRCODE = 'unique_violation';
        END IF;
        RETURN NEW;
      END $$;
    CREATE TRIGGER audit_records_no_intent_after_final BEFORE INSERT ON ${s}.audit_records
      FOR EACH ROW EXECUTE FUNCTION ${s}.audit_records_check_insert();
  `, `
    ALTER TABLE ${s}.audit_records ADD COLUMN kind text NOT NULL DEFAULT 'entry' CHECK (kind IN ('entry', 'resolution'));
    DROP INDEX ${s}.audit_records_one_per_kind;
    CREATE UNIQUE INDEX audit_records_one_per_kind ON ${s}.audit_records (entry_id, kind, final);
    CREATE OR REPLACE FUNCTION ${s}.audit_records_check_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.kind = 'entry' AND NOT NEW.final AND EXISTS (SELECT 1 FROM ${s}.audit_records WHERE entry_id = NEW.entry_id AND kind = 'entry' AND final) THEN
          RAISE EXCEPTION 'audit_records: an intent after the final record is rejected' USING ERRCODE = 'unique_violation';
        END IF;
        RETURN NEW;
      END $$;
  `, `
    CREATE TABLE ${s}.audit_checkpoints (
      seq bigint PRIMARY KEY CHECK (seq >= 1),
      hash text NOT NULL,
      time text NOT NULL,
      key_id text NOT NULL,
      signature text NOT NULL
    );
    CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON ${s}.audit_checkpoints
      FOR EACH ROW EXECUTE FUNCTION ${s}.audit_records_reject_change();
    CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON ${s}.audit_checkpoints
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_records_reject_change();
  `, `
    CREATE INDEX audit_records_by_project_outcome ON ${s}.audit_records (project_id, outcome, entry_seq);
    CREATE INDEX audit_records_by_actor_outcome ON ${s}.audit_records (actor_sub, outcome, entry_seq);
    -- Resolutions are rare: knowing so, the planner reads them all for a page's join, which along
    -- the unique index is a walk of every record (167 ms at 1.75 M records); along this, nothing.
    CREATE INDEX audit_records_resolutions ON ${s}.audit_records (entry_id) WHERE kind = 'resolution';
  `, `
    -- A time range as an entry_seq window (audit-time-marks.ts), as in the SQLite store.
    CREATE TABLE ${s}.audit_time_marks (bucket bigint PRIMARY KEY, seq bigint NOT NULL);
    CREATE TABLE ${s}.audit_late_entries (entry_seq bigint PRIMARY KEY, time_ms bigint NOT NULL);
    ${rebuildTimeMarksSql(`${s}.audit_records`)}
    CREATE FUNCTION ${s}.audit_records_mark_time() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        -- Along the primary key, whatever the statistics say (a plan cached while the table was
        -- empty scanned it whole: 200,000 appends in one statement took 135 s).
        top bigint := (SELECT bucket FROM ${s}.audit_time_marks ORDER BY bucket DESC LIMIT 1);
        b bigint := ${bucketSql('NEW.time_ms')};
      BEGIN
        IF top IS NULL OR b > top THEN
          INSERT INTO ${s}.audit_time_marks (bucket, seq) VALUES (b, NEW.seq);
        ELSIF NEW.time_ms < top * ${TIME_BUCKET_MS} - ${LATE_MS} THEN
          INSERT INTO ${s}.audit_late_entries (entry_seq, time_ms) VALUES (NEW.seq, NEW.time_ms);
        END IF;
        RETURN NULL;
      END $$;
    CREATE TRIGGER audit_records_time_marks AFTER INSERT ON ${s}.audit_records
      FOR EACH ROW WHEN (NEW.kind = 'entry' AND NEW.seq = NEW.entry_seq) EXECUTE FUNCTION ${s}.audit_records_mark_time();
    CREATE TRIGGER audit_time_marks_no_update_delete BEFORE UPDATE OR DELETE ON ${s}.audit_time_marks
      FOR EACH ROW EXECUTE FUNCTION ${s}.audit_records_reject_change();
    CREATE TRIGGER audit_late_entries_no_update_delete BEFORE UPDATE OR DELETE ON ${s}.audit_late_entries
      FOR EACH ROW EXECUTE FUNCTION ${s}.audit_records_reject_change();
    CREATE TRIGGER audit_time_marks_no_truncate BEFORE TRUNCATE ON ${s}.audit_time_marks
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_records_reject_change();
    CREATE TRIGGER audit_late_entries_no_truncate BEFORE TRUNCATE ON ${s}.audit_late_entries
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_records_reject_change();
    ANALYZE ${s}.audit_time_marks;
    ANALYZE ${s}.audit_late_entries;
  `, `
    -- An actor with a project (or a few), as in the SQLite store: not a walk of every record of
    -- the actor, each fetched to check its project, nor a bitmap AND with all of the project's.
    CREATE INDEX audit_records_by_actor_project ON ${s}.audit_records (actor_sub, project_id, entry_seq);
  `, `
    -- The entries that read unknown (audit-unknown-entries.ts), as in the SQLite store.
    CREATE TABLE ${s}.audit_unknown_entries (
      seq bigint PRIMARY KEY,
      entry_seq bigint NOT NULL,
      project_id text,
      actor_sub text,
      time_ms bigint NOT NULL
    );
    CREATE UNIQUE INDEX audit_unknown_by_entry_seq ON ${s}.audit_unknown_entries (entry_seq);
    CREATE INDEX audit_unknown_by_project ON ${s}.audit_unknown_entries (project_id, entry_seq);
    CREATE INDEX audit_unknown_by_actor ON ${s}.audit_unknown_entries (actor_sub, entry_seq);
    ${rebuildUnknownEntriesSql(`${s}.audit_records`)}
    CREATE FUNCTION ${s}.audit_records_track_unknown() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.seq <> NEW.entry_seq THEN
          DELETE FROM ${s}.audit_unknown_entries WHERE entry_seq = NEW.entry_seq;
        END IF;
        IF NEW.outcome = 'unknown' THEN
          INSERT INTO ${s}.audit_unknown_entries VALUES (${NEW_ROW});
        END IF;
        RETURN NULL;
      END $$;
    CREATE TRIGGER audit_records_unknown_entries AFTER INSERT ON ${s}.audit_records
      FOR EACH ROW WHEN (${TRACKED_RECORD}) EXECUTE FUNCTION ${s}.audit_records_track_unknown();
    ANALYZE ${s}.audit_unknown_entries;
  `]
}

export interface PostgresAuditStoreOptions {
  /** Schema holding the tables; default the URL's `schema` parameter, else `public`. */
  schema?: string
  /** Open an existing trail in read-only transactions, without migrating (the CLI does). */
  readOnly?: boolean
  poolSize?: number
  connectionTimeoutMs?: number
  queryTimeoutMs?: number
  statementTimeoutMs?: number
  idleInTransactionTimeoutMs?: number
  /** An append not durable within this fails (group commit). */
  appendDeadlineMs?: number
  /** How long a successful append vouches for readiness. */
  writeFreshMs?: number
}

export class PostgresAuditStore implements ChainedAuditStore {
  readonly kind = 'postgres' as const
  readonly schema: string
  readonly #table: string
  readonly #checkpoints: string
  readonly #pool: pg.Pool
  readonly #readOnly: boolean
  #closed = false
  readonly #run = async (query: SqlQuery): Promise<Array<Record<string, unknown>>> =>
    await unavailableOnFailure(async () => (await this.#pool.query(query.text, query.values)).rows as Array<Record<string, unknown>>)

  readonly #health: WriteHealth
  readonly #groupCommit: GroupCommit

  constructor (url: string, options: PostgresAuditStoreOptions = {}) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new AuditStoreUrlError('not a postgres:// URL')
    }
    const schema = options.schema ?? parsed.searchParams.get('schema') ?? 'public'
    if (!SCHEMA_NAME.test(schema)) throw new AuditStoreUrlError(`schema ${JSON.stringify(schema)} must be a plain identifier`)
    parsed.searchParams.delete('schema')
    this.schema = schema
    this.#table = `"${schema}".audit_records`
    this.#checkpoints = `"${schema}".audit_checkpoints`
    this.#readOnly = options.readOnly ?? false
    this.#pool = new pg.Pool({
      connectionString: parsed.toString(),
      max: options.poolSize ?? DEFAULT_POOL_SIZE,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
      query_timeout: options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
      statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: DEFAULT_KEEPALIVE_DELAY_MS,
      application_name: 'livecut-bff audit',
      options: `${SESSION_OPTIONS}${this.#readOnly ? ' -c default_transaction_read_only=on' : ''}`
    })
    // An idle client that loses its server emits here; without a listener the process dies.
    // The next query gets a fresh client or fails, and the caller sees that failure.
    this.#pool.on('error', () => {})
    this.#health = new WriteHealth({ freshMs: options.writeFreshMs })
    this.#groupCommit = new GroupCommit(async (records, signal) => { await this.#writeBatch(records, signal) },
      { deadlineMs: options.appendDeadlineMs ?? DEFAULT_APPEND_DEADLINE_MS, health: this.#health })
  }

  /** Connects, then creates or migrates the schema (or, read-only, checks it is current). */
  async open (): Promise<void> {
    try {
      const migrations = migrationsFor(this.schema)
      const version = await this.#schemaVersion(this.#pool)
      if (version > migrations.length) throw new AuditStoreOpenError(`schema ${this.schema} is at version ${version}, newer than this service knows (${migrations.length})`)
      if (version === migrations.length) return
      if (this.#readOnly) throw new AuditStoreOpenError(version === 0 ? `schema ${this.schema} holds no audit trail` : `schema ${this.schema} is at version ${version}; start the service once to migrate it`)
      await this.#migrate(migrations)
    } catch (error) {
      await this.close()
      if ((error as { code?: string }).code?.startsWith('AUDIT_') === true) throw error
      throw new AuditStoreOpenError(`PostgreSQL: ${(error as Error).message}`, { cause: error })
    }
  }

  async #schemaVersion (db: pg.Pool | pg.PoolClient): Promise<number> {
    const { rows: [found] } = await db.query('SELECT to_regclass($1) IS NOT NULL AS present', [`"${this.schema}".audit_schema_migrations`])
    if (found?.present !== true) return 0
    const { rows: [row] } = await db.query(`SELECT coalesce(max(version), 0) AS version FROM "${this.schema}".audit_schema_migrations`)
    return Number(row?.version ?? 0)
  }

  /** Serialised across instances by an advisory lock, so simultaneous start-ups migrate once. */
  async #migrate (migrations: readonly string[]): Promise<void> {
    await this.#transaction(`BEGIN; SET LOCAL statement_timeout = ${MIGRATION_QUERY_TIMEOUT_MS}; SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_CLASS}, hashtext('${this.schema}'))`, async (client) => {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`)
      await client.query(`CREATE TABLE IF NOT EXISTS "${this.schema}".audit_schema_migrations (
        version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
      const version = await this.#schemaVersion(client)
      for (let next = version + 1; next <= migrations.length; next++) {
        // pg reads query_timeout from a query's config too; @types/pg does not list it there.
        await client.query({ text: migrations[next - 1] as string, query_timeout: MIGRATION_QUERY_TIMEOUT_MS } as pg.QueryConfig)
        await client.query(`INSERT INTO "${this.schema}".audit_schema_migrations (version) VALUES ($1)`, [next])
      }
      // A column a migration added has no statistics until autovacuum gets round to it; without
      // them the planner takes every row of the review queries' `kind = 'entry'` for rare and
      // reads a page in seconds. ANALYZE samples a fixed number of rows: seconds on any trail.
      if (version < migrations.length) await client.query({ text: `ANALYZE "${this.schema}".audit_records`, query_timeout: MIGRATION_QUERY_TIMEOUT_MS } as pg.QueryConfig)
    })
  }

  /**
   * Runs `work` between `begin` and COMMIT on one client; rolls back on failure. While checked
   * out, the client's 'error' event (its server went away) has a listener: the pool listens only
   * to idle clients, and an unheard 'error' would end the process. A client that failed, timed
   * out or was abandoned (`signal`) is destroyed, never returned to the pool.
   */
  async #transaction<T> (begin: string, work: (client: pg.PoolClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const client = await this.#pool.connect()
    if (signal?.aborted === true) {
      // Abandoned while waiting for the connection: its callers were told it failed; write nothing.
      client.release()
      throw signal.reason
    }
    let broken: Error | undefined
    const onError = (error: Error): void => { broken ??= error }
    const abandon = (): void => {
      broken ??= new AuditStoreNotWritableError('the transaction was abandoned')
      client.connection.stream.destroy()
    }
    client.on('error', onError)
    signal?.addEventListener('abort', abandon, { once: true })
    try {
      await client.query(begin)
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      // Only a client whose server answered (an SQL error, a record refused) can be rolled back;
      // one that timed out or lost its server is in an unknown state and is dropped.
      if (broken === undefined && answered(error)) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => { broken = rollbackError })
      } else {
        broken ??= error as Error
      }
      throw error
    } finally {
      signal?.removeEventListener('abort', abandon)
      client.removeListener('error', onError)
      if (broken !== undefined) client.connection.stream.destroy()
      client.release(broken)
    }
  }

  async append (entry: AuditEntry, final: boolean): Promise<void> {
    if (this.#readOnly) throw new AuditStoreNotWritableError('opened read-only')
    await this.#groupCommit.append(prepareRecord(entry, final))
  }

  async #writeBatch (records: PreparedRecord[], signal: AbortSignal): Promise<void> {
    await this.#transaction(`BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK_CLASS}, hashtext('${this.schema}'))`, async (client) => {
      // Four round trips a batch, whatever its size; both statements are prepared once per connection.
      const context = batchContextQuery(this.#table, records.map((record) => record.entryId), POSTGRES_DIALECT)
      const { rows: known } = await client.query({ name: 'audit-batch-context', ...context })
      const rows = planBatch(records, batchContextFromRows(known))
      await client.query({ name: 'audit-batch-insert', ...batchInsertQuery(this.#table, rows) })
    }, signal)
  }

  async getEntry (id: string, projectIds: readonly string[] | '*'): Promise<AuditEntry | null> {
    return await readEntry(this.#run, this.#table, POSTGRES_DIALECT, id, projectIds)
  }

  async listEntries (filter: AuditFilter, limit: number, cursor: string | null): Promise<AuditPage> {
    return await readEntryPage(this.#run, this.#table, POSTGRES_DIALECT, filter, limit, cursor)
  }

  streamEntries (filter: AuditFilter): AsyncIterable<AuditEntry> {
    return streamEntryPages(this.#run, this.#table, POSTGRES_DIALECT, filter)
  }

  /** Checked and appended under the append lock, in a transaction of its own (resolutions are rare). */
  async resolve (id: string, resolution: AuditResolution, projectIds: readonly string[] | '*'): Promise<AuditEntry> {
    if (this.#readOnly) throw new AuditStoreNotWritableError('opened read-only')
    const prepared = prepareResolution(id, resolution)
    // A database that cannot answer is 503 here as for reads; a lost race is the unique index's 409.
    return await unavailableOnFailure(async () => {
      try {
        return await this.#transaction(`BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK_CLASS}, hashtext('${this.schema}'))`, async (client) => {
          const read = async (query: SqlQuery) => (await client.query(query.text, query.values)).rows as Array<Record<string, unknown>>
          const [entryRow] = await read(entryByIdQuery(this.#table, id, POSTGRES_DIALECT))
          const [headRow] = await read(headQuery(this.#table))
          const { row, entry } = planResolutionOf(prepared, entryRow, headRow, projectIds)
          await read(insertRecordQuery(this.#table, row, POSTGRES_DIALECT))
          return entry
        })
      } catch (error) {
        throw resolutionConflict(error, id)
      }
    })
  }

  /**
   * One REPEATABLE READ snapshot read through a server-side cursor: every stored row in seq
   * order (duplicates included, which keyset pages would skip), a batch at a time.
   */
  async verify (options: VerifyOptions = {}): Promise<ChainVerifyResult> {
    return await unavailableOnFailure(async () => await this.#transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
      await client.query(`DECLARE audit_chain NO SCROLL CURSOR FOR SELECT * FROM ${this.#table} ORDER BY seq`)
      return await verifyChain(fetchRecords(client), options)
    }))
  }

  /** Under the append lock, like an append: the head read is the one chain's, whatever other instances write. */
  async appendCheckpoint (sign: (head: ChainHead) => Checkpoint): Promise<Checkpoint | null> {
    if (this.#readOnly) throw new AuditStoreNotWritableError('opened read-only')
    return await this.#transaction(`BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK_CLASS}, hashtext('${this.schema}'))`, async (client) => {
      const head = headToSign((await client.query(headToSignQuery(this.#table, this.#checkpoints))).rows)
      if (head === null) return null
      const checkpoint = sign(head)
      await client.query(insertCheckpointQuery(this.#checkpoints, checkpoint, POSTGRES_DIALECT))
      return checkpoint
    })
  }

  async listCheckpoints (limit: number, cursor: string | null): Promise<CheckpointPage> {
    return await readCheckpointPage(this.#run, this.#checkpoints, POSTGRES_DIALECT, limit, cursor)
  }

  /**
   * A REPEATABLE READ READ ONLY transaction on a client of its own, kept until `close`. Its
   * snapshot is exported, so other connections (parallel readers) join it and read the same rows.
   */
  async openSnapshot (join?: string): Promise<ChainSnapshot> {
    const client = await this.#pool.connect()
    let broken: Error | undefined
    // As in #transaction: a checked-out client's 'error' must be heard, or the process ends.
    const onError = (error: Error): void => { broken ??= error }
    client.on('error', onError)
    const release = (): void => {
      client.off('error', onError)
      client.release(broken)
    }
    try {
      // The exporting transaction sits idle while the readers that joined it work: it stays open until close.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL idle_in_transaction_session_timeout = 0')
      let id: string
      if (join === undefined) {
        id = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]?.id as string
      } else {
        await client.query(`SET TRANSACTION SNAPSHOT ${pg.escapeLiteral(join)}`)
        id = join
      }
      const table = this.#table
      return {
        id,
        head: async () => {
          const [row] = (await client.query(`SELECT seq, hash FROM ${table} ORDER BY seq DESC LIMIT 1`)).rows
          return row === undefined ? null : { seq: Number(row.seq), hash: row.hash as string }
        },
        checkpoints: async () => (await client.query(allCheckpointsQuery(this.#checkpoints))).rows.map(checkpointFromRow),
        records: (from, to) => rangeRecords(client, table, from, to),
        spanningEntries: async (seq, after, to) => spanningEntriesFromRows((await client.query(spanningEntriesQuery(table, (n) => `$${n}`), [seq, after, to])).rows),
        timeIndex: () => {
          const { marks, late } = timeIndexQueries(table)
          return timeIndexFromRows(cursorRows(client, 'audit_time_marks_rows', marks), cursorRows(client, 'audit_late_entries_rows', late))
        },
        unknownEntries: () => unknownEntriesFromRows(cursorRows(client, 'audit_unknown_entries_rows', unknownEntriesQuery(table))),
        close: async () => {
          if (broken === undefined) await client.query('ROLLBACK').catch((error: Error) => { broken = error })
          release()
        }
      }
    } catch (error) {
      broken ??= error as Error
      release()
      throw error
    }
  }

  onAppended (listener: (records: number) => void): void {
    this.#groupCommit.onCommitted(listener)
  }

  /**
   * The connection must work, the server must not be a standby nor read-only, and the role must
   * hold INSERT on the table; then, unless an append succeeded lately, a probe write: a
   * transaction that takes the append lock and commits with a transaction id of its own, so the
   * server must write and flush its WAL, as an append's commit does.
   */
  async checkWritable (): Promise<void> {
    if (this.#readOnly) throw new AuditStoreNotWritableError('opened read-only')
    let row: { in_recovery: boolean, read_only: boolean, can_insert: boolean } | undefined
    try {
      ({ rows: [row] } = await this.#pool.query<NonNullable<typeof row>>(`SELECT pg_is_in_recovery() AS in_recovery,
        current_setting('transaction_read_only') = 'on' AS read_only,
        has_table_privilege($1, 'INSERT') AS can_insert`, [this.#table]))
    } catch (error) {
      throw new AuditStoreNotWritableError((error as Error).message, { cause: error })
    }
    if (row?.in_recovery === true) throw new AuditStoreNotWritableError('the server is a standby (in recovery)')
    if (row?.read_only === true) throw new AuditStoreNotWritableError('transactions are read-only')
    if (row?.can_insert !== true) throw new AuditStoreNotWritableError(`the role may not INSERT into ${this.#table}`)
    await this.#health.check(async () => { await this.#probeWrite() })
  }

  async #probeWrite (): Promise<void> {
    try {
      await this.#transaction(`BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK_CLASS}, hashtext('${this.schema}'))`, async (client) => {
        await client.query('SELECT pg_current_xact_id()')
      })
    } catch (error) {
      throw new AuditStoreNotWritableError(`a probe write failed: ${(error as Error).message}`, { cause: error })
    }
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#pool.end()
  }
}

/** The columns of audit_records: their row fields and PostgreSQL types. */
const COLUMNS: ReadonlyArray<[keyof AuditRecordRow, string, string]> = [
  ['seq', 'seq', 'bigint'], ['entryId', 'entry_id', 'text'], ['kind', 'kind', 'text'], ['final', 'final', 'boolean'], ['entrySeq', 'entry_seq', 'bigint'],
  ['projectId', 'project_id', 'text'], ['videoId', 'video_id', 'text'], ['actorSub', 'actor_sub', 'text'], ['outcome', 'outcome', 'text'],
  ['timeMs', 'time_ms', 'bigint'], ['body', 'body', 'text'], ['prevHash', 'prev_hash', 'text'], ['hash', 'hash', 'text']
]

/** One INSERT of any number of rows into `table` (schema-qualified): one array parameter per column, so one text fits every batch. */
export function batchInsertQuery (table: string, rows: readonly AuditRecordRow[]): SqlQuery {
  return {
    text: `INSERT INTO ${table} (${COLUMNS.map(([, column]) => column).join(', ')})
      SELECT * FROM unnest(${COLUMNS.map(([, , type], i) => `$${i + 1}::${type}[]`).join(', ')})`,
    values: COLUMNS.map(([field]) => rows.map((row) => row[field]))
  }
}

/** The server answered: the error is about the statement, and the connection can still roll back. */
function answered (error: unknown): boolean {
  return error instanceof pg.DatabaseError || (error as { code?: string }).code?.startsWith('AUDIT_') === true
}

/**
 * SQLSTATE classes of a server that cannot serve: connection exception, insufficient resources
 * (disk full), operator intervention (statement timeout, shutdown), system error.
 */
const UNAVAILABLE_CLASSES = new Set(['08', '53', '57', '58'])

/**
 * A read that failed for the database's sake (unreachable, timed out, connection lost, shutting
 * down) is the store being unavailable (503); any other error is left as it is.
 */
async function unavailableOnFailure<T> (read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    const unavailable = error instanceof pg.DatabaseError
      ? UNAVAILABLE_CLASSES.has(error.code?.slice(0, 2) ?? '')
      : (error as { code?: string }).code?.startsWith('AUDIT_') !== true
    if (!unavailable) throw error
    throw new AuditStoreUnavailableError((error as Error).message, { cause: error })
  }
}

async function * fetchRecords (client: pg.PoolClient): AsyncGenerator<AuditRecordRow> {
  for (;;) {
    const { rows } = await client.query(`FETCH ${VERIFY_FETCH_SIZE} FROM audit_chain`)
    if (rows.length === 0) return
    for (const row of rows) yield recordFromRow(row as Record<string, unknown>)
  }
}

/** Records from..to through a server-side cursor, a batch at a time. */
async function * rangeRecords (client: pg.PoolClient, table: string, from: number, to: number): AsyncGenerator<AuditRecordRow> {
  const rows = cursorRows(client, 'audit_range', `SELECT * FROM ${table} WHERE seq BETWEEN $1 AND $2 ORDER BY seq`, [from, to])
  for await (const row of rows) yield recordFromRow(row)
}

/** The rows of a query through a server-side cursor of this name, a batch at a time. */
async function * cursorRows (client: pg.PoolClient, name: string, text: string, values: unknown[] = []): AsyncGenerator<Record<string, unknown>> {
  await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${text}`, values)
  try {
    for (;;) {
      const { rows } = await client.query(`FETCH ${VERIFY_FETCH_SIZE} FROM ${name}`)
      if (rows.length === 0) return
      yield * rows as Array<Record<string, unknown>>
    }
  } finally {
    await client.query(`CLOSE ${name}`)
  }
}

export async function openPostgresAuditStore (url: string, options: PostgresAuditStoreOptions = {}): Promise<PostgresAuditStore> {
  const store = new PostgresAuditStore(url, options)
  await store.open()
  return store
}
