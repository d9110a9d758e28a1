import type { AuditEntry, AuditResolution } from './audit-entry.ts'
import type { AuditFilter, AuditPage } from './audit-store.ts'
import { AUDIT_OUTCOMES, type AuditRecordRow, type BatchContext, parseIsoTime, planResolution, type PreparedResolution } from './audit-chain.ts'
import { bucketOf, companionTable, untilBucket } from './audit-time-marks.ts'
import { unknownEntriesTable } from './audit-unknown-entries.ts'
import { AuditEntryNotFoundError, AuditEntryResolvedError, AuditInvalidCursorError, AuditInvalidFilterError, AuditOutcomeKnownError } from './audit-errors.ts'

/**
 * Queries both stores share: the same SQL text, rendered with each driver's placeholders.
 *
 * Readers see entries, not records: the newest record of each entry id (its final record, or
 * its intent while there is none). Entries are ordered by `entry_seq`, the seq of the entry's
 * first record, newest first. An entry keeps its place when its intent is closed, and new
 * entries land above every cursor already handed out, so keyset pages never repeat or skip.
 * An entry's resolution, if any, is its record of kind `resolution`, joined by entry id through
 * the unique index (entry_id, kind, final): one index probe per entry read.
 */

export interface SqlDialect {
  /** Placeholder of the n-th parameter, 1-based. */
  param: (n: number) => string
  /** How a boolean is bound. */
  bool: (value: boolean) => unknown
  /** `column` is one of the strings bound, as `list` makes them, to the n-th parameter. */
  inList: (column: string, n: number) => string
  list: (values: readonly string[]) => unknown
  /**
   * `column` (text) in a condition no index may serve, so the page walks its driving filter's
   * index alone. SQLite's planner, on statistics gathered with `analysis_limit`, takes a
   * four-valued outcome for as selective as a project (BENCHMARKS.md). PostgreSQL, given an actor
   * and a project, ANDs both indexes: a bitmap over every record of the project. `c || ''` is
   * `c`, NULL for NULL, and no index's expression.
   */
  unindexed: (column: string) => string
  /**
   * The index `r` must be read along. SQLite takes the index the page's filters say (`INDEXED BY`):
   * with a time range's entry_seq bounds its sampled statistics otherwise tie an outcome's index
   * with a project's. PostgreSQL's planner chooses.
   */
  indexedBy: (index: string) => string
  /**
   * Whether the parts of a merged page keep their own ORDER BY and LIMIT. SQLite merges a compound
   * SELECT's parts lazily, each read along its index, only when they have none (with them, each
   * is read to its limit and sorted: 50 projects, 50 × limit rows); PostgreSQL's Merge Append
   * reads limited parts lazily, and without their limits sorts the whole union.
   */
  limitedParts: boolean
  /**
   * Up to this many projects in a claim, a page per project along its own index, merged; above
   * it, `claimJoin` where the dialect has one, else one walk along the order (or the outcome's
   * index) checking the project. SQLite merges the parts lazily (~16 µs a part at 1 M entries,
   * 4.6 ms for 199); PostgreSQL plans and starts each merged part on every query (~0.15 ms a
   * part at 1 M, 26 ms for 50): measured in BENCHMARKS.md.
   */
  maxProjectWalks: number
  /**
   * Claims above maxProjectWalks (see joinsClaim): the claim's projects (parameter `n`) as `rows`,
   * `c(project_id)`, each joined LATERAL to its own page along its project's index. One plan; each
   * project read to the page's limit at most (~0.2 ms a project for 51 rows at 10 M entries), where
   * a walk along the order checking the project reads every newer record outside the claim first
   * (130 ms past 80,000 of another project's at 10 M). Up to `maxRowsRead` (projects × limit):
   * above it, as for a large claim or a large page (an export's), a walk reads less. null: no LATERAL.
   */
  claimJoin: { rows: (n: string) => string, maxRowsRead: number } | null
}

export const SQLITE_DIALECT: SqlDialect = {
  param: (n) => `?${n}`,
  bool: (value) => value ? 1 : 0,
  inList: (column, n) => `${column} IN (SELECT value FROM json_each(?${n}))`,
  list: (values) => JSON.stringify(values),
  unindexed: (column) => `+${column}`,
  indexedBy: (index) => `INDEXED BY ${index}`,
  limitedParts: false,
  maxProjectWalks: 200,
  claimJoin: null
}
export const POSTGRES_DIALECT: SqlDialect = {
  param: (n) => `$${n}`,
  bool: (value) => value,
  inList: (column, n) => `${column} = ANY($${n}::text[])`,
  list: (values) => values,
  unindexed: (column) => `(${column} || '')`,
  indexedBy: () => '',
  limitedParts: true,
  maxProjectWalks: 8,
  claimJoin: { rows: (n) => `unnest(${n}::text[]) AS c(project_id)`, maxRowsRead: 64 * 51 }
}

