import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import type { App } from '../../src/app.ts'
import type { AuditEntry, AuditResolution } from '../../src/audit/audit-entry.ts'
import { type ChainedAuditStore, recordFromRow } from '../../src/audit/audit-chain.ts'
import { insertRecordQuery, POSTGRES_DIALECT } from '../../src/audit/audit-query.ts'
import { BACKENDS, collect, intentOf, makeEntry, parseCsv, setUpTrail, type TrailUnderTest } from '../helpers/audit-fixtures.ts'
import { isProblem, servedTrail } from '../helpers/review-api.ts'
import { hsToken } from '../helpers/tokens.ts'

// Resolving `unknown` outcomes (SPEC "Resolving unknown outcomes"): a chained record of its own,
// appended by the store under its write lock, read back with the entry while the entry's own
// outcome stays `unknown`; refusals change nothing; the database's unique index has the last
// word when two resolutions race; verification covers the new records. Both stores.

const resolutionOf = (overrides: Partial<AuditResolution> = {}): AuditResolution => ({
  outcome: 'succeeded', note: 'The platform lists the VOD, created 12 s after the call.', videoPublicId: 'vod-found', by: 'carol', time: '2025-02-01T10:00:00.000Z', ...overrides
})

/** An entry whose platform call timed out: its final record reads `unknown`. */
const timedOut = (n: number, overrides: Partial<AuditEntry> = {}): AuditEntry =>
  makeEntry(n, { outcome: 'unknown', status: 504, reason: 'upstream_timeout', upstream: { attempts: 1, statuses: [], latencyMs: 15000 }, videoPublicId: null, ...overrides })

const ids = (entries: readonly AuditEntry[]): string[] => entries.map((entry) => entry.id)

async function recordsOf (trail: TrailUnderTest): Promise<Array<Record<string, unknown>>> {
  return await trail.raw.query(`SELECT * FROM ${trail.raw.table} ORDER BY seq`)
}

