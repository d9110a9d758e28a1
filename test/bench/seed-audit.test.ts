import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import t, { type Test } from 'tap'
import { openAuditStore } from '../../src/audit/open-audit-store.ts'
import { seedAuditTrail } from '../../bench/seed-audit.ts'
import { SeedHistory, SeedMismatchError } from '../../bench/seed-history.ts'
import { BACKENDS, type Backend, PG_URL } from '../helpers/audit-fixtures.ts'
import { cliInProcess } from '../helpers/audit-cli.ts'

const SEED_AUDIT = join(import.meta.dirname, '..', '..', 'bench', 'seed-audit.ts')
/** Large enough that the seeder is still loading when the kill arrives (it prints after its first commit). */
const ENTRIES = 10_000
const BATCH = 500

interface Trail {
  url: string
  /** Every stored record's seq and hash, in seq order. */
  hashes: () => Promise<string[]>
  /** Indexes and triggers of the records, as the database describes them (the schema's name left out). */
  schema: () => Promise<string[]>
  /** The stored head record. */
  head: () => Promise<{ seq: number, final: boolean, entryId: string } | null>
}

/** A trail of its own: a file in `dir`, or a schema dropped at teardown. */
async function newTrail (t: Test, dir: string, backend: Backend, name: string): Promise<Trail> {
  if (backend === 'sqlite') {
    const file = join(dir, `${name}.db`)
    const read = <T>(work: (db: DatabaseSync) => T): T => {
      const db = new DatabaseSync(file)
      try { return work(db) } finally { db.close() }
    }
    return {
      url: `sqlite:${file}`,
      hashes: async () => read((db) => (db.prepare('SELECT seq, hash FROM audit_records ORDER BY seq').all() as Array<{ seq: number, hash: string }>).map((r) => `${r.seq}:${r.hash}`)),
      schema: async () => read((db) => (db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all() as Array<Record<string, string>>).map((r) => `${r.type} ${r.name}: ${r.sql}`)),
      head: async () => read((db) => {
        const row = db.prepare('SELECT seq, final, entry_id FROM audit_records ORDER BY seq DESC LIMIT 1').get() as Record<string, unknown> | undefined
        return row === undefined ? null : { seq: Number(row.seq), final: row.final === 1, entryId: row.entry_id as string }
      })
    }
  }
  const schema = `seed_test_${process.pid}_${name}_${randomBytes(3).toString('hex')}`
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 })
  await client.connect()
  t.teardown(async () => {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await client.end()
  })
  const table = `"${schema}".audit_records`
  const present = async (): Promise<boolean> => (await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [table])).rows[0].present as boolean
  return {
    url: `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}`,
    hashes: async () => (await client.query(`SELECT seq, hash FROM ${table} ORDER BY seq`)).rows.map((r) => `${r.seq}:${r.hash}`),
    schema: async () => {
      const indexes = await client.query('SELECT indexname, indexdef AS def FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname', [schema])
      const triggers = await client.query(`SELECT tgname, tgenabled, pg_get_triggerdef(oid) AS def FROM pg_trigger
        WHERE tgrelid IN ('${table}'::regclass, '"${schema}".audit_checkpoints'::regclass) AND NOT tgisinternal ORDER BY tgname`)
      return [...indexes.rows.map((r) => `index ${r.indexname}: ${(r.def as string).replaceAll(schema, 'S')}`),
        ...triggers.rows.map((r) => `trigger ${r.tgname} (${r.tgenabled}): ${(r.def as string).replaceAll(schema, 'S')}`)]
    },
    head: async () => {
      if (!await present()) return null
      const { rows: [row] } = await client.query(`SELECT seq, final, entry_id FROM ${table} ORDER BY seq DESC LIMIT 1`)
      return row === undefined ? null : { seq: Number(row.seq), final: row.final as boolean, entryId: row.entry_id as string }
    }
  }
}

/** Seeds in a child process and SIGKILLs it as soon as it reports its first committed batch. */
async function seedAndKill (url: string): Promise<NodeJS.Signals | null> {
  const script = `import { seedAuditTrail } from ${JSON.stringify(SEED_AUDIT)}
    await seedAuditTrail({ url: ${JSON.stringify(url)}, entries: ${ENTRIES}, batch: ${BATCH}, onProgress: (stored) => console.log(stored) })`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  child.stdout.once('data', () => child.kill('SIGKILL'))
  return await new Promise((resolve) => child.once('exit', (_code, signal) => { resolve(signal) }))
}