export interface SqlQuery {
  text: string
  values: unknown[]
}

/** A filter checked and reduced to what the SQL needs; `projects` '*' means every project. */
export interface AuditScope {
  projects: '*' | string[]
  videoId?: string
  actor?: string
  outcome?: string
  resolved?: boolean
  sinceMs?: number
  untilMs?: number
}

export const MAX_PAGE_LIMIT = 10_000
export const STREAM_PAGE_SIZE = 500
function timeBound (name: 'since' | 'until', text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const ms = parseIsoTime(text)
  if (Number.isNaN(ms)) throw new AuditInvalidFilterError(`${name} ${JSON.stringify(text)} is not an ISO 8601 date or date-time with a zone`)
  return ms
}

/**
 * Checks a filter and applies the caller's projects claim. Returns null when nothing can be
 * visible (an empty claim, or a projectId outside it). Entries without a project are visible
 * only to callers whose claim is '*'.
 */
export function scopeOf (filter: AuditFilter): AuditScope | null {
  if (filter.outcome !== undefined && !AUDIT_OUTCOMES.includes(filter.outcome)) {
    throw new AuditInvalidFilterError(`outcome ${JSON.stringify(filter.outcome)} is not one of ${AUDIT_OUTCOMES.join(', ')}`)
  }
  const scope: AuditScope = { projects: '*' }
  const sinceMs = timeBound('since', filter.since)
  const untilMs = timeBound('until', filter.until)
  if (sinceMs !== undefined) scope.sinceMs = sinceMs
  if (untilMs !== undefined) scope.untilMs = untilMs
  if (filter.videoId !== undefined) scope.videoId = filter.videoId
  if (filter.actor !== undefined) scope.actor = filter.actor
  if (filter.outcome !== undefined) scope.outcome = filter.outcome
  if (filter.resolved !== undefined) scope.resolved = filter.resolved
  const claim = filter.projectIds
  if (claim !== '*' && !Array.isArray(claim)) throw new AuditInvalidFilterError('projectIds must be "*" or a list')
  if (filter.projectId !== undefined) {
    if (claim !== '*' && !claim.includes(filter.projectId)) return null
    scope.projects = [filter.projectId]
  } else if (claim !== '*') {
    scope.projects = [...new Set(claim)]
    if (scope.projects.length === 0) return null
  }
  return scope
}

export function isVisible (projectId: string | null, projectIds: readonly string[] | '*'): boolean {
  return projectIds === '*' || (projectId !== null && projectIds.includes(projectId))
}

export function encodeCursor (entrySeq: number): string {
  return Buffer.from(JSON.stringify({ v: 1, before: entrySeq })).toString('base64url')
}

export function decodeCursor (cursor: string): number {
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw new AuditInvalidCursorError('not a cursor this service issued')
  }
  const { v, before } = (typeof decoded === 'object' && decoded !== null ? decoded : {}) as { v?: unknown, before?: unknown }
  if (v !== 1 || typeof before !== 'number' || !Number.isSafeInteger(before) || before < 1) {
    throw new AuditInvalidCursorError('not a cursor this service issued')
  }
  return before
}

class QueryBuilder {
  readonly values: unknown[] = []
  readonly dialect: SqlDialect
  constructor (dialect: SqlDialect) { this.dialect = dialect }
  param (value: unknown): string {
    this.values.push(value)
    return this.dialect.param(this.values.length)
  }
}

/**
 * The filter whose index a page is read along: the most selective one given. A video has a
 * handful of cuts, an actor thousands, a project up to millions; an outcome is one of four.
 * The other equality filters are checked on the rows that index yields.
 */
function drivingFilter (scope: AuditScope, projects: boolean): 'video' | 'actor' | 'project' | 'outcome' | null {
  if (scope.videoId !== undefined) return 'video'
  if (scope.actor !== undefined) return 'actor'
  if (projects) return 'project'
  return scope.outcome !== undefined ? 'outcome' : null
}

