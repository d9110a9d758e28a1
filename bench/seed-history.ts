/**
 * The deterministic history `bench/seed-audit.ts` writes: for a given seed, entry n is always
 * the same, whatever the number of entries (a shorter history is a prefix of a longer one).
 * Its records are the ones the store itself would append (its own `prepareRecord` and
 * `planAppend`), so the hash chain verifies.
 *
 * 200 projects of very different sizes, 5,000 subjects, 400,000 video ids, and the outcomes a
 * service sees: mostly cuts that succeeded (an intent and its final record), some that failed,
 * a few left `unknown` (intent only), and rejections (400, 409, 401 without a subject) recorded
 * as a lone final record.
 */
import type { AuditEntry } from '../src/audit/audit-entry.ts'
import { type AuditRecordRow, canonicalRecord, planAppend, prepareRecord, recordHash } from '../src/audit/audit-chain.ts'
import { intentOf, makeEntry, seededRandom } from '../test/helpers/audit-fixtures.ts'

export const SEED_PROJECTS = 200
export const SEED_SUBJECTS = 5000
export const SEED_VIDEOS = 400_000
/** Entry n's time is this plus n seconds (`makeEntry`). */
export const SEED_BASE_TIME = Date.UTC(2025, 0, 1)

export const projectName = (n: number): string => `p-${n}`
export const subjectName = (n: number): string => `user-${n}`
export const videoName = (n: number): string => `vid-${n}`

/** 'both': intent then final; 'final': a lone final (a rejection); 'intent': the process died. */
type Records = 'both' | 'final' | 'intent'

/** The four numbers entry n is made of, drawn in this order from the PRNG stream. */
interface Draws { project: number, subject: number, video: number, kind: number }

function draw (random: () => number): Draws {
  return { project: random(), subject: random(), video: random(), kind: random() }
}

function recordsOf (kind: number): Records {
  return kind < 0.75 ? 'both' : kind < 0.77 ? 'intent' : 'final'
}

const RECORD_COUNT: Record<Records, number> = { both: 2, final: 1, intent: 1 }

/** Entry n: projects skewed (the largest ~7 %, the smallest ~0.25 %), subjects and videos uniform. */
function entryOf (n: number, { project, subject, video, kind }: Draws): AuditEntry {
  const base = makeEntry(n, { id: `seed-${n}`, projectId: projectName(Math.floor(SEED_PROJECTS * project ** 2)), videoId: videoName(Math.floor(SEED_VIDEOS * video)) })
  const actor = { ...base.actor, sub: subjectName(Math.floor(SEED_SUBJECTS * subject)) }
  if (kind < 0.70) return { ...base, actor }
  if (kind < 0.75) return { ...base, actor, outcome: 'failed', status: 502, reason: 'upstream_failed', upstream: { attempts: 1, statuses: [500], latencyMs: 40 }, videoPublicId: null }
  if (kind < 0.77) return intentOf({ ...base, actor })
  const rejected = { ...base, actor, outcome: 'rejected' as const, upstream: null, videoPublicId: null }
  if (kind < 0.92) return { ...rejected, status: 400, reason: 'validation', request: { ...base.request, cut: null } }
  if (kind < 0.96) return { ...rejected, status: 409, reason: 'conflict' }
  return { ...rejected, actor: { ...actor, sub: null, clientId: null }, status: 401, reason: 'unauthenticated', request: { ...base.request, cut: null } }
}

/** A stored record, as far as resuming needs it. */
export type StoredRecord = Pick<AuditRecordRow, 'seq' | 'entryId' | 'final' | 'body' | 'prevHash' | 'hash'>

/** The stored trail is not a prefix of this history (another seed, or records appended by a service). */
export class SeedMismatchError extends Error {
  override name = 'SeedMismatchError'
}

export class SeedHistory {
  readonly entries: number
  readonly seed: number
  #records: number | null = null

  constructor (entries: number, seed = 1) {
    if (!Number.isSafeInteger(entries) || entries < 1) throw new RangeError(`entries must be a positive integer, got ${entries}`)
    this.entries = entries
    this.seed = seed
  }

  /** Records in the whole history: a walk of the PRNG stream, nothing built or hashed. */
  get records (): number {
    if (this.#records === null) {
      const random = seededRandom(this.seed)
      let records = 0
      for (let n = 1; n <= this.entries; n++) records += RECORD_COUNT[recordsOf(draw(random).kind)]
      this.#records = records
    }
    return this.#records
  }

  /**
   * The records after `stored` (null: from the genesis), in append order. `stored` must be
   * this history's record at its seq, which is checked (its body, and its hash given its
   * stored prev_hash); every record before it is skipped without being built or hashed, and
   * an entry whose intent is `stored` continues with its final record.
   */
  * rows (stored: StoredRecord | null = null): Generator<AuditRecordRow> {
    const random = seededRandom(this.seed)
    let seq = 0
    let n = 1
    let head: { seq: number, hash: string } | null = null
    let openIntent: { seq: number, projectId: string | null, timeMs: number } | null = null
    if (stored !== null) {
      // Skip whole entries that end before the stored record.
      let draws: Draws
      let records: Records
      for (; ; n++) {
        if (n > this.entries) throw new SeedMismatchError(`the trail holds record ${stored.seq}; this history has only ${seq} records`)
        draws = draw(random)
        records = recordsOf(draws.kind)
        if (seq + RECORD_COUNT[records] >= stored.seq) break
        seq += RECORD_COUNT[records]
      }
      const entry = entryOf(n, draws)
      const storedIsIntent = records !== 'final' && seq + 1 === stored.seq
      const prepared = storedIsIntent ? prepareRecord(records === 'intent' ? entry : intentOf(entry), false) : prepareRecord(entry, true)
      const expectedHash = recordHash(stored.prevHash, canonicalRecord(stored.seq, prepared.entryId, prepared.final, prepared.canonicalEntry))
      if (stored.entryId !== prepared.entryId || stored.final !== prepared.final || stored.body !== prepared.body || stored.hash !== expectedHash) {
        throw new SeedMismatchError(`stored record ${stored.seq} (entry ${stored.entryId}) is not this history's record ${stored.seq} (entry ${prepared.entryId}): seeded with another --seed, or not a seeded trail`)
      }
      head = { seq: stored.seq, hash: stored.hash }
      if (records === 'both' && storedIsIntent) {
        // The intent is stored, its final is not: the entry goes on from there.
        openIntent = { seq: stored.seq, projectId: prepared.projectId, timeMs: prepared.timeMs }
        const row = planAppend(prepareRecord(entry, true), { head, intent: openIntent, hasFinal: false })
        head = { seq: row.seq, hash: row.hash }
        yield row
      }
      n++
    }
    for (; n <= this.entries; n++) {
      const draws = draw(random)
      const records = recordsOf(draws.kind)
      const entry = entryOf(n, draws)
      openIntent = null
      if (records !== 'final') {
        const row = planAppend(prepareRecord(records === 'intent' ? entry : intentOf(entry), false), { head, intent: null, hasFinal: false })
        head = { seq: row.seq, hash: row.hash }
        openIntent = { seq: row.seq, projectId: row.projectId, timeMs: row.timeMs }
        yield row
      }
      if (records !== 'intent') {
        const row = planAppend(prepareRecord(entry, true), { head, intent: openIntent, hasFinal: false })
        head = { seq: row.seq, hash: row.hash }
        yield row
      }
    }
  }
}
