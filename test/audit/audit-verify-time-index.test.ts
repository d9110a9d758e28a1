import t from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import { bucketOf, bucketSql, companionTable } from '../../src/audit/audit-time-marks.ts'
import { BACKENDS, intentOf, makeEntry, seedTrail, setUpTrail, TrailModel } from '../helpers/audit-fixtures.ts'
import { checkTamperingOverHttp, checkTamperings, type Tampering, unguardTimeIndex, verifyInWorkers } from '../helpers/verification.ts'

// A full verification checks the time-range tables (audit_time_marks, audit_late_entries)
// against what the records imply: rewritten directly, as a DBA could, so that time-range pages
// would miss entries, they fail verification at the entry concerned.

const BASE_TIME = Date.UTC(2025, 0, 1)
const COUNT = 600

/** Entries a second apart, every 7th appended 25 s to 2 min late, one from before 1970; every 4th an intent closed later. */
function ops (): Array<[AuditEntry, boolean]> {
  const result: Array<[AuditEntry, boolean]> = []
  const open: AuditEntry[] = []
  for (let n = 1; n <= COUNT; n++) {
    let time = BASE_TIME + n * 1000
    if (n % 7 === 0) time -= 25_000 + (n % 5) * 20_000
    if (n === 300) time = Date.UTC(1969, 11, 31, 23, 59, 55)
    const entry = makeEntry(n, { time: new Date(time).toISOString() })
    if (n % 4 === 0) {
      result.push([intentOf(entry), false])
      open.push(entry)
    } else {
      result.push([entry, true])
    }
    if (open.length > 2) result.push([open.shift() as AuditEntry, true])
  }
  for (const entry of open) result.push([entry, true])
  return result
}

