/**
 * Idempotency-Key records: the interface, its in-memory implementation and shared helpers.
 * The Redis implementation is in `idempotency-redis.ts`.
 *
 * A record is keyed by (subject, Idempotency-Key) and bound to a request fingerprint
 * (`requestFingerprint()`: method, path, canonical body). Life of a record:
 *
 *   begin()  → absent: an in-flight marker is written with a lease and a random token;
 *              the caller owns the key ('started', with a claim) and calls the platform.
 *            → other fingerprint: 'mismatch' (422), whatever the record's state.
 *            → same fingerprint, in flight: 'in_flight' (409).
 *            → same fingerprint, final: 'replay' with the stored response.
 *   complete(claim, response) → the marker becomes the final record, kept for `ttlMs` (24 h).
 *   abandon(claim)            → the marker is deleted: the same key may be used again at once.
 *
 * `complete` and `abandon` act only on the caller's own marker (token compare), so a request
 * whose lease ran out cannot overwrite or delete the record of a request that began after it.
 * `complete` also stores when the key is absent (lease ran out, nobody took over): a late
 * final response is still worth replaying.
 *
 * When to complete and when to abandon (the route's policy). Requests refused before `begin`
 * (400, 401, 403, 413, 415, 429) never touch the store.
 * - complete: every response that is the outcome of the cut and must not be repeated by a
 *   retry with the same key: 200; the platform's 404 and 422; 502 (the platform failed in a
 *   way that may have left the cut done); 504 (timeout or deadline: the outcome is unknown —
 *   replaying the 504 is what stops a retry from cutting twice).
 * - abandon: responses that say the cut was NOT attempted, so a retry with the same key must
 *   be free to try it: 503 because the audit store or these stores cannot record, 503 from the
 *   open circuit breaker, 503 after the platform answered 503 to every attempt (a 503 means it
 *   did not act), 409 because another cut of the same video holds the video lock, and a
 *   request that ended by an internal error before the platform was called.
 * - neither (let the lease expire): nothing else. If the process dies, or `complete` itself
 *   fails because the store is unreachable, the in-flight marker answers 'in_flight' until its
 *   lease ends and then disappears (a retry after that is treated as new: the platform's
 *   stop-once rule is then the last guard). The lease must therefore outlast the longest request
 *   (`UPSTREAM_DEADLINE_MS` plus the audit writes): otherwise a retry could start a second
 *   cut while the first is still running.
 *
 * Every operation of a store that cannot answer rejects with
 * `ConcurrencyStoreUnavailableError` (fail closed: 503, never "go ahead").
 */
import { ConcurrencyStoreUnavailableError } from './errors.ts'
import { newToken, positiveMs } from './internal.ts'

/** How long a final response is replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000
/** How long an in-flight marker blocks its key if its owner never completes or abandons it. */
export const IDEMPOTENCY_LEASE_MS = 60_000
/** Most records the in-memory store keeps (see `MemoryIdempotencyStore`). */
export const MEMORY_IDEMPOTENCY_MAX_ENTRIES = 100_000

/** Response headers worth replaying (lower-case). `x-request-id` is not: a replay has its own. */
export const REPLAYABLE_HEADERS: readonly string[] = ['content-type', 'retry-after', 'x-upstream-attempts']

export interface IdempotencyScope {
  /** The token subject (`sub`). */
  subject: string
  /** The `Idempotency-Key` header. */
  key: string
}

/** A final response as stored and replayed. `body` must be JSON-serialisable; it round-trips through JSON. */
export interface StoredResponse {
  status: number
  headers: Record<string, string>
  body: unknown
}

/** Proof of ownership of a started key, handed to `complete` or `abandon`. */
export interface IdempotencyClaim {
  readonly scope: IdempotencyScope
  readonly fingerprint: string
  readonly token: string
}

export type BeginResult =
  | { state: 'started', claim: IdempotencyClaim }
  | { state: 'in_flight' }
  | { state: 'mismatch' }
  | { state: 'replay', response: StoredResponse }

export interface IdempotencyStore {
  /** Claims the key, or says why not. */
  begin (scope: IdempotencyScope, fingerprint: string): Promise<BeginResult>
  /** Stores the final response; false when the key is now held by another request's record. */
  complete (claim: IdempotencyClaim, response: StoredResponse): Promise<boolean>
  /** Releases a started key without a response; false when the marker was no longer ours. */
  abandon (claim: IdempotencyClaim): Promise<boolean>
}

export interface IdempotencyTimings {
  /** Final records are replayed this long (ms). Default `IDEMPOTENCY_TTL_MS`. */
  ttlMs?: number
  /** In-flight markers expire after this long (ms). Default `IDEMPOTENCY_LEASE_MS`. */
  leaseMs?: number
}

/** Lower-cases header names and keeps only `names` (default `REPLAYABLE_HEADERS`). */
export function pickReplayableHeaders (
  headers: Record<string, string | number | readonly string[] | undefined>,
  names: readonly string[] = REPLAYABLE_HEADERS
): Record<string, string> {
  const picked: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase()
    if (value === undefined || !names.includes(lower)) continue
    picked[lower] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  return picked
}

