import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import type { App } from '../../src/app.ts'
import type { AuditEntry, AuditOutcome } from '../../src/audit/audit-entry.ts'
import type { AuditFilter } from '../../src/audit/audit-store.ts'
import { BACKENDS, intentOf, makeEntry, OUTCOMES, parseCsv, setUpTrail, type TrailUnderTest } from '../helpers/audit-fixtures.ts'
import { isProblem, servedTrail } from '../helpers/review-api.ts'
import { startService } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'

// The review API over the real app (buildApp through startService), on SQLite and PostgreSQL:
// audit:read and the projects claim, newest-first pages and their cursors, filters, NDJSON and
// CSV exports of every match, entries by id, and chain verification after direct tampering.
// What callers must see is computed the plain way by TrailModel from the records written.

const BASE_TIME = Date.UTC(2025, 0, 1)
/** The `time` makeEntry gives entry n. */
const timeOf = (n: number): string => new Date(BASE_TIME + n * 1000).toISOString()

const STATUS: Record<AuditOutcome, number> = { succeeded: 200, rejected: 403, failed: 502, unknown: 504 }
const REASON: Record<AuditOutcome, string | null> = { succeeded: null, rejected: 'forbidden', failed: 'upstream_error', unknown: 'upstream_timeout' }

/**
 * Entry n of a mixed trail: two projects (and, every 50th, no project at all), four videos,
 * two actors (and, every 7th, an unauthenticated caller), every outcome.
 */
function mixedEntry (n: number): AuditEntry {
  const outcome = OUTCOMES[n % 4] as AuditOutcome
  const base = makeEntry(n)
  return makeEntry(n, {
    projectId: n % 50 === 0 ? null : n % 3 === 0 ? 'proj-2' : 'proj-1',
    videoId: `video-${n % 4 === 0 ? 0 : n % 5}`,
    actor: { ...base.actor, sub: n % 7 === 0 ? null : n % 2 === 0 ? 'alice' : 'bob' },
    outcome,
    status: STATUS[outcome],
    reason: REASON[outcome],
    videoPublicId: outcome === 'succeeded' ? `vod-${n}` : null
  })
}

/**
 * Records for entries from..to, in the order a busy service writes them: most entries final at
 * once; every 10th opens an intent closed three entries later (so entries are not ordered by
 * their final record), every 30th an intent never closed (its process died: `unknown`).
 */
function mixedOps (from: number, to: number): Array<[AuditEntry, boolean]> {
  const ops: Array<[AuditEntry, boolean]> = []
  const closing: AuditEntry[] = []
  for (let n = from; n <= to; n++) {
    const entry = mixedEntry(n)
    if (n % 10 === 1) {
      ops.push([intentOf(entry), false])
      if (n % 30 !== 1) closing.push(entry)
    } else {
      ops.push([entry, true])
    }
    if (n % 10 === 4) {
      const open = closing.shift()
      if (open !== undefined) ops.push([open, true])
    }
  }
  for (const open of closing) ops.push([open, true])
  return ops
}

const ALL = '*'
const auditor = (projects: unknown = ['proj-1'], scope = 'audit:read'): string => hsToken({ scope, projects })

function query (params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, String(value))
  const text = search.toString()
  return text === '' ? '' : `?${text}`
}

async function get (app: App, url: string, token: string | null, accept?: string): Promise<LightMyRequestResponse> {
  return await app.inject({
    method: 'GET',
    url,
    headers: { ...(token !== null && { authorization: `Bearer ${token}` }), ...(accept !== undefined && { accept }) }
  })
}

interface Page { items: AuditEntry[], nextCursor: string | null }

/** Every page of a query, following nextCursor; each page must be a 200 of at most `limit` items. */
async function walk (t: Test, app: App, token: string, params: Record<string, string | undefined>, limit: number): Promise<{ ids: string[], entries: AuditEntry[], pages: number }> {
  const entries: AuditEntry[] = []
  let cursor: string | undefined
  let pages = 0
  do {
    const response = await get(app, `/v1/audit/events${query({ ...params, limit, cursor })}`, token)
    if (response.statusCode !== 200) {
      t.fail(`page ${pages + 1} of ${JSON.stringify(params)} answered ${response.statusCode}: ${response.body}`)
      break
    }
    const page = response.json<Page>()
    pages++
    if (page.items.length > limit) t.fail(`page ${pages} holds ${page.items.length} items, more than the limit ${limit}`)
    if (page.nextCursor !== null && page.items.length !== limit) t.fail(`page ${pages} is short (${page.items.length}) but not the last`)
    entries.push(...page.items)
    cursor = page.nextCursor ?? undefined
    if (pages > 5000) {
      t.fail('the cursor never ends')
      break
    }
  } while (cursor !== undefined)
  return { ids: entries.map((entry) => entry.id), entries, pages }
}

