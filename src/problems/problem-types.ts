import type { AuditOutcome } from '../audit/audit-entry.ts'

interface ProblemType {
  status: number
  title: string
  /** What the audit entry of a cut request that ends this way reads. */
  outcome: AuditOutcome
  /**
   * Whether a retry with the same Idempotency-Key replays this answer: the platform was called
   * and answered (or may have cut: 504). Otherwise nothing was attempted, and the key is released.
   */
  replayed: boolean
  /** For the README's table: when a client gets it, and what it should do. */
  when: string
  advice: string
}

/**
 * Every problem the service answers with. The code is the problem type's last segment and the
 * audit `reason`. `npm run docs:errors` writes the README's error table from it.
 */
export const PROBLEM_TYPES = {
  validation: { status: 400, title: 'The request is invalid', outcome: 'rejected', replayed: false, when: 'body, path, query or header invalid (`errors` names every offending field)', advice: 'fix the request' },
  malformed_json: { status: 400, title: 'The body is not valid JSON', outcome: 'rejected', replayed: false, when: 'the body could not be parsed as JSON', advice: 'fix the request' },
  unauthenticated: { status: 401, title: 'Authentication required', outcome: 'rejected', replayed: false, when: 'token missing, malformed, expired, wrong signature, issuer or audience (`WWW-Authenticate: Bearer …`)', advice: 'get a new token' },
  forbidden: { status: 403, title: 'Not allowed', outcome: 'rejected', replayed: false, when: 'valid token without `live:cut` or without the project', advice: '—' },
  not_found: { status: 404, title: 'No such resource', outcome: 'rejected', replayed: false, when: 'no such route, or no such audit entry', advice: 'check the URL' },
  upstream_not_found: { status: 404, title: 'The platform does not know this live video', outcome: 'rejected', replayed: true, when: 'the platform does not know this live video', advice: 'check the id' },
  conflict: { status: 409, title: 'A cut of this live video is already in flight', outcome: 'rejected', replayed: false, when: 'a cut of the same video is in flight', advice: 'wait for the first one' },
  idempotency_in_flight: { status: 409, title: 'A request with this Idempotency-Key is still in flight', outcome: 'rejected', replayed: false, when: 'the first request with the same `Idempotency-Key` is in flight', advice: 'wait for the first one' },
  already_resolved: { status: 409, title: 'This audit entry is already resolved', outcome: 'rejected', replayed: false, when: 'a resolution of an audit entry that already has one', advice: '—' },
  payload_too_large: { status: 413, title: 'The body is too large', outcome: 'rejected', replayed: false, when: 'body over 4 KiB', advice: '—' },
  unsupported_media_type: { status: 415, title: 'The body must be application/json', outcome: 'rejected', replayed: false, when: 'a body that is not `application/json`', advice: '—' },
  idempotency_key_reused: { status: 422, title: 'This Idempotency-Key was used for another request', outcome: 'rejected', replayed: false, when: 'the `Idempotency-Key` was used with another path or body', advice: 'use a new key for a new request' },
  upstream_rejected: { status: 422, title: 'The platform rejected the cut', outcome: 'rejected', replayed: true, when: 'the platform refused (its messages in `upstreamErrors`)', advice: 'read `upstreamErrors`' },
  outcome_known: { status: 422, title: 'Only an entry whose outcome is unknown can be resolved', outcome: 'rejected', replayed: false, when: 'a resolution of an audit entry whose outcome is not `unknown`', advice: '—' },
  rate_limited: { status: 429, title: 'Too many requests', outcome: 'rejected', replayed: false, when: 'too many requests (`Retry-After`)', advice: 'wait `Retry-After` seconds' },
  internal: { status: 500, title: 'Internal error', outcome: 'failed', replayed: false, when: 'a bug: the request failed in an unexpected way (logged at error level)', advice: 'report it' },
  upstream_error: { status: 502, title: 'The platform failed', outcome: 'failed', replayed: true, when: 'the platform failed: 5xx other than 503, refused our key, unreadable answer', advice: 'report it' },
  upstream_unavailable: { status: 503, title: 'The platform is unavailable', outcome: 'failed', replayed: false, when: 'platform still 503 (or unreachable) after the retries (`Retry-After`)', advice: 'retry later, with the same `Idempotency-Key`' },
  circuit_open: { status: 503, title: 'The platform keeps failing: calls to it are paused briefly', outcome: 'failed', replayed: false, when: 'the platform failed so often that calls to it are paused; it was not called (`Retry-After`)', advice: 'retry later, with the same `Idempotency-Key`' },
  audit_unavailable: { status: 503, title: 'The audit trail cannot record', outcome: 'failed', replayed: false, when: 'the audit trail cannot record; the platform was not called (`Retry-After`)', advice: 'retry later, with the same `Idempotency-Key`' },
  dependency_unavailable: { status: 503, title: 'A service this one depends on is unavailable', outcome: 'failed', replayed: false, when: 'the identity provider or Redis unreachable (`Retry-After`)', advice: 'retry later, with the same `Idempotency-Key`' },
  upstream_timeout: { status: 504, title: 'The platform did not answer in time: the outcome is unknown', outcome: 'unknown', replayed: true, when: 'the platform did not answer in time: **the outcome is unknown**', advice: 'check the video before cutting again' }
} as const satisfies Record<string, ProblemType>

export type ProblemCode = keyof typeof PROBLEM_TYPES

export const PROBLEM_TYPE_BASE = 'urn:livecut:problem:'

export function problemTypeUri (code: ProblemCode): string {
  return PROBLEM_TYPE_BASE + code
}
