/**
 * Fills an audit trail with a large, deterministic history (`bench/seed-history.ts`), fast,
 * and resumably: the records the store itself would append, written in large committed
 * batches instead of one durable commit per record, with the indexes built afterwards.
 *
 *   node bench/seed-audit.ts --url sqlite:/tmp/audit-1m.db [--entries 1000000] [--seed 1] [--batch N]
 *   node bench/seed-audit.ts --url 'postgres://postgres@127.0.0.1:5432/test?schema=bench_1m'
 *
 * Run it again on the same trail after a crash or a kill and it goes on from the last
 * committed record (checked to be this history's); on a complete trail it only creates what
 * the migrations define and the trail lacks, which is nothing once it has finished.
 */
import { parseArgs } from 'node:util'
import { openAuditStore } from '../src/audit/open-audit-store.ts'
import { sqlitePathOf } from '../src/audit/sqlite-audit-store.ts'
import type { AuditRecordRow } from '../src/audit/audit-chain.ts'
import { SeedHistory } from './seed-history.ts'
import { openPostgresSeedTrail } from './seed-postgres.ts'
import { openSqliteSeedTrail } from './seed-sqlite.ts'

export interface SeedResult {
  entries: number
  /** Records of the history, all of them stored now. */
  records: number
  /** Records that were already stored when this run started (0: a new trail; `records`: complete). */
  resumedAt: number
  /** Indexes (and PostgreSQL: the triggers) created at the end. */
  created: string[]
  seconds: number
  /** Of `seconds`: appending the records, and creating the indexes at the end. */
  loadSeconds: number
  finishSeconds: number
}

export interface SeedOptions {
  url: string
  entries: number
  seed?: number
  /** Records per committed transaction. */
  batch?: number
  /** After each commit: records stored, of `total`. */
  onProgress?: (stored: number, total: number) => void
}

function * prepend<T> (first: T, rest: Iterator<T>): Generator<T> {
  yield first
  for (let next = rest.next(); next.done !== true; next = rest.next()) yield next.value
}

/** Seeds the trail at `url`, or resumes a seed that stopped, or finds it complete. */
export async function seedAuditTrail (options: SeedOptions): Promise<SeedResult> {
  const startedAt = performance.now()
  const history = new SeedHistory(options.entries, options.seed)
  const sqlite = options.url.startsWith('sqlite:')
  // The store creates (or migrates) the schema, exactly as the service would at start-up.
  const store = await openAuditStore(options.url)
  await store.close()
  const trail = sqlite ? openSqliteSeedTrail(sqlitePathOf(options.url)) : await openPostgresSeedTrail(options.url)
  try {
    const total = history.records
    // A trail the service has appended to since (the benchmark's reused PostgreSQL schema) is
    // complete when its record `total` is the history's last.
    const resumedAt = Math.min(await trail.headSeq(), total)
    const rows = history.rows(resumedAt === 0 ? null : await trail.record(resumedAt))
    // The first row is made before anything changes: a trail that is not this history's is refused untouched.
    const first = rows.next()
    if (first.done !== true) {
      await trail.prepareLoad()
      await trail.load(prepend<AuditRecordRow>(first.value, rows), options.batch ?? (sqlite ? 100_000 : 50_000), (committed) => options.onProgress?.(resumedAt + committed, total))
    }
    const loadedAt = performance.now()
    const created = await trail.finish()
    const finishedAt = performance.now()
    return {
      entries: options.entries,
      records: total,
      resumedAt,
      created,
      seconds: (finishedAt - startedAt) / 1000,
      loadSeconds: (loadedAt - startedAt) / 1000,
      finishSeconds: (finishedAt - loadedAt) / 1000
    }
  } finally {
    await trail.close()
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      entries: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      batch: { type: 'string' }
    }
  })
  if (values.url === undefined) {
    console.error('usage: node bench/seed-audit.ts --url sqlite:<file>|postgres://…?schema=<name> [--entries 1000000] [--seed 1] [--batch records]')
    process.exit(2)
  }
  let lastPrint = 0
  const result = await seedAuditTrail({
    url: values.url,
    entries: Number(values.entries),
    seed: Number(values.seed),
    batch: values.batch === undefined ? undefined : Number(values.batch),
    onProgress: (stored, total) => {
      if (performance.now() - lastPrint < 5000 && stored < total) return
      lastPrint = performance.now()
      console.log(`  ${stored.toLocaleString('en')} / ${total.toLocaleString('en')} records`)
    }
  })
  const resumed = result.resumedAt === 0 ? '' : result.resumedAt === result.records ? ', already complete' : `, resumed at record ${result.resumedAt.toLocaleString('en')}`
  console.log(`seeded ${result.entries.toLocaleString('en')} entries (${result.records.toLocaleString('en')} records${resumed}) in ${result.seconds.toFixed(1)} s` +
    ` (records ${result.loadSeconds.toFixed(1)} s, indexes ${result.finishSeconds.toFixed(1)} s${result.created.length === 0 ? ', none missing' : `: ${result.created.join(', ')}`})`)
}