/**
 * Whether a page is read from the entries that read unknown (audit-unknown-entries.ts) instead of
 * the records' indexes, which hold every closed intent as `unknown` too. A video's records, a
 * handful, are read as they are.
 */
function readsUnknown (driver: ReturnType<typeof drivingFilter>, scope: AuditScope): boolean {
  return scope.outcome === 'unknown' && driver !== 'video'
}

/**
 * The index a page is read along: its driving filter's, with the project or the outcome where a
 * composite index has it. `byProject`: the page's projects are checked in this walk (one, or a
 * claim of up to the dialect's maxProjectWalks); an actor's records in them are then few.
 */
function drivingIndex (driver: ReturnType<typeof drivingFilter>, scope: AuditScope, byProject: boolean): string {
  if (readsUnknown(driver, scope)) return driver === 'actor' || driver === 'project' ? `audit_unknown_by_${driver}` : 'audit_unknown_by_entry_seq'
  const withOutcome = scope.outcome !== undefined ? '_outcome' : ''
  switch (driver) {
    case 'video': return 'audit_records_by_video'
    case 'actor': return byProject ? 'audit_records_by_actor_project' : `audit_records_by_actor${withOutcome}`
    case 'project': return `audit_records_by_project${withOutcome}`
    case 'outcome': return 'audit_records_by_outcome'
    default: return 'audit_records_by_entry_seq'
  }
}

/** The entry's resolution record, as `x`, if it has one. */
function resolutionJoin (table: string): string {
  return `LEFT JOIN ${table} x ON x.entry_id = r.entry_id AND x.kind = 'resolution' AND x.final = TRUE`
}

/**
 * How a SELECT checks the caller's claim: `sql` on the project column; `along`: the page may be
 * read along a project's index (one project, or a claim of up to the dialect's maxProjectWalks).
 * null: every project.
 */
type ProjectCondition = { sql: (q: QueryBuilder, column: string) => string, along: boolean } | null

/** The caller's claim as one condition: none for every project, else its one project or an `IN` list. */
function claimCondition (projects: AuditScope['projects'], dialect: SqlDialect): ProjectCondition {
  if (projects === '*') return null
  return {
    sql: (b, column) => projects.length === 1
      ? `${column} = ${b.param(projects[0])}`
      : `${column} IN (${projects.map((id) => b.param(id)).join(', ')})`,
    along: projects.length <= dialect.maxProjectWalks
  }
}

/** One project of a claim: its own walk along its index. `project`: the SQL of its id. */
function oneProject (project: (q: QueryBuilder) => string): ProjectCondition {
  return { sql: (b, column) => `${column} = ${project(b)}`, along: true }
}

/** The seq of the mark a time bound's window ends at (audit-time-marks.ts); NULL when there is none. */
function markSeq (table: string, comparison: '<=' | '>=', bucket: number, q: QueryBuilder): string {
  return `(SELECT seq FROM ${companionTable(table, 'audit_time_marks')} WHERE bucket ${comparison} ${q.param(bucket)}
    ORDER BY bucket ${comparison === '<=' ? 'DESC' : 'ASC'} LIMIT 1)`
}

/**
 * One SELECT of entry rows for one project (or all, or an IN list), newest first. With a time
 * range, `window` reads the entry_seq window the range's marks bound; `late` the late entries
 * above that window, through their table (audit-time-marks.ts). Together they are every match.
 * `part`: one of a merged page's parts (`SqlDialect.limitedParts`).
 */
