import type { Test } from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import { companionTable } from '../../src/audit/audit-time-marks.ts'
import { rebuildUnknownEntriesStatements } from '../../src/audit/audit-unknown-entries.ts'
import { type TrailVerifyResult, verifyTrail } from '../../src/audit/verification/trail-verification.ts'
import { type Backend, intentOf, makeEntry, seedTrail, setUpTrail, TrailModel, type TrailUnderTest } from './audit-fixtures.ts'
import { AUDITOR, SIGNING_KEY } from './checkpoints.ts'
import { startService } from './service.ts'

// Trails for the verification tests: seeded in one transaction, guards off (the tests tamper).

/** Records in a busy service's order: every 5th entry opens an intent closed a few entries later. */
export function busyOps (records: number): Array<[AuditEntry, boolean]> {
  const ops: Array<[AuditEntry, boolean]> = []
  const open: AuditEntry[] = []
  for (let n = 1; ops.length < records; n++) {
    const entry = makeEntry(n, { projectId: `proj-${n % 3}` })
    if (n % 5 === 0) {
      ops.push([intentOf(entry), false])
      open.push(entry)
    } else {
      ops.push([entry, true])
    }
    if (open.length > 3) ops.push([open.shift() as AuditEntry, true])
  }
  return ops.slice(0, records)
}

/** The service's verification of the trail, in worker threads, with no key: checkpoints (none here) against the chain only. */
export async function verifyInWorkers (trail: TrailUnderTest, chunkRecords?: number): Promise<TrailVerifyResult> {
  return await verifyTrail({ url: trail.url, background: true, ...(chunkRecords !== undefined && { chunkRecords }) }, { publicKeys: [], requireKnownKey: false })
}

/**
 * The time-range tables' guards off too, and (SQLite) the insert triggers on the records that
 * keep the derived tables, as PostgreSQL's DISABLE TRIGGER USER on the records leaves them:
 * records put back leave them as they are.
 */
export async function unguardTimeIndex (trail: TrailUnderTest): Promise<void> {
  if (trail.backend === 'sqlite') {
    for (const name of ['audit_records_time_marks', 'audit_records_unknown_entries', 'audit_time_marks_no_change', 'audit_time_marks_no_delete', 'audit_late_entries_no_change', 'audit_late_entries_no_delete']) {
      await trail.raw.exec(`DROP TRIGGER IF EXISTS ${name}`)
    }
    return
  }
  for (const name of ['audit_time_marks', 'audit_late_entries'] as const) await trail.raw.exec(`ALTER TABLE ${companionTable(trail.raw.table, name)} DISABLE TRIGGER USER`)
}

/** A change to a derived table: the seq a full verification must name, the problem it must give, and how to undo it. */
export interface Tampering {
  name: string
  apply: () => Promise<{ seq: number, problem: RegExp, undo: () => Promise<void> }>
}

/** Each tampering fails a full verification at its record (in one run and in chunks of 97 on parallel readers), and the trail verifies again once it is undone. */
export function checkTamperings (t: Test, trail: TrailUnderTest, records: number, tamperings: readonly Tampering[]): void {
  for (const { name, apply } of tamperings) {
    t.test(name, async (t) => {
      const { seq, problem, undo } = await apply()
      for (const chunkRecords of [undefined, 97]) {
        const result = await verifyInWorkers(trail, chunkRecords)
        t.match(result, { ok: false, firstBad: { seq, problem } }, `fails at record ${seq}${chunkRecords === undefined ? '' : ', in chunks of 97'}`)
      }
      await undo()
      t.match(await verifyInWorkers(trail), { ok: true, checked: records }, 'verifies again once undone')
    })
  }
}

/** Through the HTTP route, as the service runs it: a full verification passes, fails once tampered with, and passes once undone. */
export async function checkTamperingOverHttp (t: Test, trail: TrailUnderTest, records: number, tampering: Tampering): Promise<void> {
  const { app } = await startService(t, { env: { AUDIT_STORE_URL: trail.url, AUDIT_SIGNING_KEY: SIGNING_KEY } })
  const verify = async (): Promise<Record<string, unknown>> =>
    (await app.inject({ url: '/v1/audit/verify?mode=full', headers: { authorization: `Bearer ${AUDITOR}` } })).json()
  t.match(await verify(), { ok: true, checked: records })
  const { seq, problem, undo } = await tampering.apply()
  t.match(await verify(), { ok: false, firstBad: { seq, problem } }, tampering.name)
  await undo()
  t.match(await verify(), { ok: true, checked: records }, 'verifies again once undone')
}

/**
 * The entries that read unknown built again from the records as they now are: what a DBA who
 * cut records off would do, so that a full verification sees only the cut.
 */
export async function realignUnknownEntries (trail: TrailUnderTest): Promise<void> {
  for (const statement of rebuildUnknownEntriesStatements(trail.raw.table)) await trail.raw.exec(statement)
}

/** A trail of `records` records in a busy service's order, its guards off. */
export async function seededTrail (t: Test, backend: Backend, records: number): Promise<TrailUnderTest> {
  const trail = await setUpTrail(t, backend)
  await seedTrail(trail, new TrailModel(), busyOps(records))
  await trail.raw.disableGuards()
  return trail
}
