import t from 'tap'
import { openPostgresAuditStore } from '../../src/audit/postgres-audit-store.ts'
import { makeEntry, setUpTrail } from '../helpers/audit-fixtures.ts'

// Readiness must say whether the store can record, not only whether it answers a query. Here
// PostgreSQL answers reads and the role may INSERT, yet no append can take the trail's lock
// (another session holds it, as a stuck transaction would): appends fail within their bounds,
// and checkWritable must fail too. Short bounds are injected; a hang fails at the test timeout.

const APPEND_LOCK_CLASS = 1819042049

t.test('postgres: the append lock held elsewhere: appends fail, readiness fails; released: both work', { timeout: 30_000 }, async (t) => {
  const trail = await setUpTrail(t, 'postgres')
  const schema = new URL(trail.url).searchParams.get('schema') as string
  const store = await openPostgresAuditStore(trail.url, { statementTimeoutMs: 300, queryTimeoutMs: 1000, appendDeadlineMs: 2000, writeFreshMs: 60_000 })
  t.teardown(() => store.close())
  await store.append(makeEntry(1), true)
  await store.checkWritable()

  await trail.raw.exec(`SELECT pg_advisory_lock(${APPEND_LOCK_CLASS}, hashtext($1))`, [schema])
  await t.rejects(store.append(makeEntry(2), true), 'the append fails instead of waiting for the lock')
  await t.rejects(store.checkWritable(), { code: 'AUDIT_STORE_NOT_WRITABLE' }, 'after a failed append, readiness writes a probe, and it fails too')
  t.same((await store.listEntries({ projectIds: '*' }, 10, null)).items.map((entry) => entry.id), ['entry-1'], 'reads still work; nothing half-written')

  await trail.raw.exec(`SELECT pg_advisory_unlock(${APPEND_LOCK_CLASS}, hashtext($1))`, [schema])
  await store.checkWritable()
  await store.append(makeEntry(3), true)
  t.match(await store.verify(), { ok: true, checked: 2 })
})