function entrySelect (table: string, scope: AuditScope, projectCondition: ProjectCondition, source: 'window' | 'late', before: number | null, limit: number, q: QueryBuilder, part: boolean): string {
  const conditions: string[] = []
  // A claim of many projects walked at once covers much of the trail: walking the order (or the
  // outcome) and checking the project is quicker than gathering all their records and sorting them.
  const byProject = projectCondition?.along === true
  const driver = drivingFilter(scope, byProject)
  // The rows filtered: `u`, the entries that read unknown, joined to their records `r`; else the records.
  const unknown = readsUnknown(driver, scope)
  const s = unknown ? 'u' : 'r'
  // Second columns of the records' composite indexes stay indexable: the project after a video or
  // an actor, the outcome after a project or an actor without one. The unknown entries' indexes have none.
  const column = (name: string, filter: typeof driver): string => filter === driver || (!unknown && (
    (filter === 'project' && (driver === 'video' || (driver === 'actor' && byProject))) ||
    (filter === 'outcome' && ((driver === 'actor' && !byProject) || driver === 'project'))))
    ? `${s}.${name}`
    : q.dialect.unindexed(`${s}.${name}`)
  if (projectCondition !== null) conditions.push(projectCondition.sql(q, column('project_id', 'project')))
  if (scope.videoId !== undefined) conditions.push(`${column('video_id', 'video')} = ${q.param(scope.videoId)}`)
  if (scope.actor !== undefined) conditions.push(`${column('actor_sub', 'actor')} = ${q.param(scope.actor)}`)
  if (scope.outcome !== undefined && !unknown) conditions.push(`${column('outcome', 'outcome')} = ${q.param(scope.outcome)}`)
  if (scope.sinceMs !== undefined) conditions.push(`${s}.time_ms >= ${q.param(scope.sinceMs)}`)
  if (scope.untilMs !== undefined) conditions.push(`${s}.time_ms < ${q.param(scope.untilMs)}`)
  const order = source === 'late' ? 'l.entry_seq' : `${s}.entry_seq`
  if (source === 'window') {
    if (scope.sinceMs !== undefined) conditions.push(`${s}.entry_seq >= coalesce(${markSeq(table, '<=', bucketOf(scope.sinceMs), q)}, 0)`)
    if (scope.untilMs !== undefined) conditions.push(`${s}.entry_seq < coalesce(${markSeq(table, '>=', untilBucket(scope.untilMs), q)}, ${Number.MAX_SAFE_INTEGER})`)
  } else {
    if (scope.untilMs === undefined) throw new TypeError('late entries are read for a range with an end only')
    conditions.push(`${s}.entry_seq = l.entry_seq AND l.entry_seq >= ${markSeq(table, '>=', untilBucket(scope.untilMs), q)}`)
    if (scope.sinceMs !== undefined) conditions.push(`l.time_ms >= ${q.param(scope.sinceMs)}`)
    conditions.push(`l.time_ms < ${q.param(scope.untilMs)}`)
  }
  if (before !== null) conditions.push(`${order} < ${q.param(before)}`)
  // On the join's own column: PostgreSQL then plans an anti join (on x.seq it estimated one row and sorted every match).
  if (scope.resolved !== undefined) conditions.push(`x.entry_id IS ${scope.resolved ? 'NOT ' : ''}NULL`)
  // The newest record of its entry: the final one, or the intent while no final exists (the unknown entries name it).
  if (unknown) conditions.push('r.seq = u.seq')
  else conditions.push(`r.kind = 'entry' AND (r.final = TRUE OR NOT EXISTS (SELECT 1 FROM ${table} f WHERE f.entry_id = r.entry_id AND f.kind = 'entry' AND f.final = TRUE))`)
  // Read along `index`: the unknown entries', each joined to its record by seq, or the records'.
  // The late ones are few: read from their table first (SQLite keeps a CROSS JOIN's order), each
  // looked up by its entry_seq.
  const along = (index: string): string => unknown
    ? `${unknownEntriesTable(table)} u ${q.dialect.indexedBy(index)} CROSS JOIN ${table} r`
    : `${table} r ${q.dialect.indexedBy(index)}`
  const from = source === 'late'
    ? `${companionTable(table, 'audit_late_entries')} l CROSS JOIN ${along(unknown ? 'audit_unknown_by_entry_seq' : 'audit_records_by_entry_seq')}`
    : along(drivingIndex(driver, scope, byProject))
  const select = `SELECT ${s}.entry_seq AS entry_seq, r.body AS body, x.body AS resolution FROM ${from} ${resolutionJoin(table)}
    WHERE ${conditions.join(' AND ')}`
  return part && !q.dialect.limitedParts ? select : `${select} ORDER BY ${order} DESC LIMIT ${q.param(limit)}`
}

/**
 * Whether a claim above maxProjectWalks is read by `claimJoin`. Not with a time range: its window
 * already bounds the walk to the range's records, and reading each project to the limit cost more
 * (10 M entries, 52 projects: p99 31.1 ms against 2.6). An outcome's walk is not bounded so: past a
 * burst of another project's successes it read them all (85 ms, against 4 ms joined).
 */
function joinsClaim (scope: AuditScope, limit: number, dialect: SqlDialect): boolean {
  return scope.projects !== '*' && scope.projects.length * limit <= (dialect.claimJoin?.maxRowsRead ?? 0) &&
    scope.sinceMs === undefined && scope.untilMs === undefined
}

