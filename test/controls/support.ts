// Shared set-up for the abuse and concurrency control tests (test/controls/*.test.ts).
import { randomUUID } from 'node:crypto'
import { request, type Dispatcher } from 'undici'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import type { ServiceUnderTest } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'

export const PROBLEM_JSON = 'application/problem+json; charset=utf-8'

/** One answer, flattened: header names lower-case, values strings; the request id the test sent. */
export interface Answer { status: number, headers: Record<string, string>, body: Record<string, unknown>, requestId: string }

/** One cut request: `POST /v1/projects/{project}/live-videos/{video}/cut`. */
export interface CutOptions {
  video: string
  /** Default `proj-1`. */
  project?: string
  /** The bearer token; default a fresh `hsToken` for `sub` (the standard claims' subject when `sub` is not given). */
  token?: string
  sub?: string
  /** Sent as Idempotency-Key when given. */
  key?: string
  /** Sent as JSON; default `{}`. */
  body?: unknown
  /** Sent as x-request-id and returned in the answer. */
  requestId: string
  /** More headers, sent after the standard ones. */
  headers?: Record<string, string>
}

function cutParts (options: CutOptions): { path: string, headers: Record<string, string>, payload: string } {
  const token = options.token ?? hsToken(options.sub === undefined ? {} : { sub: options.sub })
  return {
    path: `/v1/projects/${options.project ?? 'proj-1'}/live-videos/${options.video}/cut`,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'x-request-id': options.requestId,
      ...(options.key !== undefined && { 'idempotency-key': options.key }),
      ...options.headers
    },
    payload: JSON.stringify(options.body ?? {})
  }
}

/** Header values as strings under lower-case names. */
export function flatHeaders (headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)]))
}

/** A cut through app.inject (the peer address is 127.0.0.1 unless `remoteAddress` is given). */
export async function cutRequest (service: ServiceUnderTest, options: CutOptions & { remoteAddress?: string }): Promise<Answer> {
  const { path, headers, payload } = cutParts(options)
  const response = await service.app.inject({
    method: 'POST',
    url: path,
    headers,
    payload,
    ...(options.remoteAddress !== undefined && { remoteAddress: options.remoteAddress })
  })
  return { status: response.statusCode, headers: flatHeaders(response.headers), body: response.json(), requestId: options.requestId }
}

/** A cut over a real socket to `origin` (a listening service), through `dispatcher` when given. */
export async function socketCutRequest (origin: string, options: CutOptions & { dispatcher?: Dispatcher, signal?: AbortSignal }): Promise<Answer> {
  const { path, headers, payload } = cutParts(options)
  const response = await request(`${origin}${path}`, {
    method: 'POST',
    headers,
    body: payload,
    ...(options.dispatcher !== undefined && { dispatcher: options.dispatcher }),
    ...(options.signal !== undefined && { signal: options.signal })
  })
  return { status: response.statusCode, headers: flatHeaders(response.headers), body: await response.body.json() as Record<string, unknown>, requestId: options.requestId }
}

/** What `cutter` returns: one cut per call, the request id chosen for it. */
export type Cut = (options?: Partial<Omit<CutOptions, 'requestId'>>) => Promise<Answer>

/**
 * Cuts through app.inject with numbered request ids, `${label}-1`, `${label}-2`, …; `defaults`
 * apply to every request (a `token` there wins over a per-call `sub`: pass a `token` to cut as
 * another caller). Without a `video`, each request cuts a video of its own named after its request id.
 */
export function cutter (service: ServiceUnderTest, label: string, defaults: Partial<Omit<CutOptions, 'requestId'>> = {}): Cut {
  let n = 0
  return async (options = {}) => {
    const requestId = `${label}-${++n}`
    return await cutRequest(service, { video: requestId, ...defaults, ...options, requestId })
  }
}

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
