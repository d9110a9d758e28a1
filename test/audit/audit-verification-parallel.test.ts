import t from 'tap'
import { recordFromRow } from '../../src/audit/audit-chain.ts'
import { insertRecordQuery, POSTGRES_DIALECT } from '../../src/audit/audit-query.ts'
import { companionTable } from '../../src/audit/audit-time-marks.ts'
import { BACKENDS, type TrailUnderTest } from '../helpers/audit-fixtures.ts'
import { realignUnknownEntries, seededTrail, unguardTimeIndex, verifyInWorkers } from '../helpers/verification.ts'

// Records checked in parallel by reader threads, then tied together in order, give exactly the
// answer of the walk in one thread: untouched, and tampered at and around chunk boundaries.

/** Chunks of 500 records: a trail of three chunks, the last one short. */
const CHUNK = 500
const RECORDS = 1100

async function recordAt (trail: TrailUnderTest, seq: number): Promise<Record<string, unknown>> {
  const [row] = await trail.raw.query(`SELECT * FROM ${trail.raw.table} WHERE seq = $1`, [seq])
  return row as Record<string, unknown>
}

async function reinsert (trail: TrailUnderTest, row: Record<string, unknown>): Promise<void> {
  const { text, values } = insertRecordQuery(trail.raw.table, recordFromRow(row), POSTGRES_DIALECT)
  await trail.raw.exec(text, values)
}

/** The first final record at or after `from` whose intent lies before `before`. */
async function finalWithEarlierIntent (trail: TrailUnderTest, from: number, before: number): Promise<number> {
  const [row] = await trail.raw.query(`SELECT min(seq) AS seq FROM ${trail.raw.table} WHERE seq >= $1 AND final = $2 AND entry_seq < $3`,
    [from, trail.backend === 'sqlite' ? 1 : true, before])
  return Number(row?.seq)
}

for (const backend of BACKENDS) {
  t.test(`${backend}: records checked in parallel give the answer of the walk in one thread, at chunk boundaries too`, async (t) => {
    const trail = await seededTrail(t, backend, RECORDS)
    await unguardTimeIndex(trail)
    const marks = companionTable(trail.raw.table, 'audit_time_marks')
    const same = async (label: string): Promise<void> => {
      const walked = await trail.store.verify()
      const { checkpoint, ...result } = await verifyInWorkers(trail, CHUNK)
      t.same(result, walked, `${label}: ${walked.ok ? 'ok' : walked.firstBad.problem}`)
      t.equal(checkpoint, null)
    }
    await same('untouched')
    t.match(await trail.store.verify(), { ok: true, checked: RECORDS })

    for (const seq of [501, RECORDS]) {
      const row = await recordAt(trail, seq)
      await trail.raw.exec(`UPDATE ${trail.raw.table} SET body = replace(body, 'test-agent', 'test-agenT') WHERE seq = $1`, [seq])
      await same(`record ${seq} changed`)
      await trail.raw.exec(`UPDATE ${trail.raw.table} SET body = $1 WHERE seq = $2`, [row.body, seq])
    }
    for (const seqs of [[500, 501], [RECORDS]]) {
      const rows = await Promise.all(seqs.map(async (seq) => await recordAt(trail, seq)))
      // Their time marks too (the trail has no late entries), which a full verification would find left over.
      const marked = await trail.raw.query(`SELECT bucket, seq FROM ${marks} WHERE seq >= $1 AND seq <= $2`, [seqs[0], seqs.at(-1)])
      for (const seq of seqs) await trail.raw.exec(`DELETE FROM ${trail.raw.table} WHERE seq = $1`, [seq])
      await trail.raw.exec(`DELETE FROM ${marks} WHERE seq >= $1 AND seq <= $2`, [seqs[0], seqs.at(-1)])
      // And the entries that read unknown put in line with the records left, as the marks are.
      await realignUnknownEntries(trail)
      await same(`records ${seqs.join(', ')} deleted`)
      for (const row of rows) await reinsert(trail, row)
      await realignUnknownEntries(trail)
      for (const { bucket, seq } of marked) await trail.raw.exec(`INSERT INTO ${marks} (bucket, seq) VALUES ($1, $2)`, [bucket, seq])
    }
    // The checks that span chunks: a final whose intent lies in the chunk before it.
    const crossing = await finalWithEarlierIntent(trail, 501, 501)
    t.ok(crossing >= 501 && crossing < 520, `record ${crossing} closes an intent of the first chunk`)
    await trail.raw.exec(`UPDATE ${trail.raw.table} SET entry_seq = $1 WHERE seq = $2`, [crossing, crossing])
    await same(`the entry_seq of record ${crossing} changed`)
    t.match(await trail.store.verify(), { ok: false, firstBad: { seq: crossing, problem: /entry_seq/ } })
  })
}
