import { type BadRecord, type ChainHead, type ChainSnapshot, EntryCheck, GENESIS_HASH, LinkCheck, PointCheck } from '../audit-chain.ts'
import type { ChunkJob, ChunkResult } from './chunk-check.ts'
import { TimeIndexCheck } from './time-index-check.ts'
import { UnknownEntriesCheck } from './unknown-entries-check.ts'
import { checkpointPoints, type TrailVerifyOptions, type TrailVerifyResult } from './trail-verification.ts'

/**
 * One verification on one snapshot: reads the head and the checkpoints, splits the records into
 * ranges that `read` checks on their own (in parallel, by readers), then ties the chunks together
 * in seq order (links across chunks, intents and finals, checkpoints), so the answer is the one a
 * walk from the first record gives.
 *
 * Incremental (`options.anchor`): the walk starts at the anchor's record instead of the first,
 * or earlier, at the first record of an entry open across it (its intent before, its final
 * after), so the entry checks see every record of the entries they judge and those records are
 * tied by the links to the anchor's signed hash. The records before that start are not read.
 *
 * A full walk also checks the time-range tables and the entries that read unknown against the
 * records (TimeIndexCheck, UnknownEntriesCheck); an incremental one does not read them.
 */

/** Records per chunk: large enough that posting results costs little, small enough to spread the work. */
const DEFAULT_CHUNK_RECORDS = 10_000

/** Checks the chunks it is given; yields their results in the order of the jobs. */
export type ReadChunks = (jobs: ChunkJob[]) => AsyncIterable<ChunkResult>

/** Where the walk starts, and which records before the anchor the entry checks need. */
interface WalkStart {
  seq: number
  /** Incremental: the anchor's seq, and the entries with records on both sides of it. */
  anchor: { seq: number, spanning: ReadonlySet<string> } | null
}

/**
 * The records after the anchor are searched for spanning entries a chunk at a time: one statement
 * over all of them outlasts PostgreSQL's statement timeout (2 s) on a long trail (8.8 M records
 * after an anchor half-way through a 10 M-entry trail).
 */
async function walkStart (snapshot: ChainSnapshot, head: ChainHead | null, options: TrailVerifyOptions, chunkRecords: number): Promise<WalkStart> {
  if (options.anchor === undefined) return { seq: 1, anchor: null }
  const { seq } = options.anchor
  const spanning = new Set<string>()
  let first = seq
  for (let after = seq; after < (head?.seq ?? seq); after += chunkRecords) {
    const part = await snapshot.spanningEntries(seq, after, after + chunkRecords)
    for (const entryId of part.entryIds) spanning.add(entryId)
    first = Math.min(first, part.firstSeq ?? first)
  }
  return { seq: first, anchor: { seq, spanning } }
}

function chunkJobs (start: number, head: ChainHead, wanted: readonly number[], chunkRecords: number): ChunkJob[] {
  const jobs: ChunkJob[] = []
  for (let from = start, index = 0; from <= head.seq; from += chunkRecords, index++) {
    const to = Math.min(from + chunkRecords - 1, head.seq)
    // A walk from the first record also takes whatever sits below seq 1 (only a tampered table has it).
    const readFrom = index === 0 && start === 1 ? Number.MIN_SAFE_INTEGER : from
    jobs.push({ index, from: readFrom, to, firstSeq: from, wanted: wanted.filter((seq) => seq >= from && seq <= to) })
  }
  return jobs
}

