import t from 'tap'
import type { AuditFilter } from '../../src/audit/audit-store.ts'
import { unknownEntriesTable } from '../../src/audit/audit-unknown-entries.ts'
import { entryPageQuery, POSTGRES_DIALECT, scopeOf, type SqlQuery, SQLITE_DIALECT } from '../../src/audit/audit-query.ts'
import { type Backend, BACKENDS, setUpTrail, type TrailUnderTest } from '../helpers/audit-fixtures.ts'

// Which index each review query walks, on a generated trail large enough for both planners to
// weigh their choices, with statistics gathered the way each store gets them: SQLite's own
// `PRAGMA optimize` when the store opens, PostgreSQL's ANALYZE (what autovacuum runs). A page
// must be read along the index of the most selective filter given (video, then actor, then
// project; outcome, a column of four values, and the resolved state only with them or alone),
// never along the index of a low-selectivity column while a selective one exists.

const RECORDS = 200_000
const PROJECTS = 200
const ACTORS = 5000
const VIDEOS = 50_000
const BASE_TIME = Date.UTC(2025, 0, 1)

/**
 * One record a row, made by the database itself (no append path: too slow for this size):
 * values spread by multiplicative hashing; 70 % succeeded, 5 % failed, 2 % open intents
 * (unknown), 23 % rejected, one entry a second.
 */
function generateSql (table: string, backend: Backend): string {
  const columns = `n AS seq, 'e-' || n AS entry_id, CASE WHEN n * 31 % 100 BETWEEN 75 AND 76 THEN ${backend === 'sqlite' ? 0 : 'FALSE'} ELSE ${backend === 'sqlite' ? 1 : 'TRUE'} END AS final, n AS entry_seq,
    'p-' || (n * 2654435761 % 4294967296 % ${PROJECTS}) AS project_id, 'vid-' || (n * 104729 % ${VIDEOS}) AS video_id, 'user-' || (n * 7919 % ${ACTORS}) AS actor_sub,
    CASE WHEN n * 31 % 100 < 70 THEN 'succeeded' WHEN n * 31 % 100 < 75 THEN 'failed' WHEN n * 31 % 100 < 77 THEN 'unknown' ELSE 'rejected' END AS outcome,
    ${BASE_TIME} + n * 1000 AS time_ms, '{}' AS body, 'x' AS prev_hash, 'x' AS hash`
  const into = `INSERT INTO ${table} (seq, entry_id, final, entry_seq, project_id, video_id, actor_sub, outcome, time_ms, body, prev_hash, hash)`
  return backend === 'sqlite'
    ? `${into} WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${RECORDS}) SELECT ${columns} FROM g`
    : `${into} SELECT ${columns} FROM generate_series(1::bigint, ${RECORDS}) AS n`
}

/**
 * How the plan reads a table (alias `r`, the records; `u`, the entries that read unknown): each
 * access's index and the index's conditions. A lookup by the primary key is 'primary key'.
 */
interface Access { index: string, condition: string }
const PRIMARY_KEY = 'primary key'

