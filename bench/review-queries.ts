/**
 * The review API's page queries on a seeded trail, one filter combination at a time: latency of
 * a first page and of the pages after it (following the cursor), and the plan each query used
 * (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN`), straight on the database with the store's
 * own SQL (`entryPageQuery`), without HTTP.
 *
 *   node bench/review-queries.ts --url sqlite:/tmp/audit-1m.db [--queries 50] [--pages 5] [--json out.json]
 *     [--outcome unknown] [--with outcome]
 *
 * `--outcome` fixes the outcome filter (else each query draws one of the four); `--with` measures
 * only the combinations that include that filter.
 */
import { DatabaseSync } from 'node:sqlite'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import pg from 'pg'
import type { AuditFilter } from '../src/audit/audit-store.ts'
import type { AuditOutcome } from '../src/audit/audit-entry.ts'
import { AUDIT_OUTCOMES } from '../src/audit/audit-chain.ts'
import { entryPageQuery, POSTGRES_DIALECT, scopeOf, type SqlDialect, type SqlQuery, SQLITE_DIALECT } from '../src/audit/audit-query.ts'
import { DEFAULT_STATEMENT_TIMEOUT_MS, SESSION_OPTIONS } from '../src/audit/postgres-audit-store.ts'
import { sqlitePathOf } from '../src/audit/sqlite-audit-store.ts'
import { summariseLatencies, type LatencySummary } from './load.ts'
import { projectName, SEED_BASE_TIME, SEED_PROJECTS, SEED_SUBJECTS, SEED_VIDEOS, subjectName, videoName } from './seed-history.ts'

const LIMIT = 50

export interface ReviewQueryResult {
  kind: string
  queries: number
  firstPageMs: LatencySummary
  /** Pages after the first, following each first page's cursor. */
  nextPagesMs: LatencySummary | null
  meanItems: number
  /** Queries that failed (PostgreSQL: the service's 2 s statement timeout), with the first error. */
  failed: number
  error: string | null
  /** The plan of the first query of the kind, one line per plan node. */
  plan: string[]
}

interface Database {
  dialect: SqlDialect
  run: (query: SqlQuery) => Promise<Array<Record<string, unknown>>>
  explain: (query: SqlQuery) => Promise<string[]>
  close: () => Promise<void>
}

async function connect (url: string): Promise<{ db: Database, table: string }> {
  if (url.startsWith('sqlite:')) {
    const sqlite = new DatabaseSync(sqlitePathOf(url), { readOnly: true })
    const all = (text: string, values: unknown[]): Array<Record<string, unknown>> => sqlite.prepare(text).all(...(values as never[])) as Array<Record<string, unknown>>
    return {
      table: 'audit_records',
      db: {
        dialect: SQLITE_DIALECT,
        run: async ({ text, values }) => all(text, values),
        explain: async ({ text, values }) => all(`EXPLAIN QUERY PLAN ${text}`, values).map((row) => String(row.detail)),
        close: async () => { sqlite.close() }
      }
    }
  }
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema') ?? 'public'
  parsed.searchParams.delete('schema')
  // The service's own session: a query that needs longer than its limit fails here as it would there.
  const client = new pg.Client({ connectionString: parsed.toString(), statement_timeout: DEFAULT_STATEMENT_TIMEOUT_MS, options: SESSION_OPTIONS })
  await client.connect()
  return {
    table: `"${schema}".audit_records`,
    db: {
      dialect: POSTGRES_DIALECT,
      run: async ({ text, values }) => (await client.query(text, values)).rows,
      explain: async ({ text, values }) => (await client.query(`EXPLAIN ${text}`, values)).rows.map((row) => String(row['QUERY PLAN'])),
      close: async () => { await client.end() }
    }
  }
}

/** Filter values drawn like the seeded history: `pick(n)` is 0…n-1, the same sequence on every run. */
export function randomPicker (): (n: number) => number {
  let state = 0x5eed
  return (n) => {
    state = (state * 1103515245 + 12345) % 2147483648
    return Math.floor(state / 2147483648 * n)
  }
}

type FilterPart = 'project' | 'video' | 'actor' | 'outcome' | 'time'
const PARTS: readonly FilterPart[] = ['project', 'video', 'actor', 'outcome', 'time']

