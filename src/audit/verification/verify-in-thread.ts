import type { ChainedAuditStore } from '../audit-chain.ts'
import { checkedHere } from './chunk-check.ts'
import type { TrailVerifyOptions, TrailVerifyResult } from './trail-verification.ts'
import { walkTrail } from './trail-walk.ts'

/** The same verification as verifyTrail, walked in the calling thread (for a trail no worker can open). */
export async function verifyInThread (store: ChainedAuditStore, options: TrailVerifyOptions): Promise<TrailVerifyResult> {
  const snapshot = await store.openSnapshot()
  try {
    return await walkTrail(snapshot, options, (jobs) => checkedHere(snapshot, jobs))
  } finally {
    await snapshot.close()
  }
}
