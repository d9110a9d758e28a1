import { type ChainedAuditStore, verifyChain } from '../audit-chain.ts'
import { checkpointPoints, type TrailVerifyOptions, type TrailVerifyResult } from './trail-verification.ts'

/** The same verification as verifyTrail, walked in the calling thread (for a trail no worker can open). */
export async function verifyInThread (store: ChainedAuditStore, options: TrailVerifyOptions): Promise<TrailVerifyResult> {
  const snapshot = await store.openSnapshot()
  try {
    const { points, latest } = checkpointPoints(await snapshot.checkpoints(), options)
    const result = await verifyChain(snapshot.records(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), { expected: points })
    return { ...result, checkpoint: result.ok ? latest : null }
  } finally {
    await snapshot.close()
  }
}
