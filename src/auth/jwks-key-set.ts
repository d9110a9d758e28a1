import { createPublicKey, type JsonWebKey } from 'node:crypto'
import createError from '@fastify/error'

/** Least time between two fetches of the set for unknown `kid`s (jose's default cool-down). */
export const JWKS_COOLDOWN_MS = 30_000
/** After a failed fetch, the identity provider is asked again no sooner than this. */
export const JWKS_FAILURE_RETRY_MS = 5_000
/** A set older than this is fetched again before its keys are used (a revoked key goes within this long). */
export const JWKS_MAX_AGE_MS = 10 * 60_000
const FETCH_TIMEOUT_MS = 5_000

/** The token names a key the identity provider does not publish: the token's fault (401). */
export const UnknownSigningKeyError = createError('JWKS_UNKNOWN_KID', 'no key with this kid in the identity provider\'s key set', 401)

/** The key set could not be fetched or read: the identity provider's fault (503). */
const JwksUnavailableError = createError<'JWKS_UNAVAILABLE', 503, [options?: { cause: unknown }]>(
  'JWKS_UNAVAILABLE', 'the identity provider\'s key set could not be fetched', 503)

export interface JwksKeySetOptions {
  url: string
  /** Wall clock in ms, for the cool-down and the set's age; tests tick it. */
  now?: () => number
  /** Told of each fetch that failed (for the log). */
  onFetchFailed?: (error: unknown) => void
}

interface PublishedKey { pem: string, alg: string | undefined }

/**
 * The identity provider's JSON Web Key Set, held whole (every key of one fetch, by `kid`).
 * An unknown `kid` fetches the set again only once per cool-down, and one fetch serves every
 * request waiting for it; in between, unknown `kid`s are answered from the set already held
 * (401) without a fetch, so random `kid`s cannot make the service hammer the provider.
 */
export function createJwksKeySet (options: JwksKeySetOptions): { keyFor: (kid: string | undefined, alg: string | undefined) => Promise<string> } {
  const now = options.now ?? Date.now
  let keys = new Map<string, PublishedKey>()
  let fetchedAt = -Infinity
  let attemptedAt = -Infinity
  let lastFailed = false
  let inFlight: Promise<void> | null = null

  function refresh (): Promise<void> {
    attemptedAt = now()
    const fetching = fetchKeySet(options.url).then(
      (fetched) => { keys = fetched; fetchedAt = now(); lastFailed = false },
      (error: unknown) => {
        lastFailed = true
        options.onFetchFailed?.(error)
        throw new JwksUnavailableError({ cause: error })
      }
    ).finally(() => { inFlight = null })
    inFlight = fetching
    return fetching
  }

  function lookup (kid: string | undefined, alg: string | undefined): string | undefined {
    const key = keys.get(kid ?? '')
    if (key === undefined || (key.alg !== undefined && alg !== undefined && key.alg !== alg)) return undefined
    return key.pem
  }

  async function keyFor (kid: string | undefined, alg: string | undefined): Promise<string> {
    const held = lookup(kid, alg)
    if (held !== undefined && now() - fetchedAt < JWKS_MAX_AGE_MS) return held
    // No await before this decision: the check and the start of a fetch are one step.
    const pause = lastFailed ? JWKS_FAILURE_RETRY_MS : JWKS_COOLDOWN_MS
    const pending = inFlight ?? (now() - attemptedAt >= pause ? refresh() : null)
    if (pending !== null) {
      try {
        await pending
      } catch (error) {
        // A provider that is down does not stop the keys we already have (a stale set still verifies).
        if (held !== undefined) return held
        throw error
      }
      const key = lookup(kid, alg)
      if (key === undefined) throw new UnknownSigningKeyError()
      return key
    }
    // Within the pause: answered from the set held, without a fetch.
    if (held !== undefined) return held
    if (lastFailed) throw new JwksUnavailableError()
    throw new UnknownSigningKeyError()
  }

  return { keyFor }
}

/** Every signing key of the set that Node can import, as PEM by `kid`. */
async function fetchKeySet (url: string): Promise<Map<string, PublishedKey>> {
  // fetch, as get-jwks did before: it follows a provider's redirects.
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } })
  if (!response.ok) {
    await response.body?.cancel()
    throw new Error(`the key set answered HTTP ${response.status}`)
  }
  const body = await response.json() as { keys?: unknown }
  if (!Array.isArray(body.keys)) throw new Error('the key set has no keys array')
  const keys = new Map<string, PublishedKey>()
  for (const jwk of body.keys as Array<JsonWebKey & { kid?: unknown, alg?: unknown, use?: unknown }>) {
    if (jwk.use !== undefined && jwk.use !== 'sig') continue
    try {
      const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string
      keys.set(typeof jwk.kid === 'string' ? jwk.kid : '', { pem, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined })
    } catch {
      // A key type Node cannot import (or a private key's leftovers) cannot verify our tokens anyway.
    }
  }
  return keys
}