export async function walkTrail (snapshot: ChainSnapshot, options: TrailVerifyOptions, read: ReadChunks, chunkRecords = DEFAULT_CHUNK_RECORDS): Promise<TrailVerifyResult> {
  const head = await snapshot.head()
  const start = await walkStart(snapshot, head, options, chunkRecords)
  const timeIndex = start.anchor === null ? new TimeIndexCheck(snapshot.timeIndex()) : null
  const unknownEntries = start.anchor === null ? new UnknownEntriesCheck(snapshot.unknownEntries()) : null
  const closeIndexes = async (): Promise<void> => {
    await timeIndex?.close()
    await unknownEntries?.close()
  }
  // Points before the start lie in records this run does not read: the run that read them checked them.
  const stored = (await snapshot.checkpoints()).filter((checkpoint) => checkpoint.seq >= start.seq)
  const { points, latest } = checkpointPoints(stored, options)
  const pointCheck = new PointCheck(points.filter((point) => point.seq >= start.seq))
  const entries = new EntryCheck()
  const judged = (seq: number, entryId: string): boolean => start.anchor === null || seq > start.anchor.seq || start.anchor.spanning.has(entryId)
  let checked = 0
  // The start's own link is to a record not read (incremental): its hash is tied to the anchor's instead.
  let lastHash: string | null = start.seq === 1 ? GENESIS_HASH : null
  const lastSeq = (): number => checked > 0 ? start.seq + checked - 1 : Math.min(head?.seq ?? 0, start.seq - 1)
  const failed = async (bad: BadRecord): Promise<TrailVerifyResult> => {
    await closeIndexes()
    // The last record that verified, read back: results carry hashes only where points need them.
    let last: ChainHead | null = null
    if (checked > 0) for await (const row of snapshot.records(lastSeq(), lastSeq())) last = { seq: row.seq, hash: row.hash }
    return { ok: false, checked, firstBad: bad, head: last, checkpoint: null }
  }
  if (head !== null) {
    for await (const chunk of read(chunkJobs(start.seq, head, pointCheck.seqs, chunkRecords))) {
      if (chunk.first !== null) {
        const boundary = new LinkCheck(start.seq + checked, lastHash).check(chunk.first)
        if (boundary !== null) return await failed(boundary)
      }
      const hashes = new Map(chunk.hashes)
      if (chunk.count > 0) {
        const last = (chunk.first as NonNullable<ChunkResult['first']>).seq + chunk.count - 1
        await timeIndex?.readThrough(last)
        await unknownEntries?.readThrough(last)
      }
      for (let i = 0; i < chunk.count; i++) {
        const seq = (chunk.first as NonNullable<ChunkResult['first']>).seq + i
        const entryId = chunk.entryIds[i] as string
        const record = {
          seq,
          entryId,
          kind: chunk.resolutions[i] === 1 ? 'resolution' as const : 'entry' as const,
          final: chunk.finals[i] === 1,
          entrySeq: chunk.entrySeqs[i] as number,
          projectId: chunk.projectIds[i] ?? null,
          actorSub: chunk.actorSubs[i] ?? null,
          unknown: chunk.unknowns[i] === 1,
          timeMs: chunk.timeMs[i] as number
        }
        const bad = (judged(seq, entryId) ? entries.check(record) : null) ??
          pointCheck.check(seq, entryId, hashes.get(seq)) ?? timeIndex?.check(record) ?? unknownEntries?.check(record) ?? null
        if (bad !== null) return await failed(bad)
        checked++
      }
      if (chunk.bad !== null) return await failed(chunk.bad)
      if (chunk.lastHash !== null) lastHash = chunk.lastHash
    }
  }
  const bad = pointCheck.finish(lastSeq())
  if (bad !== null) return await failed(bad)
  // Readers with snapshots of their own (SQLite) saw fewer records than the head read here: only a table changed meanwhile.
  if (head !== null && lastSeq() < head.seq) {
    const missing = lastSeq() + 1
    return await failed({ seq: missing, entryId: null, problem: `record ${missing} is missing: the records up to the head ${head.seq} were removed while they were read` })
  }
  const indexBad = await timeIndex?.finish() ?? await unknownEntries?.finish() ?? null
  if (indexBad !== null) return await failed(indexBad)
  await closeIndexes()
  return { ok: true, checked, head: checked === 0 ? null : { seq: lastSeq(), hash: lastHash as string }, checkpoint: latest }
}