async function accessesOf (trail: TrailUnderTest, query: SqlQuery, alias = 'r'): Promise<Access[]> {
  if (trail.backend === 'sqlite') {
    const rows = await trail.raw.query(`EXPLAIN QUERY PLAN ${query.text}`, query.values)
    return rows.map((row) => String(row.detail)).flatMap((detail) => {
      if (!new RegExp(`^(SCAN|SEARCH) ${alias}\\b`).test(detail)) return []
      const index = /INTEGER PRIMARY KEY/.test(detail) ? PRIMARY_KEY : /INDEX (\w+)/.exec(detail)?.[1] ?? 'table scan'
      return [{ index, condition: /\((.*)\)/.exec(detail)?.[1] ?? '' }]
    })
  }
  const [row] = await trail.raw.query(`EXPLAIN (FORMAT JSON) ${query.text}`, query.values)
  const found: Access[] = []
  type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] }
  const accessOf = (node: PlanNode): Access => ({
    index: typeof node['Index Name'] === 'string' ? node['Index Name'].replace(/^audit_(records|unknown_entries)_pkey$/, PRIMARY_KEY) : String(node['Node Type']),
    condition: typeof node['Index Cond'] === 'string' ? node['Index Cond'] : ''
  })
  // A bitmap heap scan of r names its index in the bitmap index scans below it.
  const indexesBelow = (node: PlanNode): Access[] => [
    ...(typeof node['Index Name'] === 'string' ? [accessOf(node)] : []),
    ...(node.Plans ?? []).filter((child) => child['Parent Relationship'] !== 'SubPlan').flatMap(indexesBelow)
  ]
  const visit = (node: PlanNode): void => {
    if (node.Alias === alias) {
      found.push(...(node['Node Type'] === 'Bitmap Heap Scan' ? indexesBelow(node) : [accessOf(node)]))
      return
    }
    for (const child of node.Plans ?? []) visit(child)
  }
  visit((row?.['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]?.Plan as PlanNode)
  return found
}

/**
 * With a time range, every read of r is bounded in the entry order: an index range with both a
 * lower and an upper entry_seq bound (the range's window), or one entry_seq (a late entry) —
 * never a walk from the newest entry down to the range. A video has a handful of cuts: its
 * index is read whole.
 */
function boundedInOrder (accesses: readonly Access[], parts: readonly Part[]): boolean {
  if (!parts.includes('time') || parts.includes('video')) return true
  const bounded = (condition: string): boolean =>
    /entry_seq ?= ?[^ ]/.test(condition.replace(/entry_seq ?[<>]=/g, '')) ||
    (/entry_seq ?>/.test(condition) && /entry_seq ?</.test(condition))
  return accesses.length > 0 && accesses.every((access) => bounded(access.condition))
}

type Part = 'project' | 'video' | 'actor' | 'outcome' | 'time' | 'resolved'
const PARTS: readonly Part[] = ['project', 'video', 'actor', 'outcome', 'time', 'resolved']

/** The filter an index serves first ('none': the order alone, or no index at all). */
const FAMILY: Record<string, string> = {
  audit_records_by_video: 'video',
  audit_records_by_actor: 'actor',
  audit_records_by_actor_outcome: 'actor',
  audit_records_by_actor_project: 'actor',
  audit_records_by_project: 'project',
  audit_records_by_project_outcome: 'project',
  audit_records_by_outcome: 'outcome',
  audit_unknown_by_actor: 'actor',
  audit_unknown_by_project: 'project',
  audit_unknown_by_entry_seq: 'outcome'
}
const familyOf = (index: string): string => FAMILY[index] ?? 'none'

const SELECTIVE = ['video', 'actor', 'project']

/**
 * Given a selective filter (a video has a handful of cuts, an actor thousands, a project up to
 * millions), every index the page is read along serves the most selective filter given, alone:
 * never the outcome's (one of four values) nor the order's, and never ANDed with another filter's
 * index (PostgreSQL's bitmap AND of an actor's and a project's reads every record of the project).
 * Otherwise the outcome's, or the order's. `projects`: the claim's projects are walked one by one
 * (a claim of up to 200); a larger claim is checked on the order's walk, never gathered from the
 * project's index and sorted.
 */
function readAlongSelective (used: readonly string[], parts: readonly Part[], projects: boolean): boolean {
  const driving = SELECTIVE.find((filter) => parts.includes(filter as Part) || (filter === 'project' && projects)) ??
    (parts.includes('outcome') ? 'outcome' : 'none')
  const families = used.map(familyOf)
  return families.length > 0 && families.every((family) => family === driving)
}

function filterOf (parts: readonly Part[], projectIds: AuditFilter['projectIds'], outcome: AuditFilter['outcome']): AuditFilter {
  const filter: AuditFilter = { projectIds }
  if (parts.includes('project')) filter.projectId = 'p-7'
  if (parts.includes('video')) filter.videoId = 'vid-42'
  if (parts.includes('actor')) filter.actor = 'user-42'
  if (parts.includes('outcome')) filter.outcome = outcome
  if (parts.includes('time')) {
    filter.since = new Date(BASE_TIME + RECORDS * 400).toISOString()
    filter.until = new Date(BASE_TIME + RECORDS * 500).toISOString()
  }
  if (parts.includes('resolved')) filter.resolved = false
  return filter
}

for (const backend of BACKENDS) {
  t.test(`${backend}: every filter combination is read along the index of a selective filter, a time range as its window`, async (t) => {
    const trail = await setUpTrail(t, backend)
    await trail.raw.exec(generateSql(trail.raw.table, backend))
    if (backend === 'sqlite') {
      // The statistics a service has: gathered by the store's own open.
      await trail.store.close()
      await trail.open()
    } else {
      await trail.raw.exec(`ANALYZE ${trail.raw.table}, ${unknownEntriesTable(trail.raw.table)}`)
    }
    const dialect = backend === 'sqlite' ? SQLITE_DIALECT : POSTGRES_DIALECT
    // Each claim, and whether its pages are read along the projects' indexes (a page per project):
    // up to 200 projects on SQLite; on PostgreSQL up to 8, and up to 64 joined to the claim's rows
    // where no time range is given (its window already bounds the walk).
    const claims: Array<[string, AuditFilter['projectIds'], (parts: readonly Part[]) => boolean]> = [
      ['every project', '*', () => false],
      ['a claim of 3 projects', ['p-3', 'p-5', 'p-7'], () => true],
      // Above PostgreSQL's maxProjectWalks; with the filters that change its walk.
      ['a claim of 12 projects', Array.from({ length: 12 }, (_, i) => `p-${10 + i}`),
        (parts) => backend === 'sqlite' || !parts.includes('time')],
      // Above every dialect's limit: walked along the order, checking the project.
      ['a claim of 250 projects', Array.from({ length: 250 }, (_, i) => `p-${10 + i}`), () => false]
    ]
    for (const [claimName, projectIds, byProjects] of claims) {
      for (let mask = 0; mask < 1 << PARTS.length; mask++) {
        const parts = PARTS.filter((_, i) => (mask & (1 << i)) !== 0)
        if (projectIds !== '*' && parts.includes('project')) continue
        if (projectIds.length >= 12 && (parts.includes('video') || parts.includes('resolved'))) continue
        for (const outcome of parts.includes('outcome') ? ['failed', 'unknown'] as const : ['failed'] as const) {
          const scope = scopeOf(filterOf(parts, projectIds, outcome))
          if (scope === null) throw new Error('every filter here has a visible scope')
          // `unknown` is read from the entries that read it, each record looked up by its seq: never
          // along the records' indexes, which hold every closed intent as `unknown` (a video's few aside).
          const unknown = outcome === 'unknown' && !parts.includes('video')
          for (const before of [null, RECORDS / 2]) {
            const query = entryPageQuery(trail.raw.table, scope, before, 51, dialect)
            const accesses = await accessesOf(trail, query, unknown ? 'u' : 'r')
            // A late entry of a time range is looked up by its entry_seq: one row, whatever the filters.
            const used = accesses.filter((access) => !/^\(?([ru]\.)?entry_seq ?= ?(\?|l\.entry_seq)\)?$/.test(access.condition)).map((access) => access.index)
            const name = `${claimName}, ${parts.join(' + ').replace('outcome', `outcome ${outcome}`) || 'no filter'}${before === null ? '' : ', a later page'}`
            t.ok(readAlongSelective(used, parts, byProjects(parts)), `${name}: along the index of a selective filter`, { used })
            t.ok(boundedInOrder(accesses, parts), `${name}: a time range read as its window of the entry order`, { accesses })
            if (unknown) {
              const records = await accessesOf(trail, query)
              t.ok(records.length > 0 && records.every((access) => access.index === PRIMARY_KEY), `${name}: each record looked up by its seq`, { records })
            }
          }
        }
      }
    }
  })
}