for (const backend of BACKENDS) {
  t.test(backend, async (t) => {
    const trail = await setUpTrail(t, backend)
    await seedTrail(trail, new TrailModel(), ops())
    await unguardTimeIndex(trail)
    const { raw } = trail
    const marksTable = companionTable(raw.table, 'audit_time_marks')
    const lateTable = companionTable(raw.table, 'audit_late_entries')
    const marks = (await raw.query(`SELECT bucket, seq FROM ${marksTable} ORDER BY seq`)).map((row) => ({ bucket: Number(row.bucket), seq: Number(row.seq) }))
    const late = (await raw.query(`SELECT entry_seq, time_ms FROM ${lateTable} ORDER BY entry_seq`)).map((row) => ({ entrySeq: Number(row.entry_seq), timeMs: Number(row.time_ms) }))
    const [head] = await raw.query(`SELECT max(seq) AS seq FROM ${raw.table}`)
    const records = Number(head?.seq)

    t.test('bucketOf agrees with bucketSql, below zero, at zero and at bucket boundaries', async (t) => {
      const times = [-1e12 - 1, -20_001, -20_000, -19_999, -10_001, -10_000, -9_999, -1, 0, 1, 9_999, 10_000, 10_001, 1_735_689_599_999, 1_735_689_600_000]
      for (const time of times) {
        const [row] = await raw.query(`SELECT ${bucketSql('v')} AS b FROM (SELECT CAST($1 AS bigint) AS v) x`, [time])
        t.equal(bucketOf(time), Number(row?.b), `time ${time}: bucket ${Number(row?.b)}`)
      }
    })

    t.test('an intact trail with late entries verifies', async (t) => {
      t.ok(late.length > 50, `${late.length} late entries`)
      t.ok(late.some((entry) => entry.timeMs < 0), 'one from before 1970')
      t.ok(marks.length > 40, `${marks.length} marks`)
      t.match(await verifyInWorkers(trail), { ok: true, checked: records })
      t.match(await verifyInWorkers(trail, 97), { ok: true, checked: records }, 'in chunks of 97 records, on parallel readers')
    })

    const middleMark = marks[Math.floor(marks.length / 2)] as { bucket: number, seq: number }
    const middleLate = late[Math.floor(late.length / 2)] as { entrySeq: number, timeMs: number }
    const insertMark = async (mark: { bucket: number, seq: number }): Promise<void> => { await raw.exec(`INSERT INTO ${marksTable} (bucket, seq) VALUES ($1, $2)`, [mark.bucket, mark.seq]) }
    const markDeleted: Tampering = {
      name: 'a mark deleted',
      apply: async () => {
        await raw.exec(`DELETE FROM ${marksTable} WHERE bucket = $1`, [middleMark.bucket])
        return { seq: middleMark.seq, problem: /^audit_time_marks lacks the row \(bucket \d+, seq \d+\)/, undo: async () => { await insertMark(middleMark) } }
      }
    }
    const tamperings: Tampering[] = [
      {
        name: 'a late entry\'s row deleted',
        apply: async () => {
          await raw.exec(`DELETE FROM ${lateTable} WHERE entry_seq = $1`, [middleLate.entrySeq])
          return {
            seq: middleLate.entrySeq,
            problem: new RegExp(`^audit_late_entries lacks the row \\(entry_seq ${middleLate.entrySeq}, time_ms ${middleLate.timeMs}\\)`),
            undo: async () => { await raw.exec(`INSERT INTO ${lateTable} (entry_seq, time_ms) VALUES ($1, $2)`, [middleLate.entrySeq, middleLate.timeMs]) }
          }
        }
      },
      markDeleted,
      {
        name: 'a mark\'s seq moved on (hiding the entries before it from a since page)',
        apply: async () => {
          await raw.exec(`UPDATE ${marksTable} SET seq = seq + 3 WHERE bucket = $1`, [middleMark.bucket])
          return {
            seq: middleMark.seq,
            problem: new RegExp(`^audit_time_marks lacks the row \\(bucket ${middleMark.bucket}, seq ${middleMark.seq}\\)`),
            undo: async () => { await raw.exec(`UPDATE ${marksTable} SET seq = $2 WHERE bucket = $1`, [middleMark.bucket, middleMark.seq]) }
          }
        }
      },
      {
        name: 'a mark\'s bucket changed',
        apply: async () => {
          const bucket = middleMark.bucket + 1_000_000
          await raw.exec(`UPDATE ${marksTable} SET bucket = $2 WHERE bucket = $1`, [middleMark.bucket, bucket])
          return {
            seq: middleMark.seq,
            problem: new RegExp(`^audit_time_marks has \\(bucket ${bucket}, seq ${middleMark.seq}\\) where record ${middleMark.seq} implies \\(bucket ${middleMark.bucket}, seq ${middleMark.seq}\\)`),
            undo: async () => { await raw.exec(`UPDATE ${marksTable} SET bucket = $1 WHERE bucket = $2`, [middleMark.bucket, bucket]) }
          }
        }
      },
      {
        name: 'an extra late row',
        apply: async () => {
          // An entry's first record that is not late: the one right after the middle mark.
          const [row] = await raw.query(`SELECT seq, time_ms FROM ${raw.table} WHERE kind = 'entry' AND seq = entry_seq AND seq > $1 AND seq NOT IN (SELECT entry_seq FROM ${lateTable}) ORDER BY seq LIMIT 1`, [middleMark.seq])
          const seq = Number(row?.seq)
          await raw.exec(`INSERT INTO ${lateTable} (entry_seq, time_ms) VALUES ($1, $2)`, [seq, Number(row?.time_ms)])
          return {
            seq,
            problem: new RegExp(`^audit_late_entries has a row \\(entry_seq ${seq}, time_ms ${Number(row?.time_ms)}\\) that no record implies`),
            undo: async () => { await raw.exec(`DELETE FROM ${lateTable} WHERE entry_seq = $1`, [seq]) }
          }
        }
      },
      {
        name: 'an extra mark beyond the head',
        apply: async () => {
          await insertMark({ bucket: -5, seq: records + 10 })
          return { seq: records + 10, problem: /^audit_time_marks has a row \(bucket -5, seq \d+\) that no record implies/, undo: async () => { await raw.exec(`DELETE FROM ${marksTable} WHERE bucket = -5`) } }
        }
      }
    ]

    checkTamperings(t, trail, records, tamperings)

    t.test('through the HTTP route: a deleted mark fails a full verification', async (t) => {
      await checkTamperingOverHttp(t, trail, records, markDeleted)
    })
  })
}