/** The SQL of one page: `limit` rows at most, entries with entry_seq below `before`. */
export function entryPageQuery (table: string, scope: AuditScope, before: number | null, limit: number, dialect: SqlDialect): SqlQuery {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new AuditInvalidFilterError('limit must be a positive integer')
  const q = new QueryBuilder(dialect)
  const { projects } = scope
  const claim = claimCondition(projects, dialect)
  // A video's or an actor's index serves a claim of several projects in one walk; else, up to
  // the dialect's maxProjectWalks projects, a page per project along its own index, merged: no
  // sort over all rows of the claim; above it, the same page joined to each of the claim's rows.
  const walk = projects === '*' || projects.length === 1 || scope.videoId !== undefined || scope.actor !== undefined
    ? 'one'
    : projects.length <= dialect.maxProjectWalks ? 'merged' : joinsClaim(scope, limit, dialect) ? 'joined' : 'one'
  const walks: ProjectCondition[] = walk === 'one'
    ? [claim]
    : walk === 'joined' ? [oneProject(() => 'c.project_id')] : (projects as string[]).map((id) => oneProject((b) => b.param(id)))
  const merged = walks.length > 1 || walk === 'joined' || scope.untilMs !== undefined
  const selects = walks.map((condition) => entrySelect(table, scope, condition, 'window', before, limit, q, merged))
  if (walk === 'joined' && dialect.claimJoin !== null) {
    selects[0] = `SELECT w.* FROM ${dialect.claimJoin.rows(q.param(dialect.list(projects as string[])))} CROSS JOIN LATERAL (${selects[0] as string}) w`
  }
  if (scope.untilMs !== undefined) selects.push(entrySelect(table, scope, claim, 'late', before, limit, q, merged))
  const parts = dialect.limitedParts ? selects.map((select, i) => `SELECT * FROM (${select}) p${i}`) : selects
  const text = merged ? `${parts.join(' UNION ALL ')} ORDER BY entry_seq DESC LIMIT ${q.param(limit)}` : selects[0] as string
  return { text, values: q.values }
}

/** The newest record of one entry (its final record first), with its resolution. */
export function entryByIdQuery (table: string, id: string, dialect: SqlDialect): SqlQuery {
  return {
    text: `SELECT r.project_id, r.outcome, r.body, x.body AS resolution FROM ${table} r ${resolutionJoin(table)}
      WHERE r.entry_id = ${dialect.param(1)} AND r.kind = 'entry' ORDER BY r.final DESC LIMIT 1`,
    values: [id]
  }
}

/** The chain's head: its newest record (none on an empty trail). */
export function headQuery (table: string): SqlQuery {
  return { text: `SELECT seq, hash FROM ${table} ORDER BY seq DESC LIMIT 1`, values: [] }
}

/**
 * Everything a batch append must know, read in one statement under the store's write lock: the
 * chain's head, and every record the batch's entries already have (none: one row, nulls).
 */
export function batchContextQuery (table: string, entryIds: readonly string[], dialect: SqlDialect): SqlQuery {
  return {
    text: `SELECT h.seq AS head_seq, h.hash AS head_hash, r.entry_id, r.final, r.seq, r.project_id, r.time_ms
      FROM (SELECT seq, hash FROM ${table} ORDER BY seq DESC LIMIT 1) h
      LEFT JOIN ${table} r ON ${dialect.inList('r.entry_id', 1)} AND r.kind = 'entry'`,
    values: [dialect.list(entryIds)]
  }
}

export function batchContextFromRows (rows: ReadonlyArray<Record<string, unknown>>): BatchContext {
  const first = rows[0]
  return {
    head: first !== undefined && first.head_seq !== null ? { seq: Number(first.head_seq), hash: first.head_hash as string } : null,
    known: rows.filter((row) => row.entry_id !== null).map((row) => ({
      entryId: row.entry_id as string,
      final: row.final === true || Number(row.final) === 1,
      seq: Number(row.seq),
      projectId: (row.project_id ?? null) as string | null,
      timeMs: Number(row.time_ms)
    }))
  }
}

const INSERT_COLUMNS = ['seq', 'entry_id', 'kind', 'final', 'entry_seq', 'project_id', 'video_id', 'actor_sub', 'outcome', 'time_ms', 'body', 'prev_hash', 'hash']
const insertTexts = new WeakMap<SqlDialect, Map<string, string>>()

