import { accessSync, constants, existsSync, mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { AuditEntry, AuditResolution } from './audit-entry.ts'
import type { AuditFilter, AuditPage } from './audit-store.ts'
import {
  type AuditRecordRow, type BatchContext, type ChainedAuditStore, type ChainHead, type ChainSnapshot, type ChainVerifyResult, type CheckpointPage, type KnownRecord, planBatch,
  prepareRecord, type PreparedRecord, prepareResolution, recordFromRow, spanningEntriesFromRows, spanningEntriesQuery, verifyChain, type VerifyOptions
} from './audit-chain.ts'
import {
  batchContextFromRows, batchContextQuery, entryByIdQuery, headQuery, insertRecordQuery, planResolutionOf, readEntry, readEntryPage,
  resolutionConflict, type SqlQuery, SQLITE_DIALECT, streamEntryPages
} from './audit-query.ts'
import { AuditStoreNotWritableError, AuditStoreOpenError } from './audit-errors.ts'
import type { Checkpoint } from './audit-checkpoint.ts'
import { allCheckpointsQuery, checkpointFromRow, headToSign, headToSignQuery, insertCheckpointQuery, readCheckpointPage } from './checkpoint-query.ts'
import { FileSync } from './file-sync.ts'
import { DEFAULT_APPEND_DEADLINE_MS, GroupCommit } from './group-commit.ts'
import { bucketSql, LATE_MS, rebuildTimeMarksSql, TIME_BUCKET_MS, timeIndexFromRows, timeIndexQueries } from './audit-time-marks.ts'
import { WriteHealth } from './write-health.ts'
import { NEW_ROW, rebuildUnknownEntriesSql, TRACKED_RECORD, unknownEntriesFromRows, unknownEntriesQuery } from './audit-unknown-entries.ts'

const TABLE = 'audit_records'
const CHECKPOINTS = 'audit_checkpoints'
export const DEFAULT_BUSY_TIMEOUT_MS = 5000
/** Verification yields to the event loop this often, so a long chain does not stall requests. */
const VERIFY_YIELD_EVERY = 1000
const STATEMENT_CACHE_SIZE = 128

/**
 * Schema versions, applied in order and counted in `PRAGMA user_version`.
 *
 * `audit_records` holds one row per record. The unique index on (entry_id, final) allows one
 * intent and one final record per entry; a trigger refuses an intent after the final; two more
 * refuse every UPDATE and DELETE. The other indexes serve the review filters, each ending in
 * entry_seq so a page is read in order along the index: by project, by video (and project),
 * by actor, by outcome, and over everything.
 *
 * Version 2: records of kind `resolution` (an entry's `unknown` outcome resolved by a person).
 * The unique index becomes (entry_id, kind, final): one intent, one final and one resolution per
 * entry, the last enforced by the database even when two resolutions race. Entry records keep
 * kind `entry` (the column's default), so trails written before read and verify unchanged.
 *
 * Version 3: `audit_checkpoints`, the signed checkpoints (one per seq at most), append-only too.
 *
 * Version 4: composite indexes of project or actor with outcome. Version 5: the time marks.
 * Version 6: the index of actor and project. Version 7: the entries that read unknown.
 */
export const MIGRATIONS: readonly string[] = [`
  CREATE TABLE audit_records (
    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
    entry_id TEXT NOT NULL,
    final INTEGER NOT NULL CHECK (final IN (0, 1)),
    entry_seq INTEGER NOT NULL CHECK (entry_seq BETWEEN 1 AND seq),
    project_id TEXT,
    video_id TEXT,
    actor_sub TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'rejected', 'failed', 'unknown')),
    time_ms INTEGER NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  ) STRICT;
  CREATE UNIQUE INDEX audit_records_one_per_kind ON audit_records (entry_id, final);
  CREATE INDEX audit_records_by_entry_seq ON audit_records (entry_seq);
  CREATE INDEX audit_records_by_project ON audit_records (project_id, entry_seq);
  CREATE INDEX audit_records_by_video ON audit_records (video_id, project_id, entry_seq);
  CREATE INDEX audit_records_by_actor ON audit_records (actor_sub, entry_seq);
  CREATE INDEX audit_records_by_outcome ON audit_records (outcome, entry_seq);
  CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
    BEGIN SELECT RAISE(ABORT, 'audit_records is append-only: UPDATE rejected'); END;
  CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
    BEGIN SELECT RAISE(ABORT, 'audit_records is append-only: DELETE rejected'); END;
  CREATE TRIGGER audit_records_no_intent_after_final BEFORE INSERT ON audit_records
    WHEN NEW.final = 0 AND EXISTS (SELECT 1 FROM audit_records WHERE entry_id = NEW.entry_id AND final = 1)
    BEGIN SELECT RAISE(ABORT, 'audit_records: an intent after the final record is rejected'); END;
`, `
  ALTER TABLE audit_records ADD COLUMN kind TEXT NOT NULL DEFAULT 'entry' CHECK (kind IN ('entry', 'resolution'));
  DROP INDEX audit_records_one_per_kind;
  CREATE UNIQUE INDEX audit_records_one_per_kind ON audit_records (entry_id, kind, final);
  DROP TRIGGER audit_records_no_intent_after_final;
  CREATE TRIGGER audit_records_no_intent_after_final BEFORE INSERT ON audit_records
    WHEN NEW.kind = 'entry' AND NEW.final = 0
      AND EXISTS (SELECT 1 FROM audit_records WHERE entry_id = NEW.entry_id AND kind = 'entry' AND final = 1)
    BEGIN SELECT RAISE(ABORT, 'audit_records: an intent after the final record is rejected'); END;
`, `
  CREATE TABLE audit_checkpoints (
    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
    hash TEXT NOT NULL,
    time TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
  ) STRICT;
  CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE rejected'); END;
  CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE rejected'); END;
`,
// Outcome is a column of four values: combined with a project or an actor, a page is read in
// order along one of these instead of walking the project's, the actor's or the outcome's
// records until enough match (BENCHMARKS.md, the review API at scale; audit-query-plans.test.ts).
`
  CREATE INDEX audit_records_by_project_outcome ON audit_records (project_id, outcome, entry_seq);
  CREATE INDEX audit_records_by_actor_outcome ON audit_records (actor_sub, outcome, entry_seq);
`,
// A time range as an entry_seq window (audit-time-marks.ts): the marks and the late entries,
// built from the trail as found, then kept by a trigger on every entry's first record.
`
  CREATE TABLE audit_time_marks (bucket INTEGER PRIMARY KEY, seq INTEGER NOT NULL) STRICT;
  CREATE TABLE audit_late_entries (entry_seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL) STRICT;
  ${rebuildTimeMarksSql(TABLE)}
  CREATE TRIGGER audit_records_time_marks AFTER INSERT ON audit_records
    WHEN NEW.kind = 'entry' AND NEW.seq = NEW.entry_seq
    BEGIN
      INSERT INTO audit_time_marks (bucket, seq) SELECT b, NEW.seq FROM (SELECT ${bucketSql('NEW.time_ms')} AS b)
        WHERE b > coalesce((SELECT max(bucket) FROM audit_time_marks), b - 1);
      INSERT INTO audit_late_entries (entry_seq, time_ms) SELECT NEW.seq, NEW.time_ms
        WHERE NEW.time_ms < (SELECT max(bucket) FROM audit_time_marks) * ${TIME_BUCKET_MS} - ${LATE_MS};
    END;
  CREATE TRIGGER audit_time_marks_no_change BEFORE UPDATE ON audit_time_marks
    BEGIN SELECT RAISE(ABORT, 'audit_time_marks is append-only: UPDATE rejected'); END;
  CREATE TRIGGER audit_time_marks_no_delete BEFORE DELETE ON audit_time_marks
    BEGIN SELECT RAISE(ABORT, 'audit_time_marks is append-only: DELETE rejected'); END;
  CREATE TRIGGER audit_late_entries_no_change BEFORE UPDATE ON audit_late_entries
    BEGIN SELECT RAISE(ABORT, 'audit_late_entries is append-only: UPDATE rejected'); END;
  CREATE TRIGGER audit_late_entries_no_delete BEFORE DELETE ON audit_late_entries
    BEGIN SELECT RAISE(ABORT, 'audit_late_entries is append-only: DELETE rejected'); END;
`,
// An actor with a project (or a few): read in order along the actor's records in the project,
// not along all of the actor's, each looked up to check its project (BENCHMARKS.md).
`
  CREATE INDEX audit_records_by_actor_project ON audit_records (actor_sub, project_id, entry_seq);
`,
// The entries that read unknown (audit-unknown-entries.ts), built from the trail as found, then
// kept by a trigger on the entry records that may change them: intents and finals after them.
`
  CREATE TABLE audit_unknown_entries (
    seq INTEGER PRIMARY KEY,
    entry_seq INTEGER NOT NULL,
    project_id TEXT,
    actor_sub TEXT,
    time_ms INTEGER NOT NULL
  ) STRICT;
  CREATE UNIQUE INDEX audit_unknown_by_entry_seq ON audit_unknown_entries (entry_seq);
  CREATE INDEX audit_unknown_by_project ON audit_unknown_entries (project_id, entry_seq);
  CREATE INDEX audit_unknown_by_actor ON audit_unknown_entries (actor_sub, entry_seq);
  ${rebuildUnknownEntriesSql(TABLE)}
  CREATE TRIGGER audit_records_unknown_entries AFTER INSERT ON audit_records
    WHEN ${TRACKED_RECORD}
    BEGIN
      DELETE FROM audit_unknown_entries WHERE entry_seq = NEW.entry_seq AND NEW.seq <> NEW.entry_seq;
      INSERT INTO audit_unknown_entries SELECT ${NEW_ROW} WHERE NEW.outcome = 'unknown';
    END;
`]

export interface SqliteAuditStoreOptions {
  /** Open an existing trail without writing to it (the CLI does, on a copy or a live file). */
  readOnly?: boolean
  busyTimeoutMs?: number
  /** An append not durable within this fails (group commit). */
  appendDeadlineMs?: number
  /** How long a successful append vouches for readiness. */
  writeFreshMs?: number
}

/**
 * The embedded store: one SQLite file through `node:sqlite`, WAL mode; a record is on disk when
 * `append` resolves (see `#durable`); appends arriving together share one commit (group
 * commit). Appends take the write lock with `BEGIN IMMEDIATE`,
 * so several processes on one file still build one chain. `node:sqlite` is synchronous: a
 * statement blocks the event loop while it runs (and while it waits for the lock, up to
 * `busyTimeoutMs`), which is the price of the zero-dependency default.
 */
export class SqliteAuditStore implements ChainedAuditStore {
  readonly kind = 'sqlite' as const
  readonly location: string
  readonly #db: DatabaseSync
  readonly #readOnly: boolean
  readonly #busyTimeoutMs: number
  readonly #statements = new Map<string, StatementSync>()
  readonly #runSync = (query: SqlQuery): Array<Record<string, unknown>> =>
    this.#statement(query.text).all(...(query.values as never[])) as Array<Record<string, unknown>>

  readonly #run = async (query: SqlQuery): Promise<Array<Record<string, unknown>>> => this.#runSync(query)
  readonly #health: WriteHealth
  readonly #groupCommit: GroupCommit
  readonly #openIntents = new OpenIntents()
  /** The WAL file `#durable` syncs: null where SQLite keeps no WAL (in memory, or a file system that refused WAL mode). */
  #wal: FileSync | null = null

  constructor (location: string, options: SqliteAuditStoreOptions = {}) {
    this.location = location === ':memory:' ? location : resolve(location)
    this.#readOnly = options.readOnly ?? false
    this.#busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
    this.#health = new WriteHealth({ freshMs: options.writeFreshMs })
    this.#groupCommit = new GroupCommit(async (records) => { await this.#writeBatch(records) },
      { deadlineMs: options.appendDeadlineMs ?? DEFAULT_APPEND_DEADLINE_MS, health: this.#health })
    if (this.location !== ':memory:') {
      if (this.#readOnly && !existsSync(this.location)) throw new AuditStoreOpenError(`no audit database at ${this.location}`)
      if (!this.#readOnly) mkdirSync(dirname(this.location), { recursive: true })
    }
    try {
      this.#db = new DatabaseSync(this.location, { readOnly: this.#readOnly, timeout: this.#busyTimeoutMs })
    } catch (error) {
      throw new AuditStoreOpenError(`${this.location}: ${(error as Error).message}`, { cause: error })
    }
    try {
      if (this.#readOnly) this.#checkSchema()
      else this.#migrate()
    } catch (error) {
      this.#db.close()
      throw error
    }
  }

  #migrate (): void {
    const db = this.#db
    db.exec(`PRAGMA busy_timeout = ${this.#busyTimeoutMs}`)
    const { journal_mode: mode } = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string }
    // The WAL file exists from this migration's write on, and stays while this connection is open.
    if (mode === 'wal' && this.location !== ':memory:') this.#wal = new FileSync(`${this.location}-wal`)
    // FULL would fsync the WAL inside every COMMIT, blocking the event loop; `#durable` does that sync off it.
    db.exec(`PRAGMA synchronous = ${this.#wal !== null ? 'NORMAL' : 'FULL'}`)
    this.#writeTransaction(() => {
      const version = this.#schemaVersion()
      if (version > MIGRATIONS.length) throw new AuditStoreOpenError(`${this.location} has schema version ${version}, newer than this service knows (${MIGRATIONS.length})`)
      for (const migration of MIGRATIONS.slice(version)) db.exec(migration)
      db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`)
    })
    // Planner statistics: without them a filter like actor+outcome picks the wrong index at 1 M rows.
    db.exec('PRAGMA analysis_limit = 400')
    db.exec('PRAGMA optimize = 0x10002')
  }

  /** `body` under the write lock (`BEGIN IMMEDIATE`), committed; rolled back when it throws, the error (mapped by `mapError`) rethrown. */
  #writeTransaction<T> (body: () => T, mapError: (error: unknown) => unknown = (error) => error): T {
    const db = this.#db
    db.exec('BEGIN IMMEDIATE')
    try {
      const result = body()
      db.exec('COMMIT')
      return result
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK')
      throw mapError(error)
    }
  }

  #checkSchema (): void {
    const version = this.#schemaVersion()
    if (version !== MIGRATIONS.length) {
      throw new AuditStoreOpenError(version === 0
        ? `${this.location} holds no audit trail`
        : `${this.location} has schema version ${version}; this tool reads version ${MIGRATIONS.length}`)
    }
  }

  #schemaVersion (): number {
    return Number((this.#db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version)
  }

  #statement (text: string): StatementSync {
    let statement = this.#statements.get(text)
    if (statement === undefined) {
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) this.#statements.clear()
      statement = this.#db.prepare(text)
      this.#statements.set(text, statement)
    }
    return statement
  }

  async append (entry: AuditEntry, final: boolean): Promise<void> {
    if (this.#readOnly) throw new AuditStoreNotWritableError('opened read-only')
    await this.#groupCommit.append(prepareRecord(entry, final))
  }

  /**
   * A batch is first planned from what this store already knows: the head (read under the lock)
   * and its own committed intents; only finals whose intent it did not write are looked up. A
   * duplicate the plan could not see is refused by the table's unique index or trigger; then the
   * batch is planned again from the table, which names the record at fault as before.
   */
  async #writeBatch (records: PreparedRecord[]): Promise<void> {
    try {
      this.#insertBatch(records, true)
    } catch (error) {
      if (!isConstraintError(error)) throw error
      this.#insertBatch(records, false)
    }
    await this.#durable()
  }

  /**
   * Makes what was committed durable: with `synchronous=NORMAL` a COMMIT leaves its frames in the
   * WAL file unsynced, and this is the one WAL sync that `synchronous=FULL` adds after each commit,
   * run on libuv's threadpool so that requests go on while the disk works. Every write resolves
   * only after it; a reader may see a record a moment before it is durable.
   */
  async #durable (): Promise<void> {
    await this.#wal?.sync()
  }

  #insertBatch (records: PreparedRecord[], fromMemory: boolean): void {
    const rows = this.#writeTransaction(() => {
      const planned = planBatch(records, fromMemory ? this.#batchContextFromMemory(records) : this.#batchContextFromTable(records.map((record) => record.entryId)))
      for (const row of planned) {
        const insert = insertRecordQuery(TABLE, row, SQLITE_DIALECT)
        this.#statement(insert.text).run(...(insert.values as never[]))
      }
      return planned
    })
    for (const row of rows) this.#openIntents.remember(row)
  }

  #batchContextFromTable (entryIds: readonly string[]): BatchContext {
    return batchContextFromRows(this.#runSync(batchContextQuery(TABLE, entryIds, SQLITE_DIALECT)))
  }

  /** Intents are assumed new (the table refuses them otherwise); a final's intent comes from memory when this store wrote it. */
  #batchContextFromMemory (records: readonly PreparedRecord[]): BatchContext {
    const known: KnownRecord[] = []
    const lookUp: string[] = []
    for (const record of records) {
      if (!record.final) continue
      const intent = this.#openIntents.get(record.entryId)
      if (intent !== undefined) known.push(intent)
      else lookUp.push(record.entryId)
    }
    if (lookUp.length > 0) {
      const context = this.#batchContextFromTable(lookUp)
      return { head: context.head, known: [...known, ...context.known] }
    }
    const [headRow] = this.#runSync(headQuery(TABLE))
    return { head: headRow === undefined ? null : { seq: Number(headRow.seq), hash: headRow.hash as string }, known }
  }

  async getEntry (id: string, projectIds: readonly string[] | '*'): Promise<AuditEntry | null> {
    return await readEntry(this.#run, TABLE, SQLITE_DIALECT, id, projectIds)
  }

  async listEntries (filter: AuditFilter, limit: number, cursor: string | null): Promise<AuditPage> {
    return await readEntryPage(this.#run, TABLE, SQLITE_DIALECT, filter, limit, cursor)
  }

  streamEntries (filter: AuditFilter): AsyncIterable<AuditEntry> {
    return streamEntryPages(this.#run, TABLE, SQLITE_DIALECT, filter)
  }

  /** Checked and appended under the write lock, in a transaction of its own (resolutions are rare). */
  async resolve (id: string, resolution: AuditResolution, projectIds: readonly string[] | '*'): Promise<AuditEntry> {
    if (this.#readOnly) throw new AuditStoreNotWritableError('opened read-only')
    const prepared = prepareResolution(id, resolution)
    const entry = this.#writeTransaction(() => {
      const [entryRow] = this.#runSync(entryByIdQuery(TABLE, id, SQLITE_DIALECT))
      const [headRow] = this.#runSync(headQuery(TABLE))
      const planned = planResolutionOf(prepared, entryRow, headRow, projectIds)
      const insert = insertRecordQuery(TABLE, planned.row, SQLITE_DIALECT)
      this.#statement(insert.text).run(...(insert.values as never[]))
      return planned.entry
    }, (error) => resolutionConflict(error, id))
    await this.#durable()
    return entry
  }

  /**
   * Reads the chain through its own read-only connection: one consistent snapshot (WAL lets
   * appends go on meanwhile), every stored row in seq order, never all in memory.
   */
  async verify (options: VerifyOptions = {}): Promise<ChainVerifyResult> {
    const reader = this.location === ':memory:'
      ? this.#db
      : new DatabaseSync(this.location, { readOnly: true, timeout: this.#busyTimeoutMs })
    try {
      return await verifyChain(readRecords(reader), options)
    } finally {
      if (reader !== this.#db) reader.close()
    }
  }

  async appendCheckpoint (sign: (head: ChainHead) => Checkpoint): Promise<Checkpoint | null> {
    if (this.#readOnly) throw new AuditStoreNotWritableError('opened read-only')
    const checkpoint = this.#writeTransaction(() => {
      const head = headToSign(this.#runSync(headToSignQuery(TABLE, CHECKPOINTS)))
      const signed = head === null ? null : sign(head)
      if (signed !== null) {
        const insert = insertCheckpointQuery(CHECKPOINTS, signed, SQLITE_DIALECT)
        this.#statement(insert.text).run(...(insert.values as never[]))
      }
      return signed
    })
    await this.#durable()
    return checkpoint
  }

  async listCheckpoints (limit: number, cursor: string | null): Promise<CheckpointPage> {
    return await readCheckpointPage(this.#run, CHECKPOINTS, SQLITE_DIALECT, limit, cursor)
  }

  /** A read transaction on a read-only connection of its own (the in-memory trail: on this one). */
  async openSnapshot (): Promise<ChainSnapshot> {
    const own = this.location !== ':memory:'
    const db = own ? new DatabaseSync(this.location, { readOnly: true, timeout: this.#busyTimeoutMs }) : this.#db
    if (own) db.exec('BEGIN')
    const all = (query: SqlQuery): Array<Record<string, unknown>> => db.prepare(query.text).all(...(query.values as never[])) as Array<Record<string, unknown>>
    return {
      id: null,
      head: async () => {
        const [row] = all({ text: `SELECT seq, hash FROM ${TABLE} ORDER BY seq DESC LIMIT 1`, values: [] })
        return row === undefined ? null : { seq: Number(row.seq), hash: row.hash as string }
      },
      checkpoints: async () => all(allCheckpointsQuery(CHECKPOINTS)).map(checkpointFromRow),
      records: (from, to) => readRecords(db, from, to),
      spanningEntries: async (seq, after, to) => spanningEntriesFromRows(all({ text: spanningEntriesQuery(TABLE, (n) => `?${n}`), values: [seq, after, to] })),
      timeIndex: () => {
        const { marks, late } = timeIndexQueries(TABLE)
        return timeIndexFromRows(db.prepare(marks).iterate(), db.prepare(late).iterate())
      },
      unknownEntries: () => unknownEntriesFromRows(db.prepare(unknownEntriesQuery(TABLE)).iterate()),
      close: async () => { if (own && db.isOpen) db.close() }
    }
  }

  onAppended (listener: (records: number) => void): void {
    this.#groupCommit.onCommitted(listener)
  }

  /**
   * Takes the write lock and lets it go: fails when the file is read-only, locked or gone. Then,
   * unless an append succeeded lately, a probe write, since a rollback writes nothing and so
   * succeeds on a full disk too: the probe rewrites the header's user_version (the same value)
   * and commits, which appends a frame to the WAL, as an append does.
   */
  async checkWritable (): Promise<void> {
    if (this.#readOnly) throw new AuditStoreNotWritableError('opened read-only')
    try {
      if (this.location !== ':memory:') accessSync(this.location, constants.W_OK)
      this.#db.exec('BEGIN IMMEDIATE')
      this.#db.exec('ROLLBACK')
      await this.#health.check(async () => {
        this.#probeWrite()
        await this.#durable()
      })
    } catch (error) {
      if (this.#db.isOpen && this.#db.isTransaction) this.#db.exec('ROLLBACK')
      throw new AuditStoreNotWritableError((error as Error).message, { cause: error })
    }
  }

  #probeWrite (): void {
    this.#writeTransaction(() => { this.#db.exec(`PRAGMA user_version = ${this.#schemaVersion()}`) })
  }

  async close (): Promise<void> {
    if (this.#db.isOpen) this.#db.close()
    this.#statements.clear()
    await this.#wal?.close()
  }
}

/** SQLite's primary result code 19 (SQLITE_CONSTRAINT), whatever the extended code: a unique index, a CHECK or a trigger's RAISE. */
function isConstraintError (error: unknown): boolean {
  const { errcode } = error as { errcode?: unknown }
  return typeof errcode === 'number' && (errcode & 0xff) === 19
}

/**
 * The intents this store committed whose final it has not committed yet, oldest first. A row
 * never changes once written, so a final may be planned against its intent from here; bounded
 * (an intent whose final never comes is dropped, and its final then reads the table).
 */
class OpenIntents {
  static readonly MAX = 10_000
  readonly #intents = new Map<string, KnownRecord>()

  get (entryId: string): KnownRecord | undefined {
    return this.#intents.get(entryId)
  }

  remember (row: AuditRecordRow): void {
    if (row.kind !== 'entry') return
    if (row.final) {
      this.#intents.delete(row.entryId)
      return
    }
    this.#intents.set(row.entryId, { entryId: row.entryId, final: false, seq: row.seq, projectId: row.projectId, timeMs: row.timeMs })
    if (this.#intents.size > OpenIntents.MAX) this.#intents.delete(this.#intents.keys().next().value as string)
  }
}

async function * readRecords (db: DatabaseSync, from = Number.MIN_SAFE_INTEGER, to = Number.MAX_SAFE_INTEGER): AsyncGenerator<AuditRecordRow> {
  let count = 0
  for (const row of db.prepare(`SELECT * FROM ${TABLE} WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq`).iterate(from, to)) {
    yield recordFromRow(row as Record<string, unknown>)
    if (++count % VERIFY_YIELD_EVERY === 0) await nextTurn()
  }
}

/** `sqlite:<path>`, `sqlite:///abs/path` or `sqlite::memory:`. */
export function sqlitePathOf (url: string): string {
  let path = url.slice('sqlite:'.length)
  if (path.startsWith('//')) path = path.slice(2)
  if (path === '') throw new TypeError('sqlite: URL names no file')
  return path
}

export async function openSqliteAuditStore (location: string, options: SqliteAuditStoreOptions = {}): Promise<SqliteAuditStore> {
  return new SqliteAuditStore(location, options)
}