/** Export bodies parsed: NDJSON lines as entries; CSV rows as records keyed by the header. */
function ndjsonEntries (t: Test, response: LightMyRequestResponse): AuditEntry[] {
  t.equal(response.statusCode, 200, 'the NDJSON export answers 200')
  t.match(response.headers['content-type'], /^application\/x-ndjson/, 'content-type application/x-ndjson')
  const body = response.body
  if (body === '') return []
  t.ok(body.endsWith('\n'), 'every line ends with a newline')
  return body.slice(0, -1).split('\n').map((line) => JSON.parse(line) as AuditEntry)
}

function csvRecords (t: Test, response: LightMyRequestResponse): { header: string[], records: Array<Record<string, string>> } {
  t.equal(response.statusCode, 200, 'the CSV export answers 200')
  t.match(response.headers['content-type'], /^text\/csv/, 'content-type text/csv')
  const [header = [], ...rows] = parseCsv(response.body)
  const misshapen = rows.filter((row) => row.length !== header.length)
  t.equal(misshapen.length, 0, 'every row has as many cells as the header')
  return { header, records: rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i] as string]))) }
}

function duplicates (ids: string[]): string[] {
  const seen = new Set<string>()
  return ids.filter((id) => seen.has(id) || (seen.add(id), false))
}

/** A trail of `backend` holding `ops` (mirrored in `model`), and the service reading it. */
const ROUTES = ['/v1/audit/events', '/v1/audit/events/entry-1', '/v1/audit/verify']

