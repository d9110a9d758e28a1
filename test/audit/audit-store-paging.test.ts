import t from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import type { AuditPage } from '../../src/audit/audit-store.ts'
import {
  BACKENDS, collect, intentOf, makeEntry, record, seededRandom, seedTrail, setUpTrail, TrailModel
} from '../helpers/audit-fixtures.ts'

// A few thousand entries, read newest first a page at a time while the trail keeps moving:
// new entries arrive and open intents get closed between pages, above and below the cursor.

const COUNT = 3000

function dataSet (): { ops: Array<[AuditEntry, boolean]>, open: AuditEntry[] } {
  const random = seededRandom(7)
  const ops: Array<[AuditEntry, boolean]> = []
  const open: AuditEntry[] = []
  for (let n = 1; n <= COUNT; n++) {
    const entry = makeEntry(n, { projectId: n % 3 === 0 ? 'proj-b' : 'proj-a' })
    if (random() < 0.25) {
      ops.push([intentOf(entry), false])
      open.push(entry)
    } else {
      ops.push([entry, true])
    }
  }
  return { ops, open }
}

for (const backend of BACKENDS) {
  t.test(backend, async (t) => {
    const trail = await setUpTrail(t, backend)
    const { store } = trail
    const model = new TrailModel()
    const { ops, open } = dataSet()
    await seedTrail(trail, model, ops)

    t.test('pages cover every entry once, in order, while entries arrive and intents close', async (t) => {
      const random = seededRandom(99)
      const expected = model.ids()
      const seen: string[] = []
      let cursor: string | null = null
      let next = COUNT + 1
      let pages = 0
      let appended = 0
      do {
        const page: AuditPage = await store.listEntries({ projectIds: '*' }, 100, cursor)
        seen.push(...page.items.map((e) => e.id))
        cursor = page.nextCursor
        pages++
        // Between pages: two new entries (one still open), and three intents closed anywhere.
        await record(store, model, makeEntry(next++), true)
        await record(store, model, intentOf(makeEntry(next++)), false)
        for (let i = 0; i < 3; i++) {
          const [closing] = open.splice(Math.floor(random() * open.length), 1) as [AuditEntry]
          await record(store, model, { ...closing, outcome: 'failed', status: 502 }, true)
        }
        appended += 5
      } while (cursor !== null)
      t.equal(pages, COUNT / 100, 'pages of 100')
      t.equal(new Set(seen).size, seen.length, 'no entry twice')
      t.same(seen, expected, 'exactly the entries there were at the start, newest first: none skipped, none moved')
      const top = await store.listEntries({ projectIds: '*' }, 4, null)
      t.same(top.items.map((e) => e.id), model.ids().slice(0, 4), 'the new entries wait on top for the next first page')
      t.match(await store.verify(), { ok: true, checked: ops.length + appended })
    })

    t.test('a stream yields every match, newest first', async (t) => {
      t.same((await collect(store.streamEntries({ projectIds: '*' }))).map((e) => e.id), model.ids(), `${model.size} entries`)
      const filter = { projectIds: ['proj-b'] }
      const streamed = await collect(store.streamEntries(filter))
      t.same(streamed, model.entries(filter), `${streamed.length} entries of proj-b, field for field`)
      let taken = 0
      for await (const entry of store.streamEntries({ projectIds: '*' })) {
        t.equal(entry.id, model.ids()[taken])
        if (++taken === 10) break
      }
      t.equal(taken, 10, 'a consumer may stop early')
    })
  })
}
