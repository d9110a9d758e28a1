import type { ChainedAuditStore } from '../audit-chain.ts'
import type { CheckpointSigner } from '../audit-checkpoint.ts'
import { type TrailVerifyOptions, type TrailVerifyResult, verifyTrail } from './trail-verification.ts'
import { verifyInThread } from './verify-in-thread.ts'

/**
 * The service's verification: in a background worker on its own snapshot; calls made while one
 * runs wait for that run's answer instead of starting another (any audit:read token may call it).
 * The service holds only its current key: checkpoints of older keys are checked against the
 * chain, and their signatures by a verifier that holds those keys (the CLI).
 */
export function sharedVerification (store: ChainedAuditStore, url: string, signer: CheckpointSigner): () => Promise<TrailVerifyResult> {
  const options: TrailVerifyOptions = { publicKeys: [signer.publicKey], requireKnownKey: false }
  let running: Promise<TrailVerifyResult> | null = null
  // A worker cannot open an in-memory database: such a trail (tests, the OpenAPI generator) is verified here.
  const run = url === 'sqlite::memory:'
    ? async () => await verifyInThread(store, options)
    : async () => await verifyTrail({ url, background: true }, options)
  return async () => {
    running ??= run().finally(() => { running = null })
    return await running
  }
}
