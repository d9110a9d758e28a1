import t from 'tap'
import type { Test } from 'tap'
import { planAppend, prepareRecord } from '../../src/audit/audit-chain.ts'
import { BACKENDS, type Backend, intentOf, makeEntry, setUpTrail, type TrailUnderTest } from '../helpers/audit-fixtures.ts'

// An attacker with DBA rights edits the stored rows directly, after disabling the guards as
// such an attacker can. Verification through the store must name the first bad record.

/** Ten records; entries 1 and 3 open with an intent and close later, entry 5 stays open. */
async function tenRecords (t: Test, backend: Backend): Promise<TrailUnderTest> {
  const trail = await setUpTrail(t, backend)
  const { store } = trail
  await store.append(intentOf(makeEntry(1)), false)
  await store.append(makeEntry(2), true)
  await store.append(intentOf(makeEntry(3)), false)
  await store.append(makeEntry(1), true)
  await store.append(makeEntry(3, { outcome: 'failed', status: 503, reason: 'upstream_unavailable' }), true)
  await store.append(makeEntry(4, { projectId: 'proj-b' }), true)
  await store.append(intentOf(makeEntry(5)), false)
  for (let n = 6; n <= 8; n++) await store.append(makeEntry(n), true)
  await trail.raw.disableGuards()
  return trail
}

/** Moves rows in two steps, so no statement ever needs two rows on one seq. */
async function shiftSeqs (trail: TrailUnderTest, from: number, by: number): Promise<void> {
  await trail.raw.exec(`UPDATE ${trail.raw.table} SET seq = seq + 1000000 WHERE seq >= $1`, [from])
  await trail.raw.exec(`UPDATE ${trail.raw.table} SET seq = seq - 1000000 + $1 WHERE seq >= 1000000`, [by])
}

for (const backend of BACKENDS) {
  t.test(backend, async (t) => {
    const expectFirstBad = async (t: Test, trail: TrailUnderTest, seq: number, problem: RegExp): Promise<void> => {
      const result = await trail.store.verify()
      t.equal(result.ok, false, 'verification fails')
      if (result.ok) return
      t.equal(result.firstBad.seq, seq, `names record ${seq}: ${result.firstBad.problem}`)
      t.match(result.firstBad.problem, problem)
      t.equal(result.checked, seq - 1, 'every record before it verified')
    }

    t.test('an untouched store verifies', async (t) => {
      const trail = await tenRecords(t, backend)
      t.match(await trail.store.verify(), { ok: true, checked: 10, head: { seq: 10 } })
    })

    t.test('one field of a middle record changed (its column too)', async (t) => {
      const trail = await tenRecords(t, backend)
      const [row] = await trail.raw.query(`SELECT body FROM ${trail.raw.table} WHERE seq = 5`)
      const body = JSON.parse(row?.body as string)
      t.equal(body.outcome, 'failed')
      await trail.raw.exec(`UPDATE ${trail.raw.table} SET body = $1, outcome = 'succeeded' WHERE seq = 5`, [JSON.stringify({ ...body, outcome: 'succeeded' })])
      t.equal((await trail.store.getEntry('entry-3', '*'))?.outcome, 'succeeded', 'the edit took')
      await expectFirstBad(t, trail, 5, /hash does not match/)
    })

    t.test('only an indexed column changed, to move an entry to another project', async (t) => {
      const trail = await tenRecords(t, backend)
      await trail.raw.exec(`UPDATE ${trail.raw.table} SET project_id = 'proj-a' WHERE seq = 6`)
      await expectFirstBad(t, trail, 6, /column project_id \("proj-a"\) disagrees with the hashed entry \("proj-b"\)/)
    })

    t.test('a middle record deleted', async (t) => {
      const trail = await tenRecords(t, backend)
      await trail.raw.exec(`DELETE FROM ${trail.raw.table} WHERE seq = 4`)
      await expectFirstBad(t, trail, 4, /record 4 is missing/)
    })

    t.test('a middle record deleted and the rest renumbered to hide the gap', async (t) => {
      const trail = await tenRecords(t, backend)
      await trail.raw.exec(`DELETE FROM ${trail.raw.table} WHERE seq = 4`)
      await shiftSeqs(trail, 5, -1)
      await expectFirstBad(t, trail, 4, /prev_hash does not match the hash of record 3/)
    })

    t.test('two records\' bodies swapped', async (t) => {
      const trail = await tenRecords(t, backend)
      const rows = await trail.raw.query(`SELECT seq, body FROM ${trail.raw.table} WHERE seq IN (3, 8) ORDER BY seq`)
      await trail.raw.exec(`UPDATE ${trail.raw.table} SET body = $1 WHERE seq = 3`, [rows[1]?.body])
      await trail.raw.exec(`UPDATE ${trail.raw.table} SET body = $1 WHERE seq = 8`, [rows[0]?.body])
      await expectFirstBad(t, trail, 3, /hash does not match/)
    })

    t.test('two whole records reordered', async (t) => {
      const trail = await tenRecords(t, backend)
      await trail.raw.exec(`UPDATE ${trail.raw.table} SET seq = 1000 WHERE seq = 3`)
      await trail.raw.exec(`UPDATE ${trail.raw.table} SET seq = 3 WHERE seq = 8`)
      await trail.raw.exec(`UPDATE ${trail.raw.table} SET seq = 8 WHERE seq = 1000`)
      await expectFirstBad(t, trail, 3, /prev_hash does not match the hash of record 2/)
    })

    t.test('a forged record inserted in the middle, hashed as the store would', async (t) => {
      const trail = await tenRecords(t, backend)
      const [previous] = await trail.raw.query(`SELECT hash FROM ${trail.raw.table} WHERE seq = 4`)
      const forged = planAppend(prepareRecord(makeEntry(99, { actor: { sub: 'mallory', clientId: null, ip: '203.0.113.9', userAgent: null } }), true),
        { head: { seq: 4, hash: previous?.hash as string }, intent: null, hasFinal: false })
      await shiftSeqs(trail, 5, 1)
      await trail.raw.exec(`INSERT INTO ${trail.raw.table} (seq, entry_id, final, entry_seq, project_id, video_id, actor_sub, outcome, time_ms, body, prev_hash, hash)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [forged.seq, forged.entryId, backend === 'sqlite' ? 1 : true, forged.entrySeq, forged.projectId, forged.videoId, forged.actorSub, forged.outcome, forged.timeMs, forged.body, forged.prevHash, forged.hash])
      t.equal((await trail.store.getEntry('entry-99', '*'))?.actor.sub, 'mallory', 'the forgery reads like any entry')
      // The forgery links properly to record 4; the record after it no longer links to it.
      await expectFirstBad(t, trail, 6, /prev_hash does not match the hash of record 5/)
    })

    t.test('records removed from the end: only a head recorded earlier tells', async (t) => {
      const trail = await tenRecords(t, backend)
      const before = await trail.store.verify()
      if (!before.ok || before.head === null) throw new Error('expected an intact chain')
      await trail.raw.exec(`DELETE FROM ${trail.raw.table} WHERE seq > 8`)
      t.match(await trail.store.verify(), { ok: true, checked: 8 }, 'the chain alone cannot see a cut at its end')
      t.match(await trail.store.verify({ expectHead: before.head }), { ok: false, checked: 8, firstBad: { seq: 9, problem: /ends at record 8, before the recorded head 10/ } })
    })
  })
}
