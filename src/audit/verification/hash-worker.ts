import { parentPort, workerData } from 'node:worker_threads'
import { openAuditStore } from '../open-audit-store.ts'
import { checkChunk, type ChunkJob } from './chunk-check.ts'
import { lowerPriority } from './trail-verification.ts'
import type { ReaderData } from './verify-worker.ts'

/**
 * A reader of one verification: its own read-only connection, on the coordinator's snapshot
 * (PostgreSQL) or on a snapshot of its own (SQLite, whose records never change once written);
 * checks the chunks it is sent, one at a time, and posts what each showed.
 */
const port = parentPort
if (port !== null) {
  const { url, snapshotId, background } = workerData as ReaderData
  if (background) lowerPriority()
  const store = await openAuditStore(url, { readOnly: true })
  const snapshot = await store.openSnapshot(snapshotId ?? undefined)
  let queue = Promise.resolve()
  port.on('message', (job: ChunkJob) => {
    queue = queue.then(async () => { port.postMessage(await checkChunk(snapshot, job)) })
  })
}
