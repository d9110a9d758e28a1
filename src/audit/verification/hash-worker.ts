import { parentPort, workerData } from 'node:worker_threads'
import { openAuditStore } from '../open-audit-store.ts'
import { checkChunk, CLOSE, type ChunkJob, type ReaderData } from './chunk-check.ts'
import { lowerPriority } from './trail-verification.ts'

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
  port.on('message', (job: ChunkJob | typeof CLOSE) => {
    queue = queue.then(async () => {
      if (job !== CLOSE) {
        port.postMessage(await checkChunk(snapshot, job))
        return
      }
      await snapshot.close()
      await store.close()
      port.close()
    })
  })
}
