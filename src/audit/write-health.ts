/** How long a successful append vouches for the store before readiness writes a probe of its own. */
const DEFAULT_WRITE_FRESH_MS = 10_000

/**
 * Whether the store can record, as its own appends last showed: readiness trusts an append that
 * succeeded within `freshMs`; after a failure, or when nothing was appended lately, it asks for
 * a real write (the store's probe) every time. A read or a rolled-back transaction would not do:
 * on a full disk both still succeed. A probe's success does not vouch for the next check: an
 * idle service probes at every readiness check, so a disk that fills meanwhile shows at once.
 */
export class WriteHealth {
  readonly #freshMs: number
  readonly #now: () => number
  #last: { ok: boolean, at: number } | null = null

  constructor (options: { freshMs?: number, now?: () => number } = {}) {
    this.#freshMs = options.freshMs ?? DEFAULT_WRITE_FRESH_MS
    this.#now = options.now ?? Date.now
  }

  succeeded (): void {
    this.#last = { ok: true, at: this.#now() }
  }

  failed (): void {
    this.#last = { ok: false, at: this.#now() }
  }

  /** Resolves when an append succeeded lately; otherwise as `probe` does. */
  async check (probe: () => Promise<void>): Promise<void> {
    const last = this.#last
    if (last?.ok === true && this.#now() - last.at < this.#freshMs) return
    await probe()
  }
}
