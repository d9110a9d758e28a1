import type { KeyObject } from 'node:crypto'
import { setPriority } from 'node:os'
import { Worker } from 'node:worker_threads'
import { type ChainHead, type ChainVerifyResult, type ExpectedPoint } from '../audit-chain.ts'
import { type Checkpoint, keysById, signatureProblem } from '../audit-checkpoint.ts'

/**
 * Verification of a whole trail, off the caller's thread: `verifyTrail` runs it in a worker
 * (verify-worker.ts) that reads its own snapshot and spreads the per-record work over a small
 * pool of readers (hash-worker.ts). The HTTP route and the CLI both call it.
 */

export interface TrailVerifyOptions {
  /** A head recorded earlier (`--expect-head`). */
  expectHead?: ChainHead
  /** A checkpoint kept outside the trail (`--checkpoint`): the chain must still reach it, with its hash. */
  checkpoint?: Checkpoint
  /**
   * Incremental: a checkpoint up to which an earlier run verified the chain. Only the records
   * from it on are read (and those of entries open across it); its own record must still have
   * its hash, and its signature must verify with one of `publicKeys`.
   */
  anchor?: Checkpoint
  /** Keys whose checkpoints' signatures are checked (each names itself by keyId). */
  publicKeys: KeyObject[]
  /**
   * A checkpoint signed by a key not among `publicKeys` fails (the CLI given its keys). When
   * false (the service, which holds only its current key), such a checkpoint is still checked
   * against the chain, and its signature is left to a verifier that holds the older key.
   */
  requireKnownKey: boolean
}

export type TrailVerifyResult = ChainVerifyResult & {
  /** The newest stored checkpoint whose signature verified (ok answers only). */
  checkpoint: Checkpoint | null
}

/** Verification could not run to an answer (the store could not be read); nothing about the chain is known. */
export class TrailVerifyError extends Error {
  override name = 'TrailVerifyError'
}

/**
 * The points the chain must pass through: every stored checkpoint (its signature checked when
 * its key is known), the external checkpoint and the recorded head; and the newest stored
 * checkpoint whose signature verified.
 */
export function checkpointPoints (stored: readonly Checkpoint[], options: TrailVerifyOptions): { points: ExpectedPoint[], latest: Checkpoint | null } {
  const keys = keysById(options.publicKeys)
  let latest: Checkpoint | null = null
  const pointOf = (checkpoint: Checkpoint, name: string): ExpectedPoint => {
    const point: ExpectedPoint = { seq: checkpoint.seq, hash: checkpoint.hash, name }
    const key = keys.get(checkpoint.keyId)
    if (key !== undefined) {
      const problem = signatureProblem(checkpoint, key)
      if (problem !== null) point.problem = problem
    } else if (options.requireKnownKey) {
      point.problem = `it is signed by key ${checkpoint.keyId}, which is not among the public keys given`
    }
    return point
  }
  const points = stored.map((checkpoint) => {
    const point = pointOf(checkpoint, `the checkpoint of record ${checkpoint.seq} signed ${checkpoint.time}`)
    if (point.problem === undefined && keys.has(checkpoint.keyId) && (latest === null || checkpoint.seq > latest.seq)) latest = checkpoint
    return point
  })
  if (options.checkpoint !== undefined) {
    const { seq, time } = options.checkpoint
    points.push(pointOf(options.checkpoint, `the checkpoint kept outside the trail (record ${seq}, signed ${time})`))
  }
  if (options.anchor !== undefined) {
    const { seq, time } = options.anchor
    const point = pointOf(options.anchor, `the anchor of this incremental run (the checkpoint of record ${seq}, signed ${time})`)
    // An anchor stands for every record before it: its signature is never left to another verifier.
    if (point.problem === undefined && !keys.has(options.anchor.keyId)) point.problem = `it is signed by key ${options.anchor.keyId}, which is not among the public keys given`
    // First among points on one seq (its stored copy, say): a failure there names the anchor.
    points.unshift(point)
  }
  if (options.expectHead !== undefined) points.push({ ...options.expectHead, name: `the recorded head ${options.expectHead.seq}` })
  return { points, latest }
}

/** The lowest priority: verification takes only the CPU time the service leaves over. */
const BACKGROUND_NICE = 19

/** Called first in each thread of a background verification. */
export function lowerPriority (): void {
  try {
    // On Linux the nice value is per thread: this lowers only the calling (worker) thread.
    setPriority(BACKGROUND_NICE)
  } catch {
    // Not permitted here: verification then runs at the caller's own priority.
  }
}

/** What the coordinator worker posts back. */
export type VerifyWorkerMessage = { result: TrailVerifyResult } | { error: string }

export interface VerifyRun {
  /** sqlite:… or postgres://… */
  url: string
  /** Run at the lowest CPU priority, so the service's own thread always comes first (the HTTP route). */
  background: boolean
  /** Records per chunk a reader checks (default 10,000). */
  chunkRecords?: number
}

/** What the coordinator worker is started with. */
export type VerifyWorkerData = VerifyRun & { options: TrailVerifyOptions }

/** Verifies the trail in a worker thread; rejects with TrailVerifyError when it cannot be read. */
export async function verifyTrail (run: VerifyRun, options: TrailVerifyOptions): Promise<TrailVerifyResult> {
  const workerData: VerifyWorkerData = { ...run, options }
  const worker = new Worker(new URL('./verify-worker.ts', import.meta.url), { workerData })
  return await new Promise<TrailVerifyResult>((resolve, reject) => {
    let settled = false
    worker.once('message', (message: VerifyWorkerMessage) => {
      settled = true
      if ('result' in message) resolve(message.result)
      else reject(new TrailVerifyError(message.error))
    })
    worker.once('error', (error) => {
      settled = true
      reject(new TrailVerifyError(error.message, { cause: error }))
    })
    worker.once('exit', (code) => {
      if (!settled) reject(new TrailVerifyError(`the verification worker exited (code ${code}) without an answer`))
    })
  })
}
