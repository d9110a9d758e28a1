import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { BACKENDS, intentOf, makeEntry, setUpTrail } from '../helpers/audit-fixtures.ts'
import { openAuditStore } from '../../src/audit/open-audit-store.ts'

// The same claims about both stores: SQLite in a temporary file, and the real PostgreSQL.

for (const backend of BACKENDS) {
  t.test(backend, async (t) => {
    t.test('an intent followed by its final record reads as the final; an intent alone reads unknown', async (t) => {
      const { store } = await setUpTrail(t, backend)
      const done = makeEntry(1, { outcome: 'succeeded', status: 200 })
      await store.append(intentOf(done), false)
      t.match(await store.getEntry(done.id, '*'), { id: done.id, outcome: 'unknown', status: null }, 'while open: unknown')
      await store.append(done, true)
      t.same(await store.getEntry(done.id, '*'), done, 'closed: the final record, field for field')

      const crashed = makeEntry(2)
      await store.append(intentOf(crashed), false)
      t.same(await store.getEntry(crashed.id, '*'), intentOf(crashed), 'an intent never closed reads unknown')

      const page = await store.listEntries({ projectIds: '*' }, 10, null)
      t.same(page.items.map((e) => [e.id, e.outcome]), [[crashed.id, 'unknown'], [done.id, 'succeeded']], 'one item per entry, not per record')
      t.equal(page.nextCursor, null)
      t.same(await store.verify(), { ok: true, checked: 3, head: { seq: 3, hash: (await store.verify()).head?.hash } })
      t.equal(await store.getEntry('no-such-entry', '*'), null)
    })

    t.test('a second final, a second intent and an intent after the final are refused, by the store and by the database', async (t) => {
      const { store, raw } = await setUpTrail(t, backend)
      await store.append(intentOf(makeEntry(1)), false)
      await store.append(makeEntry(1), true)
      await store.append(intentOf(makeEntry(2)), false)
      await t.rejects(store.append(makeEntry(1, { outcome: 'failed' }), true), { code: 'AUDIT_DUPLICATE_RECORD' }, 'second final')
      await t.rejects(store.append(intentOf(makeEntry(1)), false), { code: 'AUDIT_DUPLICATE_RECORD' }, 'intent after final')
      await t.rejects(store.append(intentOf(makeEntry(2)), false), { code: 'AUDIT_DUPLICATE_RECORD' }, 'second intent')
      await t.rejects(store.append(makeEntry(2, { projectId: 'proj-b' }), true), { code: 'AUDIT_RECORD_MISMATCH' }, 'a final of another project than its intent')
      await t.rejects(store.append(makeEntry(3, { time: 'now' }), true), { code: 'AUDIT_INVALID_ENTRY' })
      t.match(await store.verify(), { ok: true, checked: 3 }, 'nothing refused was written')

      // Straight into the table, past the store: the constraints and triggers hold on their own.
      const [row] = await raw.query(`SELECT * FROM ${raw.table} WHERE seq = 2`)
      const copy = (overrides: Record<string, unknown>): unknown[] => Object.values({ ...row, ...overrides })
      const insert = `INSERT INTO ${raw.table} (seq, entry_id, final, entry_seq, project_id, video_id, actor_sub, outcome, time_ms, body, prev_hash, hash, kind)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
      await t.rejects(raw.exec(insert, copy({ seq: 4 })), 'a second final row violates the unique index')
      await t.rejects(raw.exec(insert, copy({ seq: 4, final: backend === 'sqlite' ? 0 : false, outcome: 'unknown', entry_seq: 4 })), /intent after the final/, 'an intent row after the final')
    })

    t.test('UPDATE and DELETE are rejected by the database itself', async (t) => {
      const { store, raw } = await setUpTrail(t, backend)
      for (let n = 1; n <= 3; n++) await store.append(makeEntry(n), true)
      await t.rejects(raw.exec(`UPDATE ${raw.table} SET outcome = 'failed' WHERE seq = 2`), /append-only: UPDATE rejected/)
      await t.rejects(raw.exec(`UPDATE ${raw.table} SET body = body`), /append-only/)
      await t.rejects(raw.exec(`DELETE FROM ${raw.table} WHERE seq = 3`), /append-only: DELETE rejected/)
      if (backend === 'postgres') await t.rejects(raw.exec(`TRUNCATE ${raw.table}`), /append-only: TRUNCATE rejected/)
      t.match(await store.verify(), { ok: true, checked: 3 }, 'every record still there, unchanged')
      t.equal((await store.getEntry('entry-2', '*'))?.outcome, 'succeeded')
    })

    t.test('an auditor sees only the projects of their claim', async (t) => {
      const { store } = await setUpTrail(t, backend)
      await store.append(makeEntry(1, { projectId: 'proj-a' }), true)
      await store.append(makeEntry(2, { projectId: 'proj-b' }), true)
      await store.append(makeEntry(3, { projectId: null, videoId: null, outcome: 'rejected', status: 400, reason: 'validation' }), true)
      await store.append(intentOf(makeEntry(4, { projectId: 'proj-b' })), false)
      const ids = async (projectIds: string[] | '*', projectId?: string): Promise<string[]> =>
        (await store.listEntries({ projectIds, ...(projectId !== undefined && { projectId }) }, 50, null)).items.map((e) => e.id)
      t.same(await ids(['proj-a']), ['entry-1'])
      t.same(await ids(['proj-b']), ['entry-4', 'entry-2'])
      t.same(await ids(['proj-a', 'proj-b']), ['entry-4', 'entry-2', 'entry-1'])
      t.same(await ids(['proj-a'], 'proj-b'), [], 'asking for another project shows nothing')
      t.same(await ids([]), [], 'an empty claim shows nothing')
      t.same(await ids('*'), ['entry-4', 'entry-3', 'entry-2', 'entry-1'], '"*" shows every entry, those without a project too')
      t.same(await ids('*', 'proj-b'), ['entry-4', 'entry-2'])
      t.equal(await store.getEntry('entry-2', ['proj-a']), null, 'by id: another project\'s entry is not there')
      t.equal(await store.getEntry('entry-3', ['proj-a', 'proj-b']), null, 'nor one without a project')
      t.equal((await store.getEntry('entry-2', ['proj-b']))?.id, 'entry-2')
      t.equal((await store.getEntry('entry-3', '*'))?.id, 'entry-3')
      t.same(await (async () => { const seen = []; for await (const e of store.streamEntries({ projectIds: ['proj-a'] })) seen.push(e.id); return seen })(), ['entry-1'], 'streaming too')
    })

    t.test('records outlive the process; a read-only instance reads and never writes', async (t) => {
      const { store, open } = await setUpTrail(t, backend)
      await store.append(makeEntry(1), true)
      await store.append(intentOf(makeEntry(2)), false)
      await store.checkWritable()
      await store.close()
      await t.rejects(store.append(makeEntry(3), true), 'a closed store refuses to append')
      await t.rejects(store.checkWritable(), 'and is not ready')

      const again = await open()
      t.same((await again.listEntries({ projectIds: '*' }, 10, null)).items.map((e) => [e.id, e.outcome]), [['entry-2', 'unknown'], ['entry-1', 'succeeded']])
      await again.append(makeEntry(2), true)
      t.match(await again.verify(), { ok: true, checked: 3 }, 'the chain goes on across restarts')

      const reader = await open({ readOnly: true })
      t.equal((await reader.getEntry('entry-2', '*'))?.outcome, 'succeeded')
      await t.rejects(reader.append(makeEntry(9), true), { code: 'AUDIT_STORE_NOT_WRITABLE' })
      await t.rejects(reader.checkWritable(), { code: 'AUDIT_STORE_NOT_WRITABLE' })
      t.match(await reader.verify(), { ok: true, checked: 3 })
    })
  })
}

t.test('sqlite: the file and its directory are created on first open, in WAL mode', async (t) => {
  const file = join(t.testdir(), 'nested', 'dir', 'audit.db')
  t.notOk(existsSync(file))
  await t.rejects(openAuditStore(`sqlite:${file}`, { readOnly: true }), { code: 'AUDIT_STORE_OPEN' }, 'read-only never creates')
  t.notOk(existsSync(file))
  const store = await openAuditStore(`sqlite:${file}`)
  t.teardown(() => store.close())
  await store.append(makeEntry(1), true)
  t.ok(existsSync(file))
  t.ok(existsSync(`${file}-wal`), 'write-ahead log in use')
  const memory = await openAuditStore('sqlite::memory:')
  await memory.append(makeEntry(1), true)
  t.match(await memory.verify(), { ok: true, checked: 1 })
  await memory.close()
})

t.test('store URLs', async (t) => {
  await t.rejects(openAuditStore('mysql://localhost/db'), { code: 'AUDIT_STORE_URL' })
  await t.rejects(openAuditStore('postgres://u:secret@127.0.0.1:5432/test?schema=bad-name'), { code: 'AUDIT_STORE_URL' })
  await t.rejects(openAuditStore('sqlite:'), { code: 'AUDIT_STORE_URL' })
  const error = await openAuditStore('redis://u:secret@host/0').catch((e: Error) => e)
  t.notMatch(String((error as Error).message), /secret/, 'no password in the message')
  await t.rejects(openAuditStore('postgres://postgres@127.0.0.1:1/test'), { code: 'AUDIT_STORE_OPEN', message: /ECONNREFUSED/ }, 'an unreachable server fails the open, clearly')
})
