import t from 'tap'
import type { AuditEntry, AuditResolution } from '../../src/audit/audit-entry.ts'
import type { AuditFilter } from '../../src/audit/audit-store.ts'
import { BACKENDS, intentOf, makeEntry, matches, seedTrail, seededRandom, setUpTrail, TrailModel } from '../helpers/audit-fixtures.ts'

// `outcome=unknown` pages are read from the entries that read unknown (audit-unknown-entries.ts),
// kept by the records' insert trigger: on a trail of open intents, closed ones, finals that read
// `unknown`, lone finals, late entries and resolutions, every page of every filter combination,
// followed to the end, lists what the plain model says. Both stores.

const PROJECTS = 70
const ENTRIES = 1500
const BASE_TIME = Date.UTC(2025, 0, 1)

const resolution: AuditResolution = { outcome: 'failed', note: 'No VOD on the platform.', videoPublicId: null, by: 'carol', time: '2025-02-01T10:00:00.000Z' }

/** Entry n, its records (intent, final or both) drawn: every way an entry comes to read `unknown` or not. */
function opsOf (random: () => number): Array<[AuditEntry, boolean]> {
  const ops: Array<[AuditEntry, boolean]> = []
  const closing: AuditEntry[] = []
  for (let n = 1; n <= ENTRIES; n++) {
    // One in 37 is late: its time well below the entries around it.
    const time = new Date(BASE_TIME + (n % 37 === 0 ? n - 400 : n) * 1000).toISOString()
    const base = makeEntry(n, {
      time, projectId: `p-${Math.floor(random() * PROJECTS)}`, videoId: `vid-${Math.floor(random() * 20)}`
    })
    const entry = { ...base, actor: { ...base.actor, sub: `user-${Math.floor(random() * 13)}` } }
    const timedOut: AuditEntry = { ...entry, outcome: 'unknown', status: 504, reason: 'upstream_timeout', upstream: { attempts: 1, statuses: [], latencyMs: 15000 }, videoPublicId: null }
    const kind = random()
    if (kind < 0.6) {
      ops.push([intentOf(entry), false])
      // Its final a few entries later, or at once; failed, succeeded or timed out.
      const final = kind < 0.1 ? timedOut : kind < 0.2 ? { ...entry, outcome: 'failed' as const, status: 502, reason: 'upstream_failed', videoPublicId: null } : entry
      if (kind < 0.4) closing.push(final)
      else ops.push([final, true])
    } else if (kind < 0.75) {
      ops.push([intentOf(entry), false])
    } else if (kind < 0.85) {
      ops.push([timedOut, true])
    } else {
      ops.push([{ ...entry, outcome: 'rejected', status: 400, reason: 'validation', upstream: null, videoPublicId: null }, true])
    }
    if (closing.length > 5 || n === ENTRIES) ops.push(...closing.splice(0).map((final): [AuditEntry, boolean] => [final, true]))
  }
  return ops
}

const many = Array.from({ length: 60 }, (_, i) => `p-${i}`)
const five = ['p-1', 'p-2', 'p-3', 'p-4', 'p-5']
const range = { since: new Date(BASE_TIME + 300_000).toISOString(), until: new Date(BASE_TIME + 1_100_000).toISOString() }
const FILTERS: Array<[string, Omit<AuditFilter, 'outcome'>]> = [
  ['everything', { projectIds: '*' }],
  ['a project', { projectIds: '*', projectId: 'p-3' }],
  ['5 projects', { projectIds: five }],
  ['60 projects', { projectIds: many }],
  ['an actor', { projectIds: '*', actor: 'user-5' }],
  ['a video', { projectIds: '*', videoId: 'vid-7' }],
  ['a time range', { projectIds: '*', ...range }],
  ['resolved', { projectIds: '*', resolved: true }],
  ['not resolved', { projectIds: '*', resolved: false }],
  ['a project + a time range', { projectIds: '*', projectId: 'p-3', ...range }],
  ['5 projects + a time range', { projectIds: five, ...range }],
  ['60 projects + a time range', { projectIds: many, ...range }],
  ['60 projects + not resolved', { projectIds: many, resolved: false }],
  ['an actor + a time range', { projectIds: '*', actor: 'user-5', ...range }],
  ['an actor + 5 projects', { projectIds: five, actor: 'user-5' }],
  ['an actor + resolved', { projectIds: '*', actor: 'user-5', resolved: true }],
  ['a project + not resolved', { projectIds: '*', projectId: 'p-3', resolved: false }],
  ['a video + not resolved', { projectIds: '*', videoId: 'vid-7', resolved: false }],
  ['a time range + resolved', { projectIds: '*', resolved: true, ...range }]
]

for (const backend of BACKENDS) {
  t.test(`${backend}: every outcome=unknown page, followed to the end, lists the entries that read unknown`, async (t) => {
    const trail = await setUpTrail(t, backend)
    const model = new TrailModel()
    const random = seededRandom(17)
    await seedTrail(trail, model, opsOf(random))
    // Then through the store: resolutions of a third of the unknown entries, and more records,
    // some closing intents the seed left open.
    const resolved = new Set<string>()
    for (const entry of model.entries({ projectIds: '*', outcome: 'unknown' })) {
      if (random() < 0.33) {
        await trail.store.resolve(entry.id, resolution, '*')
        resolved.add(entry.id)
      }
    }
    const open = model.entries({ projectIds: '*' }).filter((entry) => entry.status === null).slice(0, 30)
    for (const [i, entry] of open.entries()) {
      const final = i % 2 === 0 ? { ...entry, outcome: 'succeeded' as const, status: 200, videoPublicId: 'vod' } : { ...entry, outcome: 'unknown' as const, status: 504, reason: 'upstream_timeout' }
      await trail.store.append(final, true)
      model.record(final)
    }
    const expected = (filter: AuditFilter): string[] => model.entries({ ...filter, resolved: undefined })
      .filter((entry) => matches(entry, filter) && (filter.resolved === undefined || resolved.has(entry.id) === filter.resolved))
      .map((entry) => entry.id)
    for (const [name, rest] of FILTERS) {
      const filter: AuditFilter = { ...rest, outcome: 'unknown' }
      const ids: string[] = []
      let cursor: string | null = null
      do {
        const page = await trail.store.listEntries(filter, 7, cursor)
        ids.push(...page.items.map((entry) => entry.id))
        cursor = page.nextCursor
      } while (cursor !== null)
      const want = expected(filter)
      t.ok(want.length > 0, `${name}: the trail has unknown entries to list (${want.length})`)
      t.same(ids, want, `${name}: every page to the end, as the model says`)
    }
    t.ok((await trail.store.verify()).ok, 'the trail verifies')
  })
}
