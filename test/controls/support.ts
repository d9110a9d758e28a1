// Shared set-up for the abuse and concurrency control tests (test/controls/*.test.ts).
import { randomUUID } from 'node:crypto'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import type { ServiceUnderTest } from '../helpers/service.ts'

export const PROBLEM_JSON = 'application/problem+json; charset=utf-8'

/**
 * A `sleep` for the simulator (its `delay` and latency waits) that ends only when the test
 * says so: "the first request is still in flight at the platform" without wall-clock waits.
 * Each call to the platform that meets a `delay` fault is held until `release()`.
 */
export class PlatformGate {
  readonly #held: Array<() => void> = []
  readonly #watchers: Array<() => void> = []

  readonly sleep = async (_ms: number, signal: AbortSignal): Promise<unknown> => {
    await new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason as Error)
        return
      }
      const done = (): void => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = (): void => {
        const index = this.#held.indexOf(done)
        if (index >= 0) this.#held.splice(index, 1)
        reject(signal.reason as Error)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#held.push(done)
      for (const watcher of this.#watchers.splice(0)) watcher()
    })
    return undefined
  }

  /** How many platform calls are held now. */
  get holding (): number { return this.#held.length }

  /** Resolves once `count` platform calls are held; rejects after `timeoutMs` (a hung test is a failed test). */
  async holds (count = 1, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.#held.length < count) {
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw new Error(`the platform never held ${count} call(s) (holding ${this.#held.length})`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining)
        this.#watchers.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  /** Lets every held call go on to its normal answer. */
  release (): void {
    for (const done of this.#held.splice(0)) done()
  }
}

/** A run-unique id usable as a subject, video id or key ([A-Za-z0-9_-], starts alphanumeric). */
export function uniqueId (label: string): string {
  return `${label}-${randomUUID().replaceAll('-', '').slice(0, 16)}`
}

/** Polls `condition` until it holds; throws with `what` after `timeoutMs`. */
export async function eventually (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** The service's audit trail by request id (final entries). */
export async function auditByRequestId (service: ServiceUnderTest): Promise<Map<string, AuditEntry>> {
  const { items } = await service.app.auditStore.listEntries({ projectIds: '*' }, 500, null)
  return new Map(items.map((entry) => [entry.requestId, entry]))
}

/** Platform calls recorded by the service's simulator for one video. */
export function callsFor (service: ServiceUnderTest, videoId: string): number {
  return service.simulator.app.simulator.calls().filter((call) => call.path.includes(`/live-videos/${videoId}/`)).length
}
