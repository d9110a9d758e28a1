import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'
import { planAppend, prepareRecord } from '../../src/audit/audit-chain.ts'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import { createCheckpointSigner, signingKeyFromPem } from '../../src/audit/audit-checkpoint.ts'
import { type Backend, intentOf, makeEntry, setUpTrail, type TrailUnderTest } from './audit-fixtures.ts'
import { append, type Checkpoint, checkpointsOf, cli, getJson, type Jwk, served, type Served, SIGNING_KEY } from './checkpoints.ts'
import { tempDir } from './temp-dir.ts'

// Incremental verification's trail: ten records with checkpoints at 4 and 8, each crossed by an
// open entry, kept (for the CLI) or served by the real app (for the API); and the tampering the
// tests do to it, with the guards off, as an attacker with DBA rights does.

/**
 * Ten records, checkpoints at records 4 and 8 (AUDIT_CHECKPOINT_RECORDS 4), each with an entry
 * open across it: entry 5 (intent 3, final 6) and entry 10 (intent 7, final 9).
 */
export const TEN: Array<[AuditEntry, boolean]> = [
  [makeEntry(1), true], [makeEntry(2), true], [intentOf(makeEntry(5)), false], [makeEntry(3), true],
  [makeEntry(4), true], [makeEntry(5), true], [intentOf(makeEntry(10)), false], [makeEntry(6), true],
  [makeEntry(10), true], [makeEntry(7), true]
]

/** A trail of TEN, checkpoints at 4 and 8, and the public key in a file, as an auditor keeps them. */
export interface KeptTrail {
  trail: TrailUnderTest
  jwkFile: string
  /** Checkpoints by seq. */
  at: Map<number, Checkpoint>
  fileOf: (checkpoint: Checkpoint) => string
}

/** The records appended by the store and signed by SIGNING_KEY as the service's schedule would, at 4 and 8 (no service: the CLI tests need none). */
export async function keptTrail (t: Test, backend: Backend): Promise<KeptTrail> {
  const trail = await setUpTrail(t, backend)
  const signer = createCheckpointSigner(signingKeyFromPem(SIGNING_KEY))
  const at = new Map<number, Checkpoint>()
  for (const [index, [entry, final]] of TEN.entries()) {
    await trail.store.append(entry, final)
    if ((index + 1) % 4 !== 0) continue
    const checkpoint = await trail.store.appendCheckpoint((head) => signer.sign(head, Date.UTC(2026, 0, 1, 12)))
    if (checkpoint !== null) at.set(checkpoint.seq, checkpoint)
  }
  await trail.raw.disableGuards()
  return { trail, at, ...keyFiles(t, signer.publicJwk) }
}

/** The same trail served by the real app, AUDIT_CHECKPOINT_RECORDS 4: its schedule signs at 4 and 8. */
export async function servedTrail (t: Test, backend: Backend): Promise<KeptTrail & Served> {
  const service = await served(t, backend, { AUDIT_CHECKPOINT_RECORDS: '4' })
  await append(service.app, TEN)
  const at = new Map((await checkpointsOf(service.app)).items.map((checkpoint) => [checkpoint.seq, checkpoint]))
  await service.trail.raw.disableGuards()
  return { ...service, at, ...keyFiles(t, await getJson<Jwk>(service.app, '/v1/audit/public-key')) }
}

function keyFiles (t: Test, jwk: Jwk): Pick<KeptTrail, 'jwkFile' | 'fileOf'> {
  const dir = tempDir(t)
  const jwkFile = join(dir, 'public.jwk')
  writeFileSync(jwkFile, JSON.stringify(jwk))
  const fileOf = (checkpoint: Checkpoint): string => {
    const file = join(dir, `checkpoint-${checkpoint.seq}-${checkpoint.hash.slice(0, 8)}.json`)
    writeFileSync(file, JSON.stringify(checkpoint))
    return file
  }
  return { jwkFile, fileOf }
}

export const verifyFrom = async (fixture: KeptTrail, anchor: Checkpoint, ...extra: string[]): Promise<{ code: number, result: Record<string, unknown> }> => {
  const run = await cli(['verify', '--store', fixture.trail.url, '--public-key', fixture.jwkFile, '--checkpoint', fixture.fileOf(anchor), '--incremental', '--json', ...extra])
  return { code: run.code, result: JSON.parse(run.stdout) }
}

/** Rewrites record `seq` as a valid record of another entry, hashed from its stored prev_hash. */
export async function rewriteRecord (trail: TrailUnderTest, seq: number, entry: AuditEntry): Promise<void> {
  const [row] = await trail.raw.query(`SELECT prev_hash FROM ${trail.raw.table} WHERE seq = $1`, [seq])
  const forged = planAppend(prepareRecord(entry, true), { head: { seq: seq - 1, hash: row?.prev_hash as string }, intent: null, hasFinal: false })
  await trail.raw.exec(`UPDATE ${trail.raw.table} SET entry_id = $1, body = $2, hash = $3, outcome = $4 WHERE seq = $5`, [forged.entryId, forged.body, forged.hash, forged.outcome, seq])
}

/** Changes a record's body and its outcome column, leaving its stored hash alone. */
export async function editBody (trail: TrailUnderTest, seq: number): Promise<void> {
  const [row] = await trail.raw.query(`SELECT body FROM ${trail.raw.table} WHERE seq = $1`, [seq])
  const body = JSON.parse(row?.body as string)
  await trail.raw.exec(`UPDATE ${trail.raw.table} SET body = $1, outcome = 'failed' WHERE seq = $2`, [JSON.stringify({ ...body, outcome: 'failed' }), seq])
}

export const verifyApi = async (fixture: Served, query = '?mode=incremental'): Promise<Record<string, unknown>> => await getJson(fixture.app, `/v1/audit/verify${query}`)
