import t from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import type { AuditFilter, AuditPage } from '../../src/audit/audit-store.ts'
import { companionTable, lateEntriesSelect, timeMarksSelect } from '../../src/audit/audit-time-marks.ts'
import { BACKENDS, intentOf, makeEntry, record, seededRandom, seedTrail, setUpTrail, TrailModel } from '../helpers/audit-fixtures.ts'

// Time-range pages when entry times do not rise with the entry order: clocks of several
// instances a little apart, entries appended long after their time, one clock far ahead for a
// while, one far behind. Every page of every range must hold exactly the matching entries, in
// entry order, none twice, none skipped, following the cursor.

const BASE_TIME = Date.UTC(2025, 0, 1)
const COUNT = 2400
const PROJECTS = 70

/** Entry n's time: one a second, then the skew. */
function skewedTime (n: number, random: () => number): number {
  let time = BASE_TIME + n * 1000 + Math.round(random() * 600) - 300
  if (n % 4 === 1) time -= 3000 // an instance 3 s behind
  if (random() < 0.03) time -= 20_000 + Math.round(random() * 7_200_000) // appended late, by 20 s to 2 h
  if (n >= 1200 && n < 1210) time += 1_800_000 // a clock half an hour ahead, for ten entries
  if (n === 2000) time = Date.UTC(1969, 11, 31, 23, 59, 50) // a clock reset to before 1970
  return time
}

interface DataSet { seeded: Array<[AuditEntry, boolean]>, appended: Array<[AuditEntry, boolean]>, times: number[] }

/** Most records seeded in one transaction; the last 300 entries, and the closing of open intents, through `append`. */
function dataSet (): DataSet {
  const random = seededRandom(17)
  const seeded: Array<[AuditEntry, boolean]> = []
  const appended: Array<[AuditEntry, boolean]> = []
  const open: AuditEntry[] = []
  const times: number[] = []
  for (let n = 1; n <= COUNT; n++) {
    const time = skewedTime(n, random)
    times.push(time)
    const entry = makeEntry(n, {
      time: new Date(time).toISOString(),
      projectId: `proj-${Math.floor(random() * random() * PROJECTS)}`,
      actor: { sub: `user-${n % 9}`, clientId: 'web', ip: '192.0.2.1', userAgent: 'test-agent/1.0' },
      outcome: random() < 0.2 ? 'failed' : 'succeeded'
    })
    const ops = n > COUNT - 300 ? appended : seeded
    if (random() < 0.3) {
      ops.push([intentOf(entry), false])
      open.push(entry)
    } else {
      ops.push([entry, true])
    }
    // Intents closed a while later: the final record far above the entry's place.
    if (open.length > 20 || (n === COUNT && open.length > 0)) {
      for (const closing of open.splice(0, open.length - 5)) ops.push([closing, true])
    }
  }
  return { seeded, appended, times }
}

async function allPages (list: (cursor: string | null) => Promise<AuditPage>): Promise<{ ids: string[], pages: number }> {
  const ids: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const page: AuditPage = await list(cursor)
    ids.push(...page.items.map((entry) => entry.id))
    cursor = page.nextCursor
    pages++
  } while (cursor !== null && pages < 10_000)
  return { ids, pages }
}

for (const backend of BACKENDS) {
  t.test(backend, async (t) => {
    const trail = await setUpTrail(t, backend)
    const model = new TrailModel()
    const { seeded, appended, times } = dataSet()
    await seedTrail(trail, model, seeded)
    for (const [entry, final] of appended) await record(trail.store, model, entry, final)

    t.test('the time marks and late entries are what the records imply', async (t) => {
      const marksTable = companionTable(trail.raw.table, 'audit_time_marks')
      const lateTable = companionTable(trail.raw.table, 'audit_late_entries')
      const sorted = async (sql: string, key: string): Promise<string[]> =>
        (await trail.raw.query(`${sql} ORDER BY ${key}`)).map((row) => Object.values(row).map(String).join(':'))
      const marks = await sorted(`SELECT bucket, seq FROM ${marksTable}`, 'bucket')
      const late = await sorted(`SELECT entry_seq, time_ms FROM ${lateTable}`, 'entry_seq')
      t.ok(marks.length > 100, `${marks.length} marks`)
      t.ok(late.length > 50, `${late.length} late entries (the clock ahead makes many)`)
      t.same(marks, await sorted(`SELECT * FROM (${timeMarksSelect(trail.raw.table)}) m`, 'bucket'), 'marks as rebuilt from the records')
      t.same(late, await sorted(`SELECT * FROM (${lateEntriesSelect(trail.raw.table)}) m`, 'entry_seq'), 'late entries as rebuilt from the records')
    })

    t.test('every page of a time range holds exactly its entries, in order, following the cursor', async (t) => {
      const random = seededRandom(5)
      // The trail's times but the reset one's.
      const low = Math.min(...times.filter((time) => time > BASE_TIME - 86_400_000)) - 5000
      const high = Math.max(...times) + 5000
      const claims: Array<[string, Partial<AuditFilter>]> = [
        ['every project', {}],
        ['one project', { projectId: 'proj-1' }],
        ['a claim of 3', { projectIds: ['proj-0', 'proj-2', 'proj-9'] }],
        ['a claim of 55', { projectIds: Array.from({ length: 55 }, (_, i) => `proj-${i}`) }],
        ['failed', { outcome: 'failed' }],
        ['one project, failed', { projectId: 'proj-0', outcome: 'failed' }],
        ['an actor', { actor: 'user-4' }]
      ]
      const iso = (ms: number): string => new Date(ms).toISOString()
      // Entries with an earlier entry more than 30 s younger.
      const outOfOrder = new Set<string>()
      times.reduce((top, time, i) => {
        if (time < top - 30_000) outOfOrder.add(`entry-${i + 1}`)
        return Math.max(top, time)
      }, -Infinity)
      let checked = 0
      let lateMatches = 0
      for (let i = 0; i < 12; i++) {
        // Ranges of a few seconds to the whole trail, some open at one end; around the jump and the reset too.
        const span = [5000, 60_000, 600_000, 3_600_000, high - low][i % 5] as number
        const since = i === 1 ? BASE_TIME + 1_199_000 : i === 2 ? Date.UTC(1969, 11, 31, 23, 59, 0) : low + Math.round(random() * (high - low - span))
        const bounds: Partial<AuditFilter> = i % 4 === 3 ? { since: iso(since) } : i % 4 === 0 ? { until: iso(since + span) } : { since: iso(since), until: iso(since + span) }
        for (const [name, claim] of claims) {
          const filter: AuditFilter = { projectIds: '*', ...claim, ...bounds }
          const expected = model.ids(filter)
          const limit = 3 + Math.floor(random() * 40)
          const { ids, pages } = await allPages(async (cursor) => await trail.store.listEntries(filter, limit, cursor))
          t.same(ids, expected, `${name}, ${JSON.stringify(bounds)}, pages of ${limit}: ${expected.length} entries in ${pages} pages`)
          checked += expected.length
          lateMatches += expected.filter((id) => outOfOrder.has(id)).length
        }
      }
      t.ok(checked > 3000, `${checked} matches checked`)
      t.ok(lateMatches > 100, `${lateMatches} of them out of time order by more than 30 s`)
    })
  })
}
