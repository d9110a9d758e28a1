import type { PreparedRecord } from './audit-chain.ts'
import { AuditStoreNotWritableError } from './audit-errors.ts'
import type { WriteHealth } from './write-health.ts'

/**
 * How long an append may wait to be durable before it fails. A cut refused because its intent
 * failed waits for two appends (the intent, then the final that records the refusal), so each
 * gets half of the 5 s in which such a cut is answered 503 (SPEC's bound is 15 s).
 */
export const DEFAULT_APPEND_DEADLINE_MS = 2500

interface Waiting {
  record: PreparedRecord
  settle: (error?: unknown) => void
  settled: boolean
}

/** Writes the records, in order, in one transaction, or throws having written none; gives up its connection when `signal` aborts. */
export type WriteBatch = (records: PreparedRecord[], signal: AbortSignal) => Promise<void>

export interface GroupCommitOptions {
  deadlineMs?: number
  /** Told how each write the store decided went (not those refused for one record's sake). */
  health?: WriteHealth
}

/**
 * Group commit: the appends that arrive while the previous batch is being written share one
 * transaction, so one durable commit (one fsync) serves them all, where each append alone paid
 * for its own. Each append still resolves only after the commit that holds its record. If a
 * batch fails because of one record (a duplicate, a final that does not match its intent), its
 * records are written again one by one, so the bad one fails alone; if the store itself fails
 * (locked, closed, unreachable), the whole batch fails at once rather than waiting N times.
 *
 * Nothing waits forever on a store that stopped answering: an append not durable `deadlineMs`
 * after it arrived fails (one still queued is then never written), and a batch still running
 * after `deadlineMs` is abandoned (its signal aborts, so the store drops that connection) and
 * the next batch starts. An abandoned batch may still have committed; its callers were told it
 * failed (see the README, Faults).
 */
export class GroupCommit {
  readonly #writeBatch: WriteBatch
  readonly #deadlineMs: number
  readonly #health: WriteHealth | undefined
  #queue: Waiting[] = []
  #flushing = false
  readonly #committed: Array<(records: number) => void> = []

  constructor (writeBatch: WriteBatch, options: GroupCommitOptions = {}) {
    this.#writeBatch = writeBatch
    this.#deadlineMs = options.deadlineMs ?? DEFAULT_APPEND_DEADLINE_MS
    this.#health = options.health
  }

  /** `listener` hears of every commit, with its number of records, after its appends resolved; it must not throw. */
  onCommitted (listener: (records: number) => void): void {
    this.#committed.push(listener)
  }

  #notify (records: number): void {
    for (const listener of this.#committed) listener(records)
  }

  async append (record: PreparedRecord): Promise<void> {
    return await new Promise<void>((resolve, reject) => {
      const waiting: Waiting = {
        record,
        settled: false,
        settle: (error) => {
          if (waiting.settled) return
          waiting.settled = true
          clearTimeout(timer)
          if (error === undefined) resolve()
          else reject(error)
        }
      }
      const timer = setTimeout(() => { waiting.settle(this.#timeout()) }, this.#deadlineMs)
      this.#queue.push(waiting)
      if (!this.#flushing) {
        this.#flushing = true
        // Let the requests already in this turn of the event loop join the batch.
        setImmediate(() => { void this.#flush() })
      }
    })
  }

  async #flush (): Promise<void> {
    while (this.#queue.length > 0) {
      // Appends that already timed out are not written at all.
      const batch = this.#queue.filter((waiting) => !waiting.settled)
      this.#queue = []
      if (batch.length === 0) continue
      try {
        await this.#write(batch.map((waiting) => waiting.record))
        for (const waiting of batch) waiting.settle()
        this.#notify(batch.length)
      } catch (error) {
        if (batch.length === 1 || !isRecordError(error)) {
          for (const waiting of batch) waiting.settle(error)
          continue
        }
        for (const waiting of batch) {
          if (waiting.settled) continue
          try {
            await this.#write([waiting.record])
            waiting.settle()
            this.#notify(1)
          } catch (alone) {
            waiting.settle(alone)
          }
        }
      }
    }
    this.#flushing = false
  }

  /** One `writeBatch`, bounded by the deadline; its outcome goes to the health record. */
  async #write (records: PreparedRecord[]): Promise<void> {
    const abandon = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = this.#timeout()
        abandon.abort(error)
        reject(error)
      }, this.#deadlineMs)
    })
    const written = this.#writeBatch(records, abandon.signal)
    try {
      await Promise.race([written, expired])
      this.#health?.succeeded()
    } catch (error) {
      if (!isRecordError(error)) this.#health?.failed()
      throw error
    } finally {
      clearTimeout(timer)
      // An abandoned write ends later, one way or the other; nobody waits for it any more.
      written.catch(() => {})
    }
  }

  #timeout (): Error {
    return new AuditStoreNotWritableError(`an append was not durable within ${this.#deadlineMs} ms`)
  }
}

/** An error caused by one record of a batch rather than by the store: the chain's own checks, or a constraint. */
function isRecordError (error: unknown): boolean {
  const { code, message } = error as { code?: unknown, message?: unknown }
  if (code === 'AUDIT_DUPLICATE_RECORD' || code === 'AUDIT_RECORD_MISMATCH') return true
  // PostgreSQL's integrity-constraint class; SQLite says "… constraint failed".
  return (typeof code === 'string' && code.startsWith('23')) || (typeof message === 'string' && message.includes('constraint failed'))
}