for (const backend of BACKENDS) {
  t.test(`${backend}: the review API wants a token with audit:read`, async (t) => {
    const { app } = await servedTrail(t, backend, mixedOps(1, 5))
    for (const route of ROUTES) {
      for (const accept of [undefined, 'application/x-ndjson', 'text/csv']) {
        if (accept !== undefined && route !== '/v1/audit/events') continue
        const label = `${route}${accept === undefined ? '' : ` (${accept})`}`
        const anonymous = await get(app, route, null, accept)
        isProblem(t, anonymous, 401, 'unauthenticated', `${label} without a token`)
        t.match(anonymous.headers['www-authenticate'], /^Bearer /, `${label}: a Bearer challenge`)
        isProblem(t, await get(app, route, hsToken({ scope: 'audit:read', projects: ALL }, 'y'.repeat(40)), accept),
          401, 'unauthenticated', `${label} with a token signed by someone else`)
        const cutter = await get(app, route, hsToken({ scope: 'live:cut', projects: ALL }), accept)
        isProblem(t, cutter, 403, 'forbidden', `${label} with only live:cut`)
        t.match(cutter.headers['www-authenticate'], /insufficient_scope.*audit:read/, `${label}: the challenge names audit:read`)
        isProblem(t, await get(app, route, hsToken({ scope: undefined, scp: ['live:cut', 'audit:write'], projects: ALL }), accept),
          403, 'forbidden', `${label} with scp lacking audit:read`)
      }
      const allowed = await get(app, route, hsToken({ scope: 'live:cut audit:read', projects: ALL }))
      t.equal(allowed.statusCode, 200, `${route} with audit:read among other scopes: 200`)
      const viaScp = await get(app, route, hsToken({ scope: undefined, scp: ['audit:read'], projects: ALL }))
      t.equal(viaScp.statusCode, 200, `${route} with audit:read in scp: 200`)
    }
  })

  t.test(`${backend}: pages, limits, cursors, filters, isolation and entries by id`, async (t) => {
    const COUNT = 130
    const { model, app } = await servedTrail(t, backend, mixedOps(1, COUNT))
    const everyone = auditor(ALL)
    const proj1 = auditor(['proj-1'])
    t.equal(model.size, COUNT)

    t.test('newest first, default limit 50, limit 1..500', async (t) => {
      const first = await get(app, '/v1/audit/events', everyone)
      t.equal(first.statusCode, 200)
      t.match(first.headers['content-type'], /^application\/json/)
      const page = first.json<Page>()
      t.same(page.items.map((e) => e.id), model.ids().slice(0, 50), 'the 50 newest entries, newest first')
      t.type(page.nextCursor, 'string', 'a cursor to the rest')
      t.same(page.items, model.entries().slice(0, 50), 'each entry as it was recorded (its newest record)')

      const one = (await get(app, '/v1/audit/events?limit=1', everyone)).json<Page>()
      t.same(one.items.map((e) => e.id), [`entry-${COUNT}`], 'limit=1: the newest entry only')
      t.type(one.nextCursor, 'string')

      const max = await get(app, '/v1/audit/events?limit=500', everyone)
      t.equal(max.statusCode, 200, 'limit=500 is allowed')
      t.same(max.json<Page>().items.map((e) => e.id), model.ids(), 'limit=500: all 130 entries on one page')
      t.equal(max.json<Page>().nextCursor, null, 'and no cursor: this was the last page')

      const exact = (await get(app, `/v1/audit/events?limit=${COUNT}`, everyone)).json<Page>()
      t.equal(exact.items.length, COUNT)
      t.equal(exact.nextCursor, null, 'a page that ends exactly at the last entry has no cursor')

      for (const limit of ['0', '501', '-1', '2.5', 'ten', '']) {
        const body = isProblem(t, await get(app, `/v1/audit/events?limit=${limit}`, everyone), 400, 'validation', `limit=${limit}`)
        t.match(body.errors, [{ field: '/limit', in: 'query' }], `limit=${limit}: the error names /limit`)
      }
    })

    t.test('a cursor walk visits every visible entry exactly once, in order', async (t) => {
      for (const [name, token, projectIds] of [['*', everyone, ALL], ['proj-1', proj1, ['proj-1']]] as const) {
        const { ids, pages } = await walk(t, app, token, {}, 7)
        const expected = model.ids({ projectIds })
        t.same(ids, expected, `${name}: pages of 7 concatenate to every visible entry, newest first`)
        t.equal(pages, Math.ceil(expected.length / 7), `${name}: ${pages} pages`)
        t.same(duplicates(ids), [], `${name}: no entry twice`)
      }
    })

    t.test('cursors the service did not issue are 400', async (t) => {
      const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
      for (const cursor of ['not-a-cursor', encode({ v: 2, before: 10 }), encode({ v: 1, before: -3 }), encode({ v: 1, before: 'x' }), encode(5), '']) {
        isProblem(t, await get(app, `/v1/audit/events?cursor=${encodeURIComponent(cursor)}`, everyone), 400, 'validation', `cursor ${JSON.stringify(cursor)}`)
      }
      isProblem(t, await get(app, `/v1/audit/events?cursor=${'a'.repeat(201)}`, everyone), 400, 'validation', 'an overlong cursor')
    })

    // Was a 500 (a TypeError reading `.v` of null in decodeCursor) until 6bd3bf6.
    t.test('a cursor that decodes to JSON null is a 400 like any other foreign cursor, not a 500', async (t) => {
      const cursor = Buffer.from('null').toString('base64url')
      isProblem(t, await get(app, `/v1/audit/events?cursor=${cursor}`, everyone), 400, 'validation', `cursor ${JSON.stringify(cursor)}`)
    })

    t.test('unknown or malformed query parameters are 400, never ignored', async (t) => {
      const bogus = isProblem(t, await get(app, '/v1/audit/events?bogus=1', everyone), 400, 'validation', 'an unknown parameter')
      t.match(bogus.errors, [{ field: '/bogus', in: 'query' }], 'the error names it')
      isProblem(t, await get(app, '/v1/audit/events?project=proj-1', proj1), 400, 'validation', 'a misspelt filter')
      isProblem(t, await get(app, '/v1/audit/events?outcome=exploded', everyone), 400, 'validation', 'an outcome that does not exist')
      isProblem(t, await get(app, '/v1/audit/events?since=yesterday', everyone), 400, 'validation', 'since that is not a time')
      isProblem(t, await get(app, '/v1/audit/events?until=2025-02-30T00:00:00Z', everyone), 400, 'validation', 'until on a day that does not exist')
      isProblem(t, await get(app, '/v1/audit/events?projectId=bad%20id', everyone), 400, 'validation', 'a projectId that is not an id')
      isProblem(t, await get(app, '/v1/audit/events?bogus=1', everyone, 'application/x-ndjson'), 400, 'validation', 'an unknown parameter on an export')
    })

    t.test('filters, alone and combined, on pages and across cursors', async (t) => {
      const cases: Array<[string, Record<string, string>, Omit<AuditFilter, 'projectIds'>]> = [
        ['projectId', { projectId: 'proj-2' }, { projectId: 'proj-2' }],
        ['videoId', { videoId: 'video-3' }, { videoId: 'video-3' }],
        ['actor', { actor: 'alice' }, { actor: 'alice' }],
        ['outcome unknown (open intents and timeouts)', { outcome: 'unknown' }, { outcome: 'unknown' }],
        ['outcome failed', { outcome: 'failed' }, { outcome: 'failed' }],
        ['since', { since: timeOf(100) }, { since: timeOf(100) }],
        ['until', { until: timeOf(20) }, { until: timeOf(20) }],
        ['since with an offset', { since: '2025-01-01T01:01:40+01:00' }, { since: timeOf(100) }],
        ['combined', { projectId: 'proj-1', videoId: 'video-3', actor: 'bob', outcome: 'rejected', since: timeOf(10), until: timeOf(120) },
          { projectId: 'proj-1', videoId: 'video-3', actor: 'bob', outcome: 'rejected', since: timeOf(10), until: timeOf(120) }],
        ['combined, nothing matches', { projectId: 'proj-2', since: timeOf(125), until: timeOf(126) }, { projectId: 'proj-2', since: timeOf(125), until: timeOf(126) }]
      ]
      for (const [name, params, filter] of cases) {
        const expected = model.ids({ projectIds: ALL, ...filter })
        if (name !== 'combined, nothing matches') {
          t.ok(expected.length > 0 && expected.length < COUNT, `${name}: matches some entries (${expected.length}), not all`)
        } else {
          t.equal(expected.length, 0)
        }
        t.same((await walk(t, app, everyone, params, 4)).ids, expected, `${name}: exactly the matches, newest first, in pages of 4`)
        // The same filter for a caller of proj-1 only: the claim narrows every filter.
        if (params.projectId === undefined || params.projectId === 'proj-1') {
          t.same((await walk(t, app, proj1, params, 6)).ids, model.ids({ projectIds: ['proj-1'], ...filter }), `${name}, caller of proj-1`)
        }
      }

      t.same(model.ids({ projectIds: ALL, projectId: 'proj-1', videoId: 'video-3', actor: 'bob', outcome: 'rejected', since: timeOf(10), until: timeOf(120) }),
        ['entry-113', 'entry-73', 'entry-53', 'entry-13'], 'the combined case, worked out by hand')
      const since = (await walk(t, app, everyone, { since: timeOf(100) }, 500)).ids
      t.ok(since.includes('entry-100'), 'since is inclusive: the entry at that very time is in')
      t.notOk(since.includes('entry-99'), 'and the one a second before is out')
      const until = (await walk(t, app, everyone, { until: timeOf(20) }, 500)).ids
      t.notOk(until.includes('entry-20'), 'until is exclusive: the entry at that very time is out')
      t.ok(until.includes('entry-19'), 'and the one a second before is in')
      t.same((await walk(t, app, everyone, { since: timeOf(40), until: timeOf(40) }, 10)).ids, [], 'since = until: an empty range')
    })

    t.test('project isolation on pages and by id', async (t) => {
      const proj1Ids = model.ids({ projectIds: ['proj-1'] })
      const proj2Ids = model.ids({ projectIds: ['proj-2'] })
      const orphanIds = model.entries().filter((e) => e.projectId === null).map((e) => e.id)
      t.ok(proj1Ids.length > 0 && proj2Ids.length > 0 && orphanIds.length > 0, 'the trail holds proj-1, proj-2 and project-less entries')

      const seenBy1 = await walk(t, app, proj1, {}, 50)
      t.same(seenBy1.ids, proj1Ids, 'a caller of proj-1 sees the proj-1 entries')
      t.same(seenBy1.entries.filter((e) => e.projectId !== 'proj-1').map((e) => e.id), [], 'and nothing else')
      t.same((await walk(t, app, proj1, { projectId: 'proj-1' }, 50)).ids, proj1Ids, '?projectId=proj-1: the same')

      const denied = await get(app, '/v1/audit/events?projectId=proj-2', proj1)
      isProblem(t, denied, 403, 'forbidden', 'a caller of proj-1 asking for proj-2')
      isProblem(t, await get(app, '/v1/audit/events?projectId=proj-2', proj1, 'application/x-ndjson'), 403, 'forbidden', 'the same as an NDJSON export')
      isProblem(t, await get(app, '/v1/audit/events?projectId=proj-2', proj1, 'text/csv'), 403, 'forbidden', 'the same as a CSV export')

      t.same((await walk(t, app, everyone, {}, 50)).ids, model.ids(), 'a caller of * sees every entry, project-less ones included')
      t.same((await walk(t, app, auditor('*'), { projectId: 'proj-2' }, 50)).ids, proj2Ids, 'and can narrow to proj-2')
      t.same((await walk(t, app, auditor(['proj-1', 'proj-2']), {}, 9)).ids, model.ids({ projectIds: ['proj-1', 'proj-2'] }),
        'a caller of proj-1 and proj-2 sees both, merged newest first, but no project-less entry')
      const many = Array.from({ length: 60 }, (_, i) => `other-${i}`).concat('proj-2')
      t.same((await walk(t, app, auditor(many), {}, 11)).ids, proj2Ids, 'a claim of 61 projects, one of them proj-2: the proj-2 entries')
      t.same((await walk(t, app, auditor('proj-2'), {}, 50)).ids, proj2Ids, 'a claim given as one string')
      t.same((await walk(t, app, auditor([]), {}, 50)).ids, [], 'an empty claim sees nothing')
      t.same((await walk(t, app, hsToken({ scope: 'audit:read', projects: undefined }), {}, 50)).ids, [], 'no projects claim sees nothing')

      for (const id of [proj2Ids[0], proj2Ids.at(-1), orphanIds[0]] as string[]) {
        isProblem(t, await get(app, `/v1/audit/events/${id}`, proj1), 404, 'not_found', `${id} by id, for a caller of proj-1`)
        t.equal((await get(app, `/v1/audit/events/${id}`, everyone)).statusCode, 200, `${id} by id, for a caller of *`)
      }
      t.equal((await get(app, `/v1/audit/events/${proj2Ids[0] as string}`, auditor(['proj-2']))).statusCode, 200, 'and for a caller of proj-2')
      t.equal((await get(app, `/v1/audit/events/${proj1Ids[0] as string}`, proj1)).statusCode, 200, 'a proj-1 entry, for a caller of proj-1')
      isProblem(t, await get(app, '/v1/audit/events/entry-99999', everyone), 404, 'not_found', 'an id that does not exist')
      isProblem(t, await get(app, `/v1/audit/events/${'x'.repeat(100)}`, everyone), 404, 'not_found', 'a long id that does not exist')
    })

    t.test('an entry by id is the same object as in the list', async (t) => {
      const listed = model.entries()
      const checked = [listed[0], listed[1], listed.find((e) => e.id === 'entry-121'), listed.find((e) => e.id === 'entry-111'), listed.at(-1)] as AuditEntry[]
      for (const entry of checked) {
        const response = await get(app, `/v1/audit/events/${entry.id}`, everyone)
        t.equal(response.statusCode, 200, `${entry.id}: 200`)
        t.match(response.headers['content-type'], /^application\/json/)
        t.same(response.json(), entry, `${entry.id}: as recorded`)
      }
      const page = (await get(app, '/v1/audit/events?limit=500', everyone)).json<Page>()
      for (const item of page.items.slice(0, 20)) {
        t.same((await get(app, `/v1/audit/events/${item.id}`, everyone)).json(), item, `${item.id}: the list item`)
      }
      t.match((await get(app, '/v1/audit/events/entry-121', everyone)).json(), { outcome: 'unknown', status: null, upstream: null },
        'an intent that was never closed reads unknown')
      t.match((await get(app, '/v1/audit/events/entry-111', everyone)).json(), mixedEntry(111),
        'a closed intent reads as its final record')
    })
  })

  t.test(`${backend}: a cursor stays correct while entries arrive and intents close`, async (t) => {
    const { trail, model, app } = await servedTrail(t, backend, mixedOps(1, 45))
    const everyone = auditor(ALL)
    const before = model.ids()
    t.same(model.entries().filter((e) => e.status === null).map((e) => e.id), ['entry-31', 'entry-1'], 'entries 1 and 31 are open intents')

    const seen: AuditEntry[] = []
    let cursor: string | null = null
    let pages = 0
    let next = 46
    do {
      const response = await get(app, `/v1/audit/events${query({ limit: 15, cursor: cursor ?? undefined })}`, everyone)
      t.equal(response.statusCode, 200)
      const page = response.json<Page>()
      seen.push(...page.items)
      cursor = page.nextCursor
      pages++
      // Between pages: two new entries, one of them an open intent, through the store as the
      // cut route writes them.
      for (const [entry, final] of [[mixedEntry(next), true], [intentOf(mixedEntry(next + 1)), false]] as const) {
        await trail.store.append(entry, final)
        model.record(entry)
      }
      next += 2
      if (pages === 1) {
        // An intent closed below the cursor (entry-1, not read yet) and one above it (entry-31,
        // the last item of the first page).
        t.equal(page.items.at(-1)?.id, 'entry-31')
        for (const n of [1, 31]) {
          await trail.store.append(mixedEntry(n), true)
          model.record(mixedEntry(n))
        }
      }
    } while (cursor !== null)
    const ids = seen.map((e) => e.id)
    t.equal(pages, 3, '45 entries in pages of 15')
    t.same(duplicates(ids), [], 'no entry twice')
    t.same(ids, before, 'exactly the entries that existed when the walk began, in order: none skipped, none of the new ones')
    t.match(seen.find((e) => e.id === 'entry-1'), { outcome: mixedEntry(1).outcome, status: mixedEntry(1).status },
      'the intent closed ahead of the cursor is read in its final form')

    const fresh = await walk(t, app, everyone, {}, 10)
    t.same(fresh.ids, model.ids(), 'a fresh walk sees the new entries first, then the old ones, each once')
    t.same(fresh.ids.slice(0, next - 46), Array.from({ length: next - 46 }, (_, i) => `entry-${next - 1 - i}`), 'the new entries on top, newest first')
    t.same(fresh.entries.find((e) => e.id === 'entry-31'), mixedEntry(31), 'entry-31 kept its place and reads closed')
  })

  t.test(`${backend}: NDJSON and CSV exports stream every match`, async (t) => {
    const COUNT = 1200
    const { model, app } = await servedTrail(t, backend, mixedOps(1, COUNT))
    const everyone = auditor(ALL)
    const proj1 = auditor(['proj-1'])

    const cases: Array<[string, string, Record<string, string | number>, AuditFilter]> = [
      ['everything, caller of *', everyone, {}, { projectIds: ALL }],
      ['everything, caller of proj-1', proj1, {}, { projectIds: ['proj-1'] }],
      ['since, caller of *, limit ignored', everyone, { since: timeOf(300), limit: 10 }, { projectIds: ALL, since: timeOf(300) }],
      ['combined filters, caller of proj-1', proj1, { projectId: 'proj-1', outcome: 'failed', actor: 'alice', since: timeOf(100), until: timeOf(1100) },
        { projectIds: ['proj-1'], projectId: 'proj-1', outcome: 'failed', actor: 'alice', since: timeOf(100), until: timeOf(1100) }],
      ['videoId, caller of proj-1 and proj-2', auditor(['proj-1', 'proj-2']), { videoId: 'video-0' }, { projectIds: ['proj-1', 'proj-2'], videoId: 'video-0' }],
      ['nothing visible', auditor([]), {}, { projectIds: [] }]
    ]
    for (const [name, token, params, filter] of cases) {
      const expected = model.entries(filter)
      if (name.startsWith('everything') || name.startsWith('since')) t.ok(expected.length > 500, `${name}: ${expected.length} matches, more than one internal page of 500`)
      const url = `/v1/audit/events${query(params)}`

      const lines = ndjsonEntries(t, await get(app, url, token, 'application/x-ndjson'))
      t.equal(lines.length, expected.length, `${name}: NDJSON has one line per match (${expected.length})`)
      t.same(duplicates(lines.map((e) => e.id)), [], `${name}: NDJSON has no entry twice`)
      t.same(lines.map((e) => e.id), expected.map((e) => e.id), `${name}: NDJSON in order, newest first`)
      t.same(lines, expected, `${name}: NDJSON lines are the entries as recorded`)
      if (filter.projectIds !== ALL) {
        t.same(lines.filter((e) => e.projectId === null || !filter.projectIds.includes(e.projectId)).map((e) => e.id), [], `${name}: NDJSON holds nothing outside the claim`)
      }

      const { header, records } = csvRecords(t, await get(app, url, token, 'text/csv'))
      t.same(header.slice(0, 7), ['id', 'time', 'requestId', 'action', 'projectId', 'videoId', 'outcome'], `${name}: CSV header line`)
      t.equal(records.length, expected.length, `${name}: CSV has one row per match (${expected.length})`)
      t.same(records.map((r) => r.id), expected.map((e) => e.id), `${name}: CSV in order, newest first`)
      const cells = (e: AuditEntry): Record<string, string> => ({
        id: e.id,
        time: e.time,
        projectId: e.projectId ?? '',
        videoId: e.videoId ?? '',
        outcome: e.outcome,
        status: e.status === null ? '' : String(e.status),
        reason: e.reason ?? '',
        'actor.sub': e.actor.sub ?? '',
        'request.cut.startMs': String(e.request.cut?.startMs ?? ''),
        'upstream.statuses': e.upstream === null ? '' : JSON.stringify(e.upstream.statuses),
        videoPublicId: e.videoPublicId ?? ''
      })
      const wrong = records.filter((r, i) => {
        const want = cells(expected[i] as AuditEntry)
        return Object.entries(want).some(([column, value]) => r[column] !== value)
      })
      t.same(wrong.slice(0, 3), [], `${name}: CSV cells carry each entry's fields`)
    }

    t.same(ndjsonEntries(t, await get(app, '/v1/audit/events', auditor([]), 'application/x-ndjson')), [], 'an empty NDJSON export is an empty body')
    const emptyCsv = await get(app, '/v1/audit/events', auditor([]), 'text/csv')
    t.equal(parseCsv(emptyCsv.body).length, 1, 'an empty CSV export is the header line alone')
    const json = await get(app, '/v1/audit/events', everyone, 'application/json')
    t.same(json.json<Page>().items.map((e) => e.id), model.ids().slice(0, 50), 'Accept: application/json still gets a page')
  })

  t.test(`${backend}: real cut requests read back through the review API`, async (t) => {
    const trail = await setUpTrail(t, backend)
    const { app } = await startService(t, { env: { AUDIT_STORE_URL: trail.url } })
    const cut = async (requestId: string, project: string, video: string, payload: string, token: string | null) =>
      await app.inject({
        method: 'POST',
        url: `/v1/projects/${project}/live-videos/${video}/cut`,
        headers: { 'x-request-id': requestId, 'content-type': 'application/json', 'user-agent': 'console/3', ...(token !== null && { authorization: `Bearer ${token}` }) },
        payload
      })
    const cutter = hsToken()
    const ok = await cut(`${backend}-ok`, 'proj-1', 'live-a', '{"startMs":1000,"endMs":9000}', cutter)
    t.equal(ok.statusCode, 200)
    const invalid = await cut(`${backend}-invalid`, 'proj-1', 'live-b', '{"startMs":5}', cutter)
    t.equal(invalid.statusCode, 400)
    const forbidden = await cut(`${backend}-forbidden`, 'proj-2', 'live-c', '{}', cutter)
    t.equal(forbidden.statusCode, 403)
    const anonymous = await cut(`${backend}-anonymous`, 'proj-2', 'live-d', '{}', null)
    t.equal(anonymous.statusCode, 401)

    const everyone = auditor(ALL)
    const page = (await get(app, '/v1/audit/events', everyone)).json<Page>()
    t.same(page.items.map((e) => e.requestId), [`${backend}-anonymous`, `${backend}-forbidden`, `${backend}-invalid`, `${backend}-ok`], 'one entry per request, newest first')
    t.equal(page.nextCursor, null)
    const [anonymousEntry, forbiddenEntry, invalidEntry, okEntry] = page.items as [AuditEntry, AuditEntry, AuditEntry, AuditEntry]
    t.match(okEntry, {
      id: ok.json().auditId,
      outcome: 'succeeded',
      status: 200,
      projectId: 'proj-1',
      videoId: 'live-a',
      actor: { sub: 'user-1', clientId: 'web-console', userAgent: 'console/3' },
      request: { cut: { startMs: 1000, endMs: 9000 } },
      videoPublicId: ok.json().videoPublicId
    }, 'the successful cut, as the auditor reads it')
    t.match(invalidEntry, { outcome: 'rejected', status: 400, reason: 'validation', projectId: 'proj-1' })
    t.match(forbiddenEntry, { outcome: 'rejected', status: 403, reason: 'forbidden', projectId: 'proj-2', actor: { sub: 'user-1' } })
    t.match(anonymousEntry, { outcome: 'rejected', status: 401, reason: 'unauthenticated', projectId: 'proj-2', actor: { sub: null } })

    const byId = await get(app, `/v1/audit/events/${ok.json<{ auditId: string }>().auditId}`, everyone)
    t.equal(byId.statusCode, 200)
    t.same(byId.json(), okEntry, 'by the auditId the client got: the same object as in the list')

    const proj1 = auditor(['proj-1'])
    t.same((await get(app, '/v1/audit/events', proj1)).json<Page>().items, [invalidEntry, okEntry], 'a caller of proj-1 sees the two proj-1 entries')
    isProblem(t, await get(app, `/v1/audit/events/${forbiddenEntry.id}`, proj1), 404, 'not_found', 'and not the proj-2 one by id')
    t.same(ndjsonEntries(t, await get(app, '/v1/audit/events', proj1, 'application/x-ndjson')), [invalidEntry, okEntry], 'nor in its export')
    t.same(ndjsonEntries(t, await get(app, '/v1/audit/events?outcome=rejected', everyone, 'application/x-ndjson')), [anonymousEntry, forbiddenEntry, invalidEntry],
      'an export filtered by outcome')
    t.same((await get(app, '/v1/audit/events?actor=user-1&projectId=proj-2', everyone)).json<Page>().items, [forbiddenEntry], 'filtered by actor and project')

    t.same((await get(app, '/v1/audit/verify', everyone)).json(), { ok: true, checked: 5 },
      'the chain verifies: two records for the platform call, one per rejection')
  })

  t.test(`${backend}: verification, untouched and after direct tampering`, async (t) => {
    const ops = mixedOps(1, 30)
    const recordsIn = async (trail: TrailUnderTest): Promise<Array<{ seq: number, entryId: string, projectId: string | null, final: boolean }>> =>
      (await trail.raw.query(`SELECT seq, entry_id, project_id, final FROM ${trail.raw.table} ORDER BY seq`))
        .map((row) => ({ seq: Number(row.seq), entryId: row.entry_id as string, projectId: (row.project_id ?? null) as string | null, final: row.final === true || Number(row.final) === 1 }))

    t.test('an untouched trail verifies, for every caller', async (t) => {
      const { trail, app } = await servedTrail(t, backend, ops)
      t.equal((await recordsIn(trail)).length, ops.length)
      for (const token of [auditor(ALL), auditor(['proj-1']), auditor([])]) {
        const response = await get(app, '/v1/audit/verify', token)
        t.equal(response.statusCode, 200)
        t.same(response.json(), { ok: true, checked: ops.length }, `ok, ${ops.length} records checked`)
      }
    })

    t.test('one field of a middle record changed', async (t) => {
      const { trail, app } = await servedTrail(t, backend, ops)
      t.same((await get(app, '/v1/audit/verify', auditor(ALL))).json(), { ok: true, checked: ops.length }, 'verifies before')
      const records = await recordsIn(trail)
      // A final record of a proj-2 entry, in the middle of the chain.
      const target = records.find((r) => r.seq > 10 && r.final && r.projectId === 'proj-2') as { seq: number, entryId: string }
      t.ok(target !== undefined && target.seq < records.length - 5, `record ${target.seq} (${target.entryId}) is in the middle`)
      await trail.raw.disableGuards()
      await trail.raw.exec(`UPDATE ${trail.raw.table} SET body = replace(body, '"durationMs":15', '"durationMs":1') WHERE seq = $1`, [target.seq])
      const [changed] = await trail.raw.query(`SELECT body FROM ${trail.raw.table} WHERE seq = $1`, [target.seq])
      t.match(changed?.body, /"durationMs":1[,}]/, 'the body was changed in place')

      const seenByAll = await get(app, '/v1/audit/verify', auditor(ALL))
      t.equal(seenByAll.statusCode, 200)
      t.match(seenByAll.json(), { ok: false, checked: target.seq - 1, firstBad: { seq: target.seq, entryId: target.entryId, problem: /changed/ } },
        'a caller of * is told which record and which entry')
      t.match((await get(app, '/v1/audit/verify', auditor(['proj-2']))).json(), { ok: false, firstBad: { seq: target.seq, entryId: target.entryId } },
        'a caller of proj-2 is told the entry too')
      const seenBy1 = (await get(app, '/v1/audit/verify', auditor(['proj-1']))).json()
      t.match(seenBy1, { ok: false, checked: target.seq - 1, firstBad: { seq: target.seq, problem: /changed/ } }, 'a caller of proj-1 learns that the chain is broken, and where')
      t.equal(seenBy1.firstBad.entryId, null, 'but not the id of an entry in proj-2')
      t.equal((await get(app, '/v1/audit/verify', auditor([]))).json().firstBad.entryId, null, 'nor does a caller with no projects')
    })

    t.test('a middle record deleted', async (t) => {
      const { trail, app } = await servedTrail(t, backend, ops)
      const records = await recordsIn(trail)
      const target = records[Math.floor(records.length / 2)] as { seq: number }
      await trail.raw.disableGuards()
      await trail.raw.exec(`DELETE FROM ${trail.raw.table} WHERE seq = $1`, [target.seq])
      t.equal((await recordsIn(trail)).length, records.length - 1, 'one record fewer')
      for (const token of [auditor(ALL), auditor(['proj-1'])]) {
        const response = await get(app, '/v1/audit/verify', token)
        t.equal(response.statusCode, 200)
        t.match(response.json(), { ok: false, checked: target.seq - 1, firstBad: { seq: target.seq, entryId: null, problem: /missing|deleted/ } },
          `record ${target.seq} is named as missing`)
      }
    })

    t.test('a middle record of a proj-1 entry changed: its own auditor is told the id', async (t) => {
      const { trail, app } = await servedTrail(t, backend, ops)
      const records = await recordsIn(trail)
      const target = records.find((r) => r.seq > 12 && r.final && r.projectId === 'proj-1') as { seq: number, entryId: string }
      await trail.raw.disableGuards()
      await trail.raw.exec(`UPDATE ${trail.raw.table} SET body = replace(body, '"ip":"192.0.2.1"', '"ip":"198.51.100.7"') WHERE seq = $1`, [target.seq])
      t.match((await get(app, '/v1/audit/verify', auditor(['proj-1']))).json(), { ok: false, firstBad: { seq: target.seq, entryId: target.entryId, problem: /changed/ } })
      t.equal((await get(app, '/v1/audit/verify', auditor(['proj-2']))).json().firstBad.entryId, null, 'a caller of proj-2 does not get it')
    })
  })
}
