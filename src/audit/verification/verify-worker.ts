import { availableParallelism } from 'node:os'
import { parentPort, Worker, workerData } from 'node:worker_threads'
import type { ChainSnapshot } from '../audit-chain.ts'
import { openAuditStore } from '../open-audit-store.ts'
import { checkedHere, CLOSE, type ChunkJob, type ChunkResult, type ReaderData } from './chunk-check.ts'
import { lowerPriority, type TrailVerifyOptions, type TrailVerifyResult, type VerifyRun, type VerifyWorkerData, type VerifyWorkerMessage } from './trail-verification.ts'
import { walkTrail } from './trail-walk.ts'

/**
 * The coordinator of one verification, in its own thread: walks its snapshot (trail-walk.ts),
 * handing the ranges of records to reader workers that check them in parallel.
 */

/** Chunks queued per reader, so none waits for its next while the coordinator works. */
const IN_FLIGHT_PER_READER = 2
const MAX_READERS = 4

/** Runs `jobs` on reader workers and yields their results in index order; a walk of one chunk (or none) is read here, without starting one. */
async function * inOrder (jobs: ChunkJob[], run: VerifyRun, snapshot: ChainSnapshot): AsyncGenerator<ChunkResult> {
  if (jobs.length <= 1) {
    yield * checkedHere(snapshot, jobs)
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

async function verifyAt (run: VerifyRun, options: TrailVerifyOptions): Promise<TrailVerifyResult> {
  const store = await openAuditStore(run.url, { readOnly: true })
  try {
    const snapshot = await store.openSnapshot()
    try {
      return await walkTrail(snapshot, options, (jobs) => inOrder(jobs, run, snapshot), run.chunkRecords)
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