async function verified (t: Test, url: string, records: number): Promise<void> {
  const result = await cliInProcess(['verify', '--store', url, '--json'])
  t.equal(result.code, 0, 'npm run audit -- verify: the chain is intact')
  t.match(JSON.parse(result.stdout), { ok: true, checked: records })
}

for (const backend of BACKENDS) {
  t.test(`${backend}: a seed killed midway and resumed is the seed that was never interrupted`, async (t) => {
    const dir = t.testdir()
    const records = new SeedHistory(ENTRIES).records
    const whole = await newTrail(t, dir, backend, 'whole')
    const first = await seedAuditTrail({ url: whole.url, entries: ENTRIES, batch: BATCH })
    t.match(first, { records, resumedAt: 0 })
    const expected = await whole.hashes()
    t.equal(expected.length, records)
    // What the migrations alone create, on a trail of its own.
    const fresh = await newTrail(t, dir, backend, 'fresh')
    await (await openAuditStore(fresh.url)).close()
    t.same(await whole.schema(), await fresh.schema(), 'the seeded trail has exactly the indexes and triggers the migrations create')

    const killed = await newTrail(t, dir, backend, 'killed')
    t.equal(await seedAndKill(killed.url), 'SIGKILL', 'the seeder was killed, not finished')
    const stopped = await killed.head()
    t.ok(stopped !== null && stopped.seq >= BATCH && stopped.seq < records, `killed after ${stopped?.seq} of ${records} records`)
    t.not(await killed.schema(), await fresh.schema(), 'killed while its indexes were out of the way')
    const resumed = await seedAuditTrail({ url: killed.url, entries: ENTRIES, batch: BATCH })
    t.equal(resumed.resumedAt, stopped?.seq, 'resumed from the last committed record')
    t.ok(resumed.created.length > 0, 'and re-created the indexes')
    t.same(await killed.hashes(), expected, 'every record, with the same hashes')
    t.same(await killed.schema(), await fresh.schema(), 'the same indexes and triggers')
    await verified(t, killed.url, records)

    const again = await seedAuditTrail({ url: killed.url, entries: ENTRIES, batch: BATCH })
    t.match(again, { resumedAt: records, created: [] }, 'a complete trail is recognised as complete')
    t.same(await killed.hashes(), expected, 'and left as it was')
  })

  t.test(`${backend}: a seed stopped between an entry's intent and its final goes on with the final`, async (t) => {
    // The first intent of a two-record entry in the history: a batch of that many ends on it.
    const rows = [...new SeedHistory(50).rows()]
    const intentAt = rows.findIndex((row, i) => !row.final && rows[i + 1]?.entryId === row.entryId) + 1
    t.ok(intentAt > 1)
    const dir = t.testdir()
    const trail = await newTrail(t, dir, backend, 'split')
    const stop = new Error('stopped after the first batch')
    await t.rejects(seedAuditTrail({ url: trail.url, entries: 50, batch: intentAt, onProgress: () => { throw stop } }), stop)
    t.match(await trail.head(), { seq: intentAt, final: false }, 'the trail ends on an intent')
    const resumed = await seedAuditTrail({ url: trail.url, entries: 50 })
    t.equal(resumed.resumedAt, intentAt)
    t.same(await trail.hashes(), rows.map((row) => `${row.seq}:${row.hash}`), 'the same records as the history')
    await verified(t, trail.url, rows.length)
  })

  t.test(`${backend}: a trail of another history is refused, untouched`, async (t) => {
    const dir = t.testdir()
    const trail = await newTrail(t, dir, backend, 'other')
    await seedAuditTrail({ url: trail.url, entries: 100, seed: 2 })
    const before = [await trail.hashes(), await trail.schema()]
    await t.rejects(seedAuditTrail({ url: trail.url, entries: 200, seed: 1 }), SeedMismatchError)
    t.same([await trail.hashes(), await trail.schema()], before)
  })
}