export function insertRecordQuery (table: string, row: AuditRecordRow, dialect: SqlDialect): SqlQuery {
  // One text per table and dialect, built once: a store's statement cache then finds it by the same string.
  let texts = insertTexts.get(dialect)
  if (texts === undefined) insertTexts.set(dialect, texts = new Map())
  let text = texts.get(table)
  if (text === undefined) {
    text = `INSERT INTO ${table} (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map((_, i) => dialect.param(i + 1)).join(', ')})`
    texts.set(table, text)
  }
  return {
    text,
    values: [row.seq, row.entryId, row.kind, dialect.bool(row.final), row.entrySeq, row.projectId, row.videoId, row.actorSub, row.outcome, row.timeMs, row.body, row.prevHash, row.hash]
  }
}

export type RunQuery = (query: SqlQuery) => Promise<Array<Record<string, unknown>>>

/** Reads one page of entries; the SQL runs through the store's `run`. */
export async function readEntryPage (run: RunQuery, table: string, dialect: SqlDialect, filter: AuditFilter, limit: number, cursor: string | null): Promise<AuditPage> {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new AuditInvalidFilterError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`)
  }
  const before = cursor === null ? null : decodeCursor(cursor)
  const scope = scopeOf(filter)
  if (scope === null) return { items: [], nextCursor: null }
  const rows = await run(entryPageQuery(table, scope, before, limit + 1, dialect))
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return {
    items: page.map(entryOfRow),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(Number(last.entry_seq)) : null
  }
}

/** Every match, newest first, a keyset page at a time: memory stays at one page. */
export async function * streamEntryPages (run: RunQuery, table: string, dialect: SqlDialect, filter: AuditFilter, pageSize = STREAM_PAGE_SIZE): AsyncGenerator<AuditEntry> {
  let cursor: string | null = null
  do {
    const page: AuditPage = await readEntryPage(run, table, dialect, filter, pageSize, cursor)
    yield * page.items
    cursor = page.nextCursor
  } while (cursor !== null)
}

/** An entry as readers see it: its newest record's body, with its resolution when it has one. */
export function entryOfRow (row: Record<string, unknown>): AuditEntry {
  const entry = JSON.parse(row.body as string) as AuditEntry
  if (typeof row.resolution === 'string') entry.resolution = JSON.parse(row.resolution) as AuditResolution
  return entry
}

export async function readEntry (run: RunQuery, table: string, dialect: SqlDialect, id: string, projectIds: readonly string[] | '*'): Promise<AuditEntry | null> {
  const [row] = await run(entryByIdQuery(table, id, dialect))
  if (row === undefined || !isVisible((row.project_id ?? null) as string | null, projectIds)) return null
  return entryOfRow(row)
}

/**
 * Whether the entry read by `entryByIdQuery` (under the store's write lock) can be resolved by a
 * caller with this projects claim; throws the reason it cannot. Returns the entry as read.
 */
function checkResolvable (row: Record<string, unknown> | undefined, id: string, projectIds: readonly string[] | '*'): AuditEntry {
  if (row === undefined || !isVisible((row.project_id ?? null) as string | null, projectIds)) throw new AuditEntryNotFoundError(id)
  if (typeof row.resolution === 'string') throw new AuditEntryResolvedError(id)
  if (row.outcome !== 'unknown') throw new AuditOutcomeKnownError(`${id} reads ${String(row.outcome)}`)
  return entryOfRow(row)
}

/**
 * The row of a resolution and the entry as it then reads, from what `entryByIdQuery` and
 * `headQuery` read under the store's write lock; throws why the entry cannot be resolved.
 */
export function planResolutionOf (resolution: PreparedResolution, entryRow: Record<string, unknown> | undefined, headRow: Record<string, unknown> | undefined, projectIds: readonly string[] | '*'): { row: AuditRecordRow, entry: AuditEntry } {
  const entry = checkResolvable(entryRow, resolution.entryId, projectIds)
  const row = planResolution(resolution, headRow === undefined ? null : { seq: Number(headRow.seq), hash: headRow.hash as string })
  return { row, entry: { ...entry, resolution: JSON.parse(row.body) as AuditResolution } }
}

/** A unique violation while appending a resolution: another one got there first (the index is the last word). */
export function resolutionConflict (error: unknown, id: string): unknown {
  const { code, message } = error as { code?: unknown, message?: unknown }
  const unique = code === '23505' || (typeof message === 'string' && message.includes('UNIQUE constraint failed'))
  return unique ? new AuditEntryResolvedError(id, { cause: error }) : error
}
