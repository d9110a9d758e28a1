import t from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import { unknownEntriesTable } from '../../src/audit/audit-unknown-entries.ts'
import { BACKENDS, intentOf, makeEntry, seedTrail, setUpTrail, TrailModel } from '../helpers/audit-fixtures.ts'
import { checkTamperingOverHttp, checkTamperings, type Tampering, verifyInWorkers } from '../helpers/verification.ts'

// A full verification checks the entries that read unknown (audit_unknown_entries) against what
// the records imply: rewritten directly, as a DBA could, so that outcome=unknown pages would miss
// or invent entries, they fail verification at the record concerned.

const COUNT = 400

/** Entry n: every 5th an intent left open, every 5th (+1) closed later, every 5th (+2) a final reading unknown after its intent, every 5th (+3) a lone one, the rest rejected. */
function ops (): Array<[AuditEntry, boolean]> {
  const result: Array<[AuditEntry, boolean]> = []
  const closing: AuditEntry[] = []
  for (let n = 1; n <= COUNT; n++) {
    const entry = makeEntry(n, { projectId: `p-${n % 3}` })
    const timedOut: AuditEntry = { ...entry, outcome: 'unknown', status: 504, reason: 'upstream_timeout', upstream: { attempts: 1, statuses: [], latencyMs: 15000 }, videoPublicId: null }
    switch (n % 5) {
      case 0: result.push([intentOf(entry), false]); break
      case 1: result.push([intentOf(entry), false]); closing.push(entry); break
      case 2: result.push([intentOf(entry), false]); closing.push(timedOut); break
      case 3: result.push([timedOut, true]); break
      default: result.push([{ ...entry, outcome: 'rejected', status: 400, reason: 'validation', upstream: null, videoPublicId: null }, true])
    }
    if (closing.length > 3) result.push([closing.shift() as AuditEntry, true])
  }
  for (const entry of closing) result.push([entry, true])
  return result
}

interface Row { seq: number, entrySeq: number, projectId: string, actorSub: string, timeMs: number }

