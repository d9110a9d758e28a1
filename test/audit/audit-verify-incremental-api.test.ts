import t from 'tap'
import { BACKENDS, makeEntry } from '../helpers/audit-fixtures.ts'
import { AUDITOR, append, type Checkpoint, checkpointsOf, recordHashAt } from '../helpers/checkpoints.ts'
import { editBody, servedTrail, verifyApi } from '../helpers/incremental-trail.ts'

// `GET /v1/audit/verify?mode=incremental`: from the newest checkpoint this instance verified
// (kept in its memory), only the records from it on are read; a failed run forgets it.

for (const backend of BACKENDS) {
  t.test(`${backend}: the API, ?mode=incremental from the service's last verified checkpoint`, async (t) => {
    const fixture = await servedTrail(t, backend)
    const { app, trail, at } = fixture
    const at8 = at.get(8) as Checkpoint
    const head = { seq: 10, hash: await recordHashAt(trail, 10) }
    t.same([...at.keys()], [8, 4], 'the schedule signed records 4 and 8')
    t.same(await verifyApi(fixture), { ok: true, checked: 10, head, checkpoint: at8, anchor: null }, 'no run verified a checkpoint yet: the whole chain, anchor null')
    t.same(await verifyApi(fixture), { ok: true, checked: 4, head, checkpoint: at8, anchor: at8 }, 'then from checkpoint 8: records 7–10')
    t.same(await verifyApi(fixture, ''), { ok: true, checked: 10, head, checkpoint: at8 }, 'the default answer is the full one, as SPEC gives it')

    await append(app, [[makeEntry(11), true], [makeEntry(12), true]])
    const at12 = (await checkpointsOf(app)).items[0] as Checkpoint
    t.equal(at12.seq, 12, 'a checkpoint at record 12')
    t.match(await verifyApi(fixture), { ok: true, checked: 6, head: { seq: 12 }, checkpoint: at12, anchor: at8 }, 'from 8 again: records 7–12')
    t.match(await verifyApi(fixture), { ok: true, checked: 1, head: { seq: 12 }, checkpoint: at12, anchor: at12 }, 'then from 12: its own record alone')

    const response = await app.inject({ url: '/v1/audit/verify?mode=partial', headers: { authorization: `Bearer ${AUDITOR}` } })
    t.equal(response.statusCode, 400, 'another mode is a 400')
    t.match(response.headers['content-type'], /application\/problem\+json/)
  })

  t.test(`${backend}: the API, incremental, on a trail changed after the anchor, then before it`, async (t) => {
    const fixture = await servedTrail(t, backend)
    const { trail } = fixture
    t.match(await verifyApi(fixture, ''), { ok: true, checked: 10 }, 'a full run: the anchor is checkpoint 8')
    await editBody(trail, 9)
    t.match(await verifyApi(fixture), { ok: false, checked: 2, firstBad: { seq: 9, problem: /hash does not match/ }, anchor: fixture.at.get(8) }, 'a record after the anchor changed')
    t.match(await verifyApi(fixture), { ok: false, checked: 8, firstBad: { seq: 9 }, anchor: null }, 'the failure forgot the anchor: the next run reads the whole chain')
  })

  t.test(`${backend}: the API, incremental, blind before the anchor until a full run`, async (t) => {
    const fixture = await servedTrail(t, backend)
    t.match(await verifyApi(fixture, ''), { ok: true, checked: 10 }, 'a full run: the anchor is checkpoint 8')
    await editBody(fixture.trail, 2)
    t.match(await verifyApi(fixture), { ok: true, checked: 4 }, 'record 2 lies before the anchor: not read')
    t.match(await verifyApi(fixture, ''), { ok: false, checked: 1, firstBad: { seq: 2, problem: /hash does not match/ } }, 'a full run sees it')
    t.match(await verifyApi(fixture), { ok: false, checked: 1, firstBad: { seq: 2 }, anchor: null }, 'and incremental calls read the whole chain again')
  })
}
