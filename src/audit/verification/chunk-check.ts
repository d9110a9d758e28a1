import { type BadRecord, type ChainSnapshot, LinkCheck, recordProblem } from '../audit-chain.ts'
import type { VerifyRun } from './trail-verification.ts'

/** What a reader worker (hash-worker.ts) is started with. */
export type ReaderData = VerifyRun & { snapshotId: string | null }

/** The message that ends a reader, after the chunks it was sent. */
export const CLOSE = 'close'

/** A range of seqs one reader checks. */
export interface ChunkJob {
  index: number
  from: number
  to: number
  /** The seq the chunk's first record should have. */
  firstSeq: number
  /** Seqs whose hashes the expected points need. */
  wanted: number[]
}

/**
 * What a chunk showed: every record before `bad` passed the checks that need no other chunk
 * (recordProblem, LinkCheck within the chunk); their facts, column by column (cheap to post
 * between threads), let the coordinator run the checks that span chunks, in seq order.
 */
export interface ChunkResult {
  index: number
  /** Records that passed, consecutive from `first.seq`. */
  count: number
  first: { seq: number, entryId: string, prevHash: string, hash: string } | null
  lastHash: string | null
  entryIds: string[]
  /** 1 for a resolution record, 0 for an entry's. */
  resolutions: Uint8Array
  finals: Uint8Array
  entrySeqs: Float64Array
  projectIds: Array<string | null>
  actorSubs: Array<string | null>
  /** 1 for a record that reads `unknown`. */
  unknowns: Uint8Array
  timeMs: Float64Array
  /** [seq, hash] of the wanted seqs among the records that passed. */
  hashes: Array<[number, string]>
  bad: BadRecord | null
}

/** Reads and checks one chunk on the snapshot; stops at its first bad record. */
export async function checkChunk (snapshot: ChainSnapshot, job: ChunkJob): Promise<ChunkResult> {
  const wanted = new Set(job.wanted)
  const links = new LinkCheck(job.firstSeq, null)
  const size = Math.max(0, job.to - job.firstSeq + 1)
  const result: ChunkResult = {
    index: job.index,
    count: 0,
    first: null,
    lastHash: null,
    entryIds: [],
    resolutions: new Uint8Array(size),
    finals: new Uint8Array(size),
    entrySeqs: new Float64Array(size),
    projectIds: [],
    actorSubs: [],
    unknowns: new Uint8Array(size),
    timeMs: new Float64Array(size),
    hashes: [],
    bad: null
  }
  for await (const row of snapshot.records(job.from, job.to)) {
    const local = recordProblem(row)
    result.bad = links.check(row) ?? (local === null ? null : { seq: row.seq, entryId: row.entryId, problem: local })
    // The first record's link and seq are the coordinator's to judge: report it even when bad.
    if (result.first === null) result.first = { seq: row.seq, entryId: row.entryId, prevHash: row.prevHash, hash: row.hash }
    if (result.bad !== null) break
    const i = result.count++
    result.entryIds.push(row.entryId)
    result.resolutions[i] = row.kind === 'resolution' ? 1 : 0
    result.finals[i] = row.final ? 1 : 0
    result.entrySeqs[i] = row.entrySeq
    result.projectIds.push(row.projectId)
    result.actorSubs.push(row.actorSub)
    result.unknowns[i] = row.outcome === 'unknown' ? 1 : 0
    result.timeMs[i] = row.timeMs
    if (wanted.has(row.seq)) result.hashes.push([row.seq, row.hash])
    result.lastHash = row.hash
  }
  return result
}

/** The chunks checked one after another in this thread. */
export async function * checkedHere (snapshot: ChainSnapshot, jobs: readonly ChunkJob[]): AsyncGenerator<ChunkResult> {
  for (const job of jobs) yield await checkChunk(snapshot, job)
}