/** Every combination of the filters (project alone, a caller's set of 5 or of 60 projects), each drawn anew per query. */
export function reviewKinds (entries: number, outcome?: AuditOutcome): Array<{ kind: string, filter: () => AuditFilter }> {
  const pick = randomPicker()
  const kinds: Array<{ kind: string, filter: () => AuditFilter }> = []
  const claims: Array<[string, () => AuditFilter['projectIds']]> = [
    ['', () => '*'],
    ['5 projects', () => Array.from({ length: 5 }, () => projectName(pick(SEED_PROJECTS)))],
    ['60 projects', () => Array.from({ length: 60 }, () => projectName(pick(SEED_PROJECTS)))]
  ]
  for (const [claimName, claim] of claims) {
    for (let mask = 0; mask < 1 << PARTS.length; mask++) {
      const parts = PARTS.filter((_, i) => (mask & (1 << i)) !== 0)
      if (claimName !== '' && parts.includes('project')) continue
      const kind = [claimName, ...parts].filter((part) => part !== '').join(' + ') || 'everything'
      kinds.push({
        kind,
        filter: () => {
          const filter: AuditFilter = { projectIds: claim() }
          if (parts.includes('project')) filter.projectId = projectName(pick(SEED_PROJECTS))
          if (parts.includes('video')) filter.videoId = videoName(pick(SEED_VIDEOS))
          if (parts.includes('actor')) filter.actor = subjectName(pick(SEED_SUBJECTS))
          if (parts.includes('outcome')) filter.outcome = outcome ?? (['failed', 'unknown', 'rejected', 'succeeded'] as const)[pick(4)]
          if (parts.includes('time')) {
            // A window of a tenth of the history, anywhere in it.
            const span = entries / 10 * 1000
            const since = SEED_BASE_TIME + pick(entries * 1000 - span)
            filter.since = new Date(since).toISOString()
            filter.until = new Date(since + span).toISOString()
          }
          return filter
        }
      })
    }
  }
  return kinds
}

/** Which outcome the outcome filter takes (else one of four per query), and which combinations are measured (else all). */
export interface ReviewQueryChoice { outcome?: AuditOutcome, withPart?: FilterPart }

export async function measureReviewQueries (url: string, entries: number, queries: number, pages: number, log: (line: string) => void = () => {}, choice: ReviewQueryChoice = {}): Promise<ReviewQueryResult[]> {
  const { db, table } = await connect(url)
  try {
    const results: ReviewQueryResult[] = []
    const kinds = reviewKinds(entries, choice.outcome).filter(({ kind }) => choice.withPart === undefined || kind.split(' + ').includes(choice.withPart))
    for (const { kind, filter } of kinds) {
      const first: number[] = []
      const next: number[] = []
      let items = 0
      let failed = 0
      let error: string | null = null
      let plan: string[] = []
      for (let i = 0; i < queries; i++) {
        const scope = scopeOf(filter())
        if (scope === null) continue
        let before: number | null = null
        for (let page = 0; page < pages; page++) {
          const query = entryPageQuery(table, scope, before, LIMIT + 1, db.dialect)
          if (i === 0 && page === 0) plan = await db.explain(query)
          const startedAt = performance.now()
          let rows: Array<Record<string, unknown>>
          try {
            rows = await db.run(query)
          } catch (caught) {
            failed++
            error ??= (caught as Error).message
            break
          }
          ;(page === 0 ? first : next).push(performance.now() - startedAt)
          if (page === 0) items += Math.min(rows.length, LIMIT)
          if (rows.length <= LIMIT) break
          before = Number(rows[LIMIT - 1]?.entry_seq)
        }
      }
      const result = { kind, queries: first.length, firstPageMs: summariseLatencies(first), nextPagesMs: next.length === 0 ? null : summariseLatencies(next), meanItems: Math.round(items / first.length * 10) / 10, failed, error, plan }
      log(`  ${kind}: first page p50 ${result.firstPageMs.p50} ms, p99 ${result.firstPageMs.p99} ms; next pages p99 ${result.nextPagesMs?.p99 ?? '-'} ms; ${result.meanItems} items${failed > 0 ? `; ${failed} failed: ${error}` : ''}`)
      results.push(result)
    }
    return results
  } finally {
    await db.close()
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      entries: { type: 'string', default: '1000000' },
      queries: { type: 'string', default: '50' },
      pages: { type: 'string', default: '5' },
      json: { type: 'string' },
      outcome: { type: 'string' },
      with: { type: 'string' }
    }
  })
  const outcome = values.outcome as AuditOutcome | undefined
  const withPart = values.with as FilterPart | undefined
  if (values.url === undefined || (outcome !== undefined && !AUDIT_OUTCOMES.includes(outcome)) || (withPart !== undefined && !PARTS.includes(withPart))) {
    console.error(`usage: node bench/review-queries.ts --url sqlite:<file>|postgres://…?schema=<name> [--entries N] [--queries 50] [--pages 5] [--json file] [--outcome ${AUDIT_OUTCOMES.join('|')}] [--with ${PARTS.join('|')}]`)
    process.exit(2)
  }
  const results = await measureReviewQueries(values.url, Number(values.entries), Number(values.queries), Number(values.pages), console.log, { outcome, withPart })
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(results, null, 2))
}
