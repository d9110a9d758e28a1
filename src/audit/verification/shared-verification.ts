import type { ChainedAuditStore } from '../audit-chain.ts'
import type { Checkpoint, CheckpointSigner } from '../audit-checkpoint.ts'
import { type TrailVerifyOptions, type TrailVerifyResult, verifyTrail } from './trail-verification.ts'
import { verifyInThread } from './verify-in-thread.ts'

/** `full` reads the whole chain; `incremental` only what follows the checkpoint this service last verified. */
export type VerifyMode = 'full' | 'incremental'

/** An incremental answer names the checkpoint it read on from: null when it verified the whole chain. */
export type SharedVerifyResult = TrailVerifyResult & { anchor?: Checkpoint | null }

/**
 * The service's verification: in a background worker on its own snapshot; calls made while one
 * runs wait for that run's answer instead of starting another (any audit:read token may call it).
 * The service holds only its current key: checkpoints of older keys are checked against the
 * chain, and their signatures by a verifier that holds those keys (the CLI).
 *
 * The anchor of incremental runs lives in this process's memory only: the newest checkpoint
 * (signed with its key) that a run of this process reached with every record before it
 * verified. Kept in the trail's database, it could be moved on by whoever rewrites the trail; in
 * memory it is lost at a restart, and the next incremental call then verifies the whole chain.
 * A run that fails forgets it, so an incremental answer never reads ok after a failed one.
 */
export function sharedVerification (store: ChainedAuditStore, url: string, signer: CheckpointSigner): (mode?: VerifyMode) => Promise<SharedVerifyResult> {
  const options: TrailVerifyOptions = { publicKeys: [signer.publicKey], requireKnownKey: false }
  // A worker cannot open an in-memory database: such a trail (tests, the OpenAPI generator) is verified here.
  const run = url === 'sqlite::memory:'
    ? async (runOptions: TrailVerifyOptions) => await verifyInThread(store, runOptions)
    : async (runOptions: TrailVerifyOptions) => await verifyTrail({ url, background: true }, runOptions)
  let anchor: Checkpoint | null = null
  let failures = 0
  let full: Promise<TrailVerifyResult> | null = null
  let incremental: Promise<SharedVerifyResult> | null = null

  const remember = async (result: Promise<TrailVerifyResult>): Promise<TrailVerifyResult> => {
    const failuresBefore = failures
    const answer = await result
    if (!answer.ok) {
      failures++
      anchor = null
    } else if (failures === failuresBefore && answer.checkpoint !== null && (anchor === null || answer.checkpoint.seq > anchor.seq)) {
      anchor = answer.checkpoint
    }
    return answer
  }
  const runFull = async (): Promise<TrailVerifyResult> => {
    full ??= remember(run(options)).finally(() => { full = null })
    return await full
  }
  const runIncremental = async (from: Checkpoint): Promise<SharedVerifyResult> => {
    incremental ??= remember(run({ ...options, anchor: from })).then((result) => ({ ...result, anchor: from })).finally(() => { incremental = null })
    return await incremental
  }

  return async (mode = 'full') => {
    if (mode === 'full') return await runFull()
    // A full run under way answers an incremental call too: it proves more.
    if (full !== null || anchor === null) return { ...await runFull(), anchor: null }
    return await runIncremental(anchor)
  }
}
