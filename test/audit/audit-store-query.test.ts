import t from 'tap'
import type { Test } from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import type { AuditFilter } from '../../src/audit/audit-store.ts'
import type { ChainedAuditStore } from '../../src/audit/audit-chain.ts'
import {
  BACKENDS, collect, intentOf, makeEntry, seededRandom, seedTrail, setUpTrail, TrailModel
} from '../helpers/audit-fixtures.ts'

// Every filter, alone and combined, and every kind of projects claim, read page by page and as
// a stream, against what the plain model of the trail says readers must see.

const PROJECTS = ['proj-a', 'proj-b', 'proj-c', null]
const VIDEOS = ['video-1', 'video-2', 'video-3']
const ACTORS = ['alice', 'bob', 'carol', null]
const COUNT = 400
const BASE = Date.UTC(2025, 0, 1)
/** Entry times are shuffled against append order, so time filters cut across seq ranges. */
const minute = (k: number): string => new Date(BASE + k * 60_000).toISOString()
const timeOf = (n: number): string => minute((n * 7919) % COUNT)

function dataSet (): Array<[AuditEntry, boolean]> {
  const random = seededRandom(42)
  const ops: Array<[AuditEntry, boolean]> = []
  const open: AuditEntry[] = []
  for (let n = 1; n <= COUNT; n++) {
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
    const projectId = pick(PROJECTS)
    const final = makeEntry(n, {
      time: timeOf(n),
      projectId,
      videoId: projectId === null ? null : pick(VIDEOS),
      actor: { sub: pick(ACTORS), clientId: null, ip: '192.0.2.7', userAgent: null },
      outcome: pick(['succeeded', 'rejected', 'failed', 'unknown'] as const)
    })
    if (random() < 0.3) {
      ops.push([intentOf(final), false])
      open.push(final)
    } else {
      ops.push([final, true])
    }
    // Close some intents later, so intents and their finals are far apart in the chain.
    if (open.length > 0 && random() < 0.2) ops.push([open.shift() as AuditEntry, true])
  }
  return ops
}

async function readAllPages (t: Test, store: ChainedAuditStore, filter: AuditFilter, limit: number): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const page: Awaited<ReturnType<ChainedAuditStore['listEntries']>> = await store.listEntries(filter, limit, cursor)
    t.ok(page.items.length <= limit)
    ids.push(...page.items.map((entry) => entry.id))
    cursor = page.nextCursor
  } while (cursor !== null)
  return ids
}

const manyProjects = [...Array.from({ length: 58 }, (_, i) => `other-${i}`), 'proj-b', 'proj-c']

const FILTERS: Array<[string, AuditFilter]> = [
  ['everything', { projectIds: '*' }],
  ['claim of one project', { projectIds: ['proj-a'] }],
  ['claim of two projects', { projectIds: ['proj-a', 'proj-c'] }],
  ['claim of 60 projects', { projectIds: manyProjects }],
  ['claim naming no stored project', { projectIds: ['nobody'] }],
  ...PROJECTS.filter((p) => p !== null).map((projectId): [string, AuditFilter] => [`projectId ${projectId}`, { projectIds: '*', projectId }]),
  ...VIDEOS.map((videoId): [string, AuditFilter] => [`videoId ${videoId}`, { projectIds: '*', videoId }]),
  ...ACTORS.filter((a) => a !== null).map((actor): [string, AuditFilter] => [`actor ${actor}`, { projectIds: '*', actor }]),
  ...(['succeeded', 'rejected', 'failed', 'unknown'] as const).map((outcome): [string, AuditFilter] => [`outcome ${outcome}`, { projectIds: '*', outcome }]),
  ['since (inclusive, on an entry\'s exact time)', { projectIds: '*', since: timeOf(100) }],
  ['until (exclusive, on an entry\'s exact time)', { projectIds: '*', until: timeOf(100) }],
  ['since and until', { projectIds: '*', since: minute(50), until: minute(300) }],
  ['a zone offset', { projectIds: '*', since: '2025-01-01T03:00:00+01:00' }],
  ['project and video', { projectIds: '*', projectId: 'proj-b', videoId: 'video-2' }],
  ['project and actor', { projectIds: ['proj-a', 'proj-b'], projectId: 'proj-a', actor: 'bob' }],
  ['claim with video', { projectIds: ['proj-a', 'proj-c'], videoId: 'video-3' }],
  ['claim of 60 with outcome', { projectIds: manyProjects, outcome: 'failed' }],
  ['actor and outcome', { projectIds: '*', actor: 'carol', outcome: 'unknown' }],
  ['everything at once', { projectIds: ['proj-a', 'proj-b'], projectId: 'proj-b', videoId: 'video-1', actor: 'alice', outcome: 'succeeded', since: minute(10), until: minute(390) }],
  ['projectId outside the claim', { projectIds: ['proj-a'], projectId: 'proj-b' }],
  ['empty time range', { projectIds: '*', since: timeOf(100), until: timeOf(100) }]
]

for (const backend of BACKENDS) {
  t.test(backend, async (t) => {
    const trail = await setUpTrail(t, backend)
    const model = new TrailModel()
    await seedTrail(trail, model, dataSet())
    const { store } = trail
    t.match(await store.verify(), { ok: true }, 'the data set is a valid chain')

    t.test('every filter, page by page and streamed, matches the model', async (t) => {
      let nonEmpty = 0
      for (const [name, filter] of FILTERS) {
        const expected = model.ids(filter)
        if (expected.length > 0) nonEmpty++
        t.same(await readAllPages(t, store, filter, 13), expected, `${name}: pages (${expected.length} entries)`)
        t.same((await collect(store.streamEntries(filter))).map((e) => e.id), expected, `${name}: stream`)
      }
      t.equal(nonEmpty, FILTERS.length - 3, 'the data set exercises every filter meant to match')
      t.ok(model.ids({ projectIds: '*', outcome: 'unknown' }).length > 10, 'open intents among them')
    })

    t.test('limit and cursor', async (t) => {
      const all = model.ids()
      const first = await store.listEntries({ projectIds: '*' }, 1, null)
      t.same(first.items.map((e) => e.id), all.slice(0, 1))
      const full = await store.listEntries({ projectIds: '*' }, all.length, null)
      t.equal(full.items.length, all.length)
      t.equal(full.nextCursor, null, 'no cursor when nothing follows')
      const second = await store.listEntries({ projectIds: '*' }, 5, first.nextCursor)
      t.same(second.items.map((e) => e.id), all.slice(1, 6))
      const fromOtherFilter = await store.listEntries({ projectIds: ['proj-a'] }, 5, first.nextCursor)
      t.same(fromOtherFilter.items.map((e) => e.id), model.ids({ projectIds: ['proj-a'] }).filter((id) => all.indexOf(id) > 0).slice(0, 5),
        'a cursor is a position: it carries over to another filter without leaking across projects')
      await t.rejects(store.listEntries({ projectIds: '*' }, 5, 'bm90IGEgY3Vyc29y'), { code: 'AUDIT_INVALID_CURSOR', statusCode: 400 })
      await t.rejects(store.listEntries({ projectIds: '*' }, 0, null), { code: 'AUDIT_INVALID_FILTER' })
      await t.rejects(store.listEntries({ projectIds: '*', since: 'yesterday' }, 5, null), { code: 'AUDIT_INVALID_FILTER' })
      await t.rejects(collect(store.streamEntries({ projectIds: '*', until: '2025-13-01' })), { code: 'AUDIT_INVALID_FILTER' })
    })
  })
}
