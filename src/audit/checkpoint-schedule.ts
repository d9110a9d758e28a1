import type { ChainedAuditStore } from './audit-chain.ts'
import type { Checkpoint, CheckpointSigner } from './audit-checkpoint.ts'

/** The clock and timer the schedule uses; tests pass their own and fire the timer by hand. */
export interface CheckpointClock {
  now: () => number
  setTimeout: (callback: () => void, ms: number) => unknown
  clearTimeout: (timer: unknown) => void
}

const SYSTEM_CLOCK: CheckpointClock = {
  now: () => Date.now(),
  // Unref'd: a pending checkpoint never keeps a process alive (close signs what is left).
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (timer) => { clearTimeout(timer as NodeJS.Timeout) }
}

export interface CheckpointScheduleOptions {
  store: ChainedAuditStore
  signer: CheckpointSigner
  /** Sign after this many records appended through this store... */
  records: number
  /** ...or this long after the first of them, whichever comes first. */
  intervalMs: number
  clock?: CheckpointClock
  /** Each checkpoint stored; the service logs it. */
  onCheckpoint: (checkpoint: Checkpoint) => void
  /** Signing failed (the store is down): the records stay pending and the next append or timer retries. */
  onError: (error: unknown) => void
}

/**
 * Signs checkpoints of the chain's head on schedule: after `records` new records, or
 * `intervalMs` after the first unsigned one, and once more at `close`. Several instances on one
 * PostgreSQL each count their own appends; the store signs the head it reads under the append
 * lock and skips a head another instance already signed.
 */
export class CheckpointSchedule {
  readonly #options: CheckpointScheduleOptions
  readonly #clock: CheckpointClock
  #pending = 0
  #timer: unknown = null
  #signing: Promise<void> | null = null
  #closed = false

  constructor (options: CheckpointScheduleOptions) {
    this.#options = options
    this.#clock = options.clock ?? SYSTEM_CLOCK
    options.store.onAppended((records) => { this.#recorded(records) })
  }

  #recorded (records: number): void {
    if (this.#closed) return
    this.#pending += records
    if (this.#pending >= this.#options.records) void this.signNow()
    else this.#arm()
  }

  #arm (): void {
    if (this.#timer === null) this.#timer = this.#clock.setTimeout(() => { this.#timer = null; void this.signNow() }, this.#options.intervalMs)
  }

  /**
   * Signs the head now, after any signing under way (queued at once, so `idle` sees it);
   * resolves when it is stored, or has failed and been reported.
   */
  async signNow (): Promise<void> {
    if (this.#timer !== null) {
      this.#clock.clearTimeout(this.#timer)
      this.#timer = null
    }
    const run = (this.#signing ?? Promise.resolve()).then(async () => { await this.#sign() })
    this.#signing = run
    void run.finally(() => { if (this.#signing === run) this.#signing = null })
    await run
  }

  async #sign (): Promise<void> {
    const pending = this.#pending
    this.#pending = 0
    const { store, signer, onCheckpoint, onError } = this.#options
    try {
      const checkpoint = await store.appendCheckpoint((head) => signer.sign(head, this.#clock.now()))
      if (checkpoint !== null) onCheckpoint(checkpoint)
    } catch (error) {
      onError(error)
      // Retried by the next append or by the timer, not at once: the store may stay down a while.
      this.#pending += pending
      if (!this.#closed) this.#arm()
    }
  }

  /** Resolves once no signing is under way. */
  async idle (): Promise<void> {
    while (this.#signing !== null) await this.#signing
  }

  /** At graceful shutdown, before the store closes: signs the head unless it is signed already. */
  async close (): Promise<void> {
    this.#closed = true
    await this.signNow()
  }
}
