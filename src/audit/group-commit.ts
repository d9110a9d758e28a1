import type { PreparedRecord } from './audit-chain.ts'

interface Waiting {
  record: PreparedRecord
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * Group commit: the appends that arrive while the previous batch is being written share one
 * transaction, so one durable commit (one fsync) serves them all, where each append alone paid
 * for its own. Each append still resolves only after the commit that holds its record. If a
 * batch fails because of one record (a duplicate, a final that does not match its intent), its
 * records are written again one by one, so the bad one fails alone; if the store itself fails
 * (locked, closed, unreachable), the whole batch fails at once rather than waiting N times.
 */
export class GroupCommit {
  readonly #writeBatch: (records: PreparedRecord[]) => Promise<void>
  #queue: Waiting[] = []
  #flushing = false
  readonly #committed: Array<(records: number) => void> = []

  /** `writeBatch` appends the records, in order, in one transaction, or throws having written none. */
  constructor (writeBatch: (records: PreparedRecord[]) => Promise<void>) {
    this.#writeBatch = writeBatch
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
      this.#queue.push({ record, resolve, reject })
      if (!this.#flushing) {
        this.#flushing = true
        // Let the requests already in this turn of the event loop join the batch.
        setImmediate(() => { void this.#flush() })
      }
    })
  }

  async #flush (): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue
      this.#queue = []
      try {
        await this.#writeBatch(batch.map((waiting) => waiting.record))
        for (const waiting of batch) waiting.resolve()
        this.#notify(batch.length)
      } catch (error) {
        if (batch.length === 1 || !isRecordError(error)) {
          for (const waiting of batch) waiting.reject(error)
          continue
        }
        for (const waiting of batch) {
          try {
            await this.#writeBatch([waiting.record])
            waiting.resolve()
            this.#notify(1)
          } catch (alone) {
            waiting.reject(alone)
          }
        }
      }
    }
    this.#flushing = false
  }
}

/** An error caused by one record of a batch rather than by the store: the chain's own checks, or a constraint. */
function isRecordError (error: unknown): boolean {
  const { code, message } = error as { code?: unknown, message?: unknown }
  if (code === 'AUDIT_DUPLICATE_RECORD' || code === 'AUDIT_RECORD_MISMATCH') return true
  // PostgreSQL's integrity-constraint class; SQLite says "… constraint failed".
  return (typeof code === 'string' && code.startsWith('23')) || (typeof message === 'string' && message.includes('constraint failed'))
}