for (const backend of BACKENDS) {
  t.test(`${backend} store: a resolution is appended to the chain and read with its entry, whose outcome stays unknown`, async (t) => {
    const trail = await setUpTrail(t, backend)
    const { store } = trail
    await store.append(intentOf(makeEntry(1)), false) // its process died during the call
    await store.append(timedOut(2), true)
    await store.append(makeEntry(3), true)

    const first = await store.resolve('entry-1', resolutionOf(), '*')
    t.same(first, { ...intentOf(makeEntry(1)), resolution: resolutionOf() }, 'the entry as it was, with the resolution beside it')
    t.same(await store.getEntry('entry-1', '*'), first, 'read back the same')
    const failed = resolutionOf({ outcome: 'failed', note: 'No VOD; the live video still runs.', videoPublicId: null, by: null })
    await store.resolve('entry-2', failed, ['proj-a'])
    t.same(await store.getEntry('entry-2', '*'), { ...timedOut(2), resolution: failed })

    const records = await recordsOf(trail)
    t.equal(records.length, 5, 'one record each')
    t.match(records[4], { seq: 5, entry_id: 'entry-2', kind: 'resolution', project_id: null, actor_sub: null, outcome: 'failed' })
    t.equal(Number(records[3]?.entry_seq), 4, 'a resolution sits at its own place, not at its entry\'s')
    t.match(await store.verify(), { ok: true, checked: 5, head: { seq: 5, hash: records[4]?.hash } }, 'the chain covers them')

    const list = async (filter: Partial<Parameters<ChainedAuditStore['listEntries']>[0]>): Promise<string[]> =>
      ids((await store.listEntries({ projectIds: '*', ...filter }, 50, null)).items)
    t.same(await list({}), ['entry-3', 'entry-2', 'entry-1'], 'resolutions are not entries of their own')
    t.same(await list({ resolved: true }), ['entry-2', 'entry-1'])
    t.same(await list({ resolved: false }), ['entry-3'])
    t.same(await list({ resolved: false, outcome: 'unknown' }), [], 'no unknown outcome is left unresolved')
    t.same(await list({ resolved: true, projectId: 'proj-a', outcome: 'unknown' }), ['entry-2', 'entry-1'])
    t.same(await list({ resolved: true, projectIds: ['proj-a', 'proj-x'] }), ['entry-2', 'entry-1'], 'a claim of several projects (a page per project, merged)')
    t.same((await collect(store.streamEntries({ projectIds: ['proj-a'], resolved: true }))).map((entry) => entry.resolution?.outcome), ['failed', 'succeeded'], 'streamed with them')

    // The call of entry 1 was still open after all: its final record is appended as ever.
    await store.append(makeEntry(1), true)
    t.same(await store.getEntry('entry-1', '*'), { ...makeEntry(1), resolution: resolutionOf() }, 'its final record, still with the resolution')
    t.match(await store.verify(), { ok: true, checked: 6 })
  })

  t.test(`${backend} store: a refused resolution writes nothing`, async (t) => {
    const trail = await setUpTrail(t, backend)
    const { store } = trail
    await store.append(intentOf(makeEntry(1)), false)
    await store.append(makeEntry(2), true)
    await store.append(intentOf(makeEntry(3, { projectId: 'proj-b' })), false)
    await t.rejects(store.resolve('entry-9', resolutionOf(), '*'), { code: 'AUDIT_ENTRY_NOT_FOUND' }, 'no such entry')
    await t.rejects(store.resolve('entry-3', resolutionOf(), ['proj-a']), { code: 'AUDIT_ENTRY_NOT_FOUND' }, 'outside the projects')
    await t.rejects(store.resolve('entry-2', resolutionOf(), '*'), { code: 'AUDIT_OUTCOME_KNOWN' }, 'a known outcome')
    for (const [bad, label] of [
      [{ note: '' }, 'an empty note'], [{ note: 'x'.repeat(1001) }, 'a note too long'], [{ outcome: 'rejected' }, 'outcome rejected'],
      [{ note: 'lone \ud800 surrogate' }, 'a lone surrogate'], [{ time: 'yesterday' }, 'no time']
    ] as const) {
      await t.rejects(store.resolve('entry-1', resolutionOf(bad as Partial<AuditResolution>), '*'), { code: 'AUDIT_INVALID_ENTRY' }, label)
    }
    t.match(await store.verify(), { ok: true, checked: 3 }, 'nothing was written')
    await store.resolve('entry-1', resolutionOf({ note: '😀'.repeat(1000) }), '*')
    await t.rejects(store.resolve('entry-1', resolutionOf({ outcome: 'failed' }), '*'), { code: 'AUDIT_ENTRY_RESOLVED' }, 'a second resolution')
    const readOnly = await trail.open({ readOnly: true })
    await t.rejects(readOnly.resolve('entry-3', resolutionOf(), '*'), { code: 'AUDIT_STORE_NOT_WRITABLE' })
    t.match(await store.verify(), { ok: true, checked: 4 }, 'one resolution, a thousand characters long')
    t.equal((await store.getEntry('entry-1', '*'))?.resolution?.outcome, 'succeeded', 'the first stands')
  })

  t.test(`${backend} store: two resolutions at once from two instances: one is appended; the unique index refuses a second row`, async (t) => {
    const trail = await setUpTrail(t, backend)
    await trail.store.append(intentOf(makeEntry(1)), false)
    const other = await trail.open()
    const settled = await Promise.allSettled([trail.store.resolve('entry-1', resolutionOf(), '*'), other.resolve('entry-1', resolutionOf({ outcome: 'failed' }), '*')])
    t.same(settled.map((result) => result.status).sort(), ['fulfilled', 'rejected'])
    t.match(settled.find((result) => result.status === 'rejected'), { reason: { code: 'AUDIT_ENTRY_RESOLVED' } })

    // Past the store: a second resolution row, chained properly, is refused by the database itself.
    const [resolution] = await trail.raw.query(`SELECT * FROM ${trail.raw.table} WHERE kind = 'resolution'`)
    const stored = recordFromRow(resolution as Record<string, unknown>)
    const { text, values } = insertRecordQuery(trail.raw.table, { ...stored, seq: 3, entrySeq: 3, prevHash: stored.hash, outcome: 'failed' }, POSTGRES_DIALECT)
    await t.rejects(trail.raw.exec(text, values), /unique|UNIQUE/, 'the unique index (entry_id, kind, final)')
    t.match(await trail.store.verify(), { ok: true, checked: 2 })
  })

  t.test(`${backend} store: tampering with a resolution is detected`, async (t) => {
    const cases: Array<[string, (trail: TrailUnderTest) => Promise<void>, RegExp]> = [
      ['its note changed', async ({ raw }) => { await raw.exec(`UPDATE ${raw.table} SET body = replace(body, 'lists the VOD', 'lists no VOD') WHERE seq = 3`) }, /hash does not match/],
      ['made to pass for an entry record', async ({ raw }) => { await raw.exec(`UPDATE ${raw.table} SET kind = 'entry' WHERE seq = 3`) }, /hash does not match/],
      ['its resolver column changed', async ({ raw }) => { await raw.exec(`UPDATE ${raw.table} SET actor_sub = 'mallory' WHERE seq = 3`) }, /column actor_sub .* disagrees with the hashed resolution/],
      ['moved to another entry', async ({ raw }) => { await raw.exec(`UPDATE ${raw.table} SET entry_id = 'entry-2' WHERE seq = 3`) }, /hash does not match/],
      ['deleted', async ({ raw }) => { await raw.exec(`DELETE FROM ${raw.table} WHERE seq = 3`) }, /record 3 is missing/]
    ]
    for (const [what, tamper, problem] of cases) {
      await t.test(what, async (t) => {
        const trail = await setUpTrail(t, backend)
        await trail.store.append(intentOf(makeEntry(1)), false)
        await trail.store.append(timedOut(2), true)
        await trail.store.resolve('entry-1', resolutionOf(), '*')
        await trail.store.append(makeEntry(4), true)
        t.match(await trail.store.verify(), { ok: true, checked: 4 }, 'intact before')
        await trail.raw.disableGuards()
        await tamper(trail)
        t.match(await trail.store.verify(), { ok: false, firstBad: { seq: 3, problem } })
      })
    }
  })
}

