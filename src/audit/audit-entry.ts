/** The outcome of one cut request, as auditors read it. */
export type AuditOutcome = 'succeeded' | 'rejected' | 'failed' | 'unknown'

export interface AuditActor {
  /** Token subject; null when the request was not authenticated. */
  sub: string | null
  /** From the token's `azp` or `client_id` claim. */
  clientId: string | null
  ip: string
  userAgent: string | null
}

/** The cut as the service understood it after validation (null when the body was invalid). */
export interface AuditedCut {
  startMs: number | null
  endMs: number | null
  /** UTC, `YYYY-MM-DDTHH:mm:ss.sssZ`. */
  startTime: string | null
  endTime: string | null
}

export interface AuditEntry {
  id: string
  requestId: string
  /** When the request arrived, ISO 8601 UTC. */
  time: string
  actor: AuditActor
  action: 'live-video.stop-and-cut'
  projectId: string | null
  videoId: string | null
  request: {
    cut: AuditedCut | null
    visibility: string | null
    idempotencyKey: string | null
  }
  outcome: AuditOutcome
  /** HTTP status returned to the client; null while the platform call is open. */
  status: number | null
  /** Machine-readable reason, e.g. `validation`, `upstream_timeout`; null on success. */
  reason: string | null
  upstream: {
    attempts: number
    statuses: number[]
    latencyMs: number | null
  } | null
  videoPublicId: string | null
  durationMs: number | null
}
