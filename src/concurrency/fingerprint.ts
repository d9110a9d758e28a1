import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'

/** What an idempotency record is bound to besides its (subject, key) scope. */
export interface FingerprintInput {
  /** HTTP method; compared case-insensitively. */
  method: string
  /**
   * The request path. Pass a path built from the validated route parameters
   * (e.g. `/v1/projects/p1/live-videos/v1/cut`) rather than the raw URL, so that
   * equivalent spellings of the same target fingerprint alike.
   */
  path: string
  /** The parsed JSON body; `undefined` (no body) counts as `{}`, as the contract says. */
  body: unknown
}

/**
 * SHA-256 (hex) of the RFC 8785 (JCS) canonical JSON of `[METHOD, path, body]`: object key
 * order and whitespace do not change it; any other difference in method, path or body does.
 */
export function requestFingerprint (input: FingerprintInput): string {
  const body = input.body === undefined ? {} : input.body
  const canonical = canonicalize([input.method.toUpperCase(), input.path, body])
  if (canonical === undefined) throw new TypeError('request body cannot be serialised to JSON')
  return createHash('sha256').update(canonical, 'utf8').digest('hex')
}