// ---------------------------------------------------------------------------------------------
// The route, over the real app.

const resolver = (projects: unknown = ['proj-a'], scope = 'audit:resolve'): string => hsToken({ sub: 'carol', scope, projects })
const NOTE = 'Checked in the platform console: the VOD exists.'

async function resolve (app: App, id: string, body: unknown, token: string | null = resolver()): Promise<LightMyRequestResponse> {
  return await app.inject({
    method: 'POST',
    url: `/v1/audit/events/${id}/resolution`,
    headers: { ...(token !== null && { authorization: `Bearer ${token}` }), 'content-type': 'application/json' },
    payload: typeof body === 'string' ? body : JSON.stringify(body)
  })
}

async function read (app: App, url: string, accept?: string): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${hsToken({ scope: 'audit:read', projects: ['proj-a'] })}`, ...(accept !== undefined && { accept }) } })
}

/** Records in the chain, as verification counts them (a refusal must not change it). */
async function checked (t: Test, app: App): Promise<number> {
  const result = (await read(app, '/v1/audit/verify')).json<{ ok: boolean, checked: number }>()
  t.equal(result.ok, true, 'the chain verifies')
  return result.checked
}

const OPS: Array<[AuditEntry, boolean]> = [
  [intentOf(makeEntry(1)), false],
  [makeEntry(2), true],
  [intentOf(makeEntry(3, { projectId: 'proj-b' })), false],
  [timedOut(4), true],
  [intentOf(makeEntry(5)), false]
]

for (const backend of BACKENDS) {
  t.test(`${backend}: POST /v1/audit/events/{id}/resolution`, async (t) => {
    const { app } = await servedTrail(t, backend, OPS)
    const records = await checked(t, app)

    t.test('401 without a valid token, 403 without audit:resolve', async (t) => {
      isProblem(t, await resolve(app, 'entry-1', { outcome: 'succeeded', note: NOTE }, null), 401, 'unauthenticated', 'no token')
      isProblem(t, await resolve(app, 'entry-1', { outcome: 'succeeded', note: NOTE }, hsToken({ scope: 'audit:resolve', projects: ['proj-a'] }, 'y'.repeat(40))), 401, 'unauthenticated', 'signed by someone else')
      for (const scope of ['audit:read', 'live:cut']) {
        const denied = await resolve(app, 'entry-1', { outcome: 'succeeded', note: NOTE }, resolver(['proj-a'], scope))
        isProblem(t, denied, 403, 'forbidden', `only ${scope}`)
        t.match(denied.headers['www-authenticate'], /insufficient_scope.*audit:resolve/, 'the challenge names audit:resolve')
      }
      t.equal(await checked(t, app), records, 'nothing appended')
    })

    t.test('400 for a body that is not exactly { outcome, note, videoPublicId? }', async (t) => {
      const bodies: Array<[unknown, string]> = [
        [{ outcome: 'succeeded', note: NOTE, by: 'mallory' }, 'another field'],
        [{ outcome: 'succeeded' }, 'no note'],
        [{ outcome: 'succeeded', note: '' }, 'an empty note'],
        [{ outcome: 'succeeded', note: 'x'.repeat(1001) }, 'a note of 1001 characters'],
        [{ outcome: 'rejected', note: NOTE }, 'outcome rejected'],
        [{ outcome: 'unknown', note: NOTE }, 'outcome unknown'],
        [{ outcome: 'succeeded', note: NOTE, videoPublicId: '' }, 'an empty videoPublicId'],
        [{ outcome: 'succeeded', note: NOTE, videoPublicId: 42 }, 'a videoPublicId not a string'],
        ['{"outcome":"succeeded","note":"lone \\ud800 surrogate"}', 'a note the trail cannot hold'],
        ['{"outcome":', 'not JSON']
      ]
      for (const [body, label] of bodies) {
        const problem = isProblem(t, await resolve(app, 'entry-1', body), 400, /not JSON/.test(label) ? 'malformed_json' : 'validation', label)
        t.notOk(JSON.stringify(problem).includes('mallory'), `${label}: the answer repeats no value`)
      }
      t.equal(await checked(t, app), records, 'nothing appended')
    })

    t.test('404 outside the caller\'s projects, 422 for a known outcome', async (t) => {
      isProblem(t, await resolve(app, 'entry-9', { outcome: 'succeeded', note: NOTE }), 404, 'not_found', 'no such entry')
      isProblem(t, await resolve(app, 'entry-3', { outcome: 'succeeded', note: NOTE }), 404, 'not_found', 'another project\'s entry')
      isProblem(t, await resolve(app, 'entry-2', { outcome: 'failed', note: NOTE }), 422, 'outcome_known', 'a succeeded entry')
      t.equal(await checked(t, app), records, 'nothing appended')
    })

    t.test('201 with the entry and its resolution; the outcome stays unknown; 409 for a second', async (t) => {
      const created = await resolve(app, 'entry-1', { outcome: 'succeeded', note: NOTE, videoPublicId: 'vod-1' })
      t.equal(created.statusCode, 201)
      t.equal(created.headers.location, '/v1/audit/events/entry-1')
      const entry = created.json<AuditEntry>()
      t.match(entry, { ...intentOf(makeEntry(1)), resolution: { outcome: 'succeeded', note: NOTE, videoPublicId: 'vod-1', by: 'carol', time: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/ } })
      t.equal(entry.outcome, 'unknown', 'its own outcome stays unknown')
      t.same((await read(app, '/v1/audit/events/entry-1')).json(), entry, 'read back the same')
      t.equal(await checked(t, app), records + 1, 'one record appended')
      isProblem(t, await resolve(app, 'entry-1', { outcome: 'failed', note: 'second thoughts' }), 409, 'already_resolved', 'a second resolution')
      t.equal(await checked(t, app), records + 1, 'nothing more')
      t.equal((await read(app, '/v1/audit/events/entry-1')).json<AuditEntry>().resolution?.outcome, 'succeeded', 'the first stands')
    })

    t.test('two at once: one 201, one 409', async (t) => {
      const answers = await Promise.all([
        resolve(app, 'entry-4', { outcome: 'failed', note: 'no VOD' }),
        resolve(app, 'entry-4', { outcome: 'succeeded', note: 'a VOD', videoPublicId: 'vod-4' }, resolver('*'))
      ])
      t.same(answers.map((answer) => answer.statusCode).sort(), [201, 409])
      const winner = answers.find((answer) => answer.statusCode === 201)?.json<AuditEntry>()
      t.same((await read(app, '/v1/audit/events/entry-4')).json<AuditEntry>().resolution, winner?.resolution, 'the one that won is the one stored')
    })

    t.test('the review API filters by resolved=true|false and exports resolutions', async (t) => {
      const page = async (query: string): Promise<string[]> => ids((await read(app, `/v1/audit/events${query}`)).json<{ items: AuditEntry[] }>().items)
      t.same(await page('?resolved=true'), ['entry-4', 'entry-1'])
      t.same(await page('?resolved=false'), ['entry-5', 'entry-2'])
      t.same(await page('?resolved=false&outcome=unknown'), ['entry-5'], 'what the console lists to resolve')
      isProblem(t, await read(app, '/v1/audit/events?resolved=maybe'), 400, 'validation', 'resolved=maybe')
      const csv = parseCsv((await read(app, '/v1/audit/events?resolved=true', 'text/csv')).body)
      const header = csv[0] as string[]
      const row = Object.fromEntries(header.map((name, i) => [name, csv[2]?.[i]]))
      t.match(row, { id: 'entry-1', outcome: 'unknown', 'resolution.outcome': 'succeeded', 'resolution.note': NOTE, 'resolution.videoPublicId': 'vod-1', 'resolution.by': 'carol' }, 'CSV: resolution columns')
      const ndjson = (await read(app, '/v1/audit/events?resolved=true', 'application/x-ndjson')).body.trim().split('\n').map((line) => JSON.parse(line) as AuditEntry)
      t.same(ndjson.map((entry) => entry.resolution?.by), ['carol', 'carol'], 'NDJSON: with the resolution')
    })
  })
}
