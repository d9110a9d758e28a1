import type { AuditOutcome } from '../audit/audit-entry.ts'

/**
 * Every problem the service answers with. The code is the problem type's last segment and the
 * audit `reason`; `outcome` is what the audit entry of a cut request that ends this way reads.
 */
export const PROBLEM_TYPES = {
  validation: { status: 400, title: 'The request is invalid', outcome: 'rejected' },
  malformed_json: { status: 400, title: 'The body is not valid JSON', outcome: 'rejected' },
  unauthenticated: { status: 401, title: 'Authentication required', outcome: 'rejected' },
  forbidden: { status: 403, title: 'Not allowed', outcome: 'rejected' },
  not_found: { status: 404, title: 'No such resource', outcome: 'rejected' },
  upstream_not_found: { status: 404, title: 'The platform does not know this live video', outcome: 'rejected' },
  conflict: { status: 409, title: 'A cut of this live video is already in flight', outcome: 'rejected' },
  idempotency_in_flight: { status: 409, title: 'A request with this Idempotency-Key is still in flight', outcome: 'rejected' },
  payload_too_large: { status: 413, title: 'The body is too large', outcome: 'rejected' },
  unsupported_media_type: { status: 415, title: 'The body must be application/json', outcome: 'rejected' },
  idempotency_key_reused: { status: 422, title: 'This Idempotency-Key was used for another request', outcome: 'rejected' },
  upstream_rejected: { status: 422, title: 'The platform rejected the cut', outcome: 'rejected' },
  rate_limited: { status: 429, title: 'Too many requests', outcome: 'rejected' },
  internal: { status: 500, title: 'Internal error', outcome: 'failed' },
  upstream_error: { status: 502, title: 'The platform failed', outcome: 'failed' },
  upstream_unavailable: { status: 503, title: 'The platform is unavailable', outcome: 'failed' },
  circuit_open: { status: 503, title: 'The platform keeps failing: calls to it are paused briefly', outcome: 'failed' },
  audit_unavailable: { status: 503, title: 'The audit trail cannot record', outcome: 'failed' },
  dependency_unavailable: { status: 503, title: 'A service this one depends on is unavailable', outcome: 'failed' },
  upstream_timeout: { status: 504, title: 'The platform did not answer in time: the outcome is unknown', outcome: 'unknown' }
} as const satisfies Record<string, { status: number, title: string, outcome: AuditOutcome }>

export type ProblemCode = keyof typeof PROBLEM_TYPES

export const PROBLEM_TYPE_BASE = 'urn:livecut:problem:'

export function problemTypeUri (code: ProblemCode): string {
  return PROBLEM_TYPE_BASE + code
}