/** Serialises a response for storage; throws TypeError when it cannot be replayed faithfully. */
export function serialiseResponse (response: StoredResponse): string {
  if (!Number.isInteger(response.status) || response.status < 100 || response.status > 599) {
    throw new TypeError(`invalid response status: ${response.status}`)
  }
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(response.headers)) {
    if (typeof value !== 'string') throw new TypeError(`header ${name} must be a string`)
    headers[name] = value
  }
  return JSON.stringify({ status: response.status, headers, body: response.body ?? null })
}

export function parseResponse (json: string): StoredResponse {
  const parsed = JSON.parse(json) as StoredResponse
  return { status: parsed.status, headers: parsed.headers, body: parsed.body }
}

interface MemoryRecord {
  state: 'in_flight' | 'done'
  fingerprint: string
  token: string
  /** serialised StoredResponse when done */
  response: string | null
  expiresAt: number
}

export interface MemoryIdempotencyOptions extends IdempotencyTimings {
  /** Clock in ms; injected by tests. Default `Date.now`. */
  now?: () => number
  /** Default `MEMORY_IDEMPOTENCY_MAX_ENTRIES`. */
  maxEntries?: number
}

/**
 * Process-local store (the default without `REDIS_URL`): one instance of the service only.
 *
 * Bounded: expired records are dropped when read, and all of them are swept when the map is
 * full. If it is still full, the oldest final records are evicted (their keys can then be
 * reused: a retry that late is treated as new); in-flight markers are never evicted — when
 * the map holds nothing but in-flight markers, `begin` fails closed.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #records = new Map<string, MemoryRecord>()
  readonly #now: () => number
  readonly #ttlMs: number
  readonly #leaseMs: number
  readonly #maxEntries: number

  constructor (options: MemoryIdempotencyOptions = {}) {
    this.#now = options.now ?? Date.now
    this.#ttlMs = positiveMs('ttlMs', options.ttlMs ?? IDEMPOTENCY_TTL_MS)
    this.#leaseMs = positiveMs('leaseMs', options.leaseMs ?? IDEMPOTENCY_LEASE_MS)
    this.#maxEntries = Math.max(1, Math.floor(options.maxEntries ?? MEMORY_IDEMPOTENCY_MAX_ENTRIES))
  }

  /** Records currently held, expired ones included until they are swept. */
  get size (): number {
    return this.#records.size
  }

  async begin (scope: IdempotencyScope, fingerprint: string): Promise<BeginResult> {
    const id = recordId(scope)
    const record = this.#live(id)
    if (record !== undefined) {
      if (record.fingerprint !== fingerprint) return { state: 'mismatch' }
      if (record.state === 'done' && record.response !== null) return { state: 'replay', response: parseResponse(record.response) }
      return { state: 'in_flight' }
    }
    this.#makeRoom('begin')
    const token = newToken()
    this.#records.set(id, { state: 'in_flight', fingerprint, token, response: null, expiresAt: this.#now() + this.#leaseMs })
    return { state: 'started', claim: { scope: { ...scope }, fingerprint, token } }
  }

  async complete (claim: IdempotencyClaim, response: StoredResponse): Promise<boolean> {
    const serialised = serialiseResponse(response)
    const id = recordId(claim.scope)
    const record = this.#live(id)
    if (record !== undefined && !(record.state === 'in_flight' && record.token === claim.token)) return false
    if (record === undefined) this.#makeRoom('complete')
    this.#records.delete(id) // re-insert: the map's order is the eviction order
    this.#records.set(id, {
      state: 'done',
      fingerprint: claim.fingerprint,
      token: claim.token,
      response: serialised,
      expiresAt: this.#now() + this.#ttlMs
    })
    return true
  }

  async abandon (claim: IdempotencyClaim): Promise<boolean> {
    const id = recordId(claim.scope)
    const record = this.#live(id)
    if (record === undefined || record.state !== 'in_flight' || record.token !== claim.token) return false
    this.#records.delete(id)
    return true
  }

  #live (id: string): MemoryRecord | undefined {
    const record = this.#records.get(id)
    if (record === undefined) return undefined
    if (record.expiresAt <= this.#now()) {
      this.#records.delete(id)
      return undefined
    }
    return record
  }

  #makeRoom (operation: string): void {
    if (this.#records.size < this.#maxEntries) return
    const now = this.#now()
    for (const [id, record] of this.#records) {
      if (record.expiresAt <= now) this.#records.delete(id)
    }
    if (this.#records.size < this.#maxEntries) return
    for (const [id, record] of this.#records) {
      if (record.state === 'done') {
        this.#records.delete(id)
        if (this.#records.size < this.#maxEntries) return
      }
    }
    throw new ConcurrencyStoreUnavailableError('idempotency', operation, `memory store full: ${this.#records.size} requests in flight`)
  }
}

function recordId (scope: IdempotencyScope): string {
  return `${encodeURIComponent(scope.subject)}:${encodeURIComponent(scope.key)}`
}
