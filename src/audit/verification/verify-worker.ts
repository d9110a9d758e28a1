import { availableParallelism } from 'node:os'
import { parentPort, Worker, workerData } from 'node:worker_threads'
import { type BadRecord, type ChainHead, type ChainSnapshot, EntryCheck, GENESIS_HASH, LinkCheck, PointCheck } from '../audit-chain.ts'
import { openAuditStore } from '../open-audit-store.ts'
import { checkChunk, CLOSE, type ChunkJob, type ChunkResult, type ReaderData } from './chunk-check.ts'
import {
  checkpointPoints, lowerPriority, type TrailVerifyOptions, type TrailVerifyResult, type VerifyRun, type VerifyWorkerData, type VerifyWorkerMessage
} from './trail-verification.ts'

/**
 * The coordinator of one verification, in its own thread: reads the head and the checkpoints
 * from its snapshot, hands ranges of records to reader workers (each checks its records on
 * their own, in parallel), then ties the chunks together in seq order (links across chunks,
 * intents and finals, checkpoints), so the answer is the one a walk from the first record gives.
 */

/** Records per chunk: large enough that posting results costs little, small enough to spread the work. */
const DEFAULT_CHUNK_RECORDS = 10_000
/** Chunks queued per reader, so none waits for its next while the coordinator works. */
const IN_FLIGHT_PER_READER = 2
const MAX_READERS = 4
function chunkJobs (head: ChainHead, wanted: readonly number[], chunkRecords: number): ChunkJob[] {
  const jobs: ChunkJob[] = []
  for (let from = 1, index = 0; from <= head.seq; from += chunkRecords, index++) {
    const to = Math.min(from + chunkRecords - 1, head.seq)
    // The first range also takes whatever sits below seq 1 (only a tampered table has it).
    jobs.push({ index, from: index === 0 ? Number.MIN_SAFE_INTEGER : from, to, firstSeq: from, wanted: wanted.filter((seq) => seq >= from && seq <= to) })
  }
  return jobs
}

/** Runs `jobs` on reader workers and yields their results in index order; a trail of one chunk is read here, without starting one. */
async function * inOrder (jobs: ChunkJob[], run: VerifyRun, snapshot: ChainSnapshot): AsyncGenerator<ChunkResult> {
  if (jobs.length === 1) {
    yield await checkChunk(snapshot, jobs[0] as ChunkJob)
    return
  }
  const snapshotId = snapshot.id
  const readerCount = Math.max(1, Math.min(availableParallelism(), MAX_READERS, jobs.length))
  const workerData: ReaderData = { ...run, snapshotId }
  const readers = Array.from({ length: readerCount }, () => new Worker(new URL('./hash-worker.ts', import.meta.url), { workerData }))
  const exits = readers.map(async (reader) => await new Promise((resolve) => reader.once('exit', resolve)))
  const results = new Map<number, ChunkResult>()
  let failure: Error | null = null
  let wake: (() => void) | null = null
  let next = 0
  const dispatch = (reader: Worker): void => {
    const job = jobs[next]
    if (job === undefined) return
    next++
    reader.postMessage(job)
  }
  for (const reader of readers) {
    reader.on('message', (result: ChunkResult) => {
      results.set(result.index, result)
      dispatch(reader)
      wake?.()
    })
    reader.on('error', (error) => {
      failure ??= error
      wake?.()
    })
    reader.on('exit', (code) => {
      failure ??= code === 0 ? null : new Error(`a verification reader exited (code ${code})`)
      wake?.()
    })
    for (let i = 0; i < IN_FLIGHT_PER_READER; i++) dispatch(reader)
  }
  try {
    for (let index = 0; index < jobs.length; index++) {
      while (!results.has(index)) {
        if (failure !== null) throw failure
        await new Promise<void>((resolve) => { wake = resolve })
        wake = null
      }
      const result = results.get(index) as ChunkResult
      results.delete(index)
      yield result
    }
  } finally {
    // Asked to close rather than terminated: a reader stopped mid-statement would leave its database connection open.
    for (const reader of readers) reader.postMessage(CLOSE)
    await Promise.all(exits)
  }
}

async function verify (snapshot: ChainSnapshot, run: VerifyRun, options: TrailVerifyOptions): Promise<TrailVerifyResult> {
  const head = await snapshot.head()
  const { points, latest } = checkpointPoints(await snapshot.checkpoints(), options)
  const pointCheck = new PointCheck(points)
  const entries = new EntryCheck()
  let checked = 0
  let lastHash = GENESIS_HASH
  const failed = async (bad: BadRecord): Promise<TrailVerifyResult> => {
    // The last record that verified, read back: results carry hashes only where points need them.
    let last: ChainHead | null = null
    if (checked > 0) for await (const row of snapshot.records(checked, checked)) last = { seq: row.seq, hash: row.hash }
    return { ok: false, checked, firstBad: bad, head: last, checkpoint: null }
  }
  if (head !== null) {
    for await (const chunk of inOrder(chunkJobs(head, pointCheck.seqs, run.chunkRecords ?? DEFAULT_CHUNK_RECORDS), run, snapshot)) {
      if (chunk.first !== null) {
        const boundary = new LinkCheck(checked + 1, lastHash).check(chunk.first)
        if (boundary !== null) return await failed(boundary)
      }
      const hashes = new Map(chunk.hashes)
      for (let i = 0; i < chunk.count; i++) {
        const seq = (chunk.first as NonNullable<ChunkResult['first']>).seq + i
        const entryId = chunk.entryIds[i] as string
        const bad = entries.check({
          seq,
          entryId,
          kind: chunk.resolutions[i] === 1 ? 'resolution' : 'entry',
          final: chunk.finals[i] === 1,
          entrySeq: chunk.entrySeqs[i] as number,
          projectId: chunk.projectIds[i] ?? null,
          timeMs: chunk.timeMs[i] as number
        }) ?? pointCheck.check(seq, entryId, hashes.get(seq))
        if (bad !== null) return await failed(bad)
        checked++
      }
      if (chunk.bad !== null) return await failed(chunk.bad)
      if (chunk.lastHash !== null) lastHash = chunk.lastHash
    }
  }
  const bad = pointCheck.finish(checked)
  if (bad !== null) return await failed(bad)
  // Readers with snapshots of their own (SQLite) saw fewer records than the head read here: only a table changed meanwhile.
  if (head !== null && checked < head.seq) return await failed({ seq: checked + 1, entryId: null, problem: `record ${checked + 1} is missing: the records up to the head ${head.seq} were removed while they were read` })
  return { ok: true, checked, head: checked === 0 ? null : { seq: checked, hash: lastHash }, checkpoint: latest }
}

async function verifyAt (run: VerifyRun, options: TrailVerifyOptions): Promise<TrailVerifyResult> {
  const store = await openAuditStore(run.url, { readOnly: true })
  try {
    const snapshot = await store.openSnapshot()
    try {
      return await verify(snapshot, run, options)
    } finally {
      await snapshot.close()
    }
  } finally {
    await store.close()
  }
}

if (parentPort !== null) {
  const { options, ...run } = workerData as VerifyWorkerData
  if (run.background) lowerPriority()
  let message: VerifyWorkerMessage
  try {
    message = { result: await verifyAt(run, options) }
  } catch (error) {
    message = { error: (error as Error).message }
  }
  parentPort.postMessage(message)
}
