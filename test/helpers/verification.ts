import type { Test } from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import { companionTable } from '../../src/audit/audit-time-marks.ts'
import { rebuildUnknownEntriesStatements } from '../../src/audit/audit-unknown-entries.ts'
import { type TrailVerifyResult, verifyTrail } from '../../src/audit/verification/trail-verification.ts'
import { type Backend, intentOf, makeEntry, seedTrail, setUpTrail, TrailModel, type TrailUnderTest } from './audit-fixtures.ts'

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