for (const backend of BACKENDS) {
  t.test(backend, async (t) => {
    const trail = await setUpTrail(t, backend)
    await seedTrail(trail, new TrailModel(), ops())
    const { raw } = trail
    const table = unknownEntriesTable(raw.table)
    const [head] = await raw.query(`SELECT max(seq) AS seq FROM ${raw.table}`)
    const records = Number(head?.seq)
    const rows = (await raw.query(`SELECT * FROM ${table} ORDER BY seq`))
      .map((row): Row => ({ seq: Number(row.seq), entrySeq: Number(row.entry_seq), projectId: String(row.project_id), actorSub: String(row.actor_sub), timeMs: Number(row.time_ms) }))
    const insert = async (row: Row): Promise<void> => {
      await raw.exec(`INSERT INTO ${table} (seq, entry_seq, project_id, actor_sub, time_ms) VALUES ($1, $2, $3, $4, $5)`, [row.seq, row.entrySeq, row.projectId, row.actorSub, row.timeMs])
    }
    const remove = async (seq: number): Promise<void> => { await raw.exec(`DELETE FROM ${table} WHERE seq = $1`, [seq]) }
    const intents = new Set((await raw.query(`SELECT seq FROM ${raw.table} WHERE final = FALSE`)).map((row) => Number(row.seq)))
    const openIntent = rows.find((row) => intents.has(row.seq) && row.seq > records / 2) as Row
    const unknownFinal = rows.find((row) => row.seq !== row.entrySeq && row.seq > records / 2) as Row
    // An intent closed by a final that does not read unknown, and that final.
    const [closed] = await raw.query(`SELECT i.seq AS intent, f.seq AS final, i.project_id, i.actor_sub, i.time_ms FROM ${raw.table} i JOIN ${raw.table} f ON f.entry_id = i.entry_id AND f.final = TRUE
      WHERE i.final = FALSE AND f.outcome <> 'unknown' AND i.seq > $1 ORDER BY i.seq LIMIT 1`, [records / 2])
    const [rejected] = await raw.query(`SELECT seq, project_id, actor_sub, time_ms FROM ${raw.table} WHERE outcome = 'rejected' AND seq > $1 ORDER BY seq LIMIT 1`, [records / 2])

    t.test('an intact trail verifies', async (t) => {
      t.equal(rows.length, COUNT / 5 * 3, 'open intents, finals reading unknown after their intent, and lone ones')
      t.match(await verifyInWorkers(trail), { ok: true, checked: records })
      t.match(await verifyInWorkers(trail, 97), { ok: true, checked: records }, 'in chunks of 97 records, on parallel readers')
    })

    const openRowDeleted: Tampering = {
      name: 'an open intent\'s row deleted',
      apply: async () => {
        await remove(openIntent.seq)
        return {
          seq: openIntent.seq,
          problem: new RegExp(`^audit_unknown_entries lacks the row \\(seq ${openIntent.seq}\\) of the intent open at the head`),
          undo: async () => { await insert(openIntent) }
        }
      }
    }
    const tamperings: Tampering[] = [
      openRowDeleted,
      {
        name: 'the row of a final reading unknown deleted',
        apply: async () => {
          await remove(unknownFinal.seq)
          return {
            seq: unknownFinal.seq,
            problem: new RegExp(`^audit_unknown_entries lacks the row \\(seq ${unknownFinal.seq}, entry_seq ${unknownFinal.entrySeq}, .*\\) that record ${unknownFinal.seq} implies`),
            undo: async () => { await insert(unknownFinal) }
          }
        }
      },
      {
        name: 'a row kept for an intent its final closed',
        apply: async () => {
          const intent = Number(closed?.intent)
          await insert({ seq: intent, entrySeq: intent, projectId: String(closed?.project_id), actorSub: String(closed?.actor_sub), timeMs: Number(closed?.time_ms) })
          return {
            seq: Number(closed?.final),
            problem: new RegExp(`^audit_unknown_entries has a row \\(seq ${intent}\\) for the intent that record ${Number(closed?.final)} closed`),
            undo: async () => { await remove(intent) }
          }
        }
      },
      {
        name: 'a row for a rejected entry',
        apply: async () => {
          const seq = Number(rejected?.seq)
          await insert({ seq, entrySeq: seq, projectId: String(rejected?.project_id), actorSub: String(rejected?.actor_sub), timeMs: Number(rejected?.time_ms) })
          return { seq, problem: new RegExp(`^audit_unknown_entries has a row \\(seq ${seq}, .*\\) that no record implies`), undo: async () => { await remove(seq) } }
        }
      },
      {
        name: 'an open intent\'s row moved to another project',
        apply: async () => {
          await raw.exec(`UPDATE ${table} SET project_id = 'p-elsewhere' WHERE seq = $1`, [openIntent.seq])
          return {
            seq: openIntent.seq,
            problem: new RegExp(`^audit_unknown_entries has \\(seq ${openIntent.seq}, .*project_id p-elsewhere.*\\) where record ${openIntent.seq} implies \\(.*project_id ${openIntent.projectId},`),
            undo: async () => { await raw.exec(`UPDATE ${table} SET project_id = $2 WHERE seq = $1`, [openIntent.seq, openIntent.projectId]) }
          }
        }
      },
      {
        name: 'an extra row beyond the head',
        apply: async () => {
          const seq = records + 10
          await insert({ ...openIntent, seq, entrySeq: seq })
          return { seq, problem: new RegExp(`^audit_unknown_entries has a row \\(seq ${seq}, .*\\) that no record implies`), undo: async () => { await remove(seq) } }
        }
      }
    ]

    checkTamperings(t, trail, records, tamperings)

    t.test('through the HTTP route: a deleted row fails a full verification', async (t) => {
      await checkTamperingOverHttp(t, trail, records, openRowDeleted)
    })
  })
}
