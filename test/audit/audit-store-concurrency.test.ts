import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import t from 'tap'
import pg from 'pg'
import { openAuditStore } from '../../src/audit/open-audit-store.ts'
import { migrationsFor } from '../../src/audit/postgres-audit-store.ts'
import { BACKENDS, intentOf, makeEntry, PG_URL, setUpTrail } from '../helpers/audit-fixtures.ts'

const run = promisify(execFile)

for (const backend of BACKENDS) {
  t.test(`${backend}: 200 appends at once keep one valid chain`, async (t) => {
    const { store, raw } = await setUpTrail(t, backend)
    // 100 entries, each an intent then its final, all entries racing one another.
    await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      await store.append(intentOf(makeEntry(i)), false)
      await store.append(makeEntry(i), true)
    }))
    t.match(await store.verify(), { ok: true, checked: 200 })
    const [row] = await raw.query(`SELECT count(*) AS n, count(DISTINCT seq) AS seqs, min(seq) AS low, max(seq) AS high FROM ${raw.table}`)
    t.same([row?.n, row?.seqs, row?.low, row?.high].map(Number), [200, 200, 1, 200], 'seqs 1–200, no gap, no duplicate')
    const page = await store.listEntries({ projectIds: '*' }, 500, null)
    t.equal(page.items.length, 100)
    t.ok(page.items.every((entry) => entry.outcome === 'succeeded'), 'every entry reads its final record')
  })
}

t.test('postgres: two instances, each with its own pool, append at once to one chain', async (t) => {
  const { store, open } = await setUpTrail(t, 'postgres')
  const other = await open()
  await Promise.all([store, other].flatMap((instance, k) => Array.from({ length: 80 }, async (_, i) => {
    const entry = makeEntry(k * 1000 + i)
    await instance.append(intentOf(entry), false)
    await instance.append(entry, true)
  })))
  t.match(await store.verify(), { ok: true, checked: 320 })
  t.match(await other.verify(), { ok: true, checked: 320 })
})

t.test('postgres: instances starting at once on a new schema migrate it once', async (t) => {
  const schema = `audit_test_boot_${process.pid}_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  t.teardown(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.end()
  })
  const stores = await Promise.all(Array.from({ length: 4 }, async () => await openAuditStore(`${PG_URL}?schema=${schema}`)))
  t.teardown(async () => { for (const store of stores) await store.close() })
  const { rows } = await admin.query(`SELECT version FROM "${schema}".audit_schema_migrations`)
  t.same(rows.map((row) => row.version).sort(), migrationsFor(schema).map((_, i) => i + 1), 'one row per migration')
  await Promise.all(stores.map(async (store, i) => { await store.append(makeEntry(i), true) }))
  t.match(await stores[0]?.verify(), { ok: true, checked: 4 })
})

t.test('sqlite: three processes appending to one file keep one valid chain', async (t) => {
  const { store, url } = await setUpTrail(t, 'sqlite')
  const writer = (k: number): string => `
    import { openAuditStore } from ${JSON.stringify(new URL('../../src/audit/open-audit-store.ts', import.meta.url).href)}
    import { intentOf, makeEntry } from ${JSON.stringify(new URL('../helpers/audit-fixtures.ts', import.meta.url).href)}
    const store = await openAuditStore(${JSON.stringify(url)})
    for (let i = 0; i < 40; i++) {
      const entry = makeEntry(${k} * 1000 + i)
      await store.append(intentOf(entry), false)
      await store.append(entry, true)
    }
    await store.close()`
  await Promise.all([1, 2, 3].map(async (k) => await run(process.execPath, ['--input-type=module', '-e', writer(k)])))
  t.match(await store.verify(), { ok: true, checked: 240 })
  t.equal((await store.listEntries({ projectIds: '*' }, 500, null)).items.length, 120)
})
